//! Policies: "given what has arrived so far, choose a configuration for the coming window".
//!
//! A policy sees a [`Context`]: all arrivals before the coming window, and, for the
//! clairvoyant `oracle` alone, the window itself. Simulated grid searches go through the
//! context's [`Evaluations`] so that the `oracle` of window k and the `sim-last` of window
//! k + 1, which search the same arrivals, share one computation.

use crate::grid::{Config, Grid};
use crate::optimizer::{Choice, Objective};
use crate::oracle;
use crate::platform::Platform;
use crate::pricing::Pricing;
use crate::profile::ProfileSpec;
use crate::sim::Outcome;
use std::collections::HashMap;
use std::ops::Range;
use std::sync::{Arc, Mutex};

/// The serverless setting every policy of a replay shares.
#[derive(Debug, Clone)]
pub struct Setting {
    pub grid: Grid,
    pub profile: ProfileSpec,
    pub pricing: Pricing,
    pub objective: Objective,
    /// Arrivals per decision window (L).
    pub window: usize,
    /// Invoke overhead, concurrency limit and cold starts (all off by default).
    pub platform: Platform,
}

/// Best configurations found by exact simulation, memoised per range of arrivals.
pub struct Evaluations<'a> {
    arrivals: &'a [f64],
    setting: &'a Setting,
    memo: Mutex<HashMap<(usize, usize), Arc<Choice>>>,
}

impl<'a> Evaluations<'a> {
    /// An empty memo over `arrivals`.
    pub fn new(arrivals: &'a [f64], setting: &'a Setting) -> Self {
        Self {
            arrivals,
            setting,
            memo: Mutex::new(HashMap::new()),
        }
    }

    /// The best configuration for `range` of the arrivals, by simulating the whole grid.
    pub fn best(&self, range: Range<usize>) -> Arc<Choice> {
        let key = (range.start, range.end);
        if let Some(found) = self.memo.lock().expect("memo lock").get(&key) {
            return Arc::clone(found);
        }
        // Computed outside the lock so that several threads can fill the memo at once.
        let choice = Arc::new(self.search(range));
        self.memo
            .lock()
            .expect("memo lock")
            .insert(key, Arc::clone(&choice));
        choice
    }

    fn search(&self, range: Range<usize>) -> Choice {
        let s = self.setting;
        oracle::best_on(
            &self.arrivals[range],
            &s.grid,
            &s.profile,
            &s.pricing,
            &s.platform,
            &s.objective,
        )
    }
}

/// What a policy may look at when it decides for the window `upcoming`.
pub struct Context<'a> {
    pub arrivals: &'a [f64],
    /// Index range of the coming window's arrivals.
    pub upcoming: Range<usize>,
    pub setting: &'a Setting,
    pub evaluations: &'a Evaluations<'a>,
}

impl Context<'_> {
    /// Every arrival before the coming window.
    pub fn history(&self) -> &[f64] {
        &self.arrivals[..self.upcoming.start]
    }

    /// The `window` inter-arrival times ending at the last `window` arrivals before the
    /// coming window, or `None` when there are not that many yet.
    pub fn last_gaps(&self) -> Option<Vec<f64>> {
        let n = self.setting.window;
        let end = self.upcoming.start;
        (end > n).then(|| {
            self.arrivals[end - n - 1..end]
                .windows(2)
                .map(|w| w[1] - w[0])
                .collect()
        })
    }
}

/// A policy's decision.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Decision {
    pub config: Config,
    /// Whether the policy believed its choice meets the SLO.
    pub feasible: bool,
    /// What the policy expected of its choice, if it predicts anything.
    pub expected: Option<Outcome>,
}

impl From<&Choice> for Decision {
    fn from(choice: &Choice) -> Self {
        Self {
            config: choice.config,
            feasible: choice.feasible,
            expected: Some(choice.expected),
        }
    }
}

/// Chooses a configuration for each window in turn.
pub trait Policy: Send {
    /// The name used on the command line and in reports.
    fn name(&self) -> &str;
    /// Chooses the configuration for the window `context.upcoming`.
    fn decide(&mut self, context: &Context) -> Decision;
    /// What a reader of the report should know about how the policy decided (for
    /// example, that it looked at arrivals it would not have had).
    fn notes(&self) -> Vec<String> {
        Vec::new()
    }
}

/// Clairvoyant: the best configuration for the coming window itself. A lower bound on cost.
pub struct Oracle;

impl Policy for Oracle {
    fn name(&self) -> &str {
        "oracle"
    }

    fn decide(&mut self, context: &Context) -> Decision {
        Decision::from(context.evaluations.best(context.upcoming.clone()).as_ref())
    }
}

/// The best configuration for the last window, found by exact simulation of the grid.
pub struct SimLast;

impl Policy for SimLast {
    fn name(&self) -> &str {
        "sim-last"
    }

    fn decide(&mut self, context: &Context) -> Decision {
        let end = context.upcoming.start;
        let start = end.saturating_sub(context.setting.window);
        Decision::from(context.evaluations.best(start..end).as_ref())
    }
}

/// One fixed configuration.
pub struct Static(pub Config);

impl Policy for Static {
    fn name(&self) -> &str {
        "static"
    }

    fn decide(&mut self, _context: &Context) -> Decision {
        Decision {
            config: self.0,
            feasible: true,
            expected: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setting() -> Setting {
        Setting {
            grid: Grid {
                memory_mb: vec![512, 2048],
                batch_sizes: vec![1, 4],
                timeouts: vec![0.0, 0.02],
            },
            profile: ProfileSpec::default(),
            pricing: Pricing::x86(),
            objective: Objective::p95(0.1),
            window: 4,
            platform: Default::default(),
        }
    }

    #[test]
    fn sim_last_on_window_k_equals_oracle_on_window_k_minus_one() {
        let arrivals: Vec<f64> = (0..20).map(|i| f64::from(i) * 0.01).collect();
        let setting = setting();
        let evaluations = Evaluations::new(&arrivals, &setting);
        let ctx = |upcoming| Context {
            arrivals: &arrivals,
            upcoming,
            setting: &setting,
            evaluations: &evaluations,
        };
        let oracle = Oracle.decide(&ctx(8..12));
        let sim_last = SimLast.decide(&ctx(12..16));
        assert_eq!(oracle, sim_last);
        // Both searched the same arrivals, so the memo holds one entry for them.
        assert_eq!(evaluations.memo.lock().unwrap().len(), 1);
    }

    #[test]
    fn last_gaps_needs_one_arrival_more_than_the_window() {
        let arrivals = [0.0, 1.0, 3.0, 6.0, 10.0, 15.0];
        let setting = setting();
        let evaluations = Evaluations::new(&arrivals, &setting);
        let ctx = |upcoming| Context {
            arrivals: &arrivals,
            upcoming,
            setting: &setting,
            evaluations: &evaluations,
        };
        assert_eq!(ctx(4..6).last_gaps(), None);
        assert_eq!(ctx(5..6).last_gaps(), Some(vec![1.0, 2.0, 3.0, 4.0]));
    }
}
