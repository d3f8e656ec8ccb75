//! Convolutional dictionary learning (CDL): alternate CBPDN coding of the
//! maps (ADMM, warm-started) and updates of the filters by projected FISTA or
//! by ADMM in the consensus form (Garcia-Cardona & Wohlberg 2018, IEEE TCI,
//! "Convolutional dictionary learning: a comparative review and new
//! algorithms", Sec. IV, the alternating scheme of Algorithm 1 with the FISTA
//! or the consensus ("Cns") dictionary update; see [`FilterUpdate`]), with
//! weights/masks for incomplete data in both steps, filters constrained to
//! their support and the unit ball (optionally zero-mean) and anchored against
//! the shift ambiguity after every update.

use super::admm::AdmmOptions;
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
    /// mask or the linear boundary).
    Consensus(AdmmOptions),
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
    /// Re-centre each filter's energy after each update.
    pub anchor: bool,
    /// Constrain the maps to be non-negative.
    pub non_negative: bool,
    /// Seed of the initial filters (random windows of the signals).
    pub seed: u64,
}

impl CdlOptions {
    /// `n_filters` filters of shape `filter_shape`, 50 outer iterations of 10
    /// ADMM coding iterations and 10 FISTA filter steps, circular boundary,
    /// anchored, not zero-mean.
    pub fn new(n_filters: usize, filter_shape: &[usize], lambda: f64) -> Self {
        Self {
            n_filters,
            filter_shape: filter_shape.to_vec(),
            multichannel_filters: false,
            lambda,
            boundary: Boundary::Circular,
            n_iter: 50,
            coding_iter: 10,
            filter_iter: 10,
            filter_update: FilterUpdate::Fista,
            zero_mean: false,
            anchor: true,
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

/// Seeded initial filters: windows of the filter's shape cut from the
/// (weighted) training signals at random places, plus a little Gaussian noise
/// so that no filter starts at zero.
fn initial_filters<T: ConvFloat>(setup: &Setup<T>, seed: u64) -> Vec<T> {
    let mut r = rng::seeded(seed);
    let n_work = setup.n_work();
    let nd = setup.work_dims.len();
    let n_filter: usize = setup.filter_dims.iter().product();
    let mut filters = vec![T::zero(); setup.k * setup.ce * n_filter];
    let mut rms = 0.0;
    for filter in filters.chunks_exact_mut(setup.ce * n_filter) {
        let g = r.random_range(0..setup.n_groups);
        let origin: Vec<usize> = setup.work_dims.iter().map(|&n| r.random_range(0..n)).collect();
        for (c, channel) in filter.chunks_exact_mut(n_filter).enumerate() {
            let signal = &setup.s[(g * setup.ce + c) * n_work..(g * setup.ce + c + 1) * n_work];
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
                rms += v.as_f64() * v.as_f64();
            }
        }
    }
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
    let coding = CscOptions {
        lambda: options.lambda,
        boundary: options.boundary,
        non_negative: options.non_negative,
        max_iter: options.coding_iter,
        tol: 1e-4,
        solver: Solver::Admm(AdmmOptions::default()),
    };
    let nf = op.plan.spectrum_len();
    let mut s_hat = vec![czero(); setup.n_groups * setup.ce * nf];
    op.plan.forward_many(&setup.s, &mut s_hat);
    let mut z_hat = vec![czero(); setup.n_groups * setup.k * nf];
    let mut consensus: Option<ConsensusState<T>> = None;
    let mut maps: Option<Vec<T>> = None;
    let mut dual = None;
    let mut objective = Vec::with_capacity(options.n_iter);
    for _ in 0..options.n_iter {
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
        objective.push(spectral_objective(&op, &setup, &z_hat, &s_hat, &z, options.lambda));
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
