//! Orthogonal Matching Pursuit against from-scratch references: greedy path,
//! best-subset search, NNLS by enumeration, planted recovery, tolerance rule,
//! thread-count independence and input errors; order-recursive matching
//! pursuit against its textbook definition and against OMP on image patches.

use faer::prelude::*;
use faer::Mat;
use rand::Rng;
use rand_distr::StandardNormal;
use sparsecode::encode::omp::{Omp, Ormp};
use sparsecode::encode::{encode, Encoding};
use sparsecode::{rng, Dictionary, Error};

fn gaussian(rows: usize, cols: usize, seed: u64) -> Mat<f64> {
    let mut r = rng::seeded(seed);
    Mat::from_fn(rows, cols, |_, _| r.sample::<f64, _>(StandardNormal))
}

fn unit_rows(mut m: Mat<f64>) -> Mat<f64> {
    for i in 0..m.nrows() {
        let n = (0..m.ncols()).map(|j| m[(i, j)] * m[(i, j)]).sum::<f64>().sqrt();
        for j in 0..m.ncols() {
            m[(i, j)] /= n;
        }
    }
    m
}

fn row(m: &Mat<f64>, i: usize) -> Vec<f64> {
    (0..m.ncols()).map(|j| m[(i, j)]).collect()
}

/// Least squares `min_c ||x - D_S^T c||` from scratch (faer QR); returns the
/// coefficients and the squared residual norm.
fn least_squares(d: &Mat<f64>, x: &[f64], support: &[usize]) -> (Vec<f64>, f64) {
    if support.is_empty() {
        return (vec![], x.iter().map(|v| v * v).sum());
    }
    let a = Mat::from_fn(d.ncols(), support.len(), |f, j| d[(support[j], f)]);
    let b = Mat::from_fn(x.len(), 1, |f, _| x[f]);
    let c = a.qr().solve_lstsq(&b);
    let coef: Vec<f64> = (0..support.len()).map(|j| c[(j, 0)]).collect();
    let res = residual_sq(d, x, support, &coef);
    (coef, res)
}

fn residual_sq(d: &Mat<f64>, x: &[f64], support: &[usize], coef: &[f64]) -> f64 {
    (0..x.len())
        .map(|f| {
            let r = x[f] - support.iter().zip(coef).map(|(&k, &c)| c * d[(k, f)]).sum::<f64>();
            r * r
        })
        .sum()
}

fn norm(v: &[f64]) -> f64 {
    v.iter().map(|a| a * a).sum::<f64>().sqrt()
}

/// Plain OMP the textbook way: residual and least squares recomputed from
/// scratch at every step. Returns the supports and codes after 1, 2, ... steps.
fn reference_greedy(d: &Mat<f64>, x: &[f64], k: usize) -> Vec<(Vec<usize>, Vec<f64>, f64)> {
    let mut support = vec![];
    let mut residual = x.to_vec();
    let mut path = vec![];
    for _ in 0..k {
        let best = (0..d.nrows())
            .filter(|a| !support.contains(a))
            .map(|a| {
                let atom = row(d, a);
                (a, atom.iter().zip(&residual).map(|(p, q)| p * q).sum::<f64>().abs() / norm(&atom))
            })
            .max_by(|p, q| p.1.total_cmp(&q.1))
            .unwrap();
        support.push(best.0);
        let (coef, res) = least_squares(d, x, &support);
        for (f, r) in residual.iter_mut().enumerate() {
            *r = x[f] - support.iter().zip(&coef).map(|(&a, &c)| c * d[(a, f)]).sum::<f64>();
        }
        path.push((support.clone(), coef, res));
    }
    path
}

/// ORMP the textbook way: at every step, re-fit by least squares with each
/// candidate atom added and keep the one with the smallest residual (Chen,
/// Billings & Luo 1989). Returns the supports and codes after 1, 2, ... steps.
fn reference_ormp(d: &Mat<f64>, x: &[f64], k: usize) -> Vec<(Vec<usize>, Vec<f64>, f64)> {
    let mut support: Vec<usize> = vec![];
    let mut path = vec![];
    for _ in 0..k {
        let (best, coef, res) = (0..d.nrows())
            .filter(|a| !support.contains(a))
            .map(|a| {
                let mut s = support.clone();
                s.push(a);
                let (coef, res) = least_squares(d, x, &s);
                (a, coef, res)
            })
            .min_by(|p, q| p.2.total_cmp(&q.2))
            .unwrap();
        support.push(best);
        path.push((support.clone(), coef, res));
    }
    path
}

fn subsets(n: usize, k: usize) -> Vec<Vec<usize>> {
    if k == 0 {
        return vec![vec![]];
    }
    (k - 1..n)
        .flat_map(|last| {
            subsets(last, k - 1).into_iter().map(move |mut s| {
                s.push(last);
                s
            })
        })
        .collect()
}

/// Non-negative least squares by enumeration: the optimum is the least-squares
/// fit on some support whose coefficients are all non-negative.
fn brute_force_nnls(d: &Mat<f64>, x: &[f64], atoms: &[usize]) -> (Vec<f64>, f64) {
    let mut best = (vec![0.0; d.nrows()], x.iter().map(|v| v * v).sum::<f64>());
    // Supports larger than the dimension are dependent: never the optimum.
    for size in 1..=atoms.len().min(d.ncols()) {
        for pick in subsets(atoms.len(), size) {
            let support: Vec<usize> = pick.iter().map(|&p| atoms[p]).collect();
            let (coef, res) = least_squares(d, x, &support);
            if coef.iter().all(|&c| c >= 0.0) && res < best.1 {
                let mut code = vec![0.0; d.nrows()];
                for (&a, &c) in support.iter().zip(&coef) {
                    code[a] = c;
                }
                best = (code, res);
            }
        }
    }
    best
}

fn code_row(out: &Encoding<f64>, i: usize) -> Vec<f64> {
    (0..out.codes.ncols()).map(|k| out.codes[(i, k)]).collect()
}

fn dense(n_atoms: usize, support: &[usize], coef: &[f64]) -> Vec<f64> {
    let mut code = vec![0.0; n_atoms];
    for (&a, &c) in support.iter().zip(coef) {
        code[a] = c;
    }
    code
}

fn assert_close(got: &[f64], want: &[f64], tol: f64, what: &str) {
    for (k, (g, w)) in got.iter().zip(want).enumerate() {
        assert!((g - w).abs() <= tol, "{what}: entry {k} is {g}, expected {w}");
    }
}

#[test]
fn greedy_path_matches_textbook_omp_on_tiny_problems() {
    for seed in 0..20 {
        // Atoms of unequal norms: selection must normalise by them.
        let mut d = gaussian(6, 5, seed);
        for a in 0..6 {
            for f in 0..5 {
                d[(a, f)] *= 0.5 + a as f64 * 0.3;
            }
        }
        let x = gaussian(1, 5, 1000 + seed);
        let dict = Dictionary::new(d.clone()).unwrap();
        let path = reference_greedy(&d, &row(&x, 0), 3);
        for k in 1..=3 {
            let out = encode(&Omp::with_n_nonzero(k), &dict, x.as_ref()).unwrap();
            let (support, coef, res) = &path[k - 1];
            assert_close(&code_row(&out, 0), &dense(6, support, coef), 1e-10, &format!("seed {seed}, k {k}"));
            assert!((out.reports[0].residual_norm.powi(2) - res).abs() < 1e-10);
            assert_eq!(out.reports[0].n_nonzero, k);
            assert!(out.reports[0].converged);
        }
    }
}

#[test]
fn greedy_equals_best_subset_on_incoherent_dictionary() {
    // Identity and normalised Hadamard in dimension 16: coherence 1/4, so OMP
    // provably finds every support of size <= 3 (Elad 2010, Thm. 4.3 for two
    // orthobases); with a little noise the planted support is the best one.
    let n = 16;
    let h = Mat::from_fn(n, n, |i, j| if (i & j).count_ones() % 2 == 0 { 0.25 } else { -0.25 });
    let mut d = Mat::zeros(2 * n, n);
    for i in 0..n {
        d[(i, i)] = 1.0;
        for j in 0..n {
            d[(n + i, j)] = h[(i, j)];
        }
    }
    let dict = Dictionary::new(d.clone()).unwrap();
    for (seed, k) in [(1, 1), (2, 2), (3, 3), (4, 3), (5, 2)] {
        let mut r = rng::seeded(seed);
        let planted: Vec<usize> = rand::seq::index::sample(&mut r, 2 * n, k).into_vec();
        let mut x = vec![0.0; n];
        for &a in &planted {
            let c = if r.random::<bool>() { 1.0 } else { -1.0 } * r.random_range(1.0..2.0);
            for (f, v) in x.iter_mut().enumerate() {
                *v += c * d[(a, f)];
            }
        }
        for v in x.iter_mut() {
            *v += 0.01 * r.sample::<f64, _>(StandardNormal);
        }
        let xm = Mat::from_fn(1, n, |_, f| x[f]);
        let out = encode(&Omp::with_n_nonzero(k), &dict, xm.as_ref()).unwrap();
        let best = subsets(2 * n, k)
            .into_iter()
            .map(|s| {
                let (coef, res) = least_squares(&d, &x, &s);
                (s, coef, res)
            })
            .min_by(|p, q| p.2.total_cmp(&q.2))
            .unwrap();
        assert_close(&code_row(&out, 0), &dense(2 * n, &best.0, &best.1), 1e-10, &format!("seed {seed}"));
        assert!((out.reports[0].residual_norm.powi(2) - best.2).abs() < 1e-12);
    }
}

#[test]
fn ormp_path_matches_the_textbook_definition_on_tiny_problems() {
    let mut differs = 0;
    for seed in 0..30 {
        // Atoms of unequal norms and correlated with each other, so that the
        // two rules often disagree.
        let mut d = gaussian(8, 5, 500 + seed);
        for a in 0..8 {
            for f in 0..5 {
                d[(a, f)] = (0.5 + a as f64 * 0.3) * (d[(a, f)] + if f == 0 { 1.5 } else { 0.0 });
            }
        }
        let x = gaussian(1, 5, 1500 + seed);
        let dict = Dictionary::new(d.clone()).unwrap();
        let path = reference_ormp(&d, &row(&x, 0), 4);
        for k in 1..=4 {
            let out = encode(&Ormp::with_n_nonzero(k), &dict, x.as_ref()).unwrap();
            let (support, coef, res) = &path[k - 1];
            assert_close(&code_row(&out, 0), &dense(8, support, coef), 1e-10, &format!("seed {seed}, k {k}"));
            assert!((out.reports[0].residual_norm.powi(2) - res).abs() < 1e-10);
            assert_eq!(out.reports[0].n_nonzero, k);
            assert!(out.reports[0].converged);
            let omp = encode(&Omp::with_n_nonzero(k), &dict, x.as_ref()).unwrap();
            if k == 1 {
                // No atom selected yet: both rules take the largest normalised correlation.
                assert_close(&code_row(&out, 0), &code_row(&omp, 0), 1e-12, &format!("seed {seed}, first atom"));
            } else if code_row(&omp, 0) != code_row(&out, 0) {
                differs += 1;
            }
        }
        // With the tolerance rule: the first step whose residual meets it.
        let tol = path[2].2 * 1.000001;
        let out = encode(&Ormp::with_tolerance(tol), &dict, x.as_ref()).unwrap();
        let steps = path.iter().position(|p| p.2 <= tol).unwrap() + 1;
        assert_eq!(out.reports[0].n_nonzero, steps, "seed {seed}");
    }
    assert!(differs > 10, "the rules agreed on all but {differs} codes: the test does not tell them apart");
}

/// 8x8 patches (mean removed) of the 256x256 test crops in the shared data
/// folder, or `None` when it is absent.
fn image_patches(n: usize, seed: u64) -> Option<Mat<f64>> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/images/crops");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with("_256.npy"))
        .collect();
    files.sort();
    let images: Vec<ndarray::Array2<f64>> = files.iter().filter_map(|f| ndarray_npy::read_npy(f).ok()).collect();
    if images.is_empty() {
        return None;
    }
    let mut r = rng::seeded(seed);
    let mut x = Mat::zeros(n, 64);
    for s in 0..n {
        let im = &images[r.random_range(0..images.len())];
        let (i, j) = (r.random_range(0..im.nrows() - 8), r.random_range(0..im.ncols() - 8));
        let mean = (0..64).map(|f| im[(i + f / 8, j + f % 8)]).sum::<f64>() / 64.0;
        for f in 0..64 {
            x[(s, f)] = im[(i + f / 8, j + f % 8)] - mean;
        }
    }
    Some(x)
}

#[test]
fn ormp_fits_image_patches_better_than_omp() {
    // Patches of the test images over a dictionary of other patches (as in
    // bench/bench_encode.py); random data when the images are absent.
    let (x, atoms) = match (image_patches(2000, 1), image_patches(400, 2)) {
        (Some(x), Some(a)) => (x, a),
        _ => (gaussian(2000, 64, 1), gaussian(400, 64, 2)),
    };
    let keep: Vec<usize> =
        (0..atoms.nrows()).filter(|&i| (0..64).map(|f| atoms[(i, f)].powi(2)).sum::<f64>() > 1e-4).take(256).collect();
    let dict = Dictionary::normalized(Mat::from_fn(keep.len(), 64, |i, f| atoms[(keep[i], f)])).unwrap();
    let total_res = |out: &Encoding<f64>| out.reports.iter().map(|r| r.residual_norm.powi(2)).sum::<f64>();
    let omp = encode(&Omp::with_n_nonzero(8), &dict, x.as_ref()).unwrap();
    let ormp = encode(&Ormp::with_n_nonzero(8), &dict, x.as_ref()).unwrap();
    assert!(ormp.reports.iter().all(|r| r.n_nonzero <= 8 && r.converged));
    assert!(ormp.reports.iter().filter(|r| r.n_nonzero == 8).count() > 1900);
    // Every code is the least-squares fit on its support.
    let atoms_d = dict.atoms().to_owned();
    for i in (0..x.nrows()).step_by(97) {
        let code = code_row(&ormp, i);
        let support: Vec<usize> = (0..code.len()).filter(|&k| code[k] != 0.0).collect();
        let (coef, res) = least_squares(&atoms_d, &row(&x, i), &support);
        assert_close(&support.iter().map(|&k| code[k]).collect::<Vec<_>>(), &coef, 1e-9, &format!("signal {i}"));
        assert!((ormp.reports[i].residual_norm.powi(2) - res).abs() < 1e-9);
    }
    let (r_omp, r_ormp) = (total_res(&omp), total_res(&ormp));
    assert!(r_ormp < 0.97 * r_omp, "ORMP residual energy {r_ormp} vs OMP {r_omp}");
}

#[test]
fn ormp_codes_do_not_depend_on_the_thread_count() {
    let d = unit_rows(gaussian(48, 24, 21));
    let x = gaussian(600, 24, 22);
    let dict = Dictionary::new(d).unwrap();
    for ormp in [Ormp::with_n_nonzero(6), Ormp::with_tolerance(2.0)] {
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            pool.install(|| encode(&ormp, &dict, x.as_ref()).unwrap())
        };
        let (one, two) = (run(1), run(2));
        assert_eq!(one.reports, two.reports);
        for i in 0..x.nrows() {
            for k in 0..dict.n_atoms() {
                assert_eq!(one.codes[(i, k)].to_bits(), two.codes[(i, k)].to_bits(), "{ormp:?} at ({i}, {k})");
            }
        }
    }
}

/// `n_signals` codes with `k` non-zeros on random supports, coefficients of
/// random sign and magnitude in [1, 2]; returns `(codes, X = codes D)`.
fn planted(d: &Mat<f64>, n_signals: usize, k: usize, seed: u64) -> (Mat<f64>, Mat<f64>) {
    let mut r = rng::seeded(seed);
    let mut z = Mat::zeros(n_signals, d.nrows());
    for i in 0..n_signals {
        for a in rand::seq::index::sample(&mut r, d.nrows(), k).into_vec() {
            z[(i, a)] = if r.random::<bool>() { 1.0 } else { -1.0 } * r.random_range(1.0..2.0);
        }
    }
    let x = &z * d;
    (z, x)
}

#[test]
fn planted_sparse_codes_are_recovered_exactly() {
    let d = unit_rows(gaussian(96, 64, 7));
    let (z, x) = planted(&d, 200, 4, 8);
    let out = encode(&Omp::with_n_nonzero(4), &Dictionary::new(d.clone()).unwrap(), x.as_ref()).unwrap();
    let worst = (0..z.nrows()).flat_map(|i| (0..z.ncols()).map(move |k| (i, k)));
    let err64 = worst.clone().map(|(i, k)| (out.codes[(i, k)] - z[(i, k)]).abs()).fold(0.0, f64::max);
    assert!(err64 < 1e-10, "f64 recovery error {err64}");
    assert!(out.reports.iter().all(|r| r.n_nonzero == 4 && r.residual_norm < 1e-10));

    let d32 = Mat::from_fn(d.nrows(), d.ncols(), |i, j| d[(i, j)] as f32);
    let x32 = Mat::from_fn(x.nrows(), x.ncols(), |i, j| x[(i, j)] as f32);
    let out32 = encode(&Omp::with_n_nonzero(4), &Dictionary::new(d32).unwrap(), x32.as_ref()).unwrap();
    let err32 = worst.map(|(i, k)| (out32.codes[(i, k)] as f64 - z[(i, k)]).abs()).fold(0.0, f64::max);
    assert!(err32 < 1e-4, "f32 recovery error {err32}");
    let supports_match =
        (0..z.nrows()).all(|i| (0..z.ncols()).all(|k| (out32.codes[(i, k)] != 0.0) == (z[(i, k)] != 0.0)));
    assert!(supports_match, "f32 support differs");
}

#[test]
fn ormp_stops_at_an_exact_fit_with_budget_to_spare() {
    // Exact 3-atom combinations with a budget of 8: after the third atom
    // every correlation is rounding noise, below the exact-fit threshold, so
    // the best ratio fails it and the thresholded rescan finds no atom.
    let d = unit_rows(gaussian(96, 64, 17));
    let (z, x) = planted(&d, 100, 3, 18);
    let out = encode(&Ormp::with_n_nonzero(8), &Dictionary::new(d).unwrap(), x.as_ref()).unwrap();
    for (i, r) in out.reports.iter().enumerate() {
        assert_eq!(r.n_nonzero, 3, "signal {i}: {r:?}");
        assert!(r.converged && r.residual_norm < 1e-10, "signal {i}: {r:?}");
        for k in 0..z.ncols() {
            assert!((out.codes[(i, k)] - z[(i, k)]).abs() < 1e-10, "signal {i}, atom {k}");
        }
    }
}

#[test]
fn tolerance_stops_at_the_first_atom_that_meets_it() {
    let d = gaussian(20, 10, 11);
    let dict = Dictionary::new(d.clone()).unwrap();
    for seed in 0..10 {
        let x = gaussian(1, 10, 100 + seed);
        let xs = row(&x, 0);
        let energy: f64 = xs.iter().map(|v| v * v).sum();
        let tol = energy * (0.05 + 0.04 * seed as f64);
        let out = encode(&Omp::with_tolerance(tol), &dict, x.as_ref()).unwrap();
        let m = out.reports[0].n_nonzero;
        let path = reference_greedy(&d, &xs, m);
        let (support, coef, res) = &path[m - 1];
        assert!(out.reports[0].residual_norm.powi(2) <= tol * (1.0 + 1e-12), "seed {seed}: residual above tol");
        assert!(*res <= tol * (1.0 + 1e-12));
        let before = if m == 1 { energy } else { path[m - 2].2 };
        assert!(before > tol, "seed {seed}: {} atoms already met the tolerance", m - 1);
        assert_close(&code_row(&out, 0), &dense(20, support, coef), 1e-10, &format!("seed {seed}"));
        assert!(out.reports[0].converged);
    }
    // Nothing to do when ||x||^2 <= tol; both rules: the first one met wins.
    let x = faer::mat![[3.0, 4.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]];
    let out = encode(&Omp::with_tolerance(25.0), &dict, x.as_ref()).unwrap();
    assert_eq!(out.reports[0].n_nonzero, 0);
    let both = Omp { n_nonzero: Some(2), tolerance: Some(1e-9), nonneg: false };
    assert_eq!(encode(&both, &dict, x.as_ref()).unwrap().reports[0].n_nonzero, 2);
}

#[test]
fn default_budget_is_a_tenth_of_the_features() {
    let d = gaussian(40, 30, 3);
    let x = gaussian(1, 30, 4);
    let out = encode(&Omp::default(), &Dictionary::new(d).unwrap(), x.as_ref()).unwrap();
    assert_eq!(out.reports[0].n_nonzero, 3);
}

#[test]
fn codes_do_not_depend_on_the_thread_count() {
    let d = unit_rows(gaussian(48, 24, 21));
    let x = gaussian(600, 24, 22);
    let dict = Dictionary::new(d).unwrap();
    for omp in [Omp::with_n_nonzero(6), Omp::with_tolerance(2.0), Omp::with_n_nonzero(6).nonneg(true)] {
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            pool.install(|| encode(&omp, &dict, x.as_ref()).unwrap())
        };
        let (one, two) = (run(1), run(2));
        for i in 0..x.nrows() {
            for k in 0..dict.n_atoms() {
                assert_eq!(one.codes[(i, k)].to_bits(), two.codes[(i, k)].to_bits(), "{omp:?} at ({i}, {k})");
            }
        }
        assert_eq!(one.reports, two.reports);
    }
}

#[test]
fn nonneg_with_unbounded_budget_is_exact_nnls() {
    let all: Vec<usize> = (0..10).collect();
    let unbounded = Omp { n_nonzero: Some(10), tolerance: Some(0.0), nonneg: true };
    let (mut with_removals, mut unique) = (0, 0);
    for seed in 0..40 {
        let d = gaussian(10, 6, 300 + seed);
        let x = gaussian(1, 6, 400 + seed);
        let out = encode(&unbounded, &Dictionary::new(d.clone()).unwrap(), x.as_ref()).unwrap();
        let (code, res) = brute_force_nnls(&d, &row(&x, 0), &all);
        assert!((out.reports[0].residual_norm.powi(2) - res).abs() < 1e-10, "seed {seed}");
        assert!(code_row(&out, 0).iter().all(|&c| c >= 0.0));
        // With a non-zero residual the optimum is unique (general position);
        // with a zero one, x lies inside the cone and many codes fit.
        if res > 1e-9 {
            assert_close(&code_row(&out, 0), &code, 1e-9, &format!("seed {seed}"));
            unique += 1;
        }
        assert!(out.reports[0].converged);
        // n_iter counts selections and removals.
        with_removals += usize::from(out.reports[0].n_iter > out.reports[0].n_nonzero);
    }
    assert!(unique >= 10 && with_removals >= 5, "{unique} unique optima, {with_removals} with removals");
}

/// Greedy selection of the most positively correlated atom, each step
/// followed by NNLS on the atoms selected so far (enumerated).
fn reference_positive_greedy(d: &Mat<f64>, x: &[f64], k: usize) -> f64 {
    let mut selected = vec![];
    let mut code = vec![0.0; d.nrows()];
    let mut res = x.iter().map(|v| v * v).sum::<f64>();
    for _ in 0..k {
        let residual: Vec<f64> =
            (0..x.len()).map(|f| x[f] - (0..d.nrows()).map(|a| code[a] * d[(a, f)]).sum::<f64>()).collect();
        let best = (0..d.nrows())
            .filter(|a| !selected.contains(a))
            .map(|a| {
                let atom = row(d, a);
                (a, atom.iter().zip(&residual).map(|(p, q)| p * q).sum::<f64>() / norm(&atom))
            })
            .max_by(|p, q| p.1.total_cmp(&q.1));
        match best {
            Some((a, c)) if c > 1e-12 => selected.push(a),
            _ => break,
        }
        (code, res) = brute_force_nnls(d, x, &selected);
    }
    res
}

#[test]
fn nonneg_codes_are_nnls_on_their_support_and_beat_positive_greedy() {
    for seed in 0..30 {
        let d = gaussian(8, 6, 500 + seed);
        let x = gaussian(1, 6, 600 + seed);
        let xs = row(&x, 0);
        let dict = Dictionary::new(d.clone()).unwrap();
        for k in 1..=3 {
            let out = encode(&Omp::with_n_nonzero(k).nonneg(true), &dict, x.as_ref()).unwrap();
            let code = code_row(&out, 0);
            assert!(code.iter().all(|&c| c >= 0.0), "seed {seed}, k {k}: negative coefficient");
            let support: Vec<usize> = (0..8).filter(|&a| code[a] != 0.0).collect();
            assert!(support.len() <= k);
            let (on_support, _) = brute_force_nnls(&d, &xs, &support);
            assert_close(&code, &on_support, 1e-9, &format!("seed {seed}, k {k}"));
            let res = out.reports[0].residual_norm.powi(2);
            let greedy = reference_positive_greedy(&d, &xs, k);
            assert!(res <= greedy + 1e-10, "seed {seed}, k {k}: residual {res} above positive greedy {greedy}");
        }
    }
}

#[test]
fn dependent_atoms_stop_the_pursuit_at_the_rank() {
    // Five atoms in R^3, two of them copies: any 3 independent ones fit x.
    let d = faer::mat![[1.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.6, 0.8], [0.0, 0.6, 0.8], [0.0, 1.0, 0.0],];
    let x = faer::mat![[2.0, -1.0, 3.0], [0.0, 0.0, 0.0]];
    let dict = Dictionary::new(d).unwrap();
    let out = encode(&Omp::with_n_nonzero(5), &dict, x.as_ref()).unwrap();
    assert_eq!(out.reports[0].n_nonzero, 3);
    assert!(out.reports[0].residual_norm < 1e-12);
    assert_eq!(out.reports[1].n_nonzero, 0);
    let d32 = Mat::from_fn(5, 3, |i, j| dict.atoms()[(i, j)] as f32);
    let x32 = Mat::from_fn(2, 3, |i, j| x[(i, j)] as f32);
    let out32 = encode(&Omp::with_n_nonzero(5), &Dictionary::new(d32).unwrap(), x32.as_ref()).unwrap();
    assert_eq!(out32.reports[0].n_nonzero, 3);
    assert!(out32.reports[0].residual_norm < 1e-5);

    // Three atoms in a plane of R^3: after two, the residual (0, 0, 3) is
    // orthogonal to all of them, in f32 as well; the third is never taken.
    let s = std::f32::consts::FRAC_1_SQRT_2;
    let plane = Dictionary::new(faer::mat![[1.0f32, 0.0, 0.0], [0.0, 1.0, 0.0], [s, s, 0.0]]).unwrap();
    let out = encode(&Omp::with_n_nonzero(3), &plane, faer::mat![[1.0f32, 2.0, 3.0]].as_ref()).unwrap();
    assert_eq!(out.reports[0].n_nonzero, 2);
    assert!((out.reports[0].residual_norm - 3.0).abs() < 1e-5);
    let code: Vec<f32> = (0..3).map(|k| out.codes[(0, k)]).collect();
    assert!(code.iter().all(|c| c.abs() < 3.0), "{code:?}");
}

#[test]
fn bad_input_gives_the_right_error() {
    let dict = Dictionary::new(gaussian(4, 3, 1)).unwrap();
    let x = gaussian(2, 3, 2);
    match encode(&Omp::with_n_nonzero(5), &dict, x.as_ref()) {
        Err(e @ Error::Parameter { name: "n_nonzero", .. }) => assert!(e.to_string().contains("(4)"), "{e}"),
        other => panic!("n_nonzero > n_atoms gave {other:?}"),
    }
    assert!(matches!(
        encode(&Omp::with_n_nonzero(0), &dict, x.as_ref()),
        Err(Error::Parameter { name: "n_nonzero", .. })
    ));
    for tol in [-1.0, f64::NAN, f64::INFINITY] {
        let res = encode(&Omp::with_tolerance(tol), &dict, x.as_ref());
        assert!(matches!(res, Err(Error::Parameter { name: "tolerance", .. })), "tolerance {tol}: {res:?}");
    }
    let mut bad = x.clone();
    bad[(1, 2)] = f64::NAN;
    assert!(matches!(
        encode(&Omp::with_n_nonzero(1), &dict, bad.as_ref()),
        Err(Error::NonFinite { row: 1, col: 2, .. })
    ));
    assert!(matches!(encode(&Omp::with_n_nonzero(1), &dict, gaussian(2, 4, 3).as_ref()), Err(Error::Shape(_))));
    assert!(matches!(encode(&Omp::with_n_nonzero(1), &dict, Mat::<f64>::zeros(0, 3).as_ref()), Err(Error::Empty(_))));
    let mut zero_atom = gaussian(4, 3, 1);
    zero_atom.row_mut(2).fill(0.0);
    assert!(matches!(Dictionary::new(zero_atom), Err(Error::ZeroNormAtom { index: 2, .. })));
}
