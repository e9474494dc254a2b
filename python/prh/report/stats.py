"""The numbers the report computes itself from the stored arrays (numpy only).

Everything else the report shows is read from the results file. The mean
alignment and its bootstrap interval over models are computed here (issue 26
asks that reduce store them; docs/python.md)."""
import numpy as np


def offdiag(m):
    return ~np.eye(m, dtype=bool)


def mean_offdiag(S):
    """Mean of the finite entries S[i, j], i != j (both orders: asymmetric
    configurations count each direction)."""
    v = S[offdiag(S.shape[0])]
    v = v[np.isfinite(v)]
    return float(v.mean()) if v.size else float("nan")


def bootstrap_resamples(m, b, seed):
    """The model resamples of the mean-alignment intervals: B rows of M model
    indices drawn with replacement by numpy's default_rng(seed)."""
    return np.random.default_rng(seed).integers(0, m, size=(b, m))


def bootstrap_mean(S, draws, confidence):
    """Percentile interval of mean_offdiag over model resamples: each resample
    keeps the entries S[u, v] of two different drawn models (pairs of two
    copies of one model are dropped, as in the pipeline's bootstrap); NaN when
    fewer than half the resamples give a number."""
    vals = []
    for d in draws:
        sub = S[np.ix_(d, d)]
        keep = (d[:, None] != d[None, :]) & np.isfinite(sub)
        if keep.any():
            vals.append(float(sub[keep].mean()))
    if len(vals) * 2 < len(draws):
        return float("nan"), float("nan")
    a = (1 - confidence) / 2
    return float(np.quantile(vals, a)), float(np.quantile(vals, 1 - a))


def ranks(x):
    """Average ranks (1-based) of a vector, ties sharing their mean rank."""
    order = np.argsort(x, kind="mergesort")
    r = np.empty(len(x))
    r[order] = np.arange(1, len(x) + 1)
    for v in np.unique(x):
        tie = x == v
        if tie.sum() > 1:
            r[tie] = r[tie].mean()
    return r


def mean_table(r, m, sets, confs, corr_info):
    """Per set and configuration: mean raw (and calibrated) alignment over the
    model pairs with bootstrap intervals over models. corr_info(set) gives the
    set's bootstrap settings (resamples, seed, confidence; {} when none).

    A dict {(set, configuration): {raw, raw_ci, b, seed, confidence[, cal, cal_ci]}}."""
    out = {}
    for s in sets:
        c = corr_info(s)
        b = int(c.get("bootstrap") or 1000)
        seed = int(c.get("seed") or 0)
        conf_level = float(c.get("confidence") or 0.95)
        draws = bootstrap_resamples(m, b, seed)
        for conf in confs:
            if conf not in r.configurations_of(s):
                continue
            S = r.scores(s, conf)
            e = {"raw": mean_offdiag(S), "raw_ci": bootstrap_mean(S, draws, conf_level),
                 "b": b, "seed": seed, "confidence": conf_level}
            cal = r.calibration(s, conf)
            if cal is not None and cal.get("calibrated") is not None:
                e["cal"] = mean_offdiag(cal["calibrated"])
                e["cal_ci"] = bootstrap_mean(cal["calibrated"], draws, conf_level)
            out[(s, conf)] = e
    return out


def first_level_below_half(r, m, sets, levels, conf, alpha):
    """The first sweep level at which fewer than half the model pairs are
    significant (q < alpha) under `conf`; None when none (or no calibration)."""
    for li, s in enumerate(sets):
        cal = r.calibration(s, conf)
        if cal is None or cal.get("qvalue") is None:
            continue
        q = cal["qvalue"][np.triu_indices(m, 1)]
        q = q[np.isfinite(q)]
        if q.size and np.mean(q < alpha) < 0.5:
            return levels[li]
    return None
