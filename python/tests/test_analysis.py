"""sparsecode.analysis against numpy/scipy reference computations."""

import numpy as np
import pytest
from scipy import stats

from sparsecode import analysis


def hoyer_reference(v):
    n = v.size
    return (np.sqrt(n) - np.abs(v).sum() / np.linalg.norm(v)) / (np.sqrt(n) - 1)


def gini_reference(v):
    c = np.sort(np.abs(v))
    n = c.size
    k = np.arange(1, n + 1)
    return 1 - 2 * np.sum(c / c.sum() * (n - k + 0.5) / n)


@pytest.fixture
def data(rng):
    x = rng.laplace(size=(50, 7))
    x[rng.random(x.shape) < 0.3] = 0.0
    return x


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_kurtosis_matches_scipy(data, axis):
    np.testing.assert_allclose(analysis.kurtosis(data, axis=axis), stats.kurtosis(data, axis=axis, fisher=False))
    np.testing.assert_allclose(analysis.excess_kurtosis(data, axis=axis), stats.kurtosis(data, axis=axis))


def test_kurtosis_of_a_3d_array_along_each_axis(rng):
    x = rng.standard_normal((4, 5, 6))
    for axis in range(3):
        np.testing.assert_allclose(analysis.kurtosis(x, axis=axis), stats.kurtosis(x, axis=axis, fisher=False))
    np.testing.assert_allclose(analysis.kurtosis(x, axis=None), stats.kurtosis(x.ravel(), fisher=False))


def test_hoyer_and_gini_match_their_formulas(data):
    np.testing.assert_allclose(analysis.hoyer(data, axis=1), [hoyer_reference(r) for r in data])
    np.testing.assert_allclose(analysis.gini(data, axis=0), [gini_reference(c) for c in data.T])
    # The closed forms at the extremes.
    np.testing.assert_allclose(analysis.hoyer(np.array([0.0, 0.0, -2.0, 0.0])), 1.0)
    np.testing.assert_allclose(analysis.gini(np.array([0.0, 0.0, -2.0, 0.0])), 0.75)
    np.testing.assert_allclose(analysis.hoyer(np.array([1.0, -1.0, 1.0])), 0.0, atol=1e-15)
    assert np.isnan(analysis.hoyer(np.zeros(3)))


def test_l0_and_l1(data):
    np.testing.assert_array_equal(analysis.l0(data, axis=1), np.count_nonzero(data, axis=1))
    np.testing.assert_array_equal(analysis.l0(data, axis=1, tolerance=1.0), (np.abs(data) > 1.0).sum(axis=1))
    assert analysis.l0(data).dtype == np.int64
    np.testing.assert_allclose(analysis.l1(data), np.abs(data).sum(axis=0))


def test_population_and_lifetime_sparsity_are_rows_and_columns(data):
    np.testing.assert_allclose(analysis.population_sparsity(data), stats.kurtosis(data, axis=1, fisher=False))
    np.testing.assert_allclose(analysis.lifetime_sparsity(data, measure="hoyer"), [hoyer_reference(c) for c in data.T])
    with pytest.raises(ValueError, match="measure"):
        analysis.population_sparsity(data, measure="entropy")
    with pytest.raises(ValueError, match="2-D"):
        analysis.lifetime_sparsity(data.ravel())


def test_float32_measures_are_float64_and_close(data):
    got = analysis.kurtosis(data.astype(np.float32), axis=0)
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, stats.kurtosis(data, fisher=False), rtol=1e-5)


def test_nonlinearities(rng):
    x = rng.standard_normal((6, 5))
    np.testing.assert_array_equal(analysis.relu(x, theta=0.5), np.maximum(x - 0.5, 0))
    np.testing.assert_array_equal(analysis.soft_threshold(x, 0.5), np.sign(x) * np.maximum(np.abs(x) - 0.5, 0))
    np.testing.assert_array_equal(analysis.hard_threshold(x, 0.5), np.where(np.abs(x) >= 0.5, x, 0))
    top = analysis.keep_top_fraction(x, 0.2)
    keep = np.argsort(-np.abs(x), axis=None, kind="stable")[:6]
    expected = np.zeros(x.size)
    expected[keep] = x.ravel()[keep]
    np.testing.assert_array_equal(top, expected.reshape(x.shape))
    # float32 stays float32, and a non-contiguous view is read correctly.
    x32 = np.asfortranarray(x.astype(np.float32))[:, ::2]
    got = analysis.soft_threshold(x32, 0.5)
    assert got.dtype == np.float32 and got.shape == x32.shape
    np.testing.assert_allclose(got, np.sign(x32) * np.maximum(np.abs(x32) - 0.5, 0))


def test_differencing_matches_numpy_loops(rng):
    x = rng.standard_normal((3, 4, 12))
    np.testing.assert_allclose(analysis.first_difference(x), np.diff(x, axis=-1))
    np.testing.assert_allclose(analysis.lagged_difference(x, 3, axis=0 + 1), x[:, 3:] - x[:, :-3])
    np.testing.assert_allclose(
        analysis.lagged_difference(x, 2, axis=0, absolute=True), np.abs(x[2:] - x[:-2]), atol=1e-15
    )
    window = 4
    causal = np.stack([x[..., t] - x[..., t - window : t].mean(axis=-1) for t in range(window, 12)], axis=-1)
    np.testing.assert_allclose(analysis.causal_box_difference(x, window), causal, atol=1e-12)
    radius = 1
    centred = np.stack(
        [x[:, t] - x[:, t - radius : t + radius + 1].mean(axis=1) for t in range(radius, 4 - radius)], axis=1
    )
    np.testing.assert_allclose(analysis.centered_box_difference(x, radius, axis=1), centred, atol=1e-12)
    x32 = x.astype(np.float32)
    assert analysis.first_difference(x32, axis=0).dtype == np.float32


def test_errors_name_the_problem():
    with pytest.raises(ValueError, match="(?i)nan"):
        analysis.kurtosis(np.array([1.0, np.nan, 2.0]))
    with pytest.raises(ValueError, match="(?i)nan"):
        analysis.relu(np.array([1.0, np.nan]))
    with pytest.raises(ValueError, match="window"):
        analysis.causal_box_difference(np.arange(5.0), 5)
    with pytest.raises(ValueError, match="window"):
        analysis.causal_box_difference(np.arange(5.0), 0)
    with pytest.raises(ValueError, match="radius"):
        analysis.centered_box_difference(np.arange(5.0), 3)
    with pytest.raises(ValueError, match="fraction"):
        analysis.keep_top_fraction(np.arange(5.0), 1.5)
    with pytest.raises(ValueError, match="threshold"):
        analysis.soft_threshold(np.arange(5.0), -1.0)
    with pytest.raises(ValueError, match="empty"):
        analysis.l1(np.zeros((0, 3)))
    with pytest.raises(ValueError, match="axis"):
        analysis.l1(np.zeros(3), axis=1)
    with pytest.raises(TypeError, match="complex"):
        analysis.l1(np.zeros(3, dtype=complex))


def test_omp_error_curve_and_knee(rng):
    # An incoherent dictionary (20 atoms in 64 dimensions): OMP recovers
    # 3-sparse codes exactly, so the error vanishes at k = 3.
    dictionary = rng.standard_normal((20, 64))
    dictionary /= np.linalg.norm(dictionary, axis=1, keepdims=True)
    codes = np.zeros((40, 20))
    for row in codes:
        row[rng.choice(20, 3, replace=False)] = rng.standard_normal(3) + 2 * np.sign(rng.standard_normal(3))
    X = codes @ dictionary
    curve = analysis.omp_error_curve(X, dictionary, 6)
    assert curve.shape == (6,)
    assert np.all(np.diff(curve) <= 1e-12)
    assert curve[2] < 1e-8 < curve[1]  # three atoms per signal: exact at k = 3
    assert analysis.knee(np.arange(1, 7), curve) == 2
    with pytest.raises(ValueError, match="3 points"):
        analysis.knee([1, 2], [1.0, 0.5])
