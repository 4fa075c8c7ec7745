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
use upstream::experiments::{self as ex, Experiment, How};

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
        cli::Command::Sensitivity(args) => {
            let quiet = args.quiet;
            let (settings, how) = args.settings();
            experiment::<ex::sensitivity::Sensitivity>(settings, how, quiet)
        }
        cli::Command::BreakEven(args) => {
            let quiet = args.quiet;
            let (settings, how) = args.settings();
            experiment::<ex::break_even::BreakEven>(settings, how, quiet)
        }
        cli::Command::Sweep(args) => {
            let quiet = args.quiet;
            let (settings, how) = args.settings();
            experiment::<ex::sweep::Sweep>(settings, how, quiet)
        }
        cli::Command::Calibrate(args) => {
            let quiet = args.quiet;
            let (settings, how) = args.settings();
            experiment::<ex::calibrate::Calibrate>(settings, how, quiet)
        }
        cli::Command::Review(args) => {
            let quiet = args.quiet;
            let (settings, how) = args.settings();
            experiment::<ex::review::Review>(settings, how, quiet)
        }
        cli::Command::Optimise(args) => {
            let quiet = args.quiet;
            let (settings, how) = args.settings();
            experiment::<ex::optimise::Optimise>(settings, how, quiet)
        }
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
    let threads = args.compared.threads;
    let request = Request {
        strict: args.strict,
        uncertainty: args.uncertainty,
        ..args.compared.settings(args.replicates).request(threads)
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
        Merging::Experiment(parts) => {
            let watch = Terminal { quiet: args.quiet };
            let said = upstream::experiments::merge(parts, &args.parts[0], &args.out, &watch)?;
            say(&said, args.quiet);
            return Ok(());
        }
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

/// The progress bar every experiment shows: runs done of runs to do.
fn runs_bar(quiet: bool) -> Bar {
    Bar::new(
        "{elapsed_precise} [{bar:40}] {pos}/{len} runs, {eta} left",
        Duration::from_secs(2),
        quiet,
    )
}

/// Drives the experiment `E`, showing its notes and progress unless
/// `quiet`, then printing what it says.
fn experiment<E: Experiment>(settings: E::Settings, how: How, quiet: bool) -> Result<(), Error> {
    let said = upstream::experiments::drive::<E>(settings, &how, &Terminal { quiet })?;
    say(&said, quiet);
    Ok(())
}

/// What an experiment says, on standard output and standard error, unless
/// `quiet`.
fn say(said: &upstream::experiments::Said, quiet: bool) {
    if !quiet {
        print!("{}", said.out);
        eprint!("{}", said.err);
    }
}

/// The terminal, as an experiment's watcher: its notes on standard error
/// and a progress bar of its runs, unless quiet.
struct Terminal {
    quiet: bool,
}

impl upstream::experiments::Watch for Terminal {
    fn note(&self, line: &str) {
        if !self.quiet {
            eprintln!("{line}");
        }
    }

    fn progress(&self, jobs: u64) -> Box<dyn Fn(u64) + Sync + '_> {
        let bar = runs_bar(self.quiet);
        let done = AtomicU64::new(0);
        Box::new(move |n| bar.set(done.fetch_add(n, Ordering::Relaxed) + n, jobs))
    }
}
