"""Recomputes every stored permutation p-value, threshold tau and calibrated
score of a prh results file from its stored null scores, with numpy and
plain Python floats, and compares them with == (docs/calibration.md,
docs/results.md; issue 27).

Why == holds: prh computes (stats::calibrate, src/stats/calibration.cpp)

    p     = (1 + #{null >= observed}) / (K + 1)          K = finite nulls
    r     = clamp(ceil((1 - alpha) (K + 1) - 1e-9), 1, K + 1)
    tau   = r-th smallest of the finite nulls and the observed score
    cal   = 0 if tau >= 1 else clamp((observed - tau) / (1 - tau), 0, 1)
    mean  = sum of the sorted finite nulls, left to right, / K
    sd    = sqrt(sum of (x - mean) (x - mean), left to right, / (K - 1))

each a single IEEE double operation or a comparison, in this order; the
code below performs the same operations in the same order on the same
doubles (the nulls are stored as float64, the observed score is
/alignment/S/C/scores), so every result is the same double (prh is built
for baseline x86-64, without FMA contraction, and without -ffast-math: no
reassociated sums). Python's int /
int is correctly rounded, so (1 + above) / (K + 1) is the double quotient
that C++ computes from the two exactly representable doubles.

The observed scores are those of the layer maximum (the maximum over layer
pairs, or the last layers only): the nulls are layer maxima too (the same
permutation for every layer), so the layer-maximum case is the one checked
whenever the file's models have several layers.

usage as a module: problems, counts = recompute(path); as a script:
    /usr/bin/python3 tests/e2e/recompute_calibration.py RESULTS.h5
"""
import math
import sys

import h5py
import numpy as np


FIELDS = ("pvalue", "threshold", "calibrated", "null_mean", "null_sd")


def calibrate(observed, null, alpha):
    """stats::calibrate, operation for operation: (p, tau, calibrated, null_mean, null_sd)."""
    nan = float("nan")
    finite = np.sort(null[np.isfinite(null)])
    K = len(finite)
    if math.isnan(observed) or K == 0:
        return nan, nan, nan, nan, nan
    above = K - int(np.searchsorted(finite, observed, side="left"))
    p = (1 + above) / (K + 1)
    total = 0.0
    for x in finite.tolist():  # std::accumulate: left to right, not numpy's pairwise sum
        total += x
    mean = total / float(K)
    sd = nan
    if K >= 2:
        ss = 0.0
        for x in finite.tolist():
            ss += (x - mean) * (x - mean)
        sd = math.sqrt(ss / float(K - 1))
    r = math.ceil((1.0 - alpha) * float(K + 1) - 1e-9)
    r = min(max(r, 1), K + 1)
    scores = np.sort(np.append(finite, observed))
    tau = float(scores[r - 1])
    cal = 0.0 if tau >= 1.0 else min(max((observed - tau) / (1.0 - tau), 0.0), 1.0)
    return p, tau, cal, mean, sd


def same(a, b):
    """Bitwise-equal doubles, NaN equal to NaN."""
    return (math.isnan(a) and math.isnan(b)) or a == b


def recompute(path):
    """Returns (problems, counts): a list of sentences (empty when every value
    recomputes exactly) and how many (set, configuration, orientation) values
    were checked per field."""
    problems = []
    counts = {"pvalue": 0, "threshold": 0, "calibrated": 0, "null_mean": 0, "null_sd": 0, "sets": 0,
              "configurations": 0, "reverse": 0, "layer_max": 0}
    with h5py.File(path, "r") as f:
        if "calibration" not in f:
            return [f"{path}: no /calibration"], counts
        M = len(f["models"][()])
        layer_counts = np.asarray(f["models"].attrs.get("layer_counts", np.ones(M)))
        P = M * (M - 1) // 2
        pairs = [(i, j) for i in range(M) for j in range(i + 1, M)]
        for s, sg in f["calibration"].items():
            counts["sets"] += 1
            done = sg["done"][()]
            for c, cg in sg.items():
                if not isinstance(cg, h5py.Group):
                    continue
                counts["configurations"] += 1
                alpha = float(cg.attrs["alpha"])
                K_attr = int(cg.attrs["permutations"])
                S = f[f"alignment/{s}/{c}/scores"][()]
                symmetric = bool(f[f"alignment/{s}/{c}"].attrs["symmetric"])
                stored = {k: cg[k][()] for k in FIELDS}
                nulls = cg["null_scores"]
                if nulls.dtype != np.float64:
                    problems.append(f"{s}/{c}: null_scores is {nulls.dtype}, not float64")
                    continue
                nulls = nulls[()]
                if nulls.shape != (P, K_attr):
                    problems.append(f"{s}/{c}: null_scores shape {nulls.shape}, want {(P, K_attr)}")
                    continue
                rev = None
                if not symmetric:
                    if "null_scores_reverse" not in cg:
                        problems.append(f"{s}/{c}: asymmetric, but no null_scores_reverse")
                        continue
                    rev = cg["null_scores_reverse"][()]
                    if rev.dtype != np.float64 or rev.shape != (P, K_attr):
                        problems.append(f"{s}/{c}: null_scores_reverse {rev.dtype} {rev.shape}")
                        continue
                for pidx, (i, j) in enumerate(pairs):
                    if not done[pidx]:
                        if not all(math.isnan(stored["pvalue"][a, b]) for a, b in ((i, j), (j, i))):
                            problems.append(f"{s}/{c}: pair ({i},{j}) not done but has a p-value")
                        continue
                    for a, b, null in ((i, j, nulls[pidx]),
                                       (j, i, nulls[pidx] if symmetric else rev[pidx])):
                        want = calibrate(float(S[a, b]), null, alpha)
                        for name, w in zip(FIELDS, want):
                            got = float(stored[name][a, b])
                            counts[name] += 1
                            if not same(got, w):
                                problems.append(f"{s}/{c}: {name}[{a},{b}] = {got!r}, recomputed "
                                                f"from the stored nulls {w!r}")
                        if not symmetric and (a, b) == (j, i):
                            counts["reverse"] += 1
                        if layer_counts[a] > 1 or layer_counts[b] > 1:
                            counts["layer_max"] += 1
                for a in range(M):
                    if not math.isnan(float(stored["pvalue"][a, a])):
                        problems.append(f"{s}/{c}: pvalue[{a},{a}] is not NaN")
    return problems, counts


if __name__ == "__main__":
    problems, counts = recompute(sys.argv[1])
    for p in problems[:50]:
        print(p)
    print(f"{len(problems)} problems; checked {counts}")
    sys.exit(1 if problems else 0)
