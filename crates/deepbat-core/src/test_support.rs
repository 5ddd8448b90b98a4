//! Helpers shared by the crate's unit tests.

use crate::profile::ServiceProfile;

/// A profile whose service time is exactly `base + per * b` seconds at every memory.
pub struct Linear {
    pub base: f64,
    pub per: f64,
}

impl ServiceProfile for Linear {
    fn service_time(&self, _memory_mb: u32, batch_size: u32) -> f64 {
        self.base + self.per * f64::from(batch_size)
    }
}

/// Relative (absolute below 1) slack for sums of a handful of short decimals.
pub const TOLERANCE: f64 = 1e-12;

/// Whether `actual` is `expected` within [`TOLERANCE`].
pub fn close(actual: f64, expected: f64) -> bool {
    (actual - expected).abs() <= TOLERANCE * expected.abs().max(1.0)
}
