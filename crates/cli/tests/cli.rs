//! The binary as a user meets it: help, global flags, one-line errors.

use ndarray_npy::WriteNpyExt;
use std::path::Path;
use std::process::{Command, Output};

fn sparsecode(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sparsecode")).args(args).current_dir(dir).output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn help_explains_the_layout_and_a_workflow() {
    let dir = tempfile::tempdir().unwrap();
    let out = sparsecode(&["--help"], dir.path());
    assert!(out.status.success());
    let help = text(&out.stdout);
    for needle in ["n_samples x n_features", "X ~ Z D", "typical workflow", "--threads", "--quiet", "--seed", "inspect"]
    {
        assert!(help.contains(needle), "--help lacks {needle:?}:\n{help}");
    }
}

#[test]
fn inspect_describes_an_array() {
    let dir = tempfile::tempdir().unwrap();
    ndarray::array![[0u8, 4], [0, 250]].write_npy(std::fs::File::create(dir.path().join("a.npy")).unwrap()).unwrap();
    let out = sparsecode(&["inspect", "a.npy"], dir.path());
    assert!(out.status.success(), "{}", text(&out.stderr));
    let shown = text(&out.stdout);
    assert!(shown.contains("array of uint8") && shown.contains("[2, 2]"), "{shown}");
    assert!(shown.contains("2.500000e2") && shown.contains("non-zero   2"), "{shown}");
}

#[test]
fn errors_are_one_line_with_exit_status_one() {
    let dir = tempfile::tempdir().unwrap();
    let out = sparsecode(&["inspect", "missing.npy"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.starts_with("error: cannot read missing.npy"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");

    let out = sparsecode(&["--threads", "0", "inspect", "missing.npy"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("--threads must be at least 1"));
}
