"""Image patches, as scikit-learn's ``sklearn.feature_extraction.image`` functions."""

from numbers import Integral, Real

import numpy as np
from sklearn.utils import check_array

from . import _sparsecode
from ._validation import FLOAT_DTYPES, seed_from


def _as_image(image):
    image = check_array(image, dtype=FLOAT_DTYPES, ensure_2d=False, allow_nd=True, input_name="image")
    if image.ndim not in (2, 3):
        raise ValueError(f"image must be 2-D (height, width) or 3-D (height, width, channels), got shape {image.shape}")
    if image.ndim == 3 or not image.flags.aligned:
        image = np.ascontiguousarray(image)
    return image


def extract_patches_2d(image, patch_size, *, max_patches=None, random_state=None):
    """All (or ``max_patches`` random) ``patch_size`` patches of an image.

    Like :func:`sklearn.feature_extraction.image.extract_patches_2d`: returns
    ``(n_patches, patch_height, patch_width)`` for a gray image and
    ``(n_patches, patch_height, patch_width, n_channels)`` for a colour one,
    all patches in row-major order of their top-left corners. Differences:
    the result is float (float32 kept, other types become float64), and
    ``max_patches`` draws *distinct* patches, returned in image order.

    Parameters
    ----------
    image : array-like of shape (height, width) or (height, width, n_channels)
    patch_size : tuple of int (patch_height, patch_width)
    max_patches : int or float, default=None
        How many patches (a float in (0, 1) is a fraction of all of them).
    random_state : int, RandomState or None, default=None

    Examples
    --------
    >>> import numpy as np
    >>> from sparsecode import extract_patches_2d
    >>> extract_patches_2d(np.arange(16.0).reshape(4, 4), (2, 2)).shape
    (9, 2, 2)
    """
    image = _as_image(image)
    patch_h, patch_w = (int(v) for v in patch_size)
    channels = image.shape[2] if image.ndim == 3 else 1
    n_all = (image.shape[0] - patch_h + 1) * (image.shape[1] - patch_w + 1) if (
        patch_h <= image.shape[0] and patch_w <= image.shape[1]
    ) else 0
    n = None
    if max_patches is not None:
        if isinstance(max_patches, Integral) and max_patches >= 1:
            n = min(int(max_patches), n_all) if n_all else int(max_patches)
        elif isinstance(max_patches, Real) and 0 < max_patches < 1:
            n = max(int(max_patches * n_all), 1)
        else:
            raise ValueError(f"max_patches must be an int >= 1 or a float in (0, 1), got {max_patches!r}")
    rows = _sparsecode.extract_patches(image, (patch_h, patch_w), n, seed_from(random_state) if n else 0)
    shape = (rows.shape[0], patch_h, patch_w) + ((channels,) if image.ndim == 3 else ())
    return rows.reshape(shape)


def reconstruct_from_patches_2d(patches, image_size):
    """The image whose pixels are the means of the overlapping patches covering them.

    Like :func:`sklearn.feature_extraction.image.reconstruct_from_patches_2d`:
    ``patches`` holds all patches of the image in the order of
    :func:`extract_patches_2d`.

    Parameters
    ----------
    patches : ndarray of shape (n_patches, patch_height, patch_width[, n_channels])
    image_size : tuple of int (height, width[, n_channels])

    Returns
    -------
    image : ndarray of shape ``image_size``

    Examples
    --------
    >>> import numpy as np
    >>> from sparsecode import extract_patches_2d, reconstruct_from_patches_2d
    >>> image = np.arange(20.0).reshape(4, 5)
    >>> np.allclose(reconstruct_from_patches_2d(extract_patches_2d(image, (2, 3)), image.shape), image)
    True
    """
    patches = np.asarray(patches)
    if patches.dtype not in (np.float32, np.float64):
        patches = patches.astype(np.float64)
    if patches.ndim not in (3, 4):
        raise ValueError(f"patches must have shape (n_patches, height, width[, channels]), got {patches.shape}")
    image_size = tuple(int(v) for v in image_size)
    channels = image_size[2] if len(image_size) == 3 else 1
    patch_channels = patches.shape[3] if patches.ndim == 4 else 1
    if channels != patch_channels:
        raise ValueError(f"image_size {image_size} has {channels} channels but the patches have {patch_channels}")
    rows = np.ascontiguousarray(patches.reshape(patches.shape[0], -1))
    flat = _sparsecode.reconstruct_patches(
        rows, (image_size[0], image_size[1], channels), (patches.shape[1], patches.shape[2])
    )
    return flat.reshape(image_size)
