//! Online convolutional dictionary learning for long signals cut into
//! segments, or many images: the second-order (surrogate) method of Liu,
//! Garcia-Cardona, Wohlberg & Yin 2018, "First- and second-order methods for
//! online convolutional dictionary learning", SIAM J. Imaging Sci. 11(2)
//! (their Sec. 4, frequency-domain surrogate; also Wang et al. 2018,
//! "Scalable online convolutional sparse coding", IEEE TIP).
//!
//! Each batch of signals (all of one spatial shape, fixed by the first
//! batch) is coded by CBPDN with the current filters; its map and signal
//! spectra are folded into the per-frequency history statistics
//!
//! `A(f) = sum_i w_i conj(z_i(f)) z_i(f)^T` (`K x K`) and
//! `B(f) = sum_i w_i conj(z_i(f)) s_i(f)^T` (`K x C`),
//!
//! and the filters take `filter_iter` projected FISTA steps, warm-started,
//! on the surrogate `sum_f 0.5 d(f)^H A(f) d(f) - Re(d(f)^H B(f))`, which is
//! the data term `sum_i w_i 0.5 ||s_i - sum_k d_k * z_ik||^2` of every signal
//! seen, with its maps frozen. The filters stay in the constraint set of
//! [`learn_filters`](super::learn_filters) (support, unit ball, optional zero
//! mean).
//!
//! Forgetting (as in [`crate::learn`]'s online learner, Mairal et al. 2010,
//! JMLR, Sec. 3.4.2): `A` and `B` are weighted averages in which the signal at
//! stream position `s` has weight proportional to `s^rho`, `rho` =
//! [`OnlineCdlOptions::forget_rate`], so the maps coded with early filters
//! fade out.
//!
//! The circular boundary is used without masks: the statistics are diagonal
//! in frequency only then. Memory: `A` holds `K^2` complex values per
//! frequency of the segment, so segments (or image crops) of moderate size
//! are the intended input.

use super::admm::AdmmOptions;
use super::array::ConvArray;
use super::boundary::{Boundary, Setup};
use super::cbpdn::{self, CscOptions, Solver};
use super::cdl::start_filters;
use super::dict_update::project;
use super::operator::{czero, ConvOperator};
use super::ConvFloat;
use crate::{validate, Error, Result};
use num_complex::Complex;
use rayon::prelude::*;

/// Power iterations for the step size, and the safety factor on their estimate.
const POWER_ITERATIONS: usize = 30;
const LIPSCHITZ_MARGIN: f64 = 1.1;

/// Options of [`OnlineCdl`].
#[derive(Debug, Clone, PartialEq)]
pub struct OnlineCdlOptions {
    /// Number of filters `K`.
    pub n_filters: usize,
    /// Spatial shape of a filter (as many axes as the signals).
    pub filter_shape: Vec<usize>,
    /// One filter channel per signal channel (`true`) or single-channel
    /// filters shared across channels (`false`).
    pub multichannel_filters: bool,
    /// Weight of the l1 penalty on the maps.
    pub lambda: f64,
    /// ADMM iterations to code each batch (from zero maps).
    pub coding_iter: usize,
    /// Projected FISTA steps on the surrogate per batch.
    pub filter_iter: usize,
    /// `rho >= 0`: the signal at stream position `s` weighs `s^rho` in the statistics.
    pub forget_rate: f64,
    /// Constrain the filters to zero mean.
    pub zero_mean: bool,
    /// Constrain the maps to be non-negative.
    pub non_negative: bool,
    /// Seed of the initial filters (random windows of the first batch).
    pub seed: u64,
}

impl OnlineCdlOptions {
    /// `n_filters` filters of shape `filter_shape`; 50 coding iterations and
    /// 20 filter steps per batch, `forget_rate` 10 (the online dictionary
    /// learner's default), not zero-mean.
    pub fn new(n_filters: usize, filter_shape: &[usize], lambda: f64) -> Self {
        Self {
            n_filters,
            filter_shape: filter_shape.to_vec(),
            multichannel_filters: false,
            lambda,
            coding_iter: 50,
            filter_iter: 20,
            forget_rate: 10.0,
            zero_mean: false,
            non_negative: false,
            seed: 0,
        }
    }

    fn check(&self) -> Result<()> {
        validate::at_least_one("n_filters", self.n_filters)?;
        validate::non_negative("lambda", self.lambda)?;
        validate::at_least_one("coding_iter", self.coding_iter)?;
        validate::at_least_one("filter_iter", self.filter_iter)?;
        validate::non_negative("forget_rate", self.forget_rate)?;
        if self.filter_shape.is_empty() || self.filter_shape.contains(&0) {
            return Err(Error::parameter("filter_shape", format!("{:?}", self.filter_shape), "needs non-zero sizes"));
        }
        if self.zero_mean && self.filter_shape.iter().product::<usize>() == 1 {
            return Err(Error::parameter("zero_mean", true, "a zero-mean filter of one sample is zero"));
        }
        Ok(())
    }
}

/// Everything an [`OnlineCdl`] needs to continue a stream, as plain fields
/// (for checkpoints and the Python layer). Export with [`OnlineCdl::state`],
/// resume with [`OnlineCdl::from_state`] and the same options.
#[derive(Debug, Clone, PartialEq)]
pub struct OnlineCdlState<T> {
    /// The current filters, `n_filters x filter_channels x filter_shape`.
    pub filters: ConvArray<T>,
    /// Spatial shape and channel count of the stream's signals.
    pub dims: Vec<usize>,
    pub n_channels: usize,
    /// `A(f)`, `F x K x K` (`F` the number of bins of the half spectrum of `dims`).
    pub a: Vec<Complex<T>>,
    /// `B(f)`, `F x K x filter_channels`.
    pub b: Vec<Complex<T>>,
    /// Signals folded into the statistics so far.
    pub n_signals_seen: u64,
    /// `sum_{s <= n} (s / n)^rho` over the signals seen.
    pub total_weight: f64,
}

/// The learner's state once the first batch has fixed the domain.
struct Stream<T: ConvFloat> {
    /// Spatial shape and channel count of every batch's signals.
    dims: Vec<usize>,
    n_channels: usize,
    op: ConvOperator<T>,
    /// Filters zero-padded to the domain, `k x ce x N`, and the support mask.
    padded: Vec<T>,
    support: Vec<bool>,
    /// `F x K x K` and `F x K x ce`.
    a: Vec<Complex<T>>,
    b: Vec<Complex<T>>,
    n_seen: u64,
    /// `sum_{s <= n_seen} (s / n_seen)^rho`.
    total_weight: f64,
}

/// An online convolutional dictionary learner (module docs): feed it batches
/// with [`OnlineCdl::partial_fit`], read the filters with [`OnlineCdl::filters`].
///
/// ```
/// use sparsecode::conv::{ConvArray, OnlineCdl, OnlineCdlOptions};
/// let mut learner = OnlineCdl::<f64>::new(OnlineCdlOptions::new(2, &[4], 0.05), None).unwrap();
/// for i in 0..5 {
///     let x: Vec<f64> = (0..64).map(|t| if (t + i) % 16 == 3 { 1.0 } else if (t + i) % 16 == 4 { -1.0 } else { 0.0 }).collect();
///     learner.partial_fit(&ConvArray::new(1, 1, &[64], x).unwrap()).unwrap();
/// }
/// assert_eq!(learner.filters().unwrap().spatial(), &[4]);
/// ```
pub struct OnlineCdl<T: ConvFloat> {
    options: OnlineCdlOptions,
    init: Option<ConvArray<T>>,
    stream: Option<Stream<T>>,
}

impl<T: ConvFloat> OnlineCdl<T> {
    /// A learner starting from `init` filters (`n_filters x filter_channels x
    /// filter_shape`) or, when `None`, from seeded windows of the first batch.
    pub fn new(options: OnlineCdlOptions, init: Option<&ConvArray<T>>) -> Result<Self> {
        options.check()?;
        Ok(Self { options, init: init.cloned(), stream: None })
    }

    /// The current filters (`n_filters x filter_channels x filter_shape`), or
    /// `None` before the first batch.
    pub fn filters(&self) -> Option<ConvArray<T>> {
        let s = self.stream.as_ref()?;
        let n = s.support.len();
        let n_filter: usize = self.options.filter_shape.iter().product();
        let mut out = vec![T::zero(); s.padded.len() / n * n_filter];
        for (src, dst) in s.padded.chunks_exact(n).zip(out.chunks_exact_mut(n_filter)) {
            super::boundary::copy_corner(src, &s.dims, dst, &self.options.filter_shape);
        }
        ConvArray::new(self.options.n_filters, s.op.ce, &self.options.filter_shape, out).ok()
    }

    /// The state to continue from (`None` before the first batch).
    pub fn state(&self) -> Option<OnlineCdlState<T>> {
        let s = self.stream.as_ref()?;
        Some(OnlineCdlState {
            filters: self.filters()?,
            dims: s.dims.clone(),
            n_channels: s.n_channels,
            a: s.a.clone(),
            b: s.b.clone(),
            n_signals_seen: s.n_seen,
            total_weight: s.total_weight,
        })
    }

    /// A learner continuing from `state` (as exported by [`OnlineCdl::state`]);
    /// fails when the state does not fit `options` or is inconsistent.
    pub fn from_state(options: OnlineCdlOptions, state: OnlineCdlState<T>) -> Result<Self> {
        options.check()?;
        let f = &state.filters;
        let k = options.n_filters;
        if f.n_items() != k || f.spatial() != options.filter_shape {
            return Err(Error::Shape(format!(
                "state filters are {} x {:?}, the options ask for {k} x {:?}",
                f.n_items(),
                f.spatial(),
                options.filter_shape
            )));
        }
        let ce = f.n_channels();
        let expected_ce = if options.multichannel_filters { state.n_channels } else { 1 };
        if ce != expected_ce || state.dims.len() != options.filter_shape.len() || state.dims.contains(&0) {
            return Err(Error::Shape(format!(
                "state of {ce}-channel filters for {} x {:?} signals does not fit the options",
                state.n_channels, state.dims
            )));
        }
        if state.dims.iter().zip(&options.filter_shape).any(|(n, l)| l > n) {
            return Err(Error::Shape(format!(
                "filters {:?} larger than the signals {:?}",
                options.filter_shape, state.dims
            )));
        }
        f.check_finite("state filters")?;
        let nf: usize =
            state.dims[..state.dims.len() - 1].iter().product::<usize>() * (state.dims[state.dims.len() - 1] / 2 + 1);
        if state.a.len() != nf * k * k || state.b.len() != nf * k * ce {
            return Err(Error::Shape(format!(
                "state statistics have {} and {} values, expected {} and {}",
                state.a.len(),
                state.b.len(),
                nf * k * k,
                nf * k * ce
            )));
        }
        if !(state.total_weight.is_finite() && state.total_weight >= 0.0)
            || state.a.iter().chain(&state.b).any(|c| !(c.re.as_f64().is_finite() && c.im.as_f64().is_finite()))
        {
            return Err(Error::Invalid("the state's statistics are not finite".into()));
        }
        let n: usize = state.dims.iter().product();
        let n_filter: usize = options.filter_shape.iter().product();
        let mut padded = vec![T::zero(); k * ce * n];
        for (src, dst) in f.data().chunks_exact(n_filter).zip(padded.chunks_exact_mut(n)) {
            super::boundary::copy_corner(src, &options.filter_shape, dst, &state.dims);
        }
        let mut support = vec![false; n];
        super::boundary::copy_corner(&vec![true; n_filter], &options.filter_shape, &mut support, &state.dims);
        let op = ConvOperator::new(&padded, k, ce, &state.dims);
        let stream = Stream {
            dims: state.dims,
            n_channels: state.n_channels,
            op,
            padded,
            support,
            a: state.a,
            b: state.b,
            n_seen: state.n_signals_seen,
            total_weight: state.total_weight,
        };
        Ok(Self { options, init: None, stream: Some(stream) })
    }

    /// Signals folded into the statistics so far.
    pub fn n_signals_seen(&self) -> u64 {
        self.stream.as_ref().map_or(0, |s| s.n_seen)
    }

    /// One step on `batch` (`n x channels x spatial`, the shape of the first
    /// batch): codes it with the current filters, folds it into the
    /// statistics and updates the filters. Returns the batch's mean CBPDN
    /// objective per signal under the filters from before the step.
    pub fn partial_fit(&mut self, batch: &ConvArray<T>) -> Result<f64> {
        let o = &self.options;
        let filter_channels = if o.multichannel_filters { batch.n_channels() } else { 1 };
        if let Some(s) = &self.stream {
            if batch.spatial() != s.dims || batch.n_channels() != s.n_channels {
                return Err(Error::Shape(format!(
                    "a batch of {} x {:?} signals after batches of {} x {:?} (online CDL needs one shape)",
                    batch.n_channels(),
                    batch.spatial(),
                    s.n_channels,
                    s.dims
                )));
            }
        }
        let setup = Setup::new(o.n_filters, filter_channels, &o.filter_shape, batch, None, Boundary::Circular)?;
        let mut stream = match self.stream.take() {
            Some(s) => s,
            None => {
                let (padded, support) =
                    start_filters(&setup, &o.filter_shape, o.zero_mean, self.init.as_ref(), o.seed)?;
                let op = ConvOperator::new(&padded, setup.k, setup.ce, &setup.work_dims);
                let nf = op.plan.spectrum_len();
                Stream {
                    dims: batch.spatial().to_vec(),
                    n_channels: batch.n_channels(),
                    a: vec![czero(); nf * setup.k * setup.k],
                    b: vec![czero(); nf * setup.k * setup.ce],
                    op,
                    padded,
                    support,
                    n_seen: 0,
                    total_weight: 0.0,
                }
            }
        };
        let coding = CscOptions {
            lambda: o.lambda,
            boundary: Boundary::Circular,
            non_negative: o.non_negative,
            max_iter: o.coding_iter,
            tol: 1e-4,
            solver: Solver::Admm(AdmmOptions::default()),
        };
        let coded = cbpdn::code(&stream.op, &setup, &coding, None, None);
        let objective = cbpdn::objective(&stream.op, &setup, &coded.maps, o.lambda) / setup.n_signals as f64;
        stream.accumulate(&setup, &coded.maps, o.forget_rate);
        stream.update_filters(o.filter_iter, o.zero_mean);
        self.stream = Some(stream);
        Ok(objective)
    }
}

impl<T: ConvFloat> Stream<T> {
    /// Folds the coded batch into `A` and `B` with per-signal weights `s^rho`,
    /// keeping them weighted averages (module docs).
    fn accumulate(&mut self, setup: &Setup<T>, maps: &[T], rho: f64) {
        let (k, ce) = (self.op.k, self.op.ce);
        let nf = self.op.plan.spectrum_len();
        let mut z_hat = vec![czero(); setup.n_groups * k * nf];
        self.op.plan.forward_many(maps, &mut z_hat);
        let mut s_hat = vec![czero(); setup.n_groups * ce * nf];
        self.op.plan.forward_many(&setup.s, &mut s_hat);
        let m = setup.n_signals;
        let groups_per_signal = setup.n_groups / m;
        let n_old = self.n_seen as f64;
        let n_new = n_old + m as f64;
        let raw: Vec<f64> = (1..=m).map(|i| ((n_old + i as f64) / n_new).powf(rho)).collect();
        let kept = self.total_weight * (n_old / n_new).powf(rho);
        let total = kept + raw.iter().sum::<f64>();
        let beta = T::of(kept / total);
        let weights: Vec<T> = (0..setup.n_groups).map(|g| T::of(raw[g / groups_per_signal] / total)).collect();
        let n_groups = setup.n_groups;
        self.a.par_chunks_exact_mut(k * k).zip(self.b.par_chunks_exact_mut(k * ce)).enumerate().for_each(
            |(f, (a, b))| {
                a.iter_mut().chain(b.iter_mut()).for_each(|v| *v *= beta);
                for (g, w) in weights.iter().enumerate().take(n_groups) {
                    let z = |kk: usize| z_hat[(g * k + kk) * nf + f];
                    for kk in 0..k {
                        let zk = z(kk).conj() * *w;
                        for j in 0..k {
                            a[kk * k + j] += zk * z(j);
                        }
                        for c in 0..ce {
                            b[kk * ce + c] += zk * s_hat[(g * ce + c) * nf + f];
                        }
                    }
                }
            },
        );
        self.n_seen += m as u64;
        self.total_weight = total;
    }

    /// `out = A d_hat - B` at every frequency (`d_hat`, `out`: `k x ce x F`).
    fn gradient(&self, d_hat: &[Complex<T>], out: &mut [Complex<T>]) {
        let (k, ce) = (self.op.k, self.op.ce);
        let nf = self.op.plan.spectrum_len();
        out.par_chunks_exact_mut(nf).enumerate().for_each(|(kc, o)| {
            let (kk, c) = (kc / ce, kc % ce);
            for (f, v) in o.iter_mut().enumerate() {
                let a = &self.a[f * k * k + kk * k..f * k * k + (kk + 1) * k];
                let mut acc = -self.b[f * k * ce + kk * ce + c];
                for (j, av) in a.iter().enumerate() {
                    acc += *av * d_hat[(j * ce + c) * nf + f];
                }
                *v = acc;
            }
        });
    }

    /// Largest eigenvalue of the block-diagonal `A` (all frequencies), by power iteration.
    fn lipschitz(&self) -> T {
        let k = self.op.k;
        let nf = self.op.plan.spectrum_len();
        let mut v: Vec<Complex<T>> =
            (0..nf * k).map(|i| Complex::new(T::one() + T::of(((i * 7919) % 101) as f64 * 1e-3), T::zero())).collect();
        let mut lambda = T::zero();
        for _ in 0..POWER_ITERATIONS {
            let mut av = vec![czero(); nf * k];
            av.par_chunks_exact_mut(k).zip(v.par_chunks_exact(k)).enumerate().for_each(|(f, (o, x))| {
                let a = &self.a[f * k * k..(f + 1) * k * k];
                for (kk, ov) in o.iter_mut().enumerate() {
                    *ov = a[kk * k..(kk + 1) * k].iter().zip(x).fold(czero(), |s, (p, q)| s + *p * *q);
                }
            });
            let norm = av.iter().fold(T::zero(), |a, c| a + c.norm_sqr()).sqrt();
            let v_norm = v.iter().fold(T::zero(), |a, c| a + c.norm_sqr()).sqrt();
            if norm == T::zero() || v_norm == T::zero() {
                return T::zero();
            }
            lambda = norm / v_norm;
            v = av.into_iter().map(|c| c / norm).collect();
        }
        lambda
    }

    /// `n_iter` projected FISTA steps on the surrogate from the current filters.
    fn update_filters(&mut self, n_iter: usize, zero_mean: bool) {
        let lipschitz = self.lipschitz() * T::of(LIPSCHITZ_MARGIN);
        if lipschitz == T::zero() {
            // Every map seen is zero: the surrogate does not depend on the filters.
            return;
        }
        let step = T::one() / lipschitz;
        let ce = self.op.ce;
        let mut d = self.padded.clone();
        let mut v = d.clone();
        let mut v_hat = vec![czero(); self.op.d_hat.len()];
        let mut grad_hat = vec![czero(); self.op.d_hat.len()];
        let mut grad = vec![T::zero(); d.len()];
        let mut t = T::one();
        for _ in 0..n_iter {
            self.op.plan.forward_many(&v, &mut v_hat);
            self.gradient(&v_hat, &mut grad_hat);
            self.op.plan.inverse_many(&grad_hat, &mut grad);
            let mut d_new: Vec<T> = v.iter().zip(&grad).map(|(a, g)| *a - step * *g).collect();
            project(&mut d_new, &self.support, ce, zero_mean);
            let t_new = (T::one() + (T::one() + T::of(4.0) * t * t).sqrt()) * T::of(0.5);
            let momentum = (t - T::one()) / t_new;
            for ((vv, dn), dold) in v.iter_mut().zip(&d_new).zip(&d) {
                *vv = *dn + momentum * (*dn - *dold);
            }
            d = d_new;
            t = t_new;
        }
        self.padded = d;
        self.op.set_filters(&self.padded);
    }
}
