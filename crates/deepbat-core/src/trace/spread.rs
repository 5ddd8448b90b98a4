//! The spreading rule: how a count of arrivals in a time bucket becomes arrival times.
//!
//! Count formats (Azure per-minute counts, per-second counts) and coarse timestamps (a CSV
//! column with one-second resolution) say only that `k` arrivals happened somewhere inside a
//! bucket `[start, start + width)`. One rule turns every such bucket into times: draw `k`
//! uniforms `u` in `[0, 1)` from a single `rand_pcg::Pcg64` seeded with the load's seed,
//! place the arrivals at `start + u * width`, and sort them within the bucket. The generator
//! is created once per load and buckets are drawn in file order, so a load is reproducible
//! from its seed, and another seed gives another, equally plausible, placement.
//!
//! Uniform placement keeps the bucket's count exact and assumes nothing about what happened
//! inside it: the arrivals of a bucket form a Poisson process conditioned on their count.

use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64;

/// The generator of one load, seeded from [`LoadOptions::seed`](super::LoadOptions::seed).
pub fn spreading_rng(seed: u64) -> Pcg64 {
    Pcg64::seed_from_u64(seed)
}

/// Appends `count` arrivals spread uniformly inside `[start, start + width)` to `arrivals`,
/// sorted among themselves.
///
/// # Errors
///
/// Returns the count back when memory for that many arrivals cannot be reserved; the
/// caller turns it into an error that names the file and line.
pub fn spread_uniform(
    rng: &mut Pcg64,
    start: f64,
    width: f64,
    count: u64,
    arrivals: &mut Vec<f64>,
) -> Result<(), u64> {
    if count == 0 {
        return Ok(());
    }
    let count_usize = usize::try_from(count).map_err(|_| count)?;
    arrivals.try_reserve(count_usize).map_err(|_| count)?;

    // `start + u * width` can round up to the bucket's end when `start` is large next to
    // `width`; keep every arrival strictly inside.
    let end = start + width;
    let last_inside = if end > start { end.next_down() } else { start };
    let first_new = arrivals.len();
    for _ in 0..count_usize {
        let u: f64 = rng.random();
        arrivals.push((start + u * width).min(last_inside));
    }
    arrivals[first_new..].sort_unstable_by(f64::total_cmp);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spread_buckets(seed: u64, buckets: &[(f64, f64, u64)]) -> Vec<f64> {
        let mut rng = spreading_rng(seed);
        let mut arrivals = Vec::new();
        for &(start, width, count) in buckets {
            spread_uniform(&mut rng, start, width, count, &mut arrivals).unwrap();
        }
        arrivals
    }

    const BUCKETS: [(f64, f64, u64); 4] =
        [(0.0, 1.0, 3), (1.0, 1.0, 0), (2.0, 1.0, 5), (60.0, 60.0, 7)];

    #[test]
    fn same_seed_gives_the_same_arrivals() {
        assert_eq!(spread_buckets(7, &BUCKETS), spread_buckets(7, &BUCKETS));
    }

    #[test]
    fn another_seed_gives_other_arrivals() {
        assert_ne!(spread_buckets(7, &BUCKETS), spread_buckets(8, &BUCKETS));
    }

    #[test]
    fn counts_are_preserved_and_every_arrival_is_inside_its_bucket() {
        let arrivals = spread_buckets(3, &BUCKETS);
        assert_eq!(arrivals.len(), 3 + 5 + 7);
        let mut next = 0;
        for &(start, width, count) in &BUCKETS {
            let bucket = &arrivals[next..next + count as usize];
            assert!(
                bucket.iter().all(|&t| start <= t && t < start + width),
                "{bucket:?} outside [{start}, {})",
                start + width
            );
            next += count as usize;
        }
    }

    #[test]
    fn arrivals_are_sorted_within_and_across_buckets() {
        let arrivals = spread_buckets(11, &BUCKETS);
        assert!(arrivals.is_sorted());
    }

    #[test]
    fn arrivals_stay_inside_a_tiny_bucket_far_from_zero() {
        // At 1e9 s one ulp is about 1.2e-7 s, so a 1e-7 s bucket is under one ulp wide:
        // every arrival must collapse onto `start` rather than spill past the end.
        let arrivals = spread_buckets(1, &[(1e9, 1e-7, 50)]);
        assert!(
            arrivals
                .iter()
                .all(|&t| (1e9..1e9 + 1e-7).contains(&t) || t == 1e9)
        );
    }

    #[test]
    fn uniforms_fill_the_bucket() {
        // 10,000 uniforms in [0, 10): the mean is 5 with a standard error of
        // 10 / sqrt(12 * 10,000) = 0.029, so 0.15 is more than five standard errors.
        let arrivals = spread_buckets(5, &[(0.0, 10.0, 10_000)]);
        let mean = arrivals.iter().sum::<f64>() / arrivals.len() as f64;
        assert!((mean - 5.0).abs() < 0.15, "mean {mean}");
    }

    #[test]
    fn an_impossible_count_is_returned_not_allocated() {
        let mut rng = spreading_rng(0);
        let mut arrivals = Vec::new();
        assert_eq!(
            spread_uniform(&mut rng, 0.0, 1.0, u64::MAX, &mut arrivals),
            Err(u64::MAX)
        );
    }
}
