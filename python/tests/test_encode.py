"""sparse_encode against scikit-learn and against the optimality conditions."""

import numpy as np
import pytest
from scipy import sparse
from sklearn.decomposition import sparse_encode as sk_sparse_encode
from sklearn.linear_model import orthogonal_mp_gram

import sparsecode
from sparsecode import sparse_encode
from sparsecode._encode import encode_details


def lasso_objective(X, D, code, alpha):
    residual = X - code @ D
    return 0.5 * np.sum(residual**2, axis=1) + alpha * np.abs(code).sum(axis=1)


def test_omp_equals_orthogonal_mp_gram(problem):
    X, D = problem
    ours = sparse_encode(X, D, algorithm="omp", n_nonzero_coefs=5)
    theirs = orthogonal_mp_gram(D @ D.T, D @ X.T, n_nonzero_coefs=5).T
    np.testing.assert_allclose(ours, theirs, atol=1e-8, rtol=0)
    assert (np.count_nonzero(ours, axis=1) == 5).all()


def test_omp_equals_sklearn_sparse_encode_default_sparsity(problem):
    X, D = problem
    ours = sparse_encode(X, D, algorithm="omp")
    theirs = sk_sparse_encode(X, D, algorithm="omp")
    np.testing.assert_allclose(ours, theirs, atol=1e-8, rtol=0)
    assert (np.count_nonzero(ours, axis=1) == 2).all()  # n_features / 10


def test_omp_tolerance_stops_at_squared_residual(problem):
    X, D = problem
    code = sparse_encode(X, D, algorithm="omp", alpha=0.5)
    theirs = orthogonal_mp_gram(D @ D.T, D @ X.T, tol=0.5, norms_squared=(X**2).sum(axis=1)).T
    # scikit-learn always selects a first atom; we stop at once when ||x||^2 is
    # already within the tolerance. Elsewhere the codes agree.
    small = np.sum(X**2, axis=1) <= 0.5
    assert 0 < small.sum() < len(X)
    np.testing.assert_array_equal(code[small], 0.0)
    np.testing.assert_allclose(code[~small], theirs[~small], atol=1e-8, rtol=0)
    assert (np.sum((X - code @ D) ** 2, axis=1) <= 0.5 + 1e-9).all()


def test_omp_float32_close_to_float64(problem):
    X, D = problem
    code32 = sparse_encode(X.astype(np.float32), D.astype(np.float32), algorithm="omp", n_nonzero_coefs=3)
    code64 = sparse_encode(X, D, algorithm="omp", n_nonzero_coefs=3)
    assert code32.dtype == np.float32
    np.testing.assert_allclose(code32, code64, atol=1e-4)


def reference_ormp(D, x, k):
    """Order-recursive matching pursuit by brute force: at each step, the atom
    whose addition gives the smallest least-squares residual."""
    support = []
    for _ in range(k):
        fits = []
        for j in set(range(len(D))) - set(support):
            A = D[support + [j]].T
            coef = np.linalg.lstsq(A, x, rcond=None)[0]
            fits.append((np.sum((x - A @ coef) ** 2), j, coef))
        _, j, coef = min(fits, key=lambda f: (f[0], f[1]))
        support.append(j)
    code = np.zeros(len(D))
    code[support] = coef
    return code


def test_ormp_equals_brute_force_and_beats_omp(rng):
    # Correlated atoms of unequal norms, so that the two rules often disagree.
    D = rng.standard_normal((12, 6))
    D[:, 0] += 1.5
    D *= rng.uniform(0.5, 2.0, (12, 1))
    X = rng.standard_normal((40, 6))
    ours = sparse_encode(X, D, algorithm="omp", n_nonzero_coefs=3, omp_rule="ormp")
    reference = np.array([reference_ormp(D, x, 3) for x in X])
    np.testing.assert_allclose(ours, reference, atol=1e-10, rtol=0)
    omp = sparse_encode(X, D, algorithm="omp", n_nonzero_coefs=3)
    assert (np.abs(omp - ours).max(axis=1) > 1e-6).sum() >= 5  # the rules differ here
    res = lambda code: np.sum((X - code @ D) ** 2)  # noqa: E731
    assert res(ours) < res(omp)


def test_ormp_tolerance_stops_at_squared_residual(problem):
    X, D = problem
    code = sparse_encode(X, D, algorithm="omp", alpha=0.5, omp_rule="ormp")
    residual = np.sum((X - code @ D) ** 2, axis=1)
    assert (residual <= 0.5 + 1e-9).all()
    # One atom fewer would not meet the tolerance: the first ORMP steps.
    for x, c in zip(X[:10], code[:10]):
        k = np.count_nonzero(c)
        if k > 1:
            fewer = reference_ormp(D, x, k - 1)
            assert np.sum((x - fewer @ D) ** 2) > 0.5


def test_ormp_equals_spams_omp(problem):
    spams = pytest.importorskip("spams")
    X, D = problem
    ours = sparse_encode(X, D, algorithm="omp", n_nonzero_coefs=5, omp_rule="ormp")
    theirs = spams.omp(np.asfortranarray(X.T), np.asfortranarray(D.T), L=5, numThreads=1).toarray().T
    np.testing.assert_allclose(ours, theirs, atol=1e-8, rtol=0)
    plain = sparse_encode(X, D, algorithm="omp", n_nonzero_coefs=5)
    assert np.abs(plain - theirs).max() > 1e-3  # SPAMS' omp is not plain OMP


def test_omp_rule_errors(problem):
    X, D = problem
    with pytest.raises(ValueError, match="omp_rule must be"):
        sparse_encode(X, D, algorithm="omp", omp_rule="residual")
    with pytest.raises(ValueError, match="no non-negative variant"):
        sparse_encode(X, D, algorithm="omp", omp_rule="ormp", positive=True)
    with pytest.raises(ValueError, match="applies to algorithm 'omp' only"):
        sparse_encode(X, D, algorithm="lasso_lars", omp_rule="ormp")


def test_nonnegative_omp_codes_are_nonnegative(problem):
    X, D = problem
    code = sparse_encode(X, D, algorithm="omp", n_nonzero_coefs=4, positive=True)
    assert (code >= 0).all() and (code > 0).any()


@pytest.mark.parametrize("algorithm", ["lasso_lars", "lasso_cd"])
@pytest.mark.parametrize("positive", [False, True])
def test_lasso_objective_matches_sklearn(problem, algorithm, positive):
    X, D = problem
    alpha = 0.3
    ours = sparse_encode(X, D, algorithm=algorithm, alpha=alpha, positive=positive, tol=1e-12, max_iter=10000)
    theirs = sk_sparse_encode(X, D, algorithm=algorithm, alpha=alpha, positive=positive, max_iter=10000)
    ours_obj = lasso_objective(X, D, ours, alpha)
    theirs_obj = lasso_objective(X, D, theirs, alpha)
    # Ours is never worse than scikit-learn's by more than 1e-6 relative.
    assert (ours_obj <= theirs_obj * (1 + 1e-6) + 1e-12).all()
    np.testing.assert_allclose(ours_obj, theirs_obj, rtol=1e-6)
    if positive:
        assert (ours >= 0).all()


@pytest.mark.parametrize("algorithm", ["lasso_lars", "lasso_cd", "fista"])
def test_lasso_solution_satisfies_kkt(problem, algorithm):
    X, D = problem
    alpha = 0.2
    code = sparse_encode(X, D, algorithm=algorithm, alpha=alpha, tol=1e-12, max_iter=20000)
    correlation = (X - code @ D) @ D.T  # = alpha * sign(code) on the support, |.| <= alpha off it
    on = code != 0
    np.testing.assert_allclose(correlation[on], alpha * np.sign(code[on]), atol=1e-5)
    assert (np.abs(correlation[~on]) <= alpha + 1e-5).all()


def test_report_objective_is_lasso_objective(problem):
    X, D = problem
    code, n_iter, objective = encode_details(X, D, algorithm="lasso_lars", alpha=0.2)
    np.testing.assert_allclose(objective, lasso_objective(X, D, code, 0.2), rtol=1e-10)
    # LARS takes one step per atom that enters or leaves the active set.
    assert n_iter.shape == (X.shape[0],)
    assert (n_iter >= np.count_nonzero(code, axis=1)).all() and n_iter.max() > 0


@pytest.mark.parametrize("positive", [False, True])
def test_threshold_matches_sklearn(problem, positive):
    X, D = problem
    ours = sparse_encode(X, D, algorithm="threshold", alpha=0.4, positive=positive)
    theirs = sk_sparse_encode(X, D, algorithm="threshold", alpha=0.4, positive=positive)
    np.testing.assert_allclose(ours, theirs, atol=1e-12)


def test_hard_threshold_keeps_large_correlations(problem):
    X, D = problem
    code = sparse_encode(X, D, algorithm="hard_threshold", alpha=0.4)
    correlation = X @ D.T
    np.testing.assert_array_equal(code, np.where(np.abs(correlation) >= 0.4, correlation, 0.0))


def test_lars_keeps_n_nonzero_coefs(problem):
    X, D = problem
    ours = sparse_encode(X, D, algorithm="lars", n_nonzero_coefs=3)
    theirs = sk_sparse_encode(X, D, algorithm="lars", n_nonzero_coefs=3)
    assert (np.count_nonzero(ours, axis=1) <= 3).all()
    # Same path as scikit-learn's LARS wherever no coefficient crossed zero.
    same_support = (ours != 0) == (theirs != 0)
    rows = same_support.all(axis=1)
    assert rows.mean() > 0.9
    np.testing.assert_allclose(ours[rows], theirs[rows], atol=1e-8)


def test_warm_start_from_init_converges_to_same_solution(problem):
    X, D = problem
    cold = sparse_encode(X, D, algorithm="lasso_cd", alpha=0.2, tol=1e-12)
    init = cold + 0.01
    init_before = init.copy()
    warm = sparse_encode(X, D, algorithm="lasso_cd", alpha=0.2, tol=1e-12, init=init)
    np.testing.assert_allclose(warm, cold, atol=1e-6)
    np.testing.assert_array_equal(init, init_before)


# ---- arrays: layouts, dtypes, buffers -------------------------------------------------------


def test_any_strides_give_the_same_codes(problem):
    X, D = problem
    expected = sparse_encode(X, D, algorithm="omp", n_nonzero_coefs=3)
    fortran = np.asfortranarray(X)
    np.testing.assert_array_equal(sparse_encode(fortran, D, algorithm="omp", n_nonzero_coefs=3), expected)
    wide = np.zeros((X.shape[0] * 2, X.shape[1] * 3))
    wide[::2, ::3] = X
    strided = wide[::2, ::3]
    assert not strided.flags.c_contiguous and not strided.flags.f_contiguous
    np.testing.assert_array_equal(sparse_encode(strided, D, algorithm="omp", n_nonzero_coefs=3), expected)
    reversed_rows = X[::-1]
    np.testing.assert_array_equal(
        sparse_encode(reversed_rows, D, algorithm="omp", n_nonzero_coefs=3), expected[::-1]
    )
    np.testing.assert_array_equal(
        sparse_encode(X, np.asfortranarray(D)[:, :], algorithm="omp", n_nonzero_coefs=3), expected
    )


def test_read_only_and_memory_mapped_inputs(problem, tmp_path):
    X, D = problem
    expected = sparse_encode(X, D, algorithm="omp", n_nonzero_coefs=3)
    X_ro, D_ro = X.copy(), D.copy()
    X_ro.setflags(write=False)
    D_ro.setflags(write=False)
    np.testing.assert_array_equal(sparse_encode(X_ro, D_ro, algorithm="omp", n_nonzero_coefs=3), expected)
    path = tmp_path / "x.npy"
    np.save(path, X)
    X_map = np.load(path, mmap_mode="r")
    np.testing.assert_array_equal(sparse_encode(X_map, D, algorithm="omp", n_nonzero_coefs=3), expected)


@pytest.mark.parametrize("algorithm", ["omp", "lasso_lars", "lasso_cd", "fista", "threshold"])
def test_caller_buffers_not_modified(problem, algorithm):
    X, D = problem
    X_before, D_before = X.copy(), D.copy()
    sparse_encode(X, D, algorithm=algorithm, alpha=0.2 if algorithm != "omp" else None)
    np.testing.assert_array_equal(X, X_before)
    np.testing.assert_array_equal(D, D_before)


def test_float32_preserved_and_lists_become_float64(problem):
    X, D = problem
    assert sparse_encode(X.astype(np.float32), D, algorithm="omp").dtype == np.float32
    assert sparse_encode(X.tolist(), D.tolist(), algorithm="omp").dtype == np.float64
    ints = np.array([[1, 0, 2], [0, 3, 0]])
    code = sparse_encode(ints, np.eye(3), algorithm="omp", n_nonzero_coefs=2)
    assert code.dtype == np.float64
    np.testing.assert_array_equal(code, ints)


@pytest.mark.parametrize("algorithm", ["omp", "lasso_lars", "fista"])
def test_results_do_not_depend_on_n_jobs(rng, algorithm):
    D = rng.standard_normal((64, 16))
    X = rng.standard_normal((700, 16))  # several blocks of 256 signals
    alpha = None if algorithm == "omp" else 0.5
    one = sparse_encode(X, D, algorithm=algorithm, alpha=alpha, max_iter=20, n_jobs=1)
    assert np.count_nonzero(one) > 0
    for n_jobs in (2, 3, -1):
        np.testing.assert_array_equal(sparse_encode(X, D, algorithm=algorithm, alpha=alpha, max_iter=20, n_jobs=n_jobs), one)


# ---- sparse output -----------------------------------------------------------------------------


SPARSE_CASES = [
    ("omp", {}),
    ("omp", {"omp_rule": "ormp"}),
    ("omp", {"positive": True}),
    ("omp", {"alpha": 0.3}),
    ("lasso_lars", {"alpha": 0.2}),
    ("lasso_cd", {"alpha": 0.2}),
    ("lars", {"n_nonzero_coefs": 4}),
    ("fista", {"alpha": 0.2}),
    ("threshold", {"alpha": 0.2}),
    ("hard_threshold", {"alpha": 0.5}),
]


@pytest.mark.parametrize("algorithm, params", SPARSE_CASES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sparse_output_is_the_dense_codes_exactly(rng, algorithm, params, dtype):
    D = rng.standard_normal((48, 16)).astype(dtype)
    X = rng.standard_normal((150, 16)).astype(dtype)  # several blocks of the driver
    dense, n_iter, objective = encode_details(X, D, algorithm=algorithm, **params)
    code, sparse_n_iter, sparse_objective = encode_details(X, D, algorithm=algorithm, sparse_output=True, **params)
    assert isinstance(code, sparse.csr_matrix)
    assert code.shape == dense.shape and code.dtype == dense.dtype
    assert code.indices.dtype == np.int32 and code.indptr.dtype == np.int32
    assert code.has_sorted_indices and code.nnz == np.count_nonzero(dense) > 0
    assert np.all(code.data != 0)
    np.testing.assert_array_equal(code.toarray(), dense)
    np.testing.assert_array_equal(sparse_n_iter, n_iter)
    np.testing.assert_array_equal(sparse_objective, objective)


def test_sparse_output_of_any_strides_and_warm_starts(problem):
    X, D = problem
    expected = sparse_encode(X, D, algorithm="omp", n_nonzero_coefs=3)
    for Xv in (np.asfortranarray(X), X[::-1][::-1]):
        code = sparse_encode(Xv, D, algorithm="omp", n_nonzero_coefs=3, sparse_output=True)
        np.testing.assert_array_equal(code.toarray(), expected)
    cold = sparse_encode(X, D, algorithm="lasso_cd", alpha=0.2, tol=1e-12)
    init = cold + 0.01
    warm_dense = sparse_encode(X, D, algorithm="lasso_cd", alpha=0.2, init=init)
    warm = sparse_encode(X, D, algorithm="lasso_cd", alpha=0.2, init=init, sparse_output=True)
    np.testing.assert_array_equal(warm.toarray(), warm_dense)
    with pytest.raises(ValueError, match="init is 2 x 40"):
        sparse_encode(X, D, algorithm="lasso_cd", alpha=0.2, init=init[:2], sparse_output=True)


@pytest.mark.parametrize("params", [{"algorithm": "omp", "omp_rule": "ormp"}, {"algorithm": "lasso_lars", "alpha": 0.5}])
def test_sparse_output_does_not_depend_on_n_jobs(rng, params):
    D = rng.standard_normal((64, 16))
    X = rng.standard_normal((700, 16))
    one = sparse_encode(X, D, n_jobs=1, sparse_output=True, **params)
    for n_jobs in (2, 3, -1):
        many = sparse_encode(X, D, n_jobs=n_jobs, sparse_output=True, **params)
        for name in ("data", "indices", "indptr"):
            np.testing.assert_array_equal(getattr(many, name), getattr(one, name))


def test_sparse_output_equals_spams_omp(problem):
    spams = pytest.importorskip("spams")
    X, D = problem
    ours = sparse_encode(X, D, algorithm="omp", n_nonzero_coefs=5, omp_rule="ormp", sparse_output=True)
    theirs = spams.omp(np.asfortranarray(X.T), np.asfortranarray(D.T), L=5, numThreads=1).T.tocsr()
    theirs.sort_indices()
    np.testing.assert_array_equal(ours.indptr, theirs.indptr)
    np.testing.assert_array_equal(ours.indices, theirs.indices)
    np.testing.assert_allclose(ours.data, theirs.data, atol=1e-8, rtol=0)


# ---- errors ------------------------------------------------------------------------------------


def test_nan_and_inf_are_value_errors_naming_the_entry(problem):
    X, D = problem
    X = X.copy()
    X[3, 4] = np.nan
    with pytest.raises(ValueError, match=r"X contains a non-finite value \(NaN\) at row 3, column 4"):
        sparse_encode(X, D, algorithm="omp")
    D = D.copy()
    D[1, 2] = np.inf
    with pytest.raises(ValueError, match=r"dictionary contains a non-finite value \(inf\) at row 1, column 2"):
        sparse_encode(problem[0], D, algorithm="omp")


def test_shape_errors(problem):
    X, D = problem
    with pytest.raises(ValueError, match="different numbers of features"):
        sparse_encode(X[:, :5], D, algorithm="omp")
    with pytest.raises(ValueError, match="Expected 2D array, got 1D array"):
        sparse_encode(X[0], D, algorithm="omp")
    with pytest.raises(ValueError, match="0 sample"):
        sparse_encode(X[:0], D, algorithm="omp")
    with pytest.raises(ValueError, match="init is 3 x 40 but X has 60 rows"):
        sparse_encode(X, D, algorithm="lasso_cd", init=np.zeros((3, 40)))


def test_sparse_matrices_are_refused_with_sklearns_message(problem):
    X, D = problem
    with pytest.raises(TypeError, match="dense data is required"):
        sparse_encode(sparse.csr_matrix(X), D, algorithm="omp")


def test_bad_parameters(problem):
    X, D = problem
    with pytest.raises(ValueError, match="algorithm must be one of"):
        sparse_encode(X, D, algorithm="magic")
    with pytest.raises(ValueError, match="n_nonzero"):
        sparse_encode(X, D, algorithm="omp", n_nonzero_coefs=0)
    with pytest.raises(ValueError, match="lambda|alpha"):
        sparse_encode(X, D, algorithm="lasso_lars", alpha=-1.0)
    with pytest.raises(ValueError, match="n_jobs"):
        sparse_encode(X, D, algorithm="omp", n_jobs=0)
    with pytest.raises(ValueError, match="zero norm"):
        sparse_encode(X, np.vstack([D, np.zeros(D.shape[1])]), algorithm="omp")


def test_extension_rejects_wrong_types_without_crashing(problem):
    X, D = problem
    with pytest.raises(TypeError, match="float32 or float64, got a 2-D numpy array of dtype int64"):
        sparsecode._sparsecode.encode(np.zeros((2, 2), dtype=np.int64), D, "omp")
    with pytest.raises(TypeError, match="got an object of type list"):
        sparsecode._sparsecode.encode([[1.0]], D, "omp")
    with pytest.raises(TypeError, match="dictionary must have dtype float64 like the signals, got float32"):
        sparsecode._sparsecode.encode(X, D.astype(np.float32), "omp")


def test_gil_is_released_while_coding(rng):
    import threading
    import time

    D = rng.standard_normal((128, 32))
    X = rng.standard_normal((1500, 32))
    state = {"running": False, "done": False}

    def work():
        state["running"] = True
        sparse_encode(X, D, algorithm="lasso_lars", alpha=1.0, n_jobs=1)
        state["done"] = True

    worker = threading.Thread(target=work)
    worker.start()
    # This thread wakes up every millisecond; each wake-up needs the GIL. Were
    # the GIL held for the whole call, it could not wake up until the call ends.
    wakeups = 0
    while not state["done"]:
        time.sleep(1e-3)
        wakeups += state["running"] and not state["done"]
    worker.join()
    assert wakeups >= 20
