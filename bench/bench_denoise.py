"""Patch-dictionary denoising: ``sparsecode denoise`` against scikit-learn's recipe, same noisy image.

Image: the 256x256 camera crop ``../shared/data/images/crops/camera_256.npy``
(values in [0, 1]; a generated test image when absent) plus white Gaussian
noise of standard deviation ``--sigma`` (default 25/255) drawn with
``--seed``. Both methods see the same noisy array.

- sparsecode: the command-line tool, ``sparsecode --threads 1 denoise``
  (Elad & Aharon 2006: 256 atoms learned online on 20,000 mean-free 8x8
  patches of the noisy image, OMP until the residual reaches
  ``(1.15 sigma)^2`` per pixel, patches averaged with the noisy image). The
  binary is ``--binary``, else target/release/sparsecode (build it with
  ``cargo build --release -p sparsecode-cli``); the time includes starting
  the process and reading and writing the images (a few milliseconds).
- scikit-learn, as in its example "Image denoising using dictionary learning"
  (plot_image_denoising.py): ``MiniBatchDictionaryLearning`` (alpha 1,
  batch 200, 1 epoch) on standardised 7x7 patches of the noisy image, then
  every patch minus its mean coded by OMP with 2 atoms and put back with
  ``reconstruct_from_patches_2d`` (averaging the overlapping patches). The
  example learns on one half of the image and denoises the other; here both
  are the whole noisy image. A second scikit-learn row uses the settings of
  sparsecode (8x8 patches, 256 atoms, 20,000 training patches, 2 epochs,
  OMP to the same residual tolerance), so that only the implementations
  differ; scikit-learn has no final weighted average with the noisy image.

Every row prints the PSNR against the clean image (peak 1) and the wall
time on one thread (BLAS held to one thread too).

    python bench/bench_denoise.py            # --sigma 0.098 --seed 0 --binary PATH
"""

import argparse
import os
import subprocess
import tempfile
import time

import numpy as np
from threadpoolctl import threadpool_limits

from sklearn.decomposition import MiniBatchDictionaryLearning
from sklearn.feature_extraction.image import extract_patches_2d, reconstruct_from_patches_2d

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
CAMERA = os.path.join(ROOT, "..", "shared", "data", "images", "crops", "camera_256.npy")


def psnr(clean, estimate):
    return float(10 * np.log10(1.0 / np.mean((clean - estimate) ** 2)))


def clean_image():
    if os.path.exists(CAMERA):
        return np.load(CAMERA).astype(np.float64)
    print(f"{os.path.normpath(CAMERA)} is absent: using a generated 256x256 image")
    y, x = np.mgrid[0:256, 0:256] / 255.0
    return 0.5 + 0.25 * np.sin(12 * x) * np.cos(9 * y) + 0.2 * (x > 0.5)


def sparsecode_denoise(binary, noisy, sigma, seed, threads):
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = os.path.join(tmp, "noisy.npy"), os.path.join(tmp, "out.npy")
        np.save(src, noisy)
        t = time.perf_counter()
        flags = ["--threads", str(threads)] if threads else []
        subprocess.run([binary, *flags, "--quiet", "--seed", str(seed), "denoise",
                        "--input", src, "--sigma", str(sigma), "--out", dst], check=True)
        seconds = time.perf_counter() - t
        return seconds, np.load(dst)


def sklearn_denoise(noisy, patch, n_atoms, transform, n_train=None, epochs=1, batch=200, seed=0):
    """scikit-learn's example recipe; ``transform``: kwargs of the OMP transform."""
    t = time.perf_counter()
    data = extract_patches_2d(noisy, patch, max_patches=n_train, random_state=seed)
    data = data.reshape(data.shape[0], -1)
    data -= np.mean(data, axis=0)
    data /= np.std(data, axis=0)
    dico = MiniBatchDictionaryLearning(n_components=n_atoms, alpha=1.0, batch_size=batch, max_iter=epochs,
                                       random_state=seed)
    V = dico.fit(data).components_
    data = extract_patches_2d(noisy, patch)
    data = data.reshape(data.shape[0], -1)
    intercept = np.mean(data, axis=1, keepdims=True)
    dico.set_params(transform_algorithm="omp", **transform)
    code = dico.transform(data - intercept)
    patches = (code @ V + intercept).reshape(len(data), *patch)
    out = reconstruct_from_patches_2d(patches, noisy.shape)
    return time.perf_counter() - t, out


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sigma", type=float, default=25 / 255)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--binary", default=os.path.join(ROOT, "target", "release", "sparsecode"))
    args = parser.parse_args()

    clean = clean_image()
    noisy = clean + args.sigma * np.random.default_rng(args.seed).standard_normal(clean.shape)
    rows = []
    if os.path.exists(args.binary):
        for label, threads in (("sparsecode denoise, 1 thread", 1), ("sparsecode denoise, all cores", None)):
            seconds, out = sparsecode_denoise(args.binary, noisy, args.sigma, args.seed, threads)
            rows.append((label, seconds, psnr(clean, out)))
    else:
        print(f"no sparsecode binary at {args.binary}: build it with cargo build --release -p sparsecode-cli")
    tol = (1.15 * args.sigma) ** 2 * 64
    with threadpool_limits(1):
        seconds, out = sklearn_denoise(noisy, (7, 7), 50, {"transform_n_nonzero_coefs": 2}, seed=args.seed)
        rows.append(("scikit-learn example recipe (7x7, 50 atoms, OMP 2 atoms)", seconds, psnr(clean, out)))
        seconds, out = sklearn_denoise(noisy, (8, 8), 256, {"transform_alpha": tol, "transform_n_nonzero_coefs": None},
                                       n_train=20_000, epochs=2, batch=256, seed=args.seed)
        rows.append(("scikit-learn, sparsecode's settings (8x8, 256, OMP to tol)", seconds, psnr(clean, out)))

    print(f"\nDenoising the 256x256 camera crop, sigma {args.sigma:.4f} ({args.sigma * 255:.1f}/255), "
          f"noise seed {args.seed}: noisy PSNR {psnr(clean, noisy):.2f} dB")
    print(f"{'method':60s} {'time (s)':>9s} {'PSNR (dB)':>10s}")
    for label, seconds, value in rows:
        print(f"{label:60s} {seconds:9.2f} {value:10.2f}")


if __name__ == "__main__":
    main()
