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
//! factorised by [`GrowingCholesky`] (`G_AA = L L^T`), grown and shrunk one
//! atom at a time. This is what SPAMS' `lasso` does, with one change: the
//! rate `G[:, A] w` is not recomputed from `|A|` Gram columns at each step
//! but kept as `B y`, with `B = G[:, A] L^{-T}` (the progressive basis of
//! Batch-OMP, Rubinstein, Zibulevsky & Elad 2008, sec. 3) and `y = L^{-1} s`:
//! when an atom enters, `B` and `y` gain one column and one entry and the
//! rate gains one term, from a single Gram column; the new row of `L` is a
//! row of `B`, and `w = L^{-T} y` is one triangular solve. When an atom
//! leaves, the Givens rotations that repair `L` also rotate `B`'s columns.
//! A step is then two contiguous vector passes over the atoms: the basis and
//! rate update (with the last step's correlation move folded in), in blocks
//! whose sums stay in registers, and the search for the entering atom with
//! one running minimum per vector lane (candidates compared as fractions,
//! without divisions); they run on AVX2 where the CPU has it
//! ([`crate::linalg::has_avx2`]).
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
use crate::linalg::{has_avx2, GrowingCholesky};
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
    /// `y = L^{-1} s` for the Cholesky factor `L` and the signs `s`: the
    /// forward half of the direction's solve, extended one entry per atom
    /// that enters (`w = L^{-T} y`).
    fwd: Vec<T>,
    /// `B = (G + l2 I)[:, A] L^{-T}`, `n_atoms x |A|` by columns (Batch-OMP's
    /// progressive basis, Rubinstein et al. 2008, sec. 3): the rate is
    /// `B y`, the new row of `L` for an entering atom `j` is `B[j, :]`, and
    /// `B` gains one column per entering atom.
    basis: Vec<T>,
    /// The new row of `L` (scratch).
    row: Vec<T>,
    /// `(G + l2 I)[:, A] w`: the rate at which each correlation decreases.
    rate: Vec<T>,
    /// Correlations `D x - (G + l2 I) z`, one step behind while a step's
    /// move is pending (it is applied in the next rate pass).
    corr: Vec<T>,
    /// 1 where an atom may enter, `-inf` where it is active or numerically
    /// dependent on the active ones (see [`EntrySweep::run`]).
    unit: Vec<T>,
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
            fwd: Vec::with_capacity(capacity),
            basis: vec![T::zero(); n * capacity],
            row: Vec::with_capacity(capacity),
            rate: vec![T::zero(); n],
            corr: vec![T::zero(); n],
            unit: vec![T::one(); n],
        }
    }

    fn encode_one(
        &self,
        dict: &Dictionary<T>,
        signal: &Signal<'_, T>,
        code: &mut [T],
        ws: &mut LarsWorkspace<T>,
    ) -> SolveStatus {
        let p = self.penalty.scalars();
        #[cfg(target_arch = "x86_64")]
        {
            #[target_feature(enable = "avx2")]
            unsafe fn avx2<T: Float>(
                p: &PenaltyScalars<T>,
                max_nonzero: Option<usize>,
                dict: &Dictionary<T>,
                dx: &[T],
                code: &mut [T],
                ws: &mut LarsWorkspace<T>,
            ) -> SolveStatus {
                lars_path(p, max_nonzero, dict, dx, code, ws)
            }
            if has_avx2() {
                // SAFETY: the CPU supports AVX2.
                return unsafe { avx2(&p, self.max_nonzero, dict, signal.dx, code, ws) };
            }
        }
        lars_path(&p, self.max_nonzero, dict, signal.dx, code, ws)
    }

    fn penalty(&self, code: &[T]) -> T {
        self.penalty.value(code)
    }
}

/// The LARS-Lasso path for one signal (see the [module](self) docs), compiled
/// into its caller so that the AVX2 twin vectorises the sweeps.
#[inline(always)]
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
    ws.fwd.clear();
    ws.rate.fill(T::zero());
    ws.unit.fill(T::one());
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
    // The last step's length, not yet applied to the correlations.
    let mut moved: Option<T> = None;
    // An atom left at the last step: the rate is recomputed from the basis.
    let mut shrank = false;
    let max_steps = 8 * n + 8;
    let mut steps = 0;
    while steps < max_steps {
        let gamma = moved.take();
        let mut grew = false;
        if let Some(j) = pending.take() {
            let c = match gamma {
                Some(g) => ws.corr[j] - g * ws.rate[j],
                None => ws.corr[j],
            };
            grew = add_atom(p, gram, j, c, ws);
            if !grew {
                ws.unit[j] = T::neg_infinity();
            }
        }
        if ws.active.is_empty() {
            // Only possible when every candidate was excluded.
            return SolveStatus { n_iter: steps, converged: false };
        }
        // Direction: (G + l2 I)_AA w = s, from y = L^{-1} s.
        ws.direction.clear();
        ws.direction.extend_from_slice(&ws.fwd);
        ws.chol.backward_in_place(&mut ws.direction);

        // The last move and the rate of every correlation, `B y`: one
        // column more than at the last step (`+ y_k b_k`), the whole
        // product after an atom left, or the same rate.
        let k = ws.active.len() - 1;
        if grew {
            let gcol = gram_col(gram, ws.active[k]);
            let entry = Entering { atom: ws.active[k], l2: p.l2, inv_pivot: ws.chol.inv_diagonal(k), y: ws.fwd[k] };
            entry.grow(gcol, &ws.row, n, gamma, &mut ws.basis, &mut ws.corr, &mut ws.rate);
        } else if shrank {
            basis_rate(&ws.basis[..n * (k + 1)], &ws.fwd, gamma, &mut ws.corr, &mut ws.rate);
        } else if let Some(g) = gamma {
            for (c, &r) in ws.corr.iter_mut().zip(&ws.rate) {
                *c -= g * r;
            }
        }
        shrank = false;
        // The first atom to enter; the atom that just left is held out and
        // checked alone.
        let held = just_left.map(|(i, _)| std::mem::replace(&mut ws.unit[i], T::neg_infinity()));
        let sweep = EntrySweep { level, nonneg: p.nonneg, reach: level - p.lambda };
        let mut best = sweep.run(&ws.unit, &ws.corr, &ws.rate);
        if let (Some((i, sign)), Some(unit)) = (just_left, held) {
            ws.unit[i] = unit;
            let (c, a) = (ws.corr[i], ws.rate[i]);
            // Only on the side opposite to the one it left from.
            if sign <= T::zero() {
                best.offer_one(i, (level - c).max(T::zero()), T::one() - a);
            }
            if !p.nonneg && sign >= T::zero() {
                best.offer_one(i, (level + c).max(T::zero()), T::one() + a);
            }
        }
        let (mut gamma, mut event) = match best.winner() {
            Some((j, num, den)) => (num / den, Event::Enter(j)),
            None => (level - p.lambda, Event::Reached),
        };
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
            advance(gamma.max(T::zero()), code, ws);
            return SolveStatus { n_iter: steps + 1, converged: true };
        }
        gamma = gamma.max(T::zero());
        advance(gamma, code, ws);
        moved = Some(gamma);
        level -= gamma;
        steps += 1;
        just_left = None;
        match event {
            Event::Reached => return SolveStatus { n_iter: steps, converged: true },
            Event::Enter(j) => pending = Some(j),
            Event::Leave(pos) => {
                let i = ws.active.remove(pos);
                let sign = ws.signs.remove(pos);
                let basis = &mut ws.basis;
                ws.chol.remove_with(pos, |k, c, s| rotate_columns(basis, n, k, c, s));
                ws.fwd.truncate(pos);
                ws.chol.forward_extend(&mut ws.fwd, &ws.signs);
                shrank = true;
                ws.unit[i] = T::one();
                code[i] = T::zero();
                just_left = Some((i, sign));
            }
        }
    }
    SolveStatus { n_iter: steps, converged: false }
}

/// Atoms per chunk of the entry search, each with its own running minimum.
const LANES: usize = 8;

/// Atoms per block of the rate pass: as many independent sums as keep the
/// adder pipelines full while the active columns stream through.
const BLOCK: usize = 32;

/// For the `W` atoms from `base`: subtracts `gamma rate` from their
/// correlations (the last step's move, when there was one) and returns
/// `sum_i w_i col_i[base..base + W]` over the columns of `cols` (each `n`
/// long), the `W` sums held in registers while the columns stream through.
/// The one loop of both rate passes; `W = 1` serves their tails.
#[inline(always)]
fn move_and_combine<T: Float, const W: usize>(
    cols: &[T],
    n: usize,
    weights: &[T],
    base: usize,
    gamma: Option<T>,
    corr: &mut [T],
    rate: &[T],
) -> [T; W] {
    if let Some(g) = gamma {
        let r: &[T; W] = rate[base..base + W].try_into().expect("W");
        let c: &mut [T; W] = (&mut corr[base..base + W]).try_into().expect("W");
        for q in 0..W {
            c[q] -= g * r[q];
        }
    }
    let mut acc = [T::zero(); W];
    for (col, &w) in cols.chunks_exact(n).zip(weights) {
        let col: &[T; W] = col[base..base + W].try_into().expect("W");
        for q in 0..W {
            acc[q] += w * col[q];
        }
    }
    acc
}

/// Subtracts `gamma rate` from the correlations (the last step's move, when
/// there was one) and overwrites `rate` with `B y` (columns of `basis`, each
/// `corr.len()` long), in one pass of blocks of `BLOCK` atoms.
#[inline(always)]
fn basis_rate<T: Float>(basis: &[T], y: &[T], gamma: Option<T>, corr: &mut [T], rate: &mut [T]) {
    let n = rate.len();
    let body = n - n % BLOCK;
    for base in (0..body).step_by(BLOCK) {
        let sums = move_and_combine::<T, BLOCK>(basis, n, y, base, gamma, corr, rate);
        rate[base..base + BLOCK].copy_from_slice(&sums);
    }
    for j in body..n {
        rate[j] = move_and_combine::<T, 1>(basis, n, y, j, gamma, corr, rate)[0];
    }
}

/// The atom that just entered at position `k` of the factor.
struct Entering<T> {
    atom: usize,
    l2: T,
    /// `1 / L[k, k]`.
    inv_pivot: T,
    /// `y_k`.
    y: T,
}

impl<T: Float> Entering<T> {
    /// Appends the basis column `b_k = ((G + l2 I)[:, j] - B L[k, :k]^T) / L[k, k]`
    /// (the Cholesky recurrence applied to every row; `row = L[k, :k]`,
    /// `gcol = G[:, j]`; the `l2` term, on row `j` only, is added after the
    /// pass), subtracts the last move `gamma rate` from the
    /// correlations and adds `y_k b_k` to the rate, in one blocked pass.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn grow(&self, gcol: &[T], row: &[T], n: usize, gamma: Option<T>, basis: &mut [T], corr: &mut [T], rate: &mut [T]) {
        let k = row.len();
        let (old, new) = basis.split_at_mut(k * n);
        let new = &mut new[..n];
        let body = n - n % BLOCK;
        for base in (0..body).step_by(BLOCK) {
            let acc = move_and_combine::<T, BLOCK>(old, n, row, base, gamma, corr, rate);
            let g: &[T; BLOCK] = gcol[base..base + BLOCK].try_into().expect("BLOCK");
            let b: &mut [T; BLOCK] = (&mut new[base..base + BLOCK]).try_into().expect("BLOCK");
            let r: &mut [T; BLOCK] = (&mut rate[base..base + BLOCK]).try_into().expect("BLOCK");
            for q in 0..BLOCK {
                b[q] = (g[q] - acc[q]) * self.inv_pivot;
                r[q] += self.y * b[q];
            }
        }
        for j in body..n {
            let [acc] = move_and_combine::<T, 1>(old, n, row, j, gamma, corr, rate);
            new[j] = (gcol[j] - acc) * self.inv_pivot;
            rate[j] += self.y * new[j];
        }
        // The l2 term touches row `j` only.
        if self.l2 != T::zero() {
            let extra = self.l2 * self.inv_pivot;
            new[self.atom] += extra;
            rate[self.atom] += self.y * extra;
        }
    }
}

/// Applies a Givens rotation of [`GrowingCholesky::remove_with`] to columns
/// `k` and `k + 1` (each `n` long) of the basis.
#[inline(always)]
fn rotate_columns<T: Float>(basis: &mut [T], n: usize, k: usize, c: T, s: T) {
    let (left, right) = basis[k * n..(k + 2) * n].split_at_mut(n);
    for (x, y) in left.iter_mut().zip(right) {
        let (a, b) = (*x, *y);
        *x = c * a + s * b;
        *y = -s * a + c * b;
    }
}

/// The search for the next atom to enter (Efron et al. 2004, eq. 2.13):
/// with correlations `c_j` and rates `a_j`, an inactive atom's correlation
/// reaches the active level `level - g` at `g = (level - c_j) / (1 - a_j)`
/// (positive side) or `(level + c_j) / (1 + a_j)` (negative side), where
/// those are positive; the smallest `g` below `reach = level - lambda` wins.
struct EntrySweep<T> {
    level: T,
    nonneg: bool,
    reach: T,
}

impl<T: Float> EntrySweep<T> {
    /// The running minima of the entry steps over the atoms; `unit_j` is 1
    /// for an atom that may enter and `-inf` for one that may not, which
    /// makes both of its denominators `unit_j -+ a_j` negative.
    #[inline(always)]
    fn run(&self, unit: &[T], corr: &[T], rate: &[T]) -> Entry<T> {
        if self.nonneg {
            self.run_sides::<false>(unit, corr, rate)
        } else {
            self.run_sides::<true>(unit, corr, rate)
        }
    }

    /// [`EntrySweep::run`], with or without the negative side.
    #[inline(always)]
    fn run_sides<const BOTH: bool>(&self, unit: &[T], corr: &[T], rate: &[T]) -> Entry<T> {
        let n = rate.len();
        let zero = T::zero();
        let mut best = Entry::new(self.reach);
        let (mut num, mut den, mut arg) = (best.num, best.den, best.arg);
        let offsets = best.offsets;
        let body = n - n % LANES;
        for base in (0..body).step_by(LANES) {
            let a: &[T; LANES] = rate[base..base + LANES].try_into().expect("LANES");
            let c: &[T; LANES] = corr[base..base + LANES].try_into().expect("LANES");
            let u: &[T; LANES] = unit[base..base + LANES].try_into().expect("LANES");
            let start = T::of(base as f64);
            // One running-minimum update per side; a candidate must beat the
            // lane strictly, so the positive side wins ties, as does the
            // earlier atom of a lane. No test of `d > 0` is needed: the lane's
            // `num >= 0` and `den > 0`, and `m >= 0`, so `m den < num d`
            // implies it (with `d = -inf`, `num d` is `-inf` or NaN).
            for q in 0..LANES {
                let d = u[q] - a[q];
                let m = self.level - c[q];
                let m = if m > zero { m } else { zero };
                let better = m * den[q] < num[q] * d;
                num[q] = if better { m } else { num[q] };
                den[q] = if better { d } else { den[q] };
                arg[q] = if better { start + offsets[q] } else { arg[q] };
            }
            if BOTH {
                for q in 0..LANES {
                    let d = u[q] + a[q];
                    let m = self.level + c[q];
                    let m = if m > zero { m } else { zero };
                    let better = m * den[q] < num[q] * d;
                    num[q] = if better { m } else { num[q] };
                    den[q] = if better { d } else { den[q] };
                    arg[q] = if better { start + offsets[q] } else { arg[q] };
                }
            }
        }
        (best.num, best.den, best.arg) = (num, den, arg);
        for j in body..n {
            let (a, c, u) = (rate[j], corr[j], unit[j]);
            let m = self.level - c;
            best.offer_one(j, if m > zero { m } else { zero }, u - a);
            if BOTH {
                let m = self.level + c;
                best.offer_one(j, if m > zero { m } else { zero }, u + a);
            }
        }
        best
    }
}

/// Running minima of `num / den` per lane (the entry step and its atom, as a
/// float so that every update is a vector blend; `-1`: none).
struct Entry<T> {
    num: [T; LANES],
    den: [T; LANES],
    arg: [T; LANES],
    offsets: [T; LANES],
}

impl<T: Float> Entry<T> {
    fn new(reach: T) -> Self {
        Self {
            num: [reach; LANES],
            den: [T::one(); LANES],
            arg: [-T::one(); LANES],
            offsets: std::array::from_fn(|q| T::of(q as f64)),
        }
    }

    /// One side of atom `j` in its lane (the leftover atoms of a sweep, and
    /// the atom that just left); it must beat the lane strictly.
    fn offer_one(&mut self, j: usize, num: T, den: T) {
        let q = j % LANES;
        if den > T::zero() && num * self.den[q] < self.num[q] * den {
            (self.num[q], self.den[q], self.arg[q]) = (num, den, T::of(j as f64));
        }
    }

    /// The smallest step over the lanes, `(atom, num, den)`, the smallest
    /// atom on ties; `None` when no atom enters before `reach`.
    fn winner(&self) -> Option<(usize, T, T)> {
        let mut winner: Option<usize> = None;
        for l in 0..LANES {
            if self.arg[l] < T::zero() {
                continue;
            }
            let beats = |w: usize| {
                let lhs = self.num[l] * self.den[w];
                let rhs = self.num[w] * self.den[l];
                lhs < rhs || (lhs == rhs && self.arg[l] < self.arg[w])
            };
            if winner.is_none_or(beats) {
                winner = Some(l);
            }
        }
        winner.map(|l| (self.arg[l].as_f64() as usize, self.num[l], self.den[l]))
    }
}

/// Moves the active coefficients by `gamma w` (the correlations follow in
/// the next [`move_and_rate`]).
#[inline(always)]
fn advance<T: Float>(gamma: T, code: &mut [T], ws: &LarsWorkspace<T>) {
    for (&i, &w) in ws.active.iter().zip(&ws.direction) {
        code[i] += gamma * w;
    }
}

/// Adds atom `j`, whose correlation is `c`, to the active set and the
/// Cholesky factor of `(G + l2 I)_AA` (its new row is `B[j, :]`, left in
/// `row` for the basis update), and extends `y`; `false` when the factor is
/// full or `j` is numerically dependent on the active atoms.
fn add_atom<T: Float>(
    p: &PenaltyScalars<T>,
    gram: faer::MatRef<'_, T>,
    j: usize,
    c: T,
    ws: &mut LarsWorkspace<T>,
) -> bool {
    if ws.chol.len() == ws.chol.capacity() {
        return false;
    }
    let n = ws.corr.len();
    ws.row.clear();
    ws.row.extend(ws.basis.chunks_exact(n).take(ws.active.len()).map(|col| col[j]));
    if !ws.chol.push_row(&ws.row, gram_col(gram, j)[j] + p.l2) {
        return false;
    }
    ws.active.push(j);
    ws.signs.push(if c >= T::zero() { T::one() } else { -T::one() });
    ws.chol.forward_extend(&mut ws.fwd, &ws.signs);
    ws.unit[j] = T::neg_infinity();
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

    #[test]
    fn the_avx2_twin_gives_the_same_bits() {
        if !has_avx2() {
            return;
        }
        // Correlated atoms and a small lambda: atoms enter and leave.
        let (n_atoms, n_features) = (48, 12);
        let mut state = 7u64;
        let mut next = || {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5
        };
        let d = Dictionary::normalized(Mat::from_fn(n_atoms, n_features, |_, _| next())).unwrap();
        for pen in [ElasticNet::lasso(0.01), ElasticNet::lasso(0.01).with_l2(0.1), ElasticNet::lasso(0.01).nonneg(true)]
        {
            let lars = Lars::new(pen);
            let mut left = 0;
            for _ in 0..20 {
                let x = Mat::from_fn(n_features, 1, |_, _| next());
                let dx: Vec<f64> =
                    (0..n_atoms).map(|k| (0..n_features).map(|f| d.atoms()[(k, f)] * x[(f, 0)]).sum()).collect();
                let signal = Signal { x: x.col(0), dx: &dx, norm_sq: x.col(0).squared_norm_l2() };
                let (mut fast, mut plain) = (vec![0.0; n_atoms], vec![0.0; n_atoms]);
                let mut ws = lars.workspace(&d);
                let status = lars.encode_one(&d, &signal, &mut fast, &mut ws);
                lars_path(&pen.scalars(), None, &d, &dx, &mut plain, &mut ws);
                assert!(fast.iter().zip(&plain).all(|(a, b)| a.to_bits() == b.to_bits()), "{pen:?}");
                left += status.n_iter - fast.iter().filter(|&&z| z != 0.0).count();
            }
            assert!(left > 0, "{pen:?}: no atom left the active set");
        }
    }
}
