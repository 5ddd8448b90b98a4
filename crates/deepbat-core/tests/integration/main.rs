//! deepbat-core's integration tests, one module per area.

mod analytic_fixtures;
mod analytic_vs_simulation;
