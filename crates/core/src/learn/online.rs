//! Online (mini-batch) dictionary learning: Mairal, Bach, Ponce & Sapiro,
//! "Online learning for matrix factorization and sparse coding", JMLR 11
//! (2010), Alg. 1 (with the mini-batch extension of sec. 3.4.3) and Alg. 2.
//!
//! Each mini-batch is coded with the current dictionary, folded into the
//! sufficient statistics `A = sum w z z^T` (`Z^T Z`, `n_atoms x n_atoms`) and
//! `B = sum w z x^T` (`Z^T X`, `n_atoms x n_features`), and the dictionary takes
//! one block-coordinate pass over its atoms, warm-started from the previous
//! dictionary ([`update_atoms`]).
//!
//! Weighting (normalised per sample, so a batch counts by its size: the fix
//! of scikit-learn issue 25354). `A` and `B` are weighted *averages* over every
//! sample seen, in which the sample at stream position `s` (1-based) has
//! weight proportional to `s^rho`, `rho` = [`OnlineParams::forget_rate`]. This
//! is exactly Mairal's forgetting `beta_t = (1 - 1/t)^rho` (JMLR sec. 3.4.2)
//! applied sample by sample, since `prod_{u=s+1..t} (1 - 1/u)^rho = (s/t)^rho`;
//! `rho = 0` is the plain average (no forgetting). Whether the same samples
//! arrive as one batch of 1000 or as batches of 10 and 990 changes only which
//! dictionary codes them, never their weights.
//!
//! Atoms with `A_jj` below `1e-6` times the mean diagonal of `A` (unused) are
//! replaced by random samples of the current batch, normalised.
//!
//! Randomness is derived from `(seed, step)`, so a learner rebuilt from an
//! exported [`OnlineState`] continues exactly as the original would have.

use super::atom_update::update_atoms;
use super::init::{initial_dictionary, Init};
use super::{check_training_data, copy_row, normalize_atom, relative_change, Fitted, Progress};
use crate::encode::{encode_into, Encoder, Start};
use crate::linalg::gemm;
use crate::{rng, validate, Dictionary, Error, Float, Result};
use faer::{Accum, Mat, MatRef, Par};
use rand::seq::SliceRandom;
use std::ops::ControlFlow;

/// Relative usage (`A_jj` over the mean of `diag(A)`) below which an atom is dead.
const DEAD_RELATIVE_USAGE: f64 = 1e-6;

/// Key mixed into the seed for the epoch shuffles of [`OnlineLearner::fit`],
/// so they never reuse the stream of a step.
const SHUFFLE_KEY: u64 = 0x5eed_5ca1_ab1e_0001;

/// Parameters of the online learner that stay fixed during a run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OnlineParams {
    /// `rho >= 0`: the sample at stream position `s` has weight `s^rho` in the
    /// statistics (module docs). 0: plain average; larger: forget faster.
    pub forget_rate: f64,
    /// Weight in `(0, 1]` of a new mini-batch objective in the exponentially
    /// weighted average ([`OnlineState::smoothed_objective`]).
    pub objective_smoothing: f64,
    /// Keep the atoms non-negative.
    pub nonneg_dictionary: bool,
    /// Seed of every random choice (dead-atom resampling, epoch shuffles).
    pub seed: u64,
}

impl Default for OnlineParams {
    /// `forget_rate` 10 (the statistics remember about the last `1/11` of
    /// the stream: fast enough to forget codes from early dictionaries,
    /// which planted-recovery experiments need), `objective_smoothing` 0.05,
    /// signed atoms, seed 0.
    fn default() -> Self {
        Self { forget_rate: 10.0, objective_smoothing: 0.05, nonneg_dictionary: false, seed: 0 }
    }
}

impl OnlineParams {
    fn check(&self) -> Result<()> {
        validate::non_negative("forget_rate", self.forget_rate)?;
        let s = self.objective_smoothing;
        if !(s > 0.0 && s <= 1.0) {
            return Err(Error::parameter("objective_smoothing", s, "must be in (0, 1]"));
        }
        Ok(())
    }
}

/// Everything an [`OnlineLearner`] needs to continue a run, as plain fields,
/// for checkpoints. Export with [`OnlineLearner::state`], resume with
/// [`OnlineLearner::from_state`] and the same encoder.
#[derive(Debug, Clone, PartialEq)]
pub struct OnlineState<T> {
    /// The parameters of the run.
    pub params: OnlineParams,
    /// Current atoms (`n_atoms x n_features`).
    pub dictionary: Mat<T>,
    /// Weighted average of `z z^T` (`n_atoms x n_atoms`).
    pub a: Mat<T>,
    /// Weighted average of `z x^T` (`n_atoms x n_features`).
    pub b: Mat<T>,
    /// Samples folded into the statistics so far (the stream position).
    pub n_samples_seen: u64,
    /// `sum_{s <= n} (s / n)^rho` over the samples seen: the total weight of
    /// the statistics relative to the newest sample's.
    pub total_weight: f64,
    /// Mini-batch steps taken so far.
    pub n_steps: u64,
    /// Exponentially weighted average of the per-sample mini-batch objective
    /// (`None` before the first step).
    pub smoothed_objective: Option<f64>,
}

/// What one [`OnlineLearner::partial_fit`] step did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepReport {
    /// Mean objective of the batch's samples, coded with the dictionary from
    /// before the step.
    pub objective: f64,
    /// The smoothed objective after the step.
    pub smoothed_objective: f64,
    /// Relative change of the dictionary, `||D_new - D_old||_F / ||D_old||_F`.
    pub dictionary_change: f64,
    /// Dead atoms replaced by samples of the batch.
    pub resampled_atoms: usize,
}

/// How [`OnlineLearner::fit`] walks over in-memory data.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OnlineSchedule {
    /// Samples per mini-batch (the last batch of an epoch may be smaller).
    pub batch_size: usize,
    /// Passes over the data at most.
    pub max_epochs: usize,
    /// Stop when a step changes the dictionary by at most this (relative
    /// Frobenius norm); 0 disables.
    pub tol: f64,
    /// Stop when the smoothed objective has not improved for this many
    /// consecutive steps; 0 disables.
    pub max_no_improvement: usize,
    /// Visit the samples in a fresh random order every epoch.
    pub shuffle: bool,
}

impl Default for OnlineSchedule {
    /// Batches of 256, at most 10 epochs, `tol` 1e-4, 10 steps without
    /// improvement, shuffled.
    fn default() -> Self {
        Self { batch_size: 256, max_epochs: 10, tol: 1e-4, max_no_improvement: 10, shuffle: true }
    }
}

/// Online dictionary learning state with an encoder; see the module docs.
///
/// ```
/// use sparsecode::encode::omp::Omp;
/// use sparsecode::learn::online::{OnlineLearner, OnlineParams};
/// use sparsecode::learn::{synthetic, Init};
/// let p = synthetic::planted::<f64>(&synthetic::PlantedSpec {
///     n_samples: 400, n_features: 10, n_atoms: 12, n_nonzero: 2, noise: 0.01, seed: 5,
/// }).unwrap();
/// let mut learner =
///     OnlineLearner::from_data(Omp::with_n_nonzero(2), p.x.as_ref(), 12, &Init::Samples, OnlineParams::default())
///         .unwrap();
/// let first = learner.partial_fit(p.x.subrows(0, 100)).unwrap();
/// for start in (100..400).step_by(100) {
///     learner.partial_fit(p.x.subrows(start, 100)).unwrap();
/// }
/// assert_eq!(learner.state().n_samples_seen, 400);
/// assert!(learner.state().smoothed_objective.unwrap() < first.objective);
/// ```
#[derive(Debug, Clone)]
pub struct OnlineLearner<T: Float, E> {
    encoder: E,
    dictionary: Dictionary<T>,
    a: Mat<T>,
    b: Mat<T>,
    params: OnlineParams,
    n_samples_seen: u64,
    total_weight: f64,
    n_steps: u64,
    smoothed_objective: Option<f64>,
}

impl<T: Float, E: Encoder<T>> OnlineLearner<T, E> {
    /// A learner starting from `dictionary` (`n_atoms x n_features`, atoms
    /// projected onto the constraint set: unit norm, non-negative if asked).
    pub fn new(encoder: E, dictionary: Mat<T>, params: OnlineParams) -> Result<Self> {
        params.check()?;
        validate::non_empty("initial dictionary", dictionary.as_ref())?;
        let mut atoms = dictionary;
        let mut row = vec![T::zero(); atoms.ncols()];
        for i in 0..atoms.nrows() {
            copy_row(atoms.as_ref(), i, &mut row);
            validate::finite_slice("initial dictionary", &row)?;
            if !normalize_atom(&mut row, params.nonneg_dictionary) {
                return Err(Error::ZeroNormAtom { index: i, norm: 0.0 });
            }
            for (j, &v) in row.iter().enumerate() {
                atoms[(i, j)] = v;
            }
        }
        let (k, p) = atoms.shape();
        let dictionary = Dictionary::new(atoms)?;
        encoder.check(&dictionary)?;
        Ok(Self {
            encoder,
            dictionary,
            a: Mat::zeros(k, k),
            b: Mat::zeros(k, p),
            params,
            n_samples_seen: 0,
            total_weight: 0.0,
            n_steps: 0,
            smoothed_objective: None,
        })
    }

    /// A learner whose first dictionary of `n_atoms` atoms comes from `x` by
    /// `init` (see [`initial_dictionary`]; `x` may be just the first batch).
    pub fn from_data(
        encoder: E,
        x: MatRef<'_, T>,
        n_atoms: usize,
        init: &Init<T>,
        params: OnlineParams,
    ) -> Result<Self> {
        check_training_data(x, n_atoms)?;
        let d = initial_dictionary(x, n_atoms, init, params.nonneg_dictionary, params.seed)?;
        Self::new(encoder, d, params)
    }

    /// Resumes from an exported state (checked for consistent shapes and
    /// finite values); with the same encoder and batches it continues exactly
    /// as the learner that exported it.
    pub fn from_state(encoder: E, state: OnlineState<T>) -> Result<Self> {
        state.params.check()?;
        let (k, p) = state.dictionary.shape();
        if state.a.shape() != (k, k) || state.b.shape() != (k, p) {
            return Err(Error::Shape(format!(
                "checkpoint statistics A is {} x {} and B {} x {}, but the dictionary is {k} x {p} \
                 (expected A {k} x {k}, B {k} x {p})",
                state.a.nrows(),
                state.a.ncols(),
                state.b.nrows(),
                state.b.ncols()
            )));
        }
        validate::finite("checkpoint statistics A", state.a.as_ref())?;
        validate::finite("checkpoint statistics B", state.b.as_ref())?;
        if !(state.total_weight.is_finite() && state.total_weight >= 0.0)
            || (state.n_samples_seen > 0) != (state.total_weight > 0.0)
        {
            return Err(Error::parameter(
                "total_weight",
                state.total_weight,
                format!("is inconsistent with n_samples_seen = {}", state.n_samples_seen),
            ));
        }
        let dictionary = Dictionary::new(state.dictionary)?;
        encoder.check(&dictionary)?;
        Ok(Self {
            encoder,
            dictionary,
            a: state.a,
            b: state.b,
            params: state.params,
            n_samples_seen: state.n_samples_seen,
            total_weight: state.total_weight,
            n_steps: state.n_steps,
            smoothed_objective: state.smoothed_objective,
        })
    }

    /// A copy of the full state, for checkpoints.
    pub fn state(&self) -> OnlineState<T> {
        OnlineState {
            params: self.params,
            dictionary: self.dictionary.atoms().to_owned(),
            a: self.a.clone(),
            b: self.b.clone(),
            n_samples_seen: self.n_samples_seen,
            total_weight: self.total_weight,
            n_steps: self.n_steps,
            smoothed_objective: self.smoothed_objective,
        }
    }

    /// The current dictionary.
    pub fn dictionary(&self) -> &Dictionary<T> {
        &self.dictionary
    }

    /// The encoder.
    pub fn encoder(&self) -> &E {
        &self.encoder
    }

    /// The run's parameters.
    pub fn params(&self) -> &OnlineParams {
        &self.params
    }

    /// One step on a mini-batch (`batch_size x n_features`, any size >= 1):
    /// code it, fold it into the statistics, update every atom once.
    pub fn partial_fit(&mut self, batch: MatRef<'_, T>) -> Result<StepReport> {
        let (k, p) = (self.dictionary.n_atoms(), self.dictionary.n_features());
        let mut codes = Mat::zeros(batch.nrows(), k);
        let reports = encode_into(&self.encoder, &self.dictionary, batch, codes.as_mut(), Start::Zero)?;
        let objective = reports.iter().map(|r| r.objective).sum::<f64>() / reports.len() as f64;

        self.accumulate(batch, codes.as_ref());

        let old = self.dictionary.atoms().to_owned();
        let mut atoms = old.clone();
        let mean_usage = (0..k).map(|j| self.a[(j, j)]).fold(T::zero(), |s, v| s + v) / T::of(k as f64);
        let dead_below = mean_usage * T::of(DEAD_RELATIVE_USAGE);
        let dead =
            update_atoms(atoms.as_mut(), self.a.as_ref(), self.b.as_ref(), self.params.nonneg_dictionary, dead_below);
        let resampled_atoms = self.resample(&mut atoms, &dead, batch);
        let dictionary_change = relative_change(old.as_ref(), atoms.as_ref());
        self.dictionary = Dictionary::new(atoms)?;
        debug_assert_eq!(self.dictionary.n_features(), p);

        let alpha = self.params.objective_smoothing;
        let smoothed = match self.smoothed_objective {
            None => objective,
            Some(s) => (1.0 - alpha) * s + alpha * objective,
        };
        self.smoothed_objective = Some(smoothed);
        self.n_steps += 1;
        Ok(StepReport { objective, smoothed_objective: smoothed, dictionary_change, resampled_atoms })
    }

    /// Folds a coded batch into `A` and `B` with per-sample weights `s^rho`
    /// (module docs), keeping them weighted averages.
    ///
    /// Lasso and OMP codes have a few non-zeros each, so the updates
    /// `A += w z z^T`, `B += w z x^T` are done as sparse rank-1 updates on
    /// the supports (as SPAMS does) when that is cheaper than the dense
    /// products `Z^T W Z` (`k x k x m`) and `Z^T W X`; dense codes take the
    /// GEMMs.
    fn accumulate(&mut self, batch: MatRef<'_, T>, codes: MatRef<'_, T>) {
        let rho = self.params.forget_rate;
        let n_old = self.n_samples_seen as f64;
        let (m, k) = codes.shape();
        let p = batch.ncols();
        let n_new = n_old + m as f64;
        let raw: Vec<f64> = (1..=m).map(|i| ((n_old + i as f64) / n_new).powf(rho)).collect();
        let kept = self.total_weight * (n_old / n_new).powf(rho);
        let total = kept + raw.iter().sum::<f64>();
        let beta = T::of(kept / total);
        let weights: Vec<T> = raw.iter().map(|w| T::of(w / total)).collect();
        scale(&mut self.a, beta);
        scale(&mut self.b, beta);

        let supports = Supports::of(codes);
        let sparse_cost = supports.squared_sizes() + p * supports.nnz();
        // Scalar sparse updates against a vectorised GEMM: about 8x per flop.
        if 8 * sparse_cost < (k * k + k * p) * m {
            for (i, &w) in weights.iter().enumerate() {
                let support = supports.row(i);
                for &(a, za) in support {
                    let wa = w * za;
                    let mut col = self.a.col_mut(a);
                    for &(c, zc) in support {
                        col[c] += wa * zc;
                    }
                }
                for f in 0..p {
                    let xf = w * batch[(i, f)];
                    let mut col = self.b.col_mut(f);
                    for &(a, za) in support {
                        col[a] += za * xf;
                    }
                }
            }
        } else {
            let mut weighted = codes.to_owned();
            for (i, &w) in weights.iter().enumerate() {
                for j in 0..k {
                    weighted[(i, j)] *= w;
                }
            }
            gemm(self.a.as_mut(), Accum::Add, weighted.transpose(), codes, Par::Seq);
            gemm(self.b.as_mut(), Accum::Add, weighted.transpose(), batch, Par::Seq);
        }
        self.n_samples_seen += m as u64;
        self.total_weight = total;
    }

    /// Replaces each dead atom by a random, normalised sample of `batch` and
    /// clears its statistics. Returns how many were replaced.
    fn resample(&mut self, atoms: &mut Mat<T>, dead: &[usize], batch: MatRef<'_, T>) -> usize {
        if dead.is_empty() {
            return 0;
        }
        let mut rng = rng::seeded(self.params.seed);
        rng.set_stream(self.n_steps);
        let mut order: Vec<usize> = (0..batch.nrows()).collect();
        order.shuffle(&mut rng);
        // Distinct samples while they last; atoms left dead are tried again next step.
        let mut candidates = order.into_iter();
        let mut row = vec![T::zero(); batch.ncols()];
        let mut replaced = 0;
        for &j in dead {
            let found = candidates.by_ref().any(|i| {
                copy_row(batch, i, &mut row);
                normalize_atom(&mut row, self.params.nonneg_dictionary)
            });
            if !found {
                break;
            }
            for (f, &v) in row.iter().enumerate() {
                atoms[(j, f)] = v;
            }
            for i in 0..self.a.nrows() {
                self.a[(i, j)] = T::zero();
                self.a[(j, i)] = T::zero();
            }
            for f in 0..self.b.ncols() {
                self.b[(j, f)] = T::zero();
            }
            replaced += 1;
        }
        replaced
    }

    /// Learns from in-memory data `x`, continuing from the current state:
    /// epochs of mini-batches (shuffled per epoch, derived from the seed and
    /// step count) until a stopping rule of `schedule` holds, the epoch budget
    /// runs out, or `progress` breaks. The returned objective is the smoothed
    /// objective after each step.
    pub fn fit(
        &mut self,
        x: MatRef<'_, T>,
        schedule: &OnlineSchedule,
        mut progress: impl FnMut(&Progress) -> ControlFlow<()>,
    ) -> Result<Fitted<T>> {
        validate::at_least_one("batch_size", schedule.batch_size)?;
        validate::non_negative("tol", schedule.tol)?;
        check_training_data(x, self.dictionary.n_atoms())?;
        self.dictionary.check_signals("X", x.ncols())?;
        let n = x.nrows();
        let batch_size = schedule.batch_size.min(n);
        let steps_per_epoch = n.div_ceil(batch_size);
        let max_iter = steps_per_epoch * schedule.max_epochs;
        let mut objective = Vec::with_capacity(max_iter);
        let mut stopping = StoppingRule::new(schedule.tol, schedule.max_no_improvement);
        let mut converged = false;
        let mut batch = Mat::<T>::zeros(batch_size, x.ncols());
        'epochs: for _ in 0..schedule.max_epochs {
            let mut order: Vec<usize> = (0..n).collect();
            if schedule.shuffle {
                let mut rng = rng::seeded(self.params.seed ^ SHUFFLE_KEY);
                rng.set_stream(self.n_steps);
                order.shuffle(&mut rng);
            }
            for chunk in order.chunks(batch_size) {
                for (r, &i) in chunk.iter().enumerate() {
                    for f in 0..x.ncols() {
                        batch[(r, f)] = x[(i, f)];
                    }
                }
                let step = self.partial_fit(batch.as_ref().subrows(0, chunk.len()))?;
                objective.push(step.smoothed_objective);
                converged = stopping.observe(&step);
                let report = Progress {
                    iteration: objective.len(),
                    max_iter,
                    objective: step.smoothed_objective,
                    dictionary_change: step.dictionary_change,
                };
                if converged || progress(&report).is_break() {
                    break 'epochs;
                }
            }
        }
        Ok(Fitted { dictionary: self.dictionary.clone(), n_iter: objective.len(), objective, converged, codes: None })
    }
}

/// The convergence test of online learning, step by step: converged when a
/// step changes the dictionary by at most `tol` (relative Frobenius norm,
/// [`StepReport::dictionary_change`]) or when the smoothed objective has not
/// reached a new minimum for `max_no_improvement` consecutive steps (the
/// rule of scikit-learn's `MiniBatchDictionaryLearning`). A zero disables
/// its rule. Used by [`OnlineLearner::fit`] and by drivers that feed
/// [`OnlineLearner::partial_fit`] themselves.
///
/// ```
/// use sparsecode::learn::online::{StepReport, StoppingRule};
/// let step = |change| StepReport { objective: 1.0, smoothed_objective: 1.0, dictionary_change: change, resampled_atoms: 0 };
/// let mut rule = StoppingRule::new(1e-3, 0);
/// assert!(!rule.observe(&step(0.01)));
/// assert!(rule.observe(&step(1e-4)));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StoppingRule {
    tol: f64,
    max_no_improvement: usize,
    best: f64,
    no_improvement: usize,
}

impl StoppingRule {
    /// A rule with tolerance `tol` on the dictionary change and patience
    /// `max_no_improvement` steps on the smoothed objective (0: off).
    pub fn new(tol: f64, max_no_improvement: usize) -> Self {
        Self { tol, max_no_improvement, best: f64::INFINITY, no_improvement: 0 }
    }

    /// Records a step; `true` once converged.
    pub fn observe(&mut self, step: &StepReport) -> bool {
        if step.smoothed_objective < self.best {
            self.best = step.smoothed_objective;
            self.no_improvement = 0;
        } else {
            self.no_improvement += 1;
        }
        (self.tol > 0.0 && step.dictionary_change <= self.tol)
            || (self.max_no_improvement > 0 && self.no_improvement >= self.max_no_improvement)
    }
}

/// The non-zeros of each row of a code matrix, `(atom, value)` pairs in
/// atom order, stored row after row (compressed sparse rows).
struct Supports<T> {
    offsets: Vec<usize>,
    entries: Vec<(usize, T)>,
}

impl<T: Float> Supports<T> {
    /// Scans `codes` (`n_samples x n_atoms`) column by column.
    fn of(codes: MatRef<'_, T>) -> Self {
        let (m, k) = codes.shape();
        let mut offsets = vec![0; m + 1];
        for j in 0..k {
            for i in 0..m {
                if codes[(i, j)] != T::zero() {
                    offsets[i + 1] += 1;
                }
            }
        }
        for i in 0..m {
            offsets[i + 1] += offsets[i];
        }
        let mut next = offsets.clone();
        let mut entries = vec![(0, T::zero()); offsets[m]];
        for j in 0..k {
            for i in 0..m {
                let c = codes[(i, j)];
                if c != T::zero() {
                    entries[next[i]] = (j, c);
                    next[i] += 1;
                }
            }
        }
        Self { offsets, entries }
    }

    fn row(&self, i: usize) -> &[(usize, T)] {
        &self.entries[self.offsets[i]..self.offsets[i + 1]]
    }

    fn nnz(&self) -> usize {
        self.entries.len()
    }

    /// `sum_i |support_i|^2`: the work of the sparse `A` update.
    fn squared_sizes(&self) -> usize {
        self.offsets.windows(2).map(|w| (w[1] - w[0]) * (w[1] - w[0])).sum()
    }
}

/// `m <- factor * m`.
fn scale<T: Float>(m: &mut Mat<T>, factor: T) {
    for j in 0..m.ncols() {
        for i in 0..m.nrows() {
            m[(i, j)] *= factor;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encode::{Signal, SolveStatus};

    /// Codes each signal by its correlations with the atoms (exact for an
    /// orthonormal dictionary): enough to exercise the statistics.
    struct Correlations;

    impl Encoder<f64> for Correlations {
        type Workspace = ();
        fn check(&self, _: &Dictionary<f64>) -> Result<()> {
            Ok(())
        }
        fn workspace(&self, _: &Dictionary<f64>) {}
        fn encode_one(&self, _: &Dictionary<f64>, s: &Signal<'_, f64>, code: &mut [f64], _: &mut ()) -> SolveStatus {
            code.copy_from_slice(s.dx);
            SolveStatus { n_iter: 1, converged: true }
        }
        fn penalty(&self, _: &[f64]) -> f64 {
            0.0
        }
        fn uses_gram(&self) -> bool {
            false
        }
    }

    fn learner(rho: f64) -> OnlineLearner<f64, Correlations> {
        let params = OnlineParams { forget_rate: rho, ..OnlineParams::default() };
        OnlineLearner::new(Correlations, faer::mat![[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]], params).unwrap()
    }

    fn data(n: usize) -> Mat<f64> {
        Mat::from_fn(n, 3, |i, j| ((i * 7 + j * 5) % 11) as f64 - 5.0)
    }

    #[test]
    fn statistics_are_per_sample_weighted_averages_whatever_the_batch_sizes() {
        let x = data(1010);
        for rho in [0.0, 1.0, 3.5] {
            let mut l = learner(rho);
            // Codes are z = D x; fold fixed codes (from the first dictionary)
            // so only the weighting is tested.
            let codes = crate::linalg::reconstruct(x.as_ref(), l.dictionary().atoms().transpose());
            l.accumulate(x.subrows(0, 10), codes.subrows(0, 10));
            l.accumulate(x.subrows(10, 1000), codes.subrows(10, 1000));
            let mut expected_a = Mat::<f64>::zeros(2, 2);
            let mut expected_b = Mat::<f64>::zeros(2, 3);
            let total: f64 = (1..=1010).map(|s| (s as f64).powf(rho)).sum();
            for i in 0..1010 {
                let w = ((i + 1) as f64).powf(rho) / total;
                for a in 0..2 {
                    for c in 0..2 {
                        expected_a[(a, c)] += w * codes[(i, a)] * codes[(i, c)];
                    }
                    for f in 0..3 {
                        expected_b[(a, f)] += w * codes[(i, a)] * x[(i, f)];
                    }
                }
            }
            let err_a = (&l.a - &expected_a).as_ref().norm_max() / expected_a.as_ref().norm_max();
            let err_b = (&l.b - &expected_b).as_ref().norm_max() / expected_b.as_ref().norm_max();
            assert!(err_a < 1e-12 && err_b < 1e-12, "rho {rho}: {err_a} {err_b}");
            assert_eq!(l.n_samples_seen, 1010);
        }
    }

    #[test]
    fn sparse_codes_take_the_sparse_update_with_the_same_statistics() {
        // 40 atoms, 3 non-zeros per code: the sparse rank-1 path.
        let (k, p, m) = (40, 5, 300);
        let d = Mat::<f64>::from_fn(k, p, |i, j| if i % p == j { 1.0 } else { 0.0 });
        let params = OnlineParams { forget_rate: 1.5, ..OnlineParams::default() };
        let mut l = OnlineLearner::new(Correlations, d, params).unwrap();
        let x = data(m).subcols(0, 3).to_owned();
        let x = Mat::from_fn(m, p, |i, j| x[(i, j % 3)] + j as f64);
        let codes = Mat::from_fn(m, k, |i, j| if (i * 7 + j * 3) % 13 < 1 { (i + j) as f64 / 50.0 - 3.0 } else { 0.0 });
        let supports = Supports::of(codes.as_ref());
        assert!(8 * (supports.squared_sizes() + p * supports.nnz()) < (k * k + k * p) * m);
        l.accumulate(x.subrows(0, 100), codes.subrows(0, 100));
        l.accumulate(x.subrows(100, 200), codes.subrows(100, 200));
        let total: f64 = (1..=m).map(|s| (s as f64).powf(1.5)).sum();
        let mut expected_a = Mat::<f64>::zeros(k, k);
        let mut expected_b = Mat::<f64>::zeros(k, p);
        for i in 0..m {
            let w = ((i + 1) as f64).powf(1.5) / total;
            for a in 0..k {
                for c in 0..k {
                    expected_a[(a, c)] += w * codes[(i, a)] * codes[(i, c)];
                }
                for f in 0..p {
                    expected_b[(a, f)] += w * codes[(i, a)] * x[(i, f)];
                }
            }
        }
        let err_a = (&l.a - &expected_a).as_ref().norm_max() / expected_a.as_ref().norm_max();
        let err_b = (&l.b - &expected_b).as_ref().norm_max() / expected_b.as_ref().norm_max();
        assert!(err_a < 1e-12 && err_b < 1e-12, "{err_a} {err_b}");
    }

    #[test]
    fn one_batch_and_two_halves_weigh_samples_alike() {
        let x = data(40);
        let mut one = learner(2.0);
        let mut two = learner(2.0);
        let codes = crate::linalg::reconstruct(x.as_ref(), one.dictionary().atoms().transpose());
        one.accumulate(x.as_ref(), codes.as_ref());
        two.accumulate(x.subrows(0, 20), codes.subrows(0, 20));
        two.accumulate(x.subrows(20, 20), codes.subrows(20, 20));
        assert!((&one.a - &two.a).as_ref().norm_max() < 1e-12);
        assert!((&one.b - &two.b).as_ref().norm_max() < 1e-12);
        assert!((one.total_weight - two.total_weight).abs() < 1e-12);
    }

    #[test]
    fn bad_parameters_and_checkpoints_are_refused() {
        let d = faer::mat![[1.0, 0.0]];
        let params = OnlineParams { forget_rate: -1.0, ..OnlineParams::default() };
        assert!(matches!(OnlineLearner::new(Correlations, d.clone(), params), Err(Error::Parameter { .. })));
        let params = OnlineParams { objective_smoothing: 0.0, ..OnlineParams::default() };
        assert!(matches!(OnlineLearner::new(Correlations, d.clone(), params), Err(Error::Parameter { .. })));
        let mut state = learner(1.0).state();
        state.a = Mat::zeros(3, 3);
        assert!(matches!(OnlineLearner::from_state(Correlations, state), Err(Error::Shape(_))));
        let mut l = learner(1.0);
        let err = l.partial_fit(Mat::<f64>::zeros(4, 5).as_ref()).unwrap_err();
        assert!(matches!(err, Error::Shape(_)), "{err}");
    }
}
