"""Sparse coding of a batch of signals over a fixed dictionary."""

from scipy.sparse import csr_matrix

from . import _sparsecode
from ._validation import as_dictionary, as_float_array, resolve_n_jobs

#: scikit-learn's algorithms, then sparsecode's extensions.
ALGORITHMS = ("omp", "lasso_lars", "lasso_cd", "lars", "threshold", "fista", "hard_threshold")

_USE_N_NONZERO = ("omp", "lars")


def _regularization(algorithm, n_features, n_components, n_nonzero_coefs, alpha):
    """scikit-learn's defaults: OMP/LARS keep ``n_features / 10`` atoms (at least
    1, at most all); the penalised methods use ``alpha = 1``."""
    if algorithm == "omp" and alpha is not None:
        return None, alpha  # the residual tolerance overrides the atom count
    if algorithm in _USE_N_NONZERO:
        if n_nonzero_coefs is None:
            n_nonzero_coefs = int(min(max(n_features / 10, 1), n_components))
        return n_nonzero_coefs, None
    return n_nonzero_coefs, 1.0 if alpha is None else alpha


def encode_details(
    X,
    dictionary,
    *,
    algorithm="lasso_lars",
    n_nonzero_coefs=None,
    alpha=None,
    l2=0.0,
    init=None,
    max_iter=1000,
    tol=None,
    n_jobs=None,
    positive=False,
    omp_rule="correlation",
    sparse_output=False,
):
    """:func:`sparse_encode` returning ``(code, n_iter, objective)``: the codes
    (a ``scipy.sparse.csr_matrix`` with ``sparse_output``), and per signal the
    iterations the method ran and the value of its objective
    ``0.5 ||x - code @ dictionary||^2 + penalty(code)``."""
    if algorithm not in ALGORITHMS:
        raise ValueError(f"algorithm must be one of {ALGORITHMS}, got {algorithm!r}")
    X = as_float_array(X)
    dictionary = as_dictionary(dictionary, X.dtype)
    if dictionary.shape[1] != X.shape[1]:
        raise ValueError(
            f"Dictionary and X have different numbers of features: dictionary.shape: {dictionary.shape} "
            f"X.shape: {X.shape}"
        )
    if init is not None:
        init = as_float_array(init, name="init", dtype=X.dtype)
    n_nonzero_coefs, alpha = _regularization(
        algorithm, X.shape[1], dictionary.shape[0], n_nonzero_coefs, alpha
    )
    code, n_iter, objective = _sparsecode.encode(
        X,
        dictionary,
        algorithm,
        n_nonzero=None if n_nonzero_coefs is None else int(n_nonzero_coefs),
        alpha=None if alpha is None else float(alpha),
        l2=float(l2),
        positive=bool(positive),
        max_iter=int(max_iter),
        tol=None if tol is None else float(tol),
        init=init,
        n_jobs=resolve_n_jobs(n_jobs),
        omp_rule=str(omp_rule),
        sparse_output=bool(sparse_output),
    )
    if sparse_output:
        code = csr_matrix(code, shape=(X.shape[0], dictionary.shape[0]))
    return code, n_iter, objective


def sparse_encode(
    X,
    dictionary,
    *,
    gram=None,
    cov=None,
    algorithm="lasso_lars",
    n_nonzero_coefs=None,
    alpha=None,
    copy_cov=True,
    init=None,
    max_iter=1000,
    n_jobs=None,
    check_input=True,
    verbose=0,
    positive=False,
    l2=0.0,
    tol=None,
    omp_rule="correlation",
    sparse_output=False,
):
    """Sparse coding: find ``code`` with ``X ~ code @ dictionary``, one row per signal.

    A drop-in replacement for :func:`sklearn.decomposition.sparse_encode`:
    same parameters, same meaning, same result (OMP codes equal to
    scikit-learn's; Lasso solutions of the same objective), computed by the
    Rust core without the GIL on ``n_jobs`` threads.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        The signals. float32 stays float32; other real types become float64.
        Read in place whatever its strides; never modified.
    dictionary : array-like of shape (n_components, n_features)
        The atoms, one per row (cast to the dtype of ``X``). Some algorithms
        (``threshold``) assume unit-norm atoms, as in scikit-learn.
    gram, cov : ignored
        Accepted for compatibility with scikit-learn's signature: the core
        computes ``dictionary @ dictionary.T`` and ``dictionary @ X.T`` itself.
    algorithm : {'lasso_lars', 'lasso_cd', 'lars', 'omp', 'threshold', \
            'fista', 'hard_threshold'}, default='lasso_lars'
        - ``'omp'``: orthogonal matching pursuit (Pati et al. 1993) with
          Cholesky updates, ``n_nonzero_coefs`` atoms or until the squared
          residual norm falls to ``alpha``; ``omp_rule`` picks the atoms.
        - ``'lasso_lars'``, ``'lasso_cd'``, ``'fista'``: the Lasso
          ``min 0.5 ||x - z D||^2 + alpha ||z||_1 (+ 0.5 l2 ||z||^2)`` by the
          homotopy/LARS path, coordinate descent, or FISTA.
        - ``'lars'``: least angle regression stopped at ``n_nonzero_coefs``.
        - ``'threshold'``: soft thresholding of ``X @ dictionary.T`` at
          ``alpha``; ``'hard_threshold'``: keep entries with magnitude > ``alpha``.
    n_nonzero_coefs : int, default=None
        Atoms per signal for ``omp`` and ``lars``; default ``n_features / 10``
        (at least 1).
    alpha : float, default=None
        Lasso penalty (default 1.0) for the Lasso methods, threshold for the
        thresholding methods, and for ``omp`` the target squared residual norm
        (overriding ``n_nonzero_coefs``).
    copy_cov : bool, default=True
        Ignored: the caller's arrays are never written.
    init : array-like of shape (n_samples, n_components), default=None
        Warm start for the iterative methods (``lasso_cd``, ``fista``).
    max_iter : int, default=1000
        Iteration budget of the iterative methods.
    n_jobs : int, default=None
        Threads: ``None`` means 1 (or the joblib context's), ``-1`` all cores.
    check_input : bool, default=True
        Ignored: input is always checked (the core checks are cheap).
    verbose : int, default=0
        Ignored.
    positive : bool, default=False
        Constrain codes to be non-negative (all methods, ``omp`` included).
    l2 : float, default=0.0
        Elastic-net term ``0.5 * l2 * ||z||^2`` of the Lasso methods.
    tol : float, default=None
        Stopping tolerance of ``lasso_cd`` and ``fista`` (the core's default
        when None).
    omp_rule : {'correlation', 'ormp'}, default='correlation'
        How ``omp`` chooses the next atom. ``'correlation'``: the atom most
        correlated with the residual (plain OMP, scikit-learn's codes).
        ``'ormp'``: order-recursive matching pursuit, the atom whose addition
        leaves the smallest least-squares residual (squared correlation over
        the atom's energy outside the span of the atoms already chosen; Chen,
        Billings & Luo 1989). Same cost, usually a lower residual with the
        same number of atoms; the codes of SPAMS' ``omp``. Not available with
        ``positive=True``.
    sparse_output : bool, default=False
        Return the codes as a ``scipy.sparse.csr_matrix`` (one row per signal,
        only the non-zeros stored, column indices in increasing order), like
        SPAMS, instead of a dense array: the same values (exactly the
        non-zeros of the dense result, for every algorithm), with memory and
        time proportional to the number of non-zeros instead of
        ``n_samples x n_components``. ``init`` stays a dense array.

    Returns
    -------
    code : ndarray of shape (n_samples, n_components), dtype of ``X``
        Or a ``scipy.sparse.csr_matrix`` of that shape with ``sparse_output``.

    Examples
    --------
    >>> import numpy as np
    >>> from sparsecode import sparse_encode
    >>> D = np.eye(3)
    >>> sparse_encode(np.array([[0.0, 2.0, 0.1]]), D, algorithm="omp", n_nonzero_coefs=1)
    array([[0., 2., 0.]])
    >>> sparse_encode(np.array([[0.0, 2.0, 0.1]]), D, algorithm="omp", n_nonzero_coefs=1,
    ...               sparse_output=True).toarray()
    array([[0., 2., 0.]])
    """
    code, _, _ = encode_details(
        X,
        dictionary,
        algorithm=algorithm,
        n_nonzero_coefs=n_nonzero_coefs,
        alpha=alpha,
        l2=l2,
        init=init,
        max_iter=max_iter,
        tol=tol,
        n_jobs=n_jobs,
        positive=positive,
        omp_rule=omp_rule,
        sparse_output=sparse_output,
    )
    return code
