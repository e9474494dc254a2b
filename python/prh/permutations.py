"""prh's seeded permutations in Python (docs/calibration.md), for tests and
benchmarks that recompute prh's nulls independently: std::mt19937_64 (its
output is fixed by the C++ standard), splitmix64 seeding, and Fisher-Yates
from the last position with rejection sampling.

    from prh.permutations import seeded_permutation
    perm = seeded_permutation(seed, t, n)   # a list: permutation t of range(n)
"""

MASK = (1 << 64) - 1


class MT64:
    """std::mt19937_64."""

    def __init__(self, seed):
        self.mt = [seed & MASK]
        for i in range(1, 312):
            prev = self.mt[-1]
            self.mt.append((6364136223846793005 * (prev ^ (prev >> 62)) + i) & MASK)
        self.i = 312

    def __call__(self):
        mt = self.mt
        if self.i >= 312:
            for k in range(312):
                x = (mt[k] & 0xFFFFFFFF80000000) | (mt[(k + 1) % 312] & 0x7FFFFFFF)
                mt[k] = mt[(k + 156) % 312] ^ (x >> 1) ^ (0xB5026F5AA96619E9 if x & 1 else 0)
            self.i = 0
        x = mt[self.i]
        self.i += 1
        x ^= (x >> 29) & 0x5555555555555555
        x ^= (x << 17) & 0x71D67FFFEDA60000
        x ^= (x << 37) & 0xFFF7EEE000000000
        return (x ^ (x >> 43)) & MASK


def splitmix64(x):
    x = (x + 0x9E3779B97F4A7C15) & MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & MASK
    return x ^ (x >> 31)


def seeded_permutation(seed, t, n):
    """Permutation t of range(n) for `seed`, as prh's stats::seeded_permutation."""
    rng = MT64(splitmix64(seed ^ splitmix64(t + 1)))
    p = list(range(n))
    for i in range(n - 1, 0, -1):
        m = i + 1
        rem = ((MASK % m) + 1) % m
        x = rng()
        while rem and x > MASK - rem:
            x = rng()
        j = x % m
        p[i], p[j] = p[j], p[i]
    return p
