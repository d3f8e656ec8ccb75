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
from sklearn.exceptions import NotFittedError

from . import _sparsecode
from ._validation import resolve_n_jobs, seed_from

__all__ = ["ConvDictionaryLearning", "ConvSparseCoder", "MiniBatchConvDictionaryLearning"]

_SOLVERS = ("admm", "fista")
_FILTER_UPDATES = ("fista", "consensus")
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


def _to_core(X, multichannel):
    """An array of signals (``(n, *spatial)``, or ``(n, *spatial, channels)``
    when ``multichannel``) in the core's ``(n, channels, *spatial)`` layout."""
    return np.moveaxis(X, -1, 1) if multichannel else X[:, np.newaxis]


def _from_core(X, multichannel):
    return np.moveaxis(X, 1, -1) if multichannel else X[:, 0]


def _signals(X, multichannel, n_spatial=None):
    """``X`` in the core's layout, checked to have one or two spatial axes
    (``n_spatial`` when given)."""
    X = _float_array(X, "X")
    extra = 1 if multichannel else 0
    if X.ndim - extra not in (2, 3):
        layout = "(n_signals, length, channels) or (n_images, height, width, channels)" if multichannel else (
            "(n_signals, length) or (n_images, height, width)"
        )
        raise ValueError(f"X must have shape {layout}, got shape {X.shape}")
    if n_spatial is not None and X.ndim - 1 - extra != n_spatial:
        raise ValueError(
            f"X has {X.ndim - 1 - extra} spatial dimension(s) (shape {X.shape}) but the filters have {n_spatial}"
        )
    return _to_core(X, multichannel)


def _mask(mask, X, multichannel):
    """``mask`` (the shape of the signals as given) in the layout of the core-layout ``X``."""
    if mask is None:
        return None
    mask = _float_array(mask, "mask", X.dtype)
    expected = _from_core(X, multichannel).shape
    if mask.shape != expected:
        raise ValueError(f"mask has shape {mask.shape} but X has shape {expected}")
    return _to_core(mask, multichannel)


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
    multichannel : bool, default=False
        The last axis of the signals holds channels (``(n, length, c)`` or
        ``(n, height, width, c)``). Filters without a channel axis are shared
        by every channel and give ``c * n_filters`` maps per signal (map
        ``ch * n_filters + k``); filters with one (``(n_filters, *shape, c)``)
        give ``n_filters`` maps.
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
        multichannel=False,
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
        self.multichannel = multichannel
        self.n_jobs = n_jobs

    def fit(self, X=None, y=None):
        """Does nothing: the filters are fixed. Returns ``self``."""
        return self

    def _filters(self, dtype, n_spatial):
        """The filters in the core's layout, for signals of ``n_spatial`` spatial axes."""
        filters = _float_array(self.filters, "filters", dtype)
        if filters.ndim == n_spatial + 1:
            return filters[:, np.newaxis]
        if self.multichannel and filters.ndim == n_spatial + 2:
            return np.moveaxis(filters, -1, 1)
        raise ValueError(
            f"filters of shape {filters.shape} do not fit signals of {n_spatial} spatial dimension(s): expected "
            f"(n_filters, *filter_shape){' or (n_filters, *filter_shape, channels)' if self.multichannel else ''}"
        )

    def transform(self, X, mask=None):
        """Sparse maps of ``X``, shape ``(n_signals, n_filters, *map_shape)``.

        ``mask`` (the shape of ``X``) weights each sample of the data term;
        zero marks a missing sample.
        """
        _check_choice("solver", self.solver, _SOLVERS)
        _check_choice("boundary", self.boundary, _BOUNDARIES)
        multichannel = bool(self.multichannel)
        X = _signals(X, multichannel)
        filters = self._filters(X.dtype, X.ndim - 2)
        maps, self.objective_, self.n_iter_, self.converged_ = _sparsecode.conv_code(
            filters,
            X,
            _mask(mask, X, multichannel),
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
        """The signals ``sum_k d_k * z_k`` that ``maps`` (``(n_signals, n_maps,
        *map_shape)``) represent, in the layout of ``X``."""
        _check_choice("boundary", self.boundary, _BOUNDARIES)
        maps = _float_array(maps, "maps")
        if maps.ndim not in (3, 4):
            raise ValueError(f"maps must have shape (n_signals, n_maps, *map_shape), got shape {maps.shape}")
        filters = self._filters(maps.dtype, maps.ndim - 2)
        signals = _sparsecode.conv_reconstruct(filters, maps, self.boundary, n_jobs=resolve_n_jobs(self.n_jobs))
        return _from_core(signals, bool(self.multichannel))


class ConvDictionaryLearning(TransformerMixin, BaseEstimator):
    """Convolutional dictionary learning: alternates CBPDN coding (ADMM) of
    the training signals and an update of the filters (projected FISTA, or
    ADMM in the consensus form), each filter kept in the unit ball (Wohlberg
    2016; Garcia-Cardona & Wohlberg 2018, "Convolutional dictionary learning:
    a comparative review and new algorithms").

    Parameters
    ----------
    n_filters : int
        Number of filters.
    filter_shape : int or tuple of int
        Length of a 1-D filter, or ``(height, width)`` of a 2-D one.
    alpha : float, default=0.1
        Weight of the l1 penalty on the maps.
    boundary : {'circular', 'linear'}, default='circular'
    max_iter : int, default=100
        Outer iterations (coding + filter update).
    coding_iter, filter_iter : int, default=2
        ADMM iterations per coding step, iterations per filter update. Few
        inner iterations reach a given objective soonest: on
        ``bench/bench_cdl.py`` 2 + 2 reached SPORCO's objective (2-D) and
        alphacsc's (1-D) about twice as soon as 10 + 10, while 1 + 1 never
        adapts the ADMM penalties.
    filter_update : {'fista', 'consensus'}, default='consensus'
        Projected FISTA on all signals at once, or consensus ADMM: one copy of
        the filters per signal solved per frequency by Sherman-Morrison, a
        projected consensus step, duals carried across outer iterations
        (SPORCO's ``ConvCnstrMOD_Consensus``).
    zero_mean : bool, default=False
        Constrain the filters to zero mean.
    positive : bool, default=False
        Constrain the maps to be non-negative.
    multichannel : bool, default=False
        The last axis of the signals holds channels (see :class:`ConvSparseCoder`).
    multichannel_filters : bool, default=False
        With ``multichannel``, learn filters with one channel per signal
        channel (``filters_`` of shape ``(n_filters, *filter_shape, c)``)
        instead of single-channel filters shared by the channels.
    filters_init : ndarray of shape (n_filters, *filter_shape[, c]) or None
        Initial filters; ``None`` draws windows of the signals.
    transform_solver, transform_max_iter, transform_tol :
        The :class:`ConvSparseCoder` settings of :meth:`transform`.
    random_state : int, RandomState or None
        Seed of the initial filters.
    n_jobs : int or None

    Attributes
    ----------
    filters_ : ndarray of shape (n_filters, *filter_shape) or (n_filters, *filter_shape, c)
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
        max_iter=100,
        coding_iter=2,
        filter_iter=2,
        filter_update="consensus",
        zero_mean=False,
        positive=False,
        multichannel=False,
        multichannel_filters=False,
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
        self.filter_update = filter_update
        self.zero_mean = zero_mean
        self.positive = positive
        self.multichannel = multichannel
        self.multichannel_filters = multichannel_filters
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
        _check_choice("filter_update", self.filter_update, _FILTER_UPDATES)
        shape = (self.filter_shape,) if isinstance(self.filter_shape, numbers.Integral) else self.filter_shape
        shape = tuple(_check_count("filter_shape", s) for s in shape)
        multichannel = bool(self.multichannel)
        multichannel_filters = bool(self.multichannel_filters)
        if multichannel_filters and not multichannel:
            raise ValueError("multichannel_filters=True needs multichannel=True (signals with a channel axis)")
        X = _signals(X, multichannel, len(shape))
        filter_shape = (self.n_filters,) + shape + ((X.shape[1],) if multichannel_filters else ())
        init = None
        if self.filters_init is not None:
            init = _float_array(self.filters_init, "filters_init", X.dtype)
            if init.shape != filter_shape:
                raise ValueError(f"filters_init has shape {init.shape}, expected {filter_shape}")
            init = _to_core(init, multichannel_filters)
        filters, maps, objective = _sparsecode.conv_learn(
            X,
            _mask(mask, X, multichannel),
            init,
            _check_count("n_filters", self.n_filters),
            list(shape),
            multichannel_filters,
            float(self.alpha),
            self.boundary,
            _check_count("max_iter", self.max_iter),
            _check_count("coding_iter", self.coding_iter),
            _check_count("filter_iter", self.filter_iter),
            bool(self.zero_mean),
            bool(self.positive),
            seed_from(self.random_state),
            filter_update=self.filter_update,
            n_jobs=resolve_n_jobs(self.n_jobs),
        )
        self.filters_ = _from_core(filters, multichannel_filters)
        self.objective_ = np.asarray(objective)
        self.n_iter_ = len(objective)
        return maps

    def _coder(self):
        if not hasattr(self, "filters_"):
            raise NotFittedError("ConvDictionaryLearning is not fitted yet: call fit first")
        return ConvSparseCoder(
            self.filters_,
            alpha=self.alpha,
            solver=self.transform_solver,
            boundary=self.boundary,
            positive=self.positive,
            max_iter=self.transform_max_iter,
            tol=self.transform_tol,
            multichannel=self.multichannel,
            n_jobs=self.n_jobs,
        )

    def transform(self, X, mask=None):
        """Maps of ``X`` over the learned filters (see :meth:`ConvSparseCoder.transform`)."""
        return self._coder().transform(X, mask)

    def inverse_transform(self, maps):
        """The signals that ``maps`` represent over the learned filters."""
        return self._coder().inverse_transform(maps)


class MiniBatchConvDictionaryLearning(TransformerMixin, BaseEstimator):
    """Online convolutional dictionary learning for long signals cut into
    segments or many images (Liu, Garcia-Cardona, Wohlberg & Yin 2018, "First-
    and second-order methods for online convolutional dictionary learning"):
    each mini-batch of signals is coded by CBPDN, folded into per-frequency
    history statistics (older signals forgotten at ``forget_rate``) and the
    filters take projected FISTA steps on the resulting surrogate. Circular
    boundary, no masks; every signal must have the shape of the first.

    Parameters
    ----------
    n_filters : int
    filter_shape : int or tuple of int
    alpha : float, default=0.1
        Weight of the l1 penalty on the maps.
    batch_size : int, default=1
        Signals per step.
    max_iter : int, default=1
        Passes of :meth:`fit` over the signals.
    coding_iter : int, default=50
        ADMM iterations to code each mini-batch.
    filter_iter : int, default=20
        FISTA steps on the surrogate per mini-batch.
    forget_rate : float, default=10.0
        The signal at stream position ``s`` weighs ``s ** forget_rate`` in the
        statistics (0: plain average).
    zero_mean, positive, multichannel, multichannel_filters, filters_init,
    transform_solver, transform_max_iter, transform_tol, random_state, n_jobs :
        As in :class:`ConvDictionaryLearning`.

    Attributes
    ----------
    filters_ : ndarray of shape (n_filters, *filter_shape) or (n_filters, *filter_shape, c)
    objective_ : ndarray
        Mean CBPDN objective per signal of each mini-batch of the last call,
        under the filters from before its step.
    n_signals_seen_ : int
    """

    def __init__(
        self,
        n_filters,
        filter_shape,
        *,
        alpha=0.1,
        batch_size=1,
        max_iter=1,
        coding_iter=50,
        filter_iter=20,
        forget_rate=10.0,
        zero_mean=False,
        positive=False,
        multichannel=False,
        multichannel_filters=False,
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
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.coding_iter = coding_iter
        self.filter_iter = filter_iter
        self.forget_rate = forget_rate
        self.zero_mean = zero_mean
        self.positive = positive
        self.multichannel = multichannel
        self.multichannel_filters = multichannel_filters
        self.filters_init = filters_init
        self.transform_solver = transform_solver
        self.transform_max_iter = transform_max_iter
        self.transform_tol = transform_tol
        self.random_state = random_state
        self.n_jobs = n_jobs

    def fit(self, X, y=None):
        """Learns from scratch: ``max_iter`` passes over the signals ``X`` in
        mini-batches, in order. Returns ``self``."""
        if hasattr(self, "_state"):
            del self._state
        objective = []
        for _ in range(_check_count("max_iter", self.max_iter)):
            self.partial_fit(X)
            objective.extend(self.objective_)
        self.objective_ = np.asarray(objective)
        return self

    def partial_fit(self, X, y=None):
        """Continues the stream with the signals ``X`` (in mini-batches of
        ``batch_size``, in order). Returns ``self``."""
        shape = (self.filter_shape,) if isinstance(self.filter_shape, numbers.Integral) else self.filter_shape
        shape = tuple(_check_count("filter_shape", s) for s in shape)
        multichannel = bool(self.multichannel)
        multichannel_filters = bool(self.multichannel_filters)
        if multichannel_filters and not multichannel:
            raise ValueError("multichannel_filters=True needs multichannel=True (signals with a channel axis)")
        X = _signals(X, multichannel, len(shape))
        state = getattr(self, "_state", None)
        if state is not None and state["a"].dtype != X.dtype:
            X = X.astype(state["a"].dtype)
        init = None
        if state is None and self.filters_init is not None:
            filter_shape = (self.n_filters,) + shape + ((X.shape[1],) if multichannel_filters else ())
            init = _float_array(self.filters_init, "filters_init", X.dtype)
            if init.shape != filter_shape:
                raise ValueError(f"filters_init has shape {init.shape}, expected {filter_shape}")
            init = _to_core(init, multichannel_filters)
        if state is None:
            self._seed = seed_from(self.random_state)
        self._state, objective = _sparsecode.conv_learn_online(
            X,
            state,
            init,
            _check_count("n_filters", self.n_filters),
            list(shape),
            multichannel_filters,
            float(self.alpha),
            _check_count("coding_iter", self.coding_iter),
            _check_count("filter_iter", self.filter_iter),
            float(self.forget_rate),
            bool(self.zero_mean),
            bool(self.positive),
            self._seed,
            _check_count("batch_size", self.batch_size),
            n_jobs=resolve_n_jobs(self.n_jobs),
        )
        self.filters_ = _from_core(self._state["filters"], multichannel_filters)
        self.n_signals_seen_ = int(self._state["n_signals_seen"])
        self.objective_ = np.asarray(objective)
        return self

    def _coder(self):
        if not hasattr(self, "filters_"):
            raise NotFittedError("MiniBatchConvDictionaryLearning is not fitted yet: call fit or partial_fit first")
        return ConvSparseCoder(
            self.filters_,
            alpha=self.alpha,
            solver=self.transform_solver,
            boundary="circular",
            positive=self.positive,
            max_iter=self.transform_max_iter,
            tol=self.transform_tol,
            multichannel=self.multichannel,
            n_jobs=self.n_jobs,
        )

    def transform(self, X, mask=None):
        """Maps of ``X`` over the learned filters (see :meth:`ConvSparseCoder.transform`)."""
        return self._coder().transform(X, mask)

    def inverse_transform(self, maps):
        """The signals that ``maps`` represent over the learned filters."""
        return self._coder().inverse_transform(maps)
