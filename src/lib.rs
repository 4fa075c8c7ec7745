#![warn(missing_docs)]
//! Upstream: an agent-based simulation of a place's residents, reactive
//! services and community assets, for comparing prevention investment against
//! reactive demand before funding it.
//!
//! Floors, each importing only the floors before it (`tests/layers.rs`
//! checks this against the source):
//! 1. [`rng`] (common random numbers, a pure function of their
//!    coordinates) and [`format`](mod@format) (numbers as people read them);
//! 2. [`model`] (the model's vocabulary and its validated
//!    [`model::Config`]) and [`input`] (the files people hand Upstream,
//!    read within limits, their text checked and quoted back safely);
//! 3. [`metrics`]: what is recorded each month;
//! 4. [`engine`]: one replicate's population and its monthly step;
//! 5. [`experiment`]: scenarios × replicates in parallel, deterministic;
//! 6. [`aggregate`] (bands across replicates) and [`economics`]
//!    (discounting, financial years, who pays and who saves);
//! 7. [`scenario`]: TOML files with `extends`, validated into a config and
//!    its money conventions;
//! 8. [`observed`] (a place's recorded counts) and [`game`] (the learning
//!    simulation's rules, no I/O);
//! 9. `serve`: the learning simulation's web app;
//! 10. still one circle, to be broken up: [`published`] (the schema of the
//!     JSON files a run publishes), [`output`] and `report` (CSV, JSON, the
//!     workbook, charts and the HTML report), [`app`] (the pipeline the
//!     `upstream` command drives, with one [`Error`] type), [`place`]
//!     (`upstream new-place`), [`region`] (a run over many places),
//!     [`shard`] (a run split across machines and merged to the same
//!     files), and [`experiments`] (sensitivity, break-even, sweep,
//!     calibration, review and optimisation, each a folder driven whole,
//!     sharded or merged by one [`experiments::drive`]). The experiments'
//!     pages still sit in `report`, and the top-level error wraps their
//!     errors while they return it.
pub mod aggregate;
pub mod app;
pub mod economics;
pub mod engine;
mod error;
pub mod experiment;
pub mod experiments;
pub mod format;
pub mod game;
pub mod input;
pub mod metrics;
pub mod model;
pub mod observed;
pub mod output;
pub mod place;
pub mod published;
pub mod region;
#[cfg(feature = "report")]
pub mod report;
pub mod rng;
pub mod scenario;
#[cfg(feature = "serve")]
pub mod serve;
pub mod shard;

pub use error::Error;

// The README's Rust examples are compiled and run as doc tests, and so are
// the library guide's.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeExamples;

#[cfg(doctest)]
#[doc = include_str!("../docs/guide/library.md")]
struct LibraryGuideExamples;
