//! Throughput of the Lasso encoders (LARS, coordinate descent, FISTA) in f64:
//! 20,000 random 64-dimensional signals over a random unit-norm dictionary
//! of 256 atoms, at a `lambda` that gives about 9 non-zeros per code.
//!
//! `cargo run --release -p sparsecode --example lasso_speed`

use faer::Mat;
use rand_distr::{Distribution, StandardNormal};
use sparsecode::encode::cd::CoordinateDescent;
use sparsecode::encode::fista::Fista;
use sparsecode::encode::lars::Lars;
use sparsecode::encode::lasso::ElasticNet;
use sparsecode::encode::{encode, encode_into, Encoder, Start};
use sparsecode::{rng, Dictionary};
use std::time::Instant;

const N_SIGNALS: usize = 20_000;
const N_FEATURES: usize = 64;
const N_ATOMS: usize = 256;
const TARGET_NNZ: f64 = 9.0;

fn gaussian(rows: usize, cols: usize, seed: u64) -> Mat<f64> {
    let mut r = rng::seeded(seed);
    Mat::from_fn(rows, cols, |_, _| StandardNormal.sample(&mut r))
}

fn mean_nnz(dict: &Dictionary<f64>, x: &Mat<f64>, lambda: f64) -> f64 {
    let out = encode(&Lars::new(ElasticNet::lasso(lambda)), dict, x.as_ref()).expect("valid problem");
    out.reports.iter().map(|r| r.n_nonzero as f64).sum::<f64>() / out.reports.len() as f64
}

fn time<E: Encoder<f64>>(name: &str, encoder: &E, dict: &Dictionary<f64>, x: &Mat<f64>) {
    let mut best = f64::INFINITY;
    let mut summary = (0.0, 0.0, 0.0, 0usize);
    for _ in 0..3 {
        let start = Instant::now();
        let out = encode(encoder, dict, x.as_ref()).expect("valid problem");
        best = best.min(start.elapsed().as_secs_f64());
        let n = out.reports.len() as f64;
        summary = (
            out.reports.iter().map(|r| r.n_nonzero as f64).sum::<f64>() / n,
            out.reports.iter().map(|r| r.objective).sum::<f64>() / n,
            out.reports.iter().map(|r| r.n_iter as f64).sum::<f64>() / n,
            out.reports.iter().filter(|r| !r.converged).count(),
        );
    }
    let (nnz, objective, iters, unconverged) = summary;
    println!(
        "{name:<28} {:>9.3} s {:>11.0} signals/s   mean nnz {nnz:.2}   mean objective {objective:.6}   mean iterations {iters:.1}   not converged {unconverged}",
        best,
        N_SIGNALS as f64 / best
    );
}

/// Coordinate descent warm-started from the codes at `1.1 lambda`, as in
/// dictionary learning where each outer iteration starts from the last codes.
fn time_warm(name: &str, encoder: &CoordinateDescent, start: &Mat<f64>, dict: &Dictionary<f64>, x: &Mat<f64>) {
    let mut best = f64::INFINITY;
    let mut iters = 0.0;
    for _ in 0..3 {
        let mut codes = start.clone();
        let clock = Instant::now();
        let reports = encode_into(encoder, dict, x.as_ref(), codes.as_mut(), Start::Warm).expect("valid problem");
        best = best.min(clock.elapsed().as_secs_f64());
        iters = reports.iter().map(|r| r.n_iter as f64).sum::<f64>() / reports.len() as f64;
    }
    println!("{name:<28} {best:>9.3} s {:>11.0} signals/s   mean iterations {iters:.1}", N_SIGNALS as f64 / best);
}

fn main() {
    let dict = Dictionary::normalized(gaussian(N_ATOMS, N_FEATURES, 1)).expect("random atoms are non-zero");
    let x = gaussian(N_SIGNALS, N_FEATURES, 2);
    // Bisection on lambda (relative to ||x|| ~ 8) for ~9 non-zeros on a subsample.
    let sample = x.subrows(0, 500).to_owned();
    let (mut lo, mut hi) = (0.01, 8.0);
    for _ in 0..30 {
        let mid = 0.5 * (lo + hi);
        if mean_nnz(&dict, &sample, mid) > TARGET_NNZ {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let lambda = 0.5 * (lo + hi);
    println!(
        "{N_SIGNALS} signals x {N_FEATURES} features, {N_ATOMS} atoms, lambda = {lambda:.4}, {} rayon threads",
        rayon::current_num_threads()
    );
    dict.gram();
    dict.lipschitz();
    let pen = ElasticNet::lasso(lambda);
    time("LARS", &Lars::new(pen), &dict, &x);
    time("CD (tol 1e-6, screening)", &CoordinateDescent::new(pen), &dict, &x);
    time("CD (tol 1e-6, no screening)", &CoordinateDescent::new(pen).with_screening(false), &dict, &x);
    time("FISTA (tol 1e-6)", &Fista::new(pen), &dict, &x);
    let near =
        encode(&CoordinateDescent::new(ElasticNet::lasso(1.1 * lambda)), &dict, x.as_ref()).expect("valid problem");
    time_warm("CD warm, screening", &CoordinateDescent::new(pen), &near.codes, &dict, &x);
    time_warm("CD warm, no screening", &CoordinateDescent::new(pen).with_screening(false), &near.codes, &dict, &x);
}
