//! Signals from a planted dictionary, to check that a learner recovers it
//! (the synthetic experiment of Aharon, Elad & Bruckstein 2006, sec. V-A).

use crate::{rng, validate, Error, Float, Result};
use faer::{Mat, MatRef};
use rand::seq::index;
use rand::Rng as _;
use rand_distr::{Distribution, StandardNormal};

/// Sizes and noise of a planted problem.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlantedSpec {
    /// Signals to draw.
    pub n_samples: usize,
    /// Signal dimension.
    pub n_features: usize,
    /// Atoms of the planted dictionary.
    pub n_atoms: usize,
    /// Non-zeros per code (distinct atoms chosen uniformly).
    pub n_nonzero: usize,
    /// Standard deviation of the white Gaussian noise added to each entry.
    pub noise: f64,
    /// Seed of every random choice.
    pub seed: u64,
}

/// A planted problem: `x = codes * dictionary + noise`.
#[derive(Debug, Clone)]
pub struct Planted<T: Float> {
    /// The signals (`n_samples x n_features`).
    pub x: Mat<T>,
    /// The planted unit-norm atoms (`n_atoms x n_features`), i.i.d. Gaussian directions.
    pub dictionary: Mat<T>,
    /// The planted codes (`n_samples x n_atoms`): `n_nonzero` entries per row,
    /// of random sign and magnitude uniform in `[1, 2]`.
    pub codes: Mat<T>,
}

/// Draws a planted problem.
///
/// ```
/// use sparsecode::learn::synthetic::{planted, PlantedSpec};
/// let p = planted::<f64>(&PlantedSpec {
///     n_samples: 10, n_features: 8, n_atoms: 12, n_nonzero: 3, noise: 0.0, seed: 1,
/// }).unwrap();
/// assert_eq!((p.x.nrows(), p.x.ncols()), (10, 8));
/// let nnz = (0..12).filter(|&j| p.codes[(0, j)] != 0.0).count();
/// assert_eq!(nnz, 3);
/// ```
pub fn planted<T: Float>(spec: &PlantedSpec) -> Result<Planted<T>> {
    validate::at_least_one("n_samples", spec.n_samples)?;
    validate::at_least_one("n_features", spec.n_features)?;
    validate::at_least_one("n_atoms", spec.n_atoms)?;
    validate::non_negative("noise", spec.noise)?;
    if spec.n_nonzero > spec.n_atoms {
        return Err(Error::parameter(
            "n_nonzero",
            spec.n_nonzero,
            format!("must not exceed n_atoms = {}", spec.n_atoms),
        ));
    }
    let mut rng = rng::seeded(spec.seed);
    let mut dictionary = Mat::<T>::zeros(spec.n_atoms, spec.n_features);
    for i in 0..spec.n_atoms {
        loop {
            let row: Vec<f64> = (0..spec.n_features).map(|_| StandardNormal.sample(&mut rng)).collect();
            let norm = row.iter().map(|v| v * v).sum::<f64>().sqrt();
            if norm > 0.0 {
                for (j, v) in row.iter().enumerate() {
                    dictionary[(i, j)] = T::of(v / norm);
                }
                break;
            }
        }
    }
    let mut codes = Mat::<T>::zeros(spec.n_samples, spec.n_atoms);
    for i in 0..spec.n_samples {
        for j in index::sample(&mut rng, spec.n_atoms, spec.n_nonzero) {
            let magnitude = rng.random_range(1.0..2.0);
            let sign = if rng.random_bool(0.5) { 1.0 } else { -1.0 };
            codes[(i, j)] = T::of(sign * magnitude);
        }
    }
    let mut x = crate::linalg::reconstruct(codes.as_ref(), dictionary.as_ref());
    if spec.noise > 0.0 {
        for j in 0..spec.n_features {
            for i in 0..spec.n_samples {
                let e: f64 = StandardNormal.sample(&mut rng);
                x[(i, j)] += T::of(spec.noise * e);
            }
        }
    }
    Ok(Planted { x, dictionary, codes })
}

/// Fraction of the `truth` atoms (rows) that some `learned` atom matches with
/// absolute cosine similarity above `threshold` (e.g. 0.99): the recovery
/// rate of Aharon et al. 2006 (who use `1 - |cos| < 0.01`).
///
/// ```
/// use sparsecode::learn::synthetic::recovered_fraction;
/// let truth = faer::mat![[1.0, 0.0], [0.0, 1.0]];
/// let learned = faer::mat![[0.0, -1.0], [0.6, 0.8]];
/// assert_eq!(recovered_fraction(truth.as_ref(), learned.as_ref(), 0.99), 0.5);
/// ```
pub fn recovered_fraction<T: Float>(truth: MatRef<'_, T>, learned: MatRef<'_, T>, threshold: f64) -> f64 {
    if truth.nrows() == 0 || truth.ncols() != learned.ncols() {
        return 0.0;
    }
    let norms_t = crate::linalg::row_norms(truth);
    let norms_l = crate::linalg::row_norms(learned);
    let recovered = (0..truth.nrows())
        .filter(|&i| {
            (0..learned.nrows()).any(|k| {
                let dot: f64 = (0..truth.ncols()).map(|f| truth[(i, f)].as_f64() * learned[(k, f)].as_f64()).sum();
                let denom = norms_t[i].as_f64() * norms_l[k].as_f64();
                denom > 0.0 && (dot / denom).abs() > threshold
            })
        })
        .count();
    recovered as f64 / truth.nrows() as f64
}
