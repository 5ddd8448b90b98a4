//! What AWS Lambda charges for one invocation.
//!
//! # Formula
//! `cost = price_gb_s * (memory_mb / 1024) * billed_s + price_request`, where `billed_s` is
//! the service time rounded up to the billing granularity (1 ms since December 2020, 100 ms
//! before). Prices are derived from the per-GB-second figure, never from rounded per-ms
//! constants (those carry a bias of almost 1 %).

use serde::{Deserialize, Serialize};

/// x86 duration price, USD per GB-second (first tier, us-east-1).
pub const X86_GB_S: f64 = 0.000_016_666_7;
/// arm64 duration price, USD per GB-second (first tier, us-east-1).
pub const ARM64_GB_S: f64 = 0.000_013_333_4;
/// Request fee, USD per invocation ($0.20 per million).
pub const REQUEST_FEE: f64 = 0.000_000_2;

/// Lambda prices and billing granularity.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Pricing {
    /// USD per GB-second of billed duration.
    pub price_gb_s: f64,
    /// USD per invocation.
    pub price_request: f64,
    /// Billed duration is rounded up to a multiple of this many milliseconds.
    pub granularity_ms: u32,
}

impl Default for Pricing {
    fn default() -> Self {
        Self::x86()
    }
}

impl Pricing {
    /// x86, 1 ms billing.
    pub fn x86() -> Self {
        Self {
            price_gb_s: X86_GB_S,
            price_request: REQUEST_FEE,
            granularity_ms: 1,
        }
    }

    /// arm64, 1 ms billing.
    pub fn arm64() -> Self {
        Self {
            price_gb_s: ARM64_GB_S,
            price_request: REQUEST_FEE,
            granularity_ms: 1,
        }
    }

    /// A preset by name: `x86` or `arm64`.
    pub fn preset(name: &str) -> Option<Self> {
        match name {
            "x86" | "x86_64" => Some(Self::x86()),
            "arm64" | "arm" => Some(Self::arm64()),
            _ => None,
        }
    }

    /// Duration rounded up to the billing granularity, in seconds.
    ///
    /// A tiny tolerance keeps 0.004 s from being billed as 5 ms because of binary
    /// rounding (0.004 * 1000 is 4.000000000000001 in `f64`).
    pub fn billed_seconds(&self, seconds: f64) -> f64 {
        let step_ms = f64::from(self.granularity_ms.max(1));
        let steps = (seconds * 1e3 / step_ms - 1e-9).ceil().max(0.0);
        steps * step_ms / 1e3
    }

    /// Cost of one invocation of `seconds` at `memory_mb`, in USD.
    pub fn invocation_cost(&self, memory_mb: u32, seconds: f64) -> f64 {
        let gigabytes = f64::from(memory_mb) / 1024.0;
        self.price_gb_s * gigabytes * self.billed_seconds(seconds) + self.price_request
    }

    /// One line for reports, e.g. `x86 $0.0000166667/GB-s + $2e-7/request, 1 ms billing`.
    pub fn describe(&self) -> String {
        format!(
            "${}/GB-s + ${}/request, {} ms billing",
            self.price_gb_s, self.price_request, self.granularity_ms
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_up_to_the_millisecond() {
        let pricing = Pricing::x86();
        assert_eq!(pricing.billed_seconds(0.004), 0.004);
        assert!((pricing.billed_seconds(0.0041) - 0.005).abs() < 1e-15);
        assert!((pricing.billed_seconds(0.0155) - 0.016).abs() < 1e-15);
        let old = Pricing {
            granularity_ms: 100,
            ..pricing
        };
        assert!((old.billed_seconds(0.0155) - 0.1).abs() < 1e-15);
        assert!((old.billed_seconds(0.1001) - 0.2).abs() < 1e-15);
    }

    #[test]
    fn cost_by_hand() {
        // 2048 MB for 15.5 ms billed as 16 ms: 0.0000166667 * 2 * 0.016 + 2e-7.
        let cost = Pricing::x86().invocation_cost(2048, 0.0155);
        let expected = 0.000_016_666_7 * 2.0 * 0.016 + 0.000_000_2;
        assert!((cost - expected).abs() < 1e-18, "{cost} vs {expected}");
        // 128 MB for 100 ms on arm64: 0.0000133334 / 8 * 0.1 + 2e-7.
        let cost = Pricing::arm64().invocation_cost(128, 0.1);
        assert!((cost - (0.000_013_333_4 / 8.0 * 0.1 + 2e-7)).abs() < 1e-18);
    }
}
