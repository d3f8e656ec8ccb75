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

use super::admm::{self, AdmmOptions, AdmmProblem, Penalty, Residuals};
use super::array::ConvArray;
use super::boundary::{Boundary, Setup};
use super::fft::FftPlan;
use super::fista;
use super::operator::{czero, ConvOperator, SolveFactor};
use super::ConvFloat;
use crate::{validate, Error, Result};
use num_complex::Complex;
use rayon::prelude::*;

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
/// penalty of an ADMM solve; with the maps, a complete warm start: a solve
/// continued from them takes the same steps as one uninterrupted solve.
pub(crate) struct AdmmDual<T> {
    pub(crate) u0: Vec<T>,
    y1: Vec<T>,
    u1: Vec<T>,
    penalty: Penalty,
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
            let penalty = dual
                .as_ref()
                .map_or(Penalty::new(admm_options.rho.unwrap_or(50.0 * options.lambda + 1.0)), |d| d.penalty);
            let target = admm_options.residual_target.unwrap_or_else(|| residual_target(options.lambda));
            match &setup.w {
                None => {
                    let mut p = PlainCbpdn::new(op, setup, lambda, options.non_negative, init, dual);
                    let r = admm::run(&mut p, admm_options, penalty, target, options.max_iter, options.tol);
                    let dual = AdmmDual { u0: p.u, y1: Vec::new(), u1: Vec::new(), penalty: r.penalty };
                    Coded { maps: p.y, n_iter: r.n_iter, converged: r.converged, dual: Some(dual) }
                }
                Some(w) => {
                    let mut p = MaskedCbpdn::new(op, setup, w, lambda, options.non_negative, init, dual);
                    let r = admm::run(&mut p, admm_options, penalty, target, options.max_iter, options.tol);
                    let dual = AdmmDual { u0: p.u0, y1: p.y1, u1: p.u1, penalty: r.penalty };
                    Coded { maps: p.y0, n_iter: r.n_iter, converged: r.converged, dual: Some(dual) }
                }
            }
        }
    }
}

/// The default residual-balancing target for CBPDN, `1 + 18.3^(log10 lambda + 1)`
/// (Wohlberg 2015, Sec. VI.C, fitted over `lambda`; 1 for `lambda = 0`).
fn residual_target(lambda: f64) -> f64 {
    if lambda > 0.0 {
        1.0 + 18.3f64.powf(lambda.log10() + 1.0)
    } else {
        1.0
    }
}

/// The proximal operator of `t ||.||_1` (plus the non-negativity constraint),
/// branch-free: `max(v - t, 0) + min(v + t, 0)` is `v - t`, `v + t` or `+0`.
#[inline]
pub(crate) fn shrink<T: ConvFloat>(v: T, t: T, non_negative: bool) -> T {
    if non_negative {
        (v - t).max(T::zero())
    } else {
        (v - t).max(T::zero()) + (v + t).min(T::zero())
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

/// Independent partial sums per norm in [`prox_dual_pass`], so that the
/// reductions vectorise and stay in registers instead of waiting on one
/// serial chain of additions.
const LANES: usize = 4;

/// One element of [`prox_dual_pass`]: updates `y` and `u`, returns the
/// squared terms of the five norms.
#[inline(always)]
fn prox_dual_step<T: ConvFloat>(x: T, y: &mut T, u: &mut T, alpha: T, prox: impl Fn(T) -> T) -> [f64; 5] {
    let xr = alpha * x + (T::one() - alpha) * *y;
    let y_new = prox(xr + *u);
    let u_new = *u + xr - y_new;
    let (xf, yf, ypf, uf) = (x.as_f64(), y_new.as_f64(), y.as_f64(), u_new.as_f64());
    *y = y_new;
    *u = u_new;
    [(xf - yf) * (xf - yf), (yf - ypf) * (yf - ypf), xf * xf, yf * yf, uf * uf]
}

/// The y-step and scaled dual step of ADMM for the split `x = y`, in one pass:
/// at each index `i`, `x_r = alpha x + (1 - alpha) y`, `y = prox(i, x_r + u)`,
/// `u += x_r - y`. Returns the squared norms `||x - y||^2`, `||y - y_prev||^2`,
/// `||x||^2`, `||y||^2`, `||u||^2`.
#[inline]
fn prox_dual_pass<T: ConvFloat>(x: &[T], y: &mut [T], u: &mut [T], alpha: T, prox: impl Fn(usize, T) -> T) -> [f64; 5] {
    let mut acc = [[0.0f64; LANES]; 5];
    let full = x.len() / LANES * LANES;
    for j in (0..full).step_by(LANES) {
        let (x, y, u) = (&x[j..j + LANES], &mut y[j..j + LANES], &mut u[j..j + LANES]);
        for lane in 0..LANES {
            let terms = prox_dual_step(x[lane], &mut y[lane], &mut u[lane], alpha, |v| prox(j + lane, v));
            for (a, t) in acc.iter_mut().zip(terms) {
                a[lane] += t;
            }
        }
    }
    for i in full..x.len() {
        let terms = prox_dual_step(x[i], &mut y[i], &mut u[i], alpha, |v| prox(i, v));
        for (a, t) in acc.iter_mut().zip(terms) {
            a[0] += t;
        }
    }
    acc.map(|lanes| lanes.iter().sum())
}

/// [`prox_dual_pass`] for every array of a split whose `x` the x-step left
/// in the DFT domain (`x_hat`, overwritten): each array is inverse-transformed
/// into a per-thread buffer that stays in cache and passed over at once, so
/// `x` never goes through main memory. `prox` gets the flat index into `y`.
/// Adds the norms to `r`, array by array in a fixed order (the result does not
/// depend on the thread count).
#[allow(clippy::too_many_arguments)]
fn inverse_prox_dual<T: ConvFloat>(
    plan: &FftPlan<T>,
    x_hat: &mut [Complex<T>],
    y: &mut [T],
    u: &mut [T],
    alpha: T,
    prox: impl Fn(usize, T) -> T + Sync,
    r: &mut Residuals,
) {
    let (n, nf) = (plan.len(), plan.spectrum_len());
    let partials: Vec<[f64; 5]> = x_hat
        .par_chunks_exact_mut(nf)
        .zip(y.par_chunks_exact_mut(n).zip(u.par_chunks_exact_mut(n)))
        .enumerate()
        .map_init(
            || (plan.scratch(), vec![T::zero(); n]),
            |(s, x), (item, (spec, (y, u)))| {
                plan.inverse_in_place(spec, x, s);
                prox_dual_pass(x, y, u, alpha, |i, v| prox(item * n + i, v))
            },
        )
        .collect();
    for p in partials {
        r.primal_sq += p[0];
        r.y_change_sq += p[1];
        r.ax_sq += p[2];
        r.y_sq += p[3];
        r.u_sq += p[4];
    }
}

/// The DFT of `y - u`, formed row by row inside the transform.
fn forward_difference<T: ConvFloat>(plan: &FftPlan<T>, y: &[T], u: &[T], out: &mut [Complex<T>]) {
    plan.forward_many_from(out, |start, row| {
        for ((v, y), u) in row.iter_mut().zip(&y[start..]).zip(&u[start..]) {
            *v = *y - *u;
        }
    });
}

/// CBPDN with the split `z = y` (circular boundary, no weights). The x-step
/// leaves `x` in the DFT domain; the y-step transforms it back map by map.
struct PlainCbpdn<'a, T: ConvFloat> {
    op: &'a ConvOperator<T>,
    lambda: T,
    non_negative: bool,
    /// The DFT of the signals.
    s_hat: Vec<Complex<T>>,
    factor: Option<SolveFactor<T>>,
    /// The DFT of `x` after the x-step.
    x_hat: Vec<Complex<T>>,
    y: Vec<T>,
    u: Vec<T>,
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
        Self {
            op,
            lambda,
            non_negative,
            s_hat,
            factor: None,
            x_hat: vec![czero(); setup.n_groups * op.k * nf],
            y: init.map_or_else(|| vec![T::zero(); n_maps], <[T]>::to_vec),
            u: dual.map_or_else(|| vec![T::zero(); n_maps], |d| d.u0),
        }
    }
}

impl<T: ConvFloat> AdmmProblem<T> for PlainCbpdn<'_, T> {
    fn x_step(&mut self, rho: T) {
        if self.factor.as_ref().is_none_or(|f| f.sigma != rho) {
            self.factor = Some(self.op.factor(rho));
        }
        forward_difference(&self.op.plan, &self.y, &self.u, &mut self.x_hat);
        if let Some(factor) = &self.factor {
            // (D^H D + rho I) x = D^H s + rho (y - u).
            self.op.solve(factor, &mut self.x_hat, Some((&self.s_hat, rho)));
        }
    }

    fn y_and_dual_step(&mut self, alpha: T, rho: T) -> Residuals {
        let t = self.lambda / rho;
        let non_negative = self.non_negative;
        let mut r = Residuals::default();
        let shrink = |_, v| shrink(v, t, non_negative);
        inverse_prox_dual(&self.op.plan, &mut self.x_hat, &mut self.y, &mut self.u, alpha, shrink, &mut r);
        r
    }

    fn scale_dual(&mut self, factor: T) {
        self.u.iter_mut().for_each(|u| *u *= factor);
    }
}

/// CBPDN with the mask-decoupling split `D z = y1`, `z = y0`. The x-step
/// leaves `x` and `D x` in the DFT domain.
struct MaskedCbpdn<'a, T: ConvFloat> {
    op: &'a ConvOperator<T>,
    lambda: T,
    non_negative: bool,
    s: &'a [T],
    w_sq: Vec<T>,
    factor: SolveFactor<T>,
    /// The DFT of `x` after the x-step.
    x_hat: Vec<Complex<T>>,
    /// The DFT of `y1 - u1` before the solve, of `D x` after it.
    dx_hat: Vec<Complex<T>>,
    y0: Vec<T>,
    u0: Vec<T>,
    y1: Vec<T>,
    u1: Vec<T>,
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
            x_hat: vec![czero(); setup.n_groups * op.k * nf],
            dx_hat: vec![czero(); setup.n_groups * op.ce * nf],
            y0,
            u0,
            y1,
            u1,
        }
    }
}

impl<T: ConvFloat> AdmmProblem<T> for MaskedCbpdn<'_, T> {
    fn x_step(&mut self, _rho: T) {
        // (D^H D + I) x = D^H (y1 - u1) + (y0 - u0).
        forward_difference(&self.op.plan, &self.y1, &self.u1, &mut self.dx_hat);
        forward_difference(&self.op.plan, &self.y0, &self.u0, &mut self.x_hat);
        self.op.solve(&self.factor, &mut self.x_hat, Some((&self.dx_hat, T::one())));
        self.op.synthesize(&self.x_hat, &mut self.dx_hat);
    }

    fn y_and_dual_step(&mut self, alpha: T, rho: T) -> Residuals {
        let t = self.lambda / rho;
        let non_negative = self.non_negative;
        let (s, w_sq) = (self.s, &self.w_sq);
        let plan = &self.op.plan;
        let mut r = Residuals::default();
        let shrink = |_, v| shrink(v, t, non_negative);
        inverse_prox_dual(plan, &mut self.x_hat, &mut self.y0, &mut self.u0, alpha, shrink, &mut r);
        // The prox of 0.5 ||W (y1 - s)||^2 / rho: a weighted mean of s and the point.
        let data = |i: usize, v: T| (w_sq[i] * s[i] + rho * v) / (w_sq[i] + rho);
        inverse_prox_dual(plan, &mut self.dx_hat, &mut self.y1, &mut self.u1, alpha, data, &mut r);
        r
    }

    fn scale_dual(&mut self, factor: T) {
        self.u0.iter_mut().chain(self.u1.iter_mut()).for_each(|u| *u *= factor);
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs CBPDN once for 30 iterations and as 30 one-iteration warm-started
    /// runs (as dictionary learning codes); the maps, duals and penalty agree exactly.
    fn continued_solve_matches(mask: bool) {
        let filters = ConvArray::new(2, 1, &[5], (0..10).map(|i| ((i * 5 % 7) as f64 - 3.0) / 5.0).collect()).unwrap();
        let n = 48;
        let x: Vec<f64> = (0..n).map(|i| (i as f64 * 0.9).sin() + if i % 11 == 3 { 1.5 } else { 0.0 }).collect();
        let signals = ConvArray::new(1, 1, &[n], x).unwrap();
        let weights = ConvArray::new(1, 1, &[n], (0..n).map(|i| if i % 6 == 1 { 0.0 } else { 1.0 }).collect()).unwrap();
        let setup = prepare(&filters, &signals, mask.then_some(&weights), Boundary::Circular).unwrap();
        let op = ConvOperator::new(&setup.pad_filters(filters.data()), setup.k, setup.ce, &setup.work_dims);
        // A poor initial penalty, so that residual balancing changes it.
        let mut options = CscOptions::new(0.05);
        options.solver = Solver::Admm(AdmmOptions { rho: Some(100.0), ..AdmmOptions::default() });
        options.tol = 1e-12;
        options.max_iter = 30;
        let whole = code(&op, &setup, &options, None, None);
        options.max_iter = 1;
        let (mut maps, mut dual) = (None::<Vec<f64>>, None);
        for k in 0..30 {
            let coded = code(&op, &setup, &options, maps.as_deref(), dual.take());
            let penalty = coded.dual.as_ref().map(|d| d.penalty).unwrap();
            if k == 1 {
                assert!(penalty.rho < 100.0, "one-iteration runs adapt rho: {penalty:?}");
            }
            maps = Some(coded.maps);
            dual = coded.dual;
        }
        let (dual, whole_dual) = (dual.unwrap(), whole.dual.unwrap());
        assert!(whole_dual.penalty.n_changes >= 2, "{:?}", whole_dual.penalty);
        assert_eq!(dual.penalty, whole_dual.penalty);
        assert_eq!(maps.unwrap(), whole.maps);
        assert_eq!((dual.u0, dual.y1, dual.u1), (whole_dual.u0, whole_dual.y1, whole_dual.u1));
    }

    #[test]
    fn a_warm_started_solve_continues_the_same_trajectory() {
        continued_solve_matches(false);
    }

    #[test]
    fn a_warm_started_masked_solve_continues_the_same_trajectory() {
        continued_solve_matches(true);
    }
}
