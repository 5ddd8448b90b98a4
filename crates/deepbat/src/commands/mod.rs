//! One module per command.

pub mod analytic;
pub mod demo;
pub mod map;
pub mod optimize;
pub mod oracle;
pub mod profile;
pub mod replay;
pub mod simulate;
pub mod synth;
pub mod trace;
pub mod trace_plot;
pub mod train;
