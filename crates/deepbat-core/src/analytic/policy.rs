//! The analytical baselines as replay policies: `batch` and `batch-exact`.
//!
//! As BATCH runs: at the start of every hour, fit a MAP(2) to the previous hour's arrivals
//! and solve the grid with the analytical model; keep that configuration for the hour.
//! When there is no previous hour in the trace (the replay starts at the trace's first
//! hour), the hour is fitted on itself, which peeks at the future; the policy records that
//! in its notes so the report can say so.

use super::{Method, Overhead, solve};
use crate::map::{DEFAULT_MAX_LAG, IntervalStatistics, Map, MapError};
use crate::policy::{Context, Decision, Policy};
use crate::trace::{Trace, hour_range_of};

/// Fewest arrivals an hour needs for a MAP(2) fit.
const FEWEST_ARRIVALS: usize = 8;

/// Re-solves an analytical model once per hour on a MAP fitted to the previous hour.
pub struct HourlyAnalytic {
    method: Method,
    overhead: Overhead,
    hour: Option<u32>,
    decision: Option<Decision>,
    notes: Vec<String>,
}

impl HourlyAnalytic {
    /// `batch` (BATCH's approximation) or `batch-exact` (the exact model).
    pub fn new(method: Method, overhead: Overhead) -> Self {
        Self {
            method,
            overhead,
            hour: None,
            decision: None,
            notes: Vec::new(),
        }
    }

    /// The MAP for `hour`: fitted to the previous hour, else to the hour itself (noted).
    fn fit_for(&mut self, context: &Context, hour: u32) -> Result<Map, MapError> {
        let arrivals = context.arrivals;
        let in_hour = |h: u32| &arrivals[hour_range_of(arrivals, h, h)];
        let previous = hour.checked_sub(1).map(in_hour).unwrap_or(&[]);
        let source = if previous.len() >= FEWEST_ARRIVALS {
            previous
        } else {
            self.notes.push(format!(
                "hour {hour}: no earlier hour with {FEWEST_ARRIVALS} arrivals, \
                 so the MAP was fitted on hour {hour} itself (it sees that hour's arrivals)"
            ));
            in_hour(hour)
        };
        let statistics = IntervalStatistics::of_arrivals(source, DEFAULT_MAX_LAG)?;
        Ok(statistics.fit()?.map)
    }
}

impl Policy for HourlyAnalytic {
    fn name(&self) -> &str {
        match self.method {
            Method::BatchApprox => "batch",
            Method::Exact => "batch-exact",
        }
    }

    fn decide(&mut self, context: &Context) -> Decision {
        let hour = Trace::hour_of(context.arrivals[context.upcoming.start]);
        if self.hour == Some(hour)
            && let Some(decision) = self.decision
        {
            return decision;
        }
        self.hour = Some(hour);
        let setting = context.setting;
        let solved = self
            .fit_for(context, hour)
            .map_err(|e| e.to_string())
            .and_then(|map| {
                solve(
                    self.method,
                    &map,
                    &setting.grid,
                    &setting.profile,
                    &setting.pricing,
                    &setting.objective,
                    self.overhead,
                )
                .map_err(|e| e.to_string())
            });
        let decision = match solved {
            Ok(choice) => Decision::from(&choice),
            Err(why) => {
                // Keep the last hour's configuration; with none, the first of the grid.
                self.notes.push(format!(
                    "hour {hour}: no MAP could be fitted ({why}); kept the last choice"
                ));
                self.decision.unwrap_or(Decision {
                    config: setting.grid.config(0),
                    feasible: false,
                    expected: None,
                })
            }
        };
        tracing::debug!(policy = self.name(), hour, config = %decision.config, "hourly solve");
        self.decision = Some(decision);
        decision
    }

    fn notes(&self) -> Vec<String> {
        self.notes.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grid::Grid;
    use crate::map::{Sampler, Start};
    use crate::optimizer::Objective;
    use crate::policy::{Evaluations, Setting};
    use crate::pricing::Pricing;
    use crate::profile::ProfileSpec;
    use rand::SeedableRng;

    fn setting() -> Setting {
        Setting {
            grid: Grid {
                memory_mb: vec![1024, 2048],
                batch_sizes: vec![1, 4, 8],
                timeouts: vec![0.0, 0.01, 0.05],
            },
            profile: ProfileSpec::default(),
            pricing: Pricing::x86(),
            objective: Objective::p95(0.1),
            window: 64,
            platform: Default::default(),
        }
    }

    /// Two hours of Poisson arrivals at 50/s, then a window in each hour.
    fn arrivals() -> Vec<f64> {
        let map = Map::poisson(50.0).unwrap();
        let mut rng = rand_pcg::Pcg64::seed_from_u64(3);
        let mut sampler = Sampler::new(&map, Start::Stationary, &mut rng);
        let mut out = Vec::new();
        sampler.arrivals_between(0.0, 7200.0, &mut rng, &mut out);
        out
    }

    #[test]
    fn solves_once_per_hour_and_notes_a_self_fit() {
        let arrivals = arrivals();
        let setting = setting();
        let evaluations = Evaluations::new(&arrivals, &setting);
        let mut policy = HourlyAnalytic::new(Method::Exact, Overhead::default());
        let at = |t: f64| arrivals.partition_point(|&a| a < t);
        let decide = |policy: &mut HourlyAnalytic, start: usize| {
            policy.decide(&Context {
                arrivals: &arrivals,
                upcoming: start..start + 64,
                setting: &setting,
                evaluations: &evaluations,
            })
        };
        let first = decide(&mut policy, at(100.0));
        assert_eq!(policy.notes().len(), 1, "hour 0 is fitted on itself");
        assert!(first.feasible);
        let again = decide(&mut policy, at(200.0));
        assert_eq!(first, again);
        decide(&mut policy, at(4000.0));
        assert_eq!(policy.notes().len(), 1, "hour 1 is fitted on hour 0");
        assert_eq!(policy.name(), "batch-exact");
    }
}
