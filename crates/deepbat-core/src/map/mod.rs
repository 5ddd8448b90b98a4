//! Markovian arrival processes (MAPs): the arrival model behind the analytical latency model.
//!
//! A MAP with `n` phases is a pair of `n x n` rate matrices. `D0` holds the moves between
//! phases that emit nothing (its diagonal is minus the total rate of leaving each phase);
//! `D1` holds the moves that emit one arrival. Their sum `Q = D0 + D1` is the generator of the
//! phase process, so every row of `D0 + D1` sums to zero. A Poisson process is the one-phase
//! MAP `D0 = [-λ]`, `D1 = [λ]`; an MMPP(2) has a diagonal `D1` of the two phase rates.
//!
//! # Formula
//! The quantities everything else builds on:
//! - `π`, the time-stationary phase distribution: `π Q = 0`, `π 1 = 1`;
//! - `λ = π D1 1`, the long-run arrival rate;
//! - `P = (-D0)^-1 D1`, the phase seen just after an arrival given the one after the
//!   previous arrival (the embedded chain, a stochastic matrix);
//! - `π_e = π D1 / λ`, its stationary distribution: the phase right after a typical arrival.
//!
//! A [`Map`] can only be built through a validating constructor, so every method may assume
//! a well-formed, irreducible process with at least one arrival transition.

mod analysis;
mod estimate;
mod fit;
mod io;
mod sample;

pub use estimate::{DEFAULT_MAX_LAG, IDC_WINDOW_S, IntervalStatistics, least_squares_decay};
pub use fit::{FitMethod, Fitted, decay_range, fit_map2, map2_fit, normalise, third_moment_rule};
pub use io::{MapSeries, load_series, matrix_text, write_pair};
pub use sample::{Sampler, Start};

use std::path::{Path, PathBuf};

use nalgebra::{DMatrix, DVector};

/// Relative tolerance on the row sums of `D0 + D1`: a row passes when its sum is within this
/// share of the largest magnitude in the row. BATCH writes rates with six decimals, so its
/// files carry rounding errors of about 1e-8 relative; 1e-6 leaves room and still catches
/// a wrong diagonal.
pub const ROW_SUM_TOLERANCE: f64 = 1e-6;

/// Why a MAP could not be built, loaded or fitted.
#[derive(Debug, thiserror::Error)]
pub enum MapError {
    /// A matrix has no rows.
    #[error("{which} is empty")]
    Empty {
        /// `D0` or `D1`.
        which: &'static str,
    },

    /// A matrix is not square.
    #[error("{which} is {rows}x{cols}, not square")]
    NotSquare {
        /// `D0` or `D1`.
        which: &'static str,
        /// Number of rows.
        rows: usize,
        /// Number of columns.
        cols: usize,
    },

    /// `D0` and `D1` have different sizes.
    #[error("D0 is {d0}x{d0} but D1 is {d1}x{d1}")]
    SizeMismatch {
        /// Phases of D0.
        d0: usize,
        /// Phases of D1.
        d1: usize,
    },

    /// An entry is NaN or infinite.
    #[error("{which}[{row},{col}] = {value} is not finite")]
    NotFinite {
        /// `D0` or `D1`.
        which: &'static str,
        /// 0-based row.
        row: usize,
        /// 0-based column.
        col: usize,
        /// The entry.
        value: f64,
    },

    /// An entry that is a rate is below zero (any entry of D1, or off the diagonal of D0).
    #[error("{which}[{row},{col}] = {value} is a rate and must not be negative")]
    NegativeRate {
        /// `D0` or `D1`.
        which: &'static str,
        /// 0-based row.
        row: usize,
        /// 0-based column.
        col: usize,
        /// The entry.
        value: f64,
    },

    /// A row of `D0 + D1` does not sum to zero.
    #[error("row {row} of D0 + D1 sums to {sum}, not 0 (relative tolerance {ROW_SUM_TOLERANCE})")]
    RowSum {
        /// 0-based row.
        row: usize,
        /// The sum.
        sum: f64,
    },

    /// `D1` is all zeros: the process never emits an arrival.
    #[error("D1 has no positive entry: the process never emits an arrival")]
    NoArrivals,

    /// Some phase cannot reach some other phase.
    #[error("the phase process is reducible: phase {to} cannot be reached from phase {from}")]
    Reducible {
        /// A phase.
        from: usize,
        /// A phase that `from` never reaches.
        to: usize,
    },

    /// A numerical step (a linear solve) failed.
    #[error("{what} is singular")]
    Singular {
        /// The matrix that could not be inverted.
        what: &'static str,
    },

    /// A parameter of a named constructor is out of range.
    #[error("{name} = {value} is out of range: {why}")]
    BadParameter {
        /// The parameter.
        name: &'static str,
        /// Its value.
        value: f64,
        /// The range it must be in.
        why: &'static str,
    },

    /// A file could not be read or written.
    #[error("{}: {source}", .path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },

    /// A matrix file has a field that is not a finite number, or ragged rows.
    #[error("{} line {line}: {why}", .path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// What is wrong, with the offending text.
        why: String,
    },

    /// A MAP read from files is not valid.
    #[error("{} + {}: {source}", .d0.display(), .d1.display())]
    InFiles {
        /// The D0 file.
        d0: PathBuf,
        /// The D1 file.
        d1: PathBuf,
        /// What is wrong with the pair.
        source: Box<MapError>,
    },

    /// A folder holds no `MAP<k>_D0`/`W<k>_D0` pair.
    #[error("{}: no MAP<k>_D0 / MAP<k>_D1 (or W<k>_D0 / W<k>_D1) files", .dir.display())]
    NoMaps {
        /// The folder.
        dir: PathBuf,
    },

    /// A MAP(2) fit has no solution for these statistics.
    #[error("no MAP(2) has {what} = {value}: {why}")]
    Infeasible {
        /// The statistic that is out of reach.
        what: &'static str,
        /// Its value.
        value: f64,
        /// The condition it breaks.
        why: String,
    },
}

/// A validated Markovian arrival process. See the module documentation.
#[derive(Debug, Clone, PartialEq)]
pub struct Map {
    d0: DMatrix<f64>,
    d1: DMatrix<f64>,
    /// `π`, cached at construction.
    stationary: DVector<f64>,
    /// `(-D0)^-1`, cached at construction.
    neg_d0_inverse: DMatrix<f64>,
}

impl Map {
    /// Builds a MAP from its two rate matrices.
    ///
    /// # Errors
    /// When a matrix is empty or not square, the sizes differ, an entry is NaN or infinite,
    /// a rate (an entry of `D1`, an off-diagonal entry of `D0`) is negative, a row of
    /// `D0 + D1` does not sum to zero within [`ROW_SUM_TOLERANCE`], `D1` is all zeros, or the
    /// phase process is reducible.
    pub fn new(d0: DMatrix<f64>, d1: DMatrix<f64>) -> Result<Map, MapError> {
        check_shape("D0", &d0)?;
        check_shape("D1", &d1)?;
        if d0.nrows() != d1.nrows() {
            return Err(MapError::SizeMismatch {
                d0: d0.nrows(),
                d1: d1.nrows(),
            });
        }
        let n = d0.nrows();
        for (which, matrix) in [("D0", &d0), ("D1", &d1)] {
            for row in 0..n {
                for col in 0..n {
                    let value = matrix[(row, col)];
                    if !value.is_finite() {
                        return Err(MapError::NotFinite {
                            which,
                            row,
                            col,
                            value,
                        });
                    }
                    let is_rate = which == "D1" || row != col;
                    if is_rate && value < 0.0 {
                        return Err(MapError::NegativeRate {
                            which,
                            row,
                            col,
                            value,
                        });
                    }
                }
            }
        }

        for row in 0..n {
            let sum: f64 = d0.row(row).sum() + d1.row(row).sum();
            let scale = d0.row(row).amax().max(d1.row(row).amax());
            // Written so that a NaN sum (from overflowing entries) fails too.
            let within = sum.abs() <= ROW_SUM_TOLERANCE * scale;
            if !within {
                return Err(MapError::RowSum { row, sum });
            }
        }
        if !d1.iter().any(|&rate| rate > 0.0) {
            return Err(MapError::NoArrivals);
        }
        check_irreducible(&d0, &d1)?;

        // An irreducible generator with some arrival rate makes -D0 nonsingular; the solves
        // below can only fail on numerically degenerate input (rates spanning 1e300).
        let generator = &d0 + &d1;
        let stationary =
            solve_stationary(&generator).ok_or(MapError::Singular { what: "Q + 1 1^T" })?;
        let neg_d0_inverse = (-&d0)
            .try_inverse()
            .ok_or(MapError::Singular { what: "D0" })?;
        if !neg_d0_inverse.iter().all(|x| x.is_finite())
            || !stationary.iter().all(|x| x.is_finite())
        {
            return Err(MapError::Singular { what: "D0" });
        }
        Ok(Map {
            d0,
            d1,
            stationary,
            neg_d0_inverse,
        })
    }

    /// The Poisson process of `rate` arrivals per second, a one-phase MAP.
    ///
    /// # Errors
    /// When `rate` is not a positive finite number.
    pub fn poisson(rate: f64) -> Result<Map, MapError> {
        positive("rate", rate)?;
        Map::new(
            DMatrix::from_element(1, 1, -rate),
            DMatrix::from_element(1, 1, rate),
        )
    }

    /// The MMPP(2) that emits at `rate_1` in phase 1 and `rate_2` in phase 2 and moves
    /// 1 → 2 at `switch_12` and 2 → 1 at `switch_21` per second.
    ///
    /// # Errors
    /// When a rate is negative or not finite, both arrival rates are zero, or a switching
    /// rate is not positive (the phases would not communicate).
    pub fn mmpp2(
        rate_1: f64,
        rate_2: f64,
        switch_12: f64,
        switch_21: f64,
    ) -> Result<Map, MapError> {
        non_negative("rate_1", rate_1)?;
        non_negative("rate_2", rate_2)?;
        positive("switch_12", switch_12)?;
        positive("switch_21", switch_21)?;
        let d0 = DMatrix::from_row_slice(
            2,
            2,
            &[
                -rate_1 - switch_12,
                switch_12,
                switch_21,
                -rate_2 - switch_21,
            ],
        );
        let d1 = DMatrix::from_row_slice(2, 2, &[rate_1, 0.0, 0.0, rate_2]);
        Map::new(d0, d1)
    }

    /// Number of phases.
    pub fn phases(&self) -> usize {
        self.d0.nrows()
    }

    /// The hidden-transition matrix `D0`.
    pub fn d0(&self) -> &DMatrix<f64> {
        &self.d0
    }

    /// The arrival-transition matrix `D1`.
    pub fn d1(&self) -> &DMatrix<f64> {
        &self.d1
    }

    /// The generator `Q = D0 + D1` of the phase process.
    pub fn generator(&self) -> DMatrix<f64> {
        &self.d0 + &self.d1
    }

    /// `π`, the time-stationary phase distribution (`π Q = 0`, entries sum to 1), stored as
    /// a column vector.
    pub fn stationary(&self) -> DVector<f64> {
        self.stationary.clone()
    }

    /// `λ = π D1 1`, long-run arrivals per second.
    pub fn rate(&self) -> f64 {
        (self.stationary.transpose() * &self.d1).sum()
    }

    /// `(-D0)^-1`: entry `(i, j)` is the expected time spent in phase `j` before the next
    /// arrival, starting in phase `i`.
    pub fn neg_d0_inverse(&self) -> &DMatrix<f64> {
        &self.neg_d0_inverse
    }

    /// The embedded chain `P = (-D0)^-1 D1` of phases just after arrivals.
    pub fn embedded(&self) -> DMatrix<f64> {
        &self.neg_d0_inverse * &self.d1
    }

    /// `π_e = π D1 / λ`, the phase distribution right after a typical arrival.
    pub fn interval_stationary(&self) -> DVector<f64> {
        let row = self.stationary.transpose() * &self.d1;
        let rate = row.sum();
        (row / rate).transpose()
    }

    /// Reads a MAP from BATCH's text format: one file per matrix, one row per line, entries
    /// separated by commas.
    ///
    /// # Errors
    /// When a file cannot be read, a field is not a finite number, rows are ragged, or the
    /// matrices do not form a valid MAP (see [`Map::new`]); the message names the file.
    pub fn load_pair(d0_path: &Path, d1_path: &Path) -> Result<Map, MapError> {
        let d0 = io::read_matrix(d0_path)?;
        let d1 = io::read_matrix(d1_path)?;
        Map::new(d0, d1).map_err(|source| MapError::InFiles {
            d0: d0_path.to_path_buf(),
            d1: d1_path.to_path_buf(),
            source: Box::new(source),
        })
    }
}

fn check_shape(which: &'static str, matrix: &DMatrix<f64>) -> Result<(), MapError> {
    if matrix.nrows() == 0 || matrix.ncols() == 0 {
        return Err(MapError::Empty { which });
    }
    if matrix.nrows() != matrix.ncols() {
        return Err(MapError::NotSquare {
            which,
            rows: matrix.nrows(),
            cols: matrix.ncols(),
        });
    }
    Ok(())
}

/// Every phase reaches every other through positive off-diagonal rates of `D0` or any
/// positive rate of `D1` (an arrival from `i` to `j`).
fn check_irreducible(d0: &DMatrix<f64>, d1: &DMatrix<f64>) -> Result<(), MapError> {
    let n = d0.nrows();
    let linked =
        |from: usize, to: usize| (from != to && d0[(from, to)] > 0.0) || d1[(from, to)] > 0.0;
    // Phase 0 must reach every phase, and every phase must reach phase 0.
    for forward in [true, false] {
        let mut seen = vec![false; n];
        seen[0] = true;
        let mut stack = vec![0];
        while let Some(at) = stack.pop() {
            for (next, visited) in seen.iter_mut().enumerate() {
                let edge = if forward {
                    linked(at, next)
                } else {
                    linked(next, at)
                };
                if edge && !*visited {
                    *visited = true;
                    stack.push(next);
                }
            }
        }
        if let Some(missing) = seen.iter().position(|&s| !s) {
            let (from, to) = if forward { (0, missing) } else { (missing, 0) };
            return Err(MapError::Reducible { from, to });
        }
    }
    Ok(())
}

/// Solves `π Q = 0`, `π 1 = 1` as `π (Q + 1 1^T) = 1^T`, nonsingular for irreducible `Q`.
pub(crate) fn solve_stationary(generator: &DMatrix<f64>) -> Option<DVector<f64>> {
    let n = generator.nrows();
    let shifted = generator.add_scalar(1.0);
    shifted
        .transpose()
        .lu()
        .solve(&DVector::from_element(n, 1.0))
}

fn positive(name: &'static str, value: f64) -> Result<(), MapError> {
    if value.is_finite() && value > 0.0 {
        Ok(())
    } else {
        Err(MapError::BadParameter {
            name,
            value,
            why: "must be a positive finite number",
        })
    }
}

fn non_negative(name: &'static str, value: f64) -> Result<(), MapError> {
    if value.is_finite() && value >= 0.0 {
        Ok(())
    } else {
        Err(MapError::BadParameter {
            name,
            value,
            why: "must be a finite number, at least 0",
        })
    }
}

#[cfg(test)]
mod tests;
