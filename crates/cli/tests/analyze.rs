//! End-to-end tests of `sparsecode analyze`: the report folder of a signal
//! and of a video, checked against the core library, and input errors.

use serde_json::Value;
use sparsecode::analysis::measures::{gini, hoyer, kurtosis};
use std::path::Path;
use std::process::Command;

fn analyze(input: &Path, out: &Path, extra: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_sparsecode"))
        .arg("--quiet")
        .arg("analyze")
        .arg(input)
        .arg("--out")
        .arg(out)
        .args(["--n-patches", "300", "--iterations", "3", "--max-nonzero", "6", "--bins", "20"])
        .args(extra)
        .output()
        .unwrap()
}

fn read_report(out: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap()
}

fn variant<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["variants"].as_array().unwrap().iter().find(|v| v["name"] == name).unwrap_or_else(|| panic!("no {name}"))
}

fn assert_png(path: &Path) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "{}", path.display());
}

fn close(a: &Value, b: f64) -> bool {
    (a.as_f64().unwrap() - b).abs() <= 1e-9 * b.abs().max(1.0)
}

/// Sparse spikes on a slow oscillation, deterministic.
fn signal(n: usize) -> Vec<f64> {
    (0..n).map(|t| (t as f64 * 0.05).sin() + if t % 37 == 5 { 3.0 } else { 0.0 }).collect()
}

#[test]
fn signal_report_holds_the_core_measures_and_figures() {
    let dir = tempfile::tempdir().unwrap();
    let x = signal(2000);
    let input = dir.path().join("x.npy");
    ndarray_npy::write_npy(&input, &ndarray::Array1::from(x.clone())).unwrap();
    let out = dir.path().join("report");
    let run = analyze(&input, &out, &["--delay", "3", "--window", "4"]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let report = read_report(&out);
    assert_eq!(report["input"]["kind"], "signal");
    assert_eq!(report["input"]["shape"], serde_json::json!([2000]));

    let input_measures = &variant(&report, "input")["measures"];
    assert!(close(&input_measures["kurtosis"], kurtosis(&x).unwrap()));
    assert!(close(&input_measures["hoyer"], hoyer(&x).unwrap()));
    assert!(close(&input_measures["gini"], gini(&x).unwrap()));
    assert!(close(&input_measures["excess_kurtosis"], kurtosis(&x).unwrap() - 3.0));
    let diff: Vec<f64> = x.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(close(&variant(&report, "first_difference")["measures"]["kurtosis"], kurtosis(&diff).unwrap()));
    let lag3: Vec<f64> = (0..x.len() - 3).map(|t| (x[t + 3] - x[t]).abs()).collect();
    let lagged = variant(&report, "temporal_abs_difference");
    assert_eq!(lagged["shape"], serde_json::json!([1997]));
    assert!(close(&lagged["measures"]["l1"], lag3.iter().sum()));
    assert_eq!(variant(&report, "causal_box_difference")["shape"], serde_json::json!([1996]));
    // Top 10 %: exactly 200 non-zeros (the values are distinct).
    assert_eq!(variant(&report, "top_fraction")["measures"]["l0"], 200);

    let cmp = &report["pca_vs_omp"];
    let omp: Vec<f64> = cmp["omp"]["relative_error"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
    assert_eq!(omp.len(), 6);
    assert!(omp.windows(2).all(|w| w[1] <= w[0] + 1e-12), "{omp:?}");
    let knee = cmp["omp_knee"].as_u64().unwrap();
    assert!((1..=6).contains(&knee));
    assert_eq!(cmp["patch_len"], 32);
    for v in report["variants"].as_array().unwrap() {
        assert_png(&out.join(v["histogram"].as_str().unwrap()));
    }
    for f in report["figures"].as_array().unwrap() {
        assert_png(&out.join(f.as_str().unwrap()));
    }
}

#[test]
fn video_report_has_the_shapes_of_each_operation() {
    let dir = tempfile::tempdir().unwrap();
    let (t, h, w) = (6, 20, 20);
    let video = ndarray::Array3::from_shape_fn((t, h, w), |(a, b, c)| ((a * 7 + b * b + c * 3) % 250) as u8);
    let input = dir.path().join("v.npy");
    ndarray_npy::write_npy(&input, &video).unwrap();
    let out = dir.path().join("report");
    let run = analyze(&input, &out, &["--window", "2", "--radius", "2", "--patch", "4"]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let report = read_report(&out);
    assert_eq!(report["input"]["kind"], "video");
    assert_eq!(variant(&report, "temporal_abs_difference")["shape"], serde_json::json!([5, 20, 20]));
    assert_eq!(variant(&report, "causal_box_difference")["shape"], serde_json::json!([4, 20, 20]));
    assert_eq!(variant(&report, "box_difference_y")["shape"], serde_json::json!([6, 16, 20]));
    assert_eq!(variant(&report, "box_difference_x")["shape"], serde_json::json!([6, 20, 16]));
    // uint8 values are divided by 255.
    let l1: f64 = video.iter().map(|&v| f64::from(v) / 255.0).sum();
    assert!(close(&variant(&report, "input")["measures"]["l1"], l1));
    assert_eq!(report["pca_vs_omp"]["patch_len"], 16);
}

#[test]
fn bad_parameters_fail_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("x.npy");
    ndarray_npy::write_npy(&input, &ndarray::Array1::from(signal(100))).unwrap();
    let run = analyze(&input, &dir.path().join("r"), &["--window", "100"]);
    assert!(!run.status.success());
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(err.contains("window") && err.contains("100"), "{err}");
    let run = analyze(&input, &dir.path().join("r"), &["--delay", "0"]);
    assert!(!run.status.success());
    assert!(String::from_utf8_lossy(&run.stderr).contains("lag"));
    let four_d = dir.path().join("x4.npy");
    ndarray_npy::write_npy(&four_d, &ndarray::Array4::<f64>::zeros((2, 2, 2, 2))).unwrap();
    let run = analyze(&four_d, &dir.path().join("r"), &[]);
    assert!(!run.status.success());
    assert!(String::from_utf8_lossy(&run.stderr).contains("4 axes"));
}

#[test]
fn a_given_dictionary_is_used_and_checked() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("x.npy");
    ndarray_npy::write_npy(&input, &ndarray::Array1::from(signal(500))).unwrap();
    // 40 atoms of length 16: cosines of increasing frequency plus spikes.
    let atoms = ndarray::Array2::from_shape_fn((40, 16), |(a, j)| {
        if a < 24 {
            ((a as f64 + 1.0) * 0.2 * j as f64).cos()
        } else {
            f64::from(u8::from(a - 24 == j))
        }
    });
    let dict = dir.path().join("d.npy");
    ndarray_npy::write_npy(&dict, &atoms).unwrap();
    let out = dir.path().join("r");
    let dict_arg = dict.to_str().unwrap();
    let run = analyze(&input, &out, &["--patch", "16", "--dict", dict_arg]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let report = read_report(&out);
    assert_eq!(report["pca_vs_omp"]["n_atoms"], 40);
    assert_eq!(report["pca_vs_omp"]["dictionary"], dict_arg);
    // Patches of 8 samples do not fit atoms of 16.
    let run = analyze(&input, &dir.path().join("r2"), &["--patch", "8", "--dict", dict_arg]);
    assert!(!run.status.success());
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(err.contains("16") && err.contains("--patch 8"), "{err}");
    assert!(!dir.path().join("r2").join("report.json").exists());
}
