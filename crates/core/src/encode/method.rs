//! The encoders as one value chosen at run time, for front ends (the CLI, the
//! Python module) and for code that takes "any encoder" as a parameter.
//!
//! [`Method`] only dispatches: each call matches on the variant and hands the
//! encoder to the generic batch driver [`encode`] / [`encode_into`] /
//! [`encode_sparse`], so every method shares one loop.
//!
//! ```
//! use sparsecode::encode::method::Method;
//! use sparsecode::Dictionary;
//! let d = Dictionary::new(faer::mat![[1.0, 0.0], [0.0, 1.0]]).unwrap();
//! let x = faer::mat![[3.0, 0.5]];
//! for method in [Method::omp(1), Method::ormp(1), Method::lars(1.0), Method::cd(1.0), Method::fista(1.0), Method::threshold(1.0)] {
//!     let out = method.encode(&d, x.as_ref()).unwrap();
//!     assert_eq!(out.reports[0].n_nonzero, 1, "{}", method.name());
//! }
//! ```

use super::cd::CoordinateDescent;
use super::fista::Fista;
use super::lars::Lars;
use super::lasso::ElasticNet;
use super::omp::{Omp, Ormp};
use super::threshold::Threshold;
use super::{encode, encode_into, encode_sparse, Encoder, Encoding, SignalReport, SparseEncoding, Start};
use crate::{Dictionary, Float, Result};
use faer::{MatMut, MatRef};

/// One of the sparse encoders, chosen at run time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Method {
    /// Orthogonal Matching Pursuit (l0).
    Omp(Omp),
    /// Order-recursive matching pursuit (l0, selection by the re-fitted residual).
    Ormp(Ormp),
    /// LARS-Lasso homotopy (exact Lasso / elastic net).
    Lars(Lars),
    /// Coordinate descent (Lasso / elastic net, warm-startable).
    Cd(CoordinateDescent),
    /// FISTA (Lasso / elastic net, warm-startable).
    Fista(Fista),
    /// Soft or hard thresholding of the correlations.
    Threshold(Threshold),
}

/// Calls `$body` with `$encoder` bound to the encoder inside `$method`.
macro_rules! dispatch {
    ($method:expr, $encoder:ident => $body:expr) => {
        match $method {
            Method::Omp($encoder) => $body,
            Method::Ormp($encoder) => $body,
            Method::Lars($encoder) => $body,
            Method::Cd($encoder) => $body,
            Method::Fista($encoder) => $body,
            Method::Threshold($encoder) => $body,
        }
    };
}

impl Method {
    /// OMP with at most `n_nonzero` atoms per signal.
    pub fn omp(n_nonzero: usize) -> Self {
        Method::Omp(Omp::with_n_nonzero(n_nonzero))
    }

    /// ORMP with at most `n_nonzero` atoms per signal.
    pub fn ormp(n_nonzero: usize) -> Self {
        Method::Ormp(Ormp::with_n_nonzero(n_nonzero))
    }

    /// LARS-Lasso at `lambda`.
    pub fn lars(lambda: f64) -> Self {
        Method::Lars(Lars::new(ElasticNet::lasso(lambda)))
    }

    /// Coordinate descent at `lambda` (relative gap `1e-6`, 1000 sweeps, screening on).
    pub fn cd(lambda: f64) -> Self {
        Method::Cd(CoordinateDescent::new(ElasticNet::lasso(lambda)))
    }

    /// FISTA at `lambda` (relative gap `1e-6`, 1000 steps).
    pub fn fista(lambda: f64) -> Self {
        Method::Fista(Fista::new(ElasticNet::lasso(lambda)))
    }

    /// Soft thresholding at `lambda`.
    pub fn threshold(lambda: f64) -> Self {
        Method::Threshold(Threshold::soft(lambda))
    }

    /// A short lower-case name: `omp`, `ormp`, `lars`, `cd`, `fista` or `threshold`.
    pub fn name(&self) -> &'static str {
        match self {
            Method::Omp(_) => "omp",
            Method::Ormp(_) => "ormp",
            Method::Lars(_) => "lars",
            Method::Cd(_) => "cd",
            Method::Fista(_) => "fista",
            Method::Threshold(_) => "threshold",
        }
    }

    /// Whether the method starts from the codes it is given ([`Start::Warm`]
    /// then pays off): coordinate descent and FISTA.
    pub fn warm_starts(&self) -> bool {
        matches!(self, Method::Cd(_) | Method::Fista(_))
    }

    /// Checks the method's parameters against `dict` without coding anything.
    pub fn check<T: Float>(&self, dict: &Dictionary<T>) -> Result<()> {
        dispatch!(self, e => Encoder::<T>::check(e, dict))
    }

    /// Codes every row of `x` (see [`encode`]).
    pub fn encode<T: Float>(&self, dict: &Dictionary<T>, x: MatRef<'_, T>) -> Result<Encoding<T>> {
        dispatch!(self, e => encode(e, dict, x))
    }

    /// Codes every row of `x` into `codes`, from zero or from the codes there
    /// (see [`encode_into`]).
    pub fn encode_into<T: Float>(
        &self,
        dict: &Dictionary<T>,
        x: MatRef<'_, T>,
        codes: MatMut<'_, T>,
        start: Start,
    ) -> Result<Vec<SignalReport>> {
        dispatch!(self, e => encode_into(e, dict, x, codes, start))
    }

    /// Codes every row of `x` into sparse (CSR) codes, from zero or from the
    /// dense codes `init` (see [`encode_sparse`]).
    pub fn encode_sparse<T: Float>(
        &self,
        dict: &Dictionary<T>,
        x: MatRef<'_, T>,
        init: Option<MatRef<'_, T>>,
    ) -> Result<SparseEncoding<T>> {
        dispatch!(self, e => encode_sparse(e, dict, x, init))
    }
}

impl From<Omp> for Method {
    fn from(e: Omp) -> Self {
        Method::Omp(e)
    }
}

impl From<Ormp> for Method {
    fn from(e: Ormp) -> Self {
        Method::Ormp(e)
    }
}

impl From<Lars> for Method {
    fn from(e: Lars) -> Self {
        Method::Lars(e)
    }
}

impl From<CoordinateDescent> for Method {
    fn from(e: CoordinateDescent) -> Self {
        Method::Cd(e)
    }
}

impl From<Fista> for Method {
    fn from(e: Fista) -> Self {
        Method::Fista(e)
    }
}

impl From<Threshold> for Method {
    fn from(e: Threshold) -> Self {
        Method::Threshold(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Error;
    use faer::Mat;

    fn problem() -> (Dictionary<f64>, Mat<f64>) {
        let atoms = Mat::from_fn(12, 6, |i, j| ((i * 5 + j * 7) % 11) as f64 - 5.0 + if i == j { 3.0 } else { 0.0 });
        let x = Mat::from_fn(9, 6, |i, j| ((i * 3 + j * 2) % 7) as f64 - 3.0);
        (Dictionary::normalized(atoms).unwrap(), x)
    }

    #[test]
    fn dispatch_gives_what_the_generic_driver_gives() {
        let (d, x) = problem();
        let pen = ElasticNet::lasso(0.4).with_l2(0.1);
        let cases: [(Method, Encoding<f64>); 6] = [
            (Method::omp(3), encode(&Omp::with_n_nonzero(3), &d, x.as_ref()).unwrap()),
            (Method::ormp(3), encode(&Ormp::with_n_nonzero(3), &d, x.as_ref()).unwrap()),
            (Lars::new(pen).into(), encode(&Lars::new(pen), &d, x.as_ref()).unwrap()),
            (CoordinateDescent::new(pen).into(), encode(&CoordinateDescent::new(pen), &d, x.as_ref()).unwrap()),
            (Fista::new(pen).into(), encode(&Fista::new(pen), &d, x.as_ref()).unwrap()),
            (Threshold::hard(0.5).into(), encode(&Threshold::hard(0.5), &d, x.as_ref()).unwrap()),
        ];
        let names: Vec<_> = cases.iter().map(|(m, _)| m.name()).collect();
        assert_eq!(names, ["omp", "ormp", "lars", "cd", "fista", "threshold"]);
        for (method, direct) in cases {
            let out = method.encode(&d, x.as_ref()).unwrap();
            assert!(out.codes == direct.codes, "{}", method.name());
            assert_eq!(out.reports, direct.reports, "{}", method.name());
            assert!(out.codes.norm_max() > 0.0, "{}: all-zero codes", method.name());
        }
    }

    #[test]
    fn sparse_output_holds_the_non_zeros_of_the_dense_codes() {
        let (d, x) = problem();
        let pen = ElasticNet::lasso(0.4).with_l2(0.1);
        let methods: [Method; 7] = [
            Method::omp(3),
            Omp::with_n_nonzero(3).nonneg(true).into(),
            Method::ormp(3),
            Lars::new(pen).into(),
            CoordinateDescent::new(pen).into(),
            Fista::new(pen).into(),
            Threshold::hard(0.5).into(),
        ];
        // More signals than one block of the driver, and a column-major X.
        let x = Mat::from_fn(150, x.ncols(), |i, j| x[(i % x.nrows(), j)] * (1.0 + 0.01 * i as f64));
        let x_cols = x.transpose().to_owned();
        for method in methods {
            let dense = method.encode(&d, x.as_ref()).unwrap();
            for xv in [x.as_ref(), x_cols.as_ref().transpose()] {
                let sparse = method.encode_sparse(&d, xv, None).unwrap();
                let codes = &sparse.codes;
                assert_eq!((codes.n_rows, codes.n_cols), (150, d.n_atoms()), "{}", method.name());
                assert!(codes.to_dense() == dense.codes, "{}", method.name());
                assert_eq!(sparse.reports, dense.reports, "{}", method.name());
                assert_eq!(codes.indptr.len(), 151);
                for i in 0..150 {
                    let (cols, vals) = codes.row(i);
                    assert!(cols.windows(2).all(|w| w[0] < w[1]), "{}: columns in order", method.name());
                    assert!(vals.iter().all(|&v| v != 0.0), "{}: only non-zeros stored", method.name());
                    assert_eq!(cols.len(), dense.reports[i].n_nonzero);
                }
                assert!(codes.nnz() > 150, "{}: codes too sparse to test anything", method.name());
            }
        }
        // Warm starts read the dense initial codes.
        let exact = Method::lars(0.3).encode(&d, x.as_ref()).unwrap();
        for method in [Method::cd(0.3), Method::fista(0.3)] {
            let mut codes = exact.codes.clone();
            let reports = method.encode_into(&d, x.as_ref(), codes.as_mut(), Start::Warm).unwrap();
            let sparse = method.encode_sparse(&d, x.as_ref(), Some(exact.codes.as_ref())).unwrap();
            assert!(sparse.codes.to_dense() == codes, "{}", method.name());
            assert_eq!(sparse.reports, reports, "{}", method.name());
            assert!(reports.iter().all(|r| r.n_iter == 1), "{}: not a warm start", method.name());
        }
    }

    #[test]
    fn sparse_output_does_not_depend_on_the_thread_count() {
        let (d, x) = problem();
        let x = Mat::from_fn(300, x.ncols(), |i, j| x[(i % x.nrows(), j)] + 0.1 * ((i * 7 + j) % 5) as f64);
        for method in [Method::ormp(3), Method::lars(0.2)] {
            let run = |threads: usize| {
                let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
                pool.install(|| method.encode_sparse(&d, x.as_ref(), None).unwrap())
            };
            let one = run(1);
            for threads in [2, 3] {
                let many = run(threads);
                assert_eq!(many.codes, one.codes, "{} with {threads} threads", method.name());
                assert_eq!(many.reports, one.reports, "{} with {threads} threads", method.name());
            }
        }
    }

    #[test]
    fn sparse_output_checks_its_initial_codes() {
        let (d, x) = problem();
        let err = Method::cd(0.3).encode_sparse(&d, x.as_ref(), Some(Mat::zeros(2, d.n_atoms()).as_ref())).unwrap_err();
        assert!(matches!(err, Error::Shape(ref m) if m.starts_with("initial codes are 2 x 12")), "{err:?}");
        let mut init = Mat::zeros(x.nrows(), d.n_atoms());
        init[(1, 2)] = f64::NAN;
        let err = Method::cd(0.3).encode_sparse(&d, x.as_ref(), Some(init.as_ref())).unwrap_err();
        assert!(matches!(err, Error::NonFinite { row: 1, col: 2, .. }), "{err:?}");
    }

    #[test]
    fn warm_start_reaches_the_iterative_solvers() {
        let (d, x) = problem();
        let exact = Method::lars(0.3).encode(&d, x.as_ref()).unwrap();
        for method in [Method::cd(0.3), Method::fista(0.3)] {
            assert!(method.warm_starts());
            let mut codes = exact.codes.clone();
            let reports = method.encode_into(&d, x.as_ref(), codes.as_mut(), Start::Warm).unwrap();
            // Started at the solution: the first iteration certifies it.
            assert!(reports.iter().all(|r| r.n_iter == 1 && r.converged), "{}: {reports:?}", method.name());
        }
        assert!(!Method::lars(0.3).warm_starts());
    }

    #[test]
    fn parameters_are_checked_through_the_enum() {
        let (d, x) = problem();
        let err = Method::cd(-2.0).encode(&d, x.as_ref()).unwrap_err();
        assert_eq!(err, Error::parameter("lambda", -2.0, "must be finite and >= 0"));
        assert!(Method::fista(-1.0).check(&d).is_err());
        assert!(Method::fista(1.0).check(&d).is_ok());
    }
}
