//! What the serverless platform adds beyond the buffer rule; all of it off by default.
//!
//! - **Invoke overhead**: a constant number of seconds (network, the invoke API) added to
//!   every request's latency. It is not billed: Lambda bills the function's execution,
//!   which starts after the request has reached it.
//! - **Concurrency limit**: at most `C` invocations run at once. A batch dispatched while
//!   all `C` are busy waits, in dispatch order (FIFO), for the first one to finish; that
//!   wait counts in its requests' latency.
//! - **Cold starts**: an invocation that finds no instance that finished within the
//!   keep-alive window starts a new one and pays `init` seconds, in latency and, as Lambda
//!   has billed the INIT phase of every on-demand function since August 2025, in billed
//!   duration (init + service, rounded up together). A warm invocation reuses the instance
//!   that finished most recently. A simulation starts with no instance, so its first
//!   invocation is cold.
//!
//! An instance is busy from the start of its invocation until `init` (when cold) plus
//! `s(M, b)` later; the overhead is spent outside it. With every option off,
//! [`simulate_on`] is exactly [`sim::simulate`], which it calls.

use crate::grid::{Config, Grid};
use crate::pricing::Pricing;
use crate::profile::ServiceProfile;
use crate::sim::{self, Outcome};
use serde::{Deserialize, Serialize};

/// Cold-start settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ColdStart {
    /// Seconds a new instance spends initialising before it serves its first batch.
    pub init_s: f64,
    /// Seconds an idle instance stays warm after its last invocation.
    pub keep_alive_s: f64,
}

/// The platform options of the module docs.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Platform {
    /// Seconds added to every request's latency, not billed.
    #[serde(default)]
    pub invoke_overhead_s: f64,
    /// Most invocations running at once; `None` for no limit.
    #[serde(default)]
    pub concurrency: Option<u32>,
    /// Cold starts; `None` to treat every invocation as warm.
    #[serde(default)]
    pub cold_start: Option<ColdStart>,
}

impl Platform {
    /// Whether every option is off, so the plain simulator applies.
    pub fn is_default(&self) -> bool {
        *self == Self::default()
    }

    /// Checks the values; `Err` holds a message naming the bad one.
    ///
    /// # Errors
    /// A negative or non-finite overhead, init or keep-alive time, or a limit of 0.
    pub fn validate(&self) -> Result<(), String> {
        let check = |name: &str, value: f64| {
            if value.is_finite() && value >= 0.0 {
                Ok(())
            } else {
                Err(format!("{name} {value} s must be a non-negative number"))
            }
        };
        check("invoke overhead", self.invoke_overhead_s)?;
        if let Some(cold) = self.cold_start {
            check("init time", cold.init_s)?;
            check("keep-alive", cold.keep_alive_s)?;
        }
        if self.concurrency == Some(0) {
            return Err("concurrency limit 0: at least one invocation must run".into());
        }
        Ok(())
    }

    /// One line for reports.
    pub fn describe(&self) -> String {
        if self.is_default() {
            return "no overhead, no concurrency limit, no cold starts".into();
        }
        let mut parts = vec![format!(
            "invoke overhead {}",
            crate::units::format_ms(self.invoke_overhead_s)
        )];
        parts.push(match self.concurrency {
            Some(c) => format!("concurrency limit {c}"),
            None => "no concurrency limit".into(),
        });
        parts.push(match self.cold_start {
            Some(c) => format!(
                "cold starts (init {}, keep-alive {})",
                crate::units::format_ms(c.init_s),
                crate::units::format_ms(c.keep_alive_s)
            ),
            None => "no cold starts".into(),
        });
        parts.join(", ")
    }
}

/// What happened to one invocation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Invocation {
    /// When the batch left the buffer.
    pub dispatch: f64,
    /// When an instance began it (later than `dispatch` only under a concurrency limit).
    pub start: f64,
    /// Whether it paid the init time.
    pub cold: bool,
}

/// Simulates one configuration over sorted `arrivals` on `platform`.
pub fn simulate_on(
    arrivals: &[f64],
    config: Config,
    profile: &dyn ServiceProfile,
    pricing: &Pricing,
    platform: &Platform,
) -> Outcome {
    if platform.is_default() {
        return sim::simulate(arrivals, config, profile, pricing);
    }
    let mut batches = Vec::new();
    sim::form_batches(arrivals, config.batch_size, config.timeout, &mut batches);
    let invocations = schedule(&batches, config, profile, platform);
    let init = platform.cold_start.map_or(0.0, |c| c.init_s);

    // Warm and cold invocations are priced by size separately, each sum in size order as
    // in the plain simulator; with no cold one the total is bit-identical to it.
    let largest = batches.iter().map(|b| b.len).max().unwrap_or(0);
    let mut counts = [vec![0u32; largest + 1], vec![0u32; largest + 1]];
    let mut prices = [vec![0.0; largest + 1], vec![0.0; largest + 1]];
    let mut latencies = Vec::with_capacity(arrivals.len());
    for (batch, run) in batches.iter().zip(&invocations) {
        let service = profile.service_time(config.memory_mb, batch.len as u32);
        let (kind, extra) = if run.cold { (1, init) } else { (0, 0.0) };
        counts[kind][batch.len] += 1;
        prices[kind][batch.len] = pricing.invocation_cost(config.memory_mb, extra + service);
        let done = run.start + extra + service + platform.invoke_overhead_s;
        for &arrival in &arrivals[batch.first..batch.first + batch.len] {
            latencies.push(done - arrival);
        }
    }
    let total = sim::total_cost(&counts[0], &prices[0]) + sim::total_cost(&counts[1], &prices[1]);
    sim::summarise(&mut latencies, total, batches.len())
}

/// When each batch starts and whether it is cold, in dispatch order.
pub fn schedule(
    batches: &[sim::Batch],
    config: Config,
    profile: &dyn ServiceProfile,
    platform: &Platform,
) -> Vec<Invocation> {
    let limit = platform.concurrency.map_or(usize::MAX, |c| c as usize);
    let (init, keep_alive) = platform
        .cold_start
        .map_or((0.0, f64::INFINITY), |c| (c.init_s, c.keep_alive_s));
    // When each live instance becomes free.
    let mut free_at: Vec<f64> = Vec::new();
    let mut out = Vec::with_capacity(batches.len());
    for batch in batches {
        let service = profile.service_time(config.memory_mb, batch.len as u32);
        let mut start = batch.dispatch;
        let (slot, cold) = loop {
            // Instances idle longer than the keep-alive are gone.
            free_at.retain(|&f| f > start || start - f <= keep_alive);
            let warm = free_at
                .iter()
                .enumerate()
                .filter(|(_, f)| **f <= start)
                .max_by(|a, b| a.1.total_cmp(b.1))
                .map(|(i, _)| i);
            if let Some(i) = warm {
                break (i, false);
            }
            if free_at.len() < limit {
                free_at.push(start);
                break (free_at.len() - 1, platform.cold_start.is_some());
            }
            // Every instance is busy: wait for the first to finish.
            start = free_at.iter().copied().fold(f64::INFINITY, f64::min);
        };
        let extra = if cold { init } else { 0.0 };
        free_at[slot] = start + extra + service;
        out.push(Invocation {
            dispatch: batch.dispatch,
            start,
            cold,
        });
    }
    out
}

/// Simulates every configuration of `grid` on `platform`, in grid index order. With the
/// default platform this is [`sim::evaluate_grid`]; otherwise each configuration is
/// simulated on its own (batches interact through instances, so no sharing applies).
pub fn evaluate_grid_on(
    arrivals: &[f64],
    grid: &Grid,
    profile: &dyn ServiceProfile,
    pricing: &Pricing,
    platform: &Platform,
) -> Vec<Outcome> {
    if platform.is_default() {
        return sim::evaluate_grid(arrivals, grid, profile, pricing);
    }
    grid.configs()
        .map(|config| simulate_on(arrivals, config, profile, pricing, platform))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::Linear;

    const ONE_SECOND: Linear = Linear {
        base: 1.0,
        per: 0.0,
    };

    fn config(batch_size: u32, timeout: f64) -> Config {
        Config {
            memory_mb: 1024,
            batch_size,
            timeout,
        }
    }

    #[test]
    fn default_platform_is_the_plain_simulator() {
        let arrivals = [0.0, 0.01, 0.5, 0.52, 3.0];
        let c = config(2, 0.05);
        let plain = sim::simulate(&arrivals, c, &ONE_SECOND, &Pricing::x86());
        let on = simulate_on(
            &arrivals,
            c,
            &ONE_SECOND,
            &Pricing::x86(),
            &Platform::default(),
        );
        assert_eq!(plain, on);
    }

    #[test]
    fn overhead_adds_latency_but_no_cost() {
        let arrivals = [0.0, 2.0];
        let c = config(1, 0.0);
        let platform = Platform {
            invoke_overhead_s: 0.03,
            ..Platform::default()
        };
        let plain = sim::simulate(&arrivals, c, &ONE_SECOND, &Pricing::x86());
        let on = simulate_on(&arrivals, c, &ONE_SECOND, &Pricing::x86(), &platform);
        assert!((on.p99 - 1.03).abs() < 1e-12 && (on.p50 - 1.03).abs() < 1e-12);
        assert_eq!(on.cost_per_request, plain.cost_per_request);
    }

    #[test]
    fn concurrency_limit_queues_in_fifo_order() {
        // B = 1, T = 0, s = 1 s, limit 2. Arrivals 0, 0.1, 0.2, 0.3:
        // 0 and 0.1 start at once; 0.2 waits for the instance free at 1.0, 0.3 for the one
        // free at 1.1. Latencies 1, 1, 1.8, 1.8.
        let arrivals = [0.0, 0.1, 0.2, 0.3];
        let platform = Platform {
            concurrency: Some(2),
            ..Platform::default()
        };
        let mut batches = Vec::new();
        sim::form_batches(&arrivals, 1, 0.0, &mut batches);
        let runs = schedule(&batches, config(1, 0.0), &ONE_SECOND, &platform);
        let starts: Vec<f64> = runs.iter().map(|r| r.start).collect();
        assert_eq!(starts, vec![0.0, 0.1, 1.0, 1.1]);
        assert!(runs.iter().all(|r| !r.cold));
        let out = simulate_on(
            &arrivals,
            config(1, 0.0),
            &ONE_SECOND,
            &Pricing::x86(),
            &platform,
        );
        // Sorted latencies 1, 1, 1.8, 1.8: p50 (rank 2) 1.0, p90 (rank 4) 1.8.
        assert!(
            (out.p50 - 1.0).abs() < 1e-12 && (out.p90 - 1.8).abs() < 1e-12,
            "{out:?}"
        );
        // Waiting is not billed: four invocations of 1 s each.
        let plain = sim::simulate(&arrivals, config(1, 0.0), &ONE_SECOND, &Pricing::x86());
        assert_eq!(out.cost_per_request, plain.cost_per_request);
    }

    #[test]
    fn cold_starts_by_hand() {
        // B = 1, T = 0, s = 1 s, init 0.5 s, keep-alive 10 s. Arrivals 0, 0.2, 5, 20:
        // 0 is cold (no instance; busy until 1.5), 0.2 is cold (the first is busy; until
        // 1.7), 5 is warm (idle since 1.7, 3.3 s < 10 s), 20 is cold (idle 14 s > 10 s).
        let arrivals = [0.0, 0.2, 5.0, 20.0];
        let platform = Platform {
            cold_start: Some(ColdStart {
                init_s: 0.5,
                keep_alive_s: 10.0,
            }),
            ..Platform::default()
        };
        let c = config(1, 0.0);
        let mut batches = Vec::new();
        sim::form_batches(&arrivals, 1, 0.0, &mut batches);
        let cold: Vec<bool> = schedule(&batches, c, &ONE_SECOND, &platform)
            .iter()
            .map(|r| r.cold)
            .collect();
        assert_eq!(cold, vec![true, true, false, true]);
        let out = simulate_on(&arrivals, c, &ONE_SECOND, &Pricing::x86(), &platform);
        // Latencies 1.5, 1.5, 1.0, 1.5: p50 (rank 2) 1.5.
        assert!((out.p50 - 1.5).abs() < 1e-12);
        // Billed 1.5 s three times and 1 s once, at 1 GB, plus four request fees.
        let expected = (0.000_016_666_7 * (3.0 * 1.5 + 1.0) + 4.0 * 2e-7) / 4.0;
        assert!((out.cost_per_request - expected).abs() < 1e-18, "{out:?}");
    }

    #[test]
    fn a_warm_start_reuses_the_most_recently_freed_instance() {
        // No limit, init 0, keep-alive 1 s, s = 1 s, B = 1. t=0 starts A (free at 1),
        // t=0.5 starts B (free at 1.5). At t=1.6 both are idle: the most recently freed, B,
        // serves it (busy to 2.6). At t=2.2 A has idled 1.2 s and is gone, B is busy: cold.
        // (Reusing A at 1.6 instead would have left B warm for 2.2.)
        let arrivals = [0.0, 0.5, 1.6, 2.2];
        let platform = Platform {
            cold_start: Some(ColdStart {
                init_s: 0.0,
                keep_alive_s: 1.0,
            }),
            ..Platform::default()
        };
        let mut batches = Vec::new();
        sim::form_batches(&arrivals, 1, 0.0, &mut batches);
        let cold: Vec<bool> = schedule(&batches, config(1, 0.0), &ONE_SECOND, &platform)
            .iter()
            .map(|r| r.cold)
            .collect();
        assert_eq!(cold, vec![true, true, false, true]);
    }

    #[test]
    fn a_limit_with_cold_starts_waits_for_a_warm_instance() {
        // Limit 1, init 0.5 s, s = 1 s: 0 is cold (busy to 1.5); 0.1 waits until 1.5 and
        // takes the just-freed instance warm: latency 1.5 - 0.1 + 1 = 2.4.
        let arrivals = [0.0, 0.1];
        let platform = Platform {
            concurrency: Some(1),
            cold_start: Some(ColdStart {
                init_s: 0.5,
                keep_alive_s: 60.0,
            }),
            ..Platform::default()
        };
        let out = simulate_on(
            &arrivals,
            config(1, 0.0),
            &ONE_SECOND,
            &Pricing::x86(),
            &platform,
        );
        assert!((out.p99 - 2.4).abs() < 1e-12, "{out:?}");
        assert!((out.p50 - 1.5).abs() < 1e-12, "{out:?}");
    }

    #[test]
    fn rejects_bad_values() {
        let bad = Platform {
            concurrency: Some(0),
            ..Platform::default()
        };
        assert!(bad.validate().unwrap_err().contains("0"));
        let bad = Platform {
            invoke_overhead_s: -1.0,
            ..Platform::default()
        };
        assert!(bad.validate().unwrap_err().contains("-1"));
    }
}
