//! Upstream: an agent-based simulation of a place's residents, reactive
//! services and community assets, for comparing prevention investment against
//! reactive demand before funding it.
//!
//! Layers, each knowing nothing of the ones after it:
//! - [`scenario`]: TOML files with `extends`, validated into a [`model::Config`];
//! - [`model`] and [`engine`]: the population and the monthly step;
//! - [`experiment`]: scenarios × replicates in parallel, deterministic;
//! - [`metrics`]: what is recorded and its aggregation into bands;
//! - [`economics`]: discounting, financial years, who pays and who saves;
//! - [`output`]: CSV, JSON, the workbook and the terminal table, written atomically;
//! - [`report`]: charts and the HTML report, built from the output files.

pub mod aggregate;
pub mod economics;
pub mod engine;
pub mod experiment;
pub mod format;
pub mod metrics;
pub mod model;
pub mod output;
pub mod report;
pub mod rng;
pub mod scenario;
