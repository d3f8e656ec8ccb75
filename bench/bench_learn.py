"""Online dictionary learning: time to reach the held-out objective of SPAMS' trainDL.

Data: ``--samples`` mean-removed 8x8 patches (from ../shared/data, random data
when absent, drawn as in bench_encode.py) plus ``--heldout`` other patches.
Every learner minimises the same per-sample objective
``0.5 ||x - z D||^2 + lambda ||z||_1`` (SPAMS ``mode=2``, scikit-learn's and
sparsecode's ``alpha``), on one thread, over the same mini-batches in the same
order. SPAMS runs ``--spams-iter`` mini-batch iterations (default: one epoch);
its held-out objective is the target. sparsecode and scikit-learn are then fed
the same mini-batches through ``partial_fit`` until their held-out objective
reaches the target or ``--budget`` seconds of learning time are spent. Only
learning is timed: the held-out evaluation (LARS codes by sparsecode for every
learner's dictionary, so the yardstick is the same) runs every
``--check-every`` batches outside the clock.

    python bench/bench_learn.py            # --samples 200000 --atoms 256 --lam 0.1
"""

import argparse
import time

import numpy as np
from threadpoolctl import threadpool_limits

from bench_encode import patches
import sparsecode

try:
    import spams
except ImportError:
    spams = None

try:
    from sklearn.decomposition import MiniBatchDictionaryLearning as SkMiniBatch
except ImportError:
    SkMiniBatch = None


def heldout_objective(X, D, lam):
    """Mean of 0.5||x - zD||^2 + lam ||z||_1 over X with exact Lasso codes."""
    D = np.ascontiguousarray(D, dtype=np.float64)
    D = D / np.maximum(np.linalg.norm(D, axis=1, keepdims=True), 1e-12)
    Z = sparsecode.sparse_encode(X, D, algorithm="lasso_lars", alpha=lam, n_jobs=-1)
    R = X - Z @ D
    return float(np.mean(0.5 * np.sum(R * R, axis=1) + lam * np.abs(Z).sum(axis=1)))


def stream_until(estimator, X, batch, target, lam, Xte, check_every, budget):
    """partial_fit over consecutive batches until the held-out objective <= target."""
    learning, seen, best = 0.0, 0, np.inf
    n_batches = len(X) // batch
    for b in range(n_batches * 10):
        i = (b % n_batches) * batch
        t = time.perf_counter()
        estimator.partial_fit(X[i : i + batch])
        learning += time.perf_counter() - t
        seen += batch
        if (b + 1) % check_every == 0 or learning > budget:
            best = min(best, heldout_objective(Xte, estimator.components_, lam))
            if best <= target or learning > budget:
                break
    return learning, seen, best


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=200_000)
    parser.add_argument("--heldout", type=int, default=10_000)
    parser.add_argument("--atoms", type=int, default=256)
    parser.add_argument("--lam", type=float, default=0.1)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--spams-iter", type=int, default=None, help="mini-batch iterations of trainDL (default: 1 epoch)")
    parser.add_argument("--check-every", type=int, default=50)
    parser.add_argument("--budget", type=float, default=120.0, help="seconds of learning per tool before giving up")
    parser.add_argument("--forget-rate", type=float, default=None,
                        help="sparsecode's forget_rate (default: the estimator's default)")
    parser.add_argument("--no-sklearn", action="store_true", help="skip scikit-learn (the slowest row)")
    args = parser.parse_args()

    X, _ = patches(args.samples + args.heldout, 1)
    Xtr, Xte = X[: args.samples], X[args.samples :]
    iters = args.spams_iter or args.samples // args.batch
    lam = args.lam
    rows = []

    if spams is None:
        print("SPAMS is not installed (pip install spams-bin): it sets the target, so there is nothing to time")
        return
    with threadpool_limits(1):
        t = time.perf_counter()
        D = spams.trainDL(np.asfortranarray(Xtr.T), K=args.atoms, lambda1=lam, mode=2, iter=iters,
                          batchsize=args.batch, numThreads=1, verbose=False)
        t_spams = time.perf_counter() - t
        target = heldout_objective(Xte, np.asarray(D).T, lam)
        rows.append(("SPAMS trainDL (1 thread)", t_spams, iters * args.batch, target))

        for label, n_jobs in (("sparsecode MiniBatchDictionaryLearning (1 thread)", 1),
                              ("sparsecode MiniBatchDictionaryLearning (all cores)", -1)):
            extra = {} if args.forget_rate is None else {"forget_rate": args.forget_rate}
            est = sparsecode.MiniBatchDictionaryLearning(n_components=args.atoms, alpha=lam, batch_size=args.batch,
                                                         fit_algorithm="lars", random_state=0, n_jobs=n_jobs, **extra)
            rows.append((label, *stream_until(est, Xtr, args.batch, target, lam, Xte, args.check_every, args.budget)))

        if SkMiniBatch is not None and not args.no_sklearn:
            est = SkMiniBatch(n_components=args.atoms, alpha=lam, batch_size=args.batch, fit_algorithm="lars",
                              random_state=0)
            rows.append(("scikit-learn MiniBatchDictionaryLearning",
                         *stream_until(est, Xtr, args.batch, target, lam, Xte, args.check_every, args.budget)))

    print(f"\nOnline learning, {args.atoms} atoms, lambda {lam}, batch {args.batch}, "
          f"{args.samples} training / {args.heldout} held-out patches")
    print(f"target: SPAMS' held-out objective after {iters} mini-batches = {target:.6f}")
    rate = sparsecode.MiniBatchDictionaryLearning().forget_rate if args.forget_rate is None else args.forget_rate
    print(f"sparsecode forget_rate (rho of beta_t = (1 - 1/t)^rho, per sample) = {rate}")
    print(f"{'method':52s} {'time (s)':>9s} {'ratio':>6s} {'samples':>9s} {'held-out':>10s} {'reached':>8s}")
    reference = rows[1][1]
    for label, seconds, seen, best in rows:
        reached = "yes" if best <= target else "no"
        print(f"{label:52s} {seconds:9.2f} {seconds / reference:6.2f} {seen:9d} {best:10.6f} {reached:>8s}")
    print("ratio: learning time / sparsecode's 1-thread time; 'reached': held-out objective <= target")


if __name__ == "__main__":
    main()
