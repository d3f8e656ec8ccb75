//! The convolution operator `x -> sum_k d_k * x_k` of a filter bank on a fixed
//! spatial domain, applied in the DFT domain, and the per-frequency solve of
//! `(D^H D + sigma I) x = b` (Wohlberg 2016, IEEE TIP 25(1), Sec. III: the
//! system is diagonal in frequency; with single-channel filters it is rank one
//! plus identity at each frequency and Sherman-Morrison solves it in O(K);
//! with `C`-channel filters the Woodbury identity reduces it to a `C x C`
//! Hermitian system per frequency).
//!
//! Signals are processed in *groups*: a group is one signal (all its channels)
//! when the filters are multichannel or the signals have one channel, and one
//! channel of one signal when single-channel filters are shared across
//! channels. A group holds `ce` channels and `K` coefficient maps, contiguous
//! in memory in both layouts.

use super::fft::FftPlan;
use super::ConvFloat;
use num_complex::Complex;
use rayon::prelude::*;

/// Filter spectra on a spatial domain.
pub(crate) struct ConvOperator<T: ConvFloat> {
    pub(crate) plan: FftPlan<T>,
    /// Filters.
    pub(crate) k: usize,
    /// Channels per group (and per filter).
    pub(crate) ce: usize,
    /// `k x ce x spectrum_len`.
    pub(crate) d_hat: Vec<Complex<T>>,
}

/// The factorisation of `sigma I + D(f) D(f)^H` (`ce x ce`) at every frequency.
pub(crate) struct SolveFactor<T> {
    pub(crate) sigma: T,
    /// Lower Cholesky factors, `spectrum_len x ce x ce`.
    chol: Vec<Complex<T>>,
}

/// Frequencies per block of [`ConvOperator::solve`].
const SOLVE_BLOCK: usize = 128;

pub(crate) fn czero<T: ConvFloat>() -> Complex<T> {
    Complex::new(T::zero(), T::zero())
}

impl<T: ConvFloat> ConvOperator<T> {
    /// The operator of `k` filters of `ce` channels, given zero-padded to the
    /// domain `dims` (`padded`: `k x ce x prod(dims)`).
    pub(crate) fn new(padded: &[T], k: usize, ce: usize, dims: &[usize]) -> Self {
        let plan = FftPlan::new(dims);
        let mut d_hat = vec![czero(); k * ce * plan.spectrum_len()];
        plan.forward_many(padded, &mut d_hat);
        Self { plan, k, ce, d_hat }
    }

    /// Replaces the filters (same shapes).
    pub(crate) fn set_filters(&mut self, padded: &[T]) {
        self.plan.forward_many(padded, &mut self.d_hat);
    }

    fn nf(&self) -> usize {
        self.plan.spectrum_len()
    }

    /// `out = D x` for every group: `x_hat` is `groups x k x F`, `out` `groups x ce x F`.
    pub(crate) fn synthesize(&self, x_hat: &[Complex<T>], out: &mut [Complex<T>]) {
        let (nf, k, ce) = (self.nf(), self.k, self.ce);
        out.par_chunks_exact_mut(ce * nf).zip(x_hat.par_chunks_exact(k * nf)).for_each(|(o, x)| {
            o.fill(czero());
            for kk in 0..k {
                let xk = &x[kk * nf..(kk + 1) * nf];
                for c in 0..ce {
                    let d = &self.d_hat[(kk * ce + c) * nf..(kk * ce + c + 1) * nf];
                    for ((ov, dv), xv) in o[c * nf..(c + 1) * nf].iter_mut().zip(d).zip(xk) {
                        *ov += dv * xv;
                    }
                }
            }
        });
    }

    /// `out = D^H r` for every group: `r_hat` is `groups x ce x F`, `out` `groups x k x F`.
    pub(crate) fn adjoint(&self, r_hat: &[Complex<T>], out: &mut [Complex<T>]) {
        let (nf, k, ce) = (self.nf(), self.k, self.ce);
        out.par_chunks_exact_mut(k * nf).zip(r_hat.par_chunks_exact(ce * nf)).for_each(|(o, r)| {
            o.fill(czero());
            for kk in 0..k {
                let ok = &mut o[kk * nf..(kk + 1) * nf];
                for c in 0..ce {
                    let d = &self.d_hat[(kk * ce + c) * nf..(kk * ce + c + 1) * nf];
                    for ((ov, dv), rv) in ok.iter_mut().zip(d).zip(&r[c * nf..(c + 1) * nf]) {
                        *ov += dv.conj() * rv;
                    }
                }
            }
        });
    }

    /// Factorises `sigma I + D(f) D(f)^H` at every frequency.
    pub(crate) fn factor(&self, sigma: T) -> SolveFactor<T> {
        let (nf, k, ce) = (self.nf(), self.k, self.ce);
        let mut chol = vec![czero(); nf * ce * ce];
        chol.par_chunks_exact_mut(ce * ce).enumerate().for_each(|(f, m)| {
            for a in 0..ce {
                for b in 0..=a {
                    let mut acc = czero();
                    for kk in 0..k {
                        acc += self.d_hat[(kk * ce + a) * nf + f] * self.d_hat[(kk * ce + b) * nf + f].conj();
                    }
                    if a == b {
                        acc.re += sigma;
                    }
                    m[a * ce + b] = acc;
                }
            }
            // In-place lower Cholesky of the Hermitian positive definite m.
            for j in 0..ce {
                let mut diag: T = m[j * ce + j].re;
                for p in 0..j {
                    diag -= m[j * ce + p].norm_sqr();
                }
                let djj = diag.sqrt();
                m[j * ce + j] = Complex::new(djj, T::zero());
                for i in j + 1..ce {
                    let mut v = m[i * ce + j];
                    for p in 0..j {
                        v -= m[i * ce + p] * m[j * ce + p].conj();
                    }
                    m[i * ce + j] = v / djj;
                }
            }
        });
        SolveFactor { sigma, chol }
    }

    /// Overwrites `b` (`groups x k x F`) with the solution of
    /// `(D^H D + sigma I) x = b`, frequency by frequency:
    /// `x = (b - D^H (sigma I + D D^H)^-1 D b) / sigma`. With `rhs = Some((r,
    /// scale))` (`r`: `groups x ce x F`) the right-hand side is `D^H r + scale b`
    /// instead, formed on the fly (CBPDN's x-step: `D^H s + rho (y - u)`).
    ///
    /// The frequencies are processed in blocks of `SOLVE_BLOCK`: the `k`
    /// coefficient spectra of a block are read once from memory and then
    /// stay in cache for the three steps (`D b`, the `ce x ce` solve, the
    /// update of `b`); blocks run in parallel.
    pub(crate) fn solve(&self, factor: &SolveFactor<T>, b: &mut [Complex<T>], rhs: Option<(&[Complex<T>], T)>) {
        let (nf, k, ce) = (self.nf(), self.k, self.ce);
        let inv_sigma = T::one() / factor.sigma;
        let n_blocks = nf.div_ceil(SOLVE_BLOCK);
        for (g, bg) in b.chunks_exact_mut(k * nf).enumerate() {
            let rg = rhs.map(|(r, scale)| (&r[g * ce * nf..(g + 1) * ce * nf], scale));
            // blocks[i][kk]: the frequencies of block i of coefficient map kk.
            let mut blocks: Vec<Vec<&mut [Complex<T>]>> = (0..n_blocks).map(|_| Vec::with_capacity(k)).collect();
            for map in bg.chunks_exact_mut(nf) {
                for (block, chunk) in blocks.iter_mut().zip(map.chunks_mut(SOLVE_BLOCK)) {
                    block.push(chunk);
                }
            }
            blocks.into_par_iter().enumerate().for_each_init(
                || vec![czero(); ce * SOLVE_BLOCK + ce],
                |v, (i, mut maps)| {
                    let f0 = i * SOLVE_BLOCK;
                    let len = maps[0].len();
                    let (v, w) = v.split_at_mut(ce * SOLVE_BLOCK);
                    // Right-hand side, and v = D b per channel.
                    v[..ce * len].fill(czero());
                    for (kk, bk) in maps.iter_mut().enumerate() {
                        if let Some((r, scale)) = rg {
                            for bv in bk.iter_mut() {
                                *bv *= scale;
                            }
                            for c in 0..ce {
                                let d = &self.d_hat[(kk * ce + c) * nf + f0..(kk * ce + c) * nf + f0 + len];
                                for ((bv, dv), rv) in bk.iter_mut().zip(d).zip(&r[c * nf + f0..c * nf + f0 + len]) {
                                    *bv += dv.conj() * rv;
                                }
                            }
                        }
                        for c in 0..ce {
                            let d = &self.d_hat[(kk * ce + c) * nf + f0..(kk * ce + c) * nf + f0 + len];
                            for ((vv, dv), bv) in v[c * len..(c + 1) * len].iter_mut().zip(d).zip(bk.iter()) {
                                *vv += dv * bv;
                            }
                        }
                    }
                    // w = (sigma I + D D^H)^-1 v at each frequency.
                    for f in 0..len {
                        let l = &factor.chol[(f0 + f) * ce * ce..(f0 + f + 1) * ce * ce];
                        for i in 0..ce {
                            let mut acc = v[i * len + f];
                            for p in 0..i {
                                acc -= l[i * ce + p] * w[p];
                            }
                            w[i] = acc / l[i * ce + i].re;
                        }
                        for i in (0..ce).rev() {
                            let mut acc = w[i];
                            for p in i + 1..ce {
                                acc -= l[p * ce + i].conj() * w[p];
                            }
                            w[i] = acc / l[i * ce + i].re;
                        }
                        for i in 0..ce {
                            v[i * len + f] = w[i] * inv_sigma;
                        }
                    }
                    // b = b / sigma - D^H (w / sigma).
                    for (kk, bk) in maps.iter_mut().enumerate() {
                        for c in 0..ce {
                            let d = &self.d_hat[(kk * ce + c) * nf + f0..(kk * ce + c) * nf + f0 + len];
                            let wc = &v[c * len..(c + 1) * len];
                            if c == 0 {
                                for ((bv, dv), wv) in bk.iter_mut().zip(d).zip(wc) {
                                    *bv = *bv * inv_sigma - dv.conj() * wv;
                                }
                            } else {
                                for ((bv, dv), wv) in bk.iter_mut().zip(d).zip(wc) {
                                    *bv -= dv.conj() * wv;
                                }
                            }
                        }
                    }
                },
            );
        }
    }

    /// An upper bound of the largest eigenvalue of `D^H D`: the largest, over
    /// frequencies, of `sum_{k,c} |d_kc(f)|^2` (exact for single-channel groups).
    pub(crate) fn lipschitz(&self) -> T {
        let (nf, k, ce) = (self.nf(), self.k, self.ce);
        let mut energy = vec![T::zero(); nf];
        for kc in 0..k * ce {
            for (e, d) in energy.iter_mut().zip(&self.d_hat[kc * nf..(kc + 1) * nf]) {
                *e += d.norm_sqr();
            }
        }
        energy.into_iter().fold(T::zero(), |a, b| if b > a { b } else { a })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use faer::linalg::solvers::Solve;
    use faer::Mat;
    use rand::Rng;

    /// `(D^T D + sigma I) x = b` solved in the DFT domain equals the dense solve
    /// with the explicit circular convolution matrix, for single-channel
    /// (Sherman-Morrison) and 3-channel (Woodbury) filters.
    #[test]
    fn frequency_domain_solve_equals_dense_solve() {
        let mut rng = crate::rng::seeded(3);
        for &(n0, n1, k, ce) in &[(1usize, 12usize, 3usize, 1usize), (4, 5, 2, 3), (1, 9, 4, 2)] {
            let n = n0 * n1;
            let filters: Vec<f64> = (0..k * ce * n)
                .map(|i| if (i % n) / n1 < 2 && i % n1 < 3 { rng.random::<f64>() - 0.5 } else { 0.0 })
                .collect();
            let op = ConvOperator::new(&filters, k, ce, &[n0, n1]);
            // Dense D: rows (c, position), columns (k, position); D[(c,p),(k,q)] = d_kc[p - q].
            let dense = Mat::<f64>::from_fn(ce * n, k * n, |row, col| {
                let (c, p) = (row / n, row % n);
                let (kk, q) = (col / n, col % n);
                let (a, b) = ((p / n1 + n0 - q / n1) % n0, (p % n1 + n1 - q % n1) % n1);
                filters[(kk * ce + c) * n + a * n1 + b]
            });
            let sigma = 0.7;
            let mut system = dense.transpose() * &dense;
            for i in 0..k * n {
                system[(i, i)] += sigma;
            }
            let b: Vec<f64> = (0..k * n).map(|_| rng.random::<f64>() - 0.5).collect();
            let rhs = Mat::<f64>::from_fn(k * n, 1, |i, _| b[i]);
            let expected = system.llt(faer::Side::Lower).unwrap().solve(&rhs);
            let mut spec = vec![czero(); k * op.plan.spectrum_len()];
            op.plan.forward_many(&b, &mut spec);
            op.solve(&op.factor(sigma), &mut spec, None);
            let mut x = vec![0.0; k * n];
            op.plan.inverse_many(&spec, &mut x);
            for (i, v) in x.iter().enumerate() {
                assert!((v - expected[(i, 0)]).abs() < 1e-10, "case {n0}x{n1} k={k} ce={ce}, entry {i}");
            }
            // The right-hand side D^T r + 2.5 c, formed inside the solve.
            let r: Vec<f64> = (0..ce * n).map(|_| rng.random::<f64>() - 0.5).collect();
            let c: Vec<f64> = (0..k * n).map(|_| rng.random::<f64>() - 0.5).collect();
            let rhs = Mat::<f64>::from_fn(k * n, 1, |i, _| 2.5 * c[i])
                + dense.transpose() * Mat::from_fn(ce * n, 1, |i, _| r[i]);
            let expected = system.llt(faer::Side::Lower).unwrap().solve(&rhs);
            let mut r_spec = vec![czero(); ce * op.plan.spectrum_len()];
            op.plan.forward_many(&r, &mut r_spec);
            op.plan.forward_many(&c, &mut spec);
            op.solve(&op.factor(sigma), &mut spec, Some((&r_spec, 2.5)));
            op.plan.inverse_many_in_place(&mut spec, &mut x);
            for (i, v) in x.iter().enumerate() {
                assert!((v - expected[(i, 0)]).abs() < 1e-10, "D^T r + 2.5 c, case {n0}x{n1} k={k} ce={ce}, entry {i}");
            }
        }
    }
}
