//! Synthetic bursty arrivals: a seeded day of hourly MMPP(2) streams.
//!
//! An MMPP(2) alternates between a burst state (rate `λ1`) and a calm state (rate `λ2`),
//! staying in each for an exponential time. It is set from four knobs a person can reason
//! about: the mean rate, the burst ratio `λ1 / λ2`, the share of time in the burst state,
//! and the mean burst length.
//!
//! # Formula
//! `r12 = 1 / burst_length`, `r21 = r12 * share / (1 - share)`,
//! `λ2 = mean_rate / (share * ratio + 1 - share)`, `λ1 = ratio * λ2`.
//!
//! The day generator draws each hour's knobs from a seeded generator: a diurnal mean rate
//! between about 20 and 80 requests per second, and burstiness that ranges from nearly
//! Poisson to strongly bursty, so that the best configuration shifts from hour to hour.

use crate::trace::Trace;
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, Exp};
use rand_pcg::Pcg64;

/// The knobs of one MMPP(2).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BurstKnobs {
    /// Long-run arrivals per second.
    pub mean_rate: f64,
    /// Burst rate over calm rate, at least 1.
    pub ratio: f64,
    /// Share of time in the burst state, in (0, 1).
    pub share: f64,
    /// Mean time in the burst state, seconds.
    pub burst_length: f64,
}

impl BurstKnobs {
    /// The rates (λ1, λ2) and switching rates (r12, r21) of the module formula.
    pub fn rates(&self) -> (f64, f64, f64, f64) {
        let r12 = 1.0 / self.burst_length;
        let r21 = r12 * self.share / (1.0 - self.share);
        let calm = self.mean_rate / (self.share * self.ratio + 1.0 - self.share);
        (self.ratio * calm, calm, r12, r21)
    }
}

/// Samples arrivals of an MMPP(2) in `[start, end)`, appending to `out`.
pub fn sample_mmpp2(knobs: &BurstKnobs, start: f64, end: f64, rng: &mut Pcg64, out: &mut Vec<f64>) {
    let (burst, calm, r12, r21) = knobs.rates();
    // Start in the burst state with its stationary probability.
    let mut in_burst = rng.random::<f64>() < knobs.share;
    let mut t = start;
    loop {
        let (rate, leave) = if in_burst { (burst, r12) } else { (calm, r21) };
        // Competing exponentials: the next arrival or the next switch, whichever is first.
        let total = rate + leave;
        t += Exp::new(total).expect("positive rate").sample(rng);
        if t >= end {
            return;
        }
        if rng.random::<f64>() < rate / total {
            out.push(t);
        } else {
            in_burst = !in_burst;
        }
    }
}

/// The knobs of hour `hour` of a synthetic day.
fn hour_knobs(hour: u32, rng: &mut Pcg64) -> BurstKnobs {
    // A diurnal swing between about 20 and 80 requests per second, peaking mid-afternoon.
    let phase = (f64::from(hour) - 15.0) / 24.0 * std::f64::consts::TAU;
    let mean_rate = 50.0 + 30.0 * phase.cos();
    BurstKnobs {
        mean_rate: mean_rate * rng.random_range(0.85..1.15),
        ratio: 10f64.powf(rng.random_range(0.0..1.6)),
        share: rng.random_range(0.05..0.4),
        burst_length: 10f64.powf(rng.random_range(-0.5..1.3)),
    }
}

/// A seeded synthetic trace of `hours` hours, starting at hour `first_hour` of the day.
pub fn bursty_day(first_hour: u32, hours: u32, seed: u64) -> Trace {
    let mut rng = Pcg64::seed_from_u64(seed);
    let mut arrivals = Vec::new();
    for h in 0..hours {
        let knobs = hour_knobs((first_hour + h) % 24, &mut rng);
        let start = f64::from(h) * 3600.0;
        sample_mmpp2(&knobs, start, start + 3600.0, &mut rng, &mut arrivals);
    }
    Trace::new(arrivals)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn knobs_give_the_mean_rate() {
        let knobs = BurstKnobs {
            mean_rate: 40.0,
            ratio: 9.0,
            share: 0.2,
            burst_length: 2.0,
        };
        let (l1, l2, r12, r21) = knobs.rates();
        // Stationary rate (l1 r21 + l2 r12) / (r12 + r21) must equal the mean rate.
        let rate = (l1 * r21 + l2 * r12) / (r12 + r21);
        assert!((rate - 40.0).abs() < 1e-9);
        assert!((l1 / l2 - 9.0).abs() < 1e-12);
        // Share of time in burst: r21 / (r12 + r21).
        assert!((r21 / (r12 + r21) - 0.2).abs() < 1e-12);
    }

    #[test]
    fn sampled_rate_matches_within_noise() {
        let knobs = BurstKnobs {
            mean_rate: 50.0,
            ratio: 5.0,
            share: 0.3,
            burst_length: 1.0,
        };
        let mut rng = Pcg64::seed_from_u64(7);
        let mut out = Vec::new();
        sample_mmpp2(&knobs, 0.0, 20_000.0, &mut rng, &mut out);
        let rate = out.len() as f64 / 20_000.0;
        // 10^6 arrivals of a bursty process: a 2 % band is many standard errors wide.
        assert!((rate - 50.0).abs() < 1.0, "rate {rate}");
        assert!(out.windows(2).all(|w| w[0] <= w[1]));
    }

    #[test]
    fn day_is_seeded() {
        let a = bursty_day(0, 1, 3);
        assert_eq!(a, bursty_day(0, 1, 3));
        assert_ne!(a, bursty_day(0, 1, 4));
        assert!(a.arrivals.iter().all(|&t| (0.0..3600.0).contains(&t)));
    }
}
