"""Sparse coding speed: sparsecode against scikit-learn and SPAMS, same bytes, one process.

Data: 100,000 8x8 patches (mean removed) drawn with a fixed seed from the
256x256 crops in ../shared/data/images/crops (random data if absent), and a
256-atom unit-norm dictionary made of other patches. Each method runs
``--repeat`` times; the table shows the minimum wall time, the ratio to
sparsecode, the mean objective and the mean number of non-zeros per code.
OMP is timed with scikit-learn's selection rule (against scikit-learn) and
with the order-recursive rule ``omp_rule='ormp'`` (against SPAMS' ``omp``,
which uses that rule), with the analytic flop count and rate of each.
sparsecode is timed with dense codes (scikit-learn's output) and with
``sparse_output=True`` (a ``scipy.sparse.csr_matrix``, SPAMS' output); the
lines "speed-up over SPAMS" give SPAMS' time over each.

BLAS is held to one thread (threadpoolctl) and SPAMS gets ``numThreads=1``,
so the single-thread rows compare algorithms, not thread counts; sparsecode
is also timed with all cores (``n_jobs=-1``).

scikit-learn's ``lasso_lars``/``lasso_cd`` loop over signals in Python and are
timed on the first ``--sk-lasso-samples`` signals (all tools are timed on that
subset too, for the ratio).

Usage: python bench/bench_encode.py [--samples 100000] [--repeat 3]
"""

import argparse
import glob
import os
import time

import numpy as np
from threadpoolctl import threadpool_limits

import sparsecode
from sparsecode import _sparsecode

try:
    import spams
except ImportError:
    spams = None

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "data", "images", "crops")


def patches(n_samples, n_atoms, data=DATA, seed=0):
    """``n_samples`` training patches and ``n_atoms`` other patches as atoms (8x8, mean removed)."""
    rng = np.random.default_rng(seed)
    files = sorted(glob.glob(os.path.join(data, "*_256.npy")))
    total = n_samples + n_atoms
    if not files:
        print(f"no images under {data}: using random data")
        X = rng.standard_normal((total, 64))
    else:
        per_image = -(-total // len(files))
        rows = []
        for f in files:
            image = np.load(f)
            i = rng.integers(0, image.shape[0] - 8, per_image)
            j = rng.integers(0, image.shape[1] - 8, per_image)
            idx = (i[:, None, None] + np.arange(8)[None, :, None], j[:, None, None] + np.arange(8)[None, None, :])
            rows.append(image[idx].reshape(per_image, 64))
        X = np.concatenate(rows)[rng.permutation(per_image * len(files))[:total]]
        print(f"{total} patches from {len(files)} images in {os.path.normpath(data)}")
    X = X - X.mean(axis=1, keepdims=True)
    atoms, X = X[:n_atoms], X[n_atoms:]
    norms = np.linalg.norm(atoms, axis=1)
    atoms = atoms[norms > 1e-3 * norms.max()]
    atoms = atoms / np.linalg.norm(atoms, axis=1, keepdims=True)
    return np.ascontiguousarray(X), np.ascontiguousarray(atoms)


def best_time(fn, repeat):
    best, out = np.inf, None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def objective(X, D, code, lam):
    r = X - code @ D
    return float(np.mean(0.5 * np.sum(r * r, axis=1) + lam * np.abs(code).sum(axis=1)))


def table(title, rows, reference):
    print(f"\n{title}")
    print(f"{'method':<50}{'time (s)':>10}{'ratio':>9}{'objective':>14}{'nnz':>7}")
    for name, t, obj, nnz in rows:
        print(f"{name:<50}{t:>10.3f}{t / reference:>9.2f}{obj:>14.6f}{nnz:>7.2f}")


def run(name, fn, X, D, lam, repeat, rows):
    """Times ``fn``, adds its row (time, objective, non-zeros) to ``rows`` and returns the time."""
    t, code = best_time(fn, repeat)
    code = np.asarray(code.toarray() if hasattr(code, "toarray") else code)
    if code.shape[0] != X.shape[0]:
        code = code.T
    rows.append((name, t, objective(X, D, code, lam), np.count_nonzero(code) / X.shape[0]))
    return t


def omp_flops(n_features, n_atoms, k, ormp):
    """Floating-point operations of one signal's pursuit, counted as the code
    does them: ``D x`` (``2 n K``), the first selection (``K``), then after
    each of the first ``k - 1`` selections one sweep over the atoms: the new
    basis column (``2 K (j - 1) + K`` at step ``j``), the correlation update
    (``2 K``) and the score (``K``; ORMP also updates the energy outside the
    span, ``2 K``, and compares ratios by products, ``3 K``); then the
    triangular solves (about ``2 k^2``) and the driver's residual (``2 n k +
    4 n``)."""
    n, K = n_features, n_atoms
    sweeps = sum(2 * K * (j - 1) + K + 2 * K + (6 * K if ormp else K) for j in range(1, k))
    return 2 * n * K + K + sweeps + 2 * k * k + 2 * n * k + 4 * n


def speedup_over(peer, peer_time, times):
    """One line: ``peer``'s time over each of sparsecode's ``times`` (name -> seconds)."""
    print(f"speed-up over {peer}: " + ", ".join(f"{name} {peer_time / t:.2f}x" for name, t in times.items()))


def flop_rate(name, seconds, X, D, k, ormp, peak):
    flops = omp_flops(X.shape[1], D.shape[0], k, ormp) * X.shape[0]
    rate = flops / seconds / 1e9
    share = f", {100 * rate / peak:.0f}% of the {peak:.1f} GFLOP/s peak" if peak else ""
    print(f"{name}: {flops / X.shape[0]:.0f} flops per signal, {rate:.2f} GFLOP/s{share}")


def bench_omp(X, D, k, repeat, peak):
    from sklearn.linear_model import orthogonal_mp_gram

    rows = []
    ref = run("sparsecode sparse_encode omp (1 thread)",
              lambda: sparsecode.sparse_encode(X, D, algorithm="omp", n_nonzero_coefs=k, n_jobs=1), X, D, 0, repeat, rows)
    run("sparsecode omp, sparse output (1 thread)",
        lambda: sparsecode.sparse_encode(X, D, algorithm="omp", n_nonzero_coefs=k, n_jobs=1, sparse_output=True),
        X, D, 0, repeat, rows)
    run("sparsecode sparse_encode omp (all cores)",
        lambda: sparsecode.sparse_encode(X, D, algorithm="omp", n_nonzero_coefs=k, n_jobs=-1), X, D, 0, repeat, rows)
    run("sklearn orthogonal_mp_gram (precomputed)",
        lambda: orthogonal_mp_gram(D @ D.T, D @ X.T, n_nonzero_coefs=k), X, D, 0, repeat, rows)
    table(f"OMP (scikit-learn's rule), {k} non-zeros, {X.shape[0]} signals, {D.shape[0]} atoms", rows, ref)
    flop_rate("sparsecode omp, 1 thread", ref, X, D, k, False, peak)

    rows = []
    ormp = dict(algorithm="omp", n_nonzero_coefs=k, omp_rule="ormp")
    ref_ormp = run("sparsecode omp, omp_rule='ormp' (1 thread)",
                   lambda: sparsecode.sparse_encode(X, D, n_jobs=1, **ormp), X, D, 0, repeat, rows)
    ref_sparse = run("sparsecode ormp, sparse output (1 thread)",
                     lambda: sparsecode.sparse_encode(X, D, n_jobs=1, sparse_output=True, **ormp), X, D, 0, repeat, rows)
    run("sparsecode omp, omp_rule='ormp' (all cores)",
        lambda: sparsecode.sparse_encode(X, D, n_jobs=-1, **ormp), X, D, 0, repeat, rows)
    if spams is not None:
        Xf, Df = np.asfortranarray(X.T), np.asfortranarray(D.T)
        t_spams = run("spams.omp (1 thread)", lambda: spams.omp(Xf, Df, L=k, numThreads=1), X, D, 0, repeat, rows)
    table(f"ORMP (SPAMS' omp rule), {k} non-zeros, {X.shape[0]} signals, {D.shape[0]} atoms", rows, ref_ormp)
    if spams is not None:
        speedup_over("spams.omp", t_spams, {"dense": ref_ormp, "sparse output": ref_sparse})
    flop_rate("sparsecode ormp, 1 thread", ref_ormp, X, D, k, True, peak)
    flop_rate("sparsecode ormp, sparse output, 1 thread", ref_sparse, X, D, k, True, peak)


def bench_lasso(X, D, lam, repeat, sk_samples):
    from sklearn.decomposition import sparse_encode as sk_encode

    rows = []
    ref = run("sparsecode lasso_lars (1 thread)",
              lambda: sparsecode.sparse_encode(X, D, algorithm="lasso_lars", alpha=lam, n_jobs=1), X, D, lam, repeat, rows)
    ref_sparse = run("sparsecode lasso_lars, sparse output (1 thread)",
                     lambda: sparsecode.sparse_encode(X, D, algorithm="lasso_lars", alpha=lam, n_jobs=1,
                                                      sparse_output=True), X, D, lam, repeat, rows)
    run("sparsecode lasso_lars (all cores)",
        lambda: sparsecode.sparse_encode(X, D, algorithm="lasso_lars", alpha=lam, n_jobs=-1), X, D, lam, repeat, rows)
    run("sparsecode lasso_cd (1 thread)",
        lambda: sparsecode.sparse_encode(X, D, algorithm="lasso_cd", alpha=lam, n_jobs=1), X, D, lam, repeat, rows)
    if spams is not None:
        Xf, Df = np.asfortranarray(X.T), np.asfortranarray(D.T)
        t_spams = run("spams.lasso (LARS, 1 thread)", lambda: spams.lasso(Xf, Df, lambda1=lam, mode=2, numThreads=1),
                      X, D, lam, repeat, rows)
    table(f"Lasso, lambda = {lam:.4g}, {X.shape[0]} signals, {D.shape[0]} atoms", rows, ref)
    if spams is not None:
        speedup_over("spams.lasso", t_spams, {"lasso_lars dense": ref, "lasso_lars sparse output": ref_sparse})

    Xs = X[:sk_samples]
    rows = []
    ref = run("sparsecode lasso_lars (1 thread)",
              lambda: sparsecode.sparse_encode(Xs, D, algorithm="lasso_lars", alpha=lam, n_jobs=1), Xs, D, lam, repeat, rows)
    run("sparsecode lasso_cd (1 thread)",
        lambda: sparsecode.sparse_encode(Xs, D, algorithm="lasso_cd", alpha=lam, n_jobs=1), Xs, D, lam, repeat, rows)
    run("sklearn sparse_encode lasso_lars", lambda: sk_encode(Xs, D, algorithm="lasso_lars", alpha=lam),
        Xs, D, lam, 1, rows)
    run("sklearn sparse_encode lasso_cd", lambda: sk_encode(Xs, D, algorithm="lasso_cd", alpha=lam),
        Xs, D, lam, 1, rows)
    if spams is not None:
        Xf, Df = np.asfortranarray(Xs.T), np.asfortranarray(D.T)
        run("spams.lasso (LARS, 1 thread)", lambda: spams.lasso(Xf, Df, lambda1=lam, mode=2, numThreads=1),
            Xs, D, lam, repeat, rows)
    table(f"Lasso, lambda = {lam:.4g}, {Xs.shape[0]} signals (scikit-learn: 1 run)", rows, ref)


def lambda_for_nonzeros(X, D, target):
    """Bisection (in log scale) for the lambda whose Lasso codes have ~``target`` non-zeros on average."""
    lo, hi = 1e-4, float(np.abs(X[:2000] @ D.T).max())
    for _ in range(30):
        mid = np.sqrt(lo * hi)
        nnz = np.count_nonzero(sparsecode.sparse_encode(X[:2000], D, algorithm="lasso_lars", alpha=mid)) / 2000
        lo, hi = (mid, hi) if nnz > target else (lo, mid)
    return float(np.sqrt(lo * hi))


def bench_overhead(X, D, k, repeat):
    """The Python layer (validation, parameter resolution) against a direct extension call."""
    print("\nPython-layer overhead (OMP, 1 thread)")
    print(f"{'signals':>8}{'sparse_encode (s)':>20}{'_sparsecode.encode (s)':>24}{'overhead':>12}")
    for n in (1, 100, X.shape[0]):
        Xn = X[:n]
        t_py, _ = best_time(lambda: sparsecode.sparse_encode(Xn, D, algorithm="omp", n_nonzero_coefs=k, n_jobs=1),
                            repeat if n > 1000 else 200)
        t_ext, _ = best_time(lambda: _sparsecode.encode(Xn, D, "omp", n_nonzero=k, n_jobs=1),
                             repeat if n > 1000 else 200)
        print(f"{n:>8}{t_py:>20.6f}{t_ext:>24.6f}{(t_py - t_ext) * 1e6:>10.1f}us")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=100_000)
    parser.add_argument("--atoms", type=int, default=256)
    parser.add_argument("--nonzeros", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sk-lasso-samples", type=int, default=5_000)
    parser.add_argument("--data", default=DATA, help="folder of the 256x256 crops (*_256.npy)")
    parser.add_argument("--peak-gflops", type=float, default=None,
                        help="one core's float64 peak, to print OMP's share of it (e.g. 16 flops/cycle x GHz "
                             "for AVX2/AVX-512 with two FMA pipes)")
    args = parser.parse_args()
    if spams is None:
        print("SPAMS is not installed (pip install spams-bin): its rows are skipped")
    X, D = patches(args.samples, args.atoms, args.data)
    print(f"X {X.shape} {X.dtype}, dictionary {D.shape}; cores: {os.cpu_count()}")
    with threadpool_limits(limits=1):
        bench_omp(X, D, args.nonzeros, args.repeat, args.peak_gflops)
        lam = lambda_for_nonzeros(X, D, args.nonzeros + 1)
        bench_lasso(X, D, lam, args.repeat, args.sk_lasso_samples)
        bench_overhead(X, D, args.nonzeros, args.repeat)


if __name__ == "__main__":
    main()
