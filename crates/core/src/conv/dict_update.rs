//! The filter update of convolutional dictionary learning,
//! `min_d 0.5 ||W (s - sum_k d_k * z_k)||^2` over the constraint set
//! `C = {d : support(d_k) within the filter shape, (optionally) zero mean, ||d_k|| <= 1}`,
//! by two methods of Garcia-Cardona & Wohlberg 2018, IEEE TCI 4(3),
//! "Convolutional dictionary learning: a comparative review and new algorithms":
//!
//! - [`fista_update`]: projected FISTA with the gradient computed by
//!   DFT-domain products (their Sec. IV-B, "FISTA" dictionary update, eq. (36)-(38));
//! - [`consensus_update`]: ADMM in the consensus form (their "Cns" dictionary
//!   update; Boyd et al. 2011, "Distributed optimization ...", Sec. 7.1, global
//!   variable consensus; SPORCO's `ConvCnstrMOD_Consensus`): every signal
//!   group `g` gets its own copy `x_g` of the filters and the constraint
//!   `x_g = y`, `y` in `C`. The `x_g` step is, at each frequency, a rank-one
//!   plus identity system `(conj(z_g) z_g^T + rho I) x = b` solved by
//!   Sherman-Morrison in `O(K)`; the `y` step is the projection onto `C` of the
//!   mean of the relaxed copies plus duals. With weights (masks, linear
//!   boundary) the data term is decoupled as in the masked CBPDN solver
//!   (Heide et al. 2015; Wohlberg 2016, "Boundary handling ...", eq. (13)):
//!   `Z_g x_g = y1_g` with `0.5 ||W (y1 - s)||^2`, and the `x_g` system becomes
//!   `(conj(z_g) z_g^T + I) x = b`, independent of `rho`.
//!
//! and the anchoring of each filter against the shift ambiguity.

use super::admm::{self, AdmmOptions, AdmmProblem, Penalty, Residuals};
use super::boundary::Setup;
use super::fft::FftPlan;
use super::operator::{czero, ConvOperator};
use super::ConvFloat;
use num_complex::Complex;
use rayon::prelude::*;

/// Power iterations for the step size, and the safety factor on their estimate.
const POWER_ITERATIONS: usize = 30;
const LIPSCHITZ_MARGIN: f64 = 1.1;

/// Relative tolerance of the consensus update's stopping rule.
const CONSENSUS_TOL: f64 = 1e-4;

/// Projects padded filters (`k x ce x N` on the working domain) onto the
/// constraint set: zero outside `support`, zero mean per channel (optional),
/// then `||d_k|| <= 1` over all channels of filter `k`.
pub(crate) fn project<T: ConvFloat>(padded: &mut [T], support: &[bool], ce: usize, zero_mean: bool) {
    let n = support.len();
    let n_support = support.iter().filter(|s| **s).count();
    for filter in padded.chunks_exact_mut(ce * n) {
        for channel in filter.chunks_exact_mut(n) {
            let mut sum = T::zero();
            for (v, s) in channel.iter_mut().zip(support) {
                if *s {
                    sum += *v;
                } else {
                    *v = T::zero();
                }
            }
            if zero_mean {
                let mean = sum / T::of(n_support as f64);
                channel.iter_mut().zip(support).filter(|(_, s)| **s).for_each(|(v, _)| *v -= mean);
            }
        }
        let norm = filter.iter().fold(T::zero(), |a, v| a + *v * *v).sqrt();
        if norm > T::one() {
            filter.iter_mut().for_each(|v| *v /= norm);
        }
    }
}

/// Largest eigenvalue of `Z^H Z` (the filter-update Hessian), by power iteration
/// over all frequencies at once; `z_hat` is `groups x k x F`. Each product
/// `sum_g conj(z_g) (z_g^T v)` costs `O(groups K F)`.
fn hessian_norm<T: ConvFloat>(z_hat: &[Complex<T>], n_groups: usize, k: usize, nf: usize) -> T {
    let mut v: Vec<Complex<T>> =
        (0..k * nf).map(|i| Complex::new(T::one() + T::of(((i * 7919) % 101) as f64 * 1e-3), T::zero())).collect();
    let mut lambda = T::zero();
    // Frequencies per parallel task.
    let chunk = 256.min(nf.max(1));
    for _ in 0..POWER_ITERATIONS {
        let mut hv = vec![czero(); k * nf];
        // hv is k x F; work on frequency ranges [f0, f1) of every filter at once.
        let ranges: Vec<(usize, usize)> = (0..nf).step_by(chunk).map(|f0| (f0, (f0 + chunk).min(nf))).collect();
        let parts: Vec<Vec<Complex<T>>> = ranges
            .par_iter()
            .map(|&(f0, f1)| {
                let w = f1 - f0;
                let mut out = vec![czero(); k * w];
                let mut zv = vec![czero(); w];
                for g in 0..n_groups {
                    let zg = &z_hat[g * k * nf..(g + 1) * k * nf];
                    zv.fill(czero());
                    for j in 0..k {
                        for ((a, z), x) in
                            zv.iter_mut().zip(&zg[j * nf + f0..j * nf + f1]).zip(&v[j * nf + f0..j * nf + f1])
                        {
                            *a += *z * *x;
                        }
                    }
                    for kk in 0..k {
                        for ((o, z), a) in
                            out[kk * w..(kk + 1) * w].iter_mut().zip(&zg[kk * nf + f0..kk * nf + f1]).zip(&zv)
                        {
                            *o += z.conj() * *a;
                        }
                    }
                }
                out
            })
            .collect();
        for ((f0, f1), part) in ranges.iter().zip(&parts) {
            let w = f1 - f0;
            for kk in 0..k {
                hv[kk * nf + f0..kk * nf + f1].copy_from_slice(&part[kk * w..(kk + 1) * w]);
            }
        }
        let norm = hv.iter().fold(T::zero(), |a, c| a + c.norm_sqr()).sqrt();
        let v_norm = v.iter().fold(T::zero(), |a, c| a + c.norm_sqr()).sqrt();
        if norm == T::zero() || v_norm == T::zero() {
            return T::zero();
        }
        lambda = norm / v_norm;
        v = hv.into_iter().map(|c| c / norm).collect();
    }
    lambda
}

/// Runs `n_iter` projected FISTA steps on the padded filters (`k x ce x N`),
/// for the maps whose spectra are `z_hat` (`groups x k x F`); leaves `op`
/// holding the new filters.
pub(crate) fn fista_update<T: ConvFloat>(
    op: &mut ConvOperator<T>,
    setup: &Setup<T>,
    z_hat: &[Complex<T>],
    padded: &mut [T],
    support: &[bool],
    zero_mean: bool,
    n_iter: usize,
) {
    let nf = op.plan.spectrum_len();
    let (k, ce, n_groups) = (op.k, op.ce, setup.n_groups);
    let w_max = setup.w.as_ref().map_or(T::one(), |w| w.iter().fold(T::zero(), |a, &b| a.max(b.abs())));
    let lipschitz = hessian_norm(z_hat, n_groups, k, nf) * w_max * w_max * T::of(LIPSCHITZ_MARGIN);
    if lipschitz == T::zero() {
        // All maps are zero: the data term does not depend on the filters.
        return;
    }
    let step = T::one() / lipschitz;
    let mut d = padded.to_vec();
    let mut v = d.clone();
    let mut recon_hat = vec![czero(); n_groups * ce * nf];
    let mut residual = vec![T::zero(); setup.s.len()];
    let mut grad_hat = vec![czero(); k * ce * nf];
    let mut grad = vec![T::zero(); k * ce * op.plan.len()];
    let mut t = T::one();
    for _ in 0..n_iter {
        op.set_filters(&v);
        op.synthesize(z_hat, &mut recon_hat);
        op.plan.inverse_many(&recon_hat, &mut residual);
        match &setup.w {
            None => residual.iter_mut().zip(&setup.s).for_each(|(r, s)| *r -= *s),
            Some(w) => residual.iter_mut().zip(&setup.s).zip(w).for_each(|((r, s), w)| *r = *w * *w * (*r - *s)),
        }
        op.plan.forward_many(&residual, &mut recon_hat);
        // grad_kc = sum_g conj(Z_gk) R_gc.
        grad_hat.par_chunks_mut(nf).enumerate().for_each(|(kc, out)| {
            let (kk, c) = (kc / ce, kc % ce);
            out.fill(czero());
            for g in 0..n_groups {
                let z = &z_hat[(g * k + kk) * nf..(g * k + kk + 1) * nf];
                let r = &recon_hat[(g * ce + c) * nf..(g * ce + c + 1) * nf];
                for ((o, zv), rv) in out.iter_mut().zip(z).zip(r) {
                    *o += zv.conj() * rv;
                }
            }
        });
        op.plan.inverse_many(&grad_hat, &mut grad);
        let mut d_new: Vec<T> = v.iter().zip(&grad).map(|(a, g)| *a - step * *g).collect();
        project(&mut d_new, support, ce, zero_mean);
        let t_new = (T::one() + (T::one() + T::of(4.0) * t * t).sqrt()) * T::of(0.5);
        let momentum = (t - T::one()) / t_new;
        for ((vv, dn), dold) in v.iter_mut().zip(&d_new).zip(&d) {
            *vv = *dn + momentum * (*dn - *dold);
        }
        d = d_new;
        t = t_new;
    }
    padded.copy_from_slice(&d);
    op.set_filters(padded);
}

/// Multiplicity of each bin of the last axis of a half spectrum in the full
/// spectrum (1 for the DC and, for an even length, the Nyquist bin; 2
/// otherwise), for norms by Parseval's identity.
pub(crate) fn bin_weights(last: usize) -> Vec<f64> {
    let half = last / 2 + 1;
    (0..half).map(|j| if j == 0 || (last % 2 == 0 && j == half - 1) { 1.0 } else { 2.0 }).collect()
}

/// `||x||^2` of the real arrays whose half spectra (rows of `weights.len()`
/// bins, `n` samples each) are concatenated in `spec`, by Parseval's identity.
pub(crate) fn parseval_sq<T: ConvFloat>(spec: &[Complex<T>], weights: &[f64], n: usize) -> f64 {
    let sum: f64 = spec
        .chunks_exact(weights.len())
        .map(|row| row.iter().zip(weights).map(|(c, w)| w * c.norm_sqr().as_f64()).sum::<f64>())
        .sum();
    sum / n as f64
}

/// The state of the consensus filter update carried from one outer iteration
/// of CDL to the next (a warm start, as SPORCO's alternating scheme does).
pub(crate) struct ConsensusState<T> {
    /// Scaled duals of `x_g = y`, DFT domain, `groups x k x ce x F`.
    u_hat: Vec<Complex<T>>,
    /// Weighted case: the auxiliary `y1_g ~ Z_g x_g` and its scaled dual, `groups x ce x N`.
    y1: Vec<T>,
    u1: Vec<T>,
    penalty: Penalty,
}

impl<T: ConvFloat> ConsensusState<T> {
    /// Forgets the duals of the filters marked in `reset` (after anchoring
    /// shifted them, the duals no longer match).
    pub(crate) fn reset_filters(&mut self, reset: &[bool], ce: usize, nf: usize) {
        let k = reset.len();
        for (i, chunk) in self.u_hat.chunks_exact_mut(ce * nf).enumerate() {
            if reset[i % k] {
                chunk.fill(czero());
            }
        }
    }
}

/// The consensus ADMM problem of the filter update (module docs).
struct ConsensusProblem<'a, T: ConvFloat> {
    plan: &'a FftPlan<T>,
    k: usize,
    ce: usize,
    n_groups: usize,
    /// Map spectra `groups x k x F`, signal spectra `groups x ce x F`.
    z_hat: &'a [Complex<T>],
    s_hat: &'a [Complex<T>],
    /// `sum_k |z_gk(f)|^2`, `groups x F`.
    z_energy: Vec<T>,
    support: &'a [bool],
    zero_mean: bool,
    weights: Vec<f64>,
    /// Per-group copies of the filters, `groups x k x ce x F`, and their duals.
    x_hat: Vec<Complex<T>>,
    u_hat: Vec<Complex<T>>,
    /// The consensus filters (padded, `k x ce x N`), before the step, and their spectra.
    y: Vec<T>,
    y_prev: Vec<T>,
    y_hat: Vec<Complex<T>>,
    y_prev_hat: Vec<Complex<T>>,
    mean_hat: Vec<Complex<T>>,
    /// `(alpha, 1 - alpha)` of the last y-step, for the dual update.
    relaxation: (T, T),
    masked: Option<MaskedPart<'a, T>>,
}

/// The data-term split `Z_g x_g = y1_g` of the weighted case.
struct MaskedPart<'a, T: ConvFloat> {
    s: &'a [T],
    w_sq: Vec<T>,
    /// `Z_g x_g` on the working domain, `groups x ce x N`.
    dx: Vec<T>,
    y1: Vec<T>,
    y1_prev: Vec<T>,
    u1: Vec<T>,
    x1_relaxed: Vec<T>,
    /// Spectra of `y1 - u1`, then of `Z x`, `groups x ce x F`.
    r_hat: Vec<Complex<T>>,
}

impl<T: ConvFloat> AdmmProblem<T> for ConsensusProblem<'_, T> {
    fn x_step(&mut self, rho: T) {
        let (k, ce) = (self.k, self.ce);
        let nf = self.plan.spectrum_len();
        // Weighted case: the system is `(conj(z) z^T + I) x = conj(z) r + (y - u)`
        // with `r` the spectrum of `y1 - u1`; otherwise
        // `(conj(z) z^T + rho I) x = conj(z) s + rho (y - u)`.
        let (sigma, r_hat, scale) = match &mut self.masked {
            Some(m) => {
                for ((t, y), u) in m.x1_relaxed.iter_mut().zip(&m.y1).zip(&m.u1) {
                    *t = *y - *u;
                }
                self.plan.forward_many(&m.x1_relaxed, &mut m.r_hat);
                (T::one(), &m.r_hat[..], T::one())
            }
            None => (rho, self.s_hat, rho),
        };
        let y_hat = &self.y_hat;
        self.x_hat
            .par_chunks_exact_mut(k * ce * nf)
            .zip(self.u_hat.par_chunks_exact(k * ce * nf))
            .zip(self.z_hat.par_chunks_exact(k * nf).zip(r_hat.par_chunks_exact(ce * nf)))
            .zip(self.z_energy.par_chunks_exact(nf))
            .for_each(|(((x, u), (z, r)), energy)| {
                let mut dot = vec![czero(); nf];
                for c in 0..ce {
                    dot.fill(czero());
                    let rc = &r[c * nf..(c + 1) * nf];
                    for kk in 0..k {
                        let at = (kk * ce + c) * nf;
                        let zk = &z[kk * nf..(kk + 1) * nf];
                        for f in 0..nf {
                            let b = zk[f].conj() * rc[f] + (y_hat[at + f] - u[at + f]) * scale;
                            x[at + f] = b;
                            dot[f] += zk[f] * b;
                        }
                    }
                    for (d, e) in dot.iter_mut().zip(energy) {
                        *d /= sigma + *e;
                    }
                    let inv_sigma = T::one() / sigma;
                    for kk in 0..k {
                        let at = (kk * ce + c) * nf;
                        let zk = &z[kk * nf..(kk + 1) * nf];
                        for f in 0..nf {
                            x[at + f] = (x[at + f] - zk[f].conj() * dot[f]) * inv_sigma;
                        }
                    }
                }
            });
        if let Some(m) = &mut self.masked {
            // Z_g x_g, for the y1 step.
            m.r_hat
                .par_chunks_exact_mut(ce * nf)
                .zip(self.x_hat.par_chunks_exact(k * ce * nf))
                .zip(self.z_hat.par_chunks_exact(k * nf))
                .for_each(|((out, x), z)| {
                    out.fill(czero());
                    for kk in 0..k {
                        let zk = &z[kk * nf..(kk + 1) * nf];
                        for c in 0..ce {
                            let xk = &x[(kk * ce + c) * nf..(kk * ce + c + 1) * nf];
                            for ((o, zv), xv) in out[c * nf..(c + 1) * nf].iter_mut().zip(zk).zip(xk) {
                                *o += zv * xv;
                            }
                        }
                    }
                });
            self.plan.inverse_many(&m.r_hat, &mut m.dx);
        }
    }

    fn y_and_dual_step(&mut self, alpha: T, rho: T) -> Residuals {
        self.y_step(alpha, rho);
        self.u_update()
    }

    fn scale_dual(&mut self, factor: T) {
        self.u_hat.par_iter_mut().for_each(|u| *u *= factor);
        if let Some(m) = &mut self.masked {
            m.u1.iter_mut().for_each(|u| *u *= factor);
        }
    }
}

impl<T: ConvFloat> ConsensusProblem<'_, T> {
    /// The y-step: projects the relaxed group mean onto the constraint set (the consensus
    /// `y`), and takes the closed-form prox of the masked split's data variable.
    fn y_step(&mut self, alpha: T, rho: T) {
        let (k, ce, g) = (self.k, self.ce, self.n_groups);
        let nf = self.plan.spectrum_len();
        let block = k * ce * nf;
        std::mem::swap(&mut self.y_hat, &mut self.y_prev_hat);
        std::mem::swap(&mut self.y, &mut self.y_prev);
        let inv_g = T::one() / T::of(g as f64);
        let beta = T::one() - alpha;
        self.relaxation = (alpha, beta);
        let (x_hat, u_hat, y_prev_hat) = (&self.x_hat, &self.u_hat, &self.y_prev_hat);
        // Mean over groups of alpha x_g + (1 - alpha) y_prev + u_g, summed in group order.
        self.mean_hat.par_chunks_exact_mut(nf).enumerate().for_each(|(i, out)| {
            out.fill(czero());
            for gg in 0..g {
                let at = gg * block + i * nf;
                for ((o, x), u) in out.iter_mut().zip(&x_hat[at..at + nf]).zip(&u_hat[at..at + nf]) {
                    *o += *x * alpha + u;
                }
            }
            for (o, yp) in out.iter_mut().zip(&y_prev_hat[i * nf..(i + 1) * nf]) {
                *o = *o * inv_g + *yp * beta;
            }
        });
        self.plan.inverse_many(&self.mean_hat, &mut self.y);
        project(&mut self.y, self.support, ce, self.zero_mean);
        self.plan.forward_many(&self.y, &mut self.y_hat);
        if let Some(m) = &mut self.masked {
            std::mem::swap(&mut m.y1, &mut m.y1_prev);
            for ((((xr, y), (dx, yp)), u), (s, w2)) in m
                .x1_relaxed
                .iter_mut()
                .zip(m.y1.iter_mut())
                .zip(m.dx.iter().zip(&m.y1_prev))
                .zip(&m.u1)
                .zip(m.s.iter().zip(&m.w_sq))
            {
                *xr = alpha * *dx + beta * *yp;
                *y = (*w2 * *s + rho * (*xr + *u)) / (*w2 + rho);
            }
        }
    }

    /// The scaled dual update of every group (and of the masked split), with the residual norms.
    fn u_update(&mut self) -> Residuals {
        let nf = self.plan.spectrum_len();
        let n = self.plan.len();
        let block = self.k * self.ce * nf;
        let alpha_beta = self.relaxation;
        let (y_hat, y_prev_hat, weights) = (&self.y_hat, &self.y_prev_hat, &self.weights);
        // Per group: ||x_g - y||^2, ||x_g||^2, ||u_g||^2 (Parseval), collected in group order.
        let per_group: Vec<(f64, f64, f64)> = self
            .u_hat
            .par_chunks_exact_mut(block)
            .zip(self.x_hat.par_chunks_exact(block))
            .map(|(u, x)| {
                let (mut primal, mut ax, mut uu) = (0.0, 0.0, 0.0);
                for (i, ((uv, xv), (y, yp))) in u.iter_mut().zip(x).zip(y_hat.iter().zip(y_prev_hat)).enumerate() {
                    let w = weights[i % weights.len()];
                    *uv += *xv * alpha_beta.0 + *yp * alpha_beta.1 - y;
                    primal += w * (*xv - y).norm_sqr().as_f64();
                    ax += w * xv.norm_sqr().as_f64();
                    uu += w * uv.norm_sqr().as_f64();
                }
                (primal, ax, uu)
            })
            .collect();
        let g = self.n_groups as f64;
        let mut r = Residuals::default();
        for (p, a, u) in per_group {
            r.primal_sq += p / n as f64;
            r.ax_sq += a / n as f64;
            r.u_sq += u / n as f64;
        }
        r.y_change_sq = g * self.y.iter().zip(&self.y_prev).map(|(a, b)| (*a - *b).as_f64().powi(2)).sum::<f64>();
        r.y_sq = g * self.y.iter().map(|v| v.as_f64().powi(2)).sum::<f64>();
        if let Some(m) = &mut self.masked {
            for ((((u, xr), y), dx), yp) in m.u1.iter_mut().zip(&m.x1_relaxed).zip(&m.y1).zip(&m.dx).zip(&m.y1_prev) {
                *u = *u + *xr - *y;
                r.primal_sq += (*dx - *y).as_f64().powi(2);
                r.y_change_sq += (*y - *yp).as_f64().powi(2);
                r.ax_sq += dx.as_f64().powi(2);
                r.y_sq += y.as_f64().powi(2);
                r.u_sq += u.as_f64().powi(2);
            }
        }
        r
    }
}

/// Runs at most `n_iter` iterations of the consensus ADMM filter update
/// (module docs) from the current filters `padded` (`k x ce x N`) for the map
/// spectra `z_hat` (`groups x k x F`) and signal spectra `s_hat` (`groups x ce x F`),
/// warm-started from `state` when given and leaving the new state there;
/// leaves `padded` and `op` holding the new filters, which lie in the
/// constraint set exactly (they are the output of the projection).
#[allow(clippy::too_many_arguments)]
pub(crate) fn consensus_update<T: ConvFloat>(
    op: &mut ConvOperator<T>,
    setup: &Setup<T>,
    z_hat: &[Complex<T>],
    s_hat: &[Complex<T>],
    padded: &mut [T],
    support: &[bool],
    zero_mean: bool,
    n_iter: usize,
    options: &AdmmOptions,
    state: &mut Option<ConsensusState<T>>,
) {
    let nf = op.plan.spectrum_len();
    let n = op.plan.len();
    let (k, ce, n_groups) = (op.k, op.ce, setup.n_groups);
    let z_energy: Vec<T> = z_hat
        .chunks_exact(k * nf)
        .flat_map(|z| (0..nf).map(move |f| (0..k).fold(T::zero(), |a, kk| a + z[kk * nf + f].norm_sqr())))
        .collect();
    // The penalty on the scale of the per-group Hessians `conj(z) z^T` (their
    // mean trace); with weights the x-step does not depend on `rho`, which
    // then balances the unit-weight data term of y1.
    let default_rho = match setup.w {
        Some(_) => 1.0,
        None => {
            let mean = z_energy.iter().map(|e| e.as_f64()).sum::<f64>() / z_energy.len().max(1) as f64;
            if mean > 0.0 {
                mean
            } else {
                1.0
            }
        }
    };
    let previous = state.take();
    let penalty = previous.as_ref().map_or(Penalty::new(options.rho.unwrap_or(default_rho)), |s| s.penalty);
    let (u_hat, y1, u1) = match previous {
        Some(s) => (s.u_hat, s.y1, s.u1),
        None => (vec![czero(); n_groups * k * ce * nf], Vec::new(), Vec::new()),
    };
    let masked = setup.w.as_ref().map(|w| {
        let mut r_hat = vec![czero(); n_groups * ce * nf];
        let (y1, u1) = if y1.is_empty() {
            // Start the split at the current reconstruction.
            op.synthesize(z_hat, &mut r_hat);
            let mut y1 = vec![T::zero(); setup.s.len()];
            op.plan.inverse_many(&r_hat, &mut y1);
            (y1, vec![T::zero(); setup.s.len()])
        } else {
            (y1, u1)
        };
        MaskedPart {
            s: &setup.s,
            w_sq: w.iter().map(|v| *v * *v).collect(),
            dx: vec![T::zero(); setup.s.len()],
            y1_prev: y1.clone(),
            y1,
            u1,
            x1_relaxed: vec![T::zero(); setup.s.len()],
            r_hat,
        }
    });
    let mut problem = ConsensusProblem {
        plan: &op.plan,
        k,
        ce,
        n_groups,
        z_hat,
        s_hat,
        z_energy,
        support,
        zero_mean,
        weights: bin_weights(*setup.work_dims.last().unwrap_or(&1)),
        x_hat: vec![czero(); n_groups * k * ce * nf],
        u_hat,
        y: padded.to_vec(),
        y_prev: padded.to_vec(),
        y_hat: op.d_hat.clone(),
        y_prev_hat: op.d_hat.clone(),
        mean_hat: vec![czero(); k * ce * nf],
        relaxation: (T::one(), T::zero()),
        masked,
    };
    debug_assert_eq!(problem.y.len(), k * ce * n);
    let report =
        admm::run(&mut problem, options, penalty, options.residual_target.unwrap_or(1.0), n_iter, CONSENSUS_TOL);
    padded.copy_from_slice(&problem.y);
    let y_hat = std::mem::take(&mut problem.y_hat);
    let (y1, u1) = problem.masked.map_or((Vec::new(), Vec::new()), |m| (m.y1, m.u1));
    *state = Some(ConsensusState { u_hat: problem.u_hat, y1, u1, penalty: report.penalty });
    op.d_hat = y_hat;
}

/// Circularly shifts each filter within its support so that its energy
/// centroid is at the centre of the support, and shifts its maps the opposite
/// way, which leaves `d_k * z_k` unchanged; every array of `maps` (maps, and
/// ADMM duals that live with them) is shifted alike. A filter is left alone when the
/// shift would wrap more than 1% of its energy around its support. Returns
/// which filters moved.
pub(crate) fn anchor<T: ConvFloat>(
    filters: &mut [T],
    filter_dims: &[usize],
    ce: usize,
    maps: &mut [&mut Vec<T>],
    map_dims: &[usize],
    n_groups: usize,
) -> Vec<bool> {
    let nd = filter_dims.len();
    let n_filter: usize = filter_dims.iter().product();
    let n_map: usize = map_dims.iter().product();
    let k = filters.len() / (ce * n_filter);
    let mut moved = vec![false; k];
    let coords = |mut i: usize, dims: &[usize]| -> Vec<usize> {
        let mut c = vec![0; dims.len()];
        for a in (0..dims.len()).rev() {
            c[a] = i % dims[a];
            i /= dims[a];
        }
        c
    };
    for kk in 0..k {
        let filter = &filters[kk * ce * n_filter..(kk + 1) * ce * n_filter];
        let mut energy = vec![0.0; n_filter];
        for channel in filter.chunks_exact(n_filter) {
            for (e, v) in energy.iter_mut().zip(channel) {
                *e += v.as_f64() * v.as_f64();
            }
        }
        let total: f64 = energy.iter().sum();
        if total == 0.0 {
            continue;
        }
        let mut centroid = vec![0.0; nd];
        for (i, e) in energy.iter().enumerate() {
            for (c, x) in centroid.iter_mut().zip(coords(i, filter_dims)) {
                *c += e * x as f64 / total;
            }
        }
        let shift: Vec<isize> =
            centroid.iter().zip(filter_dims).map(|(c, l)| ((*l as f64 - 1.0) / 2.0 - c).round() as isize).collect();
        if shift.iter().all(|s| *s == 0) {
            continue;
        }
        let target = |i: usize, dims: &[usize]| -> (usize, bool) {
            let c = coords(i, dims);
            let mut idx = 0;
            let mut wrapped = false;
            for a in 0..nd {
                let p = c[a] as isize + shift[a];
                let len = dims[a] as isize;
                wrapped |= p < 0 || p >= len;
                idx = idx * dims[a] + p.rem_euclid(len) as usize;
            }
            (idx, wrapped)
        };
        let wrapped_energy: f64 = (0..n_filter).filter(|i| target(*i, filter_dims).1).map(|i| energy[i]).sum();
        if wrapped_energy > 0.01 * total {
            continue;
        }
        let shifted: Vec<T> = {
            let mut out = vec![T::zero(); ce * n_filter];
            for c in 0..ce {
                for i in 0..n_filter {
                    out[c * n_filter + target(i, filter_dims).0] = filter[c * n_filter + i];
                }
            }
            out
        };
        filters[kk * ce * n_filter..(kk + 1) * ce * n_filter].copy_from_slice(&shifted);
        moved[kk] = true;
        // d'[n] = d[n - t] pairs with z'[n] = z[n + t]: map entry i moves to i - t.
        // Row-major odometer over the map coordinates (no allocation per entry).
        let mut map_target = Vec::with_capacity(n_map);
        let mut c = vec![0usize; nd];
        for _ in 0..n_map {
            let mut idx = 0;
            for a in 0..nd {
                let len = map_dims[a] as isize;
                idx = idx * map_dims[a] + (c[a] as isize - shift[a]).rem_euclid(len) as usize;
            }
            map_target.push(idx);
            for a in (0..nd).rev() {
                c[a] += 1;
                if c[a] < map_dims[a] {
                    break;
                }
                c[a] = 0;
            }
        }
        for array in maps.iter_mut() {
            for g in 0..n_groups {
                let m = &mut array[(g * k + kk) * n_map..(g * k + kk + 1) * n_map];
                let old = m.to_vec();
                for (i, v) in old.into_iter().enumerate() {
                    m[map_target[i]] = v;
                }
            }
        }
    }
    moved
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conv::boundary::{copy_corner, Boundary};
    use crate::conv::ConvArray;
    use rand::Rng;

    /// A filter subproblem: random signals, sparse random maps, random
    /// initial filters in the constraint set.
    struct Case {
        setup: Setup<f64>,
        z_hat: Vec<Complex<f64>>,
        s_hat: Vec<Complex<f64>>,
        support: Vec<bool>,
        init: Vec<f64>,
    }

    fn case(
        seed: u64,
        dims: &[usize],
        filter_dims: &[usize],
        k: usize,
        channels: usize,
        masked: bool,
        boundary: Boundary,
    ) -> Case {
        let mut r = crate::rng::seeded(seed);
        let n_signals = 3;
        let n_sig: usize = dims.iter().product();
        let signals = ConvArray::new(
            n_signals,
            channels,
            dims,
            (0..n_signals * channels * n_sig).map(|_| r.random::<f64>() - 0.5).collect(),
        )
        .unwrap();
        let mask = masked.then(|| {
            let w =
                (0..n_signals * channels * n_sig).map(|_| if r.random::<f64>() < 0.3 { 0.0 } else { 1.0 }).collect();
            ConvArray::new(n_signals, channels, dims, w).unwrap()
        });
        let setup = Setup::new(k, channels, filter_dims, &signals, mask.as_ref(), boundary).unwrap();
        let n_work = setup.n_work();
        let maps: Vec<f64> = (0..setup.n_groups * k * n_work)
            .map(|_| if r.random::<f64>() < 0.1 { 2.0 * r.random::<f64>() - 1.0 } else { 0.0 })
            .collect();
        let n_filter: usize = filter_dims.iter().product();
        let mut support = vec![false; n_work];
        copy_corner(&vec![true; n_filter], filter_dims, &mut support, &setup.work_dims);
        let filters: Vec<f64> = (0..k * channels * n_filter).map(|_| r.random::<f64>() - 0.5).collect();
        let init = setup.pad_filters(&filters);
        let plan = FftPlan::<f64>::new(&setup.work_dims);
        let mut z_hat = vec![czero(); setup.n_groups * k * plan.spectrum_len()];
        plan.forward_many(&maps, &mut z_hat);
        let mut s_hat = vec![czero(); setup.n_groups * channels * plan.spectrum_len()];
        plan.forward_many(&setup.s, &mut s_hat);
        Case { setup, z_hat, s_hat, support, init }
    }

    /// `0.5 ||W (s - sum_k d_k * z_k)||^2` for the filters of `op`.
    fn data_term(op: &ConvOperator<f64>, c: &Case) -> f64 {
        let mut r_hat = vec![czero(); c.s_hat.len()];
        op.synthesize(&c.z_hat, &mut r_hat);
        let mut r = vec![0.0; c.setup.s.len()];
        op.plan.inverse_many(&r_hat, &mut r);
        let w = c.setup.w.clone().unwrap_or_else(|| vec![1.0; r.len()]);
        0.5 * r.iter().zip(&c.setup.s).zip(&w).map(|((a, b), w)| (w * (a - b)).powi(2)).sum::<f64>()
    }

    fn check_constraints(padded: &[f64], support: &[bool], ce: usize, zero_mean: bool) {
        let n = support.len();
        for filter in padded.chunks_exact(ce * n) {
            assert!(filter.iter().map(|v| v * v).sum::<f64>() <= 1.0 + 1e-12);
            for channel in filter.chunks_exact(n) {
                assert!(channel.iter().zip(support).all(|(v, s)| *s || *v == 0.0), "a value outside the support");
                if zero_mean {
                    assert!(channel.iter().sum::<f64>().abs() < 1e-12, "mean {}", channel.iter().sum::<f64>());
                }
            }
        }
    }

    /// The consensus ADMM update reaches the constrained minimum of the filter
    /// subproblem that many projected FISTA steps reach, and its filters lie
    /// exactly in the constraint set: plain 1-D, masked 2-D zero-mean, and
    /// two-channel filters with the linear boundary.
    #[test]
    fn consensus_and_fista_reach_the_same_filter_objective() {
        let cases = [
            (case(1, &[40], &[6], 3, 1, false, Boundary::Circular), false),
            (case(2, &[12, 10], &[3, 4], 2, 1, true, Boundary::Circular), true),
            (case(3, &[30], &[5], 2, 2, false, Boundary::Linear), false),
        ];
        for (i, (c, zero_mean)) in cases.iter().enumerate() {
            let (k, ce) = (c.setup.k, c.setup.ce);
            let mut fista = c.init.clone();
            project(&mut fista, &c.support, ce, *zero_mean);
            let start = fista.clone();
            let mut op_f = ConvOperator::new(&fista, k, ce, &c.setup.work_dims);
            fista_update(&mut op_f, &c.setup, &c.z_hat, &mut fista, &c.support, *zero_mean, 5000);
            let mut cons = start.clone();
            let mut op_c = ConvOperator::new(&cons, k, ce, &c.setup.work_dims);
            let mut state = None;
            // Two calls: the second is warm-started from the first's duals and penalty.
            for _ in 0..2 {
                consensus_update(
                    &mut op_c,
                    &c.setup,
                    &c.z_hat,
                    &c.s_hat,
                    &mut cons,
                    &c.support,
                    *zero_mean,
                    500,
                    &AdmmOptions::default(),
                    &mut state,
                );
            }
            check_constraints(&cons, &c.support, ce, *zero_mean);
            check_constraints(&fista, &c.support, ce, *zero_mean);
            let (f, a) = (data_term(&op_f, c), data_term(&op_c, c));
            let op_start = ConvOperator::new(&start, k, ce, &c.setup.work_dims);
            let initial = data_term(&op_start, c);
            assert!(a < initial, "case {i}: no decrease");
            assert!((a - f).abs() <= 1e-7 * f, "case {i}: consensus {a} vs FISTA {f} (start {initial})");
            // op holds the returned filters.
            let op_check = ConvOperator::new(&cons, k, ce, &c.setup.work_dims);
            assert!((data_term(&op_check, c) - a).abs() <= 1e-9 * a);
        }
    }
}
