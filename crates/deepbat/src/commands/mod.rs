//! One module per command.

pub mod demo;
pub mod optimize;
pub mod replay;
pub mod simulate;
pub mod synth;
pub mod trace;
pub mod trace_plot;
pub mod train;
