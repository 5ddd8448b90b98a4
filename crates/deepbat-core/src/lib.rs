//! deepbat's core: everything that does not need a neural network.
//!
//! The crate owns the contract of the tool: how arrivals are read ([`trace`]), how a
//! serverless function turns a batch into time and money ([`profile`], [`pricing`]), the
//! search space ([`grid`]), what the platform adds (overheads, concurrency limits, cold
//! starts: [`platform`]), the exact simulation of the buffer and the function that is
//! the ground truth for everything else ([`sim`]), the choice of a configuration from
//! predicted or simulated figures ([`optimizer`]), the policies that make those choices
//! over time ([`policy`]) and the causal replay that scores them ([`replay`]). Synthetic
//! bursty workloads come from [`synth`].
//!
//! Time is in seconds (`f64`) everywhere inside the crate; [`units`] parses the human
//! forms (`100ms`, `0.1s`) that the command line accepts.

pub mod analytic;
pub mod grid;
pub mod map;
pub mod optimizer;
pub mod oracle;
pub mod platform;
pub mod policy;
pub mod pricing;
pub mod profile;
pub mod replay;
pub mod shared_data;
pub mod sim;
pub mod synth;
pub mod trace;
pub mod units;

#[cfg(test)]
mod test_support;

pub use grid::{Config, Grid};
pub use map::{Map, MapError};
pub use platform::Platform;
pub use pricing::Pricing;
pub use profile::{ProfileSpec, ServiceProfile};
pub use sim::{Outcome, PERCENTILES};
