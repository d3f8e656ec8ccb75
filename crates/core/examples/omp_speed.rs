//! Throughput of Batch-OMP: 100,000 random 64-dimensional signals over a
//! 256-atom unit-norm random dictionary, 8 non-zeros, in f64 and f32; the best
//! of 3 runs.
//!
//! `cargo run --release -p sparsecode --example omp_speed`

use faer::Mat;
use rand::Rng;
use rand_distr::StandardNormal;
use sparsecode::encode::{encode, omp::Omp};
use sparsecode::{rng, Dictionary, Float};
use std::time::Instant;

const N_SIGNALS: usize = 100_000;
const N_FEATURES: usize = 64;
const N_ATOMS: usize = 256;
const N_NONZERO: usize = 8;
const RUNS: usize = 3;

fn gaussian<T: Float>(rows: usize, cols: usize, seed: u64) -> Mat<T> {
    let mut r = rng::seeded(seed);
    Mat::from_fn(rows, cols, |_, _| T::of(r.sample::<f64, _>(StandardNormal)))
}

/// Floating-point operations per signal: `D x` (`2 n K`), then at step `j`
/// the correlation update (`2 K j`) and the Cholesky update and solve
/// (about `3 j^2`).
fn flops_per_signal() -> f64 {
    let (n, k) = (N_FEATURES as f64, N_ATOMS as f64);
    2.0 * n * k + (1..=N_NONZERO).map(|j| 2.0 * k * j as f64 + 3.0 * (j * j) as f64).sum::<f64>()
}

fn measure<T: Float>() -> Result<(), sparsecode::Error> {
    let dict = Dictionary::normalized(gaussian::<T>(N_ATOMS, N_FEATURES, 1))?;
    let x = gaussian::<T>(N_SIGNALS, N_FEATURES, 2);
    let omp = Omp::with_n_nonzero(N_NONZERO);
    dict.gram();
    let mut best = f64::INFINITY;
    for _ in 0..RUNS {
        let start = Instant::now();
        let out = encode(&omp, &dict, x.as_ref())?;
        best = best.min(start.elapsed().as_secs_f64());
        assert_eq!(out.codes.nrows(), N_SIGNALS);
    }
    let rate = N_SIGNALS as f64 / best;
    println!(
        "{}: {N_SIGNALS} signals in {best:.3} s = {rate:.0} signals/s, {:.2} GFLOP/s ({} threads)",
        T::NAME,
        rate * flops_per_signal() / 1e9,
        rayon::current_num_threads()
    );
    Ok(())
}

fn main() -> Result<(), sparsecode::Error> {
    println!("Batch-OMP: {N_FEATURES} features, {N_ATOMS} unit-norm atoms, {N_NONZERO} non-zeros, best of {RUNS}");
    measure::<f64>()?;
    measure::<f32>()
}
