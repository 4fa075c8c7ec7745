#![warn(missing_docs)]
//! Upstream: an agent-based simulation of a place's residents, reactive
//! services and community assets, for comparing prevention investment against
//! reactive demand before funding it.
//!
//! Layers, each importing only those listed before it:
//! - [`rng`]: common random numbers, a pure function of their coordinates;
//! - [`model`]: the model's vocabulary and its validated [`model::Config`];
//! - [`metrics`]: what is recorded each month, and bands across replicates;
//! - [`engine`]: one replicate's population and its monthly step;
//! - [`experiment`]: scenarios × replicates in parallel, deterministic;
//! - [`aggregate`] and [`economics`]: bands, discounting, financial years,
//!   who pays and who saves;
//! - [`scenario`]: TOML files with `extends`, validated into a config and
//!   its money conventions;
//! - [`place`]: a scenario for a commissioner's own place from the figures
//!   they have to hand (`upstream new-place`);
//! - [`format`](mod@format): numbers as people read them;
//! - [`input`]: the files people hand Upstream, read within limits, and
//!   their text checked and quoted back safely;
//! - [`published`]: the schema of the JSON files a run publishes, shared by
//!   their writer and their reader;
//! - [`output`] and `report`: CSV, JSON, the workbook, the terminal table,
//!   charts and the HTML report (which reads only the published files);
//! - [`app`]: the pipeline (plan, run, appraise, render, write) that the
//!   `upstream` command and any embedder drive, with one [`Error`] type;
//! - experiments that drive many plans: [`sensitivity`] (one way, and
//!   Morris screening), [`breakeven`] (how strong an effect must be to pay
//!   back) and [`sweep`] (a comparison over a grid of one or two numbers);
//! - [`region`]: a run over many places (a region or the nation) from a
//!   places table, each place's figures and their totals;
//! - [`shard`]: a run split across processes or machines (a batch
//!   scheduler's job array) and merged to the same files, byte for byte;
//! - calibration: [`observed`] (a place's recorded counts, checked against
//!   a scenario), [`calibrate`] (the uncertain parameters fitted to
//!   them) and [`review`] (an earlier projection against what happened).

pub mod aggregate;
pub mod app;
pub mod breakeven;
pub mod calibrate;
pub mod economics;
pub mod engine;
mod error;
pub mod experiment;
pub mod format;
pub mod game;
pub mod input;
pub mod metrics;
pub mod model;
pub mod observed;
pub mod optimise;
pub mod output;
pub mod place;
pub mod published;
pub mod region;
#[cfg(feature = "report")]
pub mod report;
pub mod review;
pub mod rng;
pub mod scenario;
pub mod sensitivity;
#[cfg(feature = "serve")]
pub mod serve;
pub mod shard;
pub mod sweep;

pub use error::Error;

// The README's Rust examples are compiled and run as doc tests, and so are
// the library guide's.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeExamples;

#[cfg(doctest)]
#[doc = include_str!("../docs/guide/library.md")]
struct LibraryGuideExamples;
