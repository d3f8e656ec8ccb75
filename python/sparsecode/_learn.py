"""Dictionary learning estimators: batch (scikit-learn's DictionaryLearning),
online (MiniBatchDictionaryLearning) and K-SVD, on the Rust core."""

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from . import _sparsecode
from ._coder import _SparseCodingMixin
from ._encode import sparse_encode
from ._validation import FLOAT_DTYPES, as_dictionary, resolve_n_jobs, seed_from

_LEARNING_CONSTRAINTS = {
    "n_components": [Interval(Integral, 1, None, closed="left"), None],
    "max_iter": [Interval(Integral, 0, None, closed="left")],
    "tol": [Interval(Real, 0, None, closed="left")],
    "dict_init": [np.ndarray, None],
    "callback": [callable, None],
    "random_state": ["random_state"],
    "positive_dict": ["boolean"],
}


class _LearnerBase(_SparseCodingMixin, BaseEstimator):
    """What every learner shares: input checks, the number of atoms, tags."""

    def _check_fit_input(self, X, reset=True):
        # A first fit needs two samples to learn from; later mini-batches may hold one.
        return validate_data(self, X, reset=reset, dtype=FLOAT_DTYPES, ensure_min_samples=2 if reset else 1)

    def _progress(self):
        """The callback handed to the core: the user's, printing first when ``verbose``."""
        if not getattr(self, "verbose", False):
            return self.callback
        user = self.callback

        def report(info):
            print(
                f"[{type(self).__name__}] iteration {info['iteration']}/{info['max_iter']}: "
                f"objective {info['objective']:.6g}, dictionary change {info['dictionary_change']:.3g}"
            )
            return None if user is None else user(info)

        return report

    def _n_atoms(self, X):
        return X.shape[1] if self.n_components is None else self.n_components

    def _dict_init(self, X, n_atoms):
        if self.dict_init is None:
            return None
        init = as_dictionary(self.dict_init, X.dtype)
        if init.shape != (n_atoms, X.shape[1]):
            raise ValueError(
                f"dict_init has shape {init.shape} but {n_atoms} atoms of {X.shape[1]} features are learned"
            )
        return init

    @property
    def _n_features_out(self):
        return self.components_.shape[0]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags


class DictionaryLearning(_LearnerBase):
    """Batch dictionary learning: ``min 0.5 ||X - U V||^2 + alpha ||U||_1`` with unit-ball atoms.

    A replacement for :class:`sklearn.decomposition.DictionaryLearning` (same
    parameters and attributes): alternates sparse coding of all samples
    (``fit_algorithm``: ``'lars'`` or ``'cd'`` for the Lasso, or ``'omp'``
    with ``fit_n_nonzero_coefs`` atoms, an extension) with one
    block-coordinate pass over the atoms (Mairal et al. 2010, Alg. 2), or
    with ``dict_update='mod'`` the method of optimal directions (Engan et al.
    1999). Starts from an SVD of ``X`` (or ``dict_init``).

    Attributes
    ----------
    components_ : ndarray of shape (n_components, n_features)
    error_ : ndarray
        Mean objective per sample after each iteration.
    n_iter_ : int
    n_features_in_ : int

    Examples
    --------
    >>> import numpy as np
    >>> from sparsecode import DictionaryLearning
    >>> X = np.random.default_rng(0).normal(size=(40, 8))
    >>> model = DictionaryLearning(n_components=6, alpha=0.5, max_iter=20, random_state=0).fit(X)
    >>> model.components_.shape, model.transform(X).shape
    ((6, 8), (40, 6))
    """

    _parameter_constraints = {
        **_SparseCodingMixin._coding_parameter_constraints,
        **_LEARNING_CONSTRAINTS,
        "alpha": [Interval(Real, 0, None, closed="left")],
        "fit_algorithm": [StrOptions({"lars", "cd", "omp"})],
        "fit_n_nonzero_coefs": [Interval(Integral, 1, None, closed="left"), None],
        "dict_update": [StrOptions({"bcd", "mod"})],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        n_components=None,
        *,
        alpha=1,
        max_iter=1000,
        tol=1e-8,
        fit_algorithm="lars",
        transform_algorithm="omp",
        transform_n_nonzero_coefs=None,
        transform_alpha=None,
        n_jobs=None,
        dict_init=None,
        callback=None,
        verbose=False,
        split_sign=False,
        random_state=None,
        positive_code=False,
        positive_dict=False,
        transform_max_iter=1000,
        fit_n_nonzero_coefs=None,
        dict_update="bcd",
    ):
        self.n_components = n_components
        self.alpha = alpha
        self.max_iter = max_iter
        self.tol = tol
        self.fit_algorithm = fit_algorithm
        self.transform_algorithm = transform_algorithm
        self.transform_n_nonzero_coefs = transform_n_nonzero_coefs
        self.transform_alpha = transform_alpha
        self.n_jobs = n_jobs
        self.dict_init = dict_init
        self.callback = callback
        self.verbose = verbose
        self.split_sign = split_sign
        self.random_state = random_state
        self.positive_code = positive_code
        self.positive_dict = positive_dict
        self.transform_max_iter = transform_max_iter
        self.fit_n_nonzero_coefs = fit_n_nonzero_coefs
        self.dict_update = dict_update

    def fit(self, X, y=None):
        """Learns ``components_`` from ``X`` (n_samples, n_features)."""
        self._fit(X)
        return self

    def fit_transform(self, X, y=None):
        """Learns ``components_`` and returns the codes of ``X`` over them by the
        fitting method (``fit_algorithm`` with ``alpha``), as scikit-learn does."""
        X = self._fit(X)
        code = sparse_encode(
            X,
            self.components_,
            algorithm={"lars": "lasso_lars", "cd": "lasso_cd", "omp": "omp"}[self.fit_algorithm],
            n_nonzero_coefs=self.fit_n_nonzero_coefs,
            alpha=None if self.fit_algorithm == "omp" else float(self.alpha),
            max_iter=self.transform_max_iter,
            n_jobs=self.n_jobs,
            positive=self.positive_code,
        )
        if self.split_sign:
            code = np.hstack([np.maximum(code, 0), -np.minimum(code, 0)])
        return code

    def _fit(self, X):
        self._validate_params()
        X = self._check_fit_input(X)
        n_atoms = self._n_atoms(X)
        dictionary, _, objective, n_iter, _ = _sparsecode.learn_batch(
            X,
            n_atoms,
            self.dict_update,
            self.fit_algorithm,
            n_nonzero=self.fit_n_nonzero_coefs,
            alpha=float(self.alpha),
            positive_code=self.positive_code,
            code_max_iter=self.transform_max_iter,
            max_iter=max(int(self.max_iter), 1),
            tol=float(self.tol),
            positive_dict=self.positive_dict,
            dict_init=self._dict_init(X, n_atoms),
            svd_init=True,
            seed=seed_from(self.random_state),
            n_jobs=resolve_n_jobs(self.n_jobs),
            callback=self._progress(),
        )
        self.components_ = dictionary
        self.error_ = np.asarray(objective)
        self.n_iter_ = int(n_iter)
        return X


class KSVD(_LearnerBase):
    """K-SVD dictionary learning (Aharon, Elad & Bruckstein 2006): OMP codes with
    ``n_nonzero_coefs`` atoms, then each atom and its coefficients from the best
    rank-1 approximation of the residual of the samples using it (Alg. 1,
    step 3). ``approximate=True`` gives approximate K-SVD (Rubinstein,
    Zibulevsky & Elad 2008: one power iteration instead of the SVD).

    Parameters
    ----------
    n_components : int, default=None
        Atoms (default ``n_features``).
    n_nonzero_coefs : int, default=None
        Atoms per sample while learning (default ``max(1, n_features / 10)``).
    max_iter : int, default=50
    tol : float, default=1e-6
        Stop when an iteration lowers the mean objective by at most ``tol``
        times its value.
    approximate : bool, default=False
    transform_algorithm, transform_n_nonzero_coefs, transform_alpha, split_sign,
    positive_code, transform_max_iter : as in :class:`SparseCoder`
        ``transform_n_nonzero_coefs`` defaults to ``n_nonzero_coefs``.
    dict_init : ndarray of shape (n_components, n_features), default=None
    n_jobs : int, default=None
    random_state : int, RandomState or None, default=None
    callback : callable, default=None
        Called after every iteration with a dict (``iteration``,
        ``max_iter``, ``objective``, ``dictionary_change``); returning
        ``False`` stops the run.

    Attributes
    ----------
    components_ : ndarray of shape (n_components, n_features)
    error_ : ndarray
        Mean ``0.5 ||x - z D||^2`` after each iteration.
    n_iter_ : int
    n_features_in_ : int

    Examples
    --------
    >>> import numpy as np
    >>> from sparsecode import KSVD
    >>> X = np.random.default_rng(0).normal(size=(60, 8))
    >>> model = KSVD(n_components=10, n_nonzero_coefs=2, max_iter=5, random_state=0).fit(X)
    >>> np.allclose(np.linalg.norm(model.components_, axis=1), 1)
    True
    """

    _parameter_constraints = {
        **_SparseCodingMixin._coding_parameter_constraints,
        **{k: v for k, v in _LEARNING_CONSTRAINTS.items() if k != "positive_dict"},
        "n_nonzero_coefs": [Interval(Integral, 1, None, closed="left"), None],
        "approximate": ["boolean"],
    }

    def __init__(
        self,
        n_components=None,
        *,
        n_nonzero_coefs=None,
        max_iter=50,
        tol=1e-6,
        approximate=False,
        transform_algorithm="omp",
        transform_n_nonzero_coefs=None,
        transform_alpha=None,
        split_sign=False,
        positive_code=False,
        transform_max_iter=1000,
        dict_init=None,
        n_jobs=None,
        random_state=None,
        callback=None,
    ):
        self.n_components = n_components
        self.n_nonzero_coefs = n_nonzero_coefs
        self.max_iter = max_iter
        self.tol = tol
        self.approximate = approximate
        self.transform_algorithm = transform_algorithm
        self.transform_n_nonzero_coefs = transform_n_nonzero_coefs
        self.transform_alpha = transform_alpha
        self.split_sign = split_sign
        self.positive_code = positive_code
        self.transform_max_iter = transform_max_iter
        self.dict_init = dict_init
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.callback = callback

    def fit(self, X, y=None):
        """Learns ``components_`` from ``X`` (n_samples, n_features)."""
        self._validate_params()
        X = self._check_fit_input(X)
        n_atoms = self._n_atoms(X)
        dictionary, _, objective, n_iter, _ = _sparsecode.learn_batch(
            X,
            n_atoms,
            "approx_ksvd" if self.approximate else "ksvd",
            "omp",
            n_nonzero=self._n_nonzero(X, n_atoms),
            positive_code=self.positive_code,
            max_iter=max(int(self.max_iter), 1),
            tol=float(self.tol),
            dict_init=self._dict_init(X, n_atoms),
            svd_init=False,
            seed=seed_from(self.random_state),
            n_jobs=resolve_n_jobs(self.n_jobs),
            callback=self._progress(),
        )
        self.components_ = dictionary
        self.error_ = np.asarray(objective)
        self.n_iter_ = int(n_iter)
        return self

    def _n_nonzero(self, X, n_atoms):
        return self._budget(X.shape[1], n_atoms)

    def _budget(self, n_features, n_atoms):
        if self.n_nonzero_coefs is not None:
            return min(self.n_nonzero_coefs, n_atoms)
        return min(max(n_features // 10, 1), n_atoms)

    def _transform_n_nonzero_coefs(self):
        """OMP transforms use ``n_nonzero_coefs`` atoms unless told otherwise."""
        if self.transform_n_nonzero_coefs is None and self.transform_alpha is None:
            return self._budget(self.n_features_in_, self.components_.shape[0])
        return self.transform_n_nonzero_coefs


class MiniBatchDictionaryLearning(_LearnerBase):
    """Online dictionary learning (Mairal, Bach, Ponce & Sapiro, JMLR 2010).

    A replacement for :class:`sklearn.decomposition.MiniBatchDictionaryLearning`
    (same parameters and attributes): mini-batches are coded
    (``fit_algorithm`` ``'lars'``/``'cd'``: Lasso with ``alpha``; ``'omp'``
    with ``fit_n_nonzero_coefs`` atoms, an extension), folded into the
    sufficient statistics ``A = Z^T Z``, ``B = Z^T X`` (each sample weighted
    ``s^forget_rate`` by its stream position) and the atoms take one
    block-coordinate pass. ``partial_fit`` continues exactly where the last
    call stopped, also after pickling.

    ``max_iter`` counts epochs; the run stops early when the dictionary
    changes by at most ``tol`` (relative) in a step or the smoothed objective
    has not improved for ``max_no_improvement`` steps.

    ``forget_rate`` (``rho``, default 4, an extension) is Mairal et al.'s
    scaling of the past data, ``beta_t = (1 - 1/t)^rho`` (JMLR 2010, sec.
    3.4.2) applied per sample: the statistics mostly hold the last
    ``1/(rho + 1)`` of the stream, so codes computed with early, poor
    dictionaries are forgotten. 0 is the plain average; rho = 1 weighs
    samples as SPAMS' ``trainDL`` does in its first 256 mini-batches. On
    200,000 8x8 image patches (``bench/bench_learn.py``), rho = 4 reaches
    SPAMS' one-epoch held-out objective after 0.45 epochs, rho = 1 (the
    previous default) after 1.86. Larger rho forgets faster (the Rust learner's default, 10,
    suits planted-dictionary recovery) but keeps fewer samples in the
    statistics, which costs accuracy on small data sets.

    Attributes
    ----------
    components_ : ndarray of shape (n_components, n_features)
    n_iter_ : int
        Epochs run (the last one possibly partial).
    n_steps_ : int
        Mini-batch steps since the first fit.
    n_features_in_ : int

    Examples
    --------
    >>> import numpy as np
    >>> from sparsecode import MiniBatchDictionaryLearning
    >>> X = np.random.default_rng(0).normal(size=(200, 8))
    >>> model = MiniBatchDictionaryLearning(n_components=6, batch_size=50, max_iter=3, random_state=0).fit(X)
    >>> model.components_.shape
    (6, 8)
    """

    _parameter_constraints = {
        **_SparseCodingMixin._coding_parameter_constraints,
        **_LEARNING_CONSTRAINTS,
        "alpha": [Interval(Real, 0, None, closed="left")],
        "fit_algorithm": [StrOptions({"lars", "cd", "omp"})],
        "fit_n_nonzero_coefs": [Interval(Integral, 1, None, closed="left"), None],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "verbose": ["verbose"],
        "max_no_improvement": [Interval(Integral, 0, None, closed="left"), None],
        "forget_rate": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(
        self,
        n_components=None,
        *,
        alpha=1,
        max_iter=1_000,
        fit_algorithm="lars",
        n_jobs=None,
        batch_size=256,
        shuffle=True,
        dict_init=None,
        transform_algorithm="omp",
        transform_n_nonzero_coefs=None,
        transform_alpha=None,
        verbose=False,
        split_sign=False,
        random_state=None,
        positive_code=False,
        positive_dict=False,
        transform_max_iter=1000,
        callback=None,
        tol=1e-3,
        max_no_improvement=10,
        fit_n_nonzero_coefs=None,
        forget_rate=4.0,
    ):
        self.n_components = n_components
        self.alpha = alpha
        self.max_iter = max_iter
        self.fit_algorithm = fit_algorithm
        self.n_jobs = n_jobs
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.dict_init = dict_init
        self.transform_algorithm = transform_algorithm
        self.transform_n_nonzero_coefs = transform_n_nonzero_coefs
        self.transform_alpha = transform_alpha
        self.verbose = verbose
        self.split_sign = split_sign
        self.random_state = random_state
        self.positive_code = positive_code
        self.positive_dict = positive_dict
        self.transform_max_iter = transform_max_iter
        self.callback = callback
        self.tol = tol
        self.max_no_improvement = max_no_improvement
        self.fit_n_nonzero_coefs = fit_n_nonzero_coefs
        self.forget_rate = forget_rate

    def _learn(self, X, state, epochs):
        n_atoms = self._n_atoms(X)
        return _sparsecode.learn_online(
            X,
            n_atoms,
            self.fit_algorithm,
            state=state,
            epochs=epochs,
            batch_size=int(self.batch_size),
            tol=float(self.tol),
            max_no_improvement=int(self.max_no_improvement or 0),
            shuffle=self.shuffle,
            n_nonzero=self.fit_n_nonzero_coefs,
            alpha=float(self.alpha),
            positive_code=self.positive_code,
            code_max_iter=self.transform_max_iter,
            forget_rate=float(self.forget_rate),
            positive_dict=self.positive_dict,
            dict_init=None if state is not None else self._dict_init(X, n_atoms),
            svd_init=True,
            seed=self._seed,
            n_jobs=resolve_n_jobs(self.n_jobs),
            callback=self._progress(),
        )

    def _keep(self, state, X):
        self._state = state
        self.components_ = state["dictionary"]
        self.n_steps_ = int(state["n_steps"])
        self.n_iter_ = int(np.ceil(self.n_steps_ * min(self.batch_size, X.shape[0]) / X.shape[0]))

    def fit(self, X, y=None):
        """Learns ``components_`` from ``X`` (n_samples, n_features) in mini-batches."""
        self._validate_params()
        X = self._check_fit_input(X)
        self._seed = seed_from(self.random_state)
        state, _, _, _ = self._learn(X, None, max(int(self.max_iter), 1))
        self._keep(state, X)
        return self

    def partial_fit(self, X, y=None):
        """One step on the mini-batch ``X``: code it, update the statistics and the atoms."""
        first = not hasattr(self, "_state")
        if first:
            self._validate_params()
            self._seed = seed_from(self.random_state)
        X = self._check_fit_input(X, reset=first)
        state, _, _, _ = self._learn(X, None if first else self._state, None)
        self._state = state
        self.components_ = state["dictionary"]
        self.n_steps_ = int(state["n_steps"])
        self.n_iter_ = self.n_steps_
        return self
