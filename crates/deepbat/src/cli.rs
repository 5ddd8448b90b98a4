//! Command-line arguments, parsed raw by clap and then validated into the core's types.

use anyhow::{Context, Result, anyhow, bail};
use clap::{Args, Parser, Subcommand};
use deepbat_core::platform::{ColdStart, Platform};
use deepbat_core::profile::{ProfileError, ProfileOptions};
use deepbat_core::trace::{self, Format, LoadOptions, Trace};
use deepbat_core::units::parse_duration;
use deepbat_core::{Grid, Pricing, ProfileSpec};
use std::path::PathBuf;

mod plot;
pub use plot::{PlotRequest, SeriesSpec};

/// Choose the cheapest serverless batching configuration that meets a latency SLO.
#[derive(Debug, Parser)]
#[command(name = "deepbat", version, about)]
pub struct Cli {
    /// Log more (-v for debug, -vv for trace); RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Inspect arrival traces.
    #[command(subcommand)]
    Trace(TraceCommand),
    /// Simulate one configuration over a trace.
    Simulate(SimulateArgs),
    /// Train the surrogate on windows of a trace.
    Train(TrainArgs),
    /// Choose a configuration for the last window of a trace with a trained surrogate.
    Optimize(OptimizeArgs),
    /// Replay policies over a trace, causally, and score their choices.
    Replay(ReplayArgs),
    /// Run the whole job on a synthetic bursty trace with the shipped model.
    Demo(DemoArgs),
    /// Write a seeded synthetic bursty trace as a `gaps` file.
    Synth(SynthArgs),
    /// The analytical models (exact, and BATCH's approximation) under a MAP: one
    /// configuration, or the grid solved for an SLO.
    Analytic(AnalyticArgs),
    /// Fit Markovian arrival processes to traces and inspect them.
    #[command(subcommand)]
    Map(MapCommand),
    /// Service profiles: print one as a table, or fit one to measurements.
    #[command(subcommand)]
    Profile(ProfileCommand),
    /// The best configuration of every window of a trace by exact simulation, or the
    /// cost-latency frontier of one window.
    Oracle(OracleArgs),
}

#[derive(Debug, Subcommand)]
pub enum MapCommand {
    /// Fit a two-phase MAP to a trace (or to each hour) and compare its statistics.
    Fit(MapFitArgs),
    /// Print what a MAP implies: a folder of MAP<k>_D0/_D1 files, or one _D0 file.
    Show(MapShowArgs),
}

#[derive(Debug, Args)]
pub struct MapFitArgs {
    #[command(flatten)]
    pub trace: TraceArgs,
    /// Fit each hour of the trace separately.
    #[arg(long)]
    pub hourly: bool,
    /// Autocorrelation lags used to estimate the decay rate (1..=10000; each costs a pass
    /// over the gaps).
    #[arg(long, default_value_t = deepbat_core::map::DEFAULT_MAX_LAG,
          value_parser = max_lag)]
    pub max_lag: usize,
    /// Write MAP<k>_D0 / MAP<k>_D1 files here (k = hour + 1; 1 for the whole trace).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Print JSON instead of tables.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum ProfileCommand {
    /// Print s(M, b) for some memory and batch sizes.
    Show(ProfileShowArgs),
    /// Fit the parametric profile to a CSV of measurements by least squares.
    Fit(ProfileFitArgs),
}

#[derive(Debug, Args)]
pub struct ProfileShowArgs {
    #[command(flatten)]
    pub profile: ProfileArgs,
    /// Memory sizes, MB, comma-separated (default: the default grid's inside the profile's
    /// range).
    #[arg(long, value_delimiter = ',')]
    pub memory: Vec<u32>,
    /// Batch sizes, comma-separated (default: 1, 2, 4, 8, 16, 32 inside the range).
    #[arg(long, value_delimiter = ',')]
    pub batch: Vec<u32>,
    /// Print JSON: the profile and the table in seconds.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ProfileFitArgs {
    /// CSV with columns memory_mb,batch_size,seconds.
    #[arg(long)]
    pub measurements: PathBuf,
    /// Also write the fitted profile as a TOML file usable with --profile.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct MapShowArgs {
    /// A folder of MAP<k>_D0/_D1 (or W<k>_D0/_D1) files, or one _D0 file.
    pub path: PathBuf,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct OracleArgs {
    #[command(flatten)]
    pub trace: TraceArgs,
    #[command(flatten)]
    pub setting: SettingArgs,
    #[command(flatten)]
    pub platform: PlatformArgs,
    /// Latency SLO, e.g. 100ms.
    #[arg(long, value_parser = slo)]
    pub slo: f64,
    /// Percentile the SLO applies to: 50, 90, 95 or 99.
    #[arg(long, default_value_t = 95.0, value_parser = percentile)]
    pub percentile: f64,
    /// Only these hours of the trace, inclusive: A..B.
    #[arg(long, value_parser = hours)]
    pub hours: Option<(u32, u32)>,
    /// Arrivals per window.
    #[arg(long, default_value_t = 256)]
    pub window: usize,
    /// Print the cost-latency frontier of this window (0-based) instead of the best
    /// configuration of every window.
    #[arg(long)]
    pub frontier_window: Option<usize>,
    /// Write the CSV here instead of stdout.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum TraceCommand {
    /// Count, duration, rate, SCV and lag-1 autocorrelation, overall and per hour.
    Stats(StatsArgs),

    /// Plot the arrival rate per minute and the index of dispersion per hour of one or
    /// more traces, as SVG and PNG.
    Plot(PlotRequest),
}

/// Where arrivals come from.
#[derive(Debug, Args)]
pub struct TraceArgs {
    /// Trace file(s); several are concatenated in the order given.
    #[arg(long = "trace", required = true, num_args = 1..)]
    pub paths: Vec<PathBuf>,
    /// gaps, timestamps, azure-minute, per-second or csv.
    #[arg(long)]
    pub format: String,
    /// azure-minute: one function by its HashFunction (default: all summed).
    #[arg(long)]
    pub function: Option<String>,
    /// csv: the timestamp column.
    #[arg(long)]
    pub column: Option<String>,
    /// csv: s, ms, us, ns or datetime.
    #[arg(long)]
    pub unit: Option<String>,
    /// Seed of the rule that spreads counted arrivals inside their minute or second.
    #[arg(long, default_value_t = 0)]
    pub spread_seed: u64,
}

impl TraceArgs {
    /// Loads the trace, logging what was read.
    pub fn load(&self) -> Result<Trace> {
        let format: Format = self.format.parse().map_err(|e| anyhow!("--format: {e}"))?;
        let mut options = LoadOptions::new(format);
        options.seed = self.spread_seed;
        options.function.clone_from(&self.function);
        options.column.clone_from(&self.column);
        options.unit.clone_from(&self.unit);
        let trace = trace::load(&self.paths, &options)?;
        tracing::info!(
            arrivals = trace.len(),
            files = self.paths.len(),
            "trace loaded"
        );
        Ok(trace)
    }
}

/// The serverless setting: profile, pricing and grid.
#[derive(Debug, Args)]
pub struct SettingArgs {
    #[command(flatten)]
    pub profile: ProfileArgs,
    #[command(flatten)]
    pub pricing: PricingArgs,
    /// Grid TOML with memory_mb, batch_sizes and timeouts_ms (default: 28,224 configurations).
    #[arg(long)]
    pub grid: Option<PathBuf>,
}

/// Which service profile to use.
#[derive(Debug, Args)]
pub struct ProfileArgs {
    /// Service profile file: TOML (parametric, polynomial or table), CSV of measurements
    /// (memory_mb,batch_size,seconds), or JSON (a class table such as the MBS DeepSpeech
    /// measurements, or a profile as deepbat prints it).
    #[arg(long = "profile", conflicts_with = "profile_preset")]
    pub path: Option<PathBuf>,
    /// Built-in profile: default, inception-v4 or resnet-v2 (BATCH's cubic fits).
    #[arg(long)]
    pub profile_preset: Option<String>,
    /// Request-size class of a class table (0 is the smallest).
    #[arg(long, requires = "path")]
    pub profile_class: Option<usize>,
    /// Let a measured profile answer outside its measured memory and batch range.
    #[arg(long)]
    pub extrapolate: bool,
}

impl ProfileArgs {
    /// Whether the user chose a profile (rather than the default).
    pub fn given(&self) -> bool {
        self.path.is_some() || self.profile_preset.is_some()
    }

    /// The profile asked for, not yet checked against a grid.
    pub fn load(&self) -> Result<ProfileSpec> {
        let mut spec = match (&self.path, &self.profile_preset) {
            (Some(path), _) => {
                let options = ProfileOptions {
                    class: self.profile_class,
                    extrapolate: self.extrapolate,
                };
                ProfileSpec::load(path, &options).map_err(|e| match e {
                    ProfileError::NoClass { .. } => anyhow!("{e} with --profile-class"),
                    other => other.into(),
                })?
            }
            (None, Some(name)) => ProfileSpec::preset(name).ok_or_else(|| {
                anyhow!(
                    "--profile-preset '{name}': use one of {}",
                    deepbat_core::profile::PRESETS.join(", ")
                )
            })?,
            (None, None) => ProfileSpec::default(),
        };
        if self.extrapolate {
            spec.set_extrapolate(true);
        }
        Ok(spec)
    }

    /// The profile, checked to cover every memory and batch size it will be asked for.
    pub fn load_for(&self, memory_mb: &[u32], batch_sizes: &[u32]) -> Result<ProfileSpec> {
        let spec = self.load()?;
        spec.check_covers(memory_mb, batch_sizes)
            .map_err(|e| anyhow!("{e}; pass --extrapolate to allow it"))?;
        Ok(spec)
    }
}

/// What Lambda charges.
#[derive(Debug, Args)]
pub struct PricingArgs {
    /// Pricing preset: x86 or arm64.
    #[arg(long, default_value = "x86")]
    pub pricing: String,
    /// USD per GB-second of billed duration, replacing the preset's.
    #[arg(long)]
    pub price_gb_s: Option<f64>,
    /// USD per invocation, replacing the preset's ($0.20 per million = 0.0000002).
    #[arg(long)]
    pub price_request: Option<f64>,
    /// Billing granularity in milliseconds (1 today; 100 before December 2020).
    #[arg(long, default_value_t = 1)]
    pub billing_ms: u32,
}

impl PricingArgs {
    pub fn pricing(&self) -> Result<Pricing> {
        let mut pricing = Pricing::preset(&self.pricing)
            .ok_or_else(|| anyhow!("--pricing '{}': use x86 or arm64", self.pricing))?;
        if self.billing_ms == 0 {
            bail!("--billing-ms 0: the billing granularity must be at least 1 ms");
        }
        pricing.granularity_ms = self.billing_ms;
        for (flag, value, slot) in [
            ("--price-gb-s", self.price_gb_s, &mut pricing.price_gb_s),
            (
                "--price-request",
                self.price_request,
                &mut pricing.price_request,
            ),
        ] {
            if let Some(value) = value {
                if !(value.is_finite() && value >= 0.0) {
                    bail!("{flag} {value}: a price must be a non-negative number");
                }
                *slot = value;
            }
        }
        Ok(pricing)
    }
}

impl SettingArgs {
    /// The profile, checked against the grid it will serve.
    pub fn profile(&self, grid: &Grid) -> Result<ProfileSpec> {
        self.profile.load_for(&grid.memory_mb, &grid.batch_sizes)
    }

    pub fn pricing(&self) -> Result<Pricing> {
        self.pricing.pricing()
    }

    pub fn grid(&self) -> Result<Grid> {
        match &self.grid {
            Some(path) => Ok(Grid::load(path)?),
            None => Ok(Grid::default()),
        }
    }
}

/// What the platform adds beyond the buffer rule; all off by default.
#[derive(Debug, Args)]
pub struct PlatformArgs {
    /// Constant time added to every request's latency (network, invoke API), e.g. 30ms;
    /// not billed.
    #[arg(long, value_parser = duration)]
    pub invoke_overhead: Option<f64>,
    /// Most invocations running at once; later batches wait in FIFO order.
    #[arg(long)]
    pub concurrency: Option<u32>,
    /// Simulate cold starts with this init time (added to latency and billed), e.g. 400ms.
    #[arg(long, value_parser = duration)]
    pub cold_start: Option<f64>,
    /// How long an idle instance stays warm (with --cold-start).
    #[arg(long, value_parser = duration, requires = "cold_start")]
    pub keep_alive: Option<f64>,
}

/// Keep-alive when `--keep-alive` is not given: AWS does not document it; instances are
/// commonly observed to live 5-15 minutes.
pub const DEFAULT_KEEP_ALIVE_S: f64 = 600.0;

impl PlatformArgs {
    pub fn platform(&self) -> Result<Platform> {
        let platform = Platform {
            invoke_overhead_s: self.invoke_overhead.unwrap_or(0.0),
            concurrency: self.concurrency,
            cold_start: self.cold_start.map(|init_s| ColdStart {
                init_s,
                keep_alive_s: self.keep_alive.unwrap_or(DEFAULT_KEEP_ALIVE_S),
            }),
        };
        platform.validate().map_err(|e| anyhow!("{e}"))?;
        Ok(platform)
    }
}

/// What a decision must meet.
#[derive(Debug, Args)]
pub struct ObjectiveArgs {
    /// Latency SLO, e.g. 100ms.
    #[arg(long, value_parser = slo)]
    pub slo: f64,
    /// Percentile the SLO applies to: 50, 90, 95 or 99.
    #[arg(long, default_value_t = 95.0, value_parser = percentile)]
    pub percentile: f64,
    /// Safety factor of the surrogate's choices: feasible when predicted latency * (1 + gamma)
    /// <= SLO. `auto` uses the model's validation MAPE of that percentile (the paper's rule).
    #[arg(long, default_value = "auto", value_parser = gamma)]
    pub gamma: Gamma,
}

#[derive(Debug, Args)]
pub struct StatsArgs {
    #[command(flatten)]
    pub trace: TraceArgs,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct SimulateArgs {
    #[command(flatten)]
    pub trace: TraceArgs,
    #[command(flatten)]
    pub setting: SettingArgs,
    #[command(flatten)]
    pub platform: PlatformArgs,
    /// Function memory, MB (128..=10240).
    #[arg(long)]
    pub memory: u32,
    /// Largest batch size (at least 1).
    #[arg(long)]
    pub batch: u32,
    /// Batch timeout, e.g. 50ms.
    #[arg(long, value_parser = duration)]
    pub timeout: f64,
    /// Only these hours of the trace, inclusive: A..B.
    #[arg(long, value_parser = hours)]
    pub hours: Option<(u32, u32)>,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct TrainArgs {
    #[command(flatten)]
    pub trace: TraceArgs,
    #[command(flatten)]
    pub setting: SettingArgs,
    /// Hours of the trace to train on, inclusive: A..B.
    #[arg(long, value_parser = hours)]
    pub hours: (u32, u32),
    /// Model directory to write.
    #[arg(long)]
    pub out: PathBuf,
    /// Training windows to sample.
    #[arg(long, default_value_t = 4000)]
    pub samples: usize,
    /// Largest number of epochs (training stops early when validation stops improving).
    #[arg(long, default_value_t = 30)]
    pub epochs: usize,
    /// Seed of sampling, initialisation and shuffling.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Label each window by the next window's simulation instead of its own.
    #[arg(long)]
    pub label_next: bool,
}

#[derive(Debug, Args)]
pub struct OptimizeArgs {
    #[command(flatten)]
    pub trace: TraceArgs,
    /// Model directory written by `deepbat train`.
    #[arg(long)]
    pub model: PathBuf,
    #[command(flatten)]
    pub objective: ObjectiveArgs,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ReplayArgs {
    #[command(flatten)]
    pub trace: TraceArgs,
    /// Hours to replay, inclusive: A..B.
    #[arg(long, value_parser = hours)]
    pub hours: (u32, u32),
    /// Model directory (needed by the deepbat policy).
    #[arg(long)]
    pub model: Option<PathBuf>,
    #[command(flatten)]
    pub setting: SettingArgs,
    #[command(flatten)]
    pub objective: ObjectiveArgs,
    #[command(flatten)]
    pub platform: PlatformArgs,
    /// Comma-separated policies: oracle, sim-last, deepbat, static, batch (BATCH: a MAP(2)
    /// fitted to the previous hour, its approximate model solved hourly), batch-exact (the
    /// same with the exact model).
    #[arg(long, default_value = "oracle,sim-last,deepbat", value_delimiter = ',')]
    pub policies: Vec<String>,
    /// The configuration of the static policy, as MEMORY,BATCH,TIMEOUT (e.g. 2048,4,10ms).
    #[arg(long)]
    pub static_config: Option<String>,
    /// Directory for windows.csv and hours.csv.
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Seed of the synthetic trace.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Hours of synthetic traffic to replay (one more hour is generated as history).
    #[arg(long, default_value_t = 1)]
    pub hours: u32,
    /// Model directory (default: the model shipped in the repository).
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Latency SLO.
    #[arg(long, default_value = "100ms", value_parser = slo)]
    pub slo: f64,
    /// Safety factor of the deepbat policy: feasible when predicted latency * (1 + gamma) <= SLO. `auto` uses the
    /// model's validation MAPE of that percentile (the paper's rule); a number sets it.
    #[arg(long, default_value = "auto", value_parser = gamma)]
    pub gamma: Gamma,
    /// Also write windows.csv and hours.csv here.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct SynthArgs {
    /// Hours of traffic.
    #[arg(long, default_value_t = 24)]
    pub hours: u32,
    /// Hour of the day the trace starts at (sets the diurnal rate).
    #[arg(long, default_value_t = 0)]
    pub first_hour: u32,
    /// Seed of the generator.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// bursty: MMPP(2) hours with random knobs; on-off: hours whose index of dispersion
    /// spans 1 to 500.
    #[arg(long, default_value = "bursty", conflicts_with = "from_maps")]
    pub mode: SynthMode,
    /// Sample hour h from the (first_hour + h)-th MAP of this folder of MAP<k>_D0/_D1 files
    /// (such as BATCH's 24 hourly fits), counting round to the first MAP after the last.
    #[arg(long)]
    pub from_maps: Option<PathBuf>,
    /// Output file (gzip when it ends in .gz).
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(Debug, Args)]
pub struct AnalyticArgs {
    /// The arrival process: a BATCH matrix file ending in `_D0` (its `_D1` beside it), a
    /// folder of `MAP<k>_D0`/`_D1` files (pick one with --index), or trace file(s) to fit a
    /// MAP(2) to (read with --format).
    #[arg(long, required = true, num_args = 1..)]
    pub map: Vec<PathBuf>,
    /// In a folder of MAP files: the k of `MAP<k>` (default: the lowest).
    #[arg(long)]
    pub index: Option<u32>,
    /// Format of a trace given to --map.
    #[arg(long, default_value = "gaps")]
    pub format: String,
    /// Fit only these hours of the trace, inclusive: A..B.
    #[arg(long, value_parser = hours)]
    pub hours: Option<(u32, u32)>,
    #[command(flatten)]
    pub setting: SettingArgs,
    /// One configuration: memory, MB.
    #[arg(long)]
    pub memory: Option<u32>,
    /// One configuration: largest batch size.
    #[arg(long)]
    pub batch: Option<u32>,
    /// One configuration: batch timeout, e.g. 50ms.
    #[arg(long, value_parser = duration)]
    pub timeout: Option<f64>,
    /// Solve the grid for this latency SLO, e.g. 100ms.
    #[arg(long, value_parser = slo)]
    pub slo: Option<f64>,
    /// Percentile the SLO applies to (and BATCH's cost percentile): 50, 90, 95 or 99.
    #[arg(long, default_value_t = 95.0, value_parser = percentile)]
    pub percentile: f64,
    /// exact, batch-approx or both.
    #[arg(long, default_value = "both")]
    pub method: String,
    /// Constant time added to every request's latency (network, invoke API), e.g. 30ms;
    /// not billed. BATCH's approximation ignores it, as published.
    #[arg(long, value_parser = duration)]
    pub invoke_overhead: Option<f64>,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// How `deepbat synth` draws its hours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SynthMode {
    /// Random MMPP(2) knobs per hour, from nearly Poisson to bursty.
    Bursty,
    /// Knobs solved per hour for an index of dispersion between 1 and 500.
    OnOff,
}

/// The deepbat policy's safety factor.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Gamma {
    /// The model's validation MAPE of the SLO percentile, as a fraction.
    Auto,
    Fixed(f64),
}

impl Gamma {
    /// The factor to use with `bundle` for the SLO `percentile`.
    pub fn resolve(self, bundle: &deepbat_model::Bundle, percentile: f64) -> f64 {
        match self {
            Self::Fixed(value) => value,
            Self::Auto => {
                // Outputs are cost, p50, p90, p95, p99.
                let index = 1 + deepbat_core::PERCENTILES
                    .iter()
                    .position(|&p| p == percentile)
                    .unwrap_or(2);
                let mape = bundle.meta().training.validation_mape[index];
                if mape.is_finite() { mape / 100.0 } else { 0.0 }
            }
        }
    }
}

fn gamma(text: &str) -> Result<Gamma, String> {
    if text == "auto" {
        return Ok(Gamma::Auto);
    }
    let value: f64 = text
        .parse()
        .map_err(|_| format!("'{text}' is neither auto nor a number"))?;
    if !(0.0..10.0).contains(&value) {
        return Err(format!(
            "{value}: use a safety factor in 0..10 (0.1 means a 10 % margin)"
        ));
    }
    Ok(Gamma::Fixed(value))
}

fn max_lag(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(lag) if (1..=10_000).contains(&lag) => Ok(lag),
        _ => Err(format!("'{text}': use a whole number of lags in 1..=10000")),
    }
}

fn slo(text: &str) -> Result<f64, String> {
    match duration(text)? {
        value if value > 0.0 => Ok(value),
        _ => Err(format!("'{text}': the SLO must be longer than zero")),
    }
}

/// Fails early when `dir` exists but is not a directory, before any long work.
pub fn check_out_dir(dir: &std::path::Path) -> Result<()> {
    if dir.exists() && !dir.is_dir() {
        bail!("--out {} exists and is not a directory", dir.display());
    }
    Ok(())
}

fn duration(text: &str) -> Result<f64, String> {
    parse_duration(text).map_err(|e| e.to_string())
}

fn percentile(text: &str) -> Result<f64, String> {
    let value: f64 = text
        .parse()
        .map_err(|_| format!("'{text}' is not a number"))?;
    if deepbat_core::PERCENTILES.contains(&value) {
        Ok(value)
    } else {
        Err(format!("{value} is not one of 50, 90, 95, 99"))
    }
}

/// Parses an inclusive hour range `A..B` (also `A..=B`, `A-B`, or one hour `A`).
pub fn hours(text: &str) -> Result<(u32, u32), String> {
    let bad = || format!("'{text}' is not an hour range like 0..11 (both ends included)");
    let (a, b) = if let Some((a, b)) = text.split_once("..=") {
        (a, b)
    } else if let Some((a, b)) = text.split_once("..") {
        (a, b)
    } else if let Some((a, b)) = text.split_once('-') {
        (a, b)
    } else {
        (text, text)
    };
    let first: u32 = a.trim().parse().map_err(|_| bad())?;
    let last: u32 = b.trim().parse().map_err(|_| bad())?;
    if last < first {
        return Err(format!(
            "'{text}': the last hour {last} is before the first {first}"
        ));
    }
    Ok((first, last))
}

/// Parses `MEMORY,BATCH,TIMEOUT`.
pub fn static_config(text: &str) -> Result<deepbat_core::Config> {
    let parts: Vec<&str> = text.split(',').collect();
    let [m, b, t] = parts.as_slice() else {
        bail!("--static-config '{text}': expected MEMORY,BATCH,TIMEOUT such as 2048,4,10ms");
    };
    let config = deepbat_core::Config {
        memory_mb: m
            .trim()
            .parse()
            .with_context(|| format!("--static-config memory '{m}'"))?,
        batch_size: b
            .trim()
            .parse()
            .with_context(|| format!("--static-config batch '{b}'"))?,
        timeout: parse_duration(t)?,
    };
    check_config(&config)?;
    Ok(config)
}

/// Rejects a configuration outside Lambda's limits.
pub fn check_config(config: &deepbat_core::Config) -> Result<()> {
    if !(128..=10240).contains(&config.memory_mb) {
        bail!(
            "memory {} MB is outside Lambda's 128..=10240",
            config.memory_mb
        );
    }
    if config.batch_size == 0 {
        bail!("batch size 0: a batch holds at least one request");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hour_ranges() {
        assert_eq!(hours("0..11"), Ok((0, 11)));
        assert_eq!(hours("12..=22"), Ok((12, 22)));
        assert_eq!(hours("3-4"), Ok((3, 4)));
        assert_eq!(hours("5"), Ok((5, 5)));
        assert!(hours("4..2").is_err());
        assert!(hours("a..b").is_err());
    }

    #[test]
    fn static_configs() {
        let c = static_config("2048,4,10ms").unwrap();
        assert_eq!((c.memory_mb, c.batch_size), (2048, 4));
        assert!((c.timeout - 0.01).abs() < 1e-15);
        assert!(static_config("64,4,10ms").is_err());
        assert!(static_config("2048,0,10ms").is_err());
        assert!(static_config("2048,4").is_err());
    }
}
