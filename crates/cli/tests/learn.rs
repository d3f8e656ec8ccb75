//! End-to-end tests of `sparsecode learn`, `denoise`, `inpaint` and `demo` on
//! tiny inputs: models, checkpoints and resumption, and clean failures.

use sparsecode_cli::model::{self, Model};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn sparsecode(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sparsecode")).args(args).output().expect("the sparsecode binary runs")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("temporary paths are UTF-8")
}

/// A 32 x 32 generated test image written as PNG in `dir`.
fn tiny_image(dir: &Path) -> PathBuf {
    let image = sparsecode::image::synthetic_image::<f64>(32, 32, 7).unwrap();
    let path = dir.join("tiny.png");
    let a = ndarray::Array2::from_shape_fn((32, 32), |(i, j)| image[(i, j)]);
    sparsecode_cli::io::write_png(&path, a.view()).unwrap();
    path
}

/// Arguments of a small online run on `image`.
fn learn_args<'a>(image: &'a str, out: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "learn",
        "--input",
        image,
        "--out",
        out,
        "--patch",
        "4x4",
        "--atoms",
        "8",
        "--n-patches",
        "600",
        "--epochs",
        "2",
        "--batch-size",
        "50",
        "--n-nonzero",
        "2",
    ];
    args.extend_from_slice(extra);
    args
}

#[test]
fn learn_writes_a_model_whose_dictionary_reads_back() {
    let dir = tempfile::tempdir().unwrap();
    let image = tiny_image(dir.path());
    let out = dir.path().join("model.npz");
    let atoms_png = dir.path().join("atoms.png");
    let objective_png = dir.path().join("objective.png");
    let run = sparsecode(&learn_args(
        path_str(&image),
        path_str(&out),
        &["--atoms-png", path_str(&atoms_png), "--objective-png", path_str(&objective_png)],
    ));
    assert!(run.status.success(), "{}", stderr(&run));
    let model = Model::read(&out).unwrap();
    assert_eq!((model.components.nrows(), model.components.ncols()), (8, 16));
    assert_eq!(model.patch(), Some((4, 4)));
    assert_eq!(model.metadata["method"], "online");
    assert_eq!(model.metadata["remove_mean"], true);
    // 600 patches in batches of 50, two epochs.
    assert_eq!(model.objective.len(), 24);
    for i in 0..8 {
        let norm: f64 = (0..16).map(|j| model.components[(i, j)].powi(2)).sum::<f64>().sqrt();
        // Online learning keeps the atoms in the unit ball.
        assert!(norm > 0.5 && norm <= 1.0 + 1e-9, "atom {i} has norm {norm}");
        // Mean-free patches give mean-free atoms.
        let mean: f64 = (0..16).map(|j| model.components[(i, j)]).sum::<f64>() / 16.0;
        assert!(mean.abs() < 1e-9, "atom {i} has mean {mean}");
    }
    let dict = model::read_dictionary(&out).unwrap();
    assert_eq!(dict.data.shape(), &[8, 16]);
    // `encode` codes signals over the model's atoms: an atom itself needs one.
    let x = dir.path().join("x.npy");
    let signals = faer::Mat::from_fn(2, 16, |i, j| model.components[(3 * i, j)]);
    sparsecode_cli::io::write_matrix(&x, signals.as_ref()).unwrap();
    let codes = dir.path().join("z.npy");
    let components = format!("{}:components", out.display());
    let run = sparsecode(&[
        "encode",
        "--dict",
        &components,
        "--input",
        path_str(&x),
        "--out",
        path_str(&codes),
        "--n-nonzero",
        "1",
    ]);
    assert!(run.status.success(), "{}", stderr(&run));
    let z = sparsecode_cli::io::read_matrix::<f64>(&codes, "codes").unwrap();
    assert_eq!((z.nrows(), z.ncols()), (2, 8));
    assert!((z[(0, 0)] - 1.0).abs() < 1e-9 && (z[(1, 3)] - 1.0).abs() < 1e-9, "{:?}", z);
    assert!(atoms_png.exists() && objective_png.exists());
    // K-SVD on the same data also writes a model.
    let ksvd = dir.path().join("ksvd.npz");
    let run = sparsecode(&[
        "learn",
        "--input",
        path_str(&image),
        "--out",
        path_str(&ksvd),
        "--patch",
        "4",
        "--atoms",
        "8",
        "--n-patches",
        "300",
        "--method",
        "ksvd",
        "--max-iter",
        "3",
        "--n-nonzero",
        "2",
    ]);
    assert!(run.status.success(), "{}", stderr(&run));
    assert_eq!(Model::read(&ksvd).unwrap().objective.len(), 3);
}

#[test]
fn resuming_an_interrupted_run_gives_the_uninterrupted_model() {
    let dir = tempfile::tempdir().unwrap();
    let image = tiny_image(dir.path());
    let (image, full, resumed) =
        (path_str(&image).to_string(), dir.path().join("full.npz"), dir.path().join("resumed.npz"));
    let checkpoint = dir.path().join("ck.npz");
    let ck = path_str(&checkpoint);

    let run = sparsecode(&learn_args(&image, path_str(&full), &[]));
    assert!(run.status.success(), "{}", stderr(&run));

    // Stop after 5 of the 24 mini-batches, as an interruption would.
    let first = sparsecode(&learn_args(
        &image,
        path_str(&resumed),
        &["--checkpoint", ck, "--checkpoint-every", "2", "--max-steps", "5"],
    ));
    assert!(first.status.success(), "{}", stderr(&first));
    let meta = model::read_metadata(&checkpoint, model::CHECKPOINT_FORMAT).unwrap();
    assert_eq!(meta["n_steps"], 5);

    // Starting afresh over an existing checkpoint is refused, the checkpoint kept.
    let before = std::fs::read(&checkpoint).unwrap();
    let again = sparsecode(&learn_args(&image, path_str(&resumed), &["--checkpoint", ck]));
    assert!(!again.status.success());
    assert!(stderr(&again).contains("--resume"), "{}", stderr(&again));
    assert_eq!(std::fs::read(&checkpoint).unwrap(), before);

    let second = sparsecode(&learn_args(&image, path_str(&resumed), &["--checkpoint", ck, "--resume"]));
    assert!(second.status.success(), "{}", stderr(&second));
    let (a, b) = (Model::read(&full).unwrap(), Model::read(&resumed).unwrap());
    assert_eq!(a.components, b.components);
    assert_eq!(a.objective, b.objective);
}

#[test]
fn a_checkpoint_of_another_configuration_is_refused_and_kept() {
    let dir = tempfile::tempdir().unwrap();
    let image = tiny_image(dir.path());
    let image = path_str(&image).to_string();
    let checkpoint = dir.path().join("ck.npz");
    let out = dir.path().join("model.npz");
    let first =
        sparsecode(&learn_args(&image, path_str(&out), &["--checkpoint", path_str(&checkpoint), "--max-steps", "3"]));
    assert!(first.status.success(), "{}", stderr(&first));
    let before = std::fs::read(&checkpoint).unwrap();
    std::fs::remove_file(&out).unwrap();
    let mut args = learn_args(&image, path_str(&out), &["--checkpoint", path_str(&checkpoint), "--resume"]);
    let atoms = args.iter().position(|a| *a == "--atoms").unwrap();
    args[atoms + 1] = "12";
    let run = sparsecode(&args);
    assert!(!run.status.success());
    let message = stderr(&run);
    assert!(
        message.contains("another configuration") && message.contains("atoms: 8 (checkpoint) vs 12 (now)"),
        "{message}"
    );
    assert_eq!(std::fs::read(&checkpoint).unwrap(), before);
    assert!(!out.exists());
}

#[test]
fn a_patch_larger_than_the_image_fails_without_touching_the_output() {
    let dir = tempfile::tempdir().unwrap();
    let image = tiny_image(dir.path());
    let out = dir.path().join("model.npz");
    std::fs::write(&out, b"previous model").unwrap();
    let run = sparsecode(&["learn", "--input", path_str(&image), "--out", path_str(&out), "--patch", "40x8"]);
    assert!(!run.status.success());
    assert!(stderr(&run).contains("larger than the image"), "{}", stderr(&run));
    assert_eq!(std::fs::read(&out).unwrap(), b"previous model");
}

#[test]
fn inpainting_with_no_known_pixel_fails_and_with_some_succeeds() {
    let dir = tempfile::tempdir().unwrap();
    let image = tiny_image(dir.path());
    let out = dir.path().join("filled.png");
    let all_missing = dir.path().join("all.png");
    let ones = ndarray::Array2::from_elem((32, 32), 1.0);
    sparsecode_cli::io::write_png(&all_missing, ones.view()).unwrap();
    let run = sparsecode(&[
        "inpaint",
        "--input",
        path_str(&image),
        "--mask",
        path_str(&all_missing),
        "--out",
        path_str(&out),
    ]);
    assert!(!run.status.success());
    assert!(stderr(&run).contains("none of the 32 x 32 pixels"), "{}", stderr(&run));
    assert!(!out.exists());

    let some_missing = dir.path().join("some.png");
    let mask = ndarray::Array2::from_shape_fn((32, 32), |(i, j)| if (i * 5 + j * 3) % 4 == 0 { 1.0 } else { 0.0 });
    sparsecode_cli::io::write_png(&some_missing, mask.view()).unwrap();
    let run = sparsecode(&[
        "inpaint",
        "--input",
        path_str(&image),
        "--mask",
        path_str(&some_missing),
        "--out",
        path_str(&out),
        "--clean",
        path_str(&image),
        "--atoms",
        "16",
        "--n-patches",
        "500",
    ]);
    assert!(run.status.success(), "{}", stderr(&run));
    assert!(String::from_utf8_lossy(&run.stdout).contains("inpainted"));
    assert!(out.exists());
}

#[test]
fn denoise_and_demo_write_their_images() {
    let dir = tempfile::tempdir().unwrap();
    let demo_dir = dir.path().join("demo");
    let run = sparsecode(&["demo", "--out-dir", path_str(&demo_dir), "--size", "40", "--atoms", "16"]);
    assert!(run.status.success(), "{}", stderr(&run));
    assert!(String::from_utf8_lossy(&run.stdout).contains("PSNR: noisy"));
    for name in ["clean.png", "noisy.png", "denoised.png", "comparison.png", "atoms.png", "objective.png"] {
        assert!(demo_dir.join(name).exists(), "{name} missing");
    }
    let out = dir.path().join("denoised.npy");
    let run = sparsecode(&[
        "denoise",
        "--input",
        path_str(&demo_dir.join("noisy.png")),
        "--out",
        path_str(&out),
        "--sigma",
        "0.1",
        "--clean",
        path_str(&demo_dir.join("clean.png")),
        "--atoms",
        "16",
        "--n-patches",
        "800",
    ]);
    assert!(run.status.success(), "{}", stderr(&run));
    let denoised = sparsecode_cli::io::read_matrix::<f64>(&out, "denoised").unwrap();
    assert_eq!((denoised.nrows(), denoised.ncols()), (40, 40));
    assert!(String::from_utf8_lossy(&run.stdout).contains("denoised"));
}

#[test]
fn online_learning_stops_on_the_change_tolerance_or_the_patience() {
    let dir = tempfile::tempdir().unwrap();
    let image = tiny_image(dir.path());
    let image = path_str(&image);
    // 600 patches in batches of 50 for 20 epochs: 240 steps unless a rule stops the run.
    let long_run = |out: &Path, extra: &[&str]| {
        let out = path_str(out).to_string();
        let mut args: Vec<String> = learn_args(image, &out, extra).into_iter().map(String::from).collect();
        let epochs = args.iter().position(|a| a == "--epochs").unwrap();
        args[epochs + 1] = "20".into();
        sparsecode(&args.iter().map(String::as_str).collect::<Vec<_>>())
    };
    let full = dir.path().join("full.npz");
    let run = long_run(&full, &[]);
    assert!(run.status.success(), "{}", stderr(&run));
    let full = Model::read(&full).unwrap();
    assert_eq!(full.objective.len(), 240);
    for (flag, value) in [("--change-tol", "0.02"), ("--patience", "3")] {
        let out = dir.path().join("stopped.npz");
        let run = long_run(&out, &[flag, value]);
        assert!(run.status.success(), "{}", stderr(&run));
        let stdout = String::from_utf8_lossy(&run.stdout);
        assert!(stdout.contains(&format!("mini-batches ({flag})")), "{flag}: {stdout}");
        let stopped = Model::read(&out).unwrap();
        let n = stopped.objective.len();
        // The same steps as the full run, cut short.
        assert!(n < 240, "{flag} did not stop the run");
        assert_eq!(stopped.objective[..], full.objective[..n], "{flag}");
        if flag == "--patience" {
            // The last 3 smoothed objectives stayed above the best before them.
            let best = stopped.objective[..n - 3].iter().cloned().fold(f64::INFINITY, f64::min);
            assert!(stopped.objective[n - 3..].iter().all(|&v| v >= best), "{:?}", &stopped.objective[n - 4..]);
        }
    }
    let bad = sparsecode(&learn_args(image, path_str(&dir.path().join("bad.npz")), &["--change-tol=-1"]));
    assert!(!bad.status.success());
    assert!(stderr(&bad).contains("--change-tol must be"), "{}", stderr(&bad));
}
