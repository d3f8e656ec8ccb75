//! The files `sparsecode learn` writes: a saved model and a checkpoint.
//!
//! Both are NumPy `.npz` archives, readable with `numpy.load`:
//!
//! - **Model** (`model.npz`): `components`, the dictionary (`n_atoms x
//!   n_features`, float64, atoms in rows as scikit-learn's `components_`),
//!   `objective` (the objective per iteration, float64) and `metadata`, a
//!   uint8 array holding UTF-8 JSON: `{"format": "sparsecode-model",
//!   "version": 1, ...}` with the learning parameters, and `"patch": [h, w]`
//!   and `"remove_mean"` when the atoms are image patches. In Python:
//!   `json.loads(np.load("model.npz")["metadata"].tobytes())`.
//! - **Checkpoint**: the online learner's state (`dictionary`, statistics `a`
//!   and `b`, `objective`) and its `metadata` JSON (`"format":
//!   "sparsecode-checkpoint"`, counters and the run's configuration).
//!
//! [`read_dictionary`] reads the atoms from a model, or from any `.npy` /
//! `FILE.npz:NAME` array, so every command that takes a dictionary accepts a
//! model too.

use crate::io::{self, NpyArray};
use anyhow::{bail, Context as _};
use faer::{Mat, MatRef};
use ndarray::{Array1, Array2};
use ndarray_npy::NpzWriter;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// Name of the dictionary in a model archive.
pub const COMPONENTS: &str = "components";
/// Name of the JSON metadata in a model or checkpoint archive.
pub const METADATA: &str = "metadata";
/// `metadata.format` of a model.
pub const MODEL_FORMAT: &str = "sparsecode-model";
/// `metadata.format` of a checkpoint.
pub const CHECKPOINT_FORMAT: &str = "sparsecode-checkpoint";
/// Version of both layouts.
pub const VERSION: u64 = 1;

/// Writes an `.npz` archive of float64 matrices and vectors plus `metadata`
/// (JSON as uint8), atomically: an interrupted write leaves any previous file
/// intact.
pub fn write_archive(
    path: &Path,
    matrices: &[(&str, MatRef<'_, f64>)],
    vectors: &[(&str, &[f64])],
    metadata: &Value,
) -> anyhow::Result<()> {
    let json = serde_json::to_vec(metadata)?;
    io::write_atomically(path, |w| {
        let mut npz = NpzWriter::new(&mut *w);
        for (name, m) in matrices {
            npz.add_array(*name, &Array2::from_shape_fn((m.nrows(), m.ncols()), |(i, j)| m[(i, j)]))?;
        }
        for (name, v) in vectors {
            npz.add_array(*name, &Array1::from(v.to_vec()))?;
        }
        npz.add_array(METADATA, &Array1::from(json.clone()))?;
        npz.finish()?;
        Ok(())
    })
}

/// `FILE.npz:NAME`, the path syntax of [`io::read_array`].
fn member(path: &Path, name: &str) -> PathBuf {
    PathBuf::from(format!("{}:{name}", path.display()))
}

/// Reads the JSON metadata of an archive written by [`write_archive`],
/// checking its `format` field.
pub fn read_metadata(path: &Path, format: &str) -> anyhow::Result<Value> {
    let array = io::read_array(&member(path, METADATA))?;
    let bytes: Vec<u8> = array.data.iter().map(|&v| v as u8).collect();
    let value: Value = serde_json::from_slice(&bytes)
        .with_context(|| format!("the metadata of {} is not valid JSON", path.display()))?;
    match value.get("format").and_then(Value::as_str) {
        Some(f) if f == format => Ok(value),
        Some(f) => bail!("{} is a {f:?} file, not a {format:?} file", path.display()),
        None => bail!("{} has no \"format\" in its metadata; it was not written by sparsecode", path.display()),
    }
}

/// Reads the float64 matrix `name` of an archive.
pub fn read_member_matrix(path: &Path, name: &str) -> anyhow::Result<Mat<f64>> {
    io::read_matrix(&member(path, name), name)
}

/// Reads the float64 vector `name` of an archive.
pub fn read_member_vector(path: &Path, name: &str) -> anyhow::Result<Vec<f64>> {
    let array = io::read_array(&member(path, name))?;
    if array.data.ndim() != 1 {
        bail!("{} must be 1-D, but its shape is {:?}", array.source, array.data.shape());
    }
    Ok(array.data.iter().copied().collect())
}

/// A saved model: the dictionary and what describes it.
#[derive(Debug, Clone)]
pub struct Model {
    /// The atoms, `n_atoms x n_features`.
    pub components: Mat<f64>,
    /// The objective per iteration of the run that learned it.
    pub objective: Vec<f64>,
    /// The metadata JSON (format, version, parameters).
    pub metadata: Value,
}

impl Model {
    /// Patch size `(height, width)` when the atoms are image patches.
    pub fn patch(&self) -> Option<(usize, usize)> {
        let p = self.metadata.get("patch")?.as_array()?;
        match (p.first()?.as_u64()?, p.get(1)?.as_u64()?) {
            (h, w) if (h * w) as usize == self.components.ncols() => Some((h as usize, w as usize)),
            _ => None,
        }
    }

    /// Writes the model to `path` (see the module docs), atomically.
    pub fn write(&self, path: &Path) -> anyhow::Result<()> {
        let mut metadata = self.metadata.clone();
        if let Some(obj) = metadata.as_object_mut() {
            obj.insert("format".into(), MODEL_FORMAT.into());
            obj.insert("version".into(), VERSION.into());
            obj.insert("n_atoms".into(), self.components.nrows().into());
            obj.insert("n_features".into(), self.components.ncols().into());
        }
        write_archive(path, &[(COMPONENTS, self.components.as_ref())], &[("objective", &self.objective)], &metadata)
    }

    /// Reads a model written by [`Model::write`].
    pub fn read(path: &Path) -> anyhow::Result<Self> {
        let metadata = read_metadata(path, MODEL_FORMAT)?;
        let components = read_member_matrix(path, COMPONENTS)?;
        let objective = read_member_vector(path, "objective")?;
        Ok(Self { components, objective, metadata })
    }
}

/// Reads a dictionary: the `components` of a model archive when `path` is an
/// `.npz` holding them (and no `:NAME` is given), otherwise whatever
/// [`io::read_array`] reads (`.npy`, `FILE.npz`, `FILE.npz:NAME`).
pub fn read_dictionary(path: &Path) -> anyhow::Result<NpyArray> {
    let is_model = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("npz"))
        && std::fs::File::open(path)
            .ok()
            .and_then(|f| ndarray_npy::NpzReader::new(f).ok())
            .and_then(|mut z| z.names().ok())
            .is_some_and(|names| names.iter().any(|n| n == COMPONENTS));
    if is_model {
        io::read_array(&member(path, COMPONENTS))
    } else {
        io::read_array(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn model_round_trip_and_dictionary_reading() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.npz");
        let model = Model {
            components: Mat::from_fn(3, 4, |i, j| (i * 4 + j) as f64 * 0.25),
            objective: vec![3.0, 2.0, 1.5],
            metadata: json!({ "patch": [2, 2], "method": "online" }),
        };
        model.write(&path).unwrap();
        let back = Model::read(&path).unwrap();
        assert_eq!(back.components, model.components);
        assert_eq!(back.objective, model.objective);
        assert_eq!(back.patch(), Some((2, 2)));
        assert_eq!(back.metadata["format"], MODEL_FORMAT);
        assert_eq!(back.metadata["n_atoms"], 3);
        let d = read_dictionary(&path).unwrap();
        assert_eq!(d.data.shape(), &[3, 4]);
        assert!(read_metadata(&path, CHECKPOINT_FORMAT).unwrap_err().to_string().contains("not a"));
    }
}
