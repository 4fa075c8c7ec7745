//! The `upstream` command: parse arguments, drive [`upstream::app`], show
//! progress, print, and map errors to exit codes (2: the input asks for
//! something impossible; 1: a fault in Upstream).

mod cli;
mod progress;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use clap::Parser;

use progress::Bar;
use upstream::Error;
use upstream::app::{self, Plan, Request};

fn main() -> ExitCode {
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return argument_error(e),
    };
    let result = match cli.command {
        cli::Command::Run(args) => run(args),
        cli::Command::Merge(args) => merge(args),
        cli::Command::Report { dir, quiet } => report(&dir, quiet),
        cli::Command::Check { scenarios, strict } => check(&scenarios, strict),
        cli::Command::NewPlace(args) => new_place(args),
        cli::Command::Sensitivity(args) => sharded(args, sensitivity),
        cli::Command::BreakEven(args) => sharded(args, break_even),
        cli::Command::Sweep(args) => sharded(args, sweep),
        cli::Command::Calibrate(args) => sharded(args, calibrate),
        cli::Command::Review(args) => review(args),
        cli::Command::Optimise(args) => sharded(args, optimise),
        cli::Command::Serve(args) => serve(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.is_input() => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!(
                "internal error: {e}\nThis is a fault in Upstream, not in your input; please report it."
            );
            ExitCode::from(1)
        }
    }
}

/// A command line that does not parse: help and the version as clap gives
/// them; anything else as one line, in Upstream's words, like every other
/// refusal (exit code 2).
fn argument_error(e: clap::Error) -> ExitCode {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    if matches!(
        e.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        let _ = e.print();
        return ExitCode::SUCCESS;
    }
    let context = |kind| match e.get(kind) {
        Some(ContextValue::String(s)) => Some(s.clone()),
        Some(ContextValue::Strings(v)) => Some(v.join(", ")),
        _ => None,
    };
    // The command (`upstream run`), for "see … --help", if one was named.
    let commands = <cli::Cli as clap::CommandFactory>::command();
    let command: String = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .filter(|c| commands.find_subcommand(c).is_some())
        .map(|c| format!("upstream {c}"))
        .unwrap_or_else(|| "upstream".into());
    let arg = context(ContextKind::InvalidArg).unwrap_or_default();
    // The option's name without its value name: `--seed`, not `--seed <S>`.
    let option = arg.split_whitespace().next().unwrap_or("").to_string();
    let value = upstream::input::quote(&context(ContextKind::InvalidValue).unwrap_or_default());
    let why = std::error::Error::source(&e).map(|s| s.to_string());
    let message = match e.kind() {
        ErrorKind::InvalidValue | ErrorKind::ValueValidation => {
            let expected = match why.as_deref() {
                Some(w)
                    if w.contains("invalid digit")
                        || w.contains("too large")
                        || w.contains("too small") =>
                {
                    "a whole number, 0 or more".to_string()
                }
                Some(w) if w.contains("invalid float") => "a number".to_string(),
                Some(w) if w.contains("is not in") => {
                    let range = w
                        .split("is not in ")
                        .nth(1)
                        .unwrap_or("")
                        .replace("..=", " to ");
                    format!("a whole number from {range}")
                }
                Some(w) => w.to_string(),
                None => match context(ContextKind::ValidValue) {
                    Some(valid) => format!("one of {valid}"),
                    None => "another value".into(),
                },
            };
            if value.is_empty() {
                format!("{option} needs a value")
            } else if expected.starts_with(&option) {
                expected
            } else if expected.contains("found") {
                format!("{option}: {expected}")
            } else if let Some(said) = expected.strip_prefix("expected ") {
                format!("{option}: expected {said}, found \"{value}\"")
            } else {
                format!("{option}: expected {expected}, found \"{value}\"")
            }
        }
        ErrorKind::UnknownArgument => {
            let negative = arg.starts_with('-') && arg[1..].parse::<f64>().is_ok();
            let hint = if negative {
                " (a count cannot be negative)".to_string()
            } else {
                context(ContextKind::SuggestedArg)
                    .map(|s| format!(" (did you mean {s}?)"))
                    .unwrap_or_default()
            };
            format!(
                "{command} does not take \"{}\"{hint}",
                upstream::input::quote(&arg)
            )
        }
        ErrorKind::InvalidSubcommand => {
            let typed = context(ContextKind::InvalidSubcommand).unwrap_or_default();
            let names: Vec<&str> = commands.get_subcommands().map(|c| c.get_name()).collect();
            format!(
                "there is no command \"{}\"{}",
                upstream::input::quote(&typed),
                upstream::scenario::nearest(&typed, &names)
                    .map(|s| format!(" (did you mean {s}?)"))
                    .unwrap_or_default()
            )
        }
        ErrorKind::MissingRequiredArgument => format!("{command} needs {arg}"),
        ErrorKind::MissingSubcommand => "a command is needed, such as run or check".into(),
        ErrorKind::ArgumentConflict => format!(
            "{arg} cannot be used with {}",
            context(ContextKind::PriorArg).unwrap_or_default()
        ),
        _ => {
            // clap's own first line, without its "error: ".
            let text = e.render().to_string();
            let first = text
                .lines()
                .next()
                .unwrap_or("")
                .trim_start_matches("error: ");
            upstream::input::reason(first)
        }
    };
    let help = if command == "upstream" {
        "`upstream --help` lists the commands".to_string()
    } else {
        format!("`{command} --help` says what each option takes")
    };
    eprintln!("error: {message}; {help}");
    ExitCode::from(2)
}

fn serve(args: cli::ServeArgs) -> Result<(), Error> {
    let given = args.key.is_some();
    let options = upstream::serve::Options {
        address: args.address,
        port: args.port,
        database: args.database,
        scenarios: args.scenarios.unwrap_or_else(upstream::app::bundled_dir),
        key: args.key.unwrap_or_else(upstream::serve::new_key),
    };
    upstream::serve::run(&options, |at| {
        // The first line is the one a test or a script reads to find the
        // server; no one may be reading after it, so a closed pipe is not
        // an error.
        use std::io::Write;
        let mut out = std::io::stdout();
        let _ = writeln!(
            out,
            "Serving the learning simulation at http://{at}/ (games kept in {}; stop with Ctrl-C)",
            options.database.display()
        );
        // A key given with --key is not printed: it may be kept elsewhere.
        let _ = if given {
            writeln!(
                out,
                "Facilitators set up games with the key given with --key; teams need only the game's code"
            )
        } else {
            writeln!(
                out,
                "Facilitators set up games with the key {0}, or at http://{at}/?key={0}; teams need only the game's code",
                options.key
            )
        };
    })?;
    Ok(())
}

fn check(paths: &[PathBuf], strict: bool) -> Result<(), Error> {
    // Every file is checked before anything is said about any of them.
    let loaded = paths
        .iter()
        .map(|p| app::load(p, &Default::default()))
        .collect::<Result<Vec<_>, _>>()?;
    if strict {
        app::strict(&loaded)?;
    }
    for l in &loaded {
        println!(
            "ok: {} — {} residents, {} neighbourhoods, {} months, {} services, {} interventions, {} assumptions",
            l.config.name,
            l.config.population.residents,
            l.config.population.neighbourhoods.len(),
            l.config.months,
            l.config.services(),
            l.config.interventions.len(),
            l.assumptions.len()
        );
        let u = &l.uncertainty;
        if !u.parameters.is_empty() || !u.held_fixed.is_empty() {
            println!(
                "    {} uncertain parameters drawn under --uncertainty; {} with a grade held fixed",
                u.parameters.len(),
                u.held_fixed.len()
            );
            for h in &u.held_fixed {
                println!("    held fixed: {}: {}", h.parameter, h.reason);
            }
        }
        warn(l);
    }
    Ok(())
}

/// A scenario's warnings, one line each, on standard error.
fn warn(l: &upstream::scenario::Loaded) {
    for w in &l.warnings {
        eprintln!("warning: {w}");
    }
}

fn new_place(args: cli::NewPlaceArgs) -> Result<(), Error> {
    use upstream::place::{self, Activity, PlaceFigures};
    let given = Activity {
        ae_attendances: args.ae_attendances,
        unplanned_admissions: args.unplanned_admissions,
        looked_after_children: args.looked_after_children,
        households_in_temporary_accommodation: args.households_in_temporary_accommodation,
        care_home_residents: args.care_home_residents,
    };
    let baseline = args.extends.unwrap_or_else(|| app::bundled()[0].clone());
    let figures = match (&args.place, &args.neighbourhoods) {
        (Some(name), _) => {
            let table = args
                .places
                .clone()
                .unwrap_or_else(|| app::bundled_dir().join("places/england.csv"));
            let row = upstream::region::place_row(&table, name, &upstream::input::read)?;
            // Laid out as a run over places lays it out: neighbourhoods of
            // about the baseline's size, at least as many as it has.
            let base = app::load(&baseline, &Default::default())?;
            let hoods = base.config.population.neighbourhoods.len();
            let size = base.config.population.residents as f64 / hoods as f64;
            let a = &row.activity;
            PlaceFigures {
                name: args.name.clone().unwrap_or_else(|| row.name.clone()),
                neighbourhoods: upstream::region::neighbourhoods(&row, size, hoods),
                activity: Activity {
                    ae_attendances: given.ae_attendances.or(a.ae_attendances),
                    unplanned_admissions: given.unplanned_admissions.or(a.unplanned_admissions),
                    looked_after_children: given.looked_after_children.or(a.looked_after_children),
                    households_in_temporary_accommodation: given
                        .households_in_temporary_accommodation
                        .or(a.households_in_temporary_accommodation),
                    care_home_residents: given.care_home_residents.or(a.care_home_residents),
                },
            }
        }
        (None, Some(csv)) => PlaceFigures {
            name: args.name.clone().unwrap_or_default(),
            neighbourhoods: place::read_neighbourhoods(csv)?,
            activity: given,
        },
        (None, None) => unreachable!("clap requires --neighbourhoods or --place"),
    };
    let notes = place::new_place(&figures, &baseline, &args.out)?;
    let residents: u64 = figures
        .neighbourhoods
        .iter()
        .map(|n| n.residents as u64)
        .sum();
    println!(
        "Wrote {}: {} residents in {} neighbourhoods, extending {}.",
        args.out.display(),
        upstream::format::count(residents as f64),
        figures.neighbourhoods.len(),
        baseline.display()
    );
    for n in notes {
        println!("  from your figures: {n}");
    }
    println!(
        "Check it with `upstream check {0}`; run it with `upstream run {0}`.",
        args.out.display()
    );
    Ok(())
}

fn report(dir: &Path, quiet: bool) -> Result<(), Error> {
    let bar = Bar::charts(quiet);
    let charts = app::rebuild_report(dir, &|done, total| bar.set(done as u64, total as u64))?;
    drop(bar);
    if !quiet {
        println!(
            "Wrote {} and {charts} charts (SVG and PNG) to {}",
            upstream::published::REPORT_FILE,
            dir.display()
        );
    }
    Ok(())
}

fn run(args: cli::RunArgs) -> Result<(), Error> {
    let request = Request {
        strict: args.strict,
        uncertainty: args.uncertainty,
        ..args.compared.request(args.replicates)
    };
    if let Some(shard) = args.shard {
        return run_shard(
            &request,
            args.places.as_deref(),
            shard,
            &args.out,
            args.quiet,
            args.memory_limit,
        );
    }
    if let Some(places) = &args.places {
        return run_places(&request, places, &args.out, args.quiet, args.memory_limit);
    }
    let plan = Plan::new(&request)?;
    if !args.quiet {
        plan.scenarios().iter().for_each(warn);
    }
    plan.check_memory(args.memory_limit)?;
    // Held until the files are in place: another run into the same folder
    // is refused now, not after its simulation.
    let out = upstream::output::claim(&args.out)?;

    let outcome = {
        let jobs = plan.jobs();
        let done = AtomicU64::new(0);
        let bar = runs_bar(args.quiet);
        plan.run(&|| bar.set(done.fetch_add(1, Ordering::Relaxed) + 1, jobs))?
    };
    write_outcome(&outcome, &out, args.no_report, args.quiet)?;
    if !args.quiet {
        for w in outcome.warnings_from_results() {
            eprintln!("warning: {w}");
        }
        simulated(
            outcome.experiment.resident_months,
            outcome.seconds,
            outcome.experiment.threads,
        );
        shared_burn_in(&outcome);
    }
    Ok(())
}

fn shared_burn_in(outcome: &app::Outcome) {
    if outcome.experiment.burn_in_shared > 0 {
        eprintln!(
            "Scenarios that run the same burn-in shared it: {:.2} billion resident-months of burn-in not simulated again.",
            outcome.experiment.burn_in_shared as f64 / 1e9
        );
    }
}

/// Writes a run's files (and the report, unless `no_report`) to `out` and
/// prints its table.
fn write_outcome(
    outcome: &app::Outcome,
    out: &upstream::output::OutputFolder,
    no_report: bool,
    quiet: bool,
) -> Result<(), Error> {
    let written = if no_report {
        outcome.write(out)?
    } else {
        let bar = Bar::charts(quiet);
        outcome.write_with_report(out, &|done, total| bar.set(done as u64, total as u64))?
    };
    if !quiet {
        let dir = upstream::published::CHARTS_DIR;
        let mut shown: Vec<String> = written
            .into_iter()
            .filter(|n| !n.starts_with(dir))
            .collect();
        if !no_report {
            shown.push(format!("{dir}/"));
        }
        print!("{}", outcome.table());
        println!("Wrote {} to {}", shown.join(", "), out.path().display());
    }
    Ok(())
}

/// Warnings, one line each, on standard error: the first ten of a run
/// over many places, and how many more.
fn warn_all(warnings: &[String]) {
    for w in warnings.iter().take(10) {
        eprintln!("warning: {w}");
    }
    if warnings.len() > 10 {
        eprintln!("warning: and {} more", warnings.len() - 10);
    }
}

/// Every scenario in every place of a places table.
fn run_places(
    request: &Request,
    places: &Path,
    out_dir: &Path,
    quiet: bool,
    memory_limit: Option<u64>,
) -> Result<(), Error> {
    use upstream::shard::Work;
    let work = Work::new_through(request, Some(places), &upstream::input::read)?;
    if !quiet {
        warn_all(&work.warnings());
    }
    work.check_memory(memory_limit, 1)?;
    let Work::Region(region) = work else {
        unreachable!("a places table gives a region")
    };
    let out = upstream::output::claim(out_dir)?;
    let (places_count, residents) = (region.places.len(), region.residents());
    let memory = region.memory(region.places[0].plan.threads(), 1).total();
    let outcome = {
        let jobs = region.jobs();
        let done = AtomicU64::new(0);
        let bar = runs_bar(quiet);
        region.run(&|| bar.set(done.fetch_add(1, Ordering::Relaxed) + 1, jobs))?
    };
    let written = out.write(&outcome.render())?;
    if !quiet {
        print!("{}", outcome.table());
        println!("Wrote {} to {}", written.join(", "), out_dir.display());
        simulated(
            outcome.resident_months(),
            outcome.seconds,
            outcome.threads(),
        );
        eprintln!(
            "{places_count} places, {} residents; memory estimated at {} ({} bytes of state a resident).",
            upstream::format::count(residents as f64),
            upstream::format::size(memory),
            upstream::experiment::MemoryEstimate::PER_RESIDENT
        );
    }
    Ok(())
}

fn simulated(resident_months: u64, seconds: f64, threads: usize) {
    eprintln!(
        "Simulated {:.2} billion resident-months in {seconds:.1} s on {threads} {}: {:.0} million resident-months a second.",
        resident_months as f64 / 1e9,
        if threads == 1 { "thread" } else { "threads" },
        resident_months as f64 / seconds / 1e6
    );
}

/// One shard of a run: its replicates, written as a part for `upstream
/// merge`.
fn run_shard(
    request: &Request,
    places: Option<&Path>,
    shard: upstream::experiment::Shard,
    out: &Path,
    quiet: bool,
    memory_limit: Option<u64>,
) -> Result<(), Error> {
    use upstream::shard;
    let (work, key) = shard::plan_keeping_inputs(request, places)?;
    if !quiet {
        warn_all(&work.warnings());
    }
    work.check_memory(memory_limit, shard.count())?;
    let started = std::time::Instant::now();
    let results = {
        let jobs = work.jobs().div_ceil(shard.count() as u64);
        let done = AtomicU64::new(0);
        let bar = runs_bar(quiet);
        work.run_shard(shard, &|| {
            bar.set(done.fetch_add(1, Ordering::Relaxed) + 1, jobs)
        })?
    };
    let seconds = started.elapsed().as_secs_f64();
    let runs = results.replicates();
    let path = shard::write_part(out, &key, shard, seconds, &results)?;
    if !quiet {
        println!(
            "Wrote shard {} of {} ({runs} runs of a scenario's replicate, {seconds:.1} s) to {}; when every shard is done, `upstream merge {}` puts them together.",
            shard.index(),
            shard.count(),
            path.display(),
            out.display()
        );
    }
    Ok(())
}

fn merge(args: cli::MergeArgs) -> Result<(), Error> {
    use upstream::shard::{Finished, Merging};
    let merged = match upstream::shard::merge(&args.parts)? {
        Merging::Run(merged) => merged,
        Merging::Experiment(parts) => return merge_experiment(parts, &args),
    };
    let out = upstream::output::claim(&args.out)?;
    match &merged.outcome {
        Finished::Plan(outcome) => write_outcome(outcome, &out, args.no_report, args.quiet)?,
        Finished::Region(region) => {
            let written = out.write(&region.render())?;
            if !args.quiet {
                print!("{}", region.table());
                println!("Wrote {} to {}", written.join(", "), args.out.display());
            }
        }
    }
    if !args.quiet {
        eprintln!(
            "Merged {} shards: {:.2} billion resident-months, {:.1} s of simulation in all, the longest shard {:.1} s.",
            merged.shards,
            merged.outcome.resident_months() as f64 / 1e9,
            merged.outcome.seconds(),
            merged.longest_seconds
        );
        if let Finished::Plan(outcome) = &merged.outcome {
            shared_burn_in(outcome);
        }
    }
    Ok(())
}

/// Where an experiment reads its files and does its runs: here; as one
/// shard, keeping what it reads for its part; or as the merge of every
/// shard's part, reading the files and runs the parts hold.
struct Source {
    inputs: upstream::shard::Inputs,
    runs: upstream::experiment::Runs,
}

impl Source {
    fn read(&self, path: &Path) -> std::io::Result<String> {
        self.inputs.read(path)
    }

    /// Whether this does one shard's share, and so writes no results.
    fn is_shard(&self) -> bool {
        self.runs.only().is_some()
    }

    /// The output folder, claimed, unless this is a shard (whose part goes
    /// in a folder every shard shares).
    fn claim(&self, out: &Path) -> Result<Option<upstream::output::OutputFolder>, Error> {
        match self.is_shard() {
            true => Ok(None),
            false => Ok(Some(upstream::output::claim(out)?)),
        }
    }
}

/// Runs an experiment, whole or (with --shard) as one shard, which writes
/// its part: the experiment's settings, the text of every file it read,
/// and its share of each of the experiment's runs.
fn sharded<A: cli::Sharded>(
    mut args: A,
    go: fn(A, &mut Source) -> Result<(), Error>,
) -> Result<(), Error> {
    use upstream::experiment::Runs;
    use upstream::shard::{self, Inputs, PartResults, RunKey};
    let Some(shard) = args.shard() else {
        let mut source = Source {
            inputs: Inputs::disk(),
            runs: Runs::whole(),
        };
        return go(args, &mut source);
    };
    args.name_bundled();
    let settings = match serde_json::to_value(&args).expect("plain settings") {
        serde_json::Value::Object(map) => map.into_iter().collect(),
        _ => unreachable!("settings are a table"),
    };
    let (dir, quiet) = (args.out().to_path_buf(), args.quiet());
    let mut source = Source {
        inputs: Inputs::keeping(),
        runs: Runs::shard(shard),
    };
    let started = std::time::Instant::now();
    go(args, &mut source)?;
    let seconds = started.elapsed().as_secs_f64();
    let runs = source.runs.count();
    let kept = source.runs.into_kept();
    let replicates: usize = kept.iter().map(|p| p.results.len()).sum();
    let key = RunKey::of_experiment(A::COMMAND, settings, source.inputs.into_kept());
    let path = shard::write_part(&dir, &key, shard, seconds, &PartResults::Experiment(kept))?;
    if !quiet {
        println!(
            "Wrote shard {} of {} ({replicates} scenario replicates of the experiment's {runs} runs, {seconds:.1} s) to {}; when every shard is done, `upstream merge {}` puts them together.",
            shard.index(),
            shard.count(),
            path.display(),
            dir.display()
        );
    }
    Ok(())
}

/// Merges an experiment's parts: the experiment again, with the settings
/// and files its shards had, each run put together from the parts rather
/// than simulated.
fn merge_experiment(
    parts: upstream::shard::ExperimentParts,
    args: &cli::MergeArgs,
) -> Result<(), Error> {
    use cli::Sharded;
    fn go<A: cli::Sharded>(
        settings: serde_json::Value,
        args: &cli::MergeArgs,
        source: &mut Source,
        run: fn(A, &mut Source) -> Result<(), Error>,
    ) -> Result<(), Error> {
        let mut a: A =
            serde_json::from_value(settings).map_err(|e| upstream::shard::ShardError::Damaged {
                file: args.parts[0].clone(),
                reason: format!("its `upstream {}` settings do not read: {e}", A::COMMAND),
            })?;
        a.merged_into(args.out.clone(), args.quiet);
        run(a, source)
    }
    let settings = serde_json::Value::Object(parts.key.settings.into_iter().collect());
    let mut source = Source {
        inputs: parts.inputs,
        runs: parts.runs,
    };
    let command = parts.key.command.as_str();
    match command {
        cli::SensitivityArgs::COMMAND => go(settings, args, &mut source, sensitivity),
        cli::BreakEvenArgs::COMMAND => go(settings, args, &mut source, break_even),
        cli::SweepArgs::COMMAND => go(settings, args, &mut source, sweep),
        cli::OptimiseArgs::COMMAND => go(settings, args, &mut source, optimise),
        cli::CalibrateArgs::COMMAND => go(settings, args, &mut source, calibrate),
        other => Err(upstream::shard::ShardError::Damaged {
            file: args.parts[0].clone(),
            reason: format!(
                "it is a shard of `upstream {other}`, which this Upstream does not run"
            ),
        }
        .into()),
    }?;
    if !args.quiet {
        eprintln!(
            "Merged {} shards of `upstream {command}`: {:.1} s of simulation in all, the longest shard {:.1} s.",
            parts.shards, parts.seconds, parts.longest_seconds
        );
    }
    Ok(())
}

/// Where an experiment writes, and how it reports.
struct Claim<'a> {
    out: &'a Path,
    quiet: bool,
    memory_limit: Option<u64>,
}

/// What every experiment does before it runs: plans its comparison (a
/// baseline and at least one scenario), checks it with `check`, shows the
/// scenarios' warnings, checks memory (the comparisons run one after
/// another, so the peak is one comparison's) and claims its folder.
fn experiment(
    name: &'static str,
    compared: cli::Compared,
    replicates: u32,
    claim: &Claim,
    source: &Source,
    check: impl FnOnce(&Plan) -> Result<(), Error>,
) -> Result<(Plan, Option<upstream::output::OutputFolder>), Error> {
    let plan = Plan::new_through(&compared.request(replicates), &|p| source.read(p))?;
    if plan.scenarios().len() < 2 {
        return Err(app::PlanError::NothingToCompare { experiment: name }.into());
    }
    check(&plan)?;
    if !claim.quiet {
        plan.scenarios().iter().for_each(warn);
    }
    plan.check_memory(claim.memory_limit)?;
    let out = source.claim(claim.out)?;
    Ok((plan, out))
}

fn sensitivity(args: cli::SensitivityArgs, source: &mut Source) -> Result<(), Error> {
    let (plan, out) = experiment(
        "upstream sensitivity",
        args.compared,
        args.replicates,
        &Claim {
            out: &args.out,
            quiet: args.quiet,
            memory_limit: args.memory_limit,
        },
        source,
        |_| Ok(()),
    )?;
    let settings = plan.settings().clone();
    let scenarios = plan.scenarios().to_vec();
    let parameters = upstream::sensitivity::selected(&scenarios, &args.only).len() as u64;
    let started = std::time::Instant::now();
    // The central comparison and each parameter at each end, then each
    // trajectory's points; counted before widths are shared, so the bar
    // may end a little early.
    let comparisons = 1 + 2 * parameters + args.morris.map_or(0, |t| t as u64 * (parameters + 1));
    let jobs = comparisons * scenarios.len() as u64 * settings.replicates as u64;
    let done = AtomicU64::new(0);
    let bar = runs_bar(args.quiet);
    let tick = || bar.set(done.fetch_add(1, Ordering::Relaxed) + 1, jobs);
    let found = upstream::sensitivity::one_way_with_central(
        scenarios.clone(),
        &settings,
        &args.only,
        &mut source.runs,
        &tick,
    )?;
    let one_way_seconds = started.elapsed().as_secs_f64();
    let screen = match args.morris {
        Some(t) => upstream::sensitivity::morris(
            scenarios,
            &settings,
            t,
            &args.only,
            &mut source.runs,
            &tick,
        )?,
        None => None,
    };
    drop(bar);
    source.runs.finish()?;
    let (Some((one_way, central)), Some(out)) = (found, out) else {
        return Ok(());
    };
    let seconds = started.elapsed().as_secs_f64();
    // The central comparison's own files, then the sensitivity's, then a
    // report built from them all, as `upstream report` would rebuild it.
    let mut files = central.render()?;
    files.push((
        upstream::published::SENSITIVITY_FILE.to_string(),
        upstream::output::sensitivity_csv(&one_way),
    ));
    if let Some(screen) = &screen {
        files.push((
            upstream::published::MORRIS_FILE.to_string(),
            upstream::output::morris_csv(screen),
        ));
    }
    match app::build_report(&files, &|_, _| {}) {
        Ok(report) => files.extend(report),
        Err(source) => {
            out.write(&files)?;
            return Err(Error::ReportAfterResults {
                dir: out.path().to_path_buf(),
                source,
            });
        }
    }
    out.write(&files)?;
    if !args.quiet {
        print_sensitivity(&one_way, screen.as_ref(), args.top, &args.out);
        // A merge's time is not the simulation's; it says the shards'.
        if source.runs.is_whole() {
            eprintln!(
                "One-way: {} comparisons of {} replicates, {}.",
                one_way.comparisons,
                settings.replicates,
                rate(one_way.resident_months, one_way_seconds)
            );
            if let Some(m) = &screen {
                eprintln!(
                    "Morris screen: {} parameters × {} trajectories, {} comparisons of {} replicates, {}.",
                    m.effects.first().map_or(0, |e| e.len()),
                    m.trajectories,
                    m.comparisons,
                    settings.replicates,
                    rate(m.resident_months, seconds - one_way_seconds)
                );
            }
        }
    }
    Ok(())
}

/// Each scenario's assumptions that decide its net present value, one way
/// and (if run) by the Morris screen, the `top` of each; and what was
/// written to `out`.
fn print_sensitivity(
    one_way: &upstream::sensitivity::OneWay,
    screen: Option<&upstream::sensitivity::Screening>,
    top: usize,
    out: &std::path::Path,
) {
    use upstream::format::money;
    for s in 1..one_way.scenarios.len() {
        let ranked = one_way.ranked(s);
        let central = ranked.first().map_or(0.0, |e| e.npv.central);
        println!(
            "{}: net present value {} with every parameter at its value; the assumptions that decide it (net present value at the low and the high end of each range):",
            one_way.scenarios[s],
            money(central)
        );
        for e in ranked.iter().take(top) {
            println!(
                "  {:<55} {:>10} to {:>10}  (range {} to {})",
                e.parameter,
                money(e.npv.low),
                money(e.npv.high),
                e.range.0,
                e.range.1
            );
        }
        if let Some(screen) = screen {
            println!(
                "  Morris screen, {} trajectories (μ*, the mean size of each parameter's elementary effect on net present value per whole range; σ, its spread):",
                screen.trajectories
            );
            for e in screen.ranked(s).iter().take(top) {
                println!(
                    "  {:<55} μ* {:>10}  σ {:>10}",
                    e.parameter,
                    money(e.npv.mu_star),
                    money(e.npv.sigma)
                );
            }
        }
    }
    println!(
        "Wrote {}{}, the central comparison's files and report.html, with a tornado{} chart per scenario, to {}",
        upstream::published::SENSITIVITY_FILE,
        if screen.is_some() {
            format!(", {}", upstream::published::MORRIS_FILE)
        } else {
            String::new()
        },
        if screen.is_some() {
            " and a Morris"
        } else {
            ""
        },
        out.display()
    );
}

/// "1.23 billion resident-months in 4.5 s, 273 million a second".
fn rate(months: u64, seconds: f64) -> String {
    format!(
        "{:.2} billion resident-months in {:.1} s, {:.0} million a second",
        months as f64 / 1e9,
        seconds,
        months as f64 / seconds / 1e6
    )
}

fn break_even(args: cli::BreakEvenArgs, source: &mut Source) -> Result<(), Error> {
    let (plan, out) = experiment(
        "upstream break-even",
        args.compared,
        args.replicates,
        &Claim {
            out: &args.out,
            quiet: args.quiet,
            memory_limit: args.memory_limit,
        },
        source,
        |_| Ok(()),
    )?;
    let settings = plan.settings().clone();
    let started = std::time::Instant::now();
    let levers = upstream::breakeven::levers_of(plan.scenarios()) as u64;
    let jobs = levers * (1 + upstream::breakeven::GRID_POINTS as u64) * settings.replicates as u64;
    let done = AtomicU64::new(0);
    let bar = runs_bar(args.quiet);
    let found =
        upstream::breakeven::break_even(plan.scenarios(), &settings, &mut source.runs, &|| {
            bar.set(done.fetch_add(1, Ordering::Relaxed) + 1, jobs)
        })?;
    drop(bar);
    source.runs.finish()?;
    let (Some(found), Some(out)) = (found, out) else {
        return Ok(());
    };
    let seconds = started.elapsed().as_secs_f64();
    let file = upstream::published::BREAK_EVEN_FILE;
    let mut files = vec![(file.to_string(), upstream::output::break_even_csv(&found))];
    files.extend(upstream::report::break_even_report(
        &found,
        settings.replicates,
        settings.seed,
    ));
    out.write(&files)?;
    if !args.quiet {
        for s in &found.scenarios[1..] {
            println!("{s}:");
            let mut levers = found.levers.iter().filter(|l| &l.scenario == s).peekable();
            if levers.peek().is_none() {
                println!(
                    "  no lever to move: it changes no caseload intervention with an engagement or an effect"
                );
            }
            for l in levers {
                println!("  {}", l.reading());
            }
        }
        if let Some(why) = upstream::published::no_bands(settings.replicates) {
            println!("{why}");
        }
        println!("Wrote {file} and report.html to {}", args.out.display());
        // A merge's time is not the simulation's; it says the shards'.
        if source.runs.is_whole() {
            eprintln!(
                "Ran {levers} levers at {} points of {} replicates: {:.2} billion resident-months in {:.1} s, {:.0} million resident-months a second.",
                upstream::breakeven::GRID_POINTS,
                settings.replicates,
                found.resident_months as f64 / 1e9,
                seconds,
                found.resident_months as f64 / seconds / 1e6
            );
        }
    }
    Ok(())
}

fn sweep(args: cli::SweepArgs, source: &mut Source) -> Result<(), Error> {
    use upstream::sweep::{self as sw, Axis};
    let axes = args
        .vary
        .iter()
        .map(|t| Axis::parse(t))
        .collect::<Result<Vec<_>, _>>()?;
    let (plan, out) = experiment(
        "upstream sweep",
        args.compared,
        args.replicates,
        &Claim {
            out: &args.out,
            quiet: args.quiet,
            memory_limit: args.memory_limit,
        },
        source,
        |plan| Ok(sw::check(plan.scenarios(), &axes)?),
    )?;
    let runs = args.out.join(upstream::published::SWEEP_RUNS_DIR);
    let resumable = source.runs.is_whole();
    let settings = plan.settings().clone();
    let points: u64 = axes.iter().map(|a| a.values.len() as u64).product();
    let jobs = points * plan.scenarios().len() as u64 * settings.replicates as u64;
    let done = AtomicU64::new(0);
    let bar = runs_bar(args.quiet);
    let started = std::time::Instant::now();
    // A point kept by an interrupted sweep into this folder, if its file
    // holds the point of that id.
    let known = |id: &str| -> Option<sw::Point> {
        // A shard's or a merge's runs are numbered from the sweep's first
        // point, so none is skipped.
        if !resumable {
            return None;
        }
        let bytes = upstream::input::read_bytes(
            &runs.join(format!("{id}.json")),
            upstream::input::MAX_INPUT_BYTES,
        )
        .ok()?;
        let p: sw::Point = serde_json::from_slice(&bytes).ok()?;
        if p.id == id {
            // Counted as done for the bar.
            let per_point = plan.scenarios().len() as u64 * settings.replicates as u64;
            bar.set(
                done.fetch_add(per_point, Ordering::Relaxed) + per_point,
                jobs,
            );
            Some(p)
        } else {
            None
        }
    };
    let mut keep = |p: &sw::Point| -> Result<(), Error> {
        upstream::output::keep_file(
            &runs,
            &format!("{}.json", p.id),
            &serde_json::to_vec_pretty(p).expect("a point serialises"),
        )?;
        Ok(())
    };
    let found = sw::sweep(
        plan.scenarios(),
        &settings,
        &axes,
        &known,
        &mut keep,
        &mut source.runs,
        &|| bar.set(done.fetch_add(1, Ordering::Relaxed) + 1, jobs),
    )?;
    drop(bar);
    source.runs.finish()?;
    let (Some(found), Some(out)) = (found, out) else {
        return Ok(());
    };
    let seconds = started.elapsed().as_secs_f64();
    let mut files = vec![(
        upstream::published::SWEEP_FILE.to_string(),
        upstream::output::sweep_csv(&found),
    )];
    for p in &found.points {
        files.push((
            format!("{}/{}.json", upstream::published::SWEEP_RUNS_DIR, p.id),
            serde_json::to_vec_pretty(p).expect("a point serialises"),
        ));
    }
    files.extend(
        upstream::report::sweep_report(&found, settings.replicates, settings.seed)
            .map_err(|source| report_error(&args.out, source))?,
    );
    out.write(&files)?;
    if !args.quiet {
        use upstream::format::money;
        let no_bands = upstream::published::no_bands(settings.replicates);
        for (s, name) in found.scenarios.iter().enumerate().skip(1) {
            println!("{name}: net present value (mean across replicates) at each point:");
            let at: Vec<String> = found
                .points
                .iter()
                .map(|p| {
                    let each: Vec<String> = found
                        .axes
                        .iter()
                        .zip(&p.values)
                        .map(|(a, v)| format!("{} = {}", a.parameter, a.label(*v)))
                        .collect();
                    each.join(", ")
                })
                .collect();
            let width = at.iter().map(|a| a.chars().count()).max().unwrap_or(0);
            for (p, at) in found.points.iter().zip(&at) {
                let f = &p.scenarios[s - 1];
                let band = match no_bands {
                    Some(_) => String::new(),
                    None => format!("  ({} to {})", money(f.npv.p5), money(f.npv.p95)),
                };
                println!("  {at:<width$} {:>10}{band}", money(f.npv.mean));
            }
        }
        if let Some(why) = &no_bands {
            println!("{why}");
        }
        println!(
            "Wrote {} and {} to {}",
            upstream::published::SWEEP_FILE,
            if found.axes.len() == 1 {
                "bar charts of net present value and crisis-months avoided"
            } else {
                "a heat map of net present value per scenario"
            },
            args.out.display()
        );
        let months = found.resident_months;
        // A merge's time is not the simulation's; it says the shards'.
        if source.runs.is_whole() {
            eprintln!(
                "{} points ({} run now, {} kept from an earlier run), {} replicates each: {:.2} billion resident-months in {:.1} s.",
                found.points.len(),
                found.run,
                found.points.len() - found.run,
                settings.replicates,
                months as f64 / 1e9,
                seconds
            );
        }
    }
    Ok(())
}

fn calibrate(args: cli::CalibrateArgs, source: &mut Source) -> Result<(), Error> {
    use upstream::calibrate::{self as cal, CalibrationSettings};
    use upstream::observed;
    let settings = upstream::experiment::RunSettings {
        replicates: args.replicates,
        seed: args.seed,
        threads: args.threads,
    };
    let read_file = |p: &Path| source.read(p);
    let full = app::load_through(&args.scenario, &Default::default(), &read_file)?;
    let read = observed::read_through(&args.observed, &full, &read_file)?;
    // No further than the last count observed: the rest of the horizon
    // would cost time and tell the fit nothing.
    let years = cal::years_needed(&read);
    let (scenario, read) = if (years * 12) < full.config.months {
        let overrides = upstream::scenario::Overrides {
            horizon_years: Some(years),
        };
        let short = app::load_through(&args.scenario, &overrides, &read_file)?;
        let read = observed::read_through(&args.observed, &short, &read_file)?;
        (short, read)
    } else {
        (full.clone(), read)
    };
    let plan = Plan::of(vec![scenario.clone()], settings.clone())?;
    if !args.quiet {
        warn(&full);
    }
    plan.check_memory(args.memory_limit)?;
    let out = source.claim(&args.out)?;
    let calibration = CalibrationSettings {
        candidates: args.candidates,
        accept: args.accept,
        only: args.fit.clone(),
    };
    let jobs = (args.candidates as u64 + 1) * settings.replicates as u64;
    let done = AtomicU64::new(0);
    let bar = runs_bar(args.quiet);
    let started = std::time::Instant::now();
    let found = cal::calibrate(
        &scenario,
        &read,
        &settings,
        &calibration,
        &mut source.runs,
        &|| bar.set(done.fetch_add(1, Ordering::Relaxed) + 1, jobs),
    )?;
    drop(bar);
    source.runs.finish()?;
    let (Some(found), Some(out)) = (found, out) else {
        return Ok(());
    };
    let seconds = started.elapsed().as_secs_f64();
    let text = cal::calibrated_scenario(&found, &full, &args.out)?;
    let p = upstream::published::CALIBRATED_FILE;
    let mut files = vec![
        (p.to_string(), text.into_bytes()),
        (
            upstream::published::CALIBRATION_FILE.to_string(),
            upstream::output::calibration_csv(&found),
        ),
        (
            upstream::published::CANDIDATES_FILE.to_string(),
            upstream::output::candidates_csv(&found),
        ),
        (
            upstream::published::FIT_FILE.to_string(),
            upstream::output::fit_csv(&found),
        ),
    ];
    let simulated = years.min(full.config.months / 12);
    let charts = upstream::report::calibration_report(&found, simulated)
        .map_err(|source| report_error(&args.out, source))?;
    let chart_count = charts.iter().filter(|(n, _)| n.ends_with(".svg")).count();
    files.extend(charts);
    out.write(&files)?;
    if !args.quiet {
        println!("{}", found.summary(simulated));
        if let Some(w) = found.far_from_the_counts() {
            eprintln!("warning: {w}");
        }
        let (sentences, informed) = found.findings();
        if !informed.is_empty() {
            println!(
                "Informed by the counts (stated value and range → posterior median and 5th to 95th percentiles; share of the prior's 90% range kept):"
            );
        }
        let width = informed
            .iter()
            .map(|r| r[0].chars().count())
            .max()
            .unwrap_or(0);
        for [name, stated, posterior, kept] in &informed {
            println!("  {name:<width$}  {stated}  →  {posterior}, {kept} kept");
        }
        for s in &sentences {
            println!("{s}");
        }
        println!(
            "Wrote {p}, {}, {}, {}, report.html and {chart_count} fit chart{} to {}; run the calibrated scenario with `upstream run {} --uncertainty`.",
            upstream::published::CALIBRATION_FILE,
            upstream::published::CANDIDATES_FILE,
            upstream::published::FIT_FILE,
            if chart_count == 1 { "" } else { "s" },
            args.out.display(),
            args.out.join(p).display()
        );
        // A merge's time is not the simulation's; it says the shards'.
        if source.runs.is_whole() {
            eprintln!(
                "Ran {} candidates and the scenario as stated, {} replicates each: {:.2} billion resident-months in {:.1} s, {:.0} million resident-months a second.",
                found.candidates.len(),
                settings.replicates,
                found.resident_months as f64 / 1e9,
                seconds,
                found.resident_months as f64 / seconds / 1e6
            );
        }
    }
    Ok(())
}

/// The progress bar every experiment shows: runs done of runs to do.
fn runs_bar(quiet: bool) -> Bar {
    Bar::new(
        "{elapsed_precise} [{bar:40}] {pos}/{len} runs, {eta} left",
        Duration::from_secs(2),
        quiet,
    )
}

/// A report or page that could not be drawn for the folder `dir`.
fn report_error(dir: &Path, source: upstream::report::ReportError) -> Error {
    Error::Report {
        dir: dir.to_path_buf(),
        source,
    }
}

fn optimise(args: cli::OptimiseArgs, source: &mut Source) -> Result<(), Error> {
    use upstream::format::{count, money};
    use upstream::optimise::{self as op, Objective};
    let objective = match args.objective {
        cli::ObjectiveArg::Npv => Objective::Npv,
        cli::ObjectiveArg::CrisisMonths => Objective::CrisisMonths,
    };
    let mut compared = args.compared;
    cli::name_portfolio(&mut compared);
    let mut shares = Vec::new();
    let (plan, out) = experiment(
        "upstream optimise",
        compared,
        args.replicates,
        &Claim {
            out: &args.out,
            quiet: args.quiet,
            memory_limit: args.memory_limit,
        },
        source,
        |plan| {
            shares = op::plan(plan.scenarios())?;
            Ok(())
        },
    )?;
    let settings = plan.settings().clone();
    let splits: usize = shares.iter().map(|(_, s)| s.len()).sum();
    // Each batch runs the baseline again; with --uncertainty, twice.
    let batches = (splits + 1).div_ceil(op::BATCH);
    let runs = (splits + 1 + batches) as u64 * if args.uncertainty { 2 } else { 1 };
    let jobs = runs * settings.replicates as u64;
    if !args.quiet {
        eprintln!(
            "{splits} splits of the budget at {} shares of it, {} replicates each",
            shares.len(),
            settings.replicates
        );
    }
    let done = AtomicU64::new(0);
    let bar = runs_bar(args.quiet);
    let started = std::time::Instant::now();
    let found = op::optimise(
        plan.scenarios(),
        &settings,
        objective,
        args.uncertainty,
        args.memory_limit,
        &mut source.runs,
        &|| bar.set(done.fetch_add(1, Ordering::Relaxed) + 1, jobs),
    )?;
    drop(bar);
    source.runs.finish()?;
    let (Some(found), Some(out)) = (found, out) else {
        return Ok(());
    };
    let seconds = started.elapsed().as_secs_f64();
    let mut files = vec![
        (
            upstream::published::SPLITS_FILE.to_string(),
            upstream::output::splits_csv(&found),
        ),
        (
            upstream::published::FRONTIER_FILE.to_string(),
            upstream::output::frontier_csv(&found),
        ),
    ];
    files.extend(
        upstream::report::optimise_report(&found)
            .map_err(|source| report_error(&args.out, source))?,
    );
    out.write(&files)?;
    if !args.quiet {
        let no_bands = upstream::published::no_bands(settings.replicates);
        let band = |b: &upstream::metrics::Band, f: fn(f64) -> String| match no_bands {
            Some(_) => f(b.mean),
            None => format!("{} ({} to {})", f(b.mean), f(b.p5), f(b.p95)),
        };
        println!(
            "The best split by {} at each budget (mean across replicates, 5th to 95th percentile):",
            found.objective.name()
        );
        for &i in &found.best {
            let s = &found.splits[i];
            println!(
                "  {} a year: {}\n    net present value {}; crisis-months avoided {}",
                money(s.share * found.budget.budget),
                found.describe(s),
                band(&s.figures.npv, money),
                band(&s.figures.crisis_months_avoided, count),
            );
        }
        println!(
            "  As the scenario states it ({}): net present value {}; crisis-months avoided {}",
            found.stated_name,
            band(&found.stated.npv, money),
            band(&found.stated.crisis_months_avoided, count),
        );
        println!("  {}", found.stated_sentence());
        println!("{}", found.stability());
        if let Some(why) = no_bands {
            println!("{why}");
        }
        println!(
            "Wrote {} files to {} ({:.1} billion resident-months in {:.0} s, {:.0} million a second).",
            files.len(),
            args.out.display(),
            found.resident_months as f64 / 1e9,
            seconds,
            found.resident_months as f64 / seconds / 1e6
        );
    }
    Ok(())
}

fn review(args: cli::ReviewArgs) -> Result<(), Error> {
    use upstream::review;
    let run = review::open(&args.run, args.scenario.as_deref())?;
    let read = upstream::observed::read(&args.observed, &run.scenario)?;
    // No further than the last count observed.
    let scenario = run.first_years(upstream::calibrate::years_needed(&read))?;
    let read = upstream::observed::read(&args.observed, &scenario)?;
    let out = upstream::output::claim(&args.out)?;
    let s = &run.summary.settings;
    let parameters = scenario.uncertainty.parameters.len() as u64;
    let jobs = (1 + 2 * parameters + u64::from(s.parameters_drawn > 0) * 2) * s.replicates as u64;
    let done = AtomicU64::new(0);
    let bar = runs_bar(args.quiet);
    let started = std::time::Instant::now();
    let found = review::review(&run, &scenario, &read, args.threads, &|| {
        bar.set(done.fetch_add(1, Ordering::Relaxed) + 1, jobs)
    })?;
    drop(bar);
    let seconds = started.elapsed().as_secs_f64();
    let mut files = vec![
        (
            upstream::published::REVIEW_FILE.to_string(),
            upstream::output::review_csv(&found),
        ),
        (
            upstream::published::LEVERS_FILE.to_string(),
            upstream::output::levers_csv(&found),
        ),
    ];
    let charts = upstream::report::review_report(&found, &upstream::observed::file_name(&args.run))
        .map_err(|source| report_error(&args.out, source))?;
    let chart_count = charts.len() / 2;
    files.extend(charts);
    out.write(&files)?;
    if !args.quiet {
        let outside = found
            .rows
            .iter()
            .filter(|r| r.side != review::Side::Inside)
            .count();
        println!("{}", found.summary());
        for d in found.departure_sentences() {
            println!("  {d}");
        }
        if outside > 0 {
            println!(
                "Assumptions that would close the gap (each alone, every other at its value):"
            );
            for l in found
                .levers
                .iter()
                .filter(|l| l.closes > 0.0)
                .take(args.top)
            {
                println!("  {}", l.reading());
            }
            if found.levers.iter().all(|l| l.closes <= 0.0) {
                println!(
                    "  none: no uncertain parameter at either end of its range brings the projection nearer the counts"
                );
            }
        }
        println!(
            "Wrote {}, {} and {chart_count} chart{} to {}",
            upstream::published::REVIEW_FILE,
            upstream::published::LEVERS_FILE,
            if chart_count == 1 { "" } else { "s" },
            args.out.display()
        );
        eprintln!(
            "Made the projection again and moved {parameters} assumptions: {:.2} billion resident-months in {:.1} s.",
            found.resident_months as f64 / 1e9,
            seconds
        );
    }
    Ok(())
}
