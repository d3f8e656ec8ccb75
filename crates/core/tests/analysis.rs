//! Tests of `sparsecode::analysis`: closed forms, brute-force reference loops,
//! planted structure, and real data from `shared/data` when it is present.

use faer::{Mat, MatRef};
use rand::Rng;
use rand_distr::{Distribution, Exp1, StandardNormal};
use sparsecode::analysis::differencing::{
    causal_box_difference, centered_box_difference, first_difference, lagged_difference, Sign,
};
use sparsecode::analysis::measures::{
    excess_kurtosis, gini, hoyer, kurtosis, l0_count, l1_norm, lifetime_sparsity, measure_lines, population_sparsity,
    Measure,
};
use sparsecode::analysis::nd::NdView;
use sparsecode::analysis::nonlinear::{hard_threshold, keep_top_fraction, relu, soft_threshold, Nonlinearity};
use sparsecode::analysis::pca::Pca;
use sparsecode::analysis::report::{knee_index, pca_error_curve};
use sparsecode::analysis::Axis;
use sparsecode::{rng::seeded, Error};

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data");

fn gaussian(n: usize, seed: u64) -> Vec<f64> {
    let mut rng = seeded(seed);
    (0..n).map(|_| StandardNormal.sample(&mut rng)).collect()
}

fn laplace(n: usize, seed: u64) -> Vec<f64> {
    let mut rng = seeded(seed);
    (0..n)
        .map(|_| {
            let e: f64 = Exp1.sample(&mut rng);
            if rng.random::<bool>() {
                e
            } else {
                -e
            }
        })
        .collect()
}

fn gaussian_matrix(r: usize, c: usize, seed: u64) -> Mat<f64> {
    let v = gaussian(r * c, seed);
    Mat::from_fn(r, c, |i, j| v[i * c + j])
}

fn max_abs_diff(a: MatRef<'_, f64>, b: MatRef<'_, f64>) -> f64 {
    assert_eq!((a.nrows(), a.ncols()), (b.nrows(), b.ncols()));
    let mut m = 0.0f64;
    for j in 0..a.ncols() {
        for i in 0..a.nrows() {
            m = m.max((a[(i, j)] - b[(i, j)]).abs());
        }
    }
    m
}

// ---------------------------------------------------------------- measures

#[test]
fn kurtosis_of_gaussian_is_3_and_of_laplace_is_6() {
    let g = gaussian(1_000_000, 1);
    let k = kurtosis(&g).unwrap();
    assert!((k - 3.0).abs() < 0.1, "gaussian kurtosis {k}");
    assert_eq!(excess_kurtosis(&g).unwrap(), k - 3.0);
    let l = laplace(1_000_000, 2);
    let k = kurtosis(&l).unwrap();
    assert!((k - 6.0).abs() < 0.3, "laplace kurtosis {k}");
    assert_eq!(excess_kurtosis(&l).unwrap(), k - 3.0);
    // f32 data accumulate in f64: same value up to the rounding of the data.
    let g32: Vec<f32> = g.iter().map(|&v| v as f32).collect();
    assert!((kurtosis(&g32).unwrap() - kurtosis(&g).unwrap()).abs() < 1e-5);
}

#[test]
fn kurtosis_closed_forms() {
    // Bernoulli(p) with p = 1/4 (one 1 among four): kurtosis
    // (1 - 3p(1-p)) / (p(1-p)) = (1 - 9/16) / (3/16) = 7/3. Shift and scale
    // invariant.
    for x in [[0.0, 0.0, 0.0, 1.0], [5.0, 5.0, 5.0, -15.0]] {
        assert!((kurtosis(&x).unwrap() - 7.0 / 3.0).abs() < 1e-12);
    }
    // Two-point symmetric: kurtosis 1, the minimum possible.
    assert!((kurtosis(&[-2.0, 2.0, -2.0, 2.0]).unwrap() - 1.0).abs() < 1e-12);
    // Constant vector: documented NaN, for every constant value.
    assert!(kurtosis(&[0.1f64; 7]).unwrap().is_nan());
    assert!(excess_kurtosis(&[3.0f32; 2]).unwrap().is_nan());
}

#[test]
fn hoyer_and_gini_closed_forms() {
    for n in [2usize, 5, 64] {
        let mut one_hot = vec![0.0; n];
        one_hot[n / 2] = -3.5;
        assert!((hoyer(&one_hot).unwrap() - 1.0).abs() < 1e-12);
        assert!((gini(&one_hot).unwrap() - (1.0 - 1.0 / n as f64)).abs() < 1e-12);
        let constant: Vec<f64> = (0..n).map(|i| if i % 2 == 0 { 0.7 } else { -0.7 }).collect();
        assert!(hoyer(&constant).unwrap().abs() < 1e-12);
        assert!(gini(&constant).unwrap().abs() < 1e-12);
        // |x| = 1, 2, ..., n in scrambled order and signs: Gini = (n - 1) / (3n).
        let ramp: Vec<f64> = (0..n).map(|i| ((i * 7) % n + 1) as f64 * if i % 3 == 0 { -1.0 } else { 1.0 }).collect();
        let expected = (n as f64 - 1.0) / (3.0 * n as f64);
        assert!((gini(&ramp).unwrap() - expected).abs() < 1e-12, "n {n}");
    }
    // Two equal non-zeros among four: Hoyer (2 - 2/sqrt 2) / (2 - 1) = 2 - sqrt 2.
    assert!((hoyer(&[0.0, 1.0, 0.0, 1.0]).unwrap() - (2.0 - 2f64.sqrt())).abs() < 1e-12);
    // Undefined cases are NaN, as documented.
    assert!(hoyer(&[0.0; 4]).unwrap().is_nan());
    assert!(hoyer(&[2.0]).unwrap().is_nan());
    assert!(gini(&[0.0f32; 3]).unwrap().is_nan());
}

#[test]
fn l0_and_l1_by_hand() {
    let x = [0.0, -1e-8, 2.5, -3.0, 1e-3, 0.0];
    assert_eq!(l0_count(&x, 0.0).unwrap(), 4);
    assert_eq!(l0_count(&x, 1e-6).unwrap(), 3);
    assert_eq!(l0_count(&x, 2.5).unwrap(), 1);
    assert!((l1_norm(&x).unwrap() - 5.50100001).abs() < 1e-12);
    assert!(matches!(l0_count(&x, f64::NAN), Err(Error::Parameter { name: "tolerance", .. })));
}

#[test]
fn measures_along_rows_and_columns_match_the_slice_functions() {
    let m = gaussian_matrix(7, 5, 3);
    for measure in [Measure::L0 { tolerance: 0.5 }, Measure::L1, Measure::Kurtosis, Measure::Hoyer, Measure::Gini] {
        let rows = measure_lines(m.as_ref(), Axis::Rows, measure).unwrap();
        let cols = measure_lines(m.as_ref(), Axis::Columns, measure).unwrap();
        assert_eq!(rows.len(), 7);
        assert_eq!(cols.len(), 5);
        for (i, r) in rows.iter().enumerate() {
            let row: Vec<f64> = m.row(i).iter().copied().collect();
            assert_eq!(*r, measure.of(&row).unwrap());
        }
        for (j, c) in cols.iter().enumerate() {
            assert_eq!(*c, measure.of(m.col(j).try_as_col_major().unwrap().as_slice()).unwrap());
        }
    }
}

#[test]
fn population_and_lifetime_sparsity_of_a_constructed_code() {
    // 4 times x 3 units. Unit 0 fires once (lifetime Hoyer 1), unit 1 fires
    // equally at all times (lifetime Hoyer 0), unit 2 never fires (NaN).
    // At time 0 two units fire equally (population Hoyer of [4, 4, 0]); at
    // times 1..3 only unit 1 fires (population Hoyer 1).
    let codes = faer::mat![[4.0, 4.0, 0.0], [0.0, -4.0, 0.0], [0.0, 4.0, 0.0], [0.0, 4.0, 0.0]];
    let life = lifetime_sparsity(codes.as_ref(), Measure::Hoyer).unwrap();
    assert!((life[0] - 1.0).abs() < 1e-12 && life[1].abs() < 1e-12 && life[2].is_nan(), "{life:?}");
    let pop = population_sparsity(codes.as_ref(), Measure::Hoyer).unwrap();
    let s3 = 3f64.sqrt();
    let two_of_three = (s3 - 2.0 / 2f64.sqrt()) / (s3 - 1.0);
    assert!((pop[0] - two_of_three).abs() < 1e-12);
    assert!(pop[1..].iter().all(|p| (p - 1.0).abs() < 1e-12), "{pop:?}");
    // l0 counts: active units per time, active times per unit.
    assert_eq!(population_sparsity(codes.as_ref(), Measure::L0 { tolerance: 0.0 }).unwrap(), vec![2.0, 1.0, 1.0, 1.0]);
    assert_eq!(lifetime_sparsity(codes.as_ref(), Measure::L0 { tolerance: 0.0 }).unwrap(), vec![1.0, 4.0, 0.0]);
}

// ----------------------------------------------------------- nonlinearities

#[test]
fn nonlinearities_match_reference_loops() {
    let x = gaussian(1001, 4);
    let r = relu(&x, 0.3).unwrap();
    let s = soft_threshold(&x, 0.3).unwrap();
    let h = hard_threshold(&x, 0.3).unwrap();
    for i in 0..x.len() {
        let v = x[i];
        assert_eq!(r[i], if v > 0.3 { v - 0.3 } else { 0.0 });
        let soft = if v > 0.3 {
            v - 0.3
        } else if v < -0.3 {
            v + 0.3
        } else {
            0.0
        };
        assert_eq!(s[i], soft);
        assert_eq!(h[i], if v.abs() >= 0.3 { v } else { 0.0 });
    }
    // Hard threshold keeps a value exactly at the threshold.
    assert_eq!(hard_threshold(&[0.5, -0.5, 0.4999], 0.5).unwrap(), vec![0.5, -0.5, 0.0]);
    // Top fraction: ceil(0.1 * 1001) = 101 largest magnitudes, by a full sort.
    let t = keep_top_fraction(&x, 0.1).unwrap();
    let mut mags: Vec<f64> = x.iter().map(|v| v.abs()).collect();
    mags.sort_by(|a, b| b.total_cmp(a));
    let cutoff = mags[100];
    assert_eq!(t.iter().filter(|v| **v != 0.0).count(), 101);
    for i in 0..x.len() {
        assert_eq!(t[i], if x[i].abs() >= cutoff { x[i] } else { 0.0 });
    }
    // Ties go to the lower index; fractions 0 and 1.
    assert_eq!(keep_top_fraction(&[1.0, -2.0, 2.0, 2.0], 0.5).unwrap(), vec![0.0, -2.0, 2.0, 0.0]);
    assert_eq!(keep_top_fraction(&[1.0, -2.0], 0.0).unwrap(), vec![0.0, 0.0]);
    assert_eq!(keep_top_fraction(&[1.0, -2.0], 1.0).unwrap(), vec![1.0, -2.0]);
}

#[test]
fn nonlinearities_reject_bad_input_and_leave_it_untouched() {
    assert!(matches!(soft_threshold(&[1.0], -0.1), Err(Error::Parameter { name: "threshold", .. })));
    assert!(matches!(keep_top_fraction(&[1.0], 1.5), Err(Error::Parameter { name: "fraction", .. })));
    assert!(matches!(relu(&[1.0], f64::INFINITY), Err(Error::Parameter { name: "theta", .. })));
    let mut x = [1.0, 2.0, f64::NAN, 4.0];
    let err = Nonlinearity::Relu { theta: 0.0 }.apply_in_place(&mut x);
    assert!(matches!(err, Err(Error::NonFinite { row: 2, .. })));
    assert_eq!(x[..2], [1.0, 2.0]);
}

// -------------------------------------------------------------- differencing

#[test]
fn differencing_matches_reference_loops() {
    let m = gaussian_matrix(23, 17, 5);
    let (n, f) = (m.nrows(), m.ncols());
    // Along columns (time in rows): lagged, causal box.
    for lag in [1, 3, 22] {
        let d = lagged_difference(m.as_ref(), Axis::Columns, lag, Sign::Absolute).unwrap();
        let reference = Mat::from_fn(n - lag, f, |t, j| (m[(t + lag, j)] - m[(t, j)]).abs());
        assert_eq!(max_abs_diff(d.as_ref(), reference.as_ref()), 0.0);
    }
    for window in [1, 4, 22] {
        let d = causal_box_difference(m.as_ref(), Axis::Columns, window, Sign::Signed).unwrap();
        let reference = Mat::from_fn(n - window, f, |i, j| {
            let t = i + window;
            let mean = (t - window..t).map(|s| m[(s, j)]).sum::<f64>() / window as f64;
            m[(t, j)] - mean
        });
        assert!(max_abs_diff(d.as_ref(), reference.as_ref()) < 1e-12);
    }
    // Window 1 is the first difference.
    let d1 = causal_box_difference(m.as_ref(), Axis::Columns, 1, Sign::Signed).unwrap();
    let fd = first_difference(m.as_ref(), Axis::Columns).unwrap();
    assert!(max_abs_diff(d1.as_ref(), fd.as_ref()) < 1e-15);
    // Along rows (an image's rows): centred box, and first differences.
    for radius in [1, 2, 8] {
        let d = centered_box_difference(m.as_ref(), Axis::Rows, radius, Sign::Absolute).unwrap();
        let width = 2 * radius + 1;
        let reference = Mat::from_fn(n, f - 2 * radius, |i, k| {
            let c = k + radius;
            let mean = (k..k + width).map(|s| m[(i, s)]).sum::<f64>() / width as f64;
            (m[(i, c)] - mean).abs()
        });
        assert!(max_abs_diff(d.as_ref(), reference.as_ref()) < 1e-12);
        // Along columns it is the same operator on the transpose.
        let dc = centered_box_difference(m.transpose(), Axis::Columns, radius, Sign::Absolute).unwrap();
        assert!(max_abs_diff(dc.transpose(), d.as_ref()) < 1e-15);
    }
    let fd = first_difference(m.as_ref(), Axis::Rows).unwrap();
    assert_eq!(max_abs_diff(fd.as_ref(), Mat::from_fn(n, f - 1, |i, j| m[(i, j + 1)] - m[(i, j)]).as_ref()), 0.0);
}

#[test]
fn differencing_rejects_windows_that_do_not_fit() {
    let m = gaussian_matrix(5, 9, 6);
    let e = lagged_difference(m.as_ref(), Axis::Columns, 5, Sign::Signed).unwrap_err();
    assert!(matches!(e, Error::Parameter { name: "lag", .. }), "{e}");
    assert!(e.to_string().contains("only 5"), "{e}");
    assert!(matches!(lagged_difference(m.as_ref(), Axis::Rows, 0, Sign::Signed), Err(Error::Parameter { .. })));
    assert!(matches!(causal_box_difference(m.as_ref(), Axis::Rows, 9, Sign::Signed), Err(Error::Parameter { .. })));
    assert!(causal_box_difference(m.as_ref(), Axis::Rows, 8, Sign::Signed).is_ok());
    assert!(matches!(
        centered_box_difference(m.as_ref(), Axis::Columns, 3, Sign::Signed),
        Err(Error::Parameter { .. })
    ));
    assert!(centered_box_difference(m.as_ref(), Axis::Columns, 2, Sign::Signed).is_ok());
    let mut bad = m.clone();
    bad[(3, 4)] = f64::NAN;
    assert!(matches!(first_difference(bad.as_ref(), Axis::Rows), Err(Error::NonFinite { row: 3, col: 4, .. })));
    let empty = Mat::<f64>::zeros(0, 3);
    assert!(matches!(first_difference(empty.as_ref(), Axis::Rows), Err(Error::Empty(_))));
}

#[test]
fn video_differences_along_each_axis_match_reference_loops() {
    let (t, h, w) = (6, 5, 7);
    let data = gaussian(t * h * w, 7);
    let at = |a: usize, b: usize, c: usize| data[(a * h + b) * w + c];
    let shape = [t, h, w];
    let video = NdView::new(&data, &shape).unwrap();
    let temporal = video.map_axis(0, |m| lagged_difference(m, Axis::Columns, 2, Sign::Absolute)).unwrap();
    assert_eq!(temporal.shape, vec![t - 2, h, w]);
    let spatial_y = video.map_axis(1, |m| centered_box_difference(m, Axis::Columns, 1, Sign::Signed)).unwrap();
    assert_eq!(spatial_y.shape, vec![t, h - 2, w]);
    let spatial_x = video.map_axis(2, |m| centered_box_difference(m, Axis::Columns, 2, Sign::Signed)).unwrap();
    assert_eq!(spatial_x.shape, vec![t, h, w - 4]);
    for a in 0..t {
        for b in 0..h {
            for c in 0..w {
                if a + 2 < t {
                    let v = temporal.data[(a * h + b) * w + c];
                    assert_eq!(v, (at(a + 2, b, c) - at(a, b, c)).abs());
                }
                if b >= 1 && b + 1 < h {
                    let mean = (at(a, b - 1, c) + at(a, b, c) + at(a, b + 1, c)) / 3.0;
                    let v = spatial_y.data[(a * (h - 2) + b - 1) * w + c];
                    assert!((v - (at(a, b, c) - mean)).abs() < 1e-12);
                }
                if c >= 2 && c + 2 < w {
                    let mean = (c - 2..=c + 2).map(|s| at(a, b, s)).sum::<f64>() / 5.0;
                    let v = spatial_x.data[(a * h + b) * (w - 4) + c - 2];
                    assert!((v - (at(a, b, c) - mean)).abs() < 1e-12);
                }
            }
        }
    }
    // Kurtosis of every pixel's time course: shape (h, w), same as the loop.
    let k = video.measure_axis(0, Measure::Kurtosis).unwrap();
    assert_eq!(k.shape, vec![h, w]);
    let lane: Vec<f64> = (0..t).map(|a| at(a, 3, 4)).collect();
    assert_eq!(k.data[3 * w + 4], kurtosis(&lane).unwrap());
    // A lane operation with the wrong number of columns is an error.
    let e = video.map_axis(1, |m| Ok(Mat::zeros(2, m.ncols() + 1))).unwrap_err();
    assert!(matches!(e, Error::Shape(_)));
}

// -------------------------------------------------------------------- PCA

#[test]
fn pca_matches_the_covariance_eigendecomposition() {
    // Anisotropic data: Gaussian times a fixed mixing, plus an offset.
    let (n, f) = (200, 6);
    let z = gaussian_matrix(n, f, 8);
    let mix = gaussian_matrix(f, f, 9);
    let mut x = Mat::zeros(n, f);
    sparsecode::linalg::gemm(x.as_mut(), faer::Accum::Replace, z.as_ref(), mix.as_ref(), faer::Par::Seq);
    for i in 0..n {
        for j in 0..f {
            x[(i, j)] += j as f64 - 2.0;
        }
    }
    let pca = Pca::fit(x.as_ref(), None).unwrap();
    // Components orthonormal.
    let c = pca.components();
    let cct = sparsecode::linalg::gram(c);
    assert!(max_abs_diff(cct.as_ref(), Mat::<f64>::identity(f, f).as_ref()) < 1e-12);
    // Explained variances are the eigenvalues of the sample covariance.
    let mean: Vec<f64> = (0..f).map(|j| (0..n).map(|i| x[(i, j)]).sum::<f64>() / n as f64).collect();
    let xc = Mat::from_fn(n, f, |i, j| x[(i, j)] - mean[j]);
    let cov = Mat::from_fn(f, f, |a, b| (0..n).map(|i| xc[(i, a)] * xc[(i, b)]).sum::<f64>() / (n - 1) as f64);
    let mut eig = cov.as_ref().self_adjoint_eigenvalues(faer::Side::Lower).unwrap();
    eig.sort_by(|a, b| b.total_cmp(a));
    let total: f64 = eig.iter().sum();
    for k in 0..f {
        assert!((pca.explained_variance()[k] - eig[k]).abs() < 1e-10 * eig[0]);
        assert!((pca.explained_variance_ratio()[k] - eig[k] / total).abs() < 1e-12);
        let s = pca.singular_values()[k];
        assert!((s * s / (n - 1) as f64 - pca.explained_variance()[k]).abs() < 1e-10 * eig[0]);
        // Each component is an eigenvector: C cov = lambda C.
        let row = c.row(k);
        for j in 0..f {
            let cv: f64 = (0..f).map(|a| row[a] * cov[(a, j)]).sum();
            assert!((cv - eig[k] * row[j]).abs() < 1e-9 * eig[0]);
        }
    }
    // Scores are uncorrelated with variances = explained variances.
    let scores = pca.transform(x.as_ref()).unwrap();
    for a in 0..f {
        for b in 0..f {
            let cov_ab = (0..n).map(|i| scores[(i, a)] * scores[(i, b)]).sum::<f64>() / (n - 1) as f64;
            let expected = if a == b { eig[a] } else { 0.0 };
            assert!((cov_ab - expected).abs() < 1e-9 * eig[0]);
        }
    }
    // All components: exact reconstruction.
    let back = pca.inverse_transform(scores.as_ref()).unwrap();
    assert!(max_abs_diff(back.as_ref(), x.as_ref()) < 1e-10);
    // Top-k reconstruction error^2 = (n - 1) * sum of the dropped variances.
    let curve = pca_error_curve(x.as_ref(), f).unwrap();
    let norm_sq: f64 = (0..n).flat_map(|i| (0..f).map(move |j| (i, j))).map(|(i, j)| x[(i, j)] * x[(i, j)]).sum();
    for k in 1..=f {
        let dropped: f64 = eig[k..].iter().sum::<f64>() * (n - 1) as f64;
        assert!((curve.relative_error[k - 1] - (dropped / norm_sq).sqrt()).abs() < 1e-7, "k {k}");
        let rec = pca.reconstruct(x.as_ref(), k).unwrap();
        let err: f64 =
            (0..n).flat_map(|i| (0..f).map(move |j| (i, j))).map(|(i, j)| (rec[(i, j)] - x[(i, j)]).powi(2)).sum();
        assert!((err.sqrt() / norm_sq.sqrt() - curve.relative_error[k - 1]).abs() < 1e-10);
    }
}

#[test]
fn pca_rejects_bad_input() {
    let x = gaussian_matrix(4, 3, 10);
    assert!(matches!(Pca::fit(x.as_ref(), Some(4)), Err(Error::Parameter { name: "n_components", .. })));
    assert!(matches!(Pca::fit(x.as_ref(), Some(0)), Err(Error::Parameter { name: "n_components", .. })));
    assert!(matches!(Pca::fit(x.as_ref().subrows(0, 1), None), Err(Error::Parameter { name: "n_samples", .. })));
    let pca = Pca::fit(x.as_ref(), Some(2)).unwrap();
    assert!(matches!(pca.transform(gaussian_matrix(2, 4, 11).as_ref()), Err(Error::Shape(_))));
    assert!(matches!(pca.inverse_transform(Mat::zeros(2, 3).as_ref()), Err(Error::Parameter { name: "k", .. })));
    // Constant data: zero variance, undefined ratio.
    let constant = Mat::from_fn(5, 2, |_, j| j as f64);
    let pca = Pca::fit(constant.as_ref(), None).unwrap();
    assert!(pca.explained_variance().iter().all(|&v| v == 0.0));
    assert!(pca.explained_variance_ratio().iter().all(|v| v.is_nan()));
}

// --------------------------------------------------------------------- knee

#[test]
fn knee_of_a_piecewise_linear_curve_is_its_corner() {
    // Steep drop to k = 4, then a gentle slope: the corner is at index 3.
    let x: Vec<f64> = (1..=12).map(f64::from).collect();
    let y: Vec<f64> =
        x.iter().map(|&k| if k <= 4.0 { 10.0 - 2.0 * (k - 1.0) } else { 4.0 - 0.1 * (k - 4.0) }).collect();
    assert_eq!(knee_index(&x, &y).unwrap(), 3);
    // A straight line has no knee: index 0.
    assert_eq!(knee_index(&x, &x).unwrap(), 0);
    assert!(matches!(knee_index(&[1.0, 2.0], &[1.0, 0.0]), Err(Error::Parameter { .. })));
    assert!(matches!(knee_index(&[1.0, 2.0, 3.0], &[1.0, 0.0]), Err(Error::Shape(_))));
}

// ---------------------------------------------------------------- real data

fn data_file(relative: &str) -> Option<std::path::PathBuf> {
    let path = std::path::Path::new(DATA).join(relative);
    if path.exists() {
        Some(path)
    } else {
        println!("skipping: {} is absent", path.display());
        None
    }
}

#[test]
fn real_video_temporal_differences_are_sparser_than_frames() {
    let Some(path) = data_file("video/bulk_water_32x256x256.npy") else { return };
    let video: ndarray::Array3<u8> = ndarray_npy::read_npy(path).unwrap();
    let shape = video.shape().to_vec();
    let data: Vec<f64> = video.iter().map(|&v| f64::from(v)).collect();
    let view = NdView::new(&data, &shape).unwrap();
    let diff = view.map_axis(0, |m| lagged_difference(m, Axis::Columns, 1, Sign::Signed)).unwrap();
    // Reference loop on a few pixels.
    let (h, w) = (shape[1], shape[2]);
    for (t, y, x) in [(0, 0, 0), (5, 100, 200), (30, 255, 255)] {
        let expected = data[((t + 1) * h + y) * w + x] - data[(t * h + y) * w + x];
        assert_eq!(diff.data[(t * h + y) * w + x], expected);
    }
    let k_frames = kurtosis(&data).unwrap();
    let k_diff = kurtosis(&diff.data).unwrap();
    let g_frames = gini(&data).unwrap();
    let g_diff = gini(&diff.data).unwrap();
    println!("bulk_water: kurtosis frames {k_frames:.3}, temporal differences {k_diff:.3}; gini {g_frames:.3} -> {g_diff:.3}");
    assert!(k_diff > k_frames + 1.0);
    assert!(g_diff > g_frames);
}

#[test]
fn real_ecg_first_differences_are_sparser_than_the_signal() {
    let Some(path) = data_file("signals/ecg_mitbih208.npy") else { return };
    let ecg: ndarray::Array1<f64> = ndarray_npy::read_npy(path).unwrap();
    let x = ecg.to_vec();
    let m = MatRef::from_column_major_slice(&x, x.len(), 1);
    let d = first_difference(m, Axis::Columns).unwrap();
    let d = d.col(0).try_as_col_major().unwrap().as_slice().to_vec();
    let (k_x, k_d) = (kurtosis(&x).unwrap(), kurtosis(&d).unwrap());
    let (h_x, h_d) = (hoyer(&x).unwrap(), hoyer(&d).unwrap());
    println!("ecg: kurtosis {k_x:.3} -> {k_d:.3}, hoyer {h_x:.3} -> {h_d:.3}");
    assert!(k_d > k_x);
    assert!(h_d > h_x);
}

// ------------------------------------------------------- PCA versus OMP

#[test]
fn omp_curve_finds_the_planted_sparsity_and_beats_pca() {
    use sparsecode::analysis::report::{compare_pca_and_omp, omp_error_curve};
    use sparsecode::encode::{encode, omp::Omp};
    use sparsecode::Dictionary;
    let (n_atoms, n_features, n_samples, planted) = (96, 64, 150, 3);
    let dict = Dictionary::normalized(gaussian_matrix(n_atoms, n_features, 12)).unwrap();
    let mut rng = seeded(13);
    let mut codes = Mat::<f64>::zeros(n_samples, n_atoms);
    for i in 0..n_samples {
        let mut chosen = Vec::new();
        while chosen.len() < planted {
            let a = rng.random_range(0..n_atoms);
            if !chosen.contains(&a) {
                chosen.push(a);
                let sign = if rng.random::<bool>() { 1.0 } else { -1.0 };
                codes[(i, a)] = sign * rng.random_range(1.0..2.0);
            }
        }
    }
    let x = sparsecode::linalg::reconstruct(codes.as_ref(), dict.atoms());
    let cmp = compare_pca_and_omp(x.as_ref(), &dict, 8).unwrap();
    let omp = &cmp.omp;
    assert_eq!(omp.n_active, (1..=8).collect::<Vec<_>>());
    assert!(omp.relative_error.windows(2).all(|w| w[1] <= w[0] + 1e-12), "{:?}", omp.relative_error);
    assert!(omp.relative_error[1] > 0.1, "two atoms cannot fit three: {:?}", omp.relative_error);
    assert!(omp.relative_error[2] < 1e-8, "{:?}", omp.relative_error);
    assert_eq!(cmp.omp_knee, Some(planted));
    // PCA needs far more than 3 components for 3-sparse data over 96 atoms.
    assert_eq!(cmp.pca.n_active.len(), 8);
    assert!(cmp.pca.relative_error[2] > 0.5, "{:?}", cmp.pca.relative_error);
    // The curve is the Frobenius error of the codes the encoder returns.
    let coded = encode(&Omp::with_n_nonzero(2), &dict, x.as_ref()).unwrap();
    let rec = sparsecode::linalg::reconstruct(coded.codes.as_ref(), dict.atoms());
    let err: f64 = (0..n_samples)
        .flat_map(|i| (0..n_features).map(move |j| (i, j)))
        .map(|(i, j)| (rec[(i, j)] - x[(i, j)]).powi(2))
        .sum();
    let norm: f64 =
        (0..n_samples).flat_map(|i| (0..n_features).map(move |j| (i, j))).map(|(i, j)| x[(i, j)].powi(2)).sum();
    assert!((omp.relative_error[1] - (err / norm).sqrt()).abs() < 1e-10);
    // Bad requests.
    assert!(matches!(omp_error_curve(x.as_ref(), &dict, 0), Err(Error::Parameter { .. })));
    assert!(omp_error_curve(x.as_ref(), &dict, n_atoms + 1).is_err());
    assert!(matches!(omp_error_curve(Mat::<f64>::zeros(2, n_features).as_ref(), &dict, 2), Err(Error::Invalid(_))));
    assert!(matches!(omp_error_curve(Mat::<f64>::zeros(2, 5).as_ref(), &dict, 2), Err(Error::Shape(_))));
}

#[test]
fn summary_agrees_with_each_measure() {
    use sparsecode::analysis::measures::summarize;
    let x: Vec<f32> = laplace(501, 14).iter().map(|&v| v as f32).collect();
    let s = summarize(&x, 0.5).unwrap();
    assert_eq!(s.len, 501);
    assert_eq!(s.l0, l0_count(&x, 0.5).unwrap());
    assert_eq!(s.l1, l1_norm(&x).unwrap());
    assert_eq!(s.kurtosis, kurtosis(&x).unwrap());
    assert_eq!(s.excess_kurtosis, excess_kurtosis(&x).unwrap());
    assert_eq!(s.hoyer, hoyer(&x).unwrap());
    assert_eq!(s.gini, gini(&x).unwrap());
    assert!(matches!(summarize::<f64>(&[], 0.0), Err(Error::Empty(_))));
}

#[test]
fn f32_pca_and_differencing_agree_with_f64() {
    let x64 = gaussian_matrix(50, 5, 15);
    let x32 = Mat::from_fn(50, 5, |i, j| x64[(i, j)] as f32);
    let (p64, p32) = (Pca::fit(x64.as_ref(), None).unwrap(), Pca::fit(x32.as_ref(), None).unwrap());
    for k in 0..5 {
        let rel = (f64::from(p32.explained_variance()[k]) - p64.explained_variance()[k]) / p64.explained_variance()[0];
        assert!(rel.abs() < 1e-4, "component {k}: {rel}");
        // Same sign convention, so the components agree entrywise.
        for j in 0..5 {
            assert!((f64::from(p32.components()[(k, j)]) - p64.components()[(k, j)]).abs() < 1e-3);
        }
    }
    let back = p32.inverse_transform(p32.transform(x32.as_ref()).unwrap().as_ref()).unwrap();
    for i in 0..50 {
        for j in 0..5 {
            assert!((back[(i, j)] - x32[(i, j)]).abs() < 1e-4);
        }
    }
    let d64 = causal_box_difference(x64.as_ref(), Axis::Columns, 7, Sign::Absolute).unwrap();
    let d32 = causal_box_difference(x32.as_ref(), Axis::Columns, 7, Sign::Absolute).unwrap();
    for i in 0..d64.nrows() {
        for j in 0..5 {
            assert!((f64::from(d32[(i, j)]) - d64[(i, j)]).abs() < 1e-5);
        }
    }
}
