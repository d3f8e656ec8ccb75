//! The first dictionary of a learning run.

use super::normalize_atom;
use crate::{rng, validate, Error, Float, Result};
use faer::diag::Diag;
use faer::dyn_stack::{MemBuffer, MemStack};
use faer::linalg::svd::{self, ComputeSvdVectors};
use faer::{Mat, MatRef, Par};
use rand::seq::SliceRandom;

/// How a learner chooses its first dictionary. Every choice gives unit-norm
/// atoms (projected onto the non-negative orthant first when the dictionary
/// must be non-negative) and is deterministic for a seed.
#[derive(Debug, Clone, PartialEq)]
pub enum Init<T> {
    /// `n_atoms` distinct random samples (rows of `X`) of non-zero norm.
    /// Rule: `X` needs at least `n_atoms` rows with non-zero norm.
    Samples,
    /// The top right-singular vectors of `X` (the principal directions of
    /// the uncentred data). When `n_atoms` exceeds the rank of `X`, the
    /// remaining atoms are distinct random samples, as scikit-learn pads.
    Svd,
    /// These atoms (`n_atoms x n_features`), rescaled to unit norm.
    Given(Mat<T>),
}

/// The first dictionary (`n_atoms x n_features`) for training data `x`.
///
/// ```
/// use sparsecode::learn::init::{initial_dictionary, Init};
/// let x = faer::mat![[3.0f64, 4.0], [1.0, 0.0], [0.0, 2.0]];
/// let d = initial_dictionary(x.as_ref(), 2, &Init::Svd, false, 0).unwrap();
/// assert_eq!((d.nrows(), d.ncols()), (2, 2));
/// let norm0 = (d[(0, 0)] * d[(0, 0)] + d[(0, 1)] * d[(0, 1)]).sqrt();
/// assert!((norm0 - 1.0).abs() < 1e-12);
/// ```
pub fn initial_dictionary<T: Float>(
    x: MatRef<'_, T>,
    n_atoms: usize,
    init: &Init<T>,
    nonneg: bool,
    seed: u64,
) -> Result<Mat<T>> {
    validate::at_least_one("n_atoms", n_atoms)?;
    validate::non_empty("training data X", x)?;
    validate::finite("X", x)?;
    match init {
        Init::Samples => {
            let mut d = Mat::zeros(n_atoms, x.ncols());
            fill_with_samples(x, &mut d, 0, nonneg, seed, "Init::Samples")?;
            Ok(d)
        }
        Init::Svd => svd_init(x, n_atoms, nonneg, seed),
        Init::Given(atoms) => {
            if atoms.nrows() != n_atoms || atoms.ncols() != x.ncols() {
                return Err(Error::Shape(format!(
                    "the given initial dictionary is {} x {} but {n_atoms} atoms of {} features are needed",
                    atoms.nrows(),
                    atoms.ncols(),
                    x.ncols()
                )));
            }
            validate::finite("initial dictionary", atoms.as_ref())?;
            let mut d = atoms.clone();
            let mut row = vec![T::zero(); d.ncols()];
            for i in 0..n_atoms {
                super::copy_row(d.as_ref(), i, &mut row);
                if !normalize_atom(&mut row, nonneg) {
                    let norm = crate::linalg::dot(&row, &row).sqrt().as_f64();
                    return Err(Error::ZeroNormAtom { index: i, norm });
                }
                for (j, &v) in row.iter().enumerate() {
                    d[(i, j)] = v;
                }
            }
            Ok(d)
        }
    }
}

/// Fills rows `first..` of `d` with distinct random samples of `x`, normalised
/// (after the non-negative projection when `nonneg`), skipping samples that
/// are zero after projection.
fn fill_with_samples<T: Float>(
    x: MatRef<'_, T>,
    d: &mut Mat<T>,
    first: usize,
    nonneg: bool,
    seed: u64,
    rule: &str,
) -> Result<()> {
    let needed = d.nrows() - first;
    if needed == 0 {
        return Ok(());
    }
    let mut order: Vec<usize> = (0..x.nrows()).collect();
    order.shuffle(&mut rng::seeded(seed));
    let mut row = vec![T::zero(); x.ncols()];
    let mut next = first;
    for &i in &order {
        if next == d.nrows() {
            break;
        }
        super::copy_row(x, i, &mut row);
        if normalize_atom(&mut row, nonneg) {
            for (j, &v) in row.iter().enumerate() {
                d[(next, j)] = v;
            }
            next += 1;
        }
    }
    if next < d.nrows() {
        let usable = next - first;
        let kind = if nonneg { "non-zero after clipping to >= 0" } else { "of non-zero norm" };
        return Err(Error::Invalid(format!(
            "{rule} needs {needed} distinct samples {kind} but X ({} rows) has only {usable}; \
             use fewer atoms, more samples, or another initialisation",
            x.nrows()
        )));
    }
    Ok(())
}

/// Top right-singular vectors of `x`, padded with random samples.
fn svd_init<T: Float>(x: MatRef<'_, T>, n_atoms: usize, nonneg: bool, seed: u64) -> Result<Mat<T>> {
    let (m, n) = x.shape();
    let size = m.min(n);
    let mut s = Diag::<T>::zeros(size);
    let mut v = Mat::<T>::zeros(n, size);
    let par = Par::Seq;
    let scratch = svd::svd_scratch::<T>(m, n, ComputeSvdVectors::No, ComputeSvdVectors::Thin, par, Default::default());
    let mut mem = MemBuffer::new(scratch);
    svd::svd(x, s.as_mut(), None, Some(v.as_mut()), par, MemStack::new(&mut mem), Default::default())
        .map_err(|e| Error::Invalid(format!("the SVD of X failed to converge ({e:?})")))?;
    let s = s.column_vector();
    let largest = s.iter().fold(T::zero(), |a, &b| a.max(b));
    let tol = largest * T::epsilon() * T::of(m.max(n) as f64);
    let rank = s.iter().filter(|&&v| v > tol).count();
    let mut d = Mat::zeros(n_atoms, n);
    let mut row = vec![T::zero(); n];
    let mut filled = 0;
    for k in 0..rank {
        if filled == n_atoms {
            break;
        }
        for (j, r) in row.iter_mut().enumerate() {
            *r = v[(j, k)];
        }
        // Singular vectors have an arbitrary sign: make the largest entry
        // positive (and so keep the most mass under a non-negative projection).
        let flip = row.iter().fold(T::zero(), |a, &b| if b.abs() > a.abs() { b } else { a }) < T::zero();
        if flip {
            row.iter_mut().for_each(|r| *r = -*r);
        }
        if normalize_atom(&mut row, nonneg) {
            for (j, &val) in row.iter().enumerate() {
                d[(filled, j)] = val;
            }
            filled += 1;
        }
    }
    fill_with_samples(x, &mut d, filled, nonneg, seed, "Init::Svd (padding beyond the rank of X)")?;
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data() -> Mat<f64> {
        Mat::from_fn(6, 3, |i, j| ((i * 5 + j * 3) % 7) as f64 - 3.0)
    }

    #[test]
    fn samples_are_distinct_normalised_rows_of_x() {
        let x = data();
        let d = initial_dictionary(x.as_ref(), 4, &Init::Samples, false, 9).unwrap();
        let mut used = Vec::new();
        for a in 0..4 {
            let hit = (0..6).find(|&i| {
                let n = (0..3).map(|j| x[(i, j)] * x[(i, j)]).sum::<f64>().sqrt();
                (0..3).all(|j| (x[(i, j)] / n - d[(a, j)]).abs() < 1e-12)
            });
            let i = hit.expect("every atom is a normalised sample");
            assert!(!used.contains(&i));
            used.push(i);
        }
        assert_eq!(d, initial_dictionary(x.as_ref(), 4, &Init::Samples, false, 9).unwrap());
    }

    #[test]
    fn too_few_samples_is_an_error_naming_the_rule() {
        let x = data();
        let err = initial_dictionary(x.as_ref(), 7, &Init::Samples, false, 0).unwrap_err();
        assert!(err.to_string().contains("needs 7 distinct samples"), "{err}");
    }

    #[test]
    fn svd_atoms_span_the_principal_directions_and_pad_beyond_the_rank() {
        // Rank-2 data in 3-D: the third atom must be a padded sample.
        let x = Mat::<f64>::from_fn(8, 3, |i, j| match j {
            0 => i as f64,
            1 => 2.0 * i as f64 - 5.0,
            _ => 0.0,
        });
        let d = initial_dictionary(x.as_ref(), 3, &Init::Svd, false, 1).unwrap();
        // First atom: the dominant right-singular vector, checked against x^T x v = s^2 v.
        let v: Vec<f64> = (0..3).map(|j| d[(0, j)]).collect();
        let xtxv: Vec<f64> =
            (0..3).map(|a| (0..8).map(|i| x[(i, a)] * (0..3).map(|b| x[(i, b)] * v[b]).sum::<f64>()).sum()).collect();
        let lambda: f64 = xtxv.iter().zip(&v).map(|(a, b)| a * b).sum();
        for j in 0..3 {
            assert!((xtxv[j] - lambda * v[j]).abs() < 1e-9 * lambda);
        }
        for a in 0..3 {
            let n: f64 = (0..3).map(|j| d[(a, j)] * d[(a, j)]).sum();
            assert!((n - 1.0).abs() < 1e-12);
        }
        assert_eq!(d[(2, 2)], 0.0);
    }

    #[test]
    fn given_atoms_are_checked_and_normalised() {
        let x = data();
        let bad = Mat::<f64>::zeros(2, 4);
        assert!(matches!(initial_dictionary(x.as_ref(), 2, &Init::Given(bad), false, 0), Err(Error::Shape(_))));
        let zero_row = faer::mat![[1.0, 0.0, 0.0], [0.0, 0.0, 0.0]];
        let err = initial_dictionary(x.as_ref(), 2, &Init::Given(zero_row), false, 0).unwrap_err();
        assert!(matches!(err, Error::ZeroNormAtom { index: 1, .. }));
        let given = faer::mat![[2.0, 0.0, 0.0], [0.0, -3.0, 4.0]];
        let d = initial_dictionary(x.as_ref(), 2, &Init::Given(given), true, 0).unwrap();
        assert_eq!(d, faer::mat![[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]);
    }
}
