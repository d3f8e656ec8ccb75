//! Sparseness measures of vectors, and of the rows or columns of a matrix.
//!
//! Every measure is available three ways: as a function of one slice
//! ([`kurtosis`], [`hoyer`], ...), as a [`Measure`] value (for choosing a
//! measure at run time), and along the lines of a matrix with
//! [`measure_lines`], of which [`population_sparsity`] and
//! [`lifetime_sparsity`] are the two readings for a code matrix. For N-D
//! arrays see [`crate::analysis::nd::NdView::measure_axis`].
//!
//! Results are `f64` (accumulated in `f64` whatever the element type). A value
//! that is undefined for a particular vector is `NaN`, as documented per
//! measure; empty or non-finite input is an error.

use super::Axis;
use crate::{validate, Error, Float, Result};
use faer::MatRef;
use rayon::prelude::*;

/// A sparseness (or size) measure of one vector.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Measure {
    /// Number of entries with `|x_i| > tolerance` (the l0 "norm" for
    /// `tolerance = 0`). Must be finite and `>= 0`.
    L0 {
        /// Magnitudes at or below this count as zero.
        tolerance: f64,
    },
    /// `sum |x_i|`.
    L1,
    /// Fourth standardised moment `E[(x - mu)^4] / E[(x - mu)^2]^2` with
    /// population moments: 3 for a Gaussian, 6 for a Laplace distribution.
    /// `NaN` for a constant vector (zero variance).
    Kurtosis,
    /// [`Measure::Kurtosis`] minus 3 (0 for a Gaussian). `NaN` for a constant
    /// vector.
    ExcessKurtosis,
    /// Hoyer (2004) sparseness `(sqrt(n) - ||x||_1 / ||x||_2) / (sqrt(n) - 1)`:
    /// 1 for a single non-zero, 0 for equal magnitudes. `NaN` for the zero
    /// vector and for `n = 1`.
    Hoyer,
    /// Gini index of the magnitudes (Hurley & Rickard 2009, eq. for `S_Gini`):
    /// with `c_(1) <= ... <= c_(n)` the sorted `|x_i|`,
    /// `1 - 2 sum_k (c_(k) / ||c||_1) (n - k + 1/2) / n`. 0 for equal
    /// magnitudes, `1 - 1/n` for a single non-zero. `NaN` for the zero vector.
    Gini,
}

impl Measure {
    /// The measure's name in reports (`"l0"`, `"l1"`, `"kurtosis"`,
    /// `"excess_kurtosis"`, `"hoyer"`, `"gini"`).
    pub fn name(&self) -> &'static str {
        match self {
            Measure::L0 { .. } => "l0",
            Measure::L1 => "l1",
            Measure::Kurtosis => "kurtosis",
            Measure::ExcessKurtosis => "excess_kurtosis",
            Measure::Hoyer => "hoyer",
            Measure::Gini => "gini",
        }
    }

    /// Fails if the measure's parameter is out of range.
    pub fn check(&self) -> Result<()> {
        match *self {
            Measure::L0 { tolerance } => validate::non_negative("tolerance", tolerance),
            _ => Ok(()),
        }
    }

    /// The measure of `x`.
    ///
    /// ```
    /// use sparsecode::analysis::measures::Measure;
    /// let x = [0.0, 3.0, 0.0, -4.0];
    /// assert_eq!(Measure::L1.of(&x).unwrap(), 7.0);
    /// assert_eq!(Measure::L0 { tolerance: 0.0 }.of(&x).unwrap(), 2.0);
    /// ```
    pub fn of<T: Float>(&self, x: &[T]) -> Result<f64> {
        self.check()?;
        check_vector("x", x)?;
        let values: Vec<f64> = x.iter().map(|v| v.as_f64()).collect();
        Ok(self.of_checked(&values))
    }

    /// The measure of finite, non-empty `x` with a checked parameter.
    fn of_checked(&self, x: &[f64]) -> f64 {
        match *self {
            Measure::L0 { tolerance } => x.iter().filter(|v| v.abs() > tolerance).count() as f64,
            Measure::L1 => x.iter().map(|v| v.abs()).sum(),
            Measure::Kurtosis => kurtosis_of(x),
            Measure::ExcessKurtosis => kurtosis_of(x) - 3.0,
            Measure::Hoyer => hoyer_of(x),
            Measure::Gini => gini_of(x),
        }
    }
}

fn check_vector<T: Float>(name: &str, x: &[T]) -> Result<()> {
    if x.is_empty() {
        return Err(Error::Empty(format!("the vector {name} (length 0)")));
    }
    validate::finite_slice(name, x)
}

fn kurtosis_of(x: &[f64]) -> f64 {
    if x.iter().all(|&v| v == x[0]) {
        return f64::NAN;
    }
    let n = x.len() as f64;
    let mean = x.iter().sum::<f64>() / n;
    let (m2, m4) = x.iter().fold((0.0, 0.0), |(m2, m4), &v| {
        let d2 = (v - mean) * (v - mean);
        (m2 + d2, m4 + d2 * d2)
    });
    let (m2, m4) = (m2 / n, m4 / n);
    m4 / (m2 * m2)
}

fn hoyer_of(x: &[f64]) -> f64 {
    let (l1, l2sq) = x.iter().fold((0.0, 0.0), |(a, b), &v| (a + v.abs(), b + v * v));
    if x.len() < 2 || l2sq == 0.0 {
        return f64::NAN;
    }
    let sqrt_n = (x.len() as f64).sqrt();
    (sqrt_n - l1 / l2sq.sqrt()) / (sqrt_n - 1.0)
}

fn gini_of(x: &[f64]) -> f64 {
    let mut c: Vec<f64> = x.iter().map(|v| v.abs()).collect();
    let l1: f64 = c.iter().sum();
    if l1 == 0.0 {
        return f64::NAN;
    }
    c.sort_unstable_by(f64::total_cmp);
    let n = c.len() as f64;
    // k is 1-based in the paper: weight (n - k + 1/2) / n for c_(k).
    let weighted: f64 = c.iter().enumerate().map(|(i, &ck)| ck * (n - i as f64 - 0.5)).sum();
    1.0 - 2.0 * weighted / (l1 * n)
}

/// Number of entries of `x` with `|x_i| > tolerance`.
///
/// ```
/// assert_eq!(sparsecode::analysis::measures::l0_count(&[0.0, 1e-9, 2.0], 1e-6).unwrap(), 1);
/// ```
pub fn l0_count<T: Float>(x: &[T], tolerance: f64) -> Result<usize> {
    Ok(Measure::L0 { tolerance }.of(x)? as usize)
}

/// `sum |x_i|`. See [`Measure::L1`].
pub fn l1_norm<T: Float>(x: &[T]) -> Result<f64> {
    Measure::L1.of(x)
}

/// Fourth standardised moment (3 for a Gaussian). See [`Measure::Kurtosis`].
///
/// ```
/// use sparsecode::analysis::measures::{excess_kurtosis, kurtosis};
/// let x = [0.0, 0.0, 0.0, 1.0];
/// assert!((kurtosis(&x).unwrap() - 7.0 / 3.0).abs() < 1e-12);
/// assert!((excess_kurtosis(&x).unwrap() + 2.0 / 3.0).abs() < 1e-12);
/// assert!(kurtosis(&[2.0, 2.0]).unwrap().is_nan());
/// ```
pub fn kurtosis<T: Float>(x: &[T]) -> Result<f64> {
    Measure::Kurtosis.of(x)
}

/// Kurtosis minus 3 (0 for a Gaussian). See [`Measure::ExcessKurtosis`].
pub fn excess_kurtosis<T: Float>(x: &[T]) -> Result<f64> {
    Measure::ExcessKurtosis.of(x)
}

/// Hoyer (2004) sparseness in `[0, 1]`. See [`Measure::Hoyer`].
///
/// ```
/// use sparsecode::analysis::measures::hoyer;
/// assert!((hoyer(&[0.0, 0.0, 5.0, 0.0]).unwrap() - 1.0).abs() < 1e-12);
/// assert!(hoyer(&[1.0, -1.0, 1.0, 1.0]).unwrap().abs() < 1e-12);
/// ```
pub fn hoyer<T: Float>(x: &[T]) -> Result<f64> {
    Measure::Hoyer.of(x)
}

/// Gini index (Hurley & Rickard 2009) in `[0, 1 - 1/n]`. See [`Measure::Gini`].
///
/// ```
/// use sparsecode::analysis::measures::gini;
/// assert!((gini(&[0.0, 0.0, 0.0, 7.0]).unwrap() - 0.75).abs() < 1e-12);
/// ```
pub fn gini<T: Float>(x: &[T]) -> Result<f64> {
    Measure::Gini.of(x)
}

/// Every measure of one vector at once (one conversion to `f64`), e.g. for a
/// report.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    /// Number of entries.
    pub len: usize,
    /// [`Measure::L0`] with the tolerance given to [`summarize`].
    pub l0: usize,
    /// [`Measure::L1`].
    pub l1: f64,
    /// [`Measure::Kurtosis`] (`NaN` for a constant vector).
    pub kurtosis: f64,
    /// [`Measure::ExcessKurtosis`] (`NaN` for a constant vector).
    pub excess_kurtosis: f64,
    /// [`Measure::Hoyer`] (`NaN` for the zero vector or one entry).
    pub hoyer: f64,
    /// [`Measure::Gini`] (`NaN` for the zero vector).
    pub gini: f64,
}

/// All measures of `x`, counting `|x_i| > l0_tolerance` as non-zero.
///
/// ```
/// let s = sparsecode::analysis::measures::summarize(&[0.0f32, 0.0, 0.0, 2.0], 0.0).unwrap();
/// assert_eq!((s.len, s.l0, s.l1), (4, 1, 2.0));
/// assert!((s.hoyer - 1.0).abs() < 1e-12 && (s.gini - 0.75).abs() < 1e-12);
/// assert_eq!(s.excess_kurtosis, s.kurtosis - 3.0);
/// ```
pub fn summarize<T: Float>(x: &[T], l0_tolerance: f64) -> Result<Summary> {
    let l0 = Measure::L0 { tolerance: l0_tolerance };
    l0.check()?;
    check_vector("x", x)?;
    let v: Vec<f64> = x.iter().map(|e| e.as_f64()).collect();
    let kurtosis = kurtosis_of(&v);
    Ok(Summary {
        len: v.len(),
        l0: l0.of_checked(&v) as usize,
        l1: Measure::L1.of_checked(&v),
        kurtosis,
        excess_kurtosis: kurtosis - 3.0,
        hoyer: hoyer_of(&v),
        gini: gini_of(&v),
    })
}

/// `measure` of every row (`Axis::Rows`, one value per row) or every column
/// (`Axis::Columns`, one value per column) of `m`, in parallel over lines.
///
/// ```
/// use sparsecode::analysis::{measures::{measure_lines, Measure}, Axis};
/// let m = faer::mat![[1.0, -2.0], [0.0, 3.0]];
/// assert_eq!(measure_lines(m.as_ref(), Axis::Rows, Measure::L1).unwrap(), vec![3.0, 3.0]);
/// assert_eq!(measure_lines(m.as_ref(), Axis::Columns, Measure::L1).unwrap(), vec![1.0, 5.0]);
/// ```
pub fn measure_lines<T: Float>(m: MatRef<'_, T>, axis: Axis, measure: Measure) -> Result<Vec<f64>> {
    measure.check()?;
    validate::non_empty("the matrix", m)?;
    validate::finite("the matrix", m)?;
    let (n_lines, len) = match axis {
        Axis::Rows => (m.nrows(), m.ncols()),
        Axis::Columns => (m.ncols(), m.nrows()),
    };
    Ok((0..n_lines)
        .into_par_iter()
        .map_init(
            || Vec::with_capacity(len),
            |buf: &mut Vec<f64>, i| {
                buf.clear();
                match axis {
                    Axis::Rows => buf.extend(m.row(i).iter().map(|v| v.as_f64())),
                    Axis::Columns => buf.extend(m.col(i).iter().map(|v| v.as_f64())),
                }
                measure.of_checked(buf)
            },
        )
        .collect())
}

/// Population sparsity of a code matrix (Willmore & Tolhurst 2001): `measure`
/// of the activity of all units at each time, i.e. of every row of `codes`
/// (`n_samples (time) x n_atoms (units)`). One value per sample. Willmore &
/// Tolhurst use [`Measure::Kurtosis`].
///
/// ```
/// use sparsecode::analysis::measures::{population_sparsity, Measure};
/// let codes = faer::mat![[1.0, 0.0, 0.0], [1.0, 1.0, 1.0]];
/// let s = population_sparsity(codes.as_ref(), Measure::Hoyer).unwrap();
/// assert!((s[0] - 1.0).abs() < 1e-12 && s[1].abs() < 1e-12);
/// ```
pub fn population_sparsity<T: Float>(codes: MatRef<'_, T>, measure: Measure) -> Result<Vec<f64>> {
    measure_lines(codes, Axis::Rows, measure)
}

/// Lifetime sparsity of a code matrix (Willmore & Tolhurst 2001): `measure` of
/// the activity of each unit over time, i.e. of every column of `codes`
/// (`n_samples (time) x n_atoms (units)`). One value per atom; `NaN` where the
/// measure is undefined (e.g. Hoyer of a unit that never responds).
pub fn lifetime_sparsity<T: Float>(codes: MatRef<'_, T>, measure: Measure) -> Result<Vec<f64>> {
    measure_lines(codes, Axis::Columns, measure)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gini_matches_the_definition_by_pairs() {
        // Equivalent form: G = sum_{i,j} |c_i - c_j| / (2 n ||c||_1), the mean
        // absolute difference form of the Gini coefficient.
        let x = [0.3, -2.0, 0.0, 1.5, 0.7, 0.0, -0.1];
        let n = x.len() as f64;
        let c: Vec<f64> = x.iter().map(|v: &f64| v.abs()).collect();
        let l1: f64 = c.iter().sum();
        let pairs: f64 = c.iter().flat_map(|a| c.iter().map(move |b| (a - b).abs())).sum();
        let expected = pairs / (2.0 * n * l1);
        assert!((gini(&x).unwrap() - expected).abs() < 1e-12);
    }

    #[test]
    fn errors_name_the_problem() {
        assert!(matches!(kurtosis::<f64>(&[]), Err(Error::Empty(_))));
        assert!(matches!(hoyer(&[1.0, f64::NAN]), Err(Error::NonFinite { row: 1, .. })));
        assert!(matches!(l0_count(&[1.0], -1.0), Err(Error::Parameter { name: "tolerance", .. })));
        let m = faer::mat![[1.0, 2.0], [f64::INFINITY, 0.0]];
        assert!(matches!(
            measure_lines(m.as_ref(), Axis::Rows, Measure::Gini),
            Err(Error::NonFinite { row: 1, col: 0, .. })
        ));
    }
}
