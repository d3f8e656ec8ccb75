"""sparsecode.conv: convolutional sparse coding and dictionary learning."""

import pickle

import numpy as np
import pytest

from sparsecode.conv import ConvDictionaryLearning, ConvSparseCoder, MiniBatchConvDictionaryLearning


def circular_synthesis(filters, maps):
    """``sum_k d_k * z_k`` with circular convolution, by numpy's FFT."""
    n = maps.shape[-1]
    spectra = np.fft.rfft(filters, n=n, axis=-1)[np.newaxis] * np.fft.rfft(maps, axis=-1)
    return np.fft.irfft(spectra.sum(axis=1), n=n, axis=-1)


@pytest.fixture
def planted(rng):
    """Two unit filters of length 8 and sparse spikes on 3 signals of 128 samples."""
    filters = rng.standard_normal((2, 8))
    filters /= np.linalg.norm(filters, axis=1, keepdims=True)
    maps = np.zeros((3, 2, 128))
    spikes = []
    for i in range(3):
        for k, t in ((0, 10 + 7 * i), (1, 60 + 5 * i), (0, 100)):
            maps[i, k, t] = 2.0 + i
            spikes.append((i, k, t))
    return filters, maps, circular_synthesis(filters, maps), spikes


def test_inverse_transform_is_circular_convolution(planted, rng):
    filters, _, _, _ = planted
    maps = rng.standard_normal((2, 2, 40))
    coder = ConvSparseCoder(filters)
    np.testing.assert_allclose(coder.inverse_transform(maps), circular_synthesis(filters, maps), atol=1e-12)


@pytest.mark.parametrize("solver", ["admm", "fista"])
def test_transform_finds_planted_spikes(planted, solver):
    filters, maps, X, spikes = planted
    coder = ConvSparseCoder(filters, alpha=0.02, solver=solver, max_iter=500, tol=1e-5)
    z = coder.transform(X)
    assert z.shape == maps.shape and z.dtype == np.float64
    for i in range(3):
        largest = np.argsort(np.abs(z[i]).ravel())[-3:]
        found = {(k, t) for k, t in zip(*np.unravel_index(largest, z[i].shape))}
        assert found == {(k, t) for j, k, t in spikes if j == i}
    np.testing.assert_allclose(z[np.abs(maps) > 0], maps[np.abs(maps) > 0], rtol=0.05)
    residual = np.linalg.norm(coder.inverse_transform(z) - X) / np.linalg.norm(X)
    assert residual < 0.05


def test_objective_matches_its_definition(planted, rng):
    filters, _, X, _ = planted
    X = X + 0.05 * rng.standard_normal(X.shape)
    alpha = 0.1
    coder = ConvSparseCoder(filters, alpha=alpha, max_iter=50)
    z = coder.transform(X)
    expected = 0.5 * np.sum((X - coder.inverse_transform(z)) ** 2) + alpha * np.abs(z).sum()
    np.testing.assert_allclose(coder.objective_, expected, rtol=1e-8)
    assert 1 <= coder.n_iter_ <= 50


def test_masked_objective_ignores_missing_samples(planted):
    filters, _, X, _ = planted
    mask = np.ones_like(X)
    mask[:, 30:50] = 0.0
    corrupted = X.copy()
    corrupted[:, 30:50] = 100.0
    coder = ConvSparseCoder(filters, alpha=0.05, max_iter=100)
    z = coder.transform(corrupted, mask=mask)
    recon = coder.inverse_transform(z)
    expected = 0.5 * np.sum((mask * (corrupted - recon)) ** 2) + 0.05 * np.abs(z).sum()
    np.testing.assert_allclose(coder.objective_, expected, rtol=1e-8)
    # The large values in the hole are not fitted: the reconstruction there
    # stays close to the clean signal.
    assert np.abs(recon[:, 30:50] - X[:, 30:50]).max() < 1.0


def test_reconstruction_error_decreases_with_alpha(planted, rng):
    filters, _, X, _ = planted
    errors = []
    for alpha in (1.0, 0.3, 0.03):
        coder = ConvSparseCoder(filters, alpha=alpha, max_iter=300)
        errors.append(np.linalg.norm(coder.inverse_transform(coder.transform(X)) - X))
    assert errors[0] > errors[1] > errors[2]


def test_linear_boundary_shapes_and_no_wraparound(rng):
    filters = np.array([[1.0, 2.0, 1.0]]) / np.sqrt(6)
    X = np.zeros((1, 32))
    X[0, :2] = filters[0, 1:]  # an atom hanging over the start
    coder = ConvSparseCoder(filters, alpha=0.001, boundary="linear", max_iter=500, tol=1e-6)
    z = coder.transform(X)
    assert z.shape == (1, 1, 34)
    recon = coder.inverse_transform(z)
    assert recon.shape == X.shape
    assert np.linalg.norm(recon - X) < 0.05


def test_images_and_float32(rng):
    filters = rng.standard_normal((3, 4, 4)).astype(np.float32)
    X = rng.standard_normal((2, 16, 20)).astype(np.float32)
    coder = ConvSparseCoder(filters, alpha=0.1, max_iter=30)
    z = coder.transform(X)
    assert z.shape == (2, 3, 16, 20) and z.dtype == np.float32
    recon = coder.inverse_transform(z)
    assert recon.shape == X.shape and recon.dtype == np.float32
    z64 = ConvSparseCoder(filters.astype(np.float64), alpha=0.1, max_iter=30).transform(X.astype(np.float64))
    np.testing.assert_allclose(z, z64, atol=1e-3)
    z_lin = ConvSparseCoder(filters, alpha=0.1, max_iter=10, boundary="linear", solver="fista").transform(X)
    assert z_lin.shape == (2, 3, 19, 23)


def test_errors(planted):
    filters, _, X, _ = planted
    with pytest.raises(ValueError):
        ConvSparseCoder(filters).transform(X[:, :5])  # filters longer than the signals
    bad = X.copy()
    bad[1, 7] = np.nan
    with pytest.raises(ValueError, match="(?i)nan"):
        ConvSparseCoder(filters).transform(bad)
    with pytest.raises(ValueError, match="(?i)nan|finite"):
        ConvSparseCoder(np.where(filters > 0, np.inf, filters)).transform(X)
    with pytest.raises(ValueError, match="solver"):
        ConvSparseCoder(filters, solver="lars").transform(X)
    with pytest.raises(ValueError, match="boundary"):
        ConvSparseCoder(filters, boundary="reflect").transform(X)
    with pytest.raises(ValueError, match="lambda"):
        ConvSparseCoder(filters, alpha=-1.0).transform(X)
    with pytest.raises(ValueError, match="spatial"):
        ConvSparseCoder(filters).transform(X.reshape(3, 8, 16))
    with pytest.raises(ValueError, match="mask"):
        ConvSparseCoder(filters).transform(X, mask=np.ones((3, 5)))
    with pytest.raises(TypeError):
        ConvSparseCoder(filters).transform(X.astype(complex))


def test_dictionary_learning_decreases_the_objective(planted):
    filters, _, X, _ = planted
    cdl = ConvDictionaryLearning(2, 8, alpha=0.05, max_iter=30, random_state=0)
    maps = cdl.fit_transform(X)
    assert cdl.filters_.shape == (2, 8)
    assert np.all(np.linalg.norm(cdl.filters_, axis=1) <= 1 + 1e-9)
    assert cdl.n_iter_ == 30 and cdl.objective_.shape == (30,)
    energy = 0.5 * np.sum(X**2)
    assert cdl.objective_[-1] < 0.7 * cdl.objective_[0] < 0.1 * energy
    assert maps.shape == (3, 2, 128)
    # The last objective is that of the returned filters and maps.
    recon = cdl.inverse_transform(maps)
    expected = 0.5 * np.sum((X - recon) ** 2) + 0.05 * np.abs(maps).sum()
    np.testing.assert_allclose(cdl.objective_[-1], expected, rtol=1e-8)
    # The learned filters explain the data: their coding error is far below
    # the signals' energy.
    z = cdl.transform(X)
    assert np.linalg.norm(cdl.inverse_transform(z) - X) < 0.3 * np.linalg.norm(X)
    # Seeded: the same filters on a second run.
    again = ConvDictionaryLearning(2, 8, alpha=0.05, max_iter=30, random_state=0).fit(X)
    np.testing.assert_array_equal(again.filters_, cdl.filters_)


def test_consensus_filter_update_learns_like_fista(planted, rng):
    """The consensus ADMM filter update: the objective decreases as with FISTA,
    its last value is that of the returned filters and maps, and the filters
    stay in the unit ball (zero-mean when asked, also with a mask)."""
    _, _, X, _ = planted
    runs = {
        update: ConvDictionaryLearning(2, 8, alpha=0.05, max_iter=30, filter_update=update, random_state=0)
        for update in ("fista", "consensus")
    }
    maps = {update: cdl.fit_transform(X) for update, cdl in runs.items()}
    cons = runs["consensus"]
    assert cons.objective_[-1] < 0.7 * cons.objective_[0]
    assert cons.objective_[-1] < 1.05 * runs["fista"].objective_[-1]
    recon = cons.inverse_transform(maps["consensus"])
    expected = 0.5 * np.sum((X - recon) ** 2) + 0.05 * np.abs(maps["consensus"]).sum()
    np.testing.assert_allclose(cons.objective_[-1], expected, rtol=1e-8)
    assert np.all(np.linalg.norm(cons.filters_, axis=1) <= 1 + 1e-12)
    mask = (rng.random(X.shape) > 0.2).astype(float)
    masked = ConvDictionaryLearning(
        2, 8, alpha=0.05, max_iter=10, filter_update="consensus", zero_mean=True, random_state=0
    ).fit(X, mask=mask)
    assert np.all(np.abs(masked.filters_.sum(axis=1)) < 1e-12)
    assert masked.objective_[-1] < masked.objective_[0]
    with pytest.raises(ValueError, match="filter_update"):
        ConvDictionaryLearning(2, 8, filter_update="sgd").fit(X)


def test_dictionary_learning_on_images_and_errors(rng):
    X = rng.standard_normal((2, 12, 12))
    cdl = ConvDictionaryLearning(3, (3, 3), alpha=0.1, max_iter=5, random_state=1).fit(X)
    assert cdl.filters_.shape == (3, 3, 3)
    assert cdl.transform(X).shape == (2, 3, 12, 12)
    with pytest.raises(ValueError, match="filters_init"):
        ConvDictionaryLearning(3, (3, 3), filters_init=np.ones((2, 3, 3))).fit(X)
    with pytest.raises(ValueError, match="spatial"):
        ConvDictionaryLearning(3, 3).fit(X)
    with pytest.raises(ValueError):
        ConvDictionaryLearning(3, (20, 20), max_iter=2).fit(X)  # filters larger than the images


def test_results_do_not_depend_on_n_jobs(rng):
    filters = rng.standard_normal((4, 5, 5))
    X = rng.standard_normal((2, 24, 24))
    one = ConvSparseCoder(filters, alpha=0.1, max_iter=20, n_jobs=1).transform(X)
    two = ConvSparseCoder(filters, alpha=0.1, max_iter=20, n_jobs=2).transform(X)
    np.testing.assert_array_equal(one, two)
    cdl_one = ConvDictionaryLearning(2, (4, 4), max_iter=3, random_state=0, n_jobs=1).fit(X)
    cdl_two = ConvDictionaryLearning(2, (4, 4), max_iter=3, random_state=0, n_jobs=2).fit(X)
    np.testing.assert_array_equal(cdl_one.filters_, cdl_two.filters_)


def test_estimators_follow_the_sklearn_parameter_protocol(planted):
    from sklearn.base import clone

    filters, _, X, _ = planted
    coder = clone(ConvSparseCoder(filters, alpha=0.3, solver="fista"))
    assert coder.get_params()["alpha"] == 0.3 and coder.get_params()["solver"] == "fista"
    cdl = clone(ConvDictionaryLearning(2, 8, alpha=0.2)).set_params(max_iter=2)
    assert cdl.get_params()["max_iter"] == 2
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        cdl.transform(X)


@pytest.mark.parametrize("filter_channels", [False, True])
def test_multichannel_signals(rng, filter_channels):
    n_channels, alpha = 3, 0.05
    shape = (2, 6, n_channels) if filter_channels else (2, 6)
    filters = rng.standard_normal(shape)
    X = rng.standard_normal((2, 64, n_channels))
    coder = ConvSparseCoder(filters, alpha=alpha, multichannel=True, max_iter=100)
    z = coder.transform(X)
    assert z.shape == ((2, 2, 64) if filter_channels else (2, 2 * n_channels, 64))
    recon = coder.inverse_transform(z)
    assert recon.shape == X.shape
    np.testing.assert_allclose(coder.objective_, 0.5 * np.sum((X - recon) ** 2) + alpha * np.abs(z).sum(), rtol=1e-8)
    if filter_channels:
        # Multichannel filters synthesise channel c from their channel c.
        expected = np.stack([circular_synthesis(filters[..., c], z) for c in range(n_channels)], axis=-1)
    else:
        # Shared filters: channel c is synthesised from its own maps.
        expected = np.stack(
            [circular_synthesis(filters, z[:, 2 * c : 2 * c + 2]) for c in range(n_channels)], axis=-1
        )
    np.testing.assert_allclose(recon, expected, atol=1e-10)
    with pytest.raises(ValueError, match="filters"):
        ConvSparseCoder(filters[..., np.newaxis] if filter_channels else filters[:, :, None, None]).transform(X)


def test_dictionary_learning_of_multichannel_filters(rng):
    X = rng.standard_normal((2, 48, 3))
    cdl = ConvDictionaryLearning(
        2, 5, alpha=0.1, multichannel=True, multichannel_filters=True, max_iter=10, random_state=0
    )
    maps = cdl.fit_transform(X)
    assert cdl.filters_.shape == (2, 5, 3) and maps.shape == (2, 2, 48)
    assert cdl.objective_[-1] < cdl.objective_[0]
    assert cdl.inverse_transform(cdl.transform(X)).shape == X.shape
    with pytest.raises(ValueError, match="multichannel=True"):
        ConvDictionaryLearning(2, 5, multichannel_filters=True).fit(X[..., 0])


def test_online_dictionary_learning_on_a_stream(rng):
    """MiniBatchConvDictionaryLearning: the held-out CBPDN objective improves
    along a stream of planted 1-D segments; partial_fit continues exactly
    where it stopped, also after pickling; fit restarts."""
    filters = rng.standard_normal((2, 10))
    filters /= np.linalg.norm(filters, axis=1, keepdims=True)
    maps = np.zeros((44, 2, 200))
    for i in range(44):
        for _ in range(6):
            maps[i, rng.integers(2), rng.integers(200)] = rng.choice([-1.0, 1.0]) * (0.5 + rng.random())
    X = circular_synthesis(filters, maps)
    train, held_out = X[:40], X[40:]

    def held_out_objective(model):
        coder = model._coder()
        coder.transform(held_out)
        return coder.objective_

    model = MiniBatchConvDictionaryLearning(2, 10, alpha=0.05, random_state=0)
    model.partial_fit(train[:1])
    first = held_out_objective(model)
    for i in range(1, 20):
        model.partial_fit(train[i : i + 1])
    assert model.n_signals_seen_ == 20 and model.filters_.shape == (2, 10)
    copy = pickle.loads(pickle.dumps(model))
    model.partial_fit(train[20:])
    copy.partial_fit(train[20:])
    np.testing.assert_array_equal(model.filters_, copy.filters_)
    assert model.objective_.shape == (20,)
    assert held_out_objective(model) < 0.7 * first
    assert np.all(np.linalg.norm(model.filters_, axis=1) <= 1 + 1e-12)
    again = MiniBatchConvDictionaryLearning(2, 10, alpha=0.05, batch_size=1, random_state=0).fit(train)
    np.testing.assert_array_equal(again.filters_, model.filters_)
    assert again.n_signals_seen_ == 40
    with pytest.raises(ValueError):
        model.partial_fit(rng.standard_normal((2, 150)))  # another segment length


def test_admm_takes_sporcos_steps(rng):
    """With the same start (rho = 50 alpha + 1, relaxation 1.8), CBPDN by ADMM
    takes the steps of SPORCO's ConvBPDN with its default residual balancing
    iterate for iterate, on a problem where that balancing is well behaved."""
    cbpdn = pytest.importorskip("sporco.admm.cbpdn")
    filters = rng.standard_normal((6, 5, 5))
    filters /= np.linalg.norm(filters.reshape(6, -1), axis=1)[:, None, None]
    image = rng.standard_normal((40, 40))
    alpha = 0.05
    for iters in (3, 40):
        options = cbpdn.ConvBPDN.Options({"Verbose": False, "MaxMainIter": iters, "RelStopTol": 0.0})
        solver = cbpdn.ConvBPDN(np.ascontiguousarray(filters.transpose(1, 2, 0)), image, alpha, options)
        expected = solver.solve().squeeze().transpose(2, 0, 1)
        coder = ConvSparseCoder(filters, alpha=alpha, max_iter=iters, tol=1e-300)
        z = coder.transform(image[np.newaxis])[0]
        assert coder.n_iter_ == iters
        np.testing.assert_allclose(z, expected, rtol=0, atol=1e-9)
    assert solver.rho != 50 * alpha + 1
