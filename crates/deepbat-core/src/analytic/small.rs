//! Small dense matrices for the analytic models' inner loops.
//!
//! The models multiply thousands of `m x m` blocks with `m` the number of MAP phases
//! (usually 2). A flat row-major `Vec` with plain loops keeps those products free of the
//! bookkeeping a general matrix type carries; nalgebra is used where it pays (solving,
//! matrix exponentials).

use nalgebra::DMatrix;

/// A square row-major matrix.
#[derive(Debug, Clone, PartialEq)]
pub struct Mat {
    n: usize,
    values: Vec<f64>,
}

/// A row or column vector; which one is clear from the operation.
pub type Vector = Vec<f64>;

impl Mat {
    pub fn zeros(n: usize) -> Self {
        Self {
            n,
            values: vec![0.0; n * n],
        }
    }

    pub fn identity(n: usize) -> Self {
        let mut m = Self::zeros(n);
        for i in 0..n {
            m.values[i * n + i] = 1.0;
        }
        m
    }

    pub fn from_dmatrix(d: &DMatrix<f64>) -> Self {
        let n = d.nrows();
        let mut m = Self::zeros(n);
        for i in 0..n {
            for j in 0..n {
                m.values[i * n + j] = d[(i, j)];
            }
        }
        m
    }

    pub fn to_dmatrix(&self) -> DMatrix<f64> {
        DMatrix::from_row_slice(self.n, self.n, &self.values)
    }

    pub fn size(&self) -> usize {
        self.n
    }

    pub fn get(&self, i: usize, j: usize) -> f64 {
        self.values[i * self.n + j]
    }

    pub fn scaled(&self, factor: f64) -> Self {
        Self {
            n: self.n,
            values: self.values.iter().map(|x| x * factor).collect(),
        }
    }

    /// `self + factor * other`.
    pub fn add_scaled(mut self, other: &Self, factor: f64) -> Self {
        self.add_assign_scaled(other, factor);
        self
    }

    /// `self += factor * other`.
    pub fn add_assign_scaled(&mut self, other: &Self, factor: f64) {
        for (x, y) in self.values.iter_mut().zip(&other.values) {
            *x += factor * y;
        }
    }

    /// `a * b`.
    pub fn mul(a: &Self, b: &Self) -> Self {
        let mut out = Self::zeros(a.n);
        out.add_product(a, b);
        out
    }

    /// `self += a * b`.
    pub fn add_product(&mut self, a: &Self, b: &Self) {
        let n = self.n;
        for i in 0..n {
            for k in 0..n {
                let aik = a.values[i * n + k];
                if aik == 0.0 {
                    continue;
                }
                for j in 0..n {
                    self.values[i * n + j] += aik * b.values[k * n + j];
                }
            }
        }
    }

    /// `self * column`.
    pub fn mul_vec(&self, column: &[f64]) -> Vector {
        let n = self.n;
        (0..n)
            .map(|i| dot(&self.values[i * n..(i + 1) * n], column))
            .collect()
    }

    /// `out = self * column`.
    pub fn mul_vec_into(&self, column: &[f64], out: &mut [f64]) {
        let n = self.n;
        for (i, o) in out.iter_mut().enumerate() {
            *o = dot(&self.values[i * n..(i + 1) * n], column);
        }
    }

    /// `out += factor * self * column`.
    pub fn add_mul_vec(&self, column: &[f64], factor: f64, out: &mut [f64]) {
        let n = self.n;
        for (i, o) in out.iter_mut().enumerate() {
            *o += factor * dot(&self.values[i * n..(i + 1) * n], column);
        }
    }

    /// `out = self * 1`.
    pub fn row_sums_into(&self, out: &mut [f64]) {
        let n = self.n;
        for (i, o) in out.iter_mut().enumerate() {
            *o = self.values[i * n..(i + 1) * n].iter().sum();
        }
    }

    /// Row sums: `self * 1`.
    pub fn row_sums(&self) -> Vector {
        let n = self.n;
        (0..n)
            .map(|i| self.values[i * n..(i + 1) * n].iter().sum())
            .collect()
    }
}

/// Row-vector products.
pub trait RowVector {
    /// `self * m` for a row vector `self`.
    fn mul_mat(&self, m: &Mat) -> Vector;
}

impl RowVector for Vector {
    fn mul_mat(&self, m: &Mat) -> Vector {
        let n = m.n;
        let mut out = vec![0.0; n];
        for (i, &x) in self.iter().enumerate() {
            if x == 0.0 {
                continue;
            }
            for (o, v) in out.iter_mut().zip(&m.values[i * n..(i + 1) * n]) {
                *o += x * v;
            }
        }
        out
    }
}

/// `a . b`.
pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn products_by_hand() {
        let a = Mat::from_dmatrix(&DMatrix::from_row_slice(2, 2, &[1.0, 2.0, 3.0, 4.0]));
        let b = Mat::from_dmatrix(&DMatrix::from_row_slice(2, 2, &[0.0, 1.0, 1.0, 0.0]));
        let ab = Mat::mul(&a, &b);
        assert_eq!(
            ab.to_dmatrix(),
            DMatrix::from_row_slice(2, 2, &[2.0, 1.0, 4.0, 3.0])
        );
        assert_eq!(a.mul_vec(&[1.0, 1.0]), vec![3.0, 7.0]);
        assert_eq!(vec![1.0, 1.0].mul_mat(&a), vec![4.0, 6.0]);
        assert_eq!(a.row_sums(), vec![3.0, 7.0]);
    }
}
