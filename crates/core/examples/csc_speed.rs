//! CBPDN ADMM speed on a 256 x 256 image: the high-pass part (Tikhonov split)
//! of `shared/data/images/crops/camera_256.npy` (a seeded random image when
//! the file is absent), 32 random 8 x 8 filters, lambda 0.05, circular
//! boundary. Prints the time per ADMM iteration (minimum over repeats) in f64
//! and f32.
//!
//! Run: `cargo run --release -p sparsecode --example csc_speed [path/to/image.npy]`

use rand_distr::{Distribution, StandardNormal};
use sparsecode::conv::{csc, tikhonov_split, ConvArray, ConvFloat, CscOptions};
use std::time::Instant;

const SIDE: usize = 256;
const N_FILTERS: usize = 32;
const FILTER: usize = 8;
const LAMBDA: f64 = 0.05;
const ITERATIONS: usize = 20;
const REPEATS: usize = 5;

/// Reads a 2-D little-endian float64 C-order `.npy` of shape (256, 256).
fn read_npy(path: &str) -> Option<Vec<f64>> {
    let bytes = std::fs::read(path).ok()?;
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" || bytes[6] != 1 {
        return None;
    }
    let header_len = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
    let header = std::str::from_utf8(&bytes[10..10 + header_len]).ok()?;
    if !header.contains("'<f8'") || header.contains("'fortran_order': True") || !header.contains("(256, 256)") {
        return None;
    }
    let data = &bytes[10 + header_len..];
    (data.len() == SIDE * SIDE * 8)
        .then(|| data.chunks_exact(8).map(|c| f64::from_le_bytes(c.try_into().unwrap_or([0; 8]))).collect())
}

fn seconds_per_iteration<T: ConvFloat>(image: &[f64], filters: &[f64]) -> f64 {
    let image = ConvArray::new(1, 1, &[SIDE, SIDE], image.iter().map(|v| T::of(*v)).collect()).expect("image");
    let filters =
        ConvArray::new(N_FILTERS, 1, &[FILTER, FILTER], filters.iter().map(|v| T::of(*v)).collect()).expect("filters");
    let run = |iterations: usize| {
        let mut options = CscOptions::new(LAMBDA);
        options.max_iter = iterations;
        options.tol = 1e-12;
        let start = Instant::now();
        let out = csc(&filters, &image, None, &options).expect("csc");
        assert_eq!(out.n_iter, iterations);
        start.elapsed().as_secs_f64()
    };
    (0..REPEATS).map(|_| (run(ITERATIONS + 1) - run(1)) / ITERATIONS as f64).fold(f64::INFINITY, f64::min)
}

fn main() {
    let default = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/images/crops/camera_256.npy");
    let path = std::env::args().nth(1).unwrap_or_else(|| default.to_string());
    let mut rng = sparsecode::rng::seeded(0);
    let image = match read_npy(&path) {
        Some(image) => {
            println!("image: {path}");
            image
        }
        None => {
            println!("image: seeded random 256 x 256 ({path} not readable)");
            (0..SIDE * SIDE).map(|_| StandardNormal.sample(&mut rng)).collect()
        }
    };
    let (_, high) = tikhonov_split(&ConvArray::new(1, 1, &[SIDE, SIDE], image).expect("image"), 5.0).expect("split");
    let mut filters: Vec<f64> = (0..N_FILTERS * FILTER * FILTER).map(|_| StandardNormal.sample(&mut rng)).collect();
    for f in filters.chunks_exact_mut(FILTER * FILTER) {
        let norm = f.iter().map(|v| v * v).sum::<f64>().sqrt();
        f.iter_mut().for_each(|v| *v /= norm);
    }
    println!(
        "CBPDN ADMM, {SIDE}x{SIDE} image, {N_FILTERS} filters {FILTER}x{FILTER}, lambda {LAMBDA}, {} rayon threads",
        rayon::current_num_threads()
    );
    let f64_time = seconds_per_iteration::<f64>(high.data(), &filters);
    println!("f64: {:.2} ms per iteration (min of {REPEATS})", f64_time * 1e3);
    let f32_time = seconds_per_iteration::<f32>(high.data(), &filters);
    println!("f32: {:.2} ms per iteration (min of {REPEATS})", f32_time * 1e3);
}
