"""scikit-learn's estimator checks, pickling and the estimator API."""

import pickle

import numpy as np
import pytest
from sklearn.utils.estimator_checks import estimator_checks_generator

from sparsecode import OrthogonalMatchingPursuit, SparseCoder, sparse_encode

# scikit-learn's checks call SparseCoder with data of several widths; as in
# scikit-learn's own test suite, each such check gets a dictionary that fits it
# (its width in features, by check name). All other checks use 3 features.
_CODER_FEATURES = {
    "check_estimators_dtypes": 5,
    "check_dtype_object": 10,
    "check_transformers_unfitted_stateless": 5,
    "check_fit_idempotent": 2,
    "check_set_output_transform": 5,
    "check_global_output_transform_pandas": 5,
    "check_set_output_transform_pandas": 5,
    "check_set_output_transform_polars": 5,
    "check_global_set_output_transform_polars": 5,
    "check_dataframe_column_names_consistency": 8,
    "check_estimators_overwrite_params": 2,
    "check_estimators_fit_returns_self": 2,
    "check_readonly_memmap_input": 2,
    "check_n_features_in_after_fitting": 4,
    "check_fit_check_is_fitted": 2,
    "check_n_features_in": 2,
    "check_positive_only_tag_during_fit": 4,
    "check_fit2d_1sample": 10,
    "check_fit2d_1feature": 1,
}


def _check_name(check):
    return getattr(check, "func", check).__name__


def _coder_for(check, **params):
    n_features = _CODER_FEATURES.get(_check_name(check), 3)
    dictionary = np.random.default_rng(0).normal(size=(5, n_features))
    dtype = np.float32 if _check_name(check) == "check_transformer_preserve_dtypes" else np.float64
    return SparseCoder(dictionary=dictionary.astype(dtype), **params)


def _coder_checks(**params):
    checks = estimator_checks_generator(SparseCoder(np.ones((5, 3)), **params), legacy=True)
    return [pytest.param(_coder_for(check, **params), check, id=_check_name(check)) for _, check in checks]


@pytest.mark.parametrize("estimator, check", _coder_checks())
def test_sparse_coder_passes_sklearn_checks(estimator, check):
    check(estimator)


@pytest.mark.parametrize("estimator, check", _coder_checks(omp_rule="ormp"))
def test_sparse_coder_with_ormp_passes_sklearn_checks(estimator, check):
    check(estimator)


def test_sparse_coder_matches_sklearn(problem):
    from sklearn.decomposition import SparseCoder as SkSparseCoder

    X, D = problem
    for params in [
        dict(transform_algorithm="omp", transform_n_nonzero_coefs=4),
        dict(transform_algorithm="threshold", transform_alpha=0.3, split_sign=True),
    ]:
        ours = SparseCoder(D, **params).fit_transform(X)
        theirs = SkSparseCoder(D, **params).fit_transform(X)
        np.testing.assert_allclose(ours, theirs, atol=1e-8)


def test_sparse_coder_inverse_transform_rebuilds_signals(problem):
    X, D = problem
    coder = SparseCoder(D, transform_algorithm="omp", transform_n_nonzero_coefs=3, split_sign=True)
    code = coder.transform(X)
    assert code.shape == (X.shape[0], 2 * D.shape[0])
    np.testing.assert_allclose(coder.inverse_transform(code), (code[:, :40] - code[:, 40:]) @ D)


def test_sparse_coder_pickles(problem):
    X, D = problem
    coder = SparseCoder(D, transform_algorithm="lasso_lars", transform_alpha=0.1).fit(X)
    clone = pickle.loads(pickle.dumps(coder))
    np.testing.assert_array_equal(clone.transform(X), coder.transform(X))
    assert clone.n_features_in_ == 20 and clone.n_components_ == 40


def test_sparse_coder_get_set_params(problem):
    _, D = problem
    coder = SparseCoder(D)
    assert coder.get_params()["transform_algorithm"] == "omp"
    coder.set_params(transform_algorithm="fista", transform_alpha=0.5)
    assert coder.transform_algorithm == "fista" and coder.transform_alpha == 0.5
    with pytest.raises(ValueError, match="transform_algorithm"):
        SparseCoder(D, transform_algorithm="magic").fit(problem[0])


def test_sparse_coder_omp_rule(problem):
    X, D = problem
    coder = SparseCoder(D, transform_algorithm="omp", transform_n_nonzero_coefs=4, omp_rule="ormp")
    ormp = coder.fit_transform(X)
    np.testing.assert_array_equal(ormp, sparse_encode(X, D, algorithm="omp", n_nonzero_coefs=4, omp_rule="ormp"))
    plain = SparseCoder(D, transform_algorithm="omp", transform_n_nonzero_coefs=4).fit_transform(X)
    assert np.abs(ormp - plain).max() > 1e-3
    # ORMP minimises the residual greedily: lower on average than OMP's.
    assert np.sum((X - ormp @ D) ** 2) < np.sum((X - plain @ D) ** 2)
    assert coder.get_params()["omp_rule"] == "ormp"
    with pytest.raises(ValueError, match="omp_rule"):
        SparseCoder(D, omp_rule="residual").fit(X)
    with pytest.raises(ValueError, match="transform_algorithm='omp' only"):
        SparseCoder(D, transform_algorithm="lasso_lars", omp_rule="ormp").fit(X)
    with pytest.raises(ValueError, match="no non-negative variant"):
        SparseCoder(D, omp_rule="ormp", positive_code=True).transform(X)


# ---- OrthogonalMatchingPursuit (regressor) ------------------------------------------------------


def _checks(estimator):
    checks = estimator_checks_generator(estimator, legacy=True)
    return [pytest.param(est, check, id=_check_name(check)) for est, check in checks]


@pytest.mark.parametrize("estimator, check", _checks(OrthogonalMatchingPursuit()))
def test_omp_regressor_passes_sklearn_checks(estimator, check):
    check(estimator)


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_omp_regressor_matches_sklearn_on_equal_norm_columns(rng, fit_intercept):
    from sklearn.linear_model import OrthogonalMatchingPursuit as SkOmp

    X = rng.standard_normal((80, 30))
    X -= X.mean(axis=0)
    X /= np.linalg.norm(X, axis=0)
    coef = np.zeros((30, 2))
    coef[[1, 5, 9], 0] = [2.0, -1.0, 0.5]
    coef[[0, 7], 1] = [1.0, 3.0]
    y = X @ coef + 0.01 * rng.standard_normal((80, 2)) + 0.3
    ours = OrthogonalMatchingPursuit(n_nonzero_coefs=3, fit_intercept=fit_intercept).fit(X, y)
    theirs = SkOmp(n_nonzero_coefs=3, fit_intercept=fit_intercept).fit(X, y)
    np.testing.assert_allclose(ours.coef_, theirs.coef_, atol=1e-8)
    np.testing.assert_allclose(ours.intercept_, theirs.intercept_, atol=1e-8)
    np.testing.assert_allclose(ours.predict(X), theirs.predict(X), atol=1e-8)
    assert ours.n_iter_.tolist() == [3, 3]


def test_omp_regressor_recovers_planted_support_and_pickles(rng):
    X = rng.standard_normal((60, 20))
    y = 3 * X[:, 4] - 2 * X[:, 11] + 0.5
    model = OrthogonalMatchingPursuit(n_nonzero_coefs=2).fit(X, y)
    assert np.flatnonzero(model.coef_).tolist() == [4, 11]
    np.testing.assert_allclose(model.coef_[[4, 11]], [3, -2], atol=1e-10)
    clone = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(clone.predict(X), model.predict(X))
    tol_model = OrthogonalMatchingPursuit(tol=1e-6).fit(X, y)
    assert np.sum((y - tol_model.predict(X)) ** 2) <= 1e-6


@pytest.mark.parametrize("estimator, check", _checks(OrthogonalMatchingPursuit(omp_rule="ormp")))
def test_omp_regressor_with_ormp_passes_sklearn_checks(estimator, check):
    check(estimator)


def test_omp_regressor_omp_rule(rng):
    X = rng.standard_normal((30, 40))
    X[:, 3] = X[:, 1] + 0.3 * X[:, 2]  # correlated columns, where the rules differ
    Y = rng.standard_normal((30, 50))
    model = OrthogonalMatchingPursuit(n_nonzero_coefs=4, fit_intercept=False, omp_rule="ormp").fit(X, Y)
    expected = sparse_encode(Y.T, X.T, algorithm="omp", n_nonzero_coefs=4, omp_rule="ormp")
    np.testing.assert_array_equal(model.coef_, expected)
    plain = OrthogonalMatchingPursuit(n_nonzero_coefs=4, fit_intercept=False).fit(X, Y)
    assert np.abs(model.coef_ - plain.coef_).max() > 1e-3
    assert np.sum((Y - model.predict(X)) ** 2) < np.sum((Y - plain.predict(X)) ** 2)
    # The rule does not depend on the column norms.
    scaled = OrthogonalMatchingPursuit(n_nonzero_coefs=4, fit_intercept=False, omp_rule="ormp").fit(X * 10.0, Y)
    np.testing.assert_array_equal(np.flatnonzero(scaled.coef_), np.flatnonzero(model.coef_))
    with pytest.raises(ValueError, match="omp_rule"):
        OrthogonalMatchingPursuit(omp_rule="residual").fit(X, Y)
    with pytest.raises(ValueError, match="no non-negative variant"):
        OrthogonalMatchingPursuit(omp_rule="ormp", positive=True).fit(X, Y)
