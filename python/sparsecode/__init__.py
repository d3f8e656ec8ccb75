"""sparsecode: sparse coding and dictionary learning on a Rust core.

scikit-learn-compatible estimators and functions (signals and atoms are rows:
``X ~ code @ dictionary``). Switching from scikit-learn is a change of import:

>>> from sparsecode import SparseCoder, sparse_encode
"""

from . import analysis, conv
from ._coder import SparseCoder
from ._encode import sparse_encode
from ._image import extract_patches_2d, reconstruct_from_patches_2d
from ._learn import KSVD, DictionaryLearning, MiniBatchDictionaryLearning
from ._omp import OrthogonalMatchingPursuit
from ._sparsecode import __version__

__all__ = [
    "KSVD",
    "DictionaryLearning",
    "MiniBatchDictionaryLearning",
    "OrthogonalMatchingPursuit",
    "SparseCoder",
    "extract_patches_2d",
    "reconstruct_from_patches_2d",
    "sparse_encode",
    "__version__",
    "analysis",
    "conv",
]
