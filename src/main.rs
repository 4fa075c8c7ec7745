//! The `upstream` command. Thin: parse arguments, call the library, map errors
//! to exit codes (2: the input asks for something impossible; 1: a fault).

mod cli;

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use upstream::experiment::{self, RunSettings};
use upstream::output::{self, RunInfo};
use upstream::scenario::{self, BUNDLED, Loaded, Overrides};

enum Failure {
    /// Bad input: a scenario, an argument or an output folder.
    Input(String),
    /// Something broke.
    Fault(String),
}

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let result = match cli.command {
        cli::Command::Run(args) => run(args),
        cli::Command::Report { dir, quiet } => report(&dir, quiet),
        cli::Command::Check { scenarios } => check(&scenarios),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Input(msg)) => {
            eprintln!("error: {msg}");
            ExitCode::from(2)
        }
        Err(Failure::Fault(msg)) => {
            eprintln!(
                "internal error: {msg}\nThis is a fault in Upstream, not in your input; please report it."
            );
            ExitCode::from(1)
        }
    }
}

fn bundled_dir() -> PathBuf {
    let local = Path::new("scenarios");
    if local.join(BUNDLED[0]).is_file() {
        local.to_path_buf()
    } else {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios")
    }
}

fn load_all(paths: &[PathBuf], overrides: &Overrides) -> Result<Vec<Loaded>, Failure> {
    paths
        .iter()
        .map(|p| scenario::load_with(p, overrides).map_err(|e| Failure::Input(e.to_string())))
        .collect()
}

fn check(paths: &[PathBuf]) -> Result<(), Failure> {
    for l in load_all(paths, &Overrides::default())? {
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
    }
    Ok(())
}

/// The memory the machine can give a new process now, from /proc/meminfo.
fn available_memory() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Refuses, before anything is allocated, a run that would not fit.
fn check_memory(loaded: &[Loaded], args: &cli::RunArgs) -> Result<(), Failure> {
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let configs: Vec<upstream::model::Config> = loaded.iter().map(|l| l.config.clone()).collect();
    let need = experiment::memory_estimate(&configs, args.replicates, threads);
    let (limit, whose) = match (args.memory_limit, available_memory()) {
        (Some(l), _) => (l, "--memory-limit"),
        (None, Some(a)) => (a, "the memory this machine has available"),
        (None, None) => return Ok(()),
    };
    if need.total() > limit {
        return Err(Failure::Input(format!(
            "this run needs about {} of memory ({} for {} residents on each of {} threads, {} for the results of {} replicates, {} for the outputs), more than {} ({whose}); use fewer replicates, years or residents, fewer --threads, or a bigger machine",
            upstream::format::size(need.total()),
            upstream::format::size(need.populations),
            upstream::format::count(
                configs
                    .iter()
                    .map(|c| c.population.residents)
                    .max()
                    .unwrap_or(0) as f64
            ),
            threads,
            upstream::format::size(need.results),
            upstream::format::count((configs.len() as u64 * args.replicates as u64) as f64),
            upstream::format::size(need.outputs),
            upstream::format::size(limit),
        )));
    }
    Ok(())
}

/// Draws the charts and report, with a progress bar if that takes a while.
fn build_report(
    source: &upstream::report::Source,
    quiet: bool,
) -> Result<Vec<(String, Vec<u8>)>, upstream::report::ReportError> {
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
    bar.set_style(
        ProgressStyle::with_template("{elapsed_precise} [{bar:40}] {pos}/{len} charts")
            .expect("valid template")
            .progress_chars("=> "),
    );
    let show_bar = !quiet && std::io::stderr().is_terminal();
    let started = Instant::now();
    let progress = |done: usize, total: usize| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
        if show_bar && bar.is_hidden() && started.elapsed() > Duration::from_secs(1) {
            bar.set_draw_target(ProgressDrawTarget::stderr());
        }
    };
    let files = upstream::report::build(source, &progress);
    bar.finish_and_clear();
    files
}

fn report(dir: &Path, quiet: bool) -> Result<(), Failure> {
    if !dir.is_dir() {
        return Err(Failure::Input(format!(
            "{} is not an output folder (it does not exist or is not a folder)",
            dir.display()
        )));
    }
    let source = |name: &str| std::fs::read(dir.join(name));
    let files = build_report(&source, quiet).map_err(|e| {
        Failure::Input(format!(
            "cannot build the report from {}: {e}",
            dir.display()
        ))
    })?;
    output::write_report(dir, &files).map_err(|e| Failure::Input(e.to_string()))?;
    if !quiet {
        println!(
            "Wrote {} and {} charts (SVG and PNG) to {}",
            upstream::report::REPORT_FILE,
            (files.len() - 1) / 2,
            dir.display()
        );
    }
    Ok(())
}

fn run(args: cli::RunArgs) -> Result<(), Failure> {
    if !(1..=10_000).contains(&args.replicates) {
        return Err(Failure::Input(format!(
            "--replicates must be from 1 to 10,000, not {}",
            args.replicates
        )));
    }
    if let Some(t) = args.threads
        && !(1..=1024).contains(&t)
    {
        return Err(Failure::Input(format!(
            "--threads must be from 1 to 1,024, not {t}"
        )));
    }
    if let Some(y) = args.years
        && !(1..=30).contains(&y)
    {
        return Err(Failure::Input(format!(
            "--years must be from 1 to 30, not {y}"
        )));
    }
    let paths: Vec<PathBuf> = match (&args.baseline, args.scenarios.is_empty()) {
        (Some(b), _) => std::iter::once(b.clone())
            .chain(args.scenarios.iter().cloned())
            .collect(),
        (None, false) => args.scenarios.clone(),
        (None, true) => {
            let dir = bundled_dir();
            BUNDLED.iter().map(|f| dir.join(f)).collect()
        }
    };
    let overrides = Overrides {
        horizon_years: args.years,
    };
    let loaded = load_all(&paths, &overrides)?;
    // Outputs are keyed by scenario name, so two scenarios cannot share one.
    for (i, l) in loaded.iter().enumerate() {
        if let Some(first) = loaded[..i].iter().find(|o| o.config.name == l.config.name) {
            return Err(Failure::Input(format!(
                "{} and {} both name their scenario \"{}\"; each scenario in a run needs its own name (set `name` in the file)",
                first.files[0].path.display(),
                l.files[0].path.display(),
                l.config.name
            )));
        }
    }
    let base = &loaded[0].config;
    let months = base.months;
    // Pairing by replicate compares the same residents month by month, so the
    // timeline and the population's slots must match the baseline's.
    for l in &loaded[1..] {
        let c = &l.config;
        let differs = [
            (
                c.months != base.months,
                "horizon",
                "use --years to set it for all",
            ),
            (
                c.burn_in_months != base.burn_in_months,
                "burn_in_months",
                "remove it from the scenario",
            ),
            (
                !c.population.same_households(&base.population),
                "population (residents, neighbourhoods or household make-up)",
                "remove those [population] fields from the scenario",
            ),
            (
                c.age_bands != base.age_bands,
                "population.age_band_cuts",
                "remove it from the scenario",
            ),
            (
                l.conventions != loaded[0].conventions,
                "money conventions ([economics] or start)",
                "set them in the baseline only",
            ),
        ];
        if let Some((_, what, fix)) = differs.iter().find(|d| d.0) {
            return Err(Failure::Input(format!(
                "scenario \"{}\" has a different {what} from the baseline \"{}\"; scenarios are compared resident by resident, so they must share it ({fix})",
                c.name, base.name
            )));
        }
    }
    check_memory(&loaded, &args)?;
    output::check_writable(&args.out).map_err(|e| Failure::Input(e.to_string()))?;

    let settings = RunSettings {
        replicates: args.replicates,
        seed: args.seed,
        threads: args.threads,
    };
    let configs: Vec<_> = loaded.iter().map(|l| l.config.clone()).collect();
    let jobs = configs.len() as u64 * args.replicates as u64;
    let bar = ProgressBar::with_draw_target(Some(jobs), ProgressDrawTarget::hidden());
    bar.set_style(
        ProgressStyle::with_template("{elapsed_precise} [{bar:40}] {pos}/{len} runs, {eta} left")
            .expect("valid template")
            .progress_chars("=> "),
    );
    let show_bar = !args.quiet && std::io::stderr().is_terminal();
    let started = Instant::now();
    let on_done = || {
        bar.inc(1);
        // Only runs that take a while get a bar.
        if show_bar && bar.is_hidden() && started.elapsed() > Duration::from_secs(2) {
            bar.set_draw_target(ProgressDrawTarget::stderr());
        }
    };
    let exp = experiment::run(&configs, &settings, &on_done)
        .map_err(|e| Failure::Fault(e.to_string()))?;
    bar.finish_and_clear();
    let elapsed = started.elapsed().as_secs_f64();

    let config_refs: Vec<&upstream::model::Config> = configs.iter().collect();
    let money: Vec<&[upstream::economics::InterventionMoney]> = loaded
        .iter()
        .map(|l| l.intervention_money.as_slice())
        .collect();
    let economics =
        upstream::economics::evaluate(&loaded[0].conventions, &config_refs, &money, &exp.scenarios);
    let info = RunInfo {
        economics: &economics,
        scenarios: &loaded,
        settings: &settings,
        threads: exp.threads,
        resident_months: exp.resident_months,
    };
    let mut files = output::render(&exp, &info).map_err(|e| Failure::Fault(e.to_string()))?;
    if !args.no_report {
        // The report reads the files just rendered, exactly as
        // `upstream report` reads them from disk, and lands with them.
        let source = |name: &str| {
            files
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, b)| b.clone())
                .ok_or_else(|| std::io::Error::from(std::io::ErrorKind::NotFound))
        };
        match build_report(&source, args.quiet) {
            Ok(report) => files.extend(report),
            Err(e) => {
                // Keep the results of a long run even if its report fails.
                output::write(&args.out, &files).map_err(|e| Failure::Input(e.to_string()))?;
                return Err(Failure::Fault(format!(
                    "the results are written to {}, but the report could not be built: {e}",
                    args.out.display()
                )));
            }
        }
    }
    let written = output::write(&args.out, &files).map_err(|e| Failure::Input(e.to_string()))?;
    let charts = upstream::report::CHARTS_DIR;
    let mut shown: Vec<String> = written
        .into_iter()
        .filter(|n| !n.starts_with(charts))
        .collect();
    if !args.no_report {
        shown.push(format!("{charts}/"));
    }
    if !args.quiet {
        let names: Vec<&str> = loaded.iter().map(|l| l.config.name.as_str()).collect();
        print!("{}", output::table::render(&exp, &names, &economics));
        println!(
            "\nMoney at {} prices over {} years. Net saving is undiscounted; net present value is discounted ({}) with optimism bias, and ROI is its ratio to the investment's present value; payback is the first month discounted savings exceed discounted investment. Bands are 5th to 95th percentiles across {} replicates.",
            economics.conventions.price_base_label(),
            months / 12,
            economics.conventions.discount.name,
            args.replicates
        );
        println!("Wrote {} to {}", shown.join(", "), args.out.display());
        eprintln!(
            "Simulated {:.2} billion resident-months in {:.1} s on {} {}: {:.0} million resident-months a second.",
            exp.resident_months as f64 / 1e9,
            elapsed,
            exp.threads,
            if exp.threads == 1 {
                "thread"
            } else {
                "threads"
            },
            exp.resident_months as f64 / elapsed / 1e6
        );
    }
    Ok(())
}
