"""K-SVD speed: sparsecode's KSVD against the ``ksvd`` package from PyPI, same data, same start.

Data: ``--samples`` mean-removed 8x8 patches (from ../shared/data, drawn as in
bench_encode.py; random data when absent). Every learner starts from the same
dictionary (``--atoms`` distinct random patches, normalised) and runs exactly
``--iters`` iterations of OMP coding with ``--nonzeros`` atoms per patch plus
one dictionary update, on one thread:

- sparsecode ``KSVD`` (exact K-SVD, Aharon et al. 2006: an SVD per atom) and
  ``KSVD(approximate=True)`` (Rubinstein et al. 2008: one power step);
- ``ksvd.ApproximateKSVD`` (pip install ksvd; scikit-learn's
  ``orthogonal_mp_gram`` for the codes, approximate K-SVD in numpy). Its own
  start (an SVD of X, or random atoms when there are more atoms than
  features) is replaced by the common one. It updates each atom from the
  samples whose coefficient on it is positive only (``gamma[:, j] > 0``).

The table gives the time per iteration (minimum over ``--repeat`` runs of the
mean over the iterations), the ratio to sparsecode's exact K-SVD, and the
final representation error of each dictionary measured with the same yardstick:
``||X - Z D||_F / ||X||_F`` with Z the OMP codes (``--nonzeros`` atoms) by
sparsecode.

    python bench/bench_ksvd.py            # --samples 20000 --atoms 128 --nonzeros 5 --iters 10
"""

import argparse
import time
import warnings

import numpy as np
from threadpoolctl import threadpool_limits

from bench_encode import patches
import sparsecode

try:
    import ksvd as ksvd_pkg
except ImportError:
    ksvd_pkg = None


def relative_error(X, D, nonzeros):
    """``||X - Z D||_F / ||X||_F`` with OMP codes of ``nonzeros`` atoms."""
    D = D / np.linalg.norm(D, axis=1, keepdims=True)
    Z = sparsecode.sparse_encode(X, D, algorithm="omp", n_nonzero_coefs=nonzeros, n_jobs=-1)
    return float(np.linalg.norm(X - Z @ D) / np.linalg.norm(X))


def run_sparsecode(X, D0, nonzeros, iters, approximate):
    model = sparsecode.KSVD(n_components=D0.shape[0], n_nonzero_coefs=nonzeros, max_iter=iters, tol=0.0,
                            approximate=approximate, dict_init=D0, n_jobs=1)
    t = time.perf_counter()
    model.fit(X)
    return (time.perf_counter() - t) / model.n_iter_, model.components_


def run_ksvd_package(X, D0, nonzeros, iters):
    model = ksvd_pkg.ApproximateKSVD(n_components=D0.shape[0], max_iter=iters, tol=0.0,
                                     transform_n_nonzero_coefs=nonzeros)
    model._initialize = lambda X: D0.copy()
    t = time.perf_counter()
    with warnings.catch_warnings():
        # scikit-learn's OMP warns when the package's atoms become linearly dependent.
        warnings.simplefilter("ignore", RuntimeWarning)
        model.fit(X)
    return (time.perf_counter() - t) / iters, model.components_


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=20_000)
    parser.add_argument("--atoms", type=int, default=128)
    parser.add_argument("--nonzeros", type=int, default=5)
    parser.add_argument("--iters", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()

    X, _ = patches(args.samples, 1)
    rng = np.random.default_rng(0)
    D0 = X[rng.choice(len(X), args.atoms, replace=False)]
    D0 = np.ascontiguousarray(D0 / np.linalg.norm(D0, axis=1, keepdims=True))

    runs = [("sparsecode KSVD (exact), 1 thread", lambda: run_sparsecode(X, D0, args.nonzeros, args.iters, False)),
            ("sparsecode KSVD(approximate=True), 1 thread",
             lambda: run_sparsecode(X, D0, args.nonzeros, args.iters, True))]
    if ksvd_pkg is not None:
        runs.append(("ksvd.ApproximateKSVD (PyPI ksvd), 1 thread",
                     lambda: run_ksvd_package(X, D0, args.nonzeros, args.iters)))
    else:
        print("the ksvd package is not installed (pip install ksvd): its row is skipped")

    rows = []
    with threadpool_limits(1):
        for label, fn in runs:
            best, D = np.inf, None
            for _ in range(args.repeat):
                seconds, D = fn()
                best = min(best, seconds)
            rows.append((label, best, relative_error(X, D, args.nonzeros)))
    start = relative_error(X, D0, args.nonzeros)

    print(f"\nK-SVD, {args.samples} patches, {args.atoms} atoms, {args.nonzeros} non-zeros, {args.iters} iterations "
          f"(min of {args.repeat} runs)")
    print(f"starting dictionary: relative error {start:.4f}")
    print(f"{'method':46s} {'s / iteration':>14s} {'ratio':>7s} {'rel. error':>11s}")
    reference = rows[0][1]
    for label, seconds, error in rows:
        print(f"{label:46s} {seconds:14.4f} {seconds / reference:7.2f} {error:11.4f}")
    print("ratio: time per iteration / sparsecode exact K-SVD's; rel. error: ||X - Z D||_F / ||X||_F, OMP codes")


if __name__ == "__main__":
    main()
