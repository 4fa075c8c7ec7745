//! Command-line definitions. Parsed arguments become plain settings values;
//! nothing after this module sees raw arguments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

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
    /// Rebuild the charts and report.html from an existing output folder,
    /// without re-running the simulation.
    Report {
        /// The output folder of an earlier `upstream run`.
        dir: PathBuf,
        /// No progress bar and no summary line: only errors.
        #[arg(long, short = 'q')]
        quiet: bool,
    },
    /// Check scenario files without running them.
    Check {
        /// Scenario files to check.
        #[arg(required = true)]
        scenarios: Vec<PathBuf>,
    },
}

#[derive(Args, Debug)]
pub struct RunArgs {
    /// Scenario files. The first is the baseline unless --baseline is given.
    pub scenarios: Vec<PathBuf>,
    /// The baseline scenario every other scenario is compared with.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Stochastic replicates per scenario.
    #[arg(long, short = 'r', default_value_t = 16, value_name = "N")]
    pub replicates: u32,
    /// Master seed: the same seed gives the same results, byte for byte.
    #[arg(long, default_value_t = 20_260_401, value_name = "S")]
    pub seed: u64,
    /// Worker threads (default: one per core). Results do not depend on it.
    #[arg(long, short = 'j', value_name = "N")]
    pub threads: Option<usize>,
    /// Horizon in years, overriding every scenario's own.
    #[arg(long, value_name = "N")]
    pub years: Option<u32>,
    /// Folder for the output files.
    #[arg(long, short = 'o', default_value = "out", value_name = "DIR")]
    pub out: PathBuf,
    /// No progress bar and no table: only errors.
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Skip the charts and report.html (faster); any from an earlier run
    /// in the folder are removed, since they would describe other numbers.
    #[arg(long)]
    pub no_report: bool,
}
