//! trailbook: machine-learning audit logs → evidence a regulator can trust.
//!
//! The pipeline (`ARCHITECTURE.md`): [`config`] → [`ingest`] → [`model`] → [`graph`] →
//! [`checks`] → report or [`render`] (the evidence site). Every stage's output is `Serialize`, so `trailbook check --emit
//! model|graph|findings` can dump any boundary as JSON.

pub mod checks;
pub mod cli;
pub mod config;
pub mod diag;
pub mod event;
pub mod graph;
pub mod ingest;
pub mod init;
pub mod link;
pub mod model;
pub mod privacy;
pub mod render;
pub mod report;
pub mod seal;
pub mod synth;
#[cfg(test)]
pub mod testing;
pub mod time;
