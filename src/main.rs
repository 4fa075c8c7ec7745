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
use upstream::app::{self, Request};
use upstream::experiments::{self as ex, Experiment, How};

fn main() -> ExitCode {
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return cli::argument_error(e),
    };
    let result = match cli.command {
        cli::Command::Run(args) => run(args),
        cli::Command::Merge(args) => merge(args),
        cli::Command::Report { dir, quiet } => report(&dir, quiet),
        cli::Command::Check { scenarios, strict } => check(&scenarios, strict),
        cli::Command::NewPlace(args) => new_place(args),
        cli::Command::Elicit(args) => elicit(args),
        cli::Command::Sensitivity(args) => {
            let (quiet, lines) = (args.quiet, args.compared.progress_lines);
            let (settings, how) = args.settings();
            experiment::<ex::sensitivity::Sensitivity>(settings, how, quiet, lines)
        }
        cli::Command::BreakEven(args) => {
            let (quiet, lines) = (args.quiet, args.compared.progress_lines);
            let (settings, how) = args.settings();
            experiment::<ex::break_even::BreakEven>(settings, how, quiet, lines)
        }
        cli::Command::Sweep(args) => {
            let (quiet, lines) = (args.quiet, args.compared.progress_lines);
            let (settings, how) = args.settings();
            experiment::<ex::sweep::Sweep>(settings, how, quiet, lines)
        }
        cli::Command::Calibrate(args) => {
            let (quiet, lines) = (args.quiet, false);
            let (settings, how) = args.settings();
            experiment::<ex::calibrate::Calibrate>(settings, how, quiet, lines)
        }
        cli::Command::Review(args) => {
            let (quiet, lines) = (args.quiet, false);
            let (settings, how) = args.settings();
            experiment::<ex::review::Review>(settings, how, quiet, lines)
        }
        cli::Command::Optimise(args) => {
            let (quiet, lines) = (args.quiet, args.compared.progress_lines);
            let (settings, how) = args.settings();
            experiment::<ex::optimise::Optimise>(settings, how, quiet, lines)
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

fn serve(args: cli::ServeArgs) -> Result<(), Error> {
    let given = args.key.is_some();
    let options = upstream::serve::Options {
        address: args.address,
        port: args.port,
        database: args.database,
        scenarios: args.scenarios.unwrap_or_else(upstream::app::bundled_dir),
        runs: args.runs,
        runner: std::env::current_exe()
            .map_err(|e| Error::from(upstream::serve::ServeError::Runner(e)))?,
        key: args.key.unwrap_or_else(upstream::serve::new_key),
    };
    upstream::serve::run(&options, |ready| {
        let at = ready.here;
        // The first line is the one a test or a script reads to find the
        // server; no one may be reading after it, so a closed pipe is not
        // an error.
        use std::io::Write;
        let mut out = std::io::stdout();
        let _ = writeln!(
            out,
            "Serving Upstream at http://{at}/ (the learning simulation) and http://{at}/workbench (the commissioner's workbench); kept in {} and {}; stop with Ctrl-C",
            options.database.display(),
            options.runs.display()
        );
        // A key given with --key is not printed: it may be kept elsewhere.
        let _ = if given {
            writeln!(
                out,
                "Facilitators use the key given with --key, and analysts make their workbench accounts with it; teams need only the game's code"
            )
        } else {
            writeln!(
                out,
                "Facilitators use the key {0}, and analysts make their workbench accounts with it: open http://{at}/workbench?key={0} for the workbench, or http://{at}/?key={0} to set up games; teams need only the game's code",
                options.key
            )
        };
        let _ = match ready.network {
            Ok(address) => writeln!(
                out,
                "Teams' devices on your network open {address} (each game's class screen shows it with a QR code)"
            ),
            Err(why) => writeln!(out, "Teams' devices: {why}"),
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
            for c in &u.correlations {
                println!(
                    "    rank correlation {}: {}{}",
                    c.rank,
                    c.parameters.join(", "),
                    c.source
                        .as_deref()
                        .map(|s| format!(" ({})", upstream::input::quote(s)))
                        .unwrap_or_default()
                );
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
            let base = app::load(&baseline, &Default::default())?;
            PlaceFigures {
                name: args.name.clone().unwrap_or_else(|| row.name.clone()),
                ..upstream::region::figures(&row, &base.config, given)
            }
        }
        (None, Some(csv)) => PlaceFigures {
            name: args.name.clone().unwrap_or_default(),
            neighbourhoods: place::read_neighbourhoods(csv)?,
            activity: given,
            horizon_years: None,
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

fn elicit(args: cli::ElicitArgs) -> Result<(), Error> {
    use upstream::elicit::{self, MISFIT_TO_ASK_AGAIN, Settings};
    let settings = Settings {
        scenario: args.scenario,
        judgements: args.judgements,
        out: args.out,
        held_on: args.held_on,
        shape: args.distribution,
    };
    let elicited = elicit::elicit(&settings)?;
    let experts = elicited
        .iter()
        .flat_map(|e| e.experts.iter().map(|x| x.number))
        .max()
        .unwrap_or(0);
    println!(
        "Wrote {}: {} number{} from {experts} expert{}, extending {}.",
        settings.out.display(),
        elicited.len(),
        if elicited.len() == 1 { "" } else { "s" },
        if experts == 1 { "" } else { "s" },
        settings.scenario.display()
    );
    for e in &elicited {
        let f = elicit::figure;
        println!(
            "  {}: stated {}; {} expert{} pooled to a median of {} (90%: {} to {}); written as {}, within {:.1} percentage points of the pool",
            e.parameter,
            f(e.stated),
            e.experts.len(),
            if e.experts.len() == 1 { "" } else { "s" },
            f(e.pooled[2]),
            f(e.pooled[0]),
            f(e.pooled[4]),
            elicit::written(&e.written),
            100.0 * e.written.misfit
        );
        for (shape, why) in &e.refused {
            println!("    not as {}, which fits closer: {why}", shape.name());
        }
        for x in e.experts.iter().filter(|x| x.misfit > MISFIT_TO_ASK_AGAIN) {
            println!(
                "    expert {} (line {}): their fitted distribution misses their own percentiles by {:.0} percentage points; check those with them",
                x.number,
                x.line,
                100.0 * x.misfit
            );
        }
    }
    println!(
        "Check it with `upstream check {0}`; run it with `upstream run {0} --uncertainty`.",
        settings.out.display()
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
    let lines = args.compared.progress_lines;
    let run = upstream::run::Run {
        request: Request {
            strict: args.strict,
            uncertainty: args.uncertainty,
            stands_for: args.scale,
            ..args.compared.settings(args.replicates).request(threads)
        },
        places: args.places,
        shard: args.shard,
        out: args.out,
        memory_limit: args.memory_limit,
        no_report: args.no_report,
    };
    let terminal = Terminal {
        quiet: args.quiet,
        lines,
    };
    let said = upstream::run::run(&run, &terminal)?;
    say(&said, args.quiet);
    Ok(())
}

fn merge(args: cli::MergeArgs) -> Result<(), Error> {
    let watch = Terminal {
        quiet: args.quiet,
        lines: false,
    };
    let said = upstream::run::merge(&args.parts, &args.out, args.no_report, &watch)?;
    say(&said, args.quiet);
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
/// `quiet`, then printing what it says; progress as lines if `lines`.
fn experiment<E: Experiment>(
    settings: E::Settings,
    how: How,
    quiet: bool,
    lines: bool,
) -> Result<(), Error> {
    let said = upstream::experiments::drive::<E>(settings, &how, &Terminal { quiet, lines })?;
    say(&said, quiet);
    Ok(())
}

/// What an experiment says, on standard output and standard error, unless
/// `quiet`.
fn say(said: &upstream::app::Said, quiet: bool) {
    if !quiet {
        print!("{}", said.out);
        eprint!("{}", said.err);
    }
}

/// The terminal, as an experiment's watcher: its notes on standard error
/// and a progress bar of its runs, unless quiet.
struct Terminal {
    quiet: bool,
    /// Progress as lines ("progress 3 32") rather than a bar.
    lines: bool,
}

impl upstream::app::Watch for Terminal {
    fn note(&self, line: &str) {
        if !self.quiet {
            eprintln!("{line}");
        }
    }

    fn progress(&self, jobs: u64) -> Box<dyn Fn(u64) + Sync + '_> {
        let done = AtomicU64::new(0);
        if self.lines {
            eprintln!("progress 0 {jobs}");
            return Box::new(move |n| {
                eprintln!(
                    "progress {} {jobs}",
                    done.fetch_add(n, Ordering::Relaxed) + n
                )
            });
        }
        let bar = runs_bar(self.quiet);
        Box::new(move |n| bar.set(done.fetch_add(n, Ordering::Relaxed) + n, jobs))
    }

    fn drawing(&self) -> Box<dyn Fn(usize, usize) + Sync + '_> {
        let bar = Bar::charts(self.quiet);
        Box::new(move |done, total| bar.set(done as u64, total as u64))
    }
}
