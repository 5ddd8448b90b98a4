//! The `deepbat` policy: the surrogate reads the last window and the optimizer picks.

use deepbat_core::optimizer::{self, Objective};
use deepbat_core::policy::{Context, Decision, Policy};
use deepbat_model::Bundle;

/// Scores the whole grid with the surrogate on the last window's inter-arrival times.
pub struct SurrogatePolicy {
    bundle: Bundle,
    objective: Objective,
    /// Used until a full window has arrived.
    fallback: Decision,
}

impl SurrogatePolicy {
    pub fn new(bundle: Bundle, objective: Objective, fallback: Decision) -> Self {
        Self {
            bundle,
            objective,
            fallback,
        }
    }
}

impl Policy for SurrogatePolicy {
    fn name(&self) -> &str {
        "deepbat"
    }

    fn decide(&mut self, context: &Context) -> Decision {
        let Some(gaps) = context.last_gaps() else {
            return self.fallback;
        };
        match self.bundle.predict_grid(&gaps) {
            Ok(outcomes) => {
                let choice = optimizer::choose(self.bundle.grid(), &outcomes, &self.objective);
                Decision::from(&choice)
            }
            Err(error) => {
                tracing::warn!(%error, "surrogate failed; keeping the fallback configuration");
                self.fallback
            }
        }
    }
}
