//! Causal replay: run policies over a trace and score what their choices would have done.
//!
//! The selected hours are cut into consecutive windows of `L` arrivals. For window k each
//! policy chooses a configuration from what arrived before the window (the `oracle` alone
//! also sees the window), then the window's arrivals are simulated alone with that choice.
//! A window violates the SLO when its simulated percentile exceeds the SLO. Per hour and
//! overall the replay reports the violation rate (VCR), the mean cost per request, the
//! oracle's cost on the same windows, and the mean decision time.
//!
//! The first window starts after at least `L + 1` arrivals, so that every policy has a full
//! window of inter-arrival times to read; arrivals before the selected hours count as
//! history. The oracle searches of all windows run in parallel before the policies run.

use crate::platform;
use crate::policy::{Context, Evaluations, Policy, Setting};
use crate::sim::Outcome;
use crate::trace::Trace;
use rayon::prelude::*;
use serde::Serialize;
use std::ops::Range;
use std::time::Instant;

/// One policy's result on one window.
#[derive(Debug, Clone, Serialize)]
pub struct WindowRow {
    pub policy: String,
    pub hour: u32,
    pub window: usize,
    pub memory_mb: u32,
    pub batch_size: u32,
    pub timeout_s: f64,
    pub p95: f64,
    pub cost_per_request: f64,
    pub oracle_cost_per_request: f64,
    pub violated: bool,
    #[serde(skip)]
    pub decision_ms: f64,
    #[serde(skip)]
    pub outcome: Outcome,
}

/// One policy's aggregate over a group of windows (an hour, or the whole replay).
#[derive(Debug, Clone, Serialize)]
pub struct Aggregate {
    pub policy: String,
    /// The hour, or `None` for the whole replay.
    #[serde(serialize_with = "hour_or_all")]
    pub hour: Option<u32>,
    pub windows: usize,
    pub vcr_percent: f64,
    pub cost_per_request: f64,
    pub oracle_cost_per_request: f64,
    pub mean_decision_ms: f64,
}

fn hour_or_all<S: serde::Serializer>(hour: &Option<u32>, s: S) -> Result<S::Ok, S::Error> {
    match hour {
        Some(h) => s.serialize_u32(*h),
        None => s.serialize_str("all"),
    }
}

impl Aggregate {
    /// Cost relative to the oracle's on the same windows.
    pub fn cost_ratio(&self) -> f64 {
        self.cost_per_request / self.oracle_cost_per_request
    }

    fn of(policy: &str, hour: Option<u32>, rows: &[&WindowRow]) -> Self {
        let n = rows.len().max(1) as f64;
        let mean = |f: &dyn Fn(&WindowRow) -> f64| rows.iter().map(|r| f(r)).sum::<f64>() / n;
        Self {
            policy: policy.to_string(),
            hour,
            windows: rows.len(),
            vcr_percent: 100.0 * rows.iter().filter(|r| r.violated).count() as f64 / n,
            cost_per_request: mean(&|r| r.cost_per_request),
            oracle_cost_per_request: mean(&|r| r.oracle_cost_per_request),
            mean_decision_ms: mean(&|r| r.decision_ms),
        }
    }
}

/// Everything a replay produced.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub windows: Vec<WindowRow>,
    pub hours: Vec<Aggregate>,
    pub overall: Vec<Aggregate>,
}

/// The windows of `trace` inside `hours` (inclusive), as index ranges.
pub fn windows(trace: &Trace, hours: (u32, u32), window: usize) -> Vec<Range<usize>> {
    let range = trace.hour_range(hours.0, hours.1);
    let first = range.start.max(window + 1);
    (first..range.end)
        .step_by(window)
        .map(|start| start..start + window)
        .filter(|w| w.end <= range.end)
        .collect()
}

/// Replays `policies` over the windows of `trace` in `hours`.
///
/// `progress` is called once per finished oracle search and once per policy window, so a
/// caller can drive a progress bar; it receives the number of steps done so far.
pub fn run(
    trace: &Trace,
    hours: (u32, u32),
    setting: &Setting,
    policies: &mut [Box<dyn Policy>],
    progress: &(dyn Fn(u64) + Sync),
) -> Report {
    let arrivals = &trace.arrivals;
    let windows = windows(trace, hours, setting.window);
    let evaluations = Evaluations::new(arrivals, setting);

    // The oracle search of every window, in parallel; it also serves `sim-last`.
    let oracle_costs: Vec<f64> = windows
        .par_iter()
        .map(|w| {
            let cost = evaluations.best(w.clone()).expected.cost_per_request;
            progress(1);
            cost
        })
        .collect();

    // Policies are stateful, so each runs its windows in order; policies run in parallel.
    let per_policy: Vec<Vec<WindowRow>> = policies
        .par_iter_mut()
        .map(|policy| {
            windows
                .iter()
                .enumerate()
                .map(|(k, w)| {
                    let context = Context {
                        arrivals,
                        upcoming: w.clone(),
                        setting,
                        evaluations: &evaluations,
                    };
                    let started = Instant::now();
                    let decision = policy.decide(&context);
                    let decision_ms = started.elapsed().as_secs_f64() * 1e3;
                    let outcome = platform::simulate_on(
                        &arrivals[w.clone()],
                        decision.config,
                        &setting.profile,
                        &setting.pricing,
                        &setting.platform,
                    );
                    progress(1);
                    let latency = outcome.percentile(setting.objective.percentile);
                    WindowRow {
                        policy: policy.name().to_string(),
                        hour: Trace::hour_of(arrivals[w.start]),
                        window: k,
                        memory_mb: decision.config.memory_mb,
                        batch_size: decision.config.batch_size,
                        timeout_s: decision.config.timeout,
                        p95: latency,
                        cost_per_request: outcome.cost_per_request,
                        oracle_cost_per_request: oracle_costs[k],
                        violated: latency > setting.objective.slo,
                        decision_ms,
                        outcome,
                    }
                })
                .collect()
        })
        .collect();

    let mut report = Report::default();
    for rows in per_policy {
        let Some(name) = rows.first().map(|r| r.policy.clone()) else {
            continue;
        };
        let all: Vec<&WindowRow> = rows.iter().collect();
        let mut hours: Vec<u32> = rows.iter().map(|r| r.hour).collect();
        hours.dedup();
        for hour in hours {
            let in_hour: Vec<&WindowRow> = rows.iter().filter(|r| r.hour == hour).collect();
            report
                .hours
                .push(Aggregate::of(&name, Some(hour), &in_hour));
        }
        report.overall.push(Aggregate::of(&name, None, &all));
        report.windows.extend(rows);
    }
    report
}

/// The number of progress steps [`run`] reports for `windows` windows and `policies`.
pub fn progress_steps(windows: usize, policies: usize) -> u64 {
    (windows * (policies + 1)) as u64
}

/// The per-policy summary as an aligned text table.
pub fn summary_table(overall: &[Aggregate]) -> String {
    let mut out = format!(
        "{:<12} {:>8} {:>8} {:>14} {:>14} {:>10} {:>12}\n",
        "policy", "windows", "VCR %", "cost/req $", "oracle $", "vs oracle", "decision ms"
    );
    for a in overall {
        out.push_str(&format!(
            "{:<12} {:>8} {:>8.2} {:>14.4e} {:>14.4e} {:>9.3}x {:>12.3}\n",
            a.policy,
            a.windows,
            a.vcr_percent,
            a.cost_per_request,
            a.oracle_cost_per_request,
            a.cost_ratio(),
            a.mean_decision_ms
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Config;
    use crate::grid::Grid;
    use crate::optimizer::Objective;
    use crate::policy::{Oracle, SimLast, Static};
    use crate::pricing::Pricing;
    use crate::profile::ProfileSpec;

    fn setting() -> Setting {
        Setting {
            grid: Grid {
                memory_mb: vec![256, 1769, 4096],
                batch_sizes: vec![1, 2, 4, 8],
                timeouts: vec![0.0, 0.01, 0.05],
            },
            profile: ProfileSpec::default(),
            pricing: Pricing::x86(),
            objective: Objective::p95(0.1),
            window: 16,
            platform: Default::default(),
        }
    }

    #[test]
    fn windows_are_complete_and_start_after_a_full_history() {
        // 10 arrivals per second for 2 hours.
        let trace = Trace::new((0..72_000).map(|i| f64::from(i) * 0.1).collect());
        let ws = windows(&trace, (1, 1), 16);
        assert_eq!(ws[0].start, 36_000);
        assert!(ws.iter().all(|w| w.len() == 16 && w.end <= 72_000));
        assert_eq!(ws.len(), 36_000 / 16);
        let first = windows(&trace, (0, 0), 16);
        assert_eq!(first[0].start, 17);
    }

    #[test]
    fn oracle_is_never_beaten_on_cost_among_feasible_windows() {
        let trace = Trace::new(
            (0..4000)
                .map(|i| f64::from(i) * 0.02 + f64::from(i % 5) * 0.003)
                .collect(),
        );
        let setting = setting();
        let fixed = Config {
            memory_mb: 4096,
            batch_size: 1,
            timeout: 0.0,
        };
        let mut policies: Vec<Box<dyn Policy>> =
            vec![Box::new(Oracle), Box::new(SimLast), Box::new(Static(fixed))];
        let report = run(&trace, (0, 0), &setting, &mut policies, &|_| {});
        let oracle: Vec<&WindowRow> = report
            .windows
            .iter()
            .filter(|r| r.policy == "oracle")
            .collect();
        assert!(!oracle.is_empty());
        for row in &report.windows {
            let o = oracle[row.window];
            assert_eq!(o.cost_per_request, row.oracle_cost_per_request);
            if !row.violated {
                assert!(
                    row.cost_per_request >= o.cost_per_request * (1.0 - 1e-12),
                    "{row:?}"
                );
            }
        }
        // The oracle meets the SLO on every window here (4096 MB, B = 1 is always feasible).
        assert_eq!(report.overall[0].vcr_percent, 0.0);
        assert_eq!(report.overall.len(), 3);
    }
}
