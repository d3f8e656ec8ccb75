"""Convolutional sparse coding speed: sparsecode's CBPDN against SPORCO's
``cbpdn.ConvBPDN`` on the same bytes, one process.

Data: the 256x256 crop ``camera_256.npy`` from ../shared/data/images/crops
(random data if absent), high-passed by the Tikhonov split SPORCO's examples
use (low-pass ``(I + mu G^T G)^-1 s`` in the DFT domain, ``mu = 5``; the
high-pass residual is coded), and 32 random unit-norm 8x8 filters (seed 0).
Both solvers run ADMM with circular boundary, ``rho = 50 lambda + 1``
adapted by residual balancing, over-relaxation 1.8, for exactly
``--iters`` iterations (stopping rules disabled), ``--repeat`` times; the
table shows the minimum time per iteration, its ratio to sparsecode's
single-thread time, and the objective ``0.5 ||s - sum_k d_k * z_k||^2 +
lambda ||z||_1`` of each result computed by the same numpy code.

SPORCO runs its pyFFTW backend with one thread (numpy's FFT when pyFFTW is
absent); sparsecode is timed with ``n_jobs=1`` and with all cores.

Time to the same objective: for each N in ``--targets`` SPORCO runs N
iterations and the objective of its result is the target; the smallest
iteration count at which sparsecode's result is at or below the target is
found by bisection (each candidate a fresh run from zero), and both are timed
(minimum of ``--repeat`` runs): SPORCO for its N iterations, sparsecode for
its count. Both start from the same penalty and adapt it by the same
residual balancing (Wohlberg 2015 with SPORCO's ConvBPDN defaults; the
safeguards of sparsecode's ADMM template do not act on this problem), so they
take the same steps: the table under the timings prints the largest
difference between the two solvers' maps after ``--iters`` iterations, and
the iteration counts in the second table should equal N.

Usage: python bench/bench_conv.py [--iters 50] [--repeat 3] [--lmbda 0.05] [--targets 100,200]
"""

import argparse
import os
import time
import warnings

import numpy as np

from sparsecode.conv import ConvSparseCoder

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    try:
        import sporco.fft
        from sporco.admm import cbpdn
    except ImportError:
        cbpdn = None

IMAGE = os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "data", "images", "crops", "camera_256.npy"
)


def high_pass(image, mu=5.0):
    """``image`` minus its Tikhonov low-pass ``(I + mu G^T G)^-1 image``
    (G: circular first differences along both axes)."""
    h, w = image.shape
    gy = np.abs(np.fft.fft(np.array([1.0, -1.0]), h)) ** 2
    gx = np.abs(np.fft.fft(np.array([1.0, -1.0]), w)) ** 2
    low = np.real(np.fft.ifft2(np.fft.fft2(image) / (1.0 + mu * (gy[:, None] + gx[None, :]))))
    return image - low


def objective(coder, signal, maps, lmbda):
    recon = coder.inverse_transform(maps[np.newaxis])[0]
    return 0.5 * np.sum((signal - recon) ** 2) + lmbda * np.abs(maps).sum()


def time_min(run, repeat):
    best, result = np.inf, None
    for _ in range(repeat):
        start = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - start)
    return best, result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iters", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--lmbda", type=float, default=0.05)
    parser.add_argument("--targets", default="100,200", help="SPORCO iteration counts that set the targets")
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    if os.path.exists(IMAGE):
        image = np.load(IMAGE).astype(np.float64)
        image = image / image.max() if image.max() > 1 else image
    else:
        print(f"no image at {IMAGE}: using random data")
        image = rng.random((256, 256))
    signal = np.ascontiguousarray(high_pass(image))
    filters = rng.standard_normal((32, 8, 8))
    filters /= np.linalg.norm(filters.reshape(32, -1), axis=1)[:, None, None]
    lmbda = args.lmbda
    print(f"CBPDN, 256x256 high-passed image, 32 filters 8x8, lambda {lmbda}, {args.iters} ADMM iterations, "
          f"min of {args.repeat}")

    rows = []
    for label, n_jobs in (("sparsecode, 1 thread", 1), ("sparsecode, all cores", -1)):
        coder = ConvSparseCoder(filters, alpha=lmbda, max_iter=args.iters, tol=1e-300, n_jobs=n_jobs)
        seconds, maps = time_min(lambda: coder.transform(signal[np.newaxis])[0], args.repeat)
        assert coder.n_iter_ == args.iters, coder.n_iter_
        rows.append((label, seconds / args.iters, objective(coder, signal, maps, lmbda)))
        if n_jobs == 1:
            ours_maps = maps

    def run_ours(iters, n_jobs=1):
        coder = ConvSparseCoder(filters, alpha=lmbda, max_iter=iters, tol=1e-300, n_jobs=n_jobs)
        maps = coder.transform(signal[np.newaxis])[0]
        assert coder.n_iter_ == iters, coder.n_iter_
        return maps, objective(coder, signal, maps, lmbda)

    run_sporco = None
    if cbpdn is None:
        print("SPORCO is not installed (pip install sporco): its rows are skipped")
    else:
        sporco.fft.pyfftw_threads = 1
        dictionary = np.ascontiguousarray(filters.transpose(1, 2, 0))  # SPORCO: (h, w, n_filters)

        def run_sporco(iters):
            options = cbpdn.ConvBPDN.Options(
                {
                    "Verbose": False,
                    "MaxMainIter": iters,
                    "RelStopTol": 0.0,
                    "AbsStopTol": 0.0,
                    "rho": 50.0 * lmbda + 1.0,
                    "AutoRho": {"Enabled": True},
                    "RelaxParam": 1.8,
                }
            )
            solver = cbpdn.ConvBPDN(dictionary, signal, lmbda, options)
            maps = np.ascontiguousarray(solver.solve().squeeze().transpose(2, 0, 1))
            return maps, objective(ConvSparseCoder(filters), signal, maps, lmbda)

        seconds, (maps, obj) = time_min(lambda: run_sporco(args.iters), args.repeat)
        backend = "pyFFTW" if getattr(sporco.fft, "have_pyfftw", False) else "numpy FFT"
        rows.append((f"SPORCO ConvBPDN ({backend}, 1 thread)", seconds / args.iters, obj))
        sporco_maps = maps

    base = rows[0][1]
    print("| method | ms / iteration | ratio | objective |\n|---|---:|---:|---:|")
    for label, per_iter, obj in rows:
        print(f"| {label} | {1000 * per_iter:.2f} | {per_iter / base:.2f} | {obj:.6f} |")

    if run_sporco is None:
        return
    print(f"\nLargest |sparsecode map - SPORCO map| after {args.iters} iterations: "
          f"{np.abs(ours_maps - sporco_maps).max():.3e}")
    print("\nTime to SPORCO's objective after N iterations (1 thread each, min of "
          f"{args.repeat}):\n")
    print("| N | target (SPORCO) | SPORCO s | sparsecode iterations | sparsecode objective | sparsecode s "
          "| SPORCO / sparsecode |\n|---:|---:|---:|---:|---:|---:|---:|")
    for n in (int(v) for v in args.targets.split(",")):
        sporco_seconds, (_, target) = time_min(lambda: run_sporco(n), args.repeat)
        # Smallest count whose result reaches the target: double, then bisect.
        high = 1
        while run_ours(high)[1] > target and high < 8 * n:
            high *= 2
        low = high // 2
        while high - low > 1:
            mid = (low + high) // 2
            low, high = (low, mid) if run_ours(mid)[1] <= target else (mid, high)
        ours_seconds, (_, ours) = time_min(lambda: run_ours(high), args.repeat)
        reached = "" if ours <= target else " (not reached)"
        print(f"| {n} | {target:.6f} | {sporco_seconds:.3f} | {high}{reached} | {ours:.6f} | {ours_seconds:.3f} "
              f"| {sporco_seconds / ours_seconds:.2f} |")


if __name__ == "__main__":
    main()
