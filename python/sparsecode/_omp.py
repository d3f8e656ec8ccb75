"""Orthogonal matching pursuit as a scikit-learn linear regressor."""

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, MultiOutputMixin, RegressorMixin
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from ._encode import encode_details
from ._validation import FLOAT_DTYPES


class OrthogonalMatchingPursuit(MultiOutputMixin, RegressorMixin, BaseEstimator):
    """Orthogonal matching pursuit (Pati et al. 1993) for linear regression.

    A replacement for :class:`sklearn.linear_model.OrthogonalMatchingPursuit`:
    ``y ~ X @ coef_ + intercept_`` with at most ``n_nonzero_coefs`` non-zero
    coefficients, or until the squared residual norm is at most ``tol``. The
    columns of ``X`` are the atoms, each target is a signal, and the Rust core
    codes all targets at once (Batch-OMP with Cholesky updates).

    Atoms are selected by their correlation with the residual divided by their
    norm, which equals scikit-learn's rule when the columns have equal norms
    (scikit-learn assumes unit-norm columns). Constant columns get a zero
    coefficient.

    Parameters
    ----------
    n_nonzero_coefs : int, default=None
        Non-zero coefficients per target; default ``max(1, n_features / 10)``.
        Ignored when ``tol`` is set.
    tol : float, default=None
        Stop when the squared residual norm is at most ``tol``.
    fit_intercept : bool, default=True
        Centre ``X`` and ``y`` first and fit an intercept.
    positive : bool, default=False
        Non-negative coefficients (non-negative OMP; an extension).
    n_jobs : int, default=None
        Threads for several targets (``None``: 1, ``-1``: all cores).
    omp_rule : {'correlation', 'ormp'}, default='correlation'
        How the next column is chosen: the one most correlated with the
        residual (above), or ``'ormp'``, order-recursive matching pursuit
        (orthogonal least squares, Chen, Billings & Luo 1989): the column
        whose addition leaves the smallest least-squares residual, which
        does not depend on the column norms. ``'ormp'`` needs
        ``positive=False``.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,) or (n_targets, n_features)
    intercept_ : float or ndarray of shape (n_targets,)
    n_iter_ : int or ndarray of shape (n_targets,)
        Atoms selected per target.
    n_nonzero_coefs_ : int or None
        The sparsity budget used (None when ``tol`` was set).
    n_features_in_ : int

    Examples
    --------
    >>> import numpy as np
    >>> from sparsecode import OrthogonalMatchingPursuit
    >>> X = np.random.default_rng(0).normal(size=(50, 10))
    >>> y = 3 * X[:, 2] - 2 * X[:, 7] + 1
    >>> model = OrthogonalMatchingPursuit(n_nonzero_coefs=2).fit(X, y)
    >>> np.flatnonzero(model.coef_).tolist(), round(float(model.intercept_), 6)
    ([2, 7], 1.0)
    """

    _parameter_constraints = {
        "n_nonzero_coefs": [Interval(Integral, 1, None, closed="left"), None],
        "tol": [Interval(Real, 0, None, closed="left"), None],
        "fit_intercept": ["boolean"],
        "positive": ["boolean"],
        "n_jobs": [Integral, None],
        "omp_rule": [StrOptions({"correlation", "ormp"})],
    }

    def __init__(
        self, *, n_nonzero_coefs=None, tol=None, fit_intercept=True, positive=False, n_jobs=None, omp_rule="correlation"
    ):
        self.n_nonzero_coefs = n_nonzero_coefs
        self.tol = tol
        self.fit_intercept = fit_intercept
        self.positive = positive
        self.n_jobs = n_jobs
        self.omp_rule = omp_rule

    def fit(self, X, y):
        """Fits the sparse linear model to ``X`` (n_samples, n_features) and ``y``."""
        self._validate_params()
        if self.omp_rule == "ormp" and self.positive:
            raise ValueError("omp_rule='ormp' has no non-negative variant: use positive=False")
        X, y = validate_data(self, X, y, multi_output=True, y_numeric=True, dtype=FLOAT_DTYPES)
        y = np.asarray(y, dtype=X.dtype)
        n_features = X.shape[1]
        if self.tol is None:
            budget = self.n_nonzero_coefs or max(int(0.1 * n_features), 1)
            if budget > n_features:
                raise ValueError(
                    f"n_nonzero_coefs = {budget} cannot exceed the number of features ({n_features})"
                )
        else:
            budget = None
        targets = y[:, None] if y.ndim == 1 else y
        if self.fit_intercept:
            X_offset, y_offset = X.mean(axis=0), targets.mean(axis=0)
            X, targets = X - X_offset, targets - y_offset
        else:
            X_offset, y_offset = np.zeros(n_features, X.dtype), np.zeros(targets.shape[1], X.dtype)
        norms = np.linalg.norm(X, axis=0)
        usable = norms > np.finfo(X.dtype).eps * max(norms.max(), 1.0) * np.sqrt(X.shape[0])
        coef = np.zeros((targets.shape[1], n_features), dtype=X.dtype)
        n_iter = np.zeros(targets.shape[1], dtype=np.int64)
        if usable.any():
            atoms = X[:, usable].T
            code, _, _ = encode_details(
                targets.T,
                atoms,
                algorithm="omp",
                n_nonzero_coefs=None if budget is None else min(budget, atoms.shape[0]),
                alpha=self.tol,
                positive=self.positive,
                n_jobs=self.n_jobs,
                omp_rule=self.omp_rule,
            )
            coef[:, usable] = code
            n_iter = np.count_nonzero(code, axis=1)
        intercept = y_offset - coef @ X_offset
        if y.ndim == 1:
            self.coef_, self.intercept_, self.n_iter_ = coef[0], float(intercept[0]), int(n_iter[0])
        else:
            self.coef_, self.intercept_, self.n_iter_ = coef, intercept, n_iter
        self.n_nonzero_coefs_ = budget
        return self

    def predict(self, X):
        """``X @ coef_.T + intercept_``."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=FLOAT_DTYPES)
        return X @ self.coef_.T + self.intercept_
