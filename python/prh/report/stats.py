"""The few numbers the report computes itself from the stored arrays (numpy only).

Everything else the report shows is read from the results file. The mean
alignment per set and configuration and its bootstrap interval over models are
read from /correlation/S/mean* (reduce stores them; docs/results.md) and a
sweep's from /sweeps/NAME/mean*; a file written before reduce stored them gets
the plain mean of the stored matrix (mean_offdiag) and no interval, and the
report says so (docs/python.md)."""
import numpy as np


def offdiag(m):
    return ~np.eye(m, dtype=bool)


def mean_offdiag(S):
    """Mean of the finite entries S[i, j], i != j (both orders: asymmetric
    configurations count each direction)."""
    v = S[offdiag(S.shape[0])]
    v = v[np.isfinite(v)]
    return float(v.mean()) if v.size else float("nan")


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


NO_CI = (float("nan"), float("nan"))


def mean_table(r, sets, confs):
    """Per set and configuration: mean raw (and calibrated) alignment over the model
    pairs with the bootstrap intervals over models that reduce stored
    (/correlation/S/mean, mean_ci_*, calibrated_mean*).

    A dict {(set, configuration): {raw, raw_ci, b, seed, confidence, stored, h5, idx
    [, cal, cal_ci]}}: `stored` False (a file without those arrays) gives the mean of
    the stored matrix (mean_offdiag), no interval (NaN) and h5 None."""
    out = {}
    for s in sets:
        c = r.correlation_info(s) or {}
        names = c.get("configurations") or []
        stored = c.get("mean") is not None
        for conf in confs:
            if conf not in r.configurations_of(s):
                continue
            e = {"b": int(c.get("bootstrap") or 0), "seed": c.get("mean_seed"),
                 "confidence": float(c.get("confidence") or 0.95)}
            if stored and conf in names:
                k = names.index(conf)
                e.update({"stored": True, "h5": f"/correlation/{s}", "idx": (k,),
                          "raw": float(c["mean"][k]),
                          "raw_ci": (float(c["mean_ci_low"][k]), float(c["mean_ci_high"][k]))})
                if c.get("calibrated_mean") is not None and np.isfinite(c["calibrated_mean"][k]):
                    e["cal"] = float(c["calibrated_mean"][k])
                    e["cal_ci"] = (float(c["calibrated_mean_ci_low"][k]),
                                   float(c["calibrated_mean_ci_high"][k]))
            else:
                e.update({"stored": False, "h5": None, "idx": None,
                          "raw": mean_offdiag(r.scores(s, conf)), "raw_ci": NO_CI})
                cal = r.calibration(s, conf)
                if cal is not None and cal.get("calibrated") is not None:
                    e["cal"] = mean_offdiag(cal["calibrated"])
                    e["cal_ci"] = NO_CI
            out[(s, conf)] = e
    return out


def sweep_means(r, name, sw, confs, means):
    """A sweep's mean (calibrated) alignment per level from /sweeps/NAME/mean* (the
    sweep's own resamples, one draw for every level), in mean_table's form; where the
    file lacks them, the sets' entries of `means` (mean_table)."""
    if sw.get("mean") is None:
        return means
    out = {}
    for li, s in enumerate(sw["sets"]):
        for conf in confs:
            if conf not in r.configurations:
                continue
            k = r.configurations.index(conf)
            e = {"b": int(sw.get("bootstrap") or 0), "seed": sw.get("seed"),
                 "confidence": float(sw.get("confidence") or 0.95), "stored": True,
                 "h5": f"/sweeps/{name}", "idx": (li, k), "raw": float(sw["mean"][li, k]),
                 "raw_ci": (float(sw["mean_ci_low"][li, k]), float(sw["mean_ci_high"][li, k]))}
            cm = sw.get("calibrated_mean")
            if cm is not None and np.isfinite(cm[li, k]):
                e["cal"] = float(cm[li, k])
                e["cal_ci"] = (float(sw["calibrated_mean_ci_low"][li, k]),
                               float(sw["calibrated_mean_ci_high"][li, k]))
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
