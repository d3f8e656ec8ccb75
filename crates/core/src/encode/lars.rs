//! LARS-Lasso: the exact homotopy path of the Lasso, followed down to `lambda`.
//!
//! Least Angle Regression with the Lasso modification (Efron, Hastie,
//! Johnstone & Tibshirani, "Least angle regression", Ann. Statist. 2004,
//! sec. 3.1 and eq. 3.6): starting from `z = 0` and `lambda_0 = max_k |(D x)_k|`,
//! move the active coefficients along the direction that keeps every active
//! correlation equal to the current `lambda_t` (`G_AA w = sign(c_A)`), and
//! stop at the next event: an inactive atom's correlation reaches `lambda_t`
//! (it enters), an active coefficient crosses zero (it leaves), or
//! `lambda_t = lambda` (the last step is cut there, so the code is the exact
//! solution). Everything runs on the Gram matrix: correlations are updated as
//! `c <- c - gamma G[:, A] w` and never recomputed from a residual; `G_AA` is
//! factorised by [`GrowingCholesky`], grown and shrunk one atom at a time.
//! This is what SPAMS' `lasso` does.
//!
//! With `l2 > 0` the path is that of `G + l2 I` (the elastic net); with
//! `nonneg` it is the positive Lasso (Efron et al. 2004, sec. 3.4): only
//! positive correlations enter, with positive coefficients.
//!
//! ```
//! use sparsecode::encode::{encode, lars::Lars, lasso::ElasticNet};
//! use sparsecode::Dictionary;
//! let d = Dictionary::new(faer::mat![[1.0, 0.0], [0.0, 1.0]]).unwrap();
//! let out = encode(&Lars::new(ElasticNet::lasso(1.0)), &d, faer::mat![[3.0, 0.5]].as_ref()).unwrap();
//! assert_eq!(out.codes[(0, 0)], 2.0);
//! assert_eq!(out.codes[(0, 1)], 0.0);
//! ```

use super::lasso::{gram_col, ElasticNet, PenaltyScalars};
use super::{Encoder, Signal, SolveStatus};
use crate::linalg::GrowingCholesky;
use crate::{validate, Dictionary, Float, Result};

/// The LARS-Lasso homotopy encoder (see the [module](self) documentation).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Lars {
    /// The penalty whose solution is returned.
    pub penalty: ElasticNet,
    /// Stop the path where a `max_nonzero + 1`-th atom would enter; the code
    /// is then the Lasso solution for the `lambda_t > lambda` reached there
    /// (scikit-learn's `lars` with `n_nonzero_coefs` when `lambda = 0`).
    /// `None`: no limit.
    pub max_nonzero: Option<usize>,
}

impl Lars {
    /// LARS for `penalty`, with no limit on the number of non-zeros.
    pub fn new(penalty: ElasticNet) -> Self {
        Self { penalty, max_nonzero: None }
    }

    /// Limits the number of non-zeros (see [`Lars::max_nonzero`]).
    pub fn with_max_nonzero(mut self, max_nonzero: usize) -> Self {
        self.max_nonzero = Some(max_nonzero);
        self
    }
}

/// Scratch memory of [`Lars`].
#[derive(Debug)]
pub struct LarsWorkspace<T> {
    chol: GrowingCholesky<T>,
    /// Active atoms, in the order of the Cholesky factor.
    active: Vec<usize>,
    /// Signs of the active correlations (the right-hand side of the direction).
    signs: Vec<T>,
    /// The direction on the active set.
    direction: Vec<T>,
    /// `(G + l2 I)[:, A] w`: the rate at which each correlation decreases.
    rate: Vec<T>,
    /// Correlations `D x - (G + l2 I) z`.
    corr: Vec<T>,
    in_active: Vec<bool>,
    /// Atoms that are numerically dependent on the active ones.
    excluded: Vec<bool>,
}

enum Event {
    /// `lambda_t` reached `lambda`.
    Reached,
    /// Atom `j` enters.
    Enter(usize),
    /// The atom at position `pos` of the active set leaves.
    Leave(usize),
}

impl<T: Float> Encoder<T> for Lars {
    type Workspace = LarsWorkspace<T>;

    fn check(&self, _dict: &Dictionary<T>) -> Result<()> {
        self.penalty.validate()?;
        if let Some(k) = self.max_nonzero {
            validate::at_least_one("max_nonzero", k)?;
        }
        Ok(())
    }

    fn workspace(&self, dict: &Dictionary<T>) -> LarsWorkspace<T> {
        let n = dict.n_atoms();
        // Without l2 at most n_features atoms are linearly independent.
        let capacity = if self.penalty.l2 > 0.0 { n } else { n.min(dict.n_features()) };
        LarsWorkspace {
            chol: GrowingCholesky::new(capacity),
            active: Vec::with_capacity(capacity),
            signs: Vec::with_capacity(capacity),
            direction: Vec::with_capacity(capacity),
            rate: vec![T::zero(); n],
            corr: vec![T::zero(); n],
            in_active: vec![false; n],
            excluded: vec![false; n],
        }
    }

    fn encode_one(
        &self,
        dict: &Dictionary<T>,
        signal: &Signal<'_, T>,
        code: &mut [T],
        ws: &mut LarsWorkspace<T>,
    ) -> SolveStatus {
        lars_path(&self.penalty.scalars(), self.max_nonzero, dict, signal.dx, code, ws)
    }

    fn penalty(&self, code: &[T]) -> T {
        self.penalty.value(code)
    }
}

fn lars_path<T: Float>(
    p: &PenaltyScalars<T>,
    max_nonzero: Option<usize>,
    dict: &Dictionary<T>,
    dx: &[T],
    code: &mut [T],
    ws: &mut LarsWorkspace<T>,
) -> SolveStatus {
    let gram = dict.gram();
    let n = dict.n_atoms();
    code.fill(T::zero());
    ws.chol.clear();
    ws.active.clear();
    ws.signs.clear();
    ws.in_active.fill(false);
    ws.excluded.fill(false);
    ws.corr.copy_from_slice(dx);
    let max_nonzero = max_nonzero.unwrap_or(usize::MAX);

    // lambda_0 and the first atom.
    let score = |c: T| if p.nonneg { c } else { c.abs() };
    let Some((first, c_max)) = ws.corr.iter().map(|&c| score(c)).enumerate().fold(None, |best, (j, s)| match best {
        Some((_, b)) if b >= s => best,
        _ => Some((j, s)),
    }) else {
        return SolveStatus { n_iter: 0, converged: true };
    };
    if c_max <= p.lambda {
        return SolveStatus { n_iter: 0, converged: true };
    }
    let mut level = c_max;
    let mut pending = Some(first);
    // The atom that left at the last event, and the sign of its correlation
    // then (`+-lambda_t`): it must not re-enter on that side at once.
    let mut just_left: Option<(usize, T)> = None;
    let max_steps = 8 * n + 8;
    let mut steps = 0;
    while steps < max_steps {
        if let Some(j) = pending.take() {
            if !add_atom(p, gram, j, ws) {
                ws.excluded[j] = true;
            }
        }
        if ws.active.is_empty() {
            // Only possible when every candidate was excluded.
            return SolveStatus { n_iter: steps, converged: false };
        }
        // Direction: (G + l2 I)_AA w = s.
        ws.direction.clear();
        ws.direction.extend_from_slice(&ws.signs);
        ws.chol.solve_in_place(&mut ws.direction);
        ws.rate.fill(T::zero());
        for (&i, &w) in ws.active.iter().zip(&ws.direction) {
            for (r, &g) in ws.rate.iter_mut().zip(gram_col(gram, i)) {
                *r += w * g;
            }
            ws.rate[i] += p.l2 * w;
        }

        // The next event: lambda is reached, an atom enters, or one leaves.
        let mut gamma = level - p.lambda;
        let mut event = Event::Reached;
        for j in 0..n {
            if ws.in_active[j] || ws.excluded[j] {
                continue;
            }
            let (c, a) = (ws.corr[j], ws.rate[j]);
            let left_side = match just_left {
                Some((i, sign)) if i == j => sign,
                _ => T::zero(),
            };
            // c_j - g a_j = level - g  (positive side) or  -(level - g)  (negative side).
            if left_side <= T::zero() && sooner(level - c, T::one() - a, gamma) {
                gamma = (level - c).max(T::zero()) / (T::one() - a);
                event = Event::Enter(j);
            }
            if !p.nonneg && left_side >= T::zero() && sooner(level + c, T::one() + a, gamma) {
                gamma = (level + c).max(T::zero()) / (T::one() + a);
                event = Event::Enter(j);
            }
        }
        for (pos, (&i, &w)) in ws.active.iter().zip(&ws.direction).enumerate() {
            let z = code[i];
            // Only a coefficient moving towards zero can cross it.
            if z != T::zero() && z * w < T::zero() {
                let candidate = -z / w;
                if candidate < gamma {
                    gamma = candidate;
                    event = Event::Leave(pos);
                }
            }
        }
        if matches!(event, Event::Enter(_)) && ws.active.len() >= max_nonzero {
            // The path stops where the atom would enter: Lasso solution at lambda_t.
            gamma = gamma.max(T::zero());
            advance(gamma, code, ws);
            return SolveStatus { n_iter: steps + 1, converged: true };
        }
        gamma = gamma.max(T::zero());
        advance(gamma, code, ws);
        level -= gamma;
        steps += 1;
        just_left = None;
        match event {
            Event::Reached => return SolveStatus { n_iter: steps, converged: true },
            Event::Enter(j) => pending = Some(j),
            Event::Leave(pos) => {
                let i = ws.active.remove(pos);
                let sign = ws.signs.remove(pos);
                ws.chol.remove(pos);
                ws.in_active[i] = false;
                code[i] = T::zero();
                just_left = Some((i, sign));
            }
        }
    }
    SolveStatus { n_iter: steps, converged: false }
}

/// Whether `numerator - g denominator` reaches zero at some `g` in
/// `[0, gamma)`, tested without a division (this loop over every atom is the
/// hot spot of the path). A numerator made slightly negative by rounding
/// means the event is due now.
#[inline(always)]
fn sooner<T: Float>(numerator: T, denominator: T, gamma: T) -> bool {
    denominator > T::zero() && numerator.max(T::zero()) < gamma * denominator
}

/// Moves the active coefficients by `gamma w` and the correlations by `-gamma rate`.
fn advance<T: Float>(gamma: T, code: &mut [T], ws: &mut LarsWorkspace<T>) {
    for (&i, &w) in ws.active.iter().zip(&ws.direction) {
        code[i] += gamma * w;
    }
    for (c, &r) in ws.corr.iter_mut().zip(&ws.rate) {
        *c -= gamma * r;
    }
}

/// Adds atom `j` to the active set and the Cholesky factor of `(G + l2 I)_AA`;
/// `false` when the factor is full or `j` is numerically dependent on the
/// active atoms.
fn add_atom<T: Float>(p: &PenaltyScalars<T>, gram: faer::MatRef<'_, T>, j: usize, ws: &mut LarsWorkspace<T>) -> bool {
    if ws.chol.len() == ws.chol.capacity() {
        return false;
    }
    let column = gram_col(gram, j);
    // `direction` is free here: use it for the cross products G[j, A].
    ws.direction.clear();
    ws.direction.extend(ws.active.iter().map(|&i| column[i]));
    if !ws.chol.push(&ws.direction, column[j] + p.l2) {
        return false;
    }
    ws.active.push(j);
    ws.signs.push(if ws.corr[j] >= T::zero() { T::one() } else { -T::one() });
    ws.in_active[j] = true;
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encode::encode;
    use faer::Mat;

    #[test]
    fn orthonormal_dictionary_gives_the_soft_threshold() {
        let d = Dictionary::new(Mat::<f64>::identity(4, 4)).unwrap();
        let x = faer::mat![[3.0, -0.5, -2.0, 1.2]];
        let out = encode(&Lars::new(ElasticNet::lasso(1.0).with_l2(1.0)), &d, x.as_ref()).unwrap();
        let expected = [1.0, 0.0, -0.5, 0.1];
        for (k, e) in expected.iter().enumerate() {
            assert!((out.codes[(0, k)] - e).abs() < 1e-14, "atom {k}: {}", out.codes[(0, k)]);
        }
        assert!(out.reports[0].converged);
        assert_eq!(out.reports[0].n_iter, 3);
    }

    #[test]
    fn max_nonzero_stops_the_path_early() {
        let d = Dictionary::new(Mat::<f64>::identity(3, 3)).unwrap();
        let x = faer::mat![[3.0, -2.0, 1.5]];
        let out = encode(&Lars::new(ElasticNet::lasso(0.1)).with_max_nonzero(1), &d, x.as_ref()).unwrap();
        // Stopped where atom 1 enters: lambda_t = 2, code = soft(dx, 2).
        assert_eq!([out.codes[(0, 0)], out.codes[(0, 1)], out.codes[(0, 2)]], [1.0, 0.0, 0.0]);
        assert!(out.reports[0].converged);
        assert_eq!(out.reports[0].n_nonzero, 1);
    }
}
