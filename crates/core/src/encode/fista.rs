//! FISTA for the Lasso / elastic net on the Gram matrix, with adaptive restart
//! and a duality-gap stop.
//!
//! FISTA (Beck & Teboulle, "A fast iterative shrinkage-thresholding algorithm
//! for linear inverse problems", SIAM J. Imaging Sci. 2009, eq. 4.1-4.3): a
//! proximal gradient step of length `1/L` from the extrapolated point `y`,
//! `z+ = prox(y - (G y - D x) / L)`, then `y = z+ + (t_k - 1)/t_{k+1} (z+ - z)`,
//! with `L = ||D||_2^2` ([`Dictionary::lipschitz`]). The `l2` term is kept in
//! the proximal operator (`soft(v, lambda/L) / (1 + l2/L)`), which is exact and
//! needs no larger `L`. The momentum is reset whenever it points uphill, the
//! gradient restart of O'Donoghue & Candès ("Adaptive restart for accelerated
//! gradient schemes", Found. Comput. Math. 2015, sec. 3.2): when
//! `<y - z+, z+ - z> > 0`.
//!
//! Only `G z` is computed per step, from the non-zeros of the new iterate;
//! `G y` follows by linearity. The same `G z` gives the duality gap at every
//! step, with the stopping rule of [coordinate descent](super::cd): gap at
//! most `tol * 0.5 ||x||^2` (KKT violation at most `tol * max|D x|` when
//! `lambda = 0`). Warm-starts from the incoming code.
//!
//! ```
//! use sparsecode::encode::{encode, fista::Fista, lasso::ElasticNet};
//! use sparsecode::Dictionary;
//! let d = Dictionary::new(faer::mat![[1.0, 0.0], [0.6, 0.8]]).unwrap();
//! let out = encode(&Fista::new(ElasticNet::lasso(0.1)), &d, faer::mat![[1.0, 1.0]].as_ref()).unwrap();
//! assert!(out.reports[0].converged);
//! ```

use super::lasso::{
    check_iterative, gap_certificate, gap_threshold, gram_times, kkt_threshold, kkt_violation_from_gz, ElasticNet,
    DEFAULT_MAX_ITER, DEFAULT_TOL,
};
use super::{Encoder, Signal, SolveStatus};
use crate::{Dictionary, Float, Result};

/// FISTA Lasso / elastic-net encoder (see the [module](self) documentation).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fista {
    /// The penalty.
    pub penalty: ElasticNet,
    /// Stop when the duality gap is at most `tol * 0.5 ||x||^2`.
    pub tol: f64,
    /// Maximum number of proximal gradient steps.
    pub max_iter: usize,
}

impl Fista {
    /// FISTA for `penalty` with `tol = 1e-6` and `max_iter = 1000`.
    pub fn new(penalty: ElasticNet) -> Self {
        Self { penalty, tol: DEFAULT_TOL, max_iter: DEFAULT_MAX_ITER }
    }

    /// Sets the relative duality-gap tolerance.
    pub fn with_tol(mut self, tol: f64) -> Self {
        self.tol = tol;
        self
    }

    /// Sets the maximum number of steps.
    pub fn with_max_iter(mut self, max_iter: usize) -> Self {
        self.max_iter = max_iter;
        self
    }
}

/// Scratch memory of [`Fista`].
#[derive(Debug)]
pub struct FistaWorkspace<T> {
    previous: Vec<T>,
    gz: Vec<T>,
    gz_previous: Vec<T>,
    y: Vec<T>,
    gy: Vec<T>,
}

impl<T: Float> Encoder<T> for Fista {
    type Workspace = FistaWorkspace<T>;

    fn check(&self, _dict: &Dictionary<T>) -> Result<()> {
        check_iterative(&self.penalty, self.tol, self.max_iter)
    }

    fn workspace(&self, dict: &Dictionary<T>) -> FistaWorkspace<T> {
        let zeros = vec![T::zero(); dict.n_atoms()];
        FistaWorkspace {
            previous: zeros.clone(),
            gz: zeros.clone(),
            gz_previous: zeros.clone(),
            y: zeros.clone(),
            gy: zeros,
        }
    }

    fn encode_one(
        &self,
        dict: &Dictionary<T>,
        signal: &Signal<'_, T>,
        code: &mut [T],
        ws: &mut FistaWorkspace<T>,
    ) -> SolveStatus {
        let p = self.penalty.scalars::<T>();
        let gram = dict.gram();
        let step = dict.lipschitz().recip();
        let prox = p.prox(step);
        if p.nonneg {
            code.iter_mut().filter(|v| **v < T::zero()).for_each(|v| *v = T::zero());
        }
        let threshold = if p.lambda > T::zero() {
            gap_threshold(self.tol, signal.norm_sq)
        } else {
            kkt_threshold(self.tol, signal.dx)
        };
        gram_times(gram, code, &mut ws.gz);
        ws.y.copy_from_slice(code);
        ws.gy.copy_from_slice(&ws.gz);
        let mut t = T::one();
        for iter in 1..=self.max_iter {
            ws.previous.copy_from_slice(code);
            std::mem::swap(&mut ws.gz, &mut ws.gz_previous);
            for (k, z) in code.iter_mut().enumerate() {
                *z = prox.apply(ws.y[k] - step * (ws.gy[k] - signal.dx[k]));
            }
            gram_times(gram, code, &mut ws.gz);
            let done = if p.lambda > T::zero() {
                gap_certificate(&p, signal.dx, &ws.gz, signal.norm_sq, code, None).gap <= threshold
            } else {
                kkt_violation_from_gz(&p, signal.dx, &ws.gz, code, None) <= threshold
            };
            if done {
                return SolveStatus { n_iter: iter, converged: true };
            }
            let uphill =
                code.iter().zip(&ws.previous).zip(&ws.y).fold(T::zero(), |s, ((&z, &zp), &y)| s + (y - z) * (z - zp))
                    > T::zero();
            let momentum = if uphill {
                t = T::one();
                T::zero()
            } else {
                let t_next = (T::one() + (T::one() + T::of(4.0) * t * t).sqrt()) * T::of(0.5);
                let m = (t - T::one()) / t_next;
                t = t_next;
                m
            };
            extrapolate(&mut ws.y, code, &ws.previous, momentum);
            extrapolate(&mut ws.gy, &ws.gz, &ws.gz_previous, momentum);
        }
        SolveStatus { n_iter: self.max_iter, converged: false }
    }

    fn penalty(&self, code: &[T]) -> T {
        self.penalty.value(code)
    }
}

/// `out = current + momentum (current - previous)`.
#[inline(always)]
fn extrapolate<T: Float>(out: &mut [T], current: &[T], previous: &[T], momentum: T) {
    for ((o, &c), &p) in out.iter_mut().zip(current).zip(previous) {
        *o = c + momentum * (c - p);
    }
}
