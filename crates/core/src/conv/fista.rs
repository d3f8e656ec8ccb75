//! CBPDN by FISTA (Beck & Teboulle 2009, eq. (4.1)-(4.3)), the gradient
//! `D^T W^2 (D z - s)` of the data term computed with DFT-domain products
//! (Wohlberg 2016, IEEE TIP 25(1), Sec. V; Garcia-Cardona & Wohlberg 2018,
//! Sec. IV-B), step `1 / L` with `L` the largest eigenvalue bound of
//! `D^H D` over frequencies times the largest squared weight.

use super::boundary::Setup;
use super::cbpdn::{shrink, Coded};
use super::operator::{czero, ConvOperator};
use super::ConvFloat;
use rayon::prelude::*;

/// Runs FISTA from `init` (or zero) for at most `max_iter` steps, stopping
/// when `||z_new - z|| <= tol ||z_new||`.
pub(crate) fn code<T: ConvFloat>(
    op: &ConvOperator<T>,
    setup: &Setup<T>,
    lambda: T,
    non_negative: bool,
    max_iter: usize,
    tol: f64,
    init: Option<&[T]>,
) -> Coded<T> {
    let nf = op.plan.spectrum_len();
    let n_groups = setup.n_groups;
    let n_maps = n_groups * op.k * op.plan.len();
    let w_max = setup.w.as_ref().map_or(T::one(), |w| w.iter().fold(T::zero(), |a, &b| a.max(b.abs())));
    let lipschitz = op.lipschitz() * w_max * w_max;
    let step = T::one() / lipschitz;
    let mut z = init.map_or_else(|| vec![T::zero(); n_maps], <[T]>::to_vec);
    let mut v = z.clone();
    let mut spec_maps = vec![czero(); n_groups * op.k * nf];
    let mut spec_signal = vec![czero(); n_groups * op.ce * nf];
    // Unweighted: D^T (D v - s) is formed in the DFT domain from the DFT of s.
    let mut s_hat = Vec::new();
    let mut residual = Vec::new();
    match setup.w {
        None => {
            s_hat = vec![czero(); n_groups * op.ce * nf];
            op.plan.forward_many(&setup.s, &mut s_hat);
        }
        Some(_) => residual = vec![T::zero(); setup.s.len()],
    }
    let (n, threshold) = (op.plan.len(), lambda * step);
    let mut t = T::one();
    let (mut n_iter, mut converged) = (0, false);
    for it in 1..=max_iter {
        n_iter = it;
        // Gradient at v: D^T W^2 (D v - s).
        op.plan.forward_many(&v, &mut spec_maps);
        op.synthesize(&spec_maps, &mut spec_signal);
        match &setup.w {
            None => spec_signal.iter_mut().zip(&s_hat).for_each(|(r, s)| *r -= s),
            Some(w) => {
                op.plan.inverse_many_in_place(&mut spec_signal, &mut residual);
                residual.iter_mut().zip(&setup.s).zip(w).for_each(|((r, s), w)| *r = *w * *w * (*r - *s));
                op.plan.forward_many(&residual, &mut spec_signal);
            }
        }
        op.adjoint(&spec_signal, &mut spec_maps);
        let t_new = (T::one() + (T::one() + T::of(4.0) * t * t).sqrt()) * T::of(0.5);
        let momentum = (t - T::one()) / t_new;
        // Map by map: the gradient back in space (in a per-thread buffer), the
        // proximal step z_new = shrink(v - step g) and the momentum step
        // v = z_new + momentum (z_new - z), in one pass.
        let partials: Vec<(f64, f64)> = spec_maps
            .par_chunks_exact_mut(nf)
            .zip(z.par_chunks_exact_mut(n).zip(v.par_chunks_exact_mut(n)))
            .map_init(
                || (op.plan.scratch(), vec![T::zero(); n]),
                |(s, grad), (spec, (z, v))| {
                    op.plan.inverse_in_place(spec, grad, s);
                    let (mut change, mut norm) = (0.0, 0.0);
                    for ((zo, vv), g) in z.iter_mut().zip(v.iter_mut()).zip(grad.iter()) {
                        let zn = shrink(*vv - step * *g, threshold, non_negative);
                        let d = zn - *zo;
                        change += d.as_f64() * d.as_f64();
                        norm += zn.as_f64() * zn.as_f64();
                        *vv = zn + momentum * d;
                        *zo = zn;
                    }
                    (change, norm)
                },
            )
            .collect();
        let (change, norm) = partials.iter().fold((0.0, 0.0), |(c, n), p| (c + p.0, n + p.1));
        t = t_new;
        if change.sqrt() <= tol * norm.sqrt() {
            converged = true;
            break;
        }
    }
    Coded { maps: z, n_iter, converged, dual: None }
}
