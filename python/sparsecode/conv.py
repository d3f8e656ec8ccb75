"""Convolutional sparse coding and convolutional dictionary learning.

A signal is approximated by a sum of convolutions ``x ~ sum_k d_k * z_k`` of
small filters ``d_k`` with sparse coefficient maps ``z_k``, found by
convolutional basis pursuit denoising (CBPDN)::

    min_z  0.5 ||W (x - sum_k d_k * z_k)||^2 + alpha sum_k ||z_k||_1

solved by ADMM in the DFT domain (Wohlberg 2016, "Efficient algorithms for
convolutional sparse representations") or by FISTA. ``W`` is an optional mask
(0 marks a missing sample). Works on 1-D signals (``X`` of shape
``(n_signals, length)``, filters ``(n_filters, filter_length)``) and on 2-D
images (``X`` of shape ``(n_images, height, width)``, filters
``(n_filters, filter_height, filter_width)``); maps have shape
``(n_signals, n_filters, *map_shape)``. With ``boundary='circular'`` the
signals are periodic and the maps have the signals' shape; with
``'linear'`` the convolution is exact (zero outside the signal) and each map
axis is longer by ``filter size - 1``.

>>> import numpy as np
>>> from sparsecode.conv import ConvSparseCoder
>>> x = np.zeros((1, 32)); x[0, 5:7] = [1.0, -1.0]; x[0, 20:22] = [2.0, -2.0]
>>> coder = ConvSparseCoder(np.array([[1.0, -1.0]]) / np.sqrt(2), alpha=0.01)
>>> maps = coder.transform(x)
>>> maps.shape
(1, 1, 32)
>>> [int(i) for i in np.flatnonzero(np.abs(maps[0, 0]) > 0.5)]
[5, 20]
"""

import numbers

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from . import _sparsecode
from ._validation import resolve_n_jobs, seed_from

__all__ = ["ConvDictionaryLearning", "ConvSparseCoder"]

_SOLVERS = ("admm", "fista")
_BOUNDARIES = ("circular", "linear")


def _float_array(x, name, dtype=None):
    """``x`` as a float32/float64 array (``dtype`` when given; integer and
    boolean input becomes float64)."""
    x = np.asarray(x)
    if dtype is not None:
        if x.dtype != dtype:
            if x.dtype.kind not in "biuf":
                raise TypeError(f"{name} must hold real numbers, got dtype {x.dtype}")
            x = x.astype(dtype)
    elif x.dtype not in (np.float32, np.float64):
        if x.dtype.kind not in "biu":
            raise TypeError(f"{name} must hold real numbers, got dtype {x.dtype}")
        x = x.astype(np.float64)
    return x


def _signals(X, n_spatial=None):
    """``X`` (``(n, length)`` or ``(n, height, width)``) as the core's
    ``(n, 1, *spatial)`` layout, checked to have ``n_spatial`` spatial axes
    when given."""
    X = _float_array(X, "X")
    if X.ndim not in (2, 3):
        raise ValueError(
            f"X must be 2-D (n_signals, length) or 3-D (n_images, height, width), got shape {X.shape}"
        )
    if n_spatial is not None and X.ndim - 1 != n_spatial:
        raise ValueError(
            f"X has {X.ndim - 1} spatial dimension(s) (shape {X.shape}) but the filters have {n_spatial}"
        )
    return X[:, np.newaxis]


def _mask(mask, X):
    if mask is None:
        return None
    mask = _float_array(mask, "mask", X.dtype)
    if mask.shape != X.shape[:1] + X.shape[2:]:
        raise ValueError(f"mask has shape {mask.shape} but X has shape {X.shape[:1] + X.shape[2:]}")
    return mask[:, np.newaxis]


def _check_choice(name, value, choices):
    if value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")


def _check_count(name, value):
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return int(value)


class ConvSparseCoder(TransformerMixin, BaseEstimator):
    """Convolutional sparse coding over fixed filters (CBPDN).

    Parameters
    ----------
    filters : ndarray of shape (n_filters, length) or (n_filters, height, width)
        The filters ``d_k``; none may be zero.
    alpha : float, default=0.1
        Weight of the l1 penalty on the maps.
    solver : {'admm', 'fista'}, default='admm'
        ADMM in the DFT domain (Wohlberg 2016) or FISTA.
    boundary : {'circular', 'linear'}, default='circular'
        Periodic signals, or exact zero-padded convolution.
    positive : bool, default=False
        Constrain the maps to be non-negative.
    max_iter : int, default=200
        Iteration budget.
    tol : float, default=1e-3
        Relative tolerance of the stopping rule.
    rho : float or None, default=None
        ADMM penalty (``None``: ``50 alpha + 1``, adapted during the solve).
    n_jobs : int or None, default=None
        Threads (scikit-learn's convention).

    Attributes
    ----------
    objective_ : float
        CBPDN objective of the last :meth:`transform`.
    n_iter_ : int
        Iterations of the last :meth:`transform`.
    converged_ : bool
        Whether the last :meth:`transform` met its stopping rule.
    """

    def __init__(
        self,
        filters,
        *,
        alpha=0.1,
        solver="admm",
        boundary="circular",
        positive=False,
        max_iter=200,
        tol=1e-3,
        rho=None,
        n_jobs=None,
    ):
        self.filters = filters
        self.alpha = alpha
        self.solver = solver
        self.boundary = boundary
        self.positive = positive
        self.max_iter = max_iter
        self.tol = tol
        self.rho = rho
        self.n_jobs = n_jobs

    def fit(self, X=None, y=None):
        """Does nothing: the filters are fixed. Returns ``self``."""
        return self

    def _filters(self, dtype):
        filters = _float_array(self.filters, "filters", dtype)
        if filters.ndim not in (2, 3):
            raise ValueError(
                "filters must be 2-D (n_filters, length) or 3-D (n_filters, height, width), "
                f"got shape {filters.shape}"
            )
        return filters[:, np.newaxis]

    def transform(self, X, mask=None):
        """Sparse maps of ``X``, shape ``(n_signals, n_filters, *map_shape)``.

        ``mask`` (the shape of ``X``) weights each sample of the data term;
        zero marks a missing sample.
        """
        _check_choice("solver", self.solver, _SOLVERS)
        _check_choice("boundary", self.boundary, _BOUNDARIES)
        X = _signals(X)
        filters = self._filters(X.dtype)
        if filters.ndim != X.ndim:
            raise ValueError(
                f"X has {X.ndim - 2} spatial dimension(s) (shape {X.shape[:1] + X.shape[2:]}) "
                f"but the filters have {filters.ndim - 2}"
            )
        maps, self.objective_, self.n_iter_, self.converged_ = _sparsecode.conv_code(
            filters,
            X,
            _mask(mask, X),
            float(self.alpha),
            self.solver,
            self.boundary,
            bool(self.positive),
            _check_count("max_iter", self.max_iter),
            float(self.tol),
            rho=None if self.rho is None else float(self.rho),
            n_jobs=resolve_n_jobs(self.n_jobs),
        )
        return maps

    def inverse_transform(self, maps):
        """The signals ``sum_k d_k * z_k`` that ``maps`` represent, shape
        ``(n_signals, *signal_shape)``."""
        _check_choice("boundary", self.boundary, _BOUNDARIES)
        maps = _float_array(maps, "maps")
        filters = self._filters(maps.dtype)
        if maps.ndim != filters.ndim:
            raise ValueError(
                f"maps must have shape (n_signals, n_filters, *map_shape) with {filters.ndim - 2} spatial "
                f"dimension(s), got shape {maps.shape}"
            )
        signals = _sparsecode.conv_reconstruct(filters, maps, self.boundary, n_jobs=resolve_n_jobs(self.n_jobs))
        return signals[:, 0]


class ConvDictionaryLearning(TransformerMixin, BaseEstimator):
    """Convolutional dictionary learning: alternates CBPDN coding (ADMM) of
    the training signals and a FISTA update of the filters, each filter kept
    in the unit ball (Wohlberg 2016; Garcia-Cardona & Wohlberg 2018,
    "Convolutional dictionary learning: a comparative review").

    Parameters
    ----------
    n_filters : int
        Number of filters.
    filter_shape : int or tuple of int
        Length of a 1-D filter, or ``(height, width)`` of a 2-D one.
    alpha : float, default=0.1
        Weight of the l1 penalty on the maps.
    boundary : {'circular', 'linear'}, default='circular'
    max_iter : int, default=50
        Outer iterations (coding + filter update).
    coding_iter, filter_iter : int, default=10
        ADMM iterations per coding step, FISTA iterations per filter update.
    zero_mean : bool, default=False
        Constrain the filters to zero mean.
    positive : bool, default=False
        Constrain the maps to be non-negative.
    filters_init : ndarray of shape (n_filters, *filter_shape) or None
        Initial filters; ``None`` draws windows of the signals.
    transform_solver, transform_max_iter, transform_tol :
        The :class:`ConvSparseCoder` settings of :meth:`transform`.
    random_state : int, RandomState or None
        Seed of the initial filters.
    n_jobs : int or None

    Attributes
    ----------
    filters_ : ndarray of shape (n_filters, *filter_shape)
    objective_ : ndarray of shape (n_iter_,)
        CBPDN objective after each outer iteration.
    n_iter_ : int
    """

    def __init__(
        self,
        n_filters,
        filter_shape,
        *,
        alpha=0.1,
        boundary="circular",
        max_iter=50,
        coding_iter=10,
        filter_iter=10,
        zero_mean=False,
        positive=False,
        filters_init=None,
        transform_solver="admm",
        transform_max_iter=200,
        transform_tol=1e-3,
        random_state=None,
        n_jobs=None,
    ):
        self.n_filters = n_filters
        self.filter_shape = filter_shape
        self.alpha = alpha
        self.boundary = boundary
        self.max_iter = max_iter
        self.coding_iter = coding_iter
        self.filter_iter = filter_iter
        self.zero_mean = zero_mean
        self.positive = positive
        self.filters_init = filters_init
        self.transform_solver = transform_solver
        self.transform_max_iter = transform_max_iter
        self.transform_tol = transform_tol
        self.random_state = random_state
        self.n_jobs = n_jobs

    def fit(self, X, y=None, mask=None):
        """Learns the filters from ``X``; ``mask`` (the shape of ``X``) weights
        the data term. Returns ``self``."""
        self._fit(X, mask)
        return self

    def fit_transform(self, X, y=None, mask=None):
        """Learns the filters and returns the training signals' maps from the
        last outer iteration, shape ``(n_signals, n_filters, *map_shape)``."""
        return self._fit(X, mask)

    def _fit(self, X, mask):
        _check_choice("boundary", self.boundary, _BOUNDARIES)
        shape = (self.filter_shape,) if isinstance(self.filter_shape, numbers.Integral) else self.filter_shape
        shape = tuple(_check_count("filter_shape", s) for s in shape)
        X = _signals(X, len(shape))
        init = None
        if self.filters_init is not None:
            init = _float_array(self.filters_init, "filters_init", X.dtype)
            if init.shape != (self.n_filters,) + shape:
                raise ValueError(f"filters_init has shape {init.shape}, expected {(self.n_filters,) + shape}")
            init = init[:, np.newaxis]
        filters, maps, objective = _sparsecode.conv_learn(
            X,
            _mask(mask, X),
            init,
            _check_count("n_filters", self.n_filters),
            list(shape),
            float(self.alpha),
            self.boundary,
            _check_count("max_iter", self.max_iter),
            _check_count("coding_iter", self.coding_iter),
            _check_count("filter_iter", self.filter_iter),
            bool(self.zero_mean),
            bool(self.positive),
            seed_from(self.random_state),
            n_jobs=resolve_n_jobs(self.n_jobs),
        )
        self.filters_ = filters[:, 0]
        self.objective_ = np.asarray(objective)
        self.n_iter_ = len(objective)
        return maps

    def _coder(self):
        if not hasattr(self, "filters_"):
            from sklearn.exceptions import NotFittedError

            raise NotFittedError("ConvDictionaryLearning is not fitted yet: call fit first")
        return ConvSparseCoder(
            self.filters_,
            alpha=self.alpha,
            solver=self.transform_solver,
            boundary=self.boundary,
            positive=self.positive,
            max_iter=self.transform_max_iter,
            tol=self.transform_tol,
            n_jobs=self.n_jobs,
        )

    def transform(self, X, mask=None):
        """Maps of ``X`` over the learned filters (see :meth:`ConvSparseCoder.transform`)."""
        return self._coder().transform(X, mask)

    def inverse_transform(self, maps):
        """The signals that ``maps`` represent over the learned filters."""
        return self._coder().inverse_transform(maps)
