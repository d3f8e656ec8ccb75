//! The filter update of convolutional dictionary learning: projected FISTA on
//! `min_d 0.5 ||W (s - sum_k d_k * z_k)||^2` over the constraint set
//! `{d : support(d_k) within the filter shape, (optionally) zero mean, ||d_k|| <= 1}`
//! with the gradient computed by DFT-domain products (Garcia-Cardona &
//! Wohlberg 2018, IEEE TCI, Sec. IV-B, "FISTA" dictionary update, eq. (36)-(38)),
//! and the anchoring of each filter against the shift ambiguity.

use super::boundary::Setup;
use super::operator::{czero, ConvOperator};
use super::ConvFloat;
use num_complex::Complex;
use rayon::prelude::*;

/// Power iterations for the step size, and the safety factor on their estimate.
const POWER_ITERATIONS: usize = 30;
const LIPSCHITZ_MARGIN: f64 = 1.1;

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
/// over all frequencies at once; `z_hat` is `groups x k x F`.
fn hessian_norm<T: ConvFloat>(z_hat: &[Complex<T>], n_groups: usize, k: usize, nf: usize) -> T {
    let mut v: Vec<Complex<T>> =
        (0..k * nf).map(|i| Complex::new(T::one() + T::of(((i * 7919) % 101) as f64 * 1e-3), T::zero())).collect();
    let mut lambda = T::zero();
    for _ in 0..POWER_ITERATIONS {
        let mut hv = vec![czero(); k * nf];
        hv.par_chunks_mut(nf.max(1)).enumerate().for_each(|(kk, out)| {
            for g in 0..n_groups {
                let zg = &z_hat[g * k * nf..(g + 1) * k * nf];
                for (f, o) in out.iter_mut().enumerate() {
                    let mut zv = czero();
                    for j in 0..k {
                        zv += zg[j * nf + f] * v[j * nf + f];
                    }
                    *o += zg[kk * nf + f].conj() * zv;
                }
            }
        });
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
/// for the group-layout `maps`; leaves `op` holding the new filters.
pub(crate) fn update_filters<T: ConvFloat>(
    op: &mut ConvOperator<T>,
    setup: &Setup<T>,
    maps: &[T],
    padded: &mut [T],
    support: &[bool],
    zero_mean: bool,
    n_iter: usize,
) {
    let nf = op.plan.spectrum_len();
    let (k, ce, n_groups) = (op.k, op.ce, setup.n_groups);
    let mut z_hat = vec![czero(); n_groups * k * nf];
    op.plan.forward_many(maps, &mut z_hat);
    let w_max = setup.w.as_ref().map_or(T::one(), |w| w.iter().fold(T::zero(), |a, &b| a.max(b.abs())));
    let lipschitz = hessian_norm(&z_hat, n_groups, k, nf) * w_max * w_max * T::of(LIPSCHITZ_MARGIN);
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
        op.synthesize(&z_hat, &mut recon_hat);
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

/// Circularly shifts each filter within its support so that its energy
/// centroid is at the centre of the support, and shifts its maps the opposite
/// way, which leaves `d_k * z_k` unchanged; every array of `maps` (maps, and
/// ADMM duals that live with them) is shifted alike. A filter is left alone when the
/// shift would wrap more than 1% of its energy around its support.
pub(crate) fn anchor<T: ConvFloat>(
    filters: &mut [T],
    filter_dims: &[usize],
    ce: usize,
    maps: &mut [&mut Vec<T>],
    map_dims: &[usize],
    n_groups: usize,
) {
    let nd = filter_dims.len();
    let n_filter: usize = filter_dims.iter().product();
    let n_map: usize = map_dims.iter().product();
    let k = filters.len() / (ce * n_filter);
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
        let moved: Vec<T> = {
            let mut out = vec![T::zero(); ce * n_filter];
            for c in 0..ce {
                for i in 0..n_filter {
                    out[c * n_filter + target(i, filter_dims).0] = filter[c * n_filter + i];
                }
            }
            out
        };
        filters[kk * ce * n_filter..(kk + 1) * ce * n_filter].copy_from_slice(&moved);
        // d'[n] = d[n - t] pairs with z'[n] = z[n + t]: map entry i moves to i - t.
        let map_target: Vec<usize> = (0..n_map)
            .map(|i| {
                let c = coords(i, map_dims);
                let mut idx = 0;
                for a in 0..nd {
                    let len = map_dims[a] as isize;
                    idx = idx * map_dims[a] + (c[a] as isize - shift[a]).rem_euclid(len) as usize;
                }
                idx
            })
            .collect();
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
}
