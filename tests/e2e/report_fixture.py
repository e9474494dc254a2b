#!/usr/bin/python3
"""Small results files for the report test, written with h5py exactly as
docs/results.md describes (the layout `prh reduce` writes), with numbers that
look like a sweep's: 20 models in 6 families (some with long timm-style
names), image sets whose alignment falls from in-distribution to noise, six
configurations (one asymmetric). The correlations are real Spearman
correlations of the fabricated matrices; p-values and intervals are
plausible numbers, not computed (the report only displays them).

Optional parts that prh does not write yet can be added (fabricated, for
the report's code paths): calibration (/calibration/S/C/...), correlation
nulls (/correlation/S/spearman_null_mean, _null_q95, _null_p, _mantel_p),
a sweep (/sweeps/NAME: levels and sets; with calibration also the stored effect-size and
power curves of issue 23), and
/models attributes family / training_data. `partial=True` writes what
`prh reduce --partial` leaves: two models without embeddings (NaN, not
done), complete = 0.

    /usr/bin/python3 tests/e2e/report_fixture.py OUT.h5 [--calibration] [--nulls]
        [--sweep] [--groups] [--partial] [--means]
"""
import json
import sys

import h5py
import numpy as np

FAMILIES = [
    ("mlp", ["mlp_w256_d2_s0", "mlp_w256_d2_s1", "mlp_w512_d3_s0"]),
    ("cnn", ["cnn_w16_d2_s0", "cnn_w16_d2_s1", "cnn_w32_d3_s0", "cnn_w64_d4_s2"]),
    ("resnet", ["resnet_w16_d1_s0", "resnet_w24_d2_s0", "resnet_w32_d3_s1"]),
    ("vit", ["vit_tiny_patch16_224.augreg_in21k", "vit_base_patch16_224.augreg_in21k",
             "vit_large_patch16_224.augreg_in21k", "vit_huge_patch14_clip_224.laion2b_ft_in12k"]),
    ("mlp_ae", ["mlp_ae_w256_d2_s0", "mlp_ae_w512_d2_s1"]),
    ("cnn_clr", ["cnn_clr_w16_d2_s0", "cnn_clr_w16_d2_s1", "cnn_clr_w32_d3_s0", "cnn_clr_w32_d3_s1"]),
]
MODELS = [n for _, names in FAMILIES for n in names]
FAMILY = [f for f, names in FAMILIES for _ in names]
CONFIGS = [  # name, metric, params, symmetric
    ("mutual_knn@k=10", "mutual_knn", {"k": 10}, True),
    ("mutual_knn@k=50", "mutual_knn", {"k": 50}, True),
    ("cknna@k=10", "cknna", {"k": 10}, True),
    ("cknna@k=50", "cknna", {"k": 50}, True),
    ("cycle_knn@k=10", "cycle_knn", {"k": 10}, False),
    ("cka@kernel=linear", "cka", {"kernel": "linear"}, True),
]
SETS = [("id", 1.0, True), ("ood", 0.6, True), ("uniform", 0.05, False)]  # name, signal, labelled in classes
N = 200
CLASSES = 5


def ranks(x):
    order = np.argsort(x, kind="mergesort")
    r = np.empty(len(x))
    r[order] = np.arange(1, len(x) + 1)
    for v in np.unique(x):
        t = x == v
        if t.sum() > 1:
            r[t] = r[t].mean()
    return r


def spearman(x, y):
    ok = np.isfinite(x) & np.isfinite(y)
    if ok.sum() < 3:
        return float("nan"), int(ok.sum())
    rx, ry = ranks(x[ok]), ranks(y[ok])
    if rx.std() == 0 or ry.std() == 0:
        return float("nan"), int(ok.sum())
    return float(np.corrcoef(rx, ry)[0, 1]), int(ok.sum())


def string_dataset(parent, name, values):
    raw = np.array([v.encode() for v in values])
    ds = parent.create_dataset(name, (len(values),), dtype=h5py.string_dtype("utf-8", raw.itemsize))
    ds.id.write(h5py.h5s.ALL, h5py.h5s.ALL, raw, mtype=ds.id.get_type())


def make_scores(rng, signal, latent, config_index, metric, params):
    """M x M scores: model similarity (latent distance) scaled by the set's
    signal, plus chance and noise; one monotone transform per metric."""
    m = latent.shape[0]
    d = np.linalg.norm(latent[:, None] - latent[None], axis=-1)
    sim = np.exp(-d)
    k = params.get("k", 10)
    chance = k / (N - 1)
    base = chance + signal * (0.55 - chance) * sim ** (1 + 0.3 * config_index)
    noise = rng.normal(0, 0.02 + 0.04 * (1 - signal), (m, m))
    S = base + noise
    if metric == "cka":
        S = 0.3 + 0.6 * signal * sim + 0.5 * noise
    if metric != "cycle_knn":
        S = (S + S.T) / 2
    np.fill_diagonal(S, 1.0)
    return np.clip(S, 0, 1.05)


def write(path, calibration=False, nulls=False, sweep=False, groups=False, partial=False, seed=0, models=None,
          means=False):
    """Writes the file; `models`: use the first that many models (default all 20); `means`:
    store the sets' (and the sweep's) mean alignment and its interval as reduce does
    (/correlation/S/mean*; without it, a file written before reduce stored them)."""
    global MODELS, FAMILY
    all_models, all_family = MODELS, FAMILY
    if models:
        MODELS, FAMILY = all_models[:models], all_family[:models]
    try:
        return _write(path, calibration, nulls, sweep, groups, partial, seed, means)
    finally:
        MODELS, FAMILY = all_models, all_family


def mean_offdiag(S):
    """The mean over the finite entries i != j (both orders), as reduce computes it."""
    v = S[~np.eye(S.shape[0], dtype=bool)]
    v = v[np.isfinite(v)]
    return float(v.mean()) if v.size else float("nan")


def write_means(g, mats, cals, signal):
    """/correlation/S/mean* [K]: the means are real (mean_offdiag); the intervals are
    plausible numbers, not a bootstrap (the report only displays them)."""
    nan = float("nan")
    mean = np.array([mean_offdiag(S) for S in mats])
    cal = np.array([mean_offdiag(C) if C is not None else nan for C in cals])
    width = 0.01 + 0.03 * (1 - signal)
    g.attrs["mean_seed"] = np.int64(1234567)
    for pre, v in (("", mean), ("calibrated_", cal)):
        g[pre + "mean"] = v
        g[pre + "mean_ci_low"] = v - width
        g[pre + "mean_ci_high"] = v + width * 0.8
    return mean, cal


def _write(path, calibration, nulls, sweep, groups, partial, seed, means):
    rng = np.random.default_rng(seed)
    m, k = len(MODELS), len(CONFIGS)
    fam_pos = {f: rng.normal(0, 1.0, 3) for f in dict.fromkeys(FAMILY)}
    latent = np.array([fam_pos[f] + rng.normal(0, 0.35, 3) for f in FAMILY])
    present = np.ones(m, np.uint8)
    if partial:
        present[[4, m - 3]] = 0
    sets = list(SETS)
    set_means = {}  # set: (mean [K], calibrated mean [K]) when `means`
    sweep_levels = []
    if sweep:
        for n, lvl in enumerate([0.0, 0.25, 0.5, 0.75, 1.0]):
            name = f"blend_{n}"
            sets.append((name, max(0.02, 1.0 - lvl) ** 1.5, True))
            sweep_levels.append((lvl, name))
    config = {"store": "out/fixture/store.h5", "seed": 0, "bootstrap": 1000, "confidence": 0.95,
              "image_sets": [{"name": s, "source": {"kind": "noise", "count": N}} for s, _, _ in sets],
              "models": [{"name": n, "path": f"out/zoo/{n}.pt"} for n in MODELS],
              "metrics": [c[0] for c in CONFIGS], "correlations": ["spearman", "kendall"]}
    with h5py.File(path, "w") as f:
        f.attrs["format"] = "prh-results-1"
        f.attrs["prh_version"] = "0.1.0"
        f.attrs["config_file"] = "configs/fixture.yaml"
        f.attrs["config"] = json.dumps(config)
        f.attrs["identity"] = json.dumps({"sets": [s for s, _, _ in sets], "models": MODELS})
        f.attrs["config_hash"] = "5eedf00d12345678"
        f.attrs["store"] = "out/fixture/store.h5"
        f.attrs["complete"] = np.int64(0 if partial else 1)
        string_dataset(f, "models", MODELS)
        f["models"].attrs["layer_counts"] = np.full(m, 3, np.int64)
        classes = np.array([0 if "_ae_" in n or "_clr_" in n else CLASSES for n in MODELS], np.int64)
        f["models"].attrs["classes"] = classes
        if groups:
            f["models"].attrs["family"] = json.dumps(FAMILY)
            f["models"].attrs["training_data"] = json.dumps(
                ["laion2b" if "laion" in n else ("in21k" if "in21k" in n else "fmnist-0-4") for n in MODELS])
        string_dataset(f, "configurations", [c[0] for c in CONFIGS])
        iu = np.triu_indices(m, 1)
        for s, signal, labelled in sets:
            g = f.create_group(f"alignment/{s}")
            g.attrs["n"] = np.int64(N)
            g.attrs["skipped"] = np.int64(0)
            g.attrs["models_present"] = present
            mats, cals = [], []
            for ci, (name, metric, params, symmetric) in enumerate(CONFIGS):
                S = make_scores(rng, signal, latent, ci % 2, metric, params)
                L = np.full((m, m, 2), 2, np.int32)
                done = np.ones(m * (m + 1) // 2, np.uint8)
                if partial:
                    bad = present == 0
                    mask = bad[:, None] | bad[None, :]
                    S[mask] = np.nan
                    L[mask] = -1
                    ok = np.zeros((m, m), bool)
                    ok[np.triu_indices(m)] = True
                    done = (~mask)[np.triu_indices(m)].astype(np.uint8)
                c = g.create_group(name)
                c.attrs["metric"] = metric
                for pk, pv in params.items():
                    c.attrs[pk] = pv if isinstance(pv, str) else np.int64(pv)
                c.attrs["params"] = json.dumps({pk: str(pv) for pk, pv in params.items()})  # as prh writes it
                c.attrs["symmetric"] = np.int64(symmetric)
                c.attrs["preprocess"] = json.dumps({"clamp": True, "q": 0.95, "exact": False, "normalize": True})
                c.attrs["last_layer_only"] = np.int64(1)
                c["scores"] = S
                c["layers"] = L
                c["done"] = done
                mats.append(S)
                cals.append(None)
                if calibration:
                    cal = f.create_group(f"calibration/{s}/{name}")
                    cal.attrs["permutations"] = np.int64(200)
                    cal.attrs["alpha"] = 0.05
                    cal.attrs["seed"] = np.int64(0)
                    cal.attrs["fdr"] = "benjamini-hochberg"
                    chance = params.get("k", 10) / (N - 1) if metric != "cka" else 0.3
                    null_mean = np.full((m, m), chance) + rng.normal(0, 0.002, (m, m))
                    null_sd = np.full((m, m), 0.01)
                    tau = null_mean + 2.6 * null_sd
                    calibrated = np.clip((S - tau) / (1 - tau), 0, 1)
                    z = (S - null_mean) / null_sd
                    pval = np.clip(np.where(z > 3, 1 / 201, 0.5 * np.exp(-np.maximum(z, 0))), 1 / 201, 1)
                    q = np.minimum(1, pval * 3)
                    for key, val in (("pvalue", pval), ("qvalue", q), ("threshold", tau), ("calibrated", calibrated),
                                     ("null_mean", null_mean), ("null_sd", null_sd)):
                        val = val.copy()
                        if partial:
                            val[np.isnan(S)] = np.nan
                        cal[key] = val
                    cals[-1] = cal["calibrated"][()]
            # correlations: real Spearman over the upper triangle
            g = f.create_group(f"correlation/{s}")
            g.attrs["configurations"] = json.dumps([c[0] for c in CONFIGS])
            g.attrs["methods"] = json.dumps(["spearman", "kendall"])
            g.attrs["pairs"] = np.int64(int(present.sum()) * (int(present.sum()) - 1) // 2)
            g.attrs["bootstrap"] = np.int64(1000)
            g.attrs["confidence"] = 0.95
            g.attrs["seed"] = np.int64(0)
            g.attrs["resampling"] = "models"
            g.attrs["vector"] = "upper triangle, i < j"
            R = np.eye(k)
            n = np.zeros((k, k), np.int64)
            for a in range(k):
                for b in range(k):
                    R[a, b], n[a, b] = spearman(mats[a][iu], mats[b][iu])
            P = np.clip(np.exp(-np.abs(R) * 12), 1e-300, 1)
            np.fill_diagonal(P, 0.0)
            ma = np.array([[np.nanmean([(S[i, j] + S[j, i]) / 2 for j in range(m) if j != i]) if present[i]
                            else np.nan for i in range(m)] for S in mats])
            g["mean_alignment"] = ma
            if means:
                set_means[s] = write_means(g, mats, cals, signal)
            acc = np.array([np.nan if classes[i] == 0 else (0.85 + 0.1 * rng.random()) * (1 if labelled and signal > 0.9 else 0)
                            for i in range(m)]) if labelled else np.full(m, np.nan)
            if s == "ood":
                acc = np.where(classes > 0, 0.0, np.nan)
            for meth, RR in (("spearman", R), ("kendall", R * 0.8)):
                g[meth] = RR
                g[meth + "_pvalue"] = P
                g[meth + "_n"] = n
                g[meth + "_ci_low"] = np.clip(RR - 0.05 - 0.2 * (1 - signal), -1, 1)
                g[meth + "_ci_high"] = np.clip(RR + 0.02, -1, 1)
                ar = np.array([spearman(ma[c], acc)[0] for c in range(k)])
                g["accuracy_" + meth] = ar
                g[f"accuracy_{meth}_pvalue"] = np.where(np.isfinite(ar), 0.3, np.nan)
                g[f"accuracy_{meth}_n"] = np.full(k, int(np.isfinite(acc).sum()), np.int64)
                if nulls and meth == "spearman":
                    nm = R * (0.5 + 0.2 * (1 - signal))
                    g[meth + "_null_mean"] = nm
                    g[meth + "_null_q95"] = np.clip(nm + 0.1, -1, 1)
                    g[meth + "_null_p"] = np.where(R > nm + 0.1, 0.001, 0.2)
                    g[meth + "_mantel_p"] = np.where(R > nm + 0.15, 0.002, 0.3)
            # predictions
            g = f.create_group(f"predictions/{s}")
            g.attrs["labelled"] = np.int64(N if labelled else 0)
            g.attrs["n"] = np.int64(N)
            head = classes > 0
            g["accuracy"] = np.where(present == 1, acc, np.nan)
            mp = np.where(head, 0.55 + 0.4 * signal * rng.random(m), np.nan)
            g["mean_prob"] = mp
            g["mean_prob_wrong"] = np.where(head, mp - 0.1, np.nan)
            agree = np.clip(0.2 + 0.7 * signal * np.exp(-np.linalg.norm(latent[:, None] - latent[None], axis=-1))
                            + rng.normal(0, 0.03, (m, m)), 0, 1)
            agree = (agree + agree.T) / 2
            np.fill_diagonal(agree, 1.0)
            both = np.where(head[:, None] & head[None], rng.integers(5, 60, (m, m)), 0).astype(np.int64)
            both = np.triu(both) + np.triu(both, 1).T
            abw = np.where(both > 0, np.clip(agree - 0.05, 0, 1), np.nan)
            hh = head[:, None] & head[None]
            g["agreement"] = np.where(hh, agree, np.nan)
            g["both_wrong"] = both
            g["agreement_both_wrong"] = abw
        if sweep:
            g = f.create_group("sweeps/blend")
            g.attrs["parameter"] = "alpha (blend of id into uniform noise)"
            g.attrs["description"] = "(1 - alpha) * id + alpha * uniform noise, per pixel"
            g["levels"] = np.array([lv for lv, _ in sweep_levels], np.float64)
            string_dataset(g, "sets", [name for _, name in sweep_levels])
            g.attrs["bootstrap"] = np.int64(1000)
            g.attrs["confidence"] = 0.95
            g.attrs["seed"] = np.int64(7654321)
            if means:  # the sweep's curves: the sets' means, intervals 10 % wider
                for i, pre in enumerate(("", "calibrated_")):
                    v = np.array([set_means[name][i] for _, name in sweep_levels])
                    g[pre + "mean"] = v
                    g[pre + "mean_ci_low"] = v - 0.011
                    g[pre + "mean_ci_high"] = v + 0.009
            if calibration:
                # The stored curves of issue 23 (docs/results.md, Sweeps): the effect
                # size (relative calibrated score) and the power curve with N.
                L = len(sweep_levels)
                fall = np.array([max(0.0, 1.0 - lv) ** 1.5 for lv, _ in sweep_levels])
                rel = fall[:, None] * rng.uniform(0.9, 1.1, (L, k))
                rel[0] = 1.0
                g.attrs["alpha"] = 0.05
                g.attrs["breaking_fraction"] = 0.5
                g.attrs["relative_breaking"] = 0.5
                g["images"] = np.full(L, N, np.int64)
                g["relative_calibrated"] = rel
                g["relative_calibrated_ci_low"] = rel * 0.85
                g["relative_calibrated_ci_high"] = rel * 1.15
                sig = np.clip(fall[:, None] + rng.uniform(-0.05, 0.05, (L, k)), 0, 1)
                g["significant_fraction"] = sig
                g["significant_fraction_ci_low"] = np.clip(sig - 0.1, 0, 1)
                g["significant_fraction_ci_high"] = np.clip(sig + 0.1, 0, 1)
                brk = np.array([next((lv for (lv, _), x in zip(sweep_levels, rel[:, c]) if x < 0.5), np.inf)
                                for c in range(k)])
                g["relative_breaking_level"] = brk
                g["relative_breaking_level_low"] = brk
                g["relative_breaking_level_high"] = brk
        if groups:
            # /groups as reduce writes it (docs/results.md): descriptive means and the effect
            # of the model with main effects, its interval, p and q.
            cfgs = [c[0] for c in CONFIGS]
            K = len(cfgs)
            gg = f.create_group("groups")
            gg.attrs["configurations"] = json.dumps(cfgs)
            gg.attrs["factors"] = json.dumps(["training_data", "family"])
            gg.attrs["permutations"] = np.int64(1000)
            gg.attrs["bootstrap"] = np.int64(1000)
            gg.attrs["confidence"] = 0.95
            gg.attrs["seed"] = np.int64(0)
            for s in list(f["alignment"].keys()):
                for factor in ("training_data", "family"):
                    x = gg.create_group(f"{s}/{factor}")
                    eff = rng.normal(0.01, 0.012, K)
                    within = 0.3 + rng.normal(0, 0.01, K)
                    across = within - eff - rng.normal(0, 0.01, K)
                    p = np.where(eff > 0.02, 0.003, 0.3)
                    for key, val in (("within", within), ("across", across), ("gap", within - across),
                                     ("within_ci_low", within - 0.02), ("within_ci_high", within + 0.02),
                                     ("across_ci_low", across - 0.02), ("across_ci_high", across + 0.02),
                                     ("gap_ci_low", within - across - 0.03),
                                     ("gap_ci_high", within - across + 0.03),
                                     ("effect", eff), ("effect_ci_low", eff - 0.015),
                                     ("effect_ci_high", eff + 0.015), ("effect_pvalue", p),
                                     ("effect_qvalue", np.minimum(1, 2 * p))):
                        x[key] = val
                    x["n_within"] = np.full(K, 20, np.int64)
                    x["n_across"] = np.full(K, 25, np.int64)
                    x["effect_permutations"] = np.full(K, 1000, np.int64)
                    x.attrs["effect_note"] = json.dumps([""] * K)
    return path


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    flags = set(argv[2:])
    write(argv[1], calibration="--calibration" in flags, nulls="--nulls" in flags, sweep="--sweep" in flags,
          groups="--groups" in flags, partial="--partial" in flags, means="--means" in flags)
    print(argv[1])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
