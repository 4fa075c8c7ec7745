#![warn(missing_docs, unreachable_pub)]
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
//! 5. [`replicates`]: scenarios × replicates in parallel, deterministic;
//! 6. [`aggregate`] (bands across replicates) and [`economics`]
//!    (discounting, financial years, who pays and who saves), and
//!    [`present`] (a draw of the uncertain parameters held at the place's
//!    present activity);
//! 7. [`scenario`]: TOML files with `extends`, validated into a config and
//!    its money conventions;
//! 8. [`observed`] (a place's recorded counts) and [`game`] (the learning
//!    simulation's rules, no I/O);
//! 9. [`published`]: the names and schema of the files a run publishes;
//! 10. [`output`]: CSV, JSON, the workbook and the terminal table, written
//!     in one step, and the CSV toolkit every published CSV is written with;
//! 11. `report` (charts and the HTML report, rebuilt from the published
//!     files, and the toolkit experiments draw their pages with) and
//!     [`place`] (`upstream new-place`) and [`elicit`] (`upstream elicit`:
//!     ranges from a place's experts);
//! 12. [`app`]: the pipeline the `upstream` command drives, with its
//!     [`app::Error`];
//! 13. [`region`]: a run over many places;
//! 14. [`shard`]: a run or an experiment split across machines and merged
//!     to the same files; and [`workbench`]: a place and a policy designed
//!     on the workbench's form, written as the scenario files the command
//!     line runs;
//! 15. [`experiments`]: sensitivity, break-even, sweep, calibration,
//!     review and optimisation, each a folder that owns its method, its
//!     files and its page, driven whole, sharded or merged by one
//!     [`experiments::drive`];
//! 16. `run`: `upstream run` and `upstream merge` driven (a run, a run
//!     over places, a shard of either, the merge of parts);
//! 17. `serve`: the web app, the learning simulation's and the
//!     commissioner's workbench's;
//! 18. [`Error`]: the union of every layer's error, for the command and
//!     embedders; no module inside the library returns it.
pub mod aggregate;
pub mod app;
pub mod economics;
pub mod elicit;
pub mod engine;
mod error;
pub mod experiments;
pub mod format;
pub mod game;
pub mod input;
pub mod metrics;
pub mod model;
pub mod observed;
pub mod output;
pub mod place;
pub mod present;
pub mod published;
pub mod region;
pub mod replicates;
#[cfg(feature = "report")]
pub mod report;
pub mod rng;
#[cfg(feature = "report")]
pub mod run;
pub mod scenario;
#[cfg(feature = "serve")]
pub mod serve;
pub mod shard;
pub mod workbench;

pub use error::Error;

// The README's Rust examples are compiled and run as doc tests, and so are
// the library guide's.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeExamples;

#[cfg(doctest)]
#[doc = include_str!("../docs/guide/library.md")]
struct LibraryGuideExamples;
