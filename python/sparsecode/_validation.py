"""Input conversion shared by the functions and estimators.

Arrays go to the Rust core without copies whenever numpy allows: any strides,
read-only and memory-mapped buffers are passed as they are. Only what the core
cannot read is converted, as scikit-learn does: lists and integer arrays become
float64 arrays; sparse matrices, 1-D arrays, complex and object arrays are
refused with scikit-learn's messages. NaN and infinities are reported by the
core, which names the first offending entry.
"""

import numbers

import numpy as np
from joblib import effective_n_jobs
from sklearn.utils import check_array, check_random_state

FLOAT_DTYPES = (np.float64, np.float32)


def as_float_array(X, *, name="X", dtype=FLOAT_DTYPES):
    """``X`` as a 2-D float32/float64 numpy array, not copied when it already is one.

    With ``dtype`` a single type, the result has that type (copying only if the
    input differs). Finiteness is left to the core.
    """
    X = check_array(
        X,
        dtype=dtype,
        accept_sparse=False,
        ensure_all_finite=False,
        ensure_2d=True,
        ensure_min_samples=1,
        ensure_min_features=1,
        input_name=name,
    )
    if not X.flags.aligned:
        X = np.ascontiguousarray(X)
    return X


def as_dictionary(dictionary, dtype):
    """The dictionary as a 2-D array of ``dtype`` (the signals' dtype)."""
    return as_float_array(dictionary, name="dictionary", dtype=dtype)


def resolve_n_jobs(n_jobs):
    """scikit-learn's ``n_jobs`` (None, -1, -2, ... or a positive count) as a thread count."""
    if n_jobs is not None and (not isinstance(n_jobs, numbers.Integral) or isinstance(n_jobs, bool)):
        raise TypeError(f"n_jobs must be an int or None, got {n_jobs!r}")
    if n_jobs == 0:
        raise ValueError("n_jobs == 0 has no meaning: use None or 1 for one thread, -1 for all cores")
    return max(1, int(effective_n_jobs(n_jobs)))


def seed_from(random_state):
    """A 64-bit seed for the core's generator drawn from ``random_state``.

    An int gives the same seed every time, so runs with ``random_state=0`` are
    reproducible; ``None`` draws from numpy's global generator.
    """
    rng = check_random_state(random_state)
    return int(rng.randint(0, np.iinfo(np.int64).max, dtype=np.int64))
