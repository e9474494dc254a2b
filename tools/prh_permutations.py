"""prh's seeded permutations in Python (docs/calibration.md): the package
module prh.permutations, re-exported for scripts that import this file.

    from prh.permutations import seeded_permutation
    perm = seeded_permutation(seed, t, n)   # a list: permutation t of range(n)
"""
import _prh_path  # noqa: F401  (puts the prh package first on sys.path)
from prh.permutations import MASK, MT64, seeded_permutation, splitmix64  # noqa: F401,E402
__all__ = ["MASK", "MT64", "seeded_permutation", "splitmix64"]
