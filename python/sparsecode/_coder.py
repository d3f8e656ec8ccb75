"""Sparse coding over a fixed dictionary as scikit-learn transformers."""

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from ._encode import ALGORITHMS, sparse_encode
from ._validation import FLOAT_DTYPES, as_dictionary, as_float_array


class _SparseCodingMixin(ClassNamePrefixFeaturesOutMixin, TransformerMixin):
    """``transform``/``inverse_transform`` shared by every estimator that codes
    signals over a dictionary (fixed or learned): the ``transform_*``
    parameters select the method, as in scikit-learn."""

    _coding_parameter_constraints = {
        "transform_algorithm": [StrOptions(set(ALGORITHMS))],
        "transform_n_nonzero_coefs": [Interval(Integral, 1, None, closed="left"), None],
        "transform_alpha": [Interval(Real, 0, None, closed="left"), None],
        "split_sign": ["boolean"],
        "n_jobs": [Integral, None],
        "positive_code": ["boolean"],
        "transform_max_iter": [Interval(Integral, 0, None, closed="left")],
    }

    def _transform_alpha(self):
        if self.transform_alpha is None and getattr(self, "alpha", None) is not None:
            return self.alpha
        return self.transform_alpha

    def _transform_n_nonzero_coefs(self):
        return self.transform_n_nonzero_coefs

    def _omp_rule(self):
        """How ``omp`` picks atoms; estimators without an ``omp_rule`` parameter use plain OMP."""
        return "correlation"

    def _encode(self, X, dictionary):
        X = validate_data(self, X, reset=False, dtype=FLOAT_DTYPES, ensure_all_finite=False)
        code = sparse_encode(
            X,
            as_dictionary(dictionary, X.dtype),
            algorithm=self.transform_algorithm,
            n_nonzero_coefs=self._transform_n_nonzero_coefs(),
            alpha=self._transform_alpha(),
            max_iter=self.transform_max_iter,
            n_jobs=self.n_jobs,
            positive=self.positive_code,
            omp_rule=self._omp_rule(),
        )
        if self.split_sign:
            code = np.hstack([np.maximum(code, 0), -np.minimum(code, 0)])
        return code

    def _decode(self, code, dictionary):
        code = as_float_array(code, name="code")
        n_components = dictionary.shape[0] * (2 if self.split_sign else 1)
        if code.shape[1] != n_components:
            raise ValueError(
                "The number of components in the code is different from the number of components in the "
                f"dictionary. Expected {n_components}, got {code.shape[1]}."
            )
        if self.split_sign:
            half = code.shape[1] // 2
            code = code[:, :half] - code[:, half:]
        return code @ np.asarray(dictionary, dtype=code.dtype)

    def transform(self, X):
        """Codes of ``X`` (n_samples x n_components) over the learned dictionary ``components_``."""
        check_is_fitted(self)
        return self._encode(X, self.components_)

    def inverse_transform(self, X):
        """Signals ``X @ components_`` rebuilt from codes ``X`` (n_samples x n_components)."""
        check_is_fitted(self)
        return self._decode(X, self.components_)


class SparseCoder(_SparseCodingMixin, BaseEstimator):
    """Sparse coding of signals over a fixed dictionary: ``X ~ code @ dictionary``.

    A drop-in replacement for :class:`sklearn.decomposition.SparseCoder` with the
    same parameters, on the Rust core (see :func:`sparsecode.sparse_encode` for
    the algorithms, including the extensions ``'fista'`` and
    ``'hard_threshold'`` and non-negative OMP).

    Parameters
    ----------
    dictionary : ndarray of shape (n_components, n_features)
        The atoms, one per row.
    transform_algorithm : str, default='omp'
        One of ``'omp'``, ``'lasso_lars'``, ``'lasso_cd'``, ``'lars'``,
        ``'threshold'``, ``'fista'``, ``'hard_threshold'``.
    transform_n_nonzero_coefs : int, default=None
        Atoms per signal for ``omp``/``lars`` (default ``n_features / 10``).
    transform_alpha : float, default=None
        Lasso penalty, threshold, or OMP squared-residual tolerance.
    split_sign : bool, default=False
        Return ``[max(code, 0), -min(code, 0)]`` side by side.
    n_jobs : int, default=None
        Threads (``None``: 1, ``-1``: all cores).
    positive_code : bool, default=False
        Non-negative codes.
    transform_max_iter : int, default=1000
        Iteration budget of the iterative methods.
    omp_rule : {'correlation', 'ormp'}, default='correlation'
        How ``transform_algorithm='omp'`` picks the next atom: the atom most
        correlated with the residual (plain OMP, scikit-learn's codes), or
        ``'ormp'``, order-recursive matching pursuit, the atom whose addition
        leaves the smallest least-squares residual (SPAMS' ``omp``; see
        :func:`sparsecode.sparse_encode`). ``'ormp'`` needs
        ``transform_algorithm='omp'`` and ``positive_code=False``.

    Attributes
    ----------
    n_components_ : int
        Number of atoms.
    n_features_in_ : int
        Number of features seen by :meth:`fit`.

    Examples
    --------
    >>> import numpy as np
    >>> from sparsecode import SparseCoder
    >>> coder = SparseCoder(np.eye(3), transform_algorithm="omp", transform_n_nonzero_coefs=1)
    >>> coder.transform(np.array([[0.0, 2.0, 0.1]]))
    array([[0., 2., 0.]])
    """

    _parameter_constraints = {
        "dictionary": ["array-like"],
        **_SparseCodingMixin._coding_parameter_constraints,
        "omp_rule": [StrOptions({"correlation", "ormp"})],
    }

    def __init__(
        self,
        dictionary,
        *,
        transform_algorithm="omp",
        transform_n_nonzero_coefs=None,
        transform_alpha=None,
        split_sign=False,
        n_jobs=None,
        positive_code=False,
        transform_max_iter=1000,
        omp_rule="correlation",
    ):
        self.dictionary = dictionary
        self.transform_algorithm = transform_algorithm
        self.transform_n_nonzero_coefs = transform_n_nonzero_coefs
        self.transform_alpha = transform_alpha
        self.split_sign = split_sign
        self.n_jobs = n_jobs
        self.positive_code = positive_code
        self.transform_max_iter = transform_max_iter
        self.omp_rule = omp_rule

    def _omp_rule(self):
        return self.omp_rule

    def _check_omp_rule(self):
        if self.omp_rule == "ormp" and self.transform_algorithm != "omp":
            raise ValueError(
                f"omp_rule='ormp' applies to transform_algorithm='omp' only, not {self.transform_algorithm!r}"
            )
        if self.omp_rule == "ormp" and self.positive_code:
            raise ValueError("omp_rule='ormp' has no non-negative variant: use positive_code=False")

    def fit(self, X, y=None):
        """Checks the parameters and ``X`` against the dictionary; learns nothing."""
        self._validate_params()
        self._check_omp_rule()
        X = validate_data(self, X, dtype=FLOAT_DTYPES)
        dictionary = np.asarray(self.dictionary)
        self.n_components_ = dictionary.shape[0]
        if X.shape[1] != dictionary.shape[1]:
            raise ValueError(
                "Dictionary and X have different numbers of features: "
                f"dictionary.shape: {dictionary.shape} X.shape: {X.shape}"
            )
        return self

    def transform(self, X, y=None):
        """Codes of ``X`` (n_samples x n_components) over ``dictionary``."""
        self._validate_params()
        self._check_omp_rule()
        return self._encode(X, self.dictionary)

    def inverse_transform(self, X):
        """Signals ``X @ dictionary`` rebuilt from codes ``X``."""
        return self._decode(X, np.asarray(self.dictionary))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    @property
    def _n_features_out(self):
        return np.asarray(self.dictionary).shape[0]
