"""Dictionary learning estimators: scikit-learn checks, quality, reproducibility, pickling."""

import os
import pickle

import numpy as np
import pytest
from sklearn.utils.estimator_checks import estimator_checks_generator

from sparsecode import KSVD, DictionaryLearning, MiniBatchDictionaryLearning, sparse_encode

DATA = os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "data")

ESTIMATORS = [
    DictionaryLearning(max_iter=20, transform_algorithm="lasso_lars", random_state=0),
    MiniBatchDictionaryLearning(batch_size=10, max_iter=5, random_state=0),
    KSVD(max_iter=5, random_state=0),
]


def _checks():
    params = []
    for estimator in ESTIMATORS:
        for est, check in estimator_checks_generator(estimator, legacy=True):
            name = getattr(check, "func", check).__name__
            params.append(pytest.param(est, check, id=f"{type(estimator).__name__}-{name}"))
    return params


@pytest.mark.parametrize("estimator, check", _checks())
def test_learners_pass_sklearn_checks(estimator, check):
    check(estimator)


def planted(rng, n_samples=400, n_features=16, n_atoms=24, k=3, noise=0.01):
    atoms = rng.standard_normal((n_atoms, n_features))
    atoms /= np.linalg.norm(atoms, axis=1, keepdims=True)
    codes = np.zeros((n_samples, n_atoms))
    for row in codes:
        row[rng.choice(n_atoms, k, replace=False)] = rng.choice([-1, 1], k) * rng.uniform(1, 2, k)
    return codes @ atoms + noise * rng.standard_normal((n_samples, n_features)), atoms


def recovered(learned, planted_atoms, threshold=0.99):
    cos = np.abs(planted_atoms @ learned.T) / np.linalg.norm(learned, axis=1)
    return np.mean(cos.max(axis=1) > threshold)


def test_ksvd_recovers_a_planted_dictionary(rng):
    X, atoms = planted(rng, n_samples=1500, n_features=24, n_atoms=32)
    model = KSVD(n_components=32, n_nonzero_coefs=3, max_iter=40, random_state=0).fit(X)
    assert recovered(model.components_, atoms) >= 0.9
    assert (np.diff(model.error_) <= 1e-12).mean() > 0.8  # the objective (mostly) decreases
    np.testing.assert_allclose(np.linalg.norm(model.components_, axis=1), 1, atol=1e-12)


def test_dictionary_learning_objective_decreases_and_codes_fit(rng):
    X, _ = planted(rng, n_samples=200)
    model = DictionaryLearning(n_components=24, alpha=0.1, max_iter=15, random_state=0)
    code = model.fit_transform(X)
    assert (np.diff(model.error_) <= 1e-10).all()
    # The codes returned are re-optimised for the final atoms: no worse than the
    # last objective of the run (codes of the previous atoms), and close to it.
    objective = np.mean(0.5 * np.sum((X - code @ model.components_) ** 2, axis=1) + 0.1 * np.abs(code).sum(axis=1))
    assert model.error_[-1] * (1 - 1e-2) <= objective <= model.error_[-1] * (1 + 1e-12)
    assert (np.linalg.norm(model.components_, axis=1) <= 1 + 1e-10).all()


def test_minibatch_held_out_error_comparable_to_sklearn(rng):
    from sklearn.decomposition import MiniBatchDictionaryLearning as SkMiniBatch

    path = os.path.join(DATA, "images", "crops", "camera_256.npy")
    if os.path.exists(path):
        from sklearn.feature_extraction.image import extract_patches_2d

        patches = extract_patches_2d(np.load(path), (8, 8), max_patches=2000, random_state=0).reshape(-1, 64)
        X = patches - patches.mean(axis=1, keepdims=True)
        alpha = 0.1
    else:
        print("shared/data absent: planted data instead of image patches")
        X, _ = planted(rng, n_samples=2000, n_features=64, n_atoms=48, k=4, noise=0.05)
        alpha = 1.0
    train, test = X[:1000], X[1000:]
    params = dict(n_components=48, alpha=alpha, batch_size=100, max_iter=3, random_state=0)
    ours = MiniBatchDictionaryLearning(**params).fit(train)
    theirs = SkMiniBatch(**params).fit(train)

    def held_out(components):
        code = sparse_encode(test, components, algorithm="omp", n_nonzero_coefs=5)
        return np.mean(np.sum((test - code @ components) ** 2, axis=1)) / np.mean(np.sum(test**2, axis=1))

    ours_error, theirs_error = held_out(ours.components_), held_out(theirs.components_)
    print(f"held-out relative error: sparsecode {ours_error:.4f}, scikit-learn {theirs_error:.4f}")
    assert ours_error <= 1.1 * theirs_error


def test_partial_fit_matches_continuing_run_and_survives_pickle(rng):
    X, _ = planted(rng, n_samples=300)
    batches = np.array_split(X, 6)
    straight = MiniBatchDictionaryLearning(n_components=24, alpha=0.2, random_state=3)
    for batch in batches:
        straight.partial_fit(batch)
    resumed = MiniBatchDictionaryLearning(n_components=24, alpha=0.2, random_state=3)
    for batch in batches[:3]:
        resumed.partial_fit(batch)
    resumed = pickle.loads(pickle.dumps(resumed))
    for batch in batches[3:]:
        resumed.partial_fit(batch)
    np.testing.assert_array_equal(resumed.components_, straight.components_)
    assert straight.n_steps_ == 6


@pytest.mark.parametrize("make", [
    lambda seed: DictionaryLearning(n_components=12, alpha=0.3, max_iter=5, random_state=seed),
    lambda seed: MiniBatchDictionaryLearning(n_components=12, batch_size=20, max_iter=2, random_state=seed),
    lambda seed: KSVD(n_components=12, n_nonzero_coefs=2, max_iter=5, random_state=seed),
])
def test_random_state_makes_runs_reproducible(rng, make):
    X, _ = planted(rng, n_samples=120, n_atoms=12)
    first, second, other = make(0).fit(X), make(0).fit(X), make(1).fit(X)
    np.testing.assert_array_equal(first.components_, second.components_)
    if not isinstance(first, DictionaryLearning):  # SVD initialisation does not use the seed
        assert not np.array_equal(first.components_, other.components_)


def test_float32_is_preserved_by_learners(rng):
    X, _ = planted(rng, n_samples=100)
    X32 = X.astype(np.float32)
    for model in (KSVD(n_components=8, max_iter=3, random_state=0),
                  MiniBatchDictionaryLearning(n_components=8, batch_size=20, max_iter=2, random_state=0)):
        model.fit(X32)
        assert model.components_.dtype == np.float32
        assert model.transform(X32).dtype == np.float32


def test_callback_sees_progress_and_can_stop(rng):
    X, _ = planted(rng, n_samples=100)
    seen = []

    def callback(info):
        seen.append(info)
        return info["iteration"] < 3

    model = KSVD(n_components=12, n_nonzero_coefs=2, max_iter=20, tol=0, callback=callback, random_state=0).fit(X)
    assert [info["iteration"] for info in seen] == [1, 2, 3]
    assert model.n_iter_ == 3
    assert set(seen[0]) == {"iteration", "max_iter", "objective", "dictionary_change"}

    def failing(info):
        raise RuntimeError("stop here")

    with pytest.raises(RuntimeError, match="stop here"):
        KSVD(n_components=12, max_iter=5, callback=failing, random_state=0).fit(X)


def test_learner_errors(rng):
    X, _ = planted(rng, n_samples=50)
    with pytest.raises(ValueError, match="dict_init has shape"):
        KSVD(n_components=5, dict_init=np.ones((4, X.shape[1]))).fit(X)
    with pytest.raises(ValueError, match="identical"):
        KSVD(n_components=2).fit(np.ones((10, 4)))
    X_nan = X.copy()
    X_nan[2, 3] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        MiniBatchDictionaryLearning(n_components=4).fit(X_nan)
