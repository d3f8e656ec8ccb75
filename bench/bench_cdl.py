"""Convolutional dictionary learning speed: sparsecode's
``ConvDictionaryLearning`` against SPORCO's ``ConvBPDNDictLearn`` (2-D) and
alphacsc's ``learn_d_z`` (1-D) on the same bytes, one process.

2-D, against SPORCO: 8 gray 128x128 crops (the centres of the 256x256 crops
in ../shared/data/images/crops plus the top-left of camera; random data when
absent), high-passed by the Tikhonov split of SPORCO's examples (``mu = 5``),
32 filters 8x8 from the same random start (seed 0), lambda 0.1, circular
boundary. Both alternate one ADMM coding iteration and one filter-update
iteration per outer iteration (SPORCO's default for dictionary learning),
for ``--iters`` outer iterations: SPORCO with its consensus ADMM (``cns``)
and projected-gradient (``pgm``, its default) dictionary updates, sparsecode
with its consensus and FISTA updates. Objective convention of both:
``0.5 ||s - sum_k d_k * z_k||^2 + lambda ||z||_1`` over all images, here
computed for every result by the same numpy code from the returned filters
and maps. Reported: the minimum time per outer iteration over ``--repeat``
runs, its ratio to SPORCO ``cns``, the final objective, and the time
sparsecode takes to reach SPORCO ``cns``'s final objective (the smallest
number of outer iterations of a longer timed run whose objective curve reaches
it, times that run's time per iteration).

1-D, against alphacsc: ``alphacsc.simulate.simulate_data`` (100 trials of
512 samples, 2 atoms of 64 samples, noise 0.01, seed 0), ``reg`` 0.1,
``n_iter`` 50, alphacsc's defaults otherwise (L-BFGS-B coding, block
projected-gradient atom update, ``lmbd_max='fixed'``: reg is used as given).
alphacsc's objective is ``0.5 ||x - sum_k z_k * d_k||^2 + reg sum z`` with
``z >= 0`` and ``||d_k|| <= 1``, its maps of length ``n_times - n_times_atom
+ 1`` ("valid"); sparsecode runs the same problem with ``positive=True`` and
``boundary='linear'``, whose maps also hold the atoms that overhang either
end (a slightly larger model: at most a lower objective, not a different
one). Both start from the same atoms. Reported: alphacsc's time and final
objective; for sparsecode's defaults (consensus update, 2 coding + 2 filter
iterations per outer iteration) and for FISTA 10 + 10, the time of
``--iters-1d`` outer iterations with the final objective, and the time to
reach alphacsc's objective (the first iterations of that run, by its own
objective curve); all other objectives recomputed by the same numpy code.

Threads: sparsecode runs with ``n_jobs=1``, SPORCO's pyFFTW backend with one
thread, alphacsc with ``n_jobs=1``; set OMP/OPENBLAS threads to 1 for BLAS.

Usage: python bench/bench_cdl.py [--iters 50] [--repeat 2] [--iters-1d 100]
"""

import argparse
import glob
import os
import time
import warnings

import numpy as np

from sparsecode.conv import ConvDictionaryLearning, ConvSparseCoder

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    try:
        import sporco.fft
        from sporco.dictlrn import cbpdndl
    except ImportError:
        cbpdndl = None
    try:
        from alphacsc import learn_d_z
        from alphacsc.simulate import simulate_data
    except ImportError:
        learn_d_z = None

CROPS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "data", "images", "crops")


def high_pass(image, mu=5.0):
    """``image`` minus its Tikhonov low-pass ``(I + mu G^T G)^-1 image``
    (G: circular first differences along both axes)."""
    h, w = image.shape
    gy = np.abs(np.fft.fft(np.array([1.0, -1.0]), h)) ** 2
    gx = np.abs(np.fft.fft(np.array([1.0, -1.0]), w)) ** 2
    low = np.real(np.fft.ifft2(np.fft.fft2(image) / (1.0 + mu * (gy[:, None] + gx[None, :]))))
    return image - low


def images(rng):
    paths = sorted(glob.glob(os.path.join(CROPS, "*_256.npy")))
    if len(paths) < 1:
        print(f"no crops in {CROPS}: using random data")
        return rng.random((8, 128, 128))
    crops = [np.load(p)[64:192, 64:192] for p in paths]
    camera = [p for p in paths if "camera" in p] or paths[:1]
    crops.append(np.load(camera[0])[:128, :128])
    return np.array(crops[:8], dtype=np.float64)


def objective(filters, maps, signals, lmbda, boundary):
    """``0.5 ||s - sum_k d_k * z_k||^2 + lambda ||z||_1`` by sparsecode's reconstruction."""
    recon = ConvSparseCoder(filters, boundary=boundary).inverse_transform(maps)
    return 0.5 * np.sum((signals - recon) ** 2) + lmbda * np.abs(maps).sum()


def timed(run, repeat):
    best, result = np.inf, None
    for _ in range(repeat):
        start = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - start)
    return best, result


def sparsecode_run(signals, init, lmbda, iters, update, **kw):
    n_filters, shape = init.shape[0], init.shape[1:]
    cdl = ConvDictionaryLearning(
        n_filters, shape, alpha=lmbda, max_iter=iters, filter_update=update, filters_init=init, n_jobs=1, **kw
    )
    maps = cdl.fit_transform(signals)
    return cdl, maps


def iterations_to(curve, target):
    hits = np.flatnonzero(np.asarray(curve) <= target)
    return int(hits[0]) + 1 if hits.size else None


def bench_2d(args):
    rng = np.random.default_rng(0)
    signals = np.ascontiguousarray(np.array([high_pass(im) for im in images(rng)]))
    init = rng.standard_normal((32, 8, 8))
    init /= np.linalg.norm(init.reshape(32, -1), axis=1)[:, None, None]
    lmbda, iters = args.lmbda, args.iters
    print(f"\n2-D CDL: {signals.shape[0]} high-passed images {signals.shape[1]}x{signals.shape[2]}, 32 filters 8x8, "
          f"lambda {lmbda}, {iters} outer iterations of 1 coding + 1 filter iteration, min of {args.repeat}")
    rows = []
    for update in ("consensus", "fista"):
        seconds, (cdl, maps) = timed(
            lambda: sparsecode_run(signals, init, lmbda, iters, update, coding_iter=1, filter_iter=1), args.repeat
        )
        rows.append((f"sparsecode, {update} update, 1 thread", seconds / iters,
                     objective(cdl.filters_, maps, signals, lmbda, "circular")))
    target = None
    if cbpdndl is None:
        print("SPORCO is not installed (pip install sporco pyfftw): its rows are skipped")
    else:
        sporco.fft.pyfftw_threads = 1
        backend = "pyFFTW" if getattr(sporco.fft, "have_pyfftw", False) else "numpy FFT"
        s = np.ascontiguousarray(signals.transpose(1, 2, 0))  # SPORCO: (h, w, n_images)
        d0 = np.ascontiguousarray(init.transpose(1, 2, 0))  # (h, w, n_filters)
        for dmethod in ("cns", "pgm"):
            opt = cbpdndl.ConvBPDNDictLearn.Options({"Verbose": False, "MaxMainIter": iters}, dmethod=dmethod)

            def run_sporco():
                learner = cbpdndl.ConvBPDNDictLearn(d0, s, lmbda, opt, dmethod=dmethod)
                learner.solve()
                return learner

            seconds, learner = timed(run_sporco, args.repeat)
            filters = np.ascontiguousarray(learner.getdict().squeeze().transpose(2, 0, 1))
            maps = np.ascontiguousarray(learner.getcoef().squeeze().transpose(2, 3, 0, 1))
            obj = objective(filters, maps, signals, lmbda, "circular")
            rows.append((f"SPORCO ConvBPDNDictLearn, {dmethod} ({backend}, 1 thread)", seconds / iters, obj))
            if dmethod == "cns":
                target = obj
    base = next((r[1] for r in rows if "cns" in r[0]), rows[0][1])
    print("| method | ms / outer iteration | ratio to SPORCO cns | final objective |\n|---|---:|---:|---:|")
    for label, per_iter, obj in rows:
        print(f"| {label} | {1000 * per_iter:.1f} | {per_iter / base:.2f} | {obj:.4f} |")
    if target is not None:
        sporco_seconds = base * iters
        print(f"\nTime to SPORCO cns's final objective {target:.4f} ({sporco_seconds:.2f} s):")
        print("| method | outer iterations | time (s) | speed-up vs SPORCO cns |\n|---|---:|---:|---:|")
        for label, budget, kw in (
            ("consensus, 1+1", 4 * iters, dict(update="consensus", coding_iter=1, filter_iter=1)),
            ("consensus, 2+2 (the defaults)", 2 * iters, dict(update="consensus", coding_iter=2, filter_iter=2)),
            ("consensus, 10+10", iters, dict(update="consensus", coding_iter=10, filter_iter=10)),
            ("fista, 10+10", iters, dict(update="fista", coding_iter=10, filter_iter=10)),
        ):
            update = kw.pop("update")
            seconds, (cdl, _) = timed(lambda: sparsecode_run(signals, init, lmbda, budget, update, **kw), args.repeat)
            needed = iterations_to(cdl.objective_, target)
            if needed is None:
                print(f"| sparsecode {label} | not reached in {budget} (best {min(cdl.objective_):.4f}) | | |")
                continue
            # Time of the first `needed` iterations of the budget run: a run of
            # `needed` iterations would schedule its filter-replacement trials
            # (first 80% of a run) differently and need not reach the target.
            seconds *= needed / budget
            print(f"| sparsecode {label} | {needed} of {budget} | {seconds:.2f} | {sporco_seconds / seconds:.2f} |")


def bench_1d(args):
    if learn_d_z is None:
        print("\nalphacsc is not installed (pip install alphacsc): the 1-D comparison is skipped")
        return
    n_trials, n_times, n_times_atom, n_atoms, reg = 100, 512, 64, 2, 0.1
    X, _, _ = simulate_data(n_trials, n_times, n_times_atom, n_atoms, random_state=0)
    X = X + 0.01 * np.random.default_rng(0).standard_normal(X.shape)
    init = np.random.default_rng(1).standard_normal((n_atoms, n_times_atom))
    init /= np.linalg.norm(init, axis=1, keepdims=True)
    print(f"\n1-D CDL: alphacsc simulate_data, {n_trials} trials x {n_times} samples, {n_atoms} atoms of "
          f"{n_times_atom}, reg {reg}, non-negative activations; alphacsc n_iter {args.alphacsc_iter}")

    def run_alphacsc():
        return learn_d_z(X, n_atoms, n_times_atom, reg=reg, n_iter=args.alphacsc_iter, ds_init=init.copy(),
                         random_state=0, n_jobs=1, verbose=0)

    seconds_a, (pobj, _, d_hat, z_hat, _) = timed(run_alphacsc, args.repeat)
    maps_a = np.ascontiguousarray(z_hat.transpose(1, 0, 2))  # (n_trials, n_atoms, n_times - L + 1)
    # alphacsc's "valid" maps as sparsecode's linear-boundary maps (atoms never overhang).
    padded = np.zeros((n_trials, n_atoms, n_times + n_times_atom - 1))
    padded[:, :, : maps_a.shape[2]] = maps_a
    target = objective(d_hat, padded, X, reg, "linear")
    print(f"alphacsc's own final objective {pobj[-1]:.4f}, recomputed {target:.4f}")
    rows = [("alphacsc learn_d_z, 1 job", seconds_a, target, args.alphacsc_iter)]
    for label, update, inner in (("defaults: consensus 2+2", "consensus", 2), ("fista 10+10", "fista", 10)):
        kw = dict(positive=True, boundary="linear", coding_iter=inner, filter_iter=inner)
        seconds_f, (cdl, maps) = timed(lambda: sparsecode_run(X, init, reg, args.iters_1d, update, **kw), args.repeat)
        rows.append((f"sparsecode, {label}, {args.iters_1d} iterations", seconds_f,
                     objective(cdl.filters_, maps, X, reg, "linear"), args.iters_1d))
        needed = iterations_to(cdl.objective_, target)
        if needed is None:
            print(f"(sparsecode {label} did not reach alphacsc's objective in {args.iters_1d} iterations)")
            continue
        # The first `needed` iterations of that run (see bench_2d).
        rows.append((f"sparsecode, {label}, to alphacsc's objective", seconds_f * needed / args.iters_1d,
                     cdl.objective_[needed - 1], needed))
    print("| method | time (s) | ratio to alphacsc | objective | outer iterations |\n|---|---:|---:|---:|---:|")
    for label, seconds, obj, n in rows:
        print(f"| {label} | {seconds:.3f} | {seconds / seconds_a:.3f} | {obj:.4f} | {n} |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iters", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--lmbda", type=float, default=0.1)
    parser.add_argument("--iters-1d", type=int, default=100)
    parser.add_argument("--alphacsc-iter", type=int, default=50)
    parser.add_argument("--skip-2d", action="store_true")
    parser.add_argument("--skip-1d", action="store_true")
    args = parser.parse_args()
    if not args.skip_2d:
        bench_2d(args)
    if not args.skip_1d:
        bench_1d(args)


if __name__ == "__main__":
    main()
