//! `sparsecode cdl` and `sparsecode csc` as a user runs them.

use ndarray_npy::{ReadNpyExt, WriteNpyExt};
use std::path::Path;
use std::process::{Command, Output};

fn sparsecode(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sparsecode")).args(args).current_dir(dir).output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Two signals made of copies of one 6-sample motif.
fn write_signals(dir: &Path) {
    let motif = [0.2, 0.7, 1.0, 0.3, -0.5, -0.4];
    let x = ndarray::Array2::from_shape_fn((2, 128), |(s, i)| {
        let p = (i + 128 - (s * 7 + 5)) % 32;
        motif.get(p).copied().unwrap_or(0.0)
    });
    x.write_npy(std::fs::File::create(dir.join("x.npy")).unwrap()).unwrap();
}

#[test]
fn cdl_then_csc_on_1d_signals() {
    let dir = tempfile::tempdir().unwrap();
    write_signals(dir.path());
    let out = sparsecode(
        &[
            "cdl",
            "-i",
            "x.npy",
            "--rows",
            "--n-filters",
            "1",
            "--filter-size",
            "8",
            "--lambda",
            "0.05",
            "--iterations",
            "20",
            "-o",
            "d.npy",
            "--filters-png",
            "d.png",
            "--convergence-png",
            "conv.png",
        ],
        dir.path(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let filters = ndarray::ArrayD::<f64>::read_npy(std::fs::File::open(dir.path().join("d.npy")).unwrap()).unwrap();
    assert_eq!(filters.shape(), &[1, 1, 8]);
    let norm = filters.iter().map(|v| v * v).sum::<f64>().sqrt();
    assert!(norm > 0.5 && norm <= 1.0 + 1e-9, "filter norm {norm}");
    assert!(dir.path().join("d.png").exists() && dir.path().join("conv.png").exists());
    // Filters as (n_filters, length) for csc.
    let flat = filters.into_shape_with_order((1, 8)).unwrap();
    flat.write_npy(std::fs::File::create(dir.path().join("d2.npy")).unwrap()).unwrap();
    let out = sparsecode(
        &[
            "csc",
            "-i",
            "x.npy",
            "--rows",
            "--filters",
            "d2.npy",
            "--lambda",
            "0.05",
            "--boundary",
            "linear",
            "-o",
            "z.npy",
            "--reconstruction",
            "r.npy",
            "--maps-png",
            "z.png",
        ],
        dir.path(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let maps = ndarray::ArrayD::<f64>::read_npy(std::fs::File::open(dir.path().join("z.npy")).unwrap()).unwrap();
    assert_eq!(maps.shape(), &[2, 1, 135]);
    let rec = ndarray::ArrayD::<f64>::read_npy(std::fs::File::open(dir.path().join("r.npy")).unwrap()).unwrap();
    assert_eq!(rec.shape(), &[2, 1, 128]);
    let x = ndarray::Array2::<f64>::read_npy(std::fs::File::open(dir.path().join("x.npy")).unwrap()).unwrap();
    let err: f64 = rec.iter().zip(x.iter()).map(|(a, b)| (a - b).powi(2)).sum::<f64>().sqrt();
    let norm: f64 = x.iter().map(|v| v * v).sum::<f64>().sqrt();
    assert!(err < 0.3 * norm, "relative reconstruction error {}", err / norm);
    assert!(dir.path().join("z.png").exists());
}

#[test]
fn cdl_with_the_consensus_filter_update() {
    let dir = tempfile::tempdir().unwrap();
    write_signals(dir.path());
    let args = ["cdl", "-i", "x.npy", "--rows", "--n-filters", "2", "--filter-size", "8", "--lambda", "0.05"];
    let more = ["--iterations", "15", "--filter-update", "consensus", "--filter-iter", "5", "-o", "d.npy"];
    let out = sparsecode(&[&args[..], &more[..]].concat(), dir.path());
    assert!(out.status.success(), "{}", text(&out.stderr));
    let filters = ndarray::ArrayD::<f64>::read_npy(std::fs::File::open(dir.path().join("d.npy")).unwrap()).unwrap();
    assert_eq!(filters.shape(), &[2, 1, 8]);
    for k in 0..2 {
        let norm = filters.index_axis(ndarray::Axis(0), k).iter().map(|v| v * v).sum::<f64>().sqrt();
        assert!(norm > 0.5 && norm <= 1.0 + 1e-12, "filter {k} norm {norm}");
    }
    let bad = sparsecode(&[&args[..], &["--filter-update", "sgd", "-o", "e.npy"][..]].concat(), dir.path());
    assert!(!bad.status.success());
}

#[test]
fn conv_errors_are_one_line() {
    let dir = tempfile::tempdir().unwrap();
    write_signals(dir.path());
    let out = sparsecode(&["cdl", "-i", "x.npy", "--rows", "--filter-size", "8x8", "-o", "d.npy"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.starts_with("error:") && err.contains("dimensions") && err.lines().count() == 1, "{err}");
    let out = sparsecode(&["cdl", "-i", "x.npy", "--rows", "--filter-size", "200", "-o", "d.npy"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("larger"), "{}", text(&out.stderr));
    assert!(!dir.path().join("d.npy").exists());
}
