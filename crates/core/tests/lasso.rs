//! Lasso / elastic-net encoders: optimality conditions, agreement between the
//! solvers, brute force on tiny problems, warm starts, screening, thresholding,
//! thread-count independence and input errors.

use faer::{Mat, MatRef};
use rand::Rng;
use rand_distr::{Distribution, StandardNormal};
use sparsecode::encode::cd::CoordinateDescent;
use sparsecode::encode::fista::Fista;
use sparsecode::encode::lars::Lars;
use sparsecode::encode::lasso::{duality_gap, kkt_violation, ElasticNet};
use sparsecode::encode::threshold::{Threshold, ThresholdKind};
use sparsecode::encode::{encode, encode_into, Encoder, Encoding, Start};
use sparsecode::{rng, Dictionary, Error, Float};

/// A unit-norm random dictionary and signals that are sparse combinations of
/// its atoms plus noise.
fn problem(seed: u64, n_samples: usize, n_features: usize, n_atoms: usize) -> (Dictionary<f64>, Mat<f64>) {
    let mut r = rng::seeded(seed);
    let atoms = Mat::from_fn(n_atoms, n_features, |_, _| StandardNormal.sample(&mut r));
    let dict = Dictionary::normalized(atoms).unwrap();
    let mut x = Mat::from_fn(n_samples, n_features, |_, _| 0.1 * Distribution::<f64>::sample(&StandardNormal, &mut r));
    for i in 0..n_samples {
        for _ in 0..5 {
            let k = r.random_range(0..n_atoms);
            let c: f64 = StandardNormal.sample(&mut r);
            for f in 0..n_features {
                x[(i, f)] += c * dict.atoms()[(k, f)];
            }
        }
    }
    (dict, x)
}

fn correlations<T: Float>(dict: &Dictionary<T>, x: MatRef<'_, T>, i: usize) -> (Vec<T>, T) {
    let dx = (0..dict.n_atoms())
        .map(|k| (0..dict.n_features()).fold(T::zero(), |s, f| s + dict.atoms()[(k, f)] * x[(i, f)]))
        .collect();
    let norm_sq = (0..x.ncols()).fold(T::zero(), |s, f| s + x[(i, f)] * x[(i, f)]);
    (dx, norm_sq)
}

fn row<T: Float>(m: &Mat<T>, i: usize) -> Vec<T> {
    (0..m.ncols()).map(|k| m[(i, k)]).collect()
}

fn max_abs(v: &[f64]) -> f64 {
    v.iter().fold(0.0, |m, &a| m.max(a.abs()))
}

fn penalties(lambda: f64) -> [(&'static str, ElasticNet); 3] {
    [
        ("lasso", ElasticNet::lasso(lambda)),
        ("elastic net", ElasticNet::lasso(lambda).with_l2(0.3)),
        ("nonneg", ElasticNet::lasso(lambda).nonneg(true)),
    ]
}

#[test]
fn lars_satisfies_the_kkt_conditions_and_closes_the_gap() {
    let (dict, x) = problem(1, 100, 40, 80);
    for (name, pen) in penalties(0.3).into_iter().chain(penalties(0.03)) {
        let out = encode(&Lars::new(pen), &dict, x.as_ref()).unwrap();
        let mut leaves = 0;
        for i in 0..x.nrows() {
            let (dx, norm_sq) = correlations(&dict, x.as_ref(), i);
            let z = row(&out.codes, i);
            let kkt = kkt_violation(&pen, dict.gram(), &dx, &z).unwrap();
            assert!(kkt <= 1e-8 * max_abs(&dx), "{name} {pen:?}, signal {i}: KKT violation {kkt:e}");
            let gap = duality_gap(&pen, dict.gram(), &dx, norm_sq, &z).unwrap();
            assert!(gap.abs() <= 1e-10 * norm_sq, "{name} {pen:?}, signal {i}: gap {gap:e}");
            let report = out.reports[i];
            assert!(report.converged, "{name} {pen:?}, signal {i}");
            if pen.nonneg {
                assert!(z.iter().all(|&v| v >= 0.0), "{name}, signal {i}: negative entry");
            }
            // n_iter counts entries and exits, and entries = nnz + exits.
            leaves += (report.n_iter - report.n_nonzero) / 2;
        }
        println!("{name} {pen:?}: {leaves} atoms left the active set");
        // At the small lambda the Lasso modification is exercised.
        if pen.lambda < 0.1 {
            assert!(leaves > 0, "{name}: no atom ever left the active set");
        }
    }
}

#[test]
fn duality_gap_is_never_negative_away_from_the_solution() {
    let (dict, x) = problem(2, 20, 40, 80);
    let mut r = rng::seeded(3);
    for (name, pen) in penalties(0.2) {
        for i in 0..x.nrows() {
            let (dx, norm_sq) = correlations(&dict, x.as_ref(), i);
            let z: Vec<f64> =
                (0..80).map(|_| if r.random_bool(0.1) { r.random_range(0.0..1.0) } else { 0.0 }).collect();
            let gap = duality_gap(&pen, dict.gram(), &dx, norm_sq, &z).unwrap();
            assert!(gap > 0.0, "{name}, signal {i}: gap {gap:e} at a random code");
        }
    }
}

fn check_iterative_solver<E: Encoder<f64>>(label: &str, solver: &E, pen: &ElasticNet, tol: f64) {
    let (dict, x) = problem(4, 100, 40, 80);
    let exact = encode(&Lars::new(*pen), &dict, x.as_ref()).unwrap();
    let out = encode(solver, &dict, x.as_ref()).unwrap();
    for i in 0..x.nrows() {
        let (dx, norm_sq) = correlations(&dict, x.as_ref(), i);
        let z = row(&out.codes, i);
        assert!(out.reports[i].converged, "{label}, signal {i}: not converged in {} iterations", out.reports[i].n_iter);
        let gap = duality_gap(pen, dict.gram(), &dx, norm_sq, &z).unwrap();
        assert!(gap <= tol * 0.5 * norm_sq * (1.0 + 1e-6), "{label}, signal {i}: gap {gap:e}");
        // The gap bounds the suboptimality; LARS is exact.
        let (objective, best) = (out.reports[i].objective, exact.reports[i].objective);
        assert!(
            (objective - best).abs() <= 1e-8 * best.max(1e-300),
            "{label}, signal {i}: objective {objective} vs LARS {best}"
        );
        let kkt = kkt_violation(pen, dict.gram(), &dx, &z).unwrap();
        // A small gap does not bound the KKT violation of a tiny coefficient on
        // the wrong side; observed worst case 2e-6 (FISTA), typical 1e-11.
        assert!(kkt <= 1e-5 * max_abs(&dx), "{label}, signal {i}: KKT violation {kkt:e}");
        let diff = z.iter().zip(row(&exact.codes, i)).fold(0.0f64, |m, (a, b)| m.max((a - b).abs()));
        assert!(diff <= 1e-3 * max_abs(&z).max(1e-3), "{label}, signal {i}: codes differ by {diff:e}");
        if pen.nonneg {
            assert!(z.iter().all(|&v| v >= 0.0), "{label}, signal {i}: negative entry");
        }
    }
}

#[test]
fn coordinate_descent_matches_lars() {
    for (name, pen) in penalties(0.3) {
        let cd = CoordinateDescent::new(pen).with_tol(1e-11);
        check_iterative_solver(&format!("CD {name}"), &cd, &pen, 1e-11);
    }
}

#[test]
fn fista_matches_lars() {
    for (name, pen) in penalties(0.3) {
        let fista = Fista::new(pen).with_tol(1e-11).with_max_iter(20_000);
        check_iterative_solver(&format!("FISTA {name}"), &fista, &pen, 1e-11);
    }
}

/// The global optimum of a tiny problem by enumerating every support and sign
/// pattern and solving the stationarity conditions `(G + l2 I)_SS z_S = (D x)_S - lambda s`.
fn brute_force(dict: &Dictionary<f64>, dx: &[f64], norm_sq: f64, pen: &ElasticNet) -> (Vec<f64>, f64) {
    let n = dict.n_atoms();
    let g = dict.gram();
    let objective = |z: &[f64]| {
        let zgz: f64 = (0..n).map(|a| (0..n).map(|b| z[a] * g[(a, b)] * z[b]).sum::<f64>()).sum();
        let zdx: f64 = z.iter().zip(dx).map(|(a, b)| a * b).sum();
        0.5 * (norm_sq - 2.0 * zdx + zgz) + pen.value(z)
    };
    let mut best = (vec![0.0; n], objective(&vec![0.0; n]));
    for support in 1u32..(1 << n) {
        let s: Vec<usize> = (0..n).filter(|k| support & (1 << k) != 0).collect();
        for signs in 0u32..(1 << s.len()) {
            let sign = |a: usize| if signs & (1 << a) != 0 { -1.0 } else { 1.0 };
            if pen.nonneg && signs != 0 {
                continue;
            }
            let m = s.len();
            let a = Mat::from_fn(m, m, |r, c| g[(s[r], s[c])] + if r == c { pen.l2 } else { 0.0 });
            let b = Mat::from_fn(m, 1, |r, _| dx[s[r]] - pen.lambda * sign(r));
            let lu = a.partial_piv_lu();
            let sol = faer::linalg::solvers::Solve::solve(&lu, &b);
            if !(0..m).all(|r| sol[(r, 0)].is_finite() && sol[(r, 0)] * sign(r) > 0.0) {
                continue;
            }
            let mut z = vec![0.0; n];
            for r in 0..m {
                z[s[r]] = sol[(r, 0)];
            }
            // Skip (near-)singular systems: the solution must reproduce the right-hand side.
            let residual = (0..m)
                .map(|r| ((0..m).map(|c| a[(r, c)] * sol[(c, 0)]).sum::<f64>() - b[(r, 0)]).abs())
                .fold(0.0, f64::max);
            let value = objective(&z);
            if residual < 1e-9 && value < best.1 {
                best = (z, value);
            }
        }
    }
    best
}

#[test]
fn every_solver_finds_the_brute_force_optimum_of_tiny_problems() {
    for seed in 0..6u64 {
        let (dict, x) = problem(10 + seed, 5, 3, 4);
        for (name, pen) in penalties(0.15) {
            let lars = encode(&Lars::new(pen), &dict, x.as_ref()).unwrap();
            let cd = encode(&CoordinateDescent::new(pen).with_tol(1e-13), &dict, x.as_ref()).unwrap();
            let fista = encode(&Fista::new(pen).with_tol(1e-13).with_max_iter(100_000), &dict, x.as_ref()).unwrap();
            for i in 0..x.nrows() {
                let (dx, norm_sq) = correlations(&dict, x.as_ref(), i);
                let (z_best, best) = brute_force(&dict, &dx, norm_sq, &pen);
                for (solver, out) in [("LARS", &lars), ("CD", &cd), ("FISTA", &fista)] {
                    let objective = out.reports[i].objective;
                    assert!(
                        (objective - best).abs() <= 1e-9 * best.max(1e-12),
                        "{solver} {name}, seed {seed}, signal {i}: objective {objective} vs brute force {best}"
                    );
                    // 3 features, 4 atoms: the Lasso solution is unique here
                    // (general position), so the codes match too.
                    let z = row(&out.codes, i);
                    let diff = z.iter().zip(&z_best).fold(0.0f64, |m, (a, b)| m.max((a - b).abs()));
                    assert!(diff < 1e-4, "{solver} {name}, seed {seed}, signal {i}: {z:?} vs {z_best:?}");
                }
            }
        }
    }
}

#[test]
fn coordinate_descent_warm_started_at_the_solution_stops_after_one_sweep() {
    let (dict, x) = problem(5, 50, 40, 80);
    for (name, pen) in penalties(0.3) {
        let mut codes = encode(&Lars::new(pen), &dict, x.as_ref()).unwrap().codes;
        let solution = codes.clone();
        for screening in [true, false] {
            codes.copy_from(&solution);
            let cd = CoordinateDescent::new(pen).with_screening(screening);
            let reports = encode_into(&cd, &dict, x.as_ref(), codes.as_mut(), Start::Warm).unwrap();
            for (i, r) in reports.iter().enumerate() {
                assert_eq!((r.n_iter, r.converged), (1, true), "{name}, screening {screening}, signal {i}");
            }
            let diff = (&codes - &solution).norm_max();
            assert!(diff < 1e-9, "{name}: one sweep moved the solution by {diff:e}");
        }
        // From zero it takes several sweeps.
        let cold = encode(&CoordinateDescent::new(pen), &dict, x.as_ref()).unwrap();
        assert!(cold.reports.iter().map(|r| r.n_iter).sum::<usize>() > 2 * x.nrows());
    }
}

#[test]
fn warm_start_from_a_far_point_still_converges() {
    let (dict, x) = problem(6, 30, 40, 80);
    let pen = ElasticNet::lasso(0.3).nonneg(true);
    let exact = encode(&Lars::new(pen), &dict, x.as_ref()).unwrap();
    // A start with many wrong non-zeros, some negative (infeasible).
    let start = Mat::from_fn(30, 80, |i, k| if (i + k) % 7 == 0 { (k as f64 - 40.0) / 40.0 } else { 0.0 });
    for solver in ["CD", "FISTA"] {
        let mut codes = start.clone();
        let reports = match solver {
            "CD" => encode_into(
                &CoordinateDescent::new(pen).with_tol(1e-12),
                &dict,
                x.as_ref(),
                codes.as_mut(),
                Start::Warm,
            ),
            _ => encode_into(
                &Fista::new(pen).with_tol(1e-12).with_max_iter(20_000),
                &dict,
                x.as_ref(),
                codes.as_mut(),
                Start::Warm,
            ),
        }
        .unwrap();
        for (i, r) in reports.iter().enumerate() {
            let best = exact.reports[i].objective;
            assert!(r.converged && (r.objective - best).abs() <= 1e-8 * best, "{solver}, signal {i}: {r:?} vs {best}");
        }
    }
}

#[test]
fn screening_does_not_change_the_solution() {
    let (dict, x) = problem(7, 100, 40, 80);
    for (name, pen) in penalties(0.4) {
        let on = encode(&CoordinateDescent::new(pen).with_tol(1e-13), &dict, x.as_ref()).unwrap();
        let off =
            encode(&CoordinateDescent::new(pen).with_tol(1e-13).with_screening(false), &dict, x.as_ref()).unwrap();
        for i in 0..x.nrows() {
            let (a, b) = (row(&on.codes, i), row(&off.codes, i));
            // Same support, same values.
            for k in 0..80 {
                assert!((a[k] - b[k]).abs() < 1e-5, "{name}, signal {i}, atom {k}: {} vs {}", a[k], b[k]);
                let exact_zero = |v: f64| v == 0.0;
                if (a[k] - b[k]).abs() > 0.0 && (exact_zero(a[k]) != exact_zero(b[k])) {
                    assert!(a[k].abs().max(b[k].abs()) < 1e-6, "{name}, signal {i}, atom {k}: support differs");
                }
            }
            let (oa, ob) = (on.reports[i].objective, off.reports[i].objective);
            assert!((oa - ob).abs() <= 1e-10 * oa, "{name}, signal {i}: objective {oa} vs {ob}");
        }
    }
}

#[test]
fn thresholding_matches_a_direct_loop() {
    let (dict, x) = problem(8, 40, 40, 80);
    let cases = [
        Threshold::soft(0.5),
        Threshold::soft(0.5).nonneg(true),
        Threshold::hard(0.8),
        Threshold::hard(0.8).nonneg(true),
    ];
    for t in cases {
        let out = encode(&t, &dict, x.as_ref()).unwrap();
        for i in 0..x.nrows() {
            let (dx, _) = correlations(&dict, x.as_ref(), i);
            for (k, &c) in dx.iter().enumerate() {
                let expected = match t.kind {
                    ThresholdKind::Soft { lambda } => {
                        let v = c.signum() * (c.abs() - lambda).max(0.0);
                        if t.nonneg {
                            v.max(0.0)
                        } else {
                            v
                        }
                    }
                    ThresholdKind::Hard { threshold } => {
                        let keep = if t.nonneg { c >= threshold } else { c.abs() >= threshold };
                        if keep {
                            c
                        } else {
                            0.0
                        }
                    }
                };
                let got = out.codes[(i, k)];
                assert!(
                    (got - expected).abs() <= 1e-12 * c.abs().max(1.0),
                    "{t:?}, signal {i}, atom {k}: {got} vs {expected}"
                );
            }
        }
    }
}

fn with_threads<R: Send>(n: usize, f: impl FnOnce() -> R + Send) -> R {
    rayon::ThreadPoolBuilder::new().num_threads(n).build().unwrap().install(f)
}

#[test]
fn codes_do_not_depend_on_the_number_of_threads() {
    // More than one block of 256 signals so that blocks run in parallel.
    let (dict, x) = problem(9, 600, 20, 40);
    let pen = ElasticNet::lasso(0.2).with_l2(0.05);
    let run = |threads: usize| -> Vec<Encoding<f64>> {
        with_threads(threads, || {
            let dict = dict.clone();
            vec![
                encode(&Lars::new(pen), &dict, x.as_ref()).unwrap(),
                encode(&CoordinateDescent::new(pen), &dict, x.as_ref()).unwrap(),
                encode(&Fista::new(pen), &dict, x.as_ref()).unwrap(),
                encode(&Threshold::soft(0.2), &dict, x.as_ref()).unwrap(),
            ]
        })
    };
    let (one, two) = (run(1), run(2));
    for (a, b) in one.iter().zip(&two) {
        assert!(a.codes == b.codes, "codes differ between 1 and 2 threads");
        assert_eq!(a.reports, b.reports);
    }
}

#[test]
fn single_precision_solvers_reach_the_same_solution() {
    let (dict, x) = problem(11, 30, 40, 80);
    let dict32 = Dictionary::new(Mat::from_fn(80, 40, |i, j| dict.atoms()[(i, j)] as f32)).unwrap();
    let x32 = Mat::from_fn(30, 40, |i, j| x[(i, j)] as f32);
    let pen = ElasticNet::lasso(0.3);
    let exact = encode(&Lars::new(pen), &dict, x.as_ref()).unwrap();
    let outs = [
        ("LARS", encode(&Lars::new(pen), &dict32, x32.as_ref()).unwrap()),
        ("CD", encode(&CoordinateDescent::new(pen), &dict32, x32.as_ref()).unwrap()),
        ("FISTA", encode(&Fista::new(pen), &dict32, x32.as_ref()).unwrap()),
    ];
    for (name, out) in outs {
        for i in 0..30 {
            let (dx, _) = correlations(&dict32, x32.as_ref(), i);
            let kkt = kkt_violation(&pen, dict32.gram(), &dx, &row(&out.codes, i)).unwrap();
            let scale = dx.iter().fold(0.0f64, |m, &v| m.max(v.abs() as f64));
            assert!(kkt <= 1e-3 * scale, "{name} f32, signal {i}: KKT violation {kkt:e}");
            let (o, best) = (out.reports[i].objective, exact.reports[i].objective);
            assert!((o - best).abs() <= 1e-4 * best, "{name} f32, signal {i}: objective {o} vs {best}");
        }
    }
}

#[test]
fn lambda_above_the_largest_correlation_gives_zero_codes() {
    let (dict, x) = problem(12, 10, 40, 80);
    let lambda_max = (0..10).map(|i| max_abs(&correlations(&dict, x.as_ref(), i).0)).fold(0.0, f64::max);
    let pen = ElasticNet::lasso(lambda_max * 1.0001);
    for out in [
        encode(&Lars::new(pen), &dict, x.as_ref()).unwrap(),
        encode(&CoordinateDescent::new(pen), &dict, x.as_ref()).unwrap(),
        encode(&Fista::new(pen), &dict, x.as_ref()).unwrap(),
    ] {
        assert_eq!(out.codes.norm_max(), 0.0);
        assert!(out.reports.iter().all(|r| r.converged && r.n_nonzero == 0));
    }
}

#[test]
fn zero_lambda_solves_least_squares() {
    // Undercomplete: a unique least-squares solution, D x = G z.
    let (dict, x) = problem(13, 10, 20, 8);
    let pen = ElasticNet::lasso(0.0);
    for (name, out) in [
        ("LARS", encode(&Lars::new(pen), &dict, x.as_ref()).unwrap()),
        ("CD", encode(&CoordinateDescent::new(pen).with_tol(1e-12), &dict, x.as_ref()).unwrap()),
        ("FISTA", encode(&Fista::new(pen).with_tol(1e-12).with_max_iter(50_000), &dict, x.as_ref()).unwrap()),
    ] {
        for i in 0..10 {
            let (dx, _) = correlations(&dict, x.as_ref(), i);
            let kkt = kkt_violation(&pen, dict.gram(), &dx, &row(&out.codes, i)).unwrap();
            assert!(
                out.reports[i].converged && kkt <= 1e-9 * max_abs(&dx),
                "{name}, signal {i}: {kkt:e} {:?} {:?}",
                out.reports[i],
                row(&out.codes, i)
            );
        }
    }
}

#[test]
fn bad_input_gives_errors_naming_the_problem() {
    let (dict, x) = problem(14, 4, 6, 8);
    let negative = ElasticNet::lasso(-1.5);
    let errors = [
        encode(&Lars::new(negative), &dict, x.as_ref()).unwrap_err(),
        encode(&CoordinateDescent::new(negative), &dict, x.as_ref()).unwrap_err(),
        encode(&Fista::new(negative), &dict, x.as_ref()).unwrap_err(),
        encode(&Threshold::soft(-1.5), &dict, x.as_ref()).unwrap_err(),
    ];
    for err in errors {
        assert_eq!(err, Error::parameter("lambda", -1.5, "must be finite and >= 0"));
        assert!(err.to_string().contains("lambda = -1.5"), "{err}");
    }
    let l2 = encode(&Lars::new(ElasticNet::lasso(1.0).with_l2(f64::INFINITY)), &dict, x.as_ref()).unwrap_err();
    assert!(matches!(l2, Error::Parameter { name: "l2", .. }), "{l2}");
    let tol = encode(&CoordinateDescent::new(ElasticNet::lasso(1.0)).with_tol(0.0), &dict, x.as_ref()).unwrap_err();
    assert!(matches!(tol, Error::Parameter { name: "tol", .. }), "{tol}");
    let iters = encode(&Fista::new(ElasticNet::lasso(1.0)).with_max_iter(0), &dict, x.as_ref()).unwrap_err();
    assert!(matches!(iters, Error::Parameter { name: "max_iter", .. }), "{iters}");
    let hard = encode(&Threshold::hard(f64::NAN), &dict, x.as_ref()).unwrap_err();
    assert!(matches!(hard, Error::Parameter { name: "threshold", .. }), "{hard}");
    let cap = encode(&Lars::new(ElasticNet::lasso(1.0)).with_max_nonzero(0), &dict, x.as_ref()).unwrap_err();
    assert!(matches!(cap, Error::Parameter { name: "max_nonzero", .. }), "{cap}");

    let mut nan = x.clone();
    nan[(2, 3)] = f64::NAN;
    let err = encode(&CoordinateDescent::new(ElasticNet::lasso(0.1)), &dict, nan.as_ref()).unwrap_err();
    assert!(matches!(err, Error::NonFinite { row: 2, col: 3, .. }), "{err}");

    let wide = Mat::<f64>::zeros(4, 7);
    let err = encode(&Lars::new(ElasticNet::lasso(0.1)), &dict, wide.as_ref()).unwrap_err();
    assert!(matches!(err, Error::Shape(_)), "{err}");
    let mut codes = Mat::<f64>::zeros(4, 5);
    let err =
        encode_into(&Fista::new(ElasticNet::lasso(0.1)), &dict, x.as_ref(), codes.as_mut(), Start::Warm).unwrap_err();
    assert!(matches!(err, Error::Shape(_)), "{err}");
    let (dx, norm_sq) = correlations(&dict, x.as_ref(), 0);
    assert!(matches!(duality_gap(&ElasticNet::lasso(0.1), dict.gram(), &dx[..3], norm_sq, &dx), Err(Error::Shape(_))));
}

#[test]
fn lars_skips_an_atom_that_duplicates_an_active_one() {
    let (dict, x) = problem(15, 20, 10, 12);
    // Atom 12 is a copy of atom 3: G[A, A] would be singular with both active.
    let atoms = Mat::from_fn(13, 10, |i, j| dict.atoms()[(if i == 12 { 3 } else { i }, j)]);
    let dup = Dictionary::new(atoms).unwrap();
    let pen = ElasticNet::lasso(0.05);
    let out = encode(&Lars::new(pen), &dup, x.as_ref()).unwrap();
    let reference = encode(&Lars::new(pen), &dict, x.as_ref()).unwrap();
    for i in 0..x.nrows() {
        let (dx, _) = correlations(&dup, x.as_ref(), i);
        let z = row(&out.codes, i);
        let kkt = kkt_violation(&pen, dup.gram(), &dx, &z).unwrap();
        assert!(out.reports[i].converged && kkt <= 1e-8 * max_abs(&dx), "signal {i}: KKT violation {kkt:e}");
        let (o, best) = (out.reports[i].objective, reference.reports[i].objective);
        assert!((o - best).abs() <= 1e-10 * best, "signal {i}: objective {o} vs {best} without the copy");
    }
}

#[test]
fn lars_with_zero_lambda_and_max_nonzero_gives_k_atoms() {
    // scikit-learn's `lars` with n_nonzero_coefs: the path stopped at k atoms.
    let (dict, x) = problem(16, 20, 30, 60);
    for k in [1, 4, 7] {
        let out = encode(&Lars::new(ElasticNet::lasso(0.0)).with_max_nonzero(k), &dict, x.as_ref()).unwrap();
        for i in 0..x.nrows() {
            let (dx, _) = correlations(&dict, x.as_ref(), i);
            let z = row(&out.codes, i);
            assert_eq!(out.reports[i].n_nonzero, k, "signal {i}");
            // The code is the Lasso solution at the level lambda_t where the path
            // stopped: every active correlation has modulus lambda_t, every other
            // at most lambda_t.
            let mut gz = vec![0.0; 60];
            for (a, &c) in z.iter().enumerate() {
                for (b, g) in gz.iter_mut().enumerate() {
                    *g += c * dict.gram()[(a, b)];
                }
            }
            let corr: Vec<f64> = dx.iter().zip(&gz).map(|(d, g)| d - g).collect();
            let level = (0..60).filter(|&a| z[a] != 0.0).map(|a| corr[a].abs()).fold(0.0, f64::max);
            let stopped = ElasticNet::lasso(level);
            let kkt = kkt_violation(&stopped, dict.gram(), &dx, &z).unwrap();
            assert!(kkt <= 1e-9 * max_abs(&dx), "k = {k}, signal {i}: KKT violation {kkt:e} at lambda_t = {level}");
        }
    }
}
