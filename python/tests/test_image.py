"""Patch extraction and reconstruction against scikit-learn."""

import numpy as np
import pytest
from sklearn.feature_extraction import image as sk_image

from sparsecode import extract_patches_2d, reconstruct_from_patches_2d


@pytest.mark.parametrize("shape, patch", [((12, 15), (3, 4)), ((9, 7, 3), (2, 5)), ((6, 6), (6, 6))])
def test_all_patches_equal_sklearn(rng, shape, patch):
    image = rng.standard_normal(shape)
    ours = extract_patches_2d(image, patch)
    np.testing.assert_array_equal(ours, sk_image.extract_patches_2d(image, patch))


def test_strided_gray_image_read_in_place(rng):
    base = rng.standard_normal((20, 30))
    image = base[::2, ::-3]
    np.testing.assert_array_equal(extract_patches_2d(image, (3, 3)), sk_image.extract_patches_2d(image, (3, 3)))


@pytest.mark.parametrize("shape, patch", [((12, 15), (3, 4)), ((9, 7, 3), (2, 3))])
def test_reconstruction_equals_sklearn_and_inverts_extraction(rng, shape, patch):
    image = rng.standard_normal(shape)
    patches = extract_patches_2d(image, patch)
    np.testing.assert_allclose(reconstruct_from_patches_2d(patches, shape), image, atol=1e-12)
    noisy = patches + rng.standard_normal(patches.shape)
    np.testing.assert_allclose(
        reconstruct_from_patches_2d(noisy, shape), sk_image.reconstruct_from_patches_2d(noisy, shape), atol=1e-12
    )


def test_reconstruction_averages_over_the_patches_that_cover_each_pixel(rng):
    # A patch wider than half the image: scikit-learn's closed-form overlap count
    # min(j + 1, p_w, w - j) over-counts the middle columns there; ours counts.
    shape, patch = (9, 7, 3), (2, 5)
    patches = rng.standard_normal((8 * 3, 2, 5, 3))
    total, count = np.zeros(shape), np.zeros(shape[:2])
    for p, (i, j) in zip(patches, [(i, j) for i in range(8) for j in range(3)]):
        total[i : i + 2, j : j + 5] += p
        count[i : i + 2, j : j + 5] += 1
    np.testing.assert_allclose(reconstruct_from_patches_2d(patches, shape), total / count[:, :, None], atol=1e-12)
    image = rng.standard_normal(shape)
    np.testing.assert_allclose(reconstruct_from_patches_2d(extract_patches_2d(image, patch), shape), image, atol=1e-12)


def test_max_patches_draws_distinct_patches_reproducibly(rng):
    image = rng.standard_normal((16, 16))
    everything = extract_patches_2d(image, (4, 4)).reshape(169, -1)
    some = extract_patches_2d(image, (4, 4), max_patches=20, random_state=0)
    assert some.shape == (20, 4, 4)
    rows = [np.flatnonzero((everything == p.ravel()).all(axis=1))[0] for p in some]
    assert rows == sorted(set(rows))  # distinct, in image order
    np.testing.assert_array_equal(some, extract_patches_2d(image, (4, 4), max_patches=20, random_state=0))
    assert extract_patches_2d(image, (4, 4), max_patches=0.5, random_state=0).shape == (84, 4, 4)


def test_float32_kept_and_integers_become_float64():
    image = np.arange(30, dtype=np.uint8).reshape(5, 6)
    patches = extract_patches_2d(image, (2, 2))
    assert patches.dtype == np.float64
    np.testing.assert_array_equal(patches, sk_image.extract_patches_2d(image, (2, 2)))
    assert extract_patches_2d(image.astype(np.float32), (2, 2)).dtype == np.float32


def test_patch_errors(rng):
    with pytest.raises(ValueError, match="larger than the image"):
        extract_patches_2d(rng.standard_normal((4, 4)), (5, 2))
    with pytest.raises(ValueError, match="max_patches"):
        extract_patches_2d(rng.standard_normal((4, 4)), (2, 2), max_patches=-1)
    with pytest.raises(ValueError, match="2-D .* or 3-D"):
        extract_patches_2d(rng.standard_normal(4), (2, 2))
    with pytest.raises(ValueError, match="channels"):
        reconstruct_from_patches_2d(np.zeros((4, 2, 2)), (3, 3, 3))
