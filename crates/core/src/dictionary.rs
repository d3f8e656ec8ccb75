//! A dictionary of atoms with the quantities every encoder derives from it.

use crate::{linalg, validate, Error, Float, Result};
use faer::{Mat, MatRef};
use std::sync::OnceLock;

/// A dictionary `D` in scikit-learn's layout: one atom per row
/// (`n_atoms x n_features`), with its Gram matrix `G = D D^T` and the Lipschitz
/// constant `||D||_2^2` computed once, on first use, and shared by every
/// encoder and every signal.
///
/// ```
/// use sparsecode::Dictionary;
/// let d = Dictionary::new(faer::mat![[1.0, 0.0], [0.6, 0.8]]).unwrap();
/// assert_eq!(d.n_atoms(), 2);
/// assert!((d.gram()[(0, 1)] - 0.6f64).abs() < 1e-15);
/// ```
#[derive(Debug)]
pub struct Dictionary<T: Float> {
    atoms: Mat<T>,
    norms: Vec<T>,
    gram: OnceLock<Mat<T>>,
    columns: OnceLock<Mat<T>>,
    lipschitz: OnceLock<T>,
}

impl<T: Float> Clone for Dictionary<T> {
    fn clone(&self) -> Self {
        Self {
            atoms: self.atoms.clone(),
            norms: self.norms.clone(),
            gram: self.gram.clone(),
            columns: self.columns.clone(),
            lipschitz: self.lipschitz.clone(),
        }
    }
}

impl<T: Float> Dictionary<T> {
    /// Wraps `atoms` (`n_atoms x n_features`) after checking that it is
    /// non-empty, finite and has no zero-norm atom. Atoms need not have unit
    /// norm; see [`Dictionary::normalized`].
    pub fn new(atoms: Mat<T>) -> Result<Self> {
        validate::non_empty("dictionary", atoms.as_ref())?;
        validate::finite("dictionary", atoms.as_ref())?;
        let norms = linalg::row_norms(atoms.as_ref());
        let scale = norms.iter().fold(T::zero(), |a, &b| num_traits::Float::max(a, b));
        let tiny = T::epsilon() * scale.max(T::min_positive_value());
        if let Some((index, n)) = norms.iter().enumerate().find(|(_, &n)| n <= tiny || n.is_nan()) {
            return Err(Error::ZeroNormAtom { index, norm: n.as_f64() });
        }
        Ok(Self { atoms, norms, gram: OnceLock::new(), columns: OnceLock::new(), lipschitz: OnceLock::new() })
    }

    /// Like [`Dictionary::new`], but first scales every atom to unit norm.
    pub fn normalized(mut atoms: Mat<T>) -> Result<Self> {
        validate::non_empty("dictionary", atoms.as_ref())?;
        validate::finite("dictionary", atoms.as_ref())?;
        let norms = linalg::row_norms(atoms.as_ref());
        for (i, &n) in norms.iter().enumerate() {
            if n <= T::zero() || n.is_nan() {
                return Err(Error::ZeroNormAtom { index: i, norm: n.as_f64() });
            }
            let inv = n.recip();
            for j in 0..atoms.ncols() {
                atoms[(i, j)] *= inv;
            }
        }
        Self::new(atoms)
    }

    /// Copies a borrowed matrix, then as [`Dictionary::new`].
    pub fn from_ref(atoms: MatRef<'_, T>) -> Result<Self> {
        Self::new(atoms.to_owned())
    }

    /// The atoms, one per row.
    pub fn atoms(&self) -> MatRef<'_, T> {
        self.atoms.as_ref()
    }

    /// Gives back the atom matrix.
    pub fn into_atoms(self) -> Mat<T> {
        self.atoms
    }

    /// Number of atoms (rows).
    pub fn n_atoms(&self) -> usize {
        self.atoms.nrows()
    }

    /// Signal dimension (columns).
    pub fn n_features(&self) -> usize {
        self.atoms.ncols()
    }

    /// Euclidean norm of every atom.
    pub fn norms(&self) -> &[T] {
        &self.norms
    }

    /// `G = D D^T` (`n_atoms x n_atoms`), computed on first use.
    pub fn gram(&self) -> MatRef<'_, T> {
        self.gram.get_or_init(|| linalg::gram(self.atoms.as_ref())).as_ref()
    }

    /// `D^T` (`n_features x n_atoms`, column-major), computed on first use:
    /// column `k` is atom `k` as one contiguous slice, for loops that walk
    /// the atoms of a sparse code.
    pub fn atom_columns(&self) -> MatRef<'_, T> {
        self.columns.get_or_init(|| self.atoms.transpose().to_owned()).as_ref()
    }

    /// `L = ||D||_2^2`, the largest eigenvalue of the Gram matrix: the
    /// Lipschitz constant of the gradient of `0.5||x - D^T z||^2`.
    pub fn lipschitz(&self) -> T {
        *self.lipschitz.get_or_init(|| linalg::spectral_norm_sq(self.atoms.as_ref()))
    }

    /// Fails unless signals with `n_features` columns fit this dictionary.
    pub fn check_signals(&self, name: &str, n_features: usize) -> Result<()> {
        if n_features != self.n_features() {
            return Err(Error::Shape(format!(
                "{name} has {n_features} features per row but the dictionary's atoms have {}",
                self.n_features()
            )));
        }
        Ok(())
    }
}
