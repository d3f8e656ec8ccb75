//! `sparsecode encode` end to end: planted codes come back, closed forms hold,
//! bad input fails cleanly and leaves nothing behind.

use ndarray::{Array2, ArrayView2};
use ndarray_npy::{read_npy, write_npy};
use std::path::Path;
use std::process::{Command, Output};

fn sparsecode(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sparsecode")).args(args).current_dir(dir).output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}

/// A deterministic value in [-1, 1) from an index (a small LCG).
fn noise(k: usize) -> f64 {
    let v = (k as u64).wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407) >> 11;
    (v % 2_000_000) as f64 / 1_000_000.0 - 1.0
}

/// `n_atoms x n_features` with unit-norm, generic (incoherent) rows.
fn dictionary(n_atoms: usize, n_features: usize) -> Array2<f64> {
    let mut d = Array2::from_shape_fn((n_atoms, n_features), |(i, j)| noise(i * 977 + j * 31 + 5));
    for mut row in d.rows_mut() {
        let norm = row.dot(&row).sqrt();
        row /= norm;
    }
    d
}

/// Codes with `k` non-zeros per row, magnitudes in [1, 2), on spread supports.
fn planted_codes(n_samples: usize, n_atoms: usize, k: usize) -> Array2<f64> {
    let mut z = Array2::zeros((n_samples, n_atoms));
    for i in 0..n_samples {
        for s in 0..k {
            let atom = (i * 7 + s * (n_atoms / k + 1)) % n_atoms;
            let magnitude = 1.5 + 0.5 * noise(i * 13 + s);
            z[(i, atom)] = if noise(i * 17 + s * 3) < 0.0 { -magnitude } else { magnitude };
        }
    }
    z
}

fn max_abs_diff(a: ArrayView2<'_, f64>, b: ArrayView2<'_, f64>) -> f64 {
    assert_eq!(a.dim(), b.dim());
    a.iter().zip(b.iter()).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max)
}

#[test]
fn omp_recovers_planted_codes_and_reports_them() {
    let dir = tempfile::tempdir().unwrap();
    let d = dictionary(10, 12);
    let z = planted_codes(40, 10, 2);
    write_npy(dir.path().join("D.npy"), &d).unwrap();
    write_npy(dir.path().join("X.npy"), &z.dot(&d)).unwrap();
    let out = sparsecode(
        &["encode", "--dict", "D.npy", "--input", "X.npy", "--n-nonzero", "2", "--out", "Z.npy", "--report", "r.json"],
        dir.path(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let codes: Array2<f64> = read_npy(dir.path().join("Z.npy")).unwrap();
    assert!(max_abs_diff(codes.view(), z.view()) < 1e-10, "{codes}");
    let summary = text(&out.stdout);
    assert!(summary.contains("encoded 40 signals with omp (f64)") && summary.contains("mean nnz 2.00"), "{summary}");

    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.path().join("r.json")).unwrap()).unwrap();
    assert_eq!(report["method"], "omp");
    assert_eq!((report["n_samples"].as_u64(), report["n_atoms"].as_u64()), (Some(40), Some(10)));
    assert_eq!(report["summary"]["mean_n_nonzero"], 2.0);
    assert!(report["summary"]["mean_relative_residual"].as_f64().unwrap() < 1e-12);
    let nnz = report["signals"]["n_nonzero"].as_array().unwrap();
    assert_eq!(nnz.len(), 40);
    assert!(nnz.iter().all(|v| v == 2));
    let residuals = report["signals"]["residual_norm"].as_array().unwrap();
    assert!(residuals.iter().all(|r| r.as_f64().unwrap() < 1e-10));
}

#[test]
fn float32_input_is_coded_in_float32_and_chunks_cover_every_row() {
    let dir = tempfile::tempdir().unwrap();
    // More rows than one chunk of the driver loop (4096), so the loop runs twice.
    let (n_samples, n_atoms, n_features) = (4100, 6, 8);
    let d = dictionary(n_atoms, n_features);
    let z = planted_codes(n_samples, n_atoms, 1);
    let x = z.dot(&d);
    write_npy(dir.path().join("D.npy"), &d.mapv(|v| v as f32)).unwrap();
    write_npy(dir.path().join("X.npy"), &x.mapv(|v| v as f32)).unwrap();
    let out = sparsecode(
        &["--quiet", "encode", "--dict", "D.npy", "--input", "X.npy", "--n-nonzero", "1", "--out", "Z.npy"],
        dir.path(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty(), "--quiet hides the summary");
    let codes: Array2<f32> = read_npy(dir.path().join("Z.npy")).unwrap();
    let codes = codes.mapv(f64::from);
    assert!(max_abs_diff(codes.view(), z.view()) < 1e-4);
    assert!(max_abs_diff(codes.slice(ndarray::s![4096.., ..]), z.slice(ndarray::s![4096.., ..])) < 1e-4);

    // --dtype f64 forces double precision on the same float32 files.
    let out = sparsecode(
        &["encode", "--dict", "D.npy", "--input", "X.npy", "--n-nonzero", "1", "--dtype", "f64", "--out", "Z64.npy"],
        dir.path(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let codes64: Array2<f64> = read_npy(dir.path().join("Z64.npy")).unwrap();
    assert!(max_abs_diff(codes64.view(), z.view()) < 1e-5);
}

/// Over an orthonormal dictionary every Lasso solver gives soft thresholding
/// of the correlations, and thresholding gives it (or its hard variant) directly.
#[test]
fn lasso_methods_give_soft_thresholding_over_an_orthonormal_dictionary() {
    let dir = tempfile::tempdir().unwrap();
    // A rotation of R^3: orthonormal rows.
    let (c, s) = (0.6, 0.8);
    let d = ndarray::array![[c, s, 0.0], [-s, c, 0.0], [0.0, 0.0, 1.0]];
    let correlations = ndarray::array![[2.0, -0.3, -1.2], [0.5, 0.9, 3.0]];
    let x = correlations.dot(&d);
    write_npy(dir.path().join("D.npy"), &d).unwrap();
    write_npy(dir.path().join("X.npy"), &x).unwrap();
    let lambda = 0.7;
    let soft = correlations.mapv(|v: f64| v.signum() * (v.abs() - lambda).max(0.0));
    let hard = correlations.mapv(|v: f64| if v.abs() >= lambda { v } else { 0.0 });
    let nonneg = correlations.mapv(|v: f64| (v - lambda).max(0.0));
    let cases: [(&[&str], &Array2<f64>); 6] = [
        (&["--method", "lars", "--lambda", "0.7"], &soft),
        (&["--method", "cd", "--lambda", "0.7", "--tol", "1e-12"], &soft),
        (&["--method", "fista", "--lambda", "0.7", "--tol", "1e-12", "--max-iter", "5000"], &soft),
        (&["--method", "threshold", "--lambda", "0.7"], &soft),
        (&["--method", "threshold", "--threshold", "0.7"], &hard),
        (&["--method", "cd", "--lambda", "0.7", "--nonneg", "--tol", "1e-12"], &nonneg),
    ];
    for (flags, expected) in cases {
        let mut args = vec!["encode", "--dict", "D.npy", "--input", "X.npy", "--out", "Z.npy"];
        args.extend_from_slice(flags);
        let out = sparsecode(&args, dir.path());
        assert!(out.status.success(), "{flags:?}: {}", text(&out.stderr));
        let codes: Array2<f64> = read_npy(dir.path().join("Z.npy")).unwrap();
        assert!(max_abs_diff(codes.view(), expected.view()) < 1e-8, "{flags:?}: {codes} vs {expected}");
    }

    // The elastic net divides the soft threshold by 1 + l2.
    let out = sparsecode(
        &[
            "encode", "--dict", "D.npy", "--input", "X.npy", "--out", "Z.npy", "--method", "lars", "--lambda", "0.7",
            "--l2", "1",
        ],
        dir.path(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let codes: Array2<f64> = read_npy(dir.path().join("Z.npy")).unwrap();
    assert!(max_abs_diff(codes.view(), soft.mapv(|v| v / 2.0).view()) < 1e-10);
}

/// Runs a failing command and checks its one-line message, then that the
/// directory holds exactly the files it held before.
fn assert_fails_cleanly(dir: &Path, args: &[&str], needles: &[&str]) {
    let before = entries(dir);
    let out = sparsecode(args, dir);
    assert_eq!(out.status.code(), Some(1), "{args:?} should fail");
    let err = text(&out.stderr);
    assert!(err.starts_with("error: "), "{args:?}: {err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
    for needle in needles {
        assert!(err.contains(needle), "{args:?}: {err:?} lacks {needle:?}");
    }
    assert_eq!(entries(dir), before, "{args:?} left files behind");
}

#[test]
fn bad_input_fails_with_a_clear_message_and_no_output() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    write_npy(p.join("D.npy"), &dictionary(5, 4)).unwrap();
    write_npy(p.join("X.npy"), &Array2::from_shape_fn((3, 4), |(i, j)| noise(i * 4 + j))).unwrap();
    write_npy(p.join("X5.npy"), &Array2::<f64>::ones((3, 5))).unwrap();
    write_npy(p.join("text.npy"), &ndarray::array![[1u8, 2]]).unwrap();
    std::fs::write(p.join("complex.npy"), complex_npy()).unwrap();
    let mut bad_x = Array2::<f64>::ones((2, 4));
    bad_x[(1, 2)] = f64::NAN;
    write_npy(p.join("nan.npy"), &bad_x).unwrap();
    let base = |rest: &[&'static str]| {
        let mut v = vec!["encode", "--dict", "D.npy", "--input", "X.npy", "--out", "Z.npy"];
        v.extend_from_slice(rest);
        v
    };

    assert_fails_cleanly(p, &["encode", "--dict", "nope.npy", "--input", "X.npy", "--out", "Z.npy"], &["nope.npy"]);
    assert_fails_cleanly(
        p,
        &["encode", "--dict", "D.npy", "--input", "complex.npy", "--out", "Z.npy"],
        &["complex.npy", "unsupported dtype"],
    );
    assert_fails_cleanly(
        p,
        &["encode", "--dict", "D.npy", "--input", "X5.npy", "--out", "Z.npy"],
        &["X5.npy", "5 features", "D.npy", "have 4"],
    );
    assert_fails_cleanly(p, &base(&["--n-nonzero", "6"]), &["n_nonzero", "6"]);
    assert_fails_cleanly(p, &["encode", "--dict", "D.npy", "--input", "X.npy", "--out", "X.npy"], &["also an input"]);
    assert_fails_cleanly(p, &["encode", "--dict", "D.npy", "--input", "X.npy", "--out", "./D.npy"], &["also an input"]);
    assert_fails_cleanly(p, &base(&["--report", "Z.npy"]), &["same file"]);
    assert_fails_cleanly(
        p,
        &["encode", "--dict", "D.npy", "--input", "nan.npy", "--out", "Z.npy"],
        &["non-finite", "NaN", "row 1, column 2"],
    );
    assert_fails_cleanly(p, &base(&["--method", "cd"]), &["needs --lambda"]);
    assert_fails_cleanly(p, &base(&["--lambda", "0.1"]), &["--lambda does not apply to --method omp"]);
    assert_fails_cleanly(p, &base(&["--method", "cd", "--lambda", "-1"]), &["lambda", "-1"]);
    assert_fails_cleanly(p, &base(&["--method", "threshold", "--lambda", "1", "--threshold", "1"]), &["not both"]);
    assert_fails_cleanly(
        p,
        &["encode", "--dict", "D.npy", "--input", "X.npy", "--out", "no/such/dir/Z.npy"],
        &["does not exist"],
    );
    // Integer input is fine: its values are taken as they are (2 features here, so a shape error).
    assert_fails_cleanly(p, &["encode", "--dict", "D.npy", "--input", "text.npy", "--out", "Z.npy"], &["2 features"]);
}

/// A valid `.npy` of dtype complex64, which no command takes.
fn complex_npy() -> Vec<u8> {
    let header = format!("{:<117}\n", "{'descr': '<c8', 'fortran_order': False, 'shape': (1, 4), }");
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend_from_slice(&(header.len() as u16).to_le_bytes());
    bytes.extend_from_slice(header.as_bytes());
    bytes.extend_from_slice(&[0u8; 32]);
    bytes
}

/// Real handwritten digits (scikit-learn's `load_digits`, 8 x 8 images as
/// rows of 64): with the first 100 digits, normalised, as the dictionary, each
/// of those digits is coded by its own atom alone, and the residual of the
/// other digits shrinks as OMP may use more atoms.
#[test]
fn real_digits_are_coded_by_their_own_atom() {
    let data = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/digits/digits_images.npy"));
    if !data.exists() {
        println!("skipped: {} is absent", data.display());
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let images: ndarray::Array3<f64> = read_npy(data).unwrap();
    let x = images.into_shape_with_order((1797, 64)).unwrap();
    let mut d = x.slice(ndarray::s![..100, ..]).to_owned();
    for mut row in d.rows_mut() {
        let norm = row.dot(&row).sqrt();
        row /= norm;
    }
    write_npy(dir.path().join("D.npy"), &d).unwrap();
    write_npy(dir.path().join("X.npy"), &x).unwrap();
    let mut previous = f64::INFINITY;
    for k in ["1", "4", "16"] {
        let report = format!("r{k}.json");
        let args =
            ["encode", "--dict", "D.npy", "--input", "X.npy", "--n-nonzero", k, "--out", "Z.npy", "--report", &report];
        let out = sparsecode(&args, dir.path());
        assert!(out.status.success(), "{}", text(&out.stderr));
        let report: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.path().join(&report)).unwrap()).unwrap();
        let relative = report["signals"]["relative_residual"].as_array().unwrap();
        let nnz = report["signals"]["n_nonzero"].as_array().unwrap();
        for i in 0..100 {
            assert!(relative[i].as_f64().unwrap() < 1e-12, "k = {k}: digit {i} is atom {i}");
            assert_eq!(nnz[i], 1, "k = {k}: digit {i} needs no other atom");
        }
        let rest: f64 = relative[100..].iter().map(|r| r.as_f64().unwrap()).sum::<f64>() / 1697.0;
        assert!(rest < previous, "k = {k}: mean relative residual {rest} did not shrink from {previous}");
        previous = rest;
    }
    assert!(previous < 0.25, "16 atoms explain most of a digit: {previous}");
}

#[test]
fn a_learned_model_serves_as_the_dictionary() {
    let dir = tempfile::tempdir().unwrap();
    let d = dictionary(6, 5);
    let z = planted_codes(9, 6, 1);
    let mut npz = ndarray_npy::NpzWriter::new(std::fs::File::create(dir.path().join("model.npz")).unwrap());
    npz.add_array("components", &d).unwrap();
    npz.add_array("objective", &ndarray::array![3.0, 2.0]).unwrap();
    npz.finish().unwrap();
    write_npy(dir.path().join("X.npy"), &z.dot(&d)).unwrap();
    let out = sparsecode(
        &["encode", "--dict", "model.npz", "--input", "X.npy", "--n-nonzero", "1", "--out", "Z.npy"],
        dir.path(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let codes: Array2<f64> = read_npy(dir.path().join("Z.npy")).unwrap();
    assert!(max_abs_diff(codes.view(), z.view()) < 1e-10);
}
