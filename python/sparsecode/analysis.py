"""Sparsity analysis of signals and codes.

Sparseness measures along an axis (``l0``, ``l1``, ``kurtosis``,
``excess_kurtosis``, ``hoyer``, ``gini``; their population and lifetime
readings for a code matrix), elementwise sparsifying nonlinearities (``relu``,
``soft_threshold``, ``hard_threshold``, ``keep_top_fraction``), differencing
operators along an axis, and the OMP reconstruction-error curve with its knee.

Axis conventions follow numpy's peers: measures reduce ``axis=0`` by default
like :func:`scipy.stats.kurtosis` (``axis=None`` measures the flattened
array); differencing works along ``axis=-1`` by default like :func:`numpy.diff`.
float32 input gives float32 output for the nonlinearities and differences;
measures are accumulated and returned in float64. A measure that is undefined
for one vector (kurtosis of a constant, Hoyer or Gini of zeros, Hoyer of one
entry) is NaN; NaN or infinite input is a ``ValueError`` naming the entry.

>>> import numpy as np
>>> from sparsecode import analysis
>>> x = np.array([0.0, 3.0, 0.0, -4.0])
>>> float(analysis.l1(x)), int(analysis.l0(x))
(7.0, 2)
>>> analysis.first_difference(np.array([1.0, 4.0, 9.0]))
array([3., 5.])
"""

import numbers

import numpy as np

from . import _sparsecode
from ._validation import as_dictionary, as_float_array, resolve_n_jobs

__all__ = [
    "causal_box_difference",
    "centered_box_difference",
    "excess_kurtosis",
    "first_difference",
    "gini",
    "hard_threshold",
    "hoyer",
    "keep_top_fraction",
    "knee",
    "kurtosis",
    "l0",
    "l1",
    "lagged_difference",
    "lifetime_sparsity",
    "omp_error_curve",
    "population_sparsity",
    "relu",
    "soft_threshold",
]

_MEASURES = ("l0", "l1", "kurtosis", "excess_kurtosis", "hoyer", "gini")


def _as_float(x, name="x"):
    """``x`` as a non-empty numpy array of float32 or float64 (other real or
    boolean types become float64; complex and object arrays are refused)."""
    x = np.asarray(x)
    if x.dtype not in (np.float32, np.float64):
        if x.dtype.kind not in "biu":
            raise TypeError(f"{name} must hold real numbers, got dtype {x.dtype}")
        x = x.astype(np.float64)
    if x.ndim == 0:
        raise ValueError(f"{name} must be an array, got the scalar {x[()]!r}")
    if x.size == 0:
        raise ValueError(f"{name} is empty (shape {x.shape})")
    return x


def _axis(axis, ndim):
    if not isinstance(axis, numbers.Integral) or isinstance(axis, bool):
        raise TypeError(f"axis must be an int or None, got {axis!r}")
    if not -ndim <= axis < ndim:
        raise ValueError(f"axis {axis} is out of bounds for an array of {ndim} dimensions")
    return int(axis) % ndim


def _lines_last(x, axis):
    """``x`` with ``axis`` moved last, as a 2-D array of its lines, and the
    shape of the other axes."""
    moved = np.moveaxis(x, axis, -1)
    return moved.reshape(-1, moved.shape[-1]), moved.shape[:-1]


def _measure(x, axis, measure, tolerance=0.0):
    x = _as_float(x)
    if axis is None:
        x, axis = x.reshape(-1), 0
    lines, outer = _lines_last(x, _axis(axis, x.ndim))
    values = _sparsecode.measure_rows(lines, measure, tolerance=float(tolerance)).reshape(outer)
    if measure == "l0":
        values = values.astype(np.int64)
    return values[()] if values.ndim == 0 else values


def l0(x, axis=0, tolerance=0.0):
    """Number of entries with ``|x| > tolerance`` along ``axis`` (int64).

    >>> l0(np.array([[0.0, 1.0], [0.5, 0.0]]), axis=1, tolerance=0.6)
    array([1, 0])
    """
    return _measure(x, axis, "l0", tolerance)


def l1(x, axis=0):
    """``sum |x|`` along ``axis``."""
    return _measure(x, axis, "l1")


def kurtosis(x, axis=0):
    """Fourth standardised moment ``E[(x - mu)^4] / E[(x - mu)^2]^2`` along
    ``axis`` (population moments, like ``scipy.stats.kurtosis(fisher=False,
    bias=True)``): 3 for a Gaussian; NaN for a constant line."""
    return _measure(x, axis, "kurtosis")


def excess_kurtosis(x, axis=0):
    """:func:`kurtosis` minus 3 (0 for a Gaussian), like ``scipy.stats.kurtosis``."""
    return _measure(x, axis, "excess_kurtosis")


def hoyer(x, axis=0):
    """Hoyer (2004) sparseness ``(sqrt(n) - ||x||_1 / ||x||_2) / (sqrt(n) - 1)``
    along ``axis``: 1 for one non-zero, 0 for equal magnitudes; NaN for a zero
    line or a line of one entry.

    >>> float(hoyer(np.array([0.0, 0.0, 5.0])))
    1.0
    """
    return _measure(x, axis, "hoyer")


def gini(x, axis=0):
    """Gini index of the magnitudes along ``axis`` (Hurley & Rickard 2009):
    with ``c`` the sorted ``|x|``, ``1 - 2 sum_k (c_k / ||c||_1) (n - k + 1/2) / n``;
    0 for equal magnitudes, ``1 - 1/n`` for one non-zero; NaN for a zero line."""
    return _measure(x, axis, "gini")


def _codes(codes):
    codes = _as_float(codes, "codes")
    if codes.ndim != 2:
        raise ValueError(f"codes must be 2-D (n_samples, n_atoms), got shape {codes.shape}")
    return codes


def population_sparsity(codes, measure="kurtosis", tolerance=0.0):
    """Population sparsity (Willmore & Tolhurst 2001) of a code matrix
    ``(n_samples, n_atoms)``: ``measure`` (one of ``'l0'``, ``'l1'``,
    ``'kurtosis'``, ``'excess_kurtosis'``, ``'hoyer'``, ``'gini'``) of the
    activity of all atoms for each sample, one value per sample."""
    if measure not in _MEASURES:
        raise ValueError(f"measure must be one of {_MEASURES}, got {measure!r}")
    return _measure(_codes(codes), 1, measure, tolerance)


def lifetime_sparsity(codes, measure="kurtosis", tolerance=0.0):
    """Lifetime sparsity (Willmore & Tolhurst 2001) of a code matrix
    ``(n_samples, n_atoms)``: ``measure`` of each atom's activity over the
    samples, one value per atom (NaN where undefined, e.g. the Hoyer
    sparseness of an atom never used)."""
    if measure not in _MEASURES:
        raise ValueError(f"measure must be one of {_MEASURES}, got {measure!r}")
    return _measure(_codes(codes), 0, measure, tolerance)


def _elementwise(x, name, parameter):
    x = _as_float(x)
    flat = np.ascontiguousarray(x).reshape(-1)
    return _sparsecode.apply_nonlinearity(flat, name, float(parameter)).reshape(x.shape)


def relu(x, theta=0.0):
    """``max(x - theta, 0)`` of every entry (a new array of ``x``'s shape)."""
    return _elementwise(x, "relu", theta)


def soft_threshold(x, threshold):
    """``sign(x) max(|x| - threshold, 0)`` of every entry (Donoho 1995)."""
    return _elementwise(x, "soft_threshold", threshold)


def hard_threshold(x, threshold):
    """``x`` where ``|x| >= threshold``, zero elsewhere."""
    return _elementwise(x, "hard_threshold", threshold)


def keep_top_fraction(x, fraction):
    """Keeps the ``ceil(fraction * x.size)`` entries of largest magnitude of the
    whole array (ties to the lower flat index), zero elsewhere.

    >>> keep_top_fraction(np.array([-2.0, 0.5, 3.0]), 0.3)
    array([0., 0., 3.])
    """
    return _elementwise(x, "top_fraction", fraction)


_SIZE_NAME = {"lagged": "lag", "causal_box": "window", "centered_box": "radius"}


def _difference(x, axis, kind, size, absolute):
    x = _as_float(x)
    if not isinstance(size, numbers.Integral) or isinstance(size, bool) or size < 0:
        raise ValueError(f"{_SIZE_NAME[kind]} must be a non-negative int, got {size!r}")
    axis = _axis(axis, x.ndim)
    lines, outer = _lines_last(x, axis)
    out = _sparsecode.difference_rows(lines, kind, int(size), absolute=bool(absolute))
    return np.moveaxis(out.reshape(*outer, out.shape[1]), -1, axis)


def lagged_difference(x, lag=1, axis=-1, absolute=False):
    """``x[t + lag] - x[t]`` along ``axis`` (``|...|`` with ``absolute``); the
    axis shrinks by ``lag``. Like ``x[lag:] - x[:-lag]``."""
    return _difference(x, axis, "lagged", lag, absolute)


def first_difference(x, axis=-1):
    """``x[t + 1] - x[t]`` along ``axis``, like :func:`numpy.diff`."""
    return _difference(x, axis, "lagged", 1, False)


def causal_box_difference(x, window, axis=-1, absolute=False):
    """``x[t]`` minus the mean of the ``window`` samples before it, for
    ``t = window .. n - 1`` along ``axis``; the axis shrinks by ``window``.

    >>> causal_box_difference(np.array([1.0, 3.0, 8.0, 6.0]), 2)
    array([6. , 0.5])
    """
    return _difference(x, axis, "causal_box", window, absolute)


def centered_box_difference(x, radius, axis=-1, absolute=False):
    """``x[t]`` minus the mean of the ``2 radius + 1`` samples centred on it,
    where that window fits, along ``axis`` (a box high-pass); the axis
    shrinks by ``2 radius``."""
    return _difference(x, axis, "centered_box", radius, absolute)


def omp_error_curve(X, dictionary, max_nonzero, n_jobs=None):
    """Relative error ``||X - X_hat||_F / ||X||_F`` of OMP codes of ``X``
    (``n_samples, n_features``) over ``dictionary`` (``n_atoms, n_features``)
    with ``k = 1 .. max_nonzero`` non-zeros per signal: a float64 array of
    ``max_nonzero`` values."""
    X = as_float_array(X)
    dictionary = as_dictionary(dictionary, X.dtype)
    if not isinstance(max_nonzero, numbers.Integral) or isinstance(max_nonzero, bool) or max_nonzero < 0:
        raise ValueError(f"max_nonzero must be a non-negative int, got {max_nonzero!r}")
    return _sparsecode.omp_error_curve(X, dictionary, int(max_nonzero), n_jobs=resolve_n_jobs(n_jobs))


def knee(x, y):
    """Index of the knee of the curve ``(x, y)``: the point farthest from the
    chord between its end points, both axes scaled to ``[0, 1]``.

    >>> knee([1, 2, 3, 4, 5], [1.0, 0.3, 0.2, 0.15, 0.1])
    1
    """
    x = np.asarray(x, dtype=np.float64).reshape(-1)
    y = np.asarray(y, dtype=np.float64).reshape(-1)
    return _sparsecode.knee(x.tolist(), y.tolist())
