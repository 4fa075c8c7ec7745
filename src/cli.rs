//! Command-line definitions. Parsed arguments become plain settings values;
//! nothing after this module sees raw arguments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use upstream::experiments::{self as ex, How};

#[derive(Parser, Debug)]
#[command(
    name = "upstream",
    version,
    about = "Simulate a place's residents and services to compare prevention against reactive demand."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run scenarios against a baseline and write the results.
    ///
    /// With no scenario, runs the bundled default comparison: the baseline
    /// borough and each bundled intervention scenario.
    Run(RunArgs),
    /// Put a run's or an experiment's shards back together (the parts
    /// `upstream run --shard`, `upstream sweep --shard` and the like wrote,
    /// or the folders holding them) and write its files, the same, byte for
    /// byte, as it would unsharded: the parts are checked to be every shard
    /// of one run, once each.
    Merge(MergeArgs),
    /// Rebuild the charts and report.html from an existing output folder,
    /// without re-running the simulation.
    Report {
        /// The output folder of an earlier `upstream run`.
        dir: PathBuf,
        /// No progress bar and no summary line: only errors.
        #[arg(long, short = 'q')]
        quiet: bool,
    },
    /// Write a scenario for your own place from its neighbourhoods (a CSV
    /// with the columns neighbourhood, imd_decile and residents) and, if you
    /// know them, last year's counts; it extends the bundled baseline.
    NewPlace(NewPlaceArgs),
    /// Ranges from a place's own experts: each expert's median and
    /// quartiles or 90% range for a number (a CSV of parameter, expert, p5,
    /// p25, median, p75, p95), fitted, pooled with equal weights and
    /// written into a scenario that extends the one they were asked about,
    /// each with its range, distribution and source, for `upstream run
    /// --uncertainty`.
    Elicit(ElicitArgs),
    /// Which assumptions decide the answer: each uncertain parameter at
    /// the low and then the high end of its range, every other at its
    /// value, the comparison run again with the same luck; writes
    /// sensitivity.csv, the central comparison's files and a report whose
    /// section "the assumptions that decide this result" has a tornado
    /// chart per scenario, and prints the largest effects on each
    /// scenario's net present value.
    Sensitivity(SensitivityArgs),
    /// How strong each effect (or how high engagement) must be for a
    /// scenario to pay back, every other assumption as stated: each lever
    /// of each intervention the scenario changes, from no effect to twice
    /// its stated change, with the same luck; writes break_even.csv and
    /// prints a sentence for each.
    BreakEven(BreakEvenArgs),
    /// Run the comparison again at each point of a grid over one or two
    /// numbers of the scenarios (a budget, an effect, engagement), the same
    /// luck at every point; writes sweep.csv and charts of net present
    /// value and crisis-months avoided (a heat map for two numbers). An
    /// interrupted sweep, run again into the same folder, resumes.
    Sweep(SweepArgs),
    /// Fit a scenario's uncertain parameters to a place's observed counts
    /// (a CSV of metric, period and count), by approximate Bayesian
    /// computation: candidates drawn from the parameters' ranges, each run
    /// (a batch of 32 on a luck of its own), the closest kept. Writes calibrated.toml (the
    /// scenario extended with the fitted ranges, for `upstream run
    /// --uncertainty`), calibration.csv, candidates.csv, fit.csv and a fit
    /// chart per metric.
    Calibrate(CalibrateArgs),
    /// Set an earlier run's projection beside the counts a place has
    /// observed since (a CSV of metric, period and count): where and when
    /// they leave the projection's band, and which assumptions would have
    /// to move to close the gap. Writes review.csv, levers.csv and a chart
    /// per metric.
    Review(ReviewArgs),
    /// Split a prevention budget: every split of the budget a scenario's
    /// [optimise] table states across its levers (interventions and the
    /// neighbourhoods they reach), within its payers' limits and minimum
    /// per neighbourhood, run against the baseline with the same luck; the
    /// best by net present value or crisis-months avoided at each share of
    /// the budget (the frontier), and how often it stays best replicate by
    /// replicate. Writes splits.csv, frontier.csv, frontier charts and a
    /// page, report.html. With no scenarios, the bundled prevention
    /// portfolio against the bundled baseline.
    Optimise(OptimiseArgs),
    /// The learning simulation for academy cohorts, in the browser: starts
    /// a web server where a facilitator sets up a game from a scenario with
    /// an [optimise] table, teams join with a code and split a budget each
    /// round, and everyone sees the consequences within seconds. Games are
    /// kept in a SQLite database, so stopping the server loses nothing.
    Serve(ServeArgs),
    /// Check scenario files without running them.
    Check {
        /// Scenario files to check.
        #[arg(required = true)]
        scenarios: Vec<PathBuf>,
        /// Treat warnings (implausible values) as errors.
        #[arg(long)]
        strict: bool,
    },
}

/// What a comparison runs: its scenarios, seed, threads and horizon.
#[derive(Args, Debug)]
pub struct Compared {
    /// Scenario files. The first is the baseline unless --baseline is given;
    /// with none, the bundled default comparison.
    pub scenarios: Vec<PathBuf>,
    /// The baseline scenario every other scenario is compared with.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Master seed: the same seed gives the same results, byte for byte.
    #[arg(long, default_value_t = upstream::app::DEFAULT_SEED, value_name = "S")]
    pub seed: u64,
    /// Worker threads (default: one per core). Results do not depend on it.
    #[arg(long, short = 'j', value_name = "N")]
    pub threads: Option<usize>,
    /// Horizon in years, overriding every scenario's own.
    #[arg(long, value_name = "N")]
    pub years: Option<u32>,
    /// Progress as lines on standard error ("progress 3 32"), for the
    /// workbench's server, which runs each design with this command.
    #[arg(long, hide = true)]
    pub progress_lines: bool,
}

impl Compared {
    /// The comparison with `replicates` each.
    pub fn settings(self, replicates: u32) -> ex::Compared {
        ex::Compared {
            scenarios: self.scenarios,
            baseline: self.baseline,
            seed: self.seed,
            replicates,
            years: self.years,
        }
    }
}

#[derive(Args, Debug)]
pub struct RunArgs {
    #[command(flatten)]
    pub compared: Compared,
    /// Stochastic replicates per scenario.
    #[arg(long, short = 'r', default_value_t = upstream::app::DEFAULT_REPLICATES, value_name = "N")]
    pub replicates: u32,
    /// Folder for the output files.
    #[arg(long, short = 'o', default_value = "out", value_name = "DIR")]
    pub out: PathBuf,
    /// No progress bar and no table: only errors.
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Refuse a run estimated to need more memory than this (for example
    /// 8G or 500M); by default, the memory the machine has available.
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub memory_limit: Option<u64>,
    /// Skip the charts and report.html (faster); any from an earlier run
    /// in the folder are removed, since they would describe other numbers.
    #[arg(long)]
    pub no_report: bool,
    /// Treat warnings (implausible values, such as an effect of ×60 or a
    /// budget that funds less than one case) as errors.
    #[arg(long)]
    pub strict: bool,
    /// Draw each replicate's own values of the uncertain parameters (their
    /// `range`s, or the `[uncertainty]` table's default widths), shared by
    /// every scenario, so bands cover the assumptions as well as chance.
    /// The same replicates also run with every parameter at its value, to
    /// split the net present value's variance between the two.
    #[arg(long)]
    pub uncertainty: bool,
    /// Simulate the place at a Kth of its size, each simulated resident
    /// standing for K of its residents, and every count and pound
    /// multiplied back by K: about K times faster, for runs of many draws,
    /// with each replicate's chance about √K times as wide (see
    /// docs/PERFORMANCE.md). 1, the default, simulates every resident.
    #[arg(long, value_name = "K", default_value_t = 1)]
    pub scale: u32,
    /// Run only shard K of N (from 1), such as 3/8: every Nth replicate,
    /// for a batch scheduler's job array. Writes the part
    /// shard-K-of-N.part into --out, to be put together by `upstream
    /// merge`.
    #[arg(long, value_name = "K/N", value_parser = parse_shard)]
    pub shard: Option<upstream::replicates::Shard>,
    /// Run every scenario in every place of this places table (a CSV with
    /// the columns place, region, residents and decile_1 to decile_10, and
    /// optionally last year's activity), each with its own residents,
    /// deprivation and rates; writes places.csv with each place's, each
    /// region's and all places' figures.
    #[arg(long, value_name = "FILE")]
    pub places: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct MergeArgs {
    /// Part files, or folders of them (their files ending .part).
    #[arg(required = true, value_name = "PARTS")]
    pub parts: Vec<PathBuf>,
    /// Folder for the output files (not the folder of the parts).
    #[arg(long, short = 'o', default_value = "out", value_name = "DIR")]
    pub out: PathBuf,
    /// No progress bar and no table: only errors.
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Skip the charts and report.html (a run's; an experiment writes what
    /// it writes unsharded).
    #[arg(long)]
    pub no_report: bool,
}

fn parse_shard(text: &str) -> Result<upstream::replicates::Shard, String> {
    upstream::shard::parse_shard(text).map_err(|e| e.to_string())
}

#[derive(Args, Debug)]
pub struct SensitivityArgs {
    #[command(flatten)]
    pub compared: Compared,
    /// Stochastic replicates of each comparison.
    #[arg(long, short = 'r', default_value_t = 8, value_name = "N")]
    pub replicates: u32,
    /// Folder for sensitivity.csv, the central comparison's files and the
    /// report with the assumptions that decide each result.
    #[arg(
        long,
        short = 'o',
        default_value = "out-sensitivity",
        value_name = "DIR"
    )]
    pub out: PathBuf,
    /// Parameters to list per scenario in the terminal (the files have
    /// all; the charts and report show the 10 largest).
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub top: usize,
    /// No progress bar and no table: only errors.
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Refuse a run estimated to need more memory than this.
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub memory_limit: Option<u64>,
    /// Vary only the uncertain parameters whose names start with this
    /// (such as `interventions.hubs` or `events.`); may be given more than
    /// once. By default, every one.
    #[arg(long, value_name = "PREFIX")]
    pub only: Vec<String>,
    /// Also screen every uncertain parameter by Morris's method with this
    /// many trajectories (each trajectory runs the comparison once per
    /// parameter and once more); writes morris.csv and a Morris chart per
    /// scenario.
    #[arg(long, value_name = "TRAJECTORIES", value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub morris: Option<u32>,
    /// Run only shard K of N (from 1), such as 3/8: every Nth of the
    /// experiment's replicates, for a batch scheduler's job array. Writes
    /// the part shard-K-of-N.part into --out, to be put together by
    /// `upstream merge`.
    #[arg(long, value_name = "K/N", value_parser = parse_shard)]
    pub shard: Option<upstream::replicates::Shard>,
}

#[derive(Args, Debug)]
pub struct BreakEvenArgs {
    #[command(flatten)]
    pub compared: Compared,
    /// Stochastic replicates at each point of each lever's grid.
    #[arg(long, short = 'r', default_value_t = 8, value_name = "N")]
    pub replicates: u32,
    /// Draw each replicate's own values of the other uncertain parameters
    /// (the present held, as a run holds it), shared by every point of the
    /// grid and the baseline, so the band covers the assumptions as well as
    /// chance.
    #[arg(long)]
    pub uncertainty: bool,
    /// Folder for break_even.csv.
    #[arg(
        long,
        short = 'o',
        default_value = "out-break-even",
        value_name = "DIR"
    )]
    pub out: PathBuf,
    /// No progress bar and no table: only errors.
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Refuse a run estimated to need more memory than this.
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub memory_limit: Option<u64>,
    /// Run only shard K of N (from 1), such as 3/8: every Nth of the
    /// experiment's replicates, for a batch scheduler's job array. Writes
    /// the part shard-K-of-N.part into --out, to be put together by
    /// `upstream merge`.
    #[arg(long, value_name = "K/N", value_parser = parse_shard)]
    pub shard: Option<upstream::replicates::Shard>,
}

#[derive(Args, Debug)]
pub struct SweepArgs {
    #[command(flatten)]
    pub compared: Compared,
    /// A number to vary, as NAME=FROM:TO:POINTS (the name as assumptions.csv
    /// gives it; x0.5:x2:7 for multiples of the value each scenario
    /// states). Once or twice.
    #[arg(long, value_name = "NAME=FROM:TO:POINTS", required = true)]
    pub vary: Vec<String>,
    /// Stochastic replicates at each point.
    #[arg(long, short = 'r', default_value_t = 8, value_name = "N")]
    pub replicates: u32,
    /// Folder for sweep.csv, the charts and each point's kept results.
    #[arg(long, short = 'o', default_value = "out-sweep", value_name = "DIR")]
    pub out: PathBuf,
    /// No progress bar and no table: only errors.
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Refuse a run estimated to need more memory than this.
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub memory_limit: Option<u64>,
    /// Run only shard K of N (from 1), such as 3/8: every Nth of the
    /// experiment's replicates, for a batch scheduler's job array. Writes
    /// the part shard-K-of-N.part into --out, to be put together by
    /// `upstream merge`.
    #[arg(long, value_name = "K/N", value_parser = parse_shard)]
    pub shard: Option<upstream::replicates::Shard>,
}

/// What `upstream optimise` maximises.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum ObjectiveArg {
    /// Expected net present value against the baseline.
    Npv,
    /// Expected crisis-months avoided against the baseline.
    CrisisMonths,
}

#[derive(Args, Debug)]
pub struct OptimiseArgs {
    /// The baseline, then the scenario whose [optimise] table states the
    /// budget to split (--baseline may name the baseline instead).
    #[command(flatten)]
    pub compared: Compared,
    /// What the best split maximises.
    #[arg(long, value_enum, default_value = "npv")]
    pub objective: ObjectiveArg,
    /// Stochastic replicates of each split.
    #[arg(long, short = 'r', default_value_t = 8, value_name = "N")]
    pub replicates: u32,
    /// Draw each replicate's own values of the uncertain parameters, shared
    /// by every split, so the bands and how often the best stays best cover
    /// the assumptions as well as chance.
    #[arg(long)]
    pub uncertainty: bool,
    /// Folder for splits.csv, frontier.csv and the charts.
    #[arg(long, short = 'o', default_value = "out-optimise", value_name = "DIR")]
    pub out: PathBuf,
    /// No progress bar and no table: only errors.
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Refuse a run estimated to need more memory than this.
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub memory_limit: Option<u64>,
    /// Run only shard K of N (from 1), such as 3/8: every Nth of the
    /// experiment's replicates, for a batch scheduler's job array. Writes
    /// the part shard-K-of-N.part into --out, to be put together by
    /// `upstream merge`.
    #[arg(long, value_name = "K/N", value_parser = parse_shard)]
    pub shard: Option<upstream::replicates::Shard>,
}

#[derive(Args, Debug)]
pub struct CalibrateArgs {
    /// The scenario to calibrate: the place's baseline.
    pub scenario: PathBuf,
    /// The place's observed counts: a CSV with the columns metric (as
    /// timeseries.csv names it), period (a month, 2026-07, or a financial
    /// year, 2026/27) and count, and optionally source.
    #[arg(long, value_name = "CSV")]
    pub observed: PathBuf,
    /// Candidate parameter sets drawn from the ranges (in each
    /// generation).
    #[arg(long, default_value_t = 200, value_name = "N")]
    pub candidates: u32,
    /// The closest candidates kept as the posterior (at least 10).
    #[arg(long, default_value_t = 20, value_name = "N")]
    pub accept: u32,
    /// Generations (sequential Monte Carlo, ABC-PMC): each after the first
    /// proposes its candidates around the last one's closest, so the runs
    /// go where the counts point. 1, the default, is rejection. More than
    /// one runs whole, not in shards.
    #[arg(long, default_value_t = 1, value_name = "G")]
    pub generations: u32,
    /// Fit only the uncertain parameters whose names start with PREFIX
    /// (repeatable); by default, every one.
    #[arg(long = "fit", value_name = "PREFIX")]
    pub fit: Vec<String>,
    /// Stochastic replicates of each candidate.
    #[arg(long, short = 'r', default_value_t = 4, value_name = "N")]
    pub replicates: u32,
    /// Master seed: the same seed gives the same candidates and results.
    #[arg(long, default_value_t = upstream::app::DEFAULT_SEED, value_name = "S")]
    pub seed: u64,
    /// Worker threads (default: one per core). Results do not depend on it.
    #[arg(long, short = 'j', value_name = "N")]
    pub threads: Option<usize>,
    /// Folder for the calibrated scenario, the CSVs and the charts.
    #[arg(long, short = 'o', default_value = "out-calibrate", value_name = "DIR")]
    pub out: PathBuf,
    /// No progress bar and no table: only errors.
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Refuse a run estimated to need more memory than this.
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub memory_limit: Option<u64>,
    /// Run only shard K of N (from 1), such as 3/8: every Nth of the
    /// experiment's replicates, for a batch scheduler's job array. Writes
    /// the part shard-K-of-N.part into --out, to be put together by
    /// `upstream merge`.
    #[arg(long, value_name = "K/N", value_parser = parse_shard)]
    pub shard: Option<upstream::replicates::Shard>,
}

#[derive(Args, Debug)]
pub struct ReviewArgs {
    /// The output folder of the earlier `upstream run`, run again from the
    /// folder it was made in (its scenario files are read where it read
    /// them, and checked).
    pub run: PathBuf,
    /// The counts observed since: a CSV with the columns metric, period and
    /// count, and optionally source, as for `upstream calibrate`.
    #[arg(long, value_name = "CSV")]
    pub observed: PathBuf,
    /// The scenario the place carried out (needed when the run has several).
    #[arg(long, value_name = "NAME")]
    pub scenario: Option<String>,
    /// Worker threads (default: one per core). Results do not depend on it.
    #[arg(long, short = 'j', value_name = "N")]
    pub threads: Option<usize>,
    /// Folder for review.csv, levers.csv and the charts.
    #[arg(long, short = 'o', default_value = "out-review", value_name = "DIR")]
    pub out: PathBuf,
    /// No progress bar and no table: only errors.
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Assumptions to list, the most gap closed first.
    #[arg(long, default_value_t = 8, value_name = "N")]
    pub top: usize,
}

#[derive(Args, Debug)]
pub struct ElicitArgs {
    /// The scenario the experts were asked about.
    pub scenario: PathBuf,
    /// Their judgements: a CSV of parameter, expert, median and the
    /// percentiles each gave (p5, p25, p75, p95).
    pub judgements: PathBuf,
    /// The scenario file to write (never replaces one).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub out: PathBuf,
    /// When the judgements were made (as 2026-12-10), for each range's
    /// source.
    #[arg(long, value_name = "DATE")]
    pub held_on: Option<String>,
    /// Write every range as this distribution (pert, lognormal, triangular
    /// or uniform) rather than the one closest to the experts' pool.
    #[arg(long, value_name = "SHAPE", value_parser = parse_shape)]
    pub distribution: Option<upstream::scenario::Shape>,
}

fn parse_shape(text: &str) -> Result<upstream::scenario::Shape, String> {
    upstream::scenario::Shape::parse(text)
        .ok_or_else(|| "expected pert, lognormal, triangular or uniform".to_string())
}

#[derive(Args, Debug)]
pub struct NewPlaceArgs {
    /// The place's name, as outputs will show it (default: the --place
    /// named).
    #[arg(long, required_unless_present = "place")]
    pub name: Option<String>,
    /// CSV of neighbourhoods: neighbourhood, imd_decile (1 most deprived to
    /// 10), residents.
    #[arg(
        long,
        value_name = "CSV",
        required_unless_present = "place",
        conflicts_with = "place"
    )]
    pub neighbourhoods: Option<PathBuf>,
    /// A place from a places table (--places): its residents laid out over
    /// its deprivation deciles as neighbourhoods, and its activity where the
    /// table gives it; figures given below take precedence.
    #[arg(long, value_name = "NAME")]
    pub place: Option<String>,
    /// The places table --place is read from (default: England's upper-tier
    /// authorities, scenarios/places/england.csv).
    #[arg(long, value_name = "CSV", requires = "place")]
    pub places: Option<PathBuf>,
    /// A&E attendances last year.
    #[arg(long, value_name = "N")]
    pub ae_attendances: Option<f64>,
    /// Unplanned (emergency) hospital admissions last year.
    #[arg(long, value_name = "N")]
    pub unplanned_admissions: Option<f64>,
    /// Children looked after, on a recent day.
    #[arg(long, value_name = "N")]
    pub looked_after_children: Option<f64>,
    /// Households in temporary accommodation, on a recent day.
    #[arg(long, value_name = "N")]
    pub households_in_temporary_accommodation: Option<f64>,
    /// Council-funded care-home residents, on a recent day.
    #[arg(long, value_name = "N")]
    pub care_home_residents: Option<f64>,
    /// The scenario to extend (default: the bundled baseline).
    #[arg(long, value_name = "FILE")]
    pub extends: Option<PathBuf>,
    /// The scenario file to write (never replaces one).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub out: PathBuf,
}

/// A facilitator key: 8 to 200 printable ASCII characters, no spaces.
fn parse_key(text: &str) -> Result<String, String> {
    let n = text.chars().count();
    if (8..=200).contains(&n) && text.chars().all(|c| c.is_ascii_graphic()) {
        Ok(text.to_string())
    } else {
        Err("expected a key of 8 to 200 letters, digits or punctuation, without spaces".into())
    }
}

/// A size in bytes, as 500M, 8G, 1.5GB or a plain number of bytes.
fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim().to_ascii_uppercase();
    let t = t.strip_suffix('B').unwrap_or(&t);
    let (number, unit) = match t.chars().last() {
        Some('K') => (&t[..t.len() - 1], 1u64 << 10),
        Some('M') => (&t[..t.len() - 1], 1 << 20),
        Some('G') => (&t[..t.len() - 1], 1 << 30),
        Some('T') => (&t[..t.len() - 1], 1 << 40),
        _ => (t, 1),
    };
    match number.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok((v * unit as f64) as u64),
        _ => Err(format!(
            "expected a size such as 500M or 8G, found \"{text}\""
        )),
    }
}

/// A command line that does not parse: help and the version as clap gives
/// them; anything else as one line, in Upstream's words, like every other
/// refusal (exit code 2).
pub fn argument_error(e: clap::Error) -> std::process::ExitCode {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    if matches!(
        e.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        let _ = e.print();
        return std::process::ExitCode::SUCCESS;
    }
    let context = |kind| match e.get(kind) {
        Some(ContextValue::String(s)) => Some(s.clone()),
        Some(ContextValue::Strings(v)) => Some(v.join(", ")),
        _ => None,
    };
    // The command (`upstream run`), for "see … --help", if one was named.
    let commands = <Cli as clap::CommandFactory>::command();
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
    std::process::ExitCode::from(2)
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(parse_size("500M"), Ok(500 << 20));
        assert_eq!(parse_size("8g"), Ok(8 << 30));
        assert_eq!(parse_size("1.5GB"), Ok(3 << 29));
        assert_eq!(parse_size("4096"), Ok(4096));
        assert!(parse_size("lots").is_err());
        assert!(parse_size("-1G").is_err());
    }
}

/// `upstream serve`.
#[derive(Args, Debug)]
pub struct ServeArgs {
    /// The port to listen on (0: any free port; the address is printed).
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// The address to listen on: 127.0.0.1 for this machine only, 0.0.0.0
    /// for every machine on a classroom network.
    #[arg(long, default_value = "127.0.0.1")]
    pub address: std::net::IpAddr,
    /// The games database, created if missing.
    #[arg(long, default_value = "upstream-games.sqlite", value_name = "FILE")]
    pub database: PathBuf,
    /// The facilitator key, which setting up a game needs (default: one
    /// made at start and printed).
    #[arg(long, value_name = "KEY", value_parser = parse_key)]
    pub key: Option<String>,
    /// The folder of scenarios a facilitator chooses from (default: the
    /// bundled scenarios, whichever folder the server starts in).
    #[arg(long, value_name = "DIR")]
    pub scenarios: Option<PathBuf>,
    /// The folder the workbench keeps its runs' files in, created if
    /// missing.
    #[arg(long, default_value = "upstream-runs", value_name = "DIR")]
    pub runs: PathBuf,
}

/// How an experiment's command runs it: where it writes, which shard, and
/// the memory and threads it may use.
fn how(
    out: PathBuf,
    shard: Option<upstream::replicates::Shard>,
    memory_limit: Option<u64>,
    threads: Option<usize>,
) -> How {
    How {
        out,
        shard,
        memory_limit,
        threads,
    }
}

impl SensitivityArgs {
    /// The sensitivity's settings, and how it runs.
    pub fn settings(self) -> (ex::sensitivity::Settings, How) {
        let how = how(
            self.out,
            self.shard,
            self.memory_limit,
            self.compared.threads,
        );
        let settings = ex::sensitivity::Settings {
            compared: self.compared.settings(self.replicates),
            top: self.top,
            only: self.only,
            morris: self.morris,
        };
        (settings, how)
    }
}

impl BreakEvenArgs {
    /// The break-even's settings, and how it runs.
    pub fn settings(self) -> (ex::break_even::Settings, How) {
        let how = how(
            self.out,
            self.shard,
            self.memory_limit,
            self.compared.threads,
        );
        let settings = ex::break_even::Settings {
            compared: self.compared.settings(self.replicates),
            uncertainty: self.uncertainty,
        };
        (settings, how)
    }
}

impl SweepArgs {
    /// The sweep's settings, and how it runs.
    pub fn settings(self) -> (ex::sweep::Settings, How) {
        let how = how(
            self.out,
            self.shard,
            self.memory_limit,
            self.compared.threads,
        );
        let settings = ex::sweep::Settings {
            compared: self.compared.settings(self.replicates),
            vary: self.vary,
        };
        (settings, how)
    }
}

impl OptimiseArgs {
    /// The optimisation's settings, and how it runs.
    pub fn settings(self) -> (ex::optimise::Settings, How) {
        use upstream::experiments::optimise::Objective;
        let how = how(
            self.out,
            self.shard,
            self.memory_limit,
            self.compared.threads,
        );
        let settings = ex::optimise::Settings {
            compared: self.compared.settings(self.replicates),
            objective: match self.objective {
                ObjectiveArg::Npv => Objective::Npv,
                ObjectiveArg::CrisisMonths => Objective::CrisisMonths,
            },
            uncertainty: self.uncertainty,
        };
        (settings, how)
    }
}

impl CalibrateArgs {
    /// The calibration's settings, and how it runs.
    pub fn settings(self) -> (ex::calibrate::Settings, How) {
        let how = how(self.out, self.shard, self.memory_limit, self.threads);
        let settings = ex::calibrate::Settings {
            scenario: self.scenario,
            observed: self.observed,
            candidates: self.candidates,
            accept: self.accept,
            fit: self.fit,
            replicates: self.replicates,
            seed: self.seed,
            generations: self.generations,
        };
        (settings, how)
    }
}

impl ReviewArgs {
    /// The review's settings, and how it runs.
    pub fn settings(self) -> (ex::review::Settings, How) {
        let how = how(self.out, None, None, self.threads);
        let settings = ex::review::Settings {
            run: self.run,
            observed: self.observed,
            scenario: self.scenario,
            top: self.top,
        };
        (settings, how)
    }
}
