//! Synthetic bursty arrivals: seeded days of hourly MAP streams.
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
//! [`on_off_day`] pushes burstiness further, on purpose: each hour gets an asymptotic index
//! of dispersion between 1 and 500, by solving the knobs for it. [`day_from_maps`] samples
//! one hour from each MAP of a series, such as BATCH's 24 hourly fits.
//!
//! The MMPP(2) for the knobs has `IDC(∞) = 1 + 2 share (1 - share)² burst_length λ̄ d²`
//! with `d = (ratio - 1) / (share ratio + 1 - share)`, which [`on_off_day`] inverts for
//! `ratio`. Every stream is sampled through [`Map`]'s sampler, starting from the
//! time-stationary phase at the top of its hour.

use crate::map::{Map, MapError, MapSeries};
use crate::trace::Trace;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
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

    /// The MMPP(2) of these knobs; phase 0 is the burst state.
    ///
    /// # Errors
    /// When a knob is out of range (a rate comes out negative, NaN or infinite).
    pub fn to_map(&self) -> Result<Map, MapError> {
        let (burst, calm, r12, r21) = self.rates();
        Map::mmpp2(burst, calm, r12, r21)
    }
}

/// Samples arrivals of an MMPP(2) in `[start, end)`, appending to `out`.
///
/// # Panics
/// When the knobs are out of range (see [`BurstKnobs::to_map`]).
pub fn sample_mmpp2(knobs: &BurstKnobs, start: f64, end: f64, rng: &mut Pcg64, out: &mut Vec<f64>) {
    let map = knobs.to_map().expect("burst knobs in range");
    map.sample_arrivals(start, end, rng, out);
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

/// Highest asymptotic IDC of the on-off day.
pub const ON_OFF_MAX_IDC: f64 = 500.0;

/// The knobs of an on-off hour with mean rate `mean_rate` and asymptotic IDC `idc`: bursts
/// of 1 s on average, 10 % of the time, at the ratio that gives `idc` (1 for a Poisson hour).
pub fn on_off_knobs(mean_rate: f64, idc: f64) -> BurstKnobs {
    let (share, burst_length): (f64, f64) = (0.1, 1.0);
    // Invert the module formula: d = sqrt((idc - 1) / (2 share (1 - share)² τ λ̄)), then
    // ratio = (1 + d (1 - share)) / (1 - d share); d < 1 / share keeps the ratio finite.
    let scale = 2.0 * share * (1.0 - share).powi(2) * burst_length * mean_rate;
    let d = ((idc - 1.0).max(0.0) / scale).sqrt().min(0.99 / share);
    BurstKnobs {
        mean_rate,
        ratio: (1.0 + d * (1.0 - share)) / (1.0 - d * share),
        share,
        burst_length,
    }
}

/// A seeded on-off trace of `hours` hours whose hourly asymptotic IDC spans 1 to
/// [`ON_OFF_MAX_IDC`]: the targets are spread evenly on a log scale over the hours and
/// shuffled by the seed; the mean rate follows the diurnal swing of [`bursty_day`].
pub fn on_off_day(first_hour: u32, hours: u32, seed: u64) -> Trace {
    let mut rng = Pcg64::seed_from_u64(seed);
    let steps = f64::from(hours.max(2) - 1);
    let mut targets: Vec<f64> = (0..hours)
        .map(|i| ON_OFF_MAX_IDC.powf(f64::from(i) / steps))
        .collect();
    targets.shuffle(&mut rng);

    let mut arrivals = Vec::new();
    for (h, idc) in (0..hours).zip(targets) {
        let phase = (f64::from((first_hour + h) % 24) - 15.0) / 24.0 * std::f64::consts::TAU;
        let knobs = on_off_knobs(50.0 + 30.0 * phase.cos(), idc);
        let start = f64::from(h) * 3600.0;
        sample_mmpp2(&knobs, start, start + 3600.0, &mut rng, &mut arrivals);
    }
    Trace::new(arrivals)
}

/// A seeded trace of `hours` hours, hour `h` sampled from MAP number
/// `(first_hour + h) mod len` of `series` (BATCH's hourly fits: MAP `k` is hour `k - 1`).
pub fn day_from_maps(series: &MapSeries, first_hour: u32, hours: u32, seed: u64) -> Trace {
    let mut rng = Pcg64::seed_from_u64(seed);
    let mut arrivals = Vec::new();
    for h in 0..hours {
        let index = (first_hour + h) as usize % series.maps.len();
        let start = f64::from(h) * 3600.0;
        series.maps[index]
            .2
            .sample_arrivals(start, start + 3600.0, &mut rng, &mut arrivals);
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

    #[test]
    fn on_off_knobs_hit_the_target_idc() {
        for idc in [1.0, 2.0, 30.0, 500.0] {
            let map = on_off_knobs(35.0, idc).to_map().unwrap();
            assert!((map.idc_asymptotic() - idc).abs() < 1e-9 * idc, "{idc}");
            assert!((map.rate() - 35.0).abs() < 1e-9);
        }
    }

    #[test]
    fn on_off_hours_span_one_to_hundreds() {
        use crate::trace::index_of_dispersion_intervals;
        let trace = on_off_day(0, 24, 5);
        assert_eq!(trace, on_off_day(0, 24, 5));
        let idc: Vec<f64> = trace
            .arrivals
            .chunk_by(|a, b| Trace::hour_of(*a) == Trace::hour_of(*b))
            .map(|hour| {
                let gaps: Vec<f64> = hour.windows(2).map(|w| w[1] - w[0]).collect();
                index_of_dispersion_intervals(&gaps, 1000.min(gaps.len().div_ceil(30)))
            })
            .collect();
        assert_eq!(idc.len(), 24);
        let low = idc.iter().copied().fold(f64::INFINITY, f64::min);
        let high = idc.iter().copied().fold(0.0, f64::max);
        assert!(
            low < 1.3 && high > 200.0,
            "hourly IDC spans {low} .. {high}"
        );
    }

    #[test]
    fn a_day_from_maps_uses_each_hour_s_map() {
        let slow = Map::poisson(2.0).unwrap();
        let fast = Map::poisson(20.0).unwrap();
        let series = MapSeries {
            maps: vec![(1, "a".into(), slow), (2, "b".into(), fast)],
        };
        let trace = day_from_maps(&series, 1, 3, 4);
        let counts: Vec<usize> = (0..3).map(|h| trace.hour_range(h, h).len()).collect();
        // Hours use MAPs 2, 1, 2: about 72 000, 7 200 and 72 000 arrivals.
        assert!(counts[0] > 70_000 && counts[2] > 70_000, "{counts:?}");
        assert!((6_800..7_600).contains(&counts[1]), "{counts:?}");
    }

    /// The direct MMPP(2) sampler that `sample_mmpp2` used before it went through [`Map`]:
    /// competing exponentials, one uniform per event.
    fn direct_mmpp2(knobs: &BurstKnobs, end: f64, rng: &mut Pcg64) -> Vec<f64> {
        use rand_distr::{Distribution, Exp};
        let (burst, calm, r12, r21) = knobs.rates();
        let mut in_burst = rng.random::<f64>() < knobs.share;
        let (mut t, mut out) = (0.0, Vec::new());
        loop {
            let (rate, leave) = if in_burst { (burst, r12) } else { (calm, r21) };
            t += Exp::new(rate + leave).unwrap().sample(rng);
            if t >= end {
                return out;
            }
            if rng.random::<f64>() < rate / (rate + leave) {
                out.push(t);
            } else {
                in_burst = !in_burst;
            }
        }
    }

    #[test]
    fn the_map_sampler_repeats_the_direct_mmpp_sampler_draw_for_draw() {
        // Seeded traces (and the shipped model trained on one) must not change when the
        // sampler moved to the general MAP code.
        let knobs = BurstKnobs {
            mean_rate: 30.0,
            ratio: 12.0,
            share: 0.25,
            burst_length: 3.0,
        };
        let direct = direct_mmpp2(&knobs, 2000.0, &mut Pcg64::seed_from_u64(21));
        let mut through_map = Vec::new();
        sample_mmpp2(
            &knobs,
            0.0,
            2000.0,
            &mut Pcg64::seed_from_u64(21),
            &mut through_map,
        );
        assert_eq!(direct, through_map);
    }
}
