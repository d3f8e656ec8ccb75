//! Convolutional dictionary learning (CDL): alternate CBPDN coding of the
//! maps (ADMM, warm-started) and updates of the filters by projected FISTA or
//! by ADMM in the consensus form (Garcia-Cardona & Wohlberg 2018, IEEE TCI,
//! "Convolutional dictionary learning: a comparative review and new
//! algorithms", Sec. IV, the alternating scheme of Algorithm 1 with the FISTA
//! or the consensus ("Cns") dictionary update; see [`FilterUpdate`]), with
//! weights/masks for incomplete data in both steps, filters constrained to
//! their support and the unit ball (optionally zero-mean) and, on request,
//! anchored against the shift ambiguity after every update.
//!
//! Local minima: from random starts CDL stalls where one filter serves two
//! patterns or holds a shifted, truncated copy of one. When the objective
//! falls by less than 1% over 10 outer iterations (in the first 80% of the
//! run, with at least two filters), the filter of least value to the
//! objective is replaced on trial by the window of largest residual energy
//! (the residual-driven atom replacement of patch dictionary learning, e.g.
//! Aharon, Elad & Bruckstein 2006, K-SVD, Sec. IV-E, applied to a stalled
//! filter rather than an unused one); after 10 iterations the trial is kept
//! only if the objective is lower than at its start, else the run returns to
//! the snapshot and the next filter in the order is tried next time.

use super::admm::{AdmmOptions, Balancing};
use super::array::ConvArray;
use super::boundary::{Boundary, Setup};
use super::cbpdn::{self, CscOptions, Solver};
use super::dict_update::{self, ConsensusState};
use super::operator::{czero, ConvOperator};
use super::ConvFloat;
use crate::{rng, validate, Error, Result};
use rand::Rng;
use rand_distr::{Distribution, StandardNormal};

/// How the filters are updated between two coding steps of [`learn_filters`].
#[derive(Debug, Clone, PartialEq)]
pub enum FilterUpdate {
    /// Projected FISTA on the data term of every signal at once, restarted from
    /// the current filters at each outer iteration (Garcia-Cardona & Wohlberg
    /// 2018, Sec. IV-B).
    Fista,
    /// ADMM in the consensus form, one copy of the filters per signal solved
    /// per frequency by Sherman-Morrison and a projected consensus step,
    /// through the [`admm`](super::admm) template; its duals and penalty carry
    /// over from one outer iteration to the next (Garcia-Cardona & Wohlberg
    /// 2018, the "Cns" update; SPORCO's `ConvCnstrMOD_Consensus`). `rho:
    /// None` starts at the mean trace of the per-signal Hessians (`1` with a
    /// mask or the linear boundary) at the first outer iteration and then
    /// carries over, adapted by residual balancing within each update when
    /// `adaptive_rho` (see [`FilterUpdate::consensus`] for the default).
    Consensus(AdmmOptions),
}

impl FilterUpdate {
    /// The consensus update at a fixed penalty (`adaptive_rho: false`), as
    /// SPORCO's dictionary learning runs its `ConvCnstrMOD_Consensus` (its
    /// documented `cbpdndl` defaults): with residual balancing in the filter
    /// update, 2 + 2 inner iterations stalled just above SPORCO's
    /// 50-iteration objective on the 2-D comparison of `bench/bench_cdl.py`.
    /// The coding step follows SPORCO's dictionary-learning schedule (see
    /// [`learn_filters`]).
    pub fn consensus() -> Self {
        Self::Consensus(AdmmOptions { adaptive_rho: false, ..AdmmOptions::default() })
    }
}

/// Options of [`learn_filters`].
#[derive(Debug, Clone, PartialEq)]
pub struct CdlOptions {
    /// Number of filters `K`.
    pub n_filters: usize,
    /// Spatial shape of a filter (as many axes as the signals).
    pub filter_shape: Vec<usize>,
    /// One filter channel per signal channel (`true`) or single-channel filters
    /// shared across channels (`false`).
    pub multichannel_filters: bool,
    /// Weight of the l1 penalty on the maps.
    pub lambda: f64,
    /// Boundary condition.
    pub boundary: Boundary,
    /// Outer (coding + filter update) iterations.
    pub n_iter: usize,
    /// ADMM iterations per coding step.
    pub coding_iter: usize,
    /// Iterations (FISTA steps or ADMM iterations) per filter update.
    pub filter_iter: usize,
    /// The filter-update method.
    pub filter_update: FilterUpdate,
    /// Constrain filters to zero mean.
    pub zero_mean: bool,
    /// Re-centre each filter's energy in its support after each update (the
    /// maps shifted the other way). Off by default: a shift may wrap up to 1%
    /// of a filter's energy around its support, which changes the model, and
    /// it pulls filters whose energy is not centred (atoms that fill their
    /// window) away from their optimum. On alphacsc's 1-D problem
    /// (`bench/bench_cdl.py`, 100 outer iterations of 10 + 10) 3 of 5 random
    /// starts reached the objective of the true atoms with it and 5 of 5
    /// without; on the 2-D SPORCO comparison the consensus 1 + 1 learner
    /// needed 185 outer iterations to SPORCO's objective with it (a 200-iteration
    /// run) and 175 without (105 in a 120-iteration run, whose replacement
    /// trials fall elsewhere);
    /// the seed test of `tests/cdl.rs` recovers more planted filters without.
    /// Blind deconvolution ([`super::blind_deconvolve`]) turns it on: there
    /// the spikes are reported relative to the wavelet's centre.
    pub anchor: bool,
    /// Constrain the maps to be non-negative.
    pub non_negative: bool,
    /// Seed of the initial filters (random windows of the signals).
    pub seed: u64,
}

impl CdlOptions {
    /// `n_filters` filters of shape `filter_shape`, 100 outer iterations of 2
    /// ADMM coding iterations and 2 consensus ADMM filter iterations, circular
    /// boundary, not anchored, not zero-mean.
    ///
    /// Few inner iterations per outer iteration reach a given objective
    /// soonest (`bench/bench_cdl.py`, idle): on the 2-D SPORCO comparison (8
    /// images 128x128, 32 filters 8x8) SPORCO's 50-iteration objective took
    /// 32 outer iterations of 2 + 2 (7.5 s), 21 of 10 + 10 (17.3 s) and 175
    /// of 1 + 1 (28.9 s); SPORCO itself 29.3 s. The consensus update costs
    /// less than FISTA's in 2-D (no power iteration per update) and about the
    /// same in 1-D.
    pub fn new(n_filters: usize, filter_shape: &[usize], lambda: f64) -> Self {
        Self {
            n_filters,
            filter_shape: filter_shape.to_vec(),
            multichannel_filters: false,
            lambda,
            boundary: Boundary::Circular,
            n_iter: 100,
            coding_iter: 2,
            filter_iter: 2,
            filter_update: FilterUpdate::consensus(),
            zero_mean: false,
            anchor: false,
            non_negative: false,
            seed: 0,
        }
    }

    fn check(&self) -> Result<()> {
        validate::at_least_one("n_filters", self.n_filters)?;
        validate::non_negative("lambda", self.lambda)?;
        validate::at_least_one("n_iter", self.n_iter)?;
        validate::at_least_one("coding_iter", self.coding_iter)?;
        validate::at_least_one("filter_iter", self.filter_iter)?;
        if let FilterUpdate::Consensus(a) = &self.filter_update {
            a.check()?;
        }
        if self.filter_shape.is_empty() || self.filter_shape.contains(&0) {
            return Err(Error::parameter("filter_shape", format!("{:?}", self.filter_shape), "needs non-zero sizes"));
        }
        if self.zero_mean && self.filter_shape.iter().product::<usize>() == 1 {
            return Err(Error::parameter("zero_mean", true, "a zero-mean filter of one sample is zero"));
        }
        Ok(())
    }
}

/// Energy of the (weighted) `values` (`groups x ce x N` on the working
/// domain) in every window of the filter's shape: `groups x N`, entry `(g, p)`
/// the sum over channels and the window starting at `p` (circularly) of the
/// squared samples, by a DFT-domain correlation with the window's indicator.
fn window_energy<T: ConvFloat>(setup: &Setup<T>, values: &[T]) -> Vec<f64> {
    let n_work = setup.n_work();
    let n_filter: usize = setup.filter_dims.iter().product();
    let plan = super::fft::FftPlan::<T>::new(&setup.work_dims);
    let nf = plan.spectrum_len();
    let mut window = vec![T::zero(); n_work];
    super::boundary::copy_corner(&vec![T::one(); n_filter], &setup.filter_dims, &mut window, &setup.work_dims);
    let mut window_hat = vec![czero(); nf];
    plan.forward_many(&window, &mut window_hat);
    let squares: Vec<T> = match &setup.w {
        None => values.iter().map(|v| *v * *v).collect(),
        Some(w) => values.iter().zip(w).map(|(v, w)| *v * *v * *w * *w).collect(),
    };
    let mut spec = vec![czero(); setup.n_groups * setup.ce * nf];
    plan.forward_many(&squares, &mut spec);
    let mut summed = vec![czero(); setup.n_groups * nf];
    for (g, out) in summed.chunks_exact_mut(nf).enumerate() {
        for c in 0..setup.ce {
            let sc = &spec[(g * setup.ce + c) * nf..(g * setup.ce + c + 1) * nf];
            for ((o, x), m) in out.iter_mut().zip(sc).zip(&window_hat) {
                *o += *x * m.conj();
            }
        }
    }
    let mut energy = vec![T::zero(); setup.n_groups * n_work];
    plan.inverse_many(&summed, &mut energy);
    energy.into_iter().map(|e| e.as_f64().max(0.0)).collect()
}

/// The window of the filter's shape (all `ce` channels) of the weighted
/// `values` (`groups x ce x N`) starting at flat index `start` of `groups x N`,
/// circularly.
fn cut_window<T: ConvFloat>(setup: &Setup<T>, values: &[T], start: usize) -> Vec<T> {
    let n_work = setup.n_work();
    let nd = setup.work_dims.len();
    let n_filter: usize = setup.filter_dims.iter().product();
    let g = start / n_work;
    let mut rest = start % n_work;
    let mut origin = vec![0; nd];
    for a in (0..nd).rev() {
        origin[a] = rest % setup.work_dims[a];
        rest /= setup.work_dims[a];
    }
    let mut out = vec![T::zero(); setup.ce * n_filter];
    for (c, channel) in out.chunks_exact_mut(n_filter).enumerate() {
        let signal = &values[(g * setup.ce + c) * n_work..(g * setup.ce + c + 1) * n_work];
        let weights = setup.w.as_ref().map(|w| &w[(g * setup.ce + c) * n_work..(g * setup.ce + c + 1) * n_work]);
        for (i, v) in channel.iter_mut().enumerate() {
            let (mut rest, mut idx) = (i, 0);
            let mut stride = 1;
            for a in (0..nd).rev() {
                let p = (rest % setup.filter_dims[a] + origin[a]) % setup.work_dims[a];
                rest /= setup.filter_dims[a];
                idx += p * stride;
                stride *= setup.work_dims[a];
            }
            *v = signal[idx] * weights.map_or(T::one(), |w| w[idx]);
        }
    }
    out
}

/// Seeded initial filters: windows of the filter's shape cut from the
/// (weighted) training signals at random places, plus a little Gaussian noise
/// so that no filter starts at zero.
fn initial_filters<T: ConvFloat>(setup: &Setup<T>, seed: u64) -> Vec<T> {
    let mut r = rng::seeded(seed);
    let n_filter: usize = setup.filter_dims.iter().product();
    let mut filters = Vec::with_capacity(setup.k * setup.ce * n_filter);
    for _ in 0..setup.k {
        let g = r.random_range(0..setup.n_groups);
        let offset = setup.work_dims.iter().fold(0, |acc, &n| acc * n + r.random_range(0..n));
        filters.extend(cut_window(setup, &setup.s, g * setup.n_work() + offset));
    }
    let rms = filters.iter().map(|v| v.as_f64() * v.as_f64()).sum::<f64>();
    let noise = 0.1 * (rms / filters.len() as f64).sqrt().max(1e-3);
    for v in filters.iter_mut() {
        let e: f64 = StandardNormal.sample(&mut r);
        *v += T::of(noise * e);
    }
    filters
}

/// The CBPDN objective `0.5 ||W (s - D z)||^2 + lambda ||z||_1` of the maps
/// `z` whose spectra are `z_hat`, for the filters of `op`: the data term by
/// Parseval's identity from the signal spectra `s_hat` without weights, on the
/// working domain with them.
fn spectral_objective<T: ConvFloat>(
    op: &ConvOperator<T>,
    setup: &Setup<T>,
    z_hat: &[num_complex::Complex<T>],
    s_hat: &[num_complex::Complex<T>],
    z: &[T],
    lambda: f64,
) -> f64 {
    let mut r_hat = vec![czero(); s_hat.len()];
    op.synthesize(z_hat, &mut r_hat);
    let data = match &setup.w {
        None => {
            r_hat.iter_mut().zip(s_hat).for_each(|(r, s)| *r -= s);
            let weights = dict_update::bin_weights(*setup.work_dims.last().unwrap_or(&1));
            dict_update::parseval_sq(&r_hat, &weights, op.plan.len())
        }
        Some(w) => {
            let mut r = vec![T::zero(); setup.s.len()];
            op.plan.inverse_many(&r_hat, &mut r);
            r.iter().zip(&setup.s).zip(w).map(|((a, b), w)| (w.as_f64() * (a.as_f64() - b.as_f64())).powi(2)).sum()
        }
    };
    0.5 * data + lambda * z.iter().map(|v| v.as_f64().abs()).sum::<f64>()
}

/// Outer iterations over which a stall is measured, and a trial replacement
/// of a filter runs before it is judged.
const RESTART_PERIOD: usize = 10;
/// Relative decrease of the objective over [`RESTART_PERIOD`] iterations
/// below which the learning has stalled.
const STALL_DECREASE: f64 = 1e-2;
/// Trial replacements per filter at most.
const MAX_TRIALS_PER_FILTER: usize = 4;

/// A trial replacement of one filter in progress: the state to return to
/// if it does not lower the objective by iteration `until`.
struct Trial<T> {
    padded: Vec<T>,
    maps: Vec<T>,
    objective: f64,
    until: usize,
}

/// For a stalled CDL run (the local minima where one filter serves two
/// patterns and another a shifted part of one): the filters in increasing
/// order of their value to the objective,
/// `Delta_k = 0.5 ||W (r + d_k * z_k)||^2 - 0.5 ||W r||^2 - lambda ||z_k||_1`
/// (what deleting filter `k` with its maps would cost, `r` the residual), and the window of the filter's shape where
/// the weighted residual has the most energy (`ce x filter` values): the
/// candidate that replaces a filter of least value in a trial.
fn replacement<T: ConvFloat>(
    op: &ConvOperator<T>,
    setup: &Setup<T>,
    z_hat: &[num_complex::Complex<T>],
    s_hat: &[num_complex::Complex<T>],
    z: &[T],
    lambda: f64,
) -> (Vec<usize>, Vec<T>) {
    let (k, ce, n_groups) = (setup.k, setup.ce, setup.n_groups);
    let nf = op.plan.spectrum_len();
    let n = setup.n_work();
    let mut r_hat = vec![czero(); s_hat.len()];
    op.synthesize(z_hat, &mut r_hat);
    r_hat.iter_mut().zip(s_hat).for_each(|(r, s)| *r = *s - *r);
    let mut r = vec![T::zero(); setup.s.len()];
    op.plan.inverse_many(&r_hat, &mut r);
    let w_sq = |i: usize| setup.w.as_ref().map_or(1.0, |w| w[i].as_f64() * w[i].as_f64());
    let mut y_hat = vec![czero(); s_hat.len()];
    let mut y = vec![T::zero(); setup.s.len()];
    let mut value: Vec<(f64, usize)> = (0..k)
        .map(|kk| {
            for g in 0..n_groups {
                for c in 0..ce {
                    let d = &op.d_hat[(kk * ce + c) * nf..(kk * ce + c + 1) * nf];
                    let zk = &z_hat[(g * k + kk) * nf..(g * k + kk + 1) * nf];
                    for ((o, dv), zv) in y_hat[(g * ce + c) * nf..(g * ce + c + 1) * nf].iter_mut().zip(d).zip(zk) {
                        *o = *dv * *zv;
                    }
                }
            }
            op.plan.inverse_many(&y_hat, &mut y);
            let data: f64 = y
                .iter()
                .zip(&r)
                .enumerate()
                .map(|(i, (yv, rv))| w_sq(i) * (rv.as_f64() * yv.as_f64() + 0.5 * yv.as_f64() * yv.as_f64()))
                .sum();
            let l1: f64 = (0..n_groups)
                .map(|g| z[(g * k + kk) * n..(g * k + kk + 1) * n].iter().map(|v| v.as_f64().abs()).sum::<f64>())
                .sum();
            (data - lambda * l1, kk)
        })
        .collect();
    value.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let energy = window_energy(setup, &r);
    let start = energy.iter().enumerate().fold(0, |best, (i, e)| if *e > energy[best] { i } else { best });
    (value.into_iter().map(|(_, kk)| kk).collect(), cut_window(setup, &r, start))
}

/// The starting filters of CDL, zero-padded to the working domain of
/// `setup`, and the support mask of a filter there: `init` (checked against
/// the setup's filter count and channels and `filter_shape`) or seeded
/// windows of the signals ([`initial_filters`]), projected onto the
/// constraint set and scaled to unit norm.
pub(crate) fn start_filters<T: ConvFloat>(
    setup: &Setup<T>,
    filter_shape: &[usize],
    zero_mean: bool,
    init: Option<&ConvArray<T>>,
    seed: u64,
) -> Result<(Vec<T>, Vec<bool>)> {
    let n_filter: usize = filter_shape.iter().product();
    let filters = match init {
        Some(f) => {
            if f.n_items() != setup.k || f.n_channels() != setup.ce || f.spatial() != filter_shape {
                return Err(Error::Shape(format!(
                    "initial filters are {} x {} x {:?}, expected {} x {} x {:?}",
                    f.n_items(),
                    f.n_channels(),
                    f.spatial(),
                    setup.k,
                    setup.ce,
                    filter_shape
                )));
            }
            f.check_finite("initial filters")?;
            f.data().to_vec()
        }
        None => initial_filters(setup, seed),
    };
    let mut support = vec![false; setup.n_work()];
    super::boundary::copy_corner(&vec![true; n_filter], filter_shape, &mut support, &setup.work_dims);
    let mut padded = setup.pad_filters(&filters);
    // Random or given filters start on the unit sphere.
    dict_update::project(&mut padded, &support, setup.ce, zero_mean);
    for f in padded.chunks_exact_mut(setup.ce * setup.n_work()) {
        let norm = f.iter().fold(T::zero(), |a, v| a + *v * *v).sqrt();
        if norm == T::zero() {
            return Err(Error::Invalid("an initial filter is zero (after the zero-mean projection)".into()));
        }
        f.iter_mut().for_each(|v| *v /= norm);
    }
    Ok((padded, support))
}

/// Learned filters, their maps, and the objective after each outer iteration.
#[derive(Debug, Clone, PartialEq)]
pub struct CdlResult<T> {
    /// `n_filters x filter_channels x filter_shape`, each of norm at most one.
    pub filters: ConvArray<T>,
    /// Maps of the training signals (layout of [`super::CscResult::maps`]).
    pub maps: ConvArray<T>,
    /// `0.5 ||W (s - sum_k d_k * z_k)||^2 + lambda sum_k ||z_k||_1` after each outer iteration.
    pub objective: Vec<f64>,
}

/// Learns convolutional filters from `signals` (masked by `mask` where given),
/// starting from `init` filters or from seeded random ones.
///
/// ```
/// use sparsecode::conv::{learn_filters, CdlOptions, ConvArray};
/// let x: Vec<f64> = (0..128).map(|i| if i % 16 == 3 { 1.0 } else if i % 16 == 4 { -1.0 } else { 0.0 }).collect();
/// let signals = ConvArray::new(1, 1, &[128], x).unwrap();
/// let mut options = CdlOptions::new(1, &[4], 0.05);
/// options.n_iter = 20;
/// let out = learn_filters(&signals, None, None, &options).unwrap();
/// assert!(out.objective.last().unwrap() < &out.objective[0]);
/// ```
pub fn learn_filters<T: ConvFloat>(
    signals: &ConvArray<T>,
    mask: Option<&ConvArray<T>>,
    init: Option<&ConvArray<T>>,
    options: &CdlOptions,
) -> Result<CdlResult<T>> {
    options.check()?;
    let filter_channels = if options.multichannel_filters { signals.n_channels() } else { 1 };
    let setup = Setup::new(options.n_filters, filter_channels, &options.filter_shape, signals, mask, options.boundary)?;
    let (mut padded, support) = start_filters(&setup, &options.filter_shape, options.zero_mean, init, options.seed)?;
    let mut filters;
    let mut op = ConvOperator::new(&padded, setup.k, setup.ce, &setup.work_dims);
    // The coding step balances its penalty as SPORCO's `ConvBPDNDictLearn`
    // documents for its coding solver: Boyd et al. 2011 eq. (3.13) every 10
    // iterations (counted across outer iterations), factor 2, ratio 10,
    // target 1, rather than CBPDN's standalone rule (Wohlberg 2015), which
    // rebalances after every one of CDL's few coding iterations. With it,
    // 2-D reaches SPORCO's 50-iteration objective in 32 outer iterations of
    // 2 + 2 (`bench/bench_cdl.py`) and planted filters are recovered from
    // more seeds (tests/cdl.rs); alphacsc's 1-D problem takes 62 (38-46 with
    // the per-iteration rule, a one-off comparison).
    let coding = CscOptions {
        lambda: options.lambda,
        boundary: options.boundary,
        non_negative: options.non_negative,
        max_iter: options.coding_iter,
        tol: 1e-4,
        solver: Solver::Admm(AdmmOptions {
            balancing: Balancing::Periodic { factor: 2.0, ratio: 10.0, period: 10 },
            residual_target: Some(1.0),
            ..AdmmOptions::default()
        }),
    };
    let nf = op.plan.spectrum_len();
    let mut s_hat = vec![czero(); setup.n_groups * setup.ce * nf];
    op.plan.forward_many(&setup.s, &mut s_hat);
    let mut z_hat = vec![czero(); setup.n_groups * setup.k * nf];
    let mut consensus: Option<ConsensusState<T>> = None;
    let mut maps: Option<Vec<T>> = None;
    let mut dual = None;
    let mut objective = Vec::with_capacity(options.n_iter);
    let mut trial: Option<Trial<T>> = None;
    let (mut rank, mut n_trials) = (0, 0);
    for it in 0..options.n_iter {
        let coded = cbpdn::code(&op, &setup, &coding, maps.as_deref(), dual.take());
        let mut z = coded.maps;
        dual = coded.dual;
        op.plan.forward_many(&z, &mut z_hat);
        match &options.filter_update {
            FilterUpdate::Fista => dict_update::fista_update(
                &mut op,
                &setup,
                &z_hat,
                &mut padded,
                &support,
                options.zero_mean,
                options.filter_iter,
            ),
            FilterUpdate::Consensus(admm_options) => dict_update::consensus_update(
                &mut op,
                &setup,
                &z_hat,
                &s_hat,
                &mut padded,
                &support,
                options.zero_mean,
                options.filter_iter,
                admm_options,
                &mut consensus,
            ),
        }
        if options.anchor {
            filters = setup.crop_filters(&padded);
            let mut arrays = vec![&mut z];
            if let Some(d) = dual.as_mut() {
                arrays.push(&mut d.u0);
            }
            let moved = dict_update::anchor(
                &mut filters,
                &options.filter_shape,
                setup.ce,
                &mut arrays,
                &setup.work_dims,
                setup.n_groups,
            );
            if moved.iter().any(|m| *m) {
                padded = setup.pad_filters(&filters);
                op.set_filters(&padded);
                op.plan.forward_many(&z, &mut z_hat);
                if let Some(state) = consensus.as_mut() {
                    state.reset_filters(&moved, setup.ce, nf);
                }
            }
        }
        let mut current = spectral_objective(&op, &setup, &z_hat, &s_hat, &z, options.lambda);
        objective.push(current);
        let stalled = match trial.take() {
            Some(t) if it + 1 >= t.until => {
                if current >= t.objective {
                    // The replacement did not pay: back to the snapshot, and
                    // next time try the next filter in the order.
                    padded = t.padded;
                    op.set_filters(&padded);
                    z = t.maps;
                    op.plan.forward_many(&z, &mut z_hat);
                    dual = None;
                    consensus = None;
                    current = t.objective;
                    if let Some(last) = objective.last_mut() {
                        *last = current;
                    }
                    rank += 1;
                    true
                } else {
                    rank = 0;
                    false
                }
            }
            Some(t) => {
                trial = Some(t);
                false
            }
            None => it >= RESTART_PERIOD && objective[it - RESTART_PERIOD] - current <= STALL_DECREASE * current.abs(),
        };
        if stalled
            && setup.k >= 2
            && n_trials < MAX_TRIALS_PER_FILTER * setup.k
            && (it + 1 + RESTART_PERIOD) * 5 <= options.n_iter * 4
        {
            let (order, window) = replacement(&op, &setup, &z_hat, &s_hat, &z, options.lambda);
            let kk = order[rank % setup.k];
            let mut candidate = padded.clone();
            let block = setup.ce * setup.n_work();
            let mut fresh = vec![T::zero(); block];
            for (src, dst) in window.chunks_exact(window.len() / setup.ce).zip(fresh.chunks_exact_mut(setup.n_work())) {
                super::boundary::copy_corner(src, &options.filter_shape, dst, &setup.work_dims);
            }
            dict_update::project(&mut fresh, &support, setup.ce, options.zero_mean);
            let norm = fresh.iter().fold(T::zero(), |a, v| a + *v * *v).sqrt();
            if norm > T::zero() {
                candidate[kk * block..(kk + 1) * block].iter_mut().zip(&fresh).for_each(|(c, f)| *c = *f / norm);
                let snapshot = std::mem::replace(&mut padded, candidate);
                let n_map = setup.n_work();
                let mut fresh_maps = z.clone();
                for g in 0..setup.n_groups {
                    fresh_maps[(g * setup.k + kk) * n_map..(g * setup.k + kk + 1) * n_map].fill(T::zero());
                }
                trial = Some(Trial {
                    padded: snapshot,
                    maps: std::mem::replace(&mut z, fresh_maps),
                    objective: current,
                    until: it + 1 + RESTART_PERIOD,
                });
                op.set_filters(&padded);
                dual = None;
                if let Some(state) = consensus.as_mut() {
                    let mut reset = vec![false; setup.k];
                    reset[kk] = true;
                    state.reset_filters(&reset, setup.ce, nf);
                }
                n_trials += 1;
            }
        }
        maps = Some(z);
    }
    filters = setup.crop_filters(&padded);
    let maps = maps.unwrap_or_default();
    Ok(CdlResult {
        filters: ConvArray::new(options.n_filters, filter_channels, &options.filter_shape, filters)?,
        maps: ConvArray::new(setup.n_signals, setup.n_maps(), &setup.work_dims, maps)?,
        objective,
    })
}
