//! A run split into shards, one per process or machine (a Slurm job array's
//! tasks, a Kubernetes Indexed Job's pods), and put back together.
//!
//! A shard runs its share of the replicates ([`Shard`]) and writes them to
//! a part file with everything needed to finish the run elsewhere: the
//! request, the text of every file its scenarios read, and the Upstream
//! version. [`merge`] checks that the parts belong to one run (the same
//! request, inputs and version; every shard once) and gives the outcome
//! the unsharded run gives, so its files are the same, byte for byte. It
//! reads the scenarios from the parts, not the disk, so a file edited
//! between the shards and the merge cannot slip in.
//!
//! A part file is four lines: a marker with the format's version, the
//! SHA-256 of everything after it, the header (JSON: the run, its inputs'
//! text, the shard) and the results (JSON: whole numbers, so nothing is
//! rounded on the way). The checksum covers the header too: a part whose
//! inputs were edited after it ran (a unit cost changed, so the merge would
//! publish assumptions its figures were not computed with) is refused as
//! damaged, naming it. It guards against accident and casual edits, not
//! against someone who recomputes it: parts are as trustworthy as the
//! machines that wrote them.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::app::{self, Outcome, Plan, Request, ShardResults};
use crate::region::{PlacesPartial, Region, RegionOutcome};
use crate::replicates::{AssembleError, Partial, Runs, Shard};

/// The first line of every part file.
const MARKER: &str = "upstream part 2";
/// How part files end.
pub const EXTENSION: &str = "part";

/// A part's file name: `shard-K-of-N.part`.
pub fn file_name(shard: Shard) -> String {
    format!("shard-{}-of-{}.{EXTENSION}", shard.index(), shard.count())
}

/// What makes a run the run it is: two parts merge only if this is the
/// same in both.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunKey {
    /// The Upstream version that ran the shard.
    pub upstream_version: String,
    /// The scenario files as the run named them, the baseline first.
    pub scenarios: Vec<String>,
    /// Stochastic replicates per scenario.
    pub replicates: u32,
    /// The master seed.
    pub seed: u64,
    /// The horizon given on the command line, if one.
    pub years: Option<u32>,
    /// Warnings refused as errors.
    pub strict: bool,
    /// Parameters drawn for each replicate.
    pub uncertainty: bool,
    /// Residents each simulated resident stands for.
    #[serde(default = "whole_place")]
    pub stands_for: u32,
    /// The places table, for a run over many places.
    pub places: Option<String>,
    /// The experiment, for an experiment's shard rather than a run's.
    pub experiment: Option<ExperimentKey>,
    /// The text of every file the scenarios read, by the path read.
    pub inputs: BTreeMap<String, String>,
}

/// An experiment's command and settings, as its shards ran it: two parts
/// merge only if these are the same.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExperimentKey {
    /// The command: `sweep`, `sensitivity`, `break-even`, `calibrate` or
    /// `optimise`.
    pub command: String,
    /// Its settings, by name, as JSON: everything but where it writes, how
    /// it reports, and the threads and memory it may use.
    pub settings: BTreeMap<String, serde_json::Value>,
}

impl RunKey {
    /// The key of an experiment's shard: the command `command` with
    /// `settings`, reading `inputs`.
    pub fn of_experiment(
        command: &str,
        settings: BTreeMap<String, serde_json::Value>,
        inputs: BTreeMap<String, String>,
    ) -> RunKey {
        RunKey {
            upstream_version: env!("CARGO_PKG_VERSION").into(),
            scenarios: Vec::new(),
            replicates: 0,
            seed: 0,
            years: None,
            strict: false,
            uncertainty: false,
            stands_for: 1,
            places: None,
            experiment: Some(ExperimentKey {
                command: command.into(),
                settings,
            }),
            inputs,
        }
    }
}

/// How a part names a file its run was given by its full path: from the
/// part's own folder, so a part carries no machine's folders, and merges
/// where it was written (or beside the same files elsewhere) as it ran.
const PART_FOLDER: &str = "<part folder>/";

impl RunKey {
    /// This key with every path (the scenarios, the places table, each
    /// kept file and each experiment setting) passed through `path`.
    fn with_paths(&self, path: &dyn Fn(&str) -> String) -> RunKey {
        fn walk(v: &serde_json::Value, path: &dyn Fn(&str) -> String) -> serde_json::Value {
            use serde_json::Value;
            match v {
                Value::String(s) => Value::String(path(s)),
                Value::Array(a) => Value::Array(a.iter().map(|v| walk(v, path)).collect()),
                Value::Object(o) => {
                    Value::Object(o.iter().map(|(k, v)| (k.clone(), walk(v, path))).collect())
                }
                v => v.clone(),
            }
        }
        RunKey {
            scenarios: self.scenarios.iter().map(|s| path(s)).collect(),
            places: self.places.as_deref().map(path),
            experiment: self.experiment.as_ref().map(|e| ExperimentKey {
                command: e.command.clone(),
                settings: e
                    .settings
                    .iter()
                    .map(|(k, v)| (k.clone(), walk(v, path)))
                    .collect(),
            }),
            inputs: self
                .inputs
                .iter()
                .map(|(k, text)| (path(k), text.clone()))
                .collect(),
            ..self.clone()
        }
    }

    /// This key as a part in the folder `dir` stores it: each full path
    /// named from that folder.
    fn stored_in(&self, dir: &Path) -> RunKey {
        let dir = crate::output::absolute_by_name(dir);
        self.with_paths(&|p| {
            if Path::new(p).is_absolute() {
                let from_part = crate::output::relative(Path::new(p), &dir);
                format!("{PART_FOLDER}{}", from_part.display())
            } else {
                p.to_string()
            }
        })
    }

    /// A key read from a part in the folder `dir`, its paths full again.
    fn read_in(&self, dir: &Path) -> RunKey {
        let dir = crate::output::absolute_by_name(dir);
        self.with_paths(&|p| match p.strip_prefix(PART_FOLDER) {
            Some(rest) => crate::output::absolute_by_name(&dir.join(rest))
                .to_string_lossy()
                .into_owned(),
            None => p.to_string(),
        })
    }

    /// The request this run answers.
    fn request(&self) -> Request {
        Request {
            scenarios: self.scenarios.iter().map(PathBuf::from).collect(),
            replicates: self.replicates,
            seed: self.seed,
            threads: None,
            years: self.years,
            strict: self.strict,
            uncertainty: self.uncertainty,
            stands_for: self.stands_for,
        }
    }

    /// The first thing that differs from `other`, in words, if anything.
    fn differs_from(&self, other: &RunKey) -> Option<String> {
        // Quoted short: a part's header is anyone's text.
        let say = |what: &str, a: &dyn std::fmt::Display, b: &dyn std::fmt::Display| {
            let q = |v: &dyn std::fmt::Display| crate::input::reason(&v.to_string());
            Some(format!("{} {}, not {}", q(&what), q(a), q(b)))
        };
        let opt = |y: Option<u32>| y.map_or("(each scenario's own)".into(), |y| y.to_string());
        if self.upstream_version != other.upstream_version {
            return say(
                "was made by Upstream",
                &self.upstream_version,
                &other.upstream_version,
            );
        }
        match (&self.experiment, &other.experiment) {
            (None, None) => {}
            (Some(a), Some(b)) if a.command != b.command => {
                return say(
                    "is a shard of",
                    &format!("`upstream {}`", a.command),
                    &format!("`upstream {}`", b.command),
                );
            }
            (Some(a), Some(b)) => {
                let names = a.settings.keys().chain(b.settings.keys());
                for n in names {
                    let (x, y) = (a.settings.get(n), b.settings.get(n));
                    if x != y {
                        let show = |v: Option<&serde_json::Value>| {
                            v.map_or("(none)".into(), |v| v.to_string())
                        };
                        return say(&format!("has {n}"), &show(x), &show(y));
                    }
                }
            }
            (a, _) => {
                let what = |e: &Option<ExperimentKey>| match e {
                    Some(e) => format!("`upstream {}`", e.command),
                    None => "`upstream run`".into(),
                };
                return say("is a shard of", &what(a), &what(&other.experiment));
            }
        }
        if self.scenarios != other.scenarios {
            return say(
                "runs the scenarios",
                &self.scenarios.join(" "),
                &other.scenarios.join(" "),
            );
        }
        if self.seed != other.seed {
            return say("has seed", &self.seed, &other.seed);
        }
        if self.replicates != other.replicates {
            return say("has replicates", &self.replicates, &other.replicates);
        }
        if self.years != other.years {
            return say("has --years", &opt(self.years), &opt(other.years));
        }
        if self.uncertainty != other.uncertainty {
            return say("has --uncertainty", &self.uncertainty, &other.uncertainty);
        }
        if self.stands_for != other.stands_for {
            return say("has --scale", &self.stands_for, &other.stands_for);
        }
        if self.strict != other.strict {
            return say("has --strict", &self.strict, &other.strict);
        }
        if self.places != other.places {
            let or_none = |p: &Option<String>| p.clone().unwrap_or("(none)".into());
            return say(
                "has --places",
                &or_none(&self.places),
                &or_none(&other.places),
            );
        }
        let files = self.inputs.keys().chain(other.inputs.keys());
        for f in files {
            if self.inputs.get(f) != other.inputs.get(f) {
                return Some(format!("read a different {}", crate::input::reason(f)));
            }
        }
        None
    }
}

/// A part file's second line.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Header {
    run: RunKey,
    shard: Shard,
    /// Wall-clock seconds the shard's simulation took.
    seconds: f64,
}

/// One shard's part, as read.
#[derive(Debug)]
pub struct Part {
    /// The file it was read from.
    pub file: PathBuf,
    /// The run it belongs to.
    pub run: RunKey,
    /// Which shard it is.
    pub shard: Shard,
    /// Wall-clock seconds its simulation took.
    pub seconds: f64,
    /// Its replicates.
    pub results: PartResults,
}

/// What a shard ran: its share of a run's replicates, or of each of an
/// experiment's runs.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum PartResults {
    /// A run's ([`Plan::run_shard`], [`Region::run_shard`]).
    Run(ShardResults),
    /// An experiment's, run by run ([`Runs::into_kept`]).
    Experiment(Vec<Partial>),
    /// A run over many places', each place's replicate cut down to its
    /// figures ([`Region::run_shard`]).
    Places(PlacesPartial),
}

impl PartResults {
    /// Scenario replicates run.
    pub fn replicates(&self) -> usize {
        match self {
            PartResults::Run(r) => {
                r.run.results.len() + r.central.as_ref().map_or(0, |c| c.results.len())
            }
            PartResults::Experiment(runs) => runs.iter().map(|p| p.results.len()).sum(),
            PartResults::Places(p) => p.replicates.iter().map(|x| x.figures.len()).sum(),
        }
    }
}

/// Anything that stops a shard or a merge: its parts, a run over places,
/// or the pipeline under them.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The pipeline's.
    #[error(transparent)]
    App(#[from] app::Error),
    /// A run over many places'.
    #[error(transparent)]
    Region(#[from] crate::region::Error),
    /// The parts' own.
    #[error(transparent)]
    Shard(#[from] ShardError),
}

app::through_app!(Error);

impl From<crate::region::RegionError> for Error {
    fn from(e: crate::region::RegionError) -> Error {
        crate::region::Error::from(e).into()
    }
}

/// Parts that cannot be written, read or merged.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ShardError {
    /// `--shard` not of the form K/N with 1 ≤ K ≤ N.
    #[error(
        "--shard must be K/N, shard K (from 1) of N shards, with 1 ≤ K ≤ N ≤ {max}, not \"{0}\"",
        max = Shard::MAX
    )]
    BadShard(String),
    /// A merge given no parts.
    #[error("no part files given (or none ending .{EXTENSION} in the folders given)")]
    NoParts,
    /// A file or folder that cannot be read or written.
    #[error("cannot {doing} {}: {source}", path.display())]
    Io {
        /// Reading or writing.
        doing: &'static str,
        /// The file or folder.
        path: PathBuf,
        /// Why the system refused.
        source: std::io::Error,
    },
    /// A file that is not an Upstream part.
    #[error("{} is not a part written by an `upstream` command run with --shard (its first line is not \"{MARKER}\")", .0.display())]
    NotAPart(PathBuf),
    /// A part that is damaged or cut short.
    #[error("{} is damaged or cut short ({reason}); run its shard again", file.display())]
    Damaged {
        /// The part.
        file: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A part of another run.
    #[error("{} belongs to another run: it {what} (as in {})", file.display(), first.display())]
    Foreign {
        /// The part that does not belong.
        file: PathBuf,
        /// The first part, which the others are held to.
        first: PathBuf,
        /// What differs.
        what: String,
    },
    /// The same shard given twice.
    #[error("shard {} of {} is given twice: {} and {}", shard.index(), shard.count(), first.display(), second.display())]
    Duplicate {
        /// The shard.
        shard: Shard,
        /// One file.
        first: PathBuf,
        /// The other.
        second: PathBuf,
    },
    /// Shards not given.
    #[error("{}", missing_message(missing, *count))]
    Missing {
        /// Their numbers.
        missing: Vec<u32>,
        /// Shards in all.
        count: u32,
    },
    /// Parts whose replicates do not make up the run.
    #[error("the parts do not make up the run: {0}")]
    Assemble(#[from] AssembleError),
}

/// A part written before runs could be scaled simulated the place itself.
fn whole_place() -> u32 {
    1
}

fn missing_message(missing: &[u32], count: u32) -> String {
    let one = missing.len() == 1;
    let names: Vec<String> = missing
        .iter()
        .take(10)
        .map(|&k| file_name(Shard::new(k, count).expect("in range")))
        .collect();
    format!(
        "{} {} of {count} {} missing; run {} with --shard K/{count} (expected {}{})",
        if one { "shard" } else { "shards" },
        list(missing),
        if one { "is" } else { "are" },
        if one { "it" } else { "them" },
        names.join(", "),
        if missing.len() > 10 { ", …" } else { "" }
    )
}

/// "1, 3 and 4" (the first ten, then how many more).
fn list(numbers: &[u32]) -> String {
    let shown: Vec<String> = numbers.iter().take(10).map(u32::to_string).collect();
    let more = numbers.len().saturating_sub(10);
    match (shown.len(), more) {
        (1, _) => shown[0].clone(),
        (n, 0) => format!("{} and {}", shown[..n - 1].join(", "), shown[n - 1]),
        (_, more) => format!("{} and {more} more", shown.join(", ")),
    }
}

/// Parses `K/N`.
pub fn parse_shard(text: &str) -> Result<Shard, ShardError> {
    let bad = || ShardError::BadShard(text.to_string());
    let (k, n) = text.split_once('/').ok_or_else(bad)?;
    let (k, n) = (
        k.trim().parse().map_err(|_| bad())?,
        n.trim().parse().map_err(|_| bad())?,
    );
    Shard::new(k, n).ok_or_else(bad)
}

/// What a shard runs: one place's scenarios, or every place's.
#[derive(Debug)]
pub enum Work {
    /// One place's scenarios ([`Plan`]).
    Plan(Plan),
    /// Many places' ([`Region`]).
    Region(Region),
}

impl Work {
    /// Sets up `request` (over the places table `places`, if given),
    /// reading every file through `read`.
    pub fn new_through(
        request: &Request,
        places: Option<&Path>,
        read: &(dyn Fn(&Path) -> std::io::Result<String> + Sync),
    ) -> Result<Work, Error> {
        Ok(match places {
            None => Work::Plan(Plan::new_through(request, read)?),
            Some(t) => Work::Region(Region::new_through(request, t, read)?),
        })
    }

    /// Refuses, before anything is allocated, a run (or one of `shards`
    /// shards of it) that would not fit in `limit` bytes (or the memory
    /// this machine has available).
    pub fn check_memory(&self, limit: Option<u64>, shards: u32) -> Result<(), Error> {
        match self {
            Work::Plan(p) => Ok(p.check_memory(limit)?),
            Work::Region(r) => Ok(r.check_memory(limit, r.places[0].plan.threads(), shards)?),
        }
    }

    /// Every scenario's warnings, each with its place in a run over many.
    pub fn warnings(&self) -> Vec<String> {
        let of = |p: &Plan, place: Option<&str>| -> Vec<String> {
            p.scenarios()
                .iter()
                .flat_map(|l| &l.warnings)
                .map(|w| match place {
                    Some(place) => format!("{place}: {w}"),
                    None => w.to_string(),
                })
                .collect()
        };
        match self {
            Work::Plan(p) => of(p, None),
            Work::Region(r) => r
                .places
                .iter()
                .flat_map(|p| of(&p.plan, Some(&p.name)))
                .collect(),
        }
    }

    /// Replicates to run in all.
    pub fn jobs(&self) -> u64 {
        match self {
            Work::Plan(p) => p.jobs(),
            Work::Region(r) => r.jobs(),
        }
    }

    /// One shard's share.
    pub fn run_shard(
        &self,
        shard: Shard,
        on_done: &(dyn Fn() + Sync),
    ) -> Result<PartResults, Error> {
        Ok(match self {
            Work::Plan(p) => PartResults::Run(p.run_shard(shard, on_done)?),
            Work::Region(r) => PartResults::Places(r.run_shard(shard, on_done)?),
        })
    }

    /// The outcome from every shard's results (each `(file, results)`).
    pub fn put_together(
        self,
        shards: Vec<(PathBuf, PartResults)>,
        seconds: f64,
    ) -> Result<Finished, ShardError> {
        Ok(match self {
            Work::Plan(p) => {
                let runs = of_kind(shards, |r| match r {
                    PartResults::Run(r) => Some(r),
                    _ => None,
                })?;
                Finished::Plan(Box::new(p.put_together(runs, seconds)?))
            }
            Work::Region(region) => {
                let places = of_kind(shards, |r| match r {
                    PartResults::Places(r) => Some(r),
                    _ => None,
                })?;
                Finished::Region(region.put_together(places, seconds)?)
            }
        })
    }
}

/// Each part's results, taken by `kind`, or an error naming the first part
/// whose results are not of that kind (a part whose header and results
/// disagree).
fn of_kind<T>(
    parts: Vec<(PathBuf, PartResults)>,
    kind: fn(PartResults) -> Option<T>,
) -> Result<Vec<T>, ShardError> {
    parts
        .into_iter()
        .map(|(file, r)| {
            kind(r).ok_or_else(|| ShardError::Damaged {
                file,
                reason: "its results are not of the kind its header says".into(),
            })
        })
        .collect()
}

/// A finished run: one place's, or many places'.
#[derive(Debug)]
pub enum Finished {
    /// One place's scenarios.
    Plan(Box<Outcome>),
    /// Many places'.
    Region(RegionOutcome),
}

impl Finished {
    /// Resident-months simulated, burn-in included.
    pub fn resident_months(&self) -> u64 {
        match self {
            Finished::Plan(o) => o.experiment.resident_months,
            Finished::Region(r) => r.resident_months(),
        }
    }

    /// Seconds of simulation.
    pub fn seconds(&self) -> f64 {
        match self {
            Finished::Plan(o) => o.seconds,
            Finished::Region(r) => r.seconds,
        }
    }
}

/// Sets up `request` as [`Work::new_through`] does from the disk, keeping
/// the text of every file it reads, for a part file.
pub fn plan_keeping_inputs(
    request: &Request,
    places: Option<&Path>,
) -> Result<(Work, RunKey), Error> {
    let mut request = request.clone();
    if request.scenarios.is_empty() {
        // Named, so the merge need not find the bundled folder again.
        request.scenarios = app::bundled();
    }
    let inputs = Inputs::keeping();
    let work = Work::new_through(&request, places, &|p| inputs.read(p))?;
    let key = RunKey {
        upstream_version: env!("CARGO_PKG_VERSION").into(),
        scenarios: request
            .scenarios
            .iter()
            .map(|p| p.to_string_lossy().into_owned())
            .collect(),
        replicates: request.replicates,
        seed: request.seed,
        years: request.years,
        strict: request.strict,
        uncertainty: request.uncertainty,
        stands_for: request.stands_for,
        places: places.map(|p| p.to_string_lossy().into_owned()),
        experiment: None,
        inputs: inputs.into_kept(),
    };
    Ok((work, key))
}

/// Where a run or an experiment reads its files: the disk; the disk,
/// keeping the text of each file read, for a shard's part; or the parts,
/// for their merge, so a file edited between the shards and the merge
/// cannot slip in.
#[derive(Debug)]
pub struct Inputs(Reading);

#[derive(Debug)]
enum Reading {
    Disk,
    Keeping(Mutex<BTreeMap<String, String>>),
    Kept(BTreeMap<String, String>),
}

impl Inputs {
    /// Files read from the disk.
    pub fn disk() -> Inputs {
        Inputs(Reading::Disk)
    }

    /// Files read from the disk, each one's text kept.
    pub fn keeping() -> Inputs {
        Inputs(Reading::Keeping(Mutex::default()))
    }

    /// Files read from the text the shards kept.
    pub fn kept(texts: BTreeMap<String, String>) -> Inputs {
        Inputs(Reading::Kept(texts))
    }

    /// The text of the file at `path`.
    pub fn read(&self, path: &Path) -> std::io::Result<String> {
        match &self.0 {
            Reading::Disk => crate::input::read(path),
            Reading::Keeping(kept) => {
                let text = crate::input::read(path)?;
                kept.lock()
                    .expect("not poisoned")
                    .insert(path.to_string_lossy().into_owned(), text.clone());
                Ok(text)
            }
            Reading::Kept(texts) => texts
                .get(path.to_string_lossy().as_ref())
                .or_else(|| {
                    // A full path a scenario's text names, as the part
                    // named it (see `RunKey::read_in`).
                    let by_name = crate::output::absolute_by_name(path);
                    path.is_absolute()
                        .then(|| texts.get(by_name.to_string_lossy().as_ref()))
                        .flatten()
                })
                .cloned()
                .ok_or_else(|| {
                    std::io::Error::new(
                        std::io::ErrorKind::NotFound,
                        "the shards did not read it, so the merge cannot",
                    )
                }),
        }
    }

    /// Every file's text, by the path read, if kept.
    pub fn into_kept(self) -> BTreeMap<String, String> {
        match self.0 {
            Reading::Disk => BTreeMap::new(),
            Reading::Keeping(kept) => kept.into_inner().expect("not poisoned"),
            Reading::Kept(texts) => texts,
        }
    }
}

/// Writes a shard's part into the folder `dir` (made if missing), in one
/// step: a part is whole or absent. Returns its path.
pub fn write_part(
    dir: &Path,
    run: &RunKey,
    shard: Shard,
    seconds: f64,
    results: &PartResults,
) -> Result<PathBuf, ShardError> {
    let io = |doing, path: &Path| {
        let path = path.to_path_buf();
        move |source| ShardError::Io {
            doing,
            path,
            source,
        }
    };
    let header = Header {
        run: run.stored_in(dir),
        shard,
        seconds,
    };
    let mut sealed = serde_json::to_vec(&header).expect("plain data");
    sealed.push(b'\n');
    sealed.extend(serde_json::to_vec(results).expect("plain data"));
    sealed.push(b'\n');
    let mut bytes = format!("{MARKER}\n{}\n", hex(&Sha256::digest(&sealed))).into_bytes();
    bytes.extend(sealed);
    fs::create_dir_all(dir).map_err(io("create", dir))?;
    let path = dir.join(file_name(shard));
    let temp = dir.join(format!(".{}.{}.tmp", file_name(shard), std::process::id()));
    let written = fs::File::create(&temp).and_then(|mut f| {
        f.write_all(&bytes)?;
        f.sync_all()
    });
    if let Err(e) = written.and_then(|()| fs::rename(&temp, &path)) {
        let _ = fs::remove_file(&temp);
        return Err(io("write", &path)(e));
    }
    Ok(path)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Reads a part file.
pub fn read_part(file: &Path) -> Result<Part, ShardError> {
    let bytes =
        crate::input::read_bytes(file, crate::input::MAX_WRITTEN_BYTES).map_err(|source| {
            ShardError::Io {
                doing: "read",
                path: file.to_path_buf(),
                source,
            }
        })?;
    let damaged = |reason: String| ShardError::Damaged {
        file: file.to_path_buf(),
        reason,
    };
    let mut lines = bytes.splitn(3, |&b| b == b'\n');
    if lines.next() != Some(MARKER.as_bytes()) {
        return Err(ShardError::NotAPart(file.to_path_buf()));
    }
    let sum = lines.next().ok_or_else(|| damaged("no checksum".into()))?;
    let sealed = lines.next().unwrap_or_default();
    if hex(&Sha256::digest(sealed)).as_bytes() != sum {
        return Err(damaged(
            "its contents do not match their checksum: it was cut short or edited after its shard ran".into(),
        ));
    }
    let mut lines = sealed.splitn(2, |&b| b == b'\n');
    let header = lines.next().unwrap_or_default();
    let header: Header = serde_json::from_slice(header).map_err(|e| {
        damaged(format!(
            "its header does not read: {}",
            crate::input::reason(&e.to_string())
        ))
    })?;
    let body = lines.next().unwrap_or_default();
    let body = body.strip_suffix(b"\n").unwrap_or(body);
    let results: PartResults = serde_json::from_slice(body).map_err(|e| {
        damaged(format!(
            "its results do not read: {}",
            crate::input::reason(&e.to_string())
        ))
    })?;
    Ok(Part {
        file: file.to_path_buf(),
        run: header.run,
        shard: header.shard,
        seconds: header.seconds,
        results,
    })
}

/// The part files among `paths`: each file as given, each folder's files
/// ending `.part`, in name order.
pub fn part_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, ShardError> {
    let mut files = Vec::new();
    for p in paths {
        if p.is_dir() {
            let io = |source| ShardError::Io {
                doing: "read the folder",
                path: p.clone(),
                source,
            };
            let mut here: Vec<PathBuf> = fs::read_dir(p)
                .map_err(io)?
                .map(|e| e.map(|e| e.path()))
                .collect::<Result<_, _>>()
                .map_err(io)?;
            here.retain(|f| {
                f.extension().is_some_and(|e| e == EXTENSION)
                    && !f
                        .file_name()
                        .is_some_and(|n| n.to_string_lossy().starts_with('.'))
            });
            here.sort();
            files.extend(here);
        } else {
            files.push(p.clone());
        }
    }
    if files.is_empty() {
        return Err(ShardError::NoParts);
    }
    Ok(files)
}

/// A merged run: its outcome, and the parts' simulation times.
#[derive(Debug)]
pub struct Merged {
    /// The outcome, as the unsharded run gives it.
    pub outcome: Finished,
    /// Shards merged.
    pub shards: u32,
    /// The longest shard's simulation, in seconds.
    pub longest_seconds: f64,
}

/// An experiment's parts, checked to be every shard of it once each, to
/// be merged by running the experiment again with [`ExperimentParts::runs`]
/// and [`ExperimentParts::inputs`]: it simulates nothing, and sums up as
/// the unsharded experiment does.
#[derive(Debug)]
pub struct ExperimentParts {
    /// The experiment.
    pub key: ExperimentKey,
    /// The files its shards read.
    pub inputs: Inputs,
    /// Its runs, each put together from every shard's share.
    pub runs: Runs,
    /// Shards merged.
    pub shards: u32,
    /// The shards' simulation time added up, in seconds.
    pub seconds: f64,
    /// The longest shard's, in seconds.
    pub longest_seconds: f64,
}

/// Parts checked to be every shard of one run or experiment.
#[derive(Debug)]
pub enum Merging {
    /// A run's, put together.
    Run(Merged),
    /// An experiment's, ready to merge.
    Experiment(ExperimentParts),
}

/// Checks that `files` are every shard of one run, once each, and puts
/// them together: the outcome the unsharded run gives, with `threads` the
/// most any shard used and `seconds` the shards' simulation time added up.
/// An experiment's parts are handed back to be merged by the experiment.
pub fn merge(files: &[PathBuf]) -> Result<Merging, Error> {
    let mut parts: Vec<Part> = Vec::new();
    for f in part_files(files)? {
        let part = read_part(&f)?;
        if let Some(first) = parts.first() {
            let what = part.run.differs_from(&first.run).or_else(|| {
                (part.shard.count() != first.shard.count()).then(|| {
                    format!(
                        "is one of {} shards, not {}",
                        part.shard.count(),
                        first.shard.count()
                    )
                })
            });
            if let Some(what) = what {
                return Err(ShardError::Foreign {
                    file: part.file,
                    first: first.file.clone(),
                    what,
                }
                .into());
            }
        }
        if let Some(same) = parts.iter().find(|p| p.shard == part.shard) {
            if same_file(&same.file, &part.file) {
                continue;
            }
            return Err(ShardError::Duplicate {
                shard: part.shard,
                first: same.file.clone(),
                second: part.file,
            }
            .into());
        }
        parts.push(part);
    }
    let count = parts[0].shard.count();
    let missing: Vec<u32> = (1..=count)
        .filter(|&k| !parts.iter().any(|p| p.shard.index() == k))
        .collect();
    if !missing.is_empty() {
        return Err(ShardError::Missing { missing, count }.into());
    }
    // Parts compare as stored, so those of one run in different folders
    // merge; their paths are read from the first one's folder.
    let folder = parts[0].file.parent().unwrap_or(Path::new("."));
    let run = parts[0].run.read_in(folder);
    let seconds: f64 = parts.iter().map(|p| p.seconds).sum();
    let longest_seconds = parts.iter().map(|p| p.seconds).fold(0.0, f64::max);
    if let Some(key) = run.experiment {
        let results = parts.into_iter().map(|p| (p.file, p.results)).collect();
        let shards = of_kind(results, |r| match r {
            PartResults::Experiment(runs) => Some(runs),
            _ => None,
        })?;
        return Ok(Merging::Experiment(ExperimentParts {
            key,
            inputs: Inputs::kept(run.inputs),
            runs: Runs::merge(shards),
            shards: count,
            seconds,
            longest_seconds,
        }));
    }
    let inputs = Inputs::kept(run.inputs.clone());
    let places = run.places.as_ref().map(PathBuf::from);
    let work = Work::new_through(&run.request(), places.as_deref(), &|p| inputs.read(p))?;
    let results = parts.into_iter().map(|p| (p.file, p.results)).collect();
    let outcome = work.put_together(results, seconds)?;
    Ok(Merging::Run(Merged {
        outcome,
        shards: count,
        longest_seconds,
    }))
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (fs::canonicalize(a), fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_parse_from_one_to_their_count() {
        assert_eq!(parse_shard("2/8").unwrap(), Shard::new(2, 8).unwrap());
        assert_eq!(parse_shard("1/1").unwrap(), Shard::WHOLE);
        for bad in ["0/4", "5/4", "4", "a/4", "1/0", "-1/4", "1/100001"] {
            assert!(
                matches!(parse_shard(bad), Err(ShardError::BadShard(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn shards_share_out_every_piece_once() {
        for count in 1..=7 {
            for piece in 0..20 {
                let holders = (1..=count)
                    .filter(|&k| Shard::new(k, count).unwrap().holds(piece))
                    .count();
                assert_eq!(holders, 1, "piece {piece} of {count} shards");
            }
        }
    }

    #[test]
    fn missing_shards_are_listed_in_words() {
        assert_eq!(list(&[3]), "3");
        assert_eq!(list(&[1, 3, 4]), "1, 3 and 4");
        let many: Vec<u32> = (1..=12).collect();
        assert_eq!(list(&many), "1, 2, 3, 4, 5, 6, 7, 8, 9, 10 and 2 more");
    }
}
