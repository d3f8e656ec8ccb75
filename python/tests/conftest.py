import numpy as np
import pytest


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def unit_rows(a):
    return a / np.linalg.norm(a, axis=1, keepdims=True)


@pytest.fixture
def problem(rng):
    """Signals that are sparse combinations of a random unit-norm dictionary, plus noise."""
    n_atoms, n_features, n_samples = 40, 20, 60
    dictionary = unit_rows(rng.standard_normal((n_atoms, n_features)))
    codes = np.zeros((n_samples, n_atoms))
    for row in codes:
        row[rng.choice(n_atoms, 3, replace=False)] = rng.standard_normal(3) * 2
    X = codes @ dictionary + 0.05 * rng.standard_normal((n_samples, n_features))
    return X, dictionary
