//! `deepbat trace stats`: what a trace looks like, overall and hour by hour.

use crate::cli::StatsArgs;
use anyhow::Result;
use deepbat_core::trace::TraceStats;

pub fn stats(args: &StatsArgs) -> Result<()> {
    let trace = args.trace.load()?;
    let stats = TraceStats::compute(&trace);
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&stats)?);
    } else {
        out!("{stats}");
    }
    Ok(())
}
