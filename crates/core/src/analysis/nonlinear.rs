//! Elementwise nonlinearities that sparsify a signal: ReLU with a threshold,
//! soft thresholding (the proximal operator of the l1 norm, Donoho 1995) and
//! hard thresholding (by value, or keeping a top fraction by magnitude).
//!
//! They work on slices, so they apply to a 1-D signal, to the flat data of an
//! N-D array, or to a column-major faer matrix alike. Each returns a new vector
//! and has an `_in_place` twin through [`Nonlinearity::apply_in_place`].

use crate::{validate, Error, Float, Result};

/// A sparsifying elementwise nonlinearity.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Nonlinearity {
    /// `max(x - theta, 0)`. `theta` may be any finite value.
    Relu {
        /// The shift subtracted before rectifying.
        theta: f64,
    },
    /// `sign(x) max(|x| - threshold, 0)`. `threshold >= 0`.
    SoftThreshold {
        /// The shrinkage.
        threshold: f64,
    },
    /// Keeps `x` where `|x| >= threshold`, zero elsewhere. `threshold >= 0`.
    HardThreshold {
        /// The smallest magnitude kept.
        threshold: f64,
    },
    /// Keeps the `ceil(fraction * n)` entries of largest magnitude (ties to the
    /// lower index), zero elsewhere. `fraction` in `[0, 1]`.
    TopFraction {
        /// Share of the entries kept.
        fraction: f64,
    },
}

impl Nonlinearity {
    /// The nonlinearity's name in reports (`"relu"`, `"soft_threshold"`,
    /// `"hard_threshold"`, `"top_fraction"`).
    pub fn name(&self) -> &'static str {
        match self {
            Nonlinearity::Relu { .. } => "relu",
            Nonlinearity::SoftThreshold { .. } => "soft_threshold",
            Nonlinearity::HardThreshold { .. } => "hard_threshold",
            Nonlinearity::TopFraction { .. } => "top_fraction",
        }
    }

    /// Fails if the parameter is out of range.
    pub fn check(&self) -> Result<()> {
        match *self {
            Nonlinearity::Relu { theta } if !theta.is_finite() => {
                Err(Error::parameter("theta", theta, "must be finite"))
            }
            Nonlinearity::Relu { .. } => Ok(()),
            Nonlinearity::SoftThreshold { threshold } | Nonlinearity::HardThreshold { threshold } => {
                validate::non_negative("threshold", threshold)
            }
            Nonlinearity::TopFraction { fraction } if !(0.0..=1.0).contains(&fraction) => {
                Err(Error::parameter("fraction", fraction, "must be in [0, 1]"))
            }
            Nonlinearity::TopFraction { .. } => Ok(()),
        }
    }

    /// The nonlinearity applied to a copy of `x`.
    ///
    /// ```
    /// use sparsecode::analysis::nonlinear::Nonlinearity;
    /// let x = [-2.0, 0.5, 3.0];
    /// assert_eq!(Nonlinearity::SoftThreshold { threshold: 1.0 }.apply(&x).unwrap(), vec![-1.0, 0.0, 2.0]);
    /// assert_eq!(Nonlinearity::TopFraction { fraction: 0.3 }.apply(&x).unwrap(), vec![0.0, 0.0, 3.0]);
    /// ```
    pub fn apply<T: Float>(&self, x: &[T]) -> Result<Vec<T>> {
        let mut out = x.to_vec();
        self.apply_in_place(&mut out)?;
        Ok(out)
    }

    /// The nonlinearity applied to `x` in place. `x` is left untouched on
    /// error.
    pub fn apply_in_place<T: Float>(&self, x: &mut [T]) -> Result<()> {
        self.check()?;
        validate::finite_slice("x", x)?;
        match *self {
            Nonlinearity::Relu { theta } => {
                let theta = T::of(theta);
                x.iter_mut().for_each(|v| *v = (*v - theta).max(T::zero()));
            }
            Nonlinearity::SoftThreshold { threshold } => {
                let t = T::of(threshold);
                x.iter_mut().for_each(|v| *v = shrink(*v, t));
            }
            Nonlinearity::HardThreshold { threshold } => {
                let t = T::of(threshold);
                x.iter_mut().filter(|v| v.abs() < t).for_each(|v| *v = T::zero());
            }
            Nonlinearity::TopFraction { fraction } => keep_top(x, (fraction * x.len() as f64).ceil() as usize),
        }
        Ok(())
    }
}

/// Soft thresholding of one value: `sign(v) max(|v| - t, 0)`.
#[inline]
pub fn shrink<T: Float>(v: T, t: T) -> T {
    if v > t {
        v - t
    } else if v < -t {
        v + t
    } else {
        T::zero()
    }
}

/// Zeroes all but the `k` entries of largest magnitude (ties to the lower index).
fn keep_top<T: Float>(x: &mut [T], k: usize) {
    if k >= x.len() {
        return;
    }
    let mut order: Vec<usize> = (0..x.len()).collect();
    // Larger magnitude first, then lower index: a total order, so the
    // selection is the same on every run.
    let by_rank = |a: &usize, b: &usize| x[*b].abs().as_f64().total_cmp(&x[*a].abs().as_f64()).then(a.cmp(b));
    if k > 0 {
        order.select_nth_unstable_by(k - 1, by_rank);
    }
    for &i in &order[k..] {
        x[i] = T::zero();
    }
}

/// `max(x - theta, 0)` of every entry. See [`Nonlinearity::Relu`].
///
/// ```
/// assert_eq!(sparsecode::analysis::nonlinear::relu(&[0.5, 2.0, -1.0], 1.0).unwrap(), vec![0.0, 1.0, 0.0]);
/// ```
pub fn relu<T: Float>(x: &[T], theta: f64) -> Result<Vec<T>> {
    Nonlinearity::Relu { theta }.apply(x)
}

/// Soft thresholding of every entry. See [`Nonlinearity::SoftThreshold`].
pub fn soft_threshold<T: Float>(x: &[T], threshold: f64) -> Result<Vec<T>> {
    Nonlinearity::SoftThreshold { threshold }.apply(x)
}

/// Hard thresholding: keeps entries with `|x| >= threshold`. See
/// [`Nonlinearity::HardThreshold`].
///
/// ```
/// assert_eq!(sparsecode::analysis::nonlinear::hard_threshold(&[0.5, -2.0, 1.0], 1.0).unwrap(), vec![0.0, -2.0, 1.0]);
/// ```
pub fn hard_threshold<T: Float>(x: &[T], threshold: f64) -> Result<Vec<T>> {
    Nonlinearity::HardThreshold { threshold }.apply(x)
}

/// Keeps the top `fraction` of entries by magnitude. See
/// [`Nonlinearity::TopFraction`].
pub fn keep_top_fraction<T: Float>(x: &[T], fraction: f64) -> Result<Vec<T>> {
    Nonlinearity::TopFraction { fraction }.apply(x)
}
