//! `deepbat synth`: a seeded synthetic bursty trace written as inter-arrival times.

use crate::cli::{SynthArgs, SynthMode};
use crate::output::Outputs;
use anyhow::{Result, bail};
use deepbat_core::synth;
use flate2::Compression;
use flate2::write::GzEncoder;
use std::fmt::Write as _;
use std::io::Write as _;

pub fn run(args: &SynthArgs) -> Result<()> {
    if args.hours == 0 {
        bail!("--hours 0: generate at least one hour");
    }
    let trace = match (&args.from_maps, args.mode) {
        (Some(dir), _) => {
            let series = deepbat_core::map::load_series(dir)?;
            synth::day_from_maps(&series, args.first_hour, args.hours, args.seed)
        }
        (None, SynthMode::Bursty) => synth::bursty_day(args.first_hour, args.hours, args.seed),
        (None, SynthMode::OnOff) => synth::on_off_day(args.first_hour, args.hours, args.seed),
    };
    let mut text = String::with_capacity(trace.len() * 12);
    let mut previous = 0.0;
    for &t in &trace.arrivals {
        writeln!(text, "{}", t - previous)?;
        previous = t;
    }
    let gzip = args.out.extension().is_some_and(|e| e == "gz");
    let bytes = if gzip {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
        encoder.write_all(text.as_bytes())?;
        encoder.finish()?
    } else {
        text.into_bytes()
    };
    let mut outputs = Outputs::default();
    outputs.stage(&args.out, &bytes)?;
    outputs.commit()?;
    outln!(
        "wrote {} arrivals over {} hours to {}",
        trace.len(),
        args.hours,
        args.out.display()
    );
    Ok(())
}
