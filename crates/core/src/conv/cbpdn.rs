//! Convolutional basis pursuit denoising (CBPDN),
//! `min_z 0.5 ||W (x - sum_k d_k * z_k)||^2 + lambda sum_k ||z_k||_1`,
//! with fixed filters, by ADMM in the DFT domain (Wohlberg 2016, IEEE TIP
//! 25(1), Algorithm 1 with the Sherman-Morrison x-step, eq. (27)-(30)) or by
//! FISTA ([`super::fista`]).
//!
//! Without weights (circular boundary, no mask) the split is `z = y`. With
//! weights (a mask of missing samples, per-sample weights, or the linear
//! boundary) the mask-decoupling split of Heide et al. 2015 / Wohlberg 2016
//! "Boundary handling for convolutional sparse representations" eq. (13) is
//! used: `D z = y1`, `z = y0`, with data term `0.5 ||W (y1 - x)||^2`; its x-step
//! solves `(D^H D + I) z = D^H (y1 - u1) + (y0 - u0)` in the DFT domain with
//! a factor that does not depend on `rho`.

use super::admm::{self, AdmmOptions, AdmmProblem, Residuals};
use super::array::ConvArray;
use super::boundary::{Boundary, Setup};
use super::fista;
use super::operator::{czero, ConvOperator, SolveFactor};
use super::ConvFloat;
use crate::{validate, Error, Result};
use num_complex::Complex;

/// Which algorithm solves CBPDN.
#[derive(Debug, Clone, PartialEq)]
pub enum Solver {
    /// ADMM in the DFT domain through the [`admm`] template.
    Admm(AdmmOptions),
    /// FISTA with the gradient computed in the DFT domain.
    Fista,
}

/// Options of [`csc`].
#[derive(Debug, Clone, PartialEq)]
pub struct CscOptions {
    /// Weight of the l1 penalty, `>= 0`.
    pub lambda: f64,
    /// Boundary condition.
    pub boundary: Boundary,
    /// Constrain the maps to be non-negative.
    pub non_negative: bool,
    /// Iteration budget.
    pub max_iter: usize,
    /// Relative tolerance of the stopping rule (ADMM: residuals; FISTA: change of the maps).
    pub tol: f64,
    /// The algorithm.
    pub solver: Solver,
}

impl CscOptions {
    /// ADMM with the default options, circular boundary, 200 iterations, tolerance 1e-3.
    pub fn new(lambda: f64) -> Self {
        Self {
            lambda,
            boundary: Boundary::Circular,
            non_negative: false,
            max_iter: 200,
            tol: 1e-3,
            solver: Solver::Admm(AdmmOptions::default()),
        }
    }

    pub(crate) fn check(&self) -> Result<()> {
        validate::non_negative("lambda", self.lambda)?;
        validate::at_least_one("max_iter", self.max_iter)?;
        validate::positive("tol", self.tol)?;
        if let Solver::Admm(a) = &self.solver {
            a.check()?;
        }
        Ok(())
    }
}

/// Coefficient maps and how the solver ended.
#[derive(Debug, Clone, PartialEq)]
pub struct CscResult<T> {
    /// `n_signals x n_maps x map_spatial` (see [`ConvArray`] for `n_maps`; the
    /// map domain is given by [`Boundary::domain`]).
    pub maps: ConvArray<T>,
    /// The CBPDN objective at `maps`.
    pub objective: f64,
    /// Iterations run.
    pub n_iter: usize,
    /// Whether the stopping rule was met.
    pub converged: bool,
}

/// Checks filters and builds the problem setup.
pub(crate) fn prepare<T: ConvFloat>(
    filters: &ConvArray<T>,
    signals: &ConvArray<T>,
    mask: Option<&ConvArray<T>>,
    boundary: Boundary,
) -> Result<Setup<T>> {
    filters.check_finite("filters")?;
    for k in 0..filters.n_items() {
        let norm = filters.item(k).iter().map(|v| v.as_f64() * v.as_f64()).sum::<f64>().sqrt();
        if norm == 0.0 {
            return Err(Error::ZeroNormAtom { index: k, norm });
        }
    }
    Setup::new(filters.n_items(), filters.n_channels(), filters.spatial(), signals, mask, boundary)
}

/// Solves CBPDN for every signal with fixed `filters`.
///
/// `mask` (optional, the shape of `signals`) weights each sample of the data
/// term; zero marks a missing sample.
///
/// ```
/// use sparsecode::conv::{csc, ConvArray, CscOptions};
/// // One filter [1, -1] and a signal made of two copies of it.
/// let filters = ConvArray::new(1, 1, &[2], vec![1.0f64, -1.0]).unwrap();
/// let mut x = vec![0.0f64; 16];
/// x[3] = 1.0; x[4] = -1.0; x[10] = 2.0; x[11] = -2.0;
/// let signals = ConvArray::new(1, 1, &[16], x).unwrap();
/// let out = csc(&filters, &signals, None, &CscOptions::new(0.01)).unwrap();
/// let z = out.maps.channel(0, 0);
/// assert!((z[3] - 1.0).abs() < 0.05 && (z[10] - 2.0).abs() < 0.05);
/// ```
pub fn csc<T: ConvFloat>(
    filters: &ConvArray<T>,
    signals: &ConvArray<T>,
    mask: Option<&ConvArray<T>>,
    options: &CscOptions,
) -> Result<CscResult<T>> {
    options.check()?;
    let setup = prepare(filters, signals, mask, options.boundary)?;
    let op = ConvOperator::new(&setup.pad_filters(filters.data()), setup.k, setup.ce, &setup.work_dims);
    let coded = code(&op, &setup, options, None, None);
    let objective = objective(&op, &setup, &coded.maps, options.lambda);
    let maps = ConvArray::new(setup.n_signals, setup.n_maps(), &setup.work_dims, coded.maps)?;
    Ok(CscResult { maps, objective, n_iter: coded.n_iter, converged: coded.converged })
}

/// Maps in the group layout and the solver's end state.
pub(crate) struct Coded<T> {
    pub(crate) maps: Vec<T>,
    pub(crate) n_iter: usize,
    pub(crate) converged: bool,
    /// The ADMM state beyond the maps, to warm-start a later solve.
    pub(crate) dual: Option<AdmmDual<T>>,
}

/// Scaled duals (and the auxiliary signal variable of the masked split) and
/// penalty of an ADMM solve; with the maps, a complete warm start.
pub(crate) struct AdmmDual<T> {
    pub(crate) u0: Vec<T>,
    y1: Vec<T>,
    u1: Vec<T>,
    rho: f64,
}

/// Runs the chosen solver on a prepared problem, from `init` maps (and ADMM
/// state) or zero.
pub(crate) fn code<T: ConvFloat>(
    op: &ConvOperator<T>,
    setup: &Setup<T>,
    options: &CscOptions,
    init: Option<&[T]>,
    dual: Option<AdmmDual<T>>,
) -> Coded<T> {
    let lambda = T::of(options.lambda);
    match &options.solver {
        Solver::Fista => fista::code(op, setup, lambda, options.non_negative, options.max_iter, options.tol, init),
        Solver::Admm(admm_options) => {
            let rho = dual.as_ref().map_or(admm_options.rho.unwrap_or(50.0 * options.lambda + 1.0), |d| d.rho);
            match &setup.w {
                None => {
                    let mut p = PlainCbpdn::new(op, setup, lambda, options.non_negative, init, dual);
                    let r = admm::run(&mut p, admm_options, rho, options.max_iter, options.tol);
                    let dual = AdmmDual { u0: p.u, y1: Vec::new(), u1: Vec::new(), rho: r.rho };
                    Coded { maps: p.y, n_iter: r.n_iter, converged: r.converged, dual: Some(dual) }
                }
                Some(w) => {
                    let mut p = MaskedCbpdn::new(op, setup, w, lambda, options.non_negative, init, dual);
                    let r = admm::run(&mut p, admm_options, rho, options.max_iter, options.tol);
                    let dual = AdmmDual { u0: p.u0, y1: p.y1, u1: p.u1, rho: r.rho };
                    Coded { maps: p.y0, n_iter: r.n_iter, converged: r.converged, dual: Some(dual) }
                }
            }
        }
    }
}

/// The proximal operator of `t ||.||_1` (plus the non-negativity constraint).
#[inline]
pub(crate) fn shrink<T: ConvFloat>(v: T, t: T, non_negative: bool) -> T {
    if non_negative {
        (v - t).max(T::zero())
    } else if v > t {
        v - t
    } else if v < -t {
        v + t
    } else {
        T::zero()
    }
}

/// `D z` on the working domain, `groups x ce x N`.
pub(crate) fn synthesize_spatial<T: ConvFloat>(op: &ConvOperator<T>, n_groups: usize, maps: &[T]) -> Vec<T> {
    let nf = op.plan.spectrum_len();
    let mut z_hat = vec![czero(); n_groups * op.k * nf];
    op.plan.forward_many(maps, &mut z_hat);
    let mut r_hat = vec![czero(); n_groups * op.ce * nf];
    op.synthesize(&z_hat, &mut r_hat);
    let mut r = vec![T::zero(); n_groups * op.ce * op.plan.len()];
    op.plan.inverse_many(&r_hat, &mut r);
    r
}

/// The CBPDN objective `0.5 ||W (s - D z)||^2 + lambda ||z||_1` of group-layout maps.
pub(crate) fn objective<T: ConvFloat>(op: &ConvOperator<T>, setup: &Setup<T>, maps: &[T], lambda: f64) -> f64 {
    let r = synthesize_spatial(op, setup.n_groups, maps);
    let data: f64 = match &setup.w {
        None => r.iter().zip(&setup.s).map(|(a, b)| (a.as_f64() - b.as_f64()).powi(2)).sum(),
        Some(w) => {
            r.iter().zip(&setup.s).zip(w).map(|((a, b), w)| (w.as_f64() * (a.as_f64() - b.as_f64())).powi(2)).sum()
        }
    };
    0.5 * data + lambda * maps.iter().map(|v| v.as_f64().abs()).sum::<f64>()
}

/// The scaled dual step of ADMM, `u += x_relaxed - y`, accumulating into `r`
/// the primal residual `||x - y||^2` and the change `||y - y_prev||^2` that
/// the stopping rule and the dual residual are built from.
fn dual_update<T: ConvFloat>(u: &mut [T], x_relaxed: &[T], y: &[T], x: &[T], y_prev: &[T], r: &mut Residuals) {
    for (((u, xr), y), (x, yp)) in u.iter_mut().zip(x_relaxed).zip(y).zip(x.iter().zip(y_prev)) {
        *u = *u + *xr - *y;
        r.primal_sq += (*x - *y).as_f64().powi(2);
        r.y_change_sq += (*y - *yp).as_f64().powi(2);
    }
}

fn norms_sq<T: ConvFloat>(a: &[T]) -> f64 {
    a.iter().map(|v| v.as_f64() * v.as_f64()).sum()
}

/// CBPDN with the split `z = y` (circular boundary, no weights).
struct PlainCbpdn<'a, T: ConvFloat> {
    op: &'a ConvOperator<T>,
    lambda: T,
    non_negative: bool,
    /// `D^H s` in the DFT domain.
    dhs: Vec<Complex<T>>,
    factor: Option<SolveFactor<T>>,
    spec: Vec<Complex<T>>,
    x: Vec<T>,
    y: Vec<T>,
    u: Vec<T>,
    y_prev: Vec<T>,
    x_relaxed: Vec<T>,
}

impl<'a, T: ConvFloat> PlainCbpdn<'a, T> {
    fn new(
        op: &'a ConvOperator<T>,
        setup: &Setup<T>,
        lambda: T,
        non_negative: bool,
        init: Option<&[T]>,
        dual: Option<AdmmDual<T>>,
    ) -> Self {
        let nf = op.plan.spectrum_len();
        let n_maps = setup.n_groups * op.k * op.plan.len();
        let mut s_hat = vec![czero(); setup.n_groups * op.ce * nf];
        op.plan.forward_many(&setup.s, &mut s_hat);
        let mut dhs = vec![czero(); setup.n_groups * op.k * nf];
        op.adjoint(&s_hat, &mut dhs);
        let y = init.map_or_else(|| vec![T::zero(); n_maps], <[T]>::to_vec);
        Self {
            op,
            lambda,
            non_negative,
            spec: vec![czero(); dhs.len()],
            dhs,
            factor: None,
            x: vec![T::zero(); n_maps],
            y_prev: y.clone(),
            y,
            u: dual.map_or_else(|| vec![T::zero(); n_maps], |d| d.u0),
            x_relaxed: vec![T::zero(); n_maps],
        }
    }
}

impl<T: ConvFloat> AdmmProblem<T> for PlainCbpdn<'_, T> {
    fn x_step(&mut self, rho: T) {
        if self.factor.as_ref().is_none_or(|f| f.sigma != rho) {
            self.factor = Some(self.op.factor(rho));
        }
        for ((t, y), u) in self.x_relaxed.iter_mut().zip(&self.y).zip(&self.u) {
            *t = *y - *u;
        }
        self.op.plan.forward_many(&self.x_relaxed, &mut self.spec);
        for (b, d) in self.spec.iter_mut().zip(&self.dhs) {
            *b = d + *b * rho;
        }
        if let Some(factor) = &self.factor {
            self.op.solve(factor, &mut self.spec);
        }
        self.op.plan.inverse_many(&self.spec, &mut self.x);
    }

    fn y_step(&mut self, alpha: T, rho: T) {
        std::mem::swap(&mut self.y, &mut self.y_prev);
        let t = self.lambda / rho;
        let beta = T::one() - alpha;
        for (((xr, y), (x, yp)), u) in
            self.x_relaxed.iter_mut().zip(self.y.iter_mut()).zip(self.x.iter().zip(&self.y_prev)).zip(&self.u)
        {
            *xr = alpha * *x + beta * *yp;
            *y = shrink(*xr + *u, t, self.non_negative);
        }
    }

    fn u_update(&mut self) -> Residuals {
        let mut r = Residuals::default();
        dual_update(&mut self.u, &self.x_relaxed, &self.y, &self.x, &self.y_prev, &mut r);
        r.ax_sq = norms_sq(&self.x);
        r.y_sq = norms_sq(&self.y);
        r.u_sq = norms_sq(&self.u);
        r
    }

    fn scale_dual(&mut self, factor: T) {
        for u in self.u.iter_mut() {
            *u *= factor;
        }
    }
}

/// CBPDN with the mask-decoupling split `D z = y1`, `z = y0`.
struct MaskedCbpdn<'a, T: ConvFloat> {
    op: &'a ConvOperator<T>,
    lambda: T,
    non_negative: bool,
    s: &'a [T],
    w_sq: Vec<T>,
    factor: SolveFactor<T>,
    spec_maps: Vec<Complex<T>>,
    spec_maps_tmp: Vec<Complex<T>>,
    spec_signal: Vec<Complex<T>>,
    x: Vec<T>,
    dx: Vec<T>,
    y0: Vec<T>,
    u0: Vec<T>,
    y0_prev: Vec<T>,
    x0_relaxed: Vec<T>,
    y1: Vec<T>,
    u1: Vec<T>,
    y1_prev: Vec<T>,
    x1_relaxed: Vec<T>,
}

impl<'a, T: ConvFloat> MaskedCbpdn<'a, T> {
    fn new(
        op: &'a ConvOperator<T>,
        setup: &'a Setup<T>,
        w: &[T],
        lambda: T,
        non_negative: bool,
        init: Option<&[T]>,
        dual: Option<AdmmDual<T>>,
    ) -> Self {
        let nf = op.plan.spectrum_len();
        let n_maps = setup.n_groups * op.k * op.plan.len();
        let n_sig = setup.s.len();
        let y0 = init.map_or_else(|| vec![T::zero(); n_maps], <[T]>::to_vec);
        let (u0, y1, u1) = match (dual, init) {
            (Some(d), _) => (d.u0, d.y1, d.u1),
            (None, Some(z)) => {
                (vec![T::zero(); n_maps], synthesize_spatial(op, setup.n_groups, z), vec![T::zero(); n_sig])
            }
            (None, None) => (vec![T::zero(); n_maps], vec![T::zero(); n_sig], vec![T::zero(); n_sig]),
        };
        Self {
            op,
            lambda,
            non_negative,
            s: &setup.s,
            w_sq: w.iter().map(|v| *v * *v).collect(),
            factor: op.factor(T::one()),
            spec_maps: vec![czero(); setup.n_groups * op.k * nf],
            spec_maps_tmp: vec![czero(); setup.n_groups * op.k * nf],
            spec_signal: vec![czero(); setup.n_groups * op.ce * nf],
            x: vec![T::zero(); n_maps],
            dx: vec![T::zero(); n_sig],
            y0_prev: y0.clone(),
            y0,
            u0,
            x0_relaxed: vec![T::zero(); n_maps],
            y1_prev: y1.clone(),
            y1,
            u1,
            x1_relaxed: vec![T::zero(); n_sig],
        }
    }
}

impl<T: ConvFloat> AdmmProblem<T> for MaskedCbpdn<'_, T> {
    fn x_step(&mut self, _rho: T) {
        for ((t, y), u) in self.x1_relaxed.iter_mut().zip(&self.y1).zip(&self.u1) {
            *t = *y - *u;
        }
        self.op.plan.forward_many(&self.x1_relaxed, &mut self.spec_signal);
        self.op.adjoint(&self.spec_signal, &mut self.spec_maps);
        for ((t, y), u) in self.x0_relaxed.iter_mut().zip(&self.y0).zip(&self.u0) {
            *t = *y - *u;
        }
        self.op.plan.forward_many(&self.x0_relaxed, &mut self.spec_maps_tmp);
        for (b, t) in self.spec_maps.iter_mut().zip(&self.spec_maps_tmp) {
            *b += t;
        }
        self.op.solve(&self.factor, &mut self.spec_maps);
        self.op.plan.inverse_many(&self.spec_maps, &mut self.x);
        self.op.synthesize(&self.spec_maps, &mut self.spec_signal);
        self.op.plan.inverse_many(&self.spec_signal, &mut self.dx);
    }

    fn y_step(&mut self, alpha: T, rho: T) {
        std::mem::swap(&mut self.y0, &mut self.y0_prev);
        std::mem::swap(&mut self.y1, &mut self.y1_prev);
        let t = self.lambda / rho;
        let beta = T::one() - alpha;
        for (((xr, y), (x, yp)), u) in
            self.x0_relaxed.iter_mut().zip(self.y0.iter_mut()).zip(self.x.iter().zip(&self.y0_prev)).zip(&self.u0)
        {
            *xr = alpha * *x + beta * *yp;
            *y = shrink(*xr + *u, t, self.non_negative);
        }
        for ((((xr, y), (dx, yp)), u), (s, w2)) in self
            .x1_relaxed
            .iter_mut()
            .zip(self.y1.iter_mut())
            .zip(self.dx.iter().zip(&self.y1_prev))
            .zip(&self.u1)
            .zip(self.s.iter().zip(&self.w_sq))
        {
            *xr = alpha * *dx + beta * *yp;
            *y = (*w2 * *s + rho * (*xr + *u)) / (*w2 + rho);
        }
    }

    fn u_update(&mut self) -> Residuals {
        let mut r = Residuals::default();
        dual_update(&mut self.u0, &self.x0_relaxed, &self.y0, &self.x, &self.y0_prev, &mut r);
        dual_update(&mut self.u1, &self.x1_relaxed, &self.y1, &self.dx, &self.y1_prev, &mut r);
        r.ax_sq = norms_sq(&self.x) + norms_sq(&self.dx);
        r.y_sq = norms_sq(&self.y0) + norms_sq(&self.y1);
        r.u_sq = norms_sq(&self.u0) + norms_sq(&self.u1);
        r
    }

    fn scale_dual(&mut self, factor: T) {
        for u in self.u0.iter_mut().chain(self.u1.iter_mut()) {
            *u *= factor;
        }
    }
}

/// The signals `sum_k d_k * z_k` represented by `maps` (as returned by [`csc`]),
/// on the signals' domain: `n_signals x n_channels x signal_spatial`.
///
/// ```
/// use sparsecode::conv::{reconstruct, Boundary, ConvArray};
/// let filters = ConvArray::new(1, 1, &[2], vec![1.0f64, 2.0]).unwrap();
/// let mut z = vec![0.0f64; 5];
/// z[4] = 1.0; // linear boundary: index 4 of a 5-sample map is position -1
/// let maps = ConvArray::new(1, 1, &[5], z).unwrap();
/// let x = reconstruct(&filters, &maps, Boundary::Linear).unwrap();
/// assert_eq!(x.spatial(), &[4]);
/// assert!((x.data()[0] - 2.0).abs() < 1e-12 && x.data()[3].abs() < 1e-12);
/// ```
pub fn reconstruct<T: ConvFloat>(
    filters: &ConvArray<T>,
    maps: &ConvArray<T>,
    boundary: Boundary,
) -> Result<ConvArray<T>> {
    let k = filters.n_items();
    let ce = filters.n_channels();
    if maps.spatial().len() != filters.spatial().len() {
        return Err(Error::Shape(format!(
            "maps have spatial shape {:?} but the filters {:?}",
            maps.spatial(),
            filters.spatial()
        )));
    }
    let n_channels = if maps.n_channels() == k && ce > 1 {
        ce
    } else if maps.n_channels() % k == 0 && ce == 1 {
        maps.n_channels() / k
    } else {
        return Err(Error::Shape(format!(
            "{} maps per signal do not fit {k} filters of {ce} channels",
            maps.n_channels()
        )));
    };
    let signal_dims: Vec<usize> = match boundary {
        Boundary::Circular => maps.spatial().to_vec(),
        Boundary::Linear => {
            if maps.spatial().iter().zip(filters.spatial()).any(|(m, l)| m < l) {
                return Err(Error::Shape(format!(
                    "maps of size {:?} are smaller than the filters {:?}",
                    maps.spatial(),
                    filters.spatial()
                )));
            }
            maps.spatial().iter().zip(filters.spatial()).map(|(m, l)| m + 1 - l).collect()
        }
    };
    if filters.spatial().iter().zip(&signal_dims).any(|(l, n)| l > n) {
        return Err(Error::Shape(format!(
            "filters of size {:?} are larger than the maps' signals of size {signal_dims:?}",
            filters.spatial()
        )));
    }
    filters.check_finite("filters")?;
    maps.check_finite("maps")?;
    let work_dims = maps.spatial().to_vec();
    let n_work = maps.spatial_len();
    let n_filter = filters.spatial_len();
    let mut padded = vec![T::zero(); k * ce * n_work];
    for (src, dst) in filters.data().chunks_exact(n_filter).zip(padded.chunks_exact_mut(n_work)) {
        super::boundary::copy_corner(src, filters.spatial(), dst, &work_dims);
    }
    let op = ConvOperator::new(&padded, k, ce, &work_dims);
    let n_groups = maps.n_items() * n_channels / ce;
    let r = synthesize_spatial(&op, n_groups, maps.data());
    let n_sig: usize = signal_dims.iter().product();
    let mut out = vec![T::zero(); n_groups * ce * n_sig];
    for (src, dst) in r.chunks_exact(n_work).zip(out.chunks_exact_mut(n_sig)) {
        super::boundary::copy_corner(src, &work_dims, dst, &signal_dims);
    }
    ConvArray::new(maps.n_items(), n_channels, &signal_dims, out)
}
