//! Upstream's integration tests, linked once as one binary (faster builds
//! than one binary a file). Each module opens with the property it proves.

mod common;

mod app;
mod break_even;
mod browser;
mod calibrate;
mod cli;
mod crash;
mod economics;
mod elicit;
mod experiment_shards;
mod experiments;
mod file_set;
mod game;
mod hostile_inputs;
mod layers;
mod mechanisms;
mod model;
mod optimise;
mod parser;
mod places;
mod properties;
mod provider_failure;
mod refusals;
mod region;
mod regression;
mod report;
mod review;
mod scaled;
mod sensitivity;
mod serve;
mod shards;
mod shared_burn_in;
mod slurm;
mod snapshot;
mod steady;
mod sweep;
mod trend;
mod uncertainty;
mod validation;
mod warnings;
mod workbench;
mod workbook;
