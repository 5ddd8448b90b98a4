//! Seeded sampling of a MAP's arrivals.
//!
//! The phase process is simulated event by event: in phase `i` the time to the next event is
//! exponential with rate `-D0[i,i]`; the event is an arrival that moves to `j` with
//! probability `D1[i,j] / -D0[i,i]`, or a silent move to `j != i` with probability
//! `D0[i,j] / -D0[i,i]`. Holding times add up until an arrival; their sum is one
//! inter-arrival time. Arrival times are accumulated as absolute timestamps, never rebuilt
//! from rounded gaps.
//!
//! Where the first phase comes from matters: [`Start::AfterArrival`] (`π_e`) makes the first
//! interval a typical one, the right choice for interval statistics; [`Start::Stationary`]
//! (`π`) makes the process look as if it had been running forever, the right choice when
//! counting arrivals in windows that start at a fixed time.

use rand::Rng;
use rand_distr::{Distribution, Exp};

use super::Map;

/// Where a sampler draws its first phase from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// `π_e`, the phase just after a typical arrival.
    AfterArrival,
    /// `π`, the phase at a typical moment.
    Stationary,
    /// A given phase (0-based).
    Phase(usize),
}

/// One possible next event from a phase.
#[derive(Debug, Clone, Copy)]
struct Event {
    /// Probability of this event or any listed before it.
    cumulative: f64,
    /// The phase it leads to.
    to: usize,
    /// Whether it emits an arrival.
    arrival: bool,
}

/// A running sample path of a MAP.
#[derive(Debug, Clone)]
pub struct Sampler {
    /// Holding-time distribution of each phase.
    holding: Vec<Exp<f64>>,
    /// Next-event table of each phase: arrivals first (by target), then silent moves.
    events: Vec<Vec<Event>>,
    phase: usize,
}

impl Sampler {
    /// A sampler of `map` whose first phase is drawn as `start` says.
    ///
    /// # Panics
    /// When `start` is [`Start::Phase`] with a phase the MAP does not have.
    pub fn new<R: Rng + ?Sized>(map: &Map, start: Start, rng: &mut R) -> Sampler {
        let n = map.phases();
        let mut holding = Vec::with_capacity(n);
        let mut events = Vec::with_capacity(n);
        for i in 0..n {
            let total = -map.d0()[(i, i)];
            // Map::new guarantees a positive exit rate in every phase of an irreducible MAP.
            holding.push(Exp::new(total).expect("phase exit rate is positive"));
            let arrivals = (0..n).map(|j| (map.d1()[(i, j)], j, true));
            let silent = (0..n)
                .filter(|&j| j != i)
                .map(|j| (map.d0()[(i, j)], j, false));
            let mut cumulative = 0.0;
            let mut table = Vec::new();
            for (rate, to, arrival) in arrivals.chain(silent) {
                if rate > 0.0 {
                    cumulative += rate / total;
                    table.push(Event {
                        cumulative,
                        to,
                        arrival,
                    });
                }
            }
            events.push(table);
        }

        let phase = match start {
            Start::Phase(phase) => {
                assert!(phase < n, "phase {phase} of a {n}-phase MAP");
                phase
            }
            Start::AfterArrival => draw(&map.interval_stationary(), rng),
            Start::Stationary => draw(&map.stationary(), rng),
        };
        Sampler {
            holding,
            events,
            phase,
        }
    }

    /// The current phase.
    pub fn phase(&self) -> usize {
        self.phase
    }

    /// Takes the event picked by the uniform draw `u` from the current phase; returns
    /// whether it was an arrival.
    fn jump(&mut self, u: f64) -> bool {
        let table = &self.events[self.phase];
        // Rounding can leave the last cumulative a hair under 1: fall back to the last event.
        let event = table
            .iter()
            .find(|event| u < event.cumulative)
            .unwrap_or(&table[table.len() - 1]);
        self.phase = event.to;
        event.arrival
    }

    /// The time from now to the next arrival.
    pub fn next_interval<R: Rng + ?Sized>(&mut self, rng: &mut R) -> f64 {
        let mut elapsed = 0.0;
        loop {
            elapsed += self.holding[self.phase].sample(rng);
            if self.jump(rng.random()) {
                return elapsed;
            }
        }
    }

    /// Appends the arrival times in `[start, end)` to `out`, as if the process were in the
    /// current phase at time `start`. The path beyond `end` is discarded.
    pub fn arrivals_between<R: Rng + ?Sized>(
        &mut self,
        start: f64,
        end: f64,
        rng: &mut R,
        out: &mut Vec<f64>,
    ) {
        let mut t = start;
        loop {
            let hold = self.holding[self.phase].sample(rng);
            t += hold;
            if t >= end {
                return;
            }
            if self.jump(rng.random()) {
                out.push(t);
            }
        }
    }
}

/// A phase drawn from a distribution over phases.
fn draw<R: Rng + ?Sized>(weights: &nalgebra::DVector<f64>, rng: &mut R) -> usize {
    let u: f64 = rng.random();
    let mut cumulative = 0.0;
    for (phase, weight) in weights.iter().enumerate() {
        cumulative += weight;
        if u < cumulative {
            return phase;
        }
    }
    weights.len() - 1
}

impl Map {
    /// `count` consecutive inter-arrival times, the first phase drawn as `start` says.
    pub fn sample_intervals<R: Rng + ?Sized>(
        &self,
        count: usize,
        start: Start,
        rng: &mut R,
    ) -> Vec<f64> {
        let mut sampler = Sampler::new(self, start, rng);
        (0..count).map(|_| sampler.next_interval(rng)).collect()
    }

    /// Appends the arrival times in `[start, end)` to `out`, the phase at `start` drawn from
    /// the time-stationary `π`.
    pub fn sample_arrivals<R: Rng + ?Sized>(
        &self,
        start: f64,
        end: f64,
        rng: &mut R,
        out: &mut Vec<f64>,
    ) {
        Sampler::new(self, Start::Stationary, rng).arrivals_between(start, end, rng, out);
    }
}

#[cfg(test)]
#[path = "sample_tests.rs"]
mod tests;
