//! Codes by thresholding the correlations `c = D x` alone, without solving
//! any optimisation problem: scikit-learn's `threshold` transform algorithm
//! (soft) and its hard counterpart. Exact for an orthonormal dictionary (soft
//! thresholding is then the Lasso solution); a cheap approximation otherwise.
//!
//! ```
//! use sparsecode::encode::{encode, threshold::{Threshold, ThresholdKind}};
//! use sparsecode::Dictionary;
//! let d = Dictionary::new(faer::mat![[1.0, 0.0], [0.0, 1.0]]).unwrap();
//! let soft = Threshold::soft(1.0);
//! let out = encode(&soft, &d, faer::mat![[3.0, -0.5]].as_ref()).unwrap();
//! assert_eq!((out.codes[(0, 0)], out.codes[(0, 1)]), (2.0, 0.0));
//! let hard = Threshold { kind: ThresholdKind::Hard { threshold: 0.5 }, nonneg: false };
//! let out = encode(&hard, &d, faer::mat![[3.0, -0.5]].as_ref()).unwrap();
//! assert_eq!((out.codes[(0, 0)], out.codes[(0, 1)]), (3.0, -0.5));
//! ```

use super::{Encoder, Signal, SolveStatus};
use crate::{validate, Dictionary, Float, Result};

/// Which thresholding rule.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ThresholdKind {
    /// `sign(c) max(|c| - lambda, 0)`.
    Soft {
        /// The shrinkage (`>= 0`).
        lambda: f64,
    },
    /// `c` where `|c| >= threshold`, else 0.
    Hard {
        /// The cut-off (`>= 0`).
        threshold: f64,
    },
}

/// Thresholding encoder (see the [module](self) documentation). With `nonneg`,
/// negative correlations give zero (soft: `max(c - lambda, 0)`; hard: `c`
/// where `c >= threshold`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Threshold {
    /// The rule.
    pub kind: ThresholdKind,
    /// Whether codes are non-negative.
    pub nonneg: bool,
}

impl Threshold {
    /// Soft thresholding at `lambda`, signed codes.
    pub fn soft(lambda: f64) -> Self {
        Self { kind: ThresholdKind::Soft { lambda }, nonneg: false }
    }

    /// Hard thresholding at `threshold`, signed codes.
    pub fn hard(threshold: f64) -> Self {
        Self { kind: ThresholdKind::Hard { threshold }, nonneg: false }
    }

    /// Sets the non-negativity constraint.
    pub fn nonneg(mut self, nonneg: bool) -> Self {
        self.nonneg = nonneg;
        self
    }
}

impl<T: Float> Encoder<T> for Threshold {
    type Workspace = ();

    fn check(&self, _dict: &Dictionary<T>) -> Result<()> {
        match self.kind {
            ThresholdKind::Soft { lambda } => validate::non_negative("lambda", lambda),
            ThresholdKind::Hard { threshold } => validate::non_negative("threshold", threshold),
        }
    }

    fn workspace(&self, _dict: &Dictionary<T>) {}

    fn encode_one(&self, _dict: &Dictionary<T>, signal: &Signal<'_, T>, code: &mut [T], _ws: &mut ()) -> SolveStatus {
        match self.kind {
            ThresholdKind::Soft { lambda } => {
                let t = T::of(lambda);
                for (z, &c) in code.iter_mut().zip(signal.dx) {
                    *z = if c > t {
                        c - t
                    } else if c < -t && !self.nonneg {
                        c + t
                    } else {
                        T::zero()
                    };
                }
            }
            ThresholdKind::Hard { threshold } => {
                let t = T::of(threshold);
                for (z, &c) in code.iter_mut().zip(signal.dx) {
                    let magnitude = if self.nonneg { c } else { c.abs() };
                    *z = if magnitude >= t && c != T::zero() { c } else { T::zero() };
                }
            }
        }
        SolveStatus { n_iter: 1, converged: true }
    }

    /// `lambda ||z||_1` for soft thresholding, zero for hard thresholding.
    fn penalty(&self, code: &[T]) -> T {
        match self.kind {
            ThresholdKind::Soft { lambda } => T::of(lambda) * code.iter().fold(T::zero(), |s, &v| s + v.abs()),
            ThresholdKind::Hard { .. } => T::zero(),
        }
    }

    fn uses_gram(&self) -> bool {
        false
    }
}
