#!/usr/bin/python3
"""End-to-end test of the sweep results of `prh reduce` (/sweeps, docs/sweeps.md).

usage: test_sweep_results.py PRH MAKE_TEST_MODELS MPIEXEC

A store made by `prh embed` with a blend sweep of six levels, its features
overwritten (h5py) by planted ones: every model is s * Z W_m + 3 E, with a
latent Z shared by all models whose share s = 1 - level fades linearly with
the level, and independent noise E. Checked:

- the breaking level of linear CKA (the first level at which fewer than half
  of the model pairs have q < alpha) equals the one computed independently
  here: numpy's CKA of the permuted features (prh's permutations, drawn in
  Python as test_calibrate.py does), p = (1 + #{null >= observed}) / (K + 1),
  Benjamini-Hochberg, the fraction per level; the planted design breaks
  inside the sweep (not at its first or last level);
- the per-level fraction of significant pairs equals numpy's exactly;
- the mean raw and calibrated alignment equal numpy means of the stored
  matrices, inside their bootstrap intervals; the breaking level's interval
  holds it;
- the effect size (issue 23): the relative calibrated score of CKA (each
  level's mean calibrated score over the first level's) and its breaking
  level (first level below relative_breaking = 0.5) equal numpy's from the
  stored calibrated matrices; the planted design breaks inside the sweep;
  the interval holds it; `images` holds N per level;
- the gathered correlations equal /correlation/SET; the correlation
  breaking level of cka vs mutual_knn@10 (both calibrated) is the first
  level whose calibration-null p is not < alpha, with that p recomputed in
  numpy from the stored null scores (Spearman per permutation over the
  pairs); cka vs cknna@10 (cknna not calibrated) is "not tested" (test 0,
  NaN level), never Mantel;
- the chance share (per set and gathered per level) equals numpy's: mean
  per-pair null variance over the variance of the scores across pairs;
- 1 and 2 ranks give identical /sweeps;
- set comparisons: the listed sets pairwise and every level with its base,
  not two levels with each other;
- prh export writes sweeps.csv with those numbers; prh_results.py reads
  /sweeps and --brief prints the breaking points.
"""
import csv
import math
import os
import re
import subprocess

import h5py
import numpy as np

import harness  # noqa: E402
import naive_metrics as nm  # noqa: E402
import test_calibrate as tc  # noqa: E402  (argv: PRH MAKE_TEST_MODELS MPIEXEC)
import test_reduce as tr  # noqa: E402
from harness import check  # noqa: E402

K = 99
SEED = 7
ALPHA = 0.05
LEVELS = [0, 0.2, 0.4, 0.6, 0.8, 1.0]
MODELS = ["m0", "m1", "m2", "m3", "m4", "m5"]
METRICS = ["cka", "mutual_knn:k=10", "cknna:k=10"]
N = 120
SETS = f"""
  - name: base
    source: {{kind: noise, count: {N}, height: 28, width: 28, channels: 1, seed: 3}}
  - name: other
    source: {{kind: noise, count: {N}, height: 28, width: 28, channels: 1, seed: 4}}
"""
SWEEPS = ("[{name: fade, base: base, family: blend, noise: uniform, seed: 1, levels: ["
          + ", ".join(str(x) for x in LEVELS) + "]}]")


def level_set(lv):
    return f"base@blend={lv:g}"


def cfg(tmp, name, store, results):
    return tr.config(tmp, name, MODELS, store=store, results=results, sets=SETS,
                     metrics=METRICS, sweeps=SWEEPS, last_layer_only="true", mantel=99,
                     bootstrap=200, calibration=f"{{permutations: {K}, alpha: {ALPHA}, seed: {SEED}, "
                     "metrics: [cka, mutual_knn:k=10]}")


def bh(p):
    return tc.bh(p)


def main(tmp):
    harness.make_models(tr.MAKE_MODELS, f"{tmp}/models")
    store = f"{tmp}/store.h5"
    r = tr.mpi(2, "embed", cfg(tmp, "embed", store, f"{tmp}/unused.h5"))
    check(r.returncode == 0, f"embed: {r.stderr[-2000:]}")

    rng = np.random.default_rng(5)
    Z = rng.standard_normal((N, 2))
    W = {m: rng.standard_normal((2, 32)) for m in MODELS}
    share = {level_set(lv): 1 - lv for lv in LEVELS}
    share["base"] = 1.0
    share["other"] = 0.0
    feats = {}

    def make(s, m, shape):
        x = share[s] * Z @ W[m] + 3.0 * rng.standard_normal((N, 32))
        out = np.repeat(x[:, None, :], shape[1], axis=1)
        feats[(s, m)] = out[:, -1, :].astype(np.float32).astype(np.float64)
        return out

    tr.set_features(store, make)
    # Level 0 is a view of the base (docs/store.md, "Views"): the base's rows.
    with h5py.File(store, "r") as f:
        g = f[f"sets/{level_set(0)}"]
        check(g.attrs.get("view_of") in ("base", b"base"), "level 0 is a view of the base")
        for m in MODELS:
            feats[(level_set(0), m)] = feats[("base", m)][g["rows"][()]]

    res = {}
    for n in (1, 2):
        res[n] = f"{tmp}/np{n}.results.h5"
        r = tr.mpi(n, "reduce", cfg(tmp, f"np{n}", store, res[n]))
        check(r.returncode == 0, f"reduce -np {n}: {r.stderr[-3000:]}")
    tr.same_results(res[1], res[2], "sweep results -np 1 vs 2")

    M = len(MODELS)
    off = ~np.eye(M, dtype=bool)
    perms = [np.array(tc.seeded_permutation(SEED, t, N)) for t in range(K)]
    with h5py.File(res[1], "r") as f:
        configs = list(f["configurations"].asstr()[()])
        kc, km = configs.index("cka@kernel=linear"), configs.index("mutual_knn@k=10")
        kk = configs.index("cknna@k=10")
        C = len(configs)
        g = f["sweeps/fade"]
        check(list(g["sets"].asstr()[()]) == [level_set(lv) for lv in LEVELS], "sweep sets in order")
        check(np.array_equal(g["levels"][()], LEVELS), "sweep levels")
        check(g.attrs["family"] == "blend" and g.attrs["base"] == "base", "family and base attrs")
        check(g.attrs["calibrated"] == 1 and g.attrs["alpha"] == ALPHA, "calibrated, alpha attrs")
        L = len(LEVELS)
        for name, shape in (("mean", (L, C)), ("significant_fraction", (L, C)),
                            ("breaking_level", (C,)), ("spearman", (L, C, C)),
                            ("relative_calibrated", (L, C)), ("relative_calibrated_ci_low", (L, C)),
                            ("relative_breaking_level", (C,)), ("chance_share", (L, C)),
                            ("images", (L,)),
                            ("correlation_breaking_level", (C, C)), ("accuracy", (L, M))):
            check(g[name].shape == shape, f"/sweeps/fade/{name} shape {g[name].shape} vs {shape}")

        # The independent computation: p-values of linear CKA under prh's
        # permutations of model B's rows, BH over the pairs i < j.
        frac = []
        for lv in LEVELS:
            s = level_set(lv)
            X = {m: nm.preprocess(feats[(s, m)], clamp=False) for m in MODELS}
            p = []
            for i in range(M):
                for j in range(i + 1, M):
                    a, b = X[MODELS[i]], X[MODELS[j]]
                    obs = nm.cka(a, b)
                    null = np.array([nm.cka(a, b[perm]) for perm in perms])
                    p.append((1 + np.sum(null >= obs - 1e-9)) / (K + 1))
                    stored = f[f"calibration/{s}/cka@kernel=linear/pvalue"][i, j]
                    check(abs(stored - p[-1]) < 1e-12, f"{s}: p({i},{j}) {stored} vs numpy {p[-1]}")
            q = bh(p)
            frac.append(float(np.mean(q < ALPHA)))
        want = math.inf
        for lv, x in zip(LEVELS, frac):
            if x < 0.5:
                want = lv
                break
        print("numpy: fraction significant per level", frac, "breaking level", want)
        check(0 < want < 1, f"the planted design breaks inside the sweep (at {want})")
        sig = g["significant_fraction"][()]
        for li in range(L):
            check(abs(sig[li, kc] - frac[li]) < 1e-12,
                  f"level {LEVELS[li]}: fraction significant {sig[li, kc]} vs numpy {frac[li]}")
        check(np.isnan(sig[:, kk]).all(), "cknna (not calibrated): no fraction")
        brk = g["breaking_level"][()]
        check(brk[kc] == want, f"breaking level of cka {brk[kc]} vs numpy {want}")
        check(np.isnan(brk[kk]), "not calibrated: no breaking level")
        check(list(g["images"][()]) == [N] * L, f"images per level {g['images'][()]}")

        # The effect size: relative calibrated score and its breaking level,
        # from the stored calibrated matrices.
        calm = np.array([np.mean(f[f"calibration/{level_set(lv)}/cka@kernel=linear/calibrated"][()][off])
                         for lv in LEVELS])
        rel = calm / calm[0]
        check(np.allclose(g["relative_calibrated"][:, kc], rel, rtol=0, atol=1e-12),
              f"relative calibrated {g['relative_calibrated'][:, kc]} vs numpy {rel}")
        frac_rel = g.attrs["relative_breaking"]
        check(frac_rel == 0.5, f"relative_breaking attr {frac_rel}")
        rwant = next((lv for lv, x in zip(LEVELS, rel) if x < frac_rel), math.inf)
        print("numpy: relative calibrated per level", rel, "breaking level", rwant)
        rb = g["relative_breaking_level"][()]
        check(rb[kc] == rwant, f"relative breaking level {rb[kc]} vs numpy {rwant}")
        check(0 < rwant < 1, f"the planted design breaks inside the sweep on the effect size (at {rwant})")
        rlo, rhi = g["relative_breaking_level_low"][kc], g["relative_breaking_level_high"][kc]
        check(rlo <= rb[kc] <= rhi, f"relative breaking interval [{rlo}, {rhi}] holds {rb[kc]}")
        check(0 < g["relative_breaking_agreement"][kc] <= 1, "relative breaking agreement in (0, 1]")
        lo_r, hi_r = g["relative_calibrated_ci_low"][:, kc], g["relative_calibrated_ci_high"][:, kc]
        check(lo_r[0] == 1 and hi_r[0] == 1, "relative calibrated is 1 at the first level in every resample")
        check(np.all(lo_r[1:] <= rel[1:] + 1e-12) and np.all(rel[1:] <= hi_r[1:] + 1e-12),
              "relative calibrated inside its interval")
        check(np.isnan(g["relative_calibrated"][:, kk]).all() and np.isnan(rb[kk]),
              "cknna (not calibrated): no relative curve or breaking level")
        lo, hi = g["breaking_level_low"][kc], g["breaking_level_high"][kc]
        check(lo <= brk[kc] <= hi, f"breaking interval [{lo}, {hi}] holds {brk[kc]}")
        check(0 < g["breaking_agreement"][kc] <= 1, "breaking agreement in (0, 1]")

        # Means against the stored matrices.
        for li, lv in enumerate(LEVELS):
            s = level_set(lv)
            for k, c in ((kc, "cka@kernel=linear"), (km, "mutual_knn@k=10")):
                S = f[f"alignment/{s}/{c}/scores"][()]
                m = np.mean(S[off])
                check(abs(g["mean"][li, k] - m) < 1e-12, f"{s}/{c}: mean {g['mean'][li, k]} vs {m}")
                check(g["mean_ci_low"][li, k] <= m + 1e-12 <= g["mean_ci_high"][li, k] + 2e-12,
                      f"{s}/{c}: mean inside its interval")
            C = f[f"calibration/{s}/cka@kernel=linear/calibrated"][()]
            check(abs(g["calibrated_mean"][li, kc] - np.mean(C[off])) < 1e-12,
                  f"{s}: calibrated mean")
            # The set's own mean and interval (/correlation/S/mean*): the same
            # estimator at one level, drawn from the "means" stream.
            cs = f[f"correlation/{s}"]
            for k, c in ((kc, "cka@kernel=linear"), (km, "mutual_knn@k=10")):
                m = np.mean(f[f"alignment/{s}/{c}/scores"][()][off])
                check(cs["mean"][k] == g["mean"][li, k], f"{s}/{c}: set mean = sweep mean")
                check(cs["mean_ci_low"][k] <= m + 1e-12 <= cs["mean_ci_high"][k] + 2e-12,
                      f"{s}/{c}: set mean inside its interval")
            check(abs(cs["calibrated_mean"][kc] - np.mean(C[off])) < 1e-12, f"{s}: set calibrated mean")
            check(cs["calibrated_mean_ci_low"][kc] <= cs["calibrated_mean"][kc] + 1e-12
                  <= cs["calibrated_mean_ci_high"][kc] + 2e-12, f"{s}: calibrated mean inside its interval")
            check(all(np.isnan(cs[n][kk]) for n in ("calibrated_mean", "calibrated_mean_ci_low",
                                                      "calibrated_mean_ci_high")),
                  f"{s}: cknna (not calibrated): no calibrated mean")
            check(np.isfinite(cs["mean_ci_low"][kk]), f"{s}: cknna has a raw interval")
            check(cs.attrs["mean_seed"] != cs.attrs["seed"], f"{s}: the means draw from their own stream")
            # Correlations gathered.
            for name in ("spearman", "spearman_mantel_p", "spearman_null_p", "chance_share"):
                a, b = g[name][li], f[f"correlation/{s}/{name}"][()]
                check(np.array_equal(a, b, equal_nan=True), f"{s}: {name} gathered")
        # The calibration null of Spearman(cka, mutual_knn) and the chance share,
        # recomputed from the stored null scores (pairs i < j, row-major).
        iu = np.triu_indices(M, 1)
        null_p = []
        for li, lv in enumerate(LEVELS):
            s = level_set(lv)
            obs, nul = {}, {}
            for k, c in ((kc, "cka@kernel=linear"), (km, "mutual_knn@k=10")):
                obs[k] = f[f"alignment/{s}/{c}/scores"][()][iu]
                # Stored as float64 (issue 27); the correlation null and the chance
                # share read them rounded to float32, as before (docs/results.md).
                nul[k] = f[f"calibration/{s}/{c}/null_scores"][()].astype(np.float32).astype(np.float64)
                share = np.mean(np.var(nul[k], axis=1, ddof=1)) / np.var(obs[k], ddof=1)
                got = f[f"correlation/{s}/chance_share"][k]
                check(abs(got - share) <= 1e-9 * max(1.0, abs(share)),
                      f"{s}/{c}: chance share {got} vs numpy {share}")
            check(np.isnan(f[f"correlation/{s}/chance_share"][kk]), f"{s}: cknna has no chance share")
            r_obs = tr.spearman(obs[kc], obs[km])
            rt = np.array([tr.spearman(nul[kc][:, t], nul[km][:, t]) for t in range(K)])
            rt = rt[np.isfinite(rt)]
            null_p.append((1 + np.sum(rt >= r_obs)) / (1 + rt.size))
            got = f[f"correlation/{s}/spearman_null_p"][kc, km]
            check(abs(got - null_p[-1]) < 1e-12, f"{s}: null p {got} vs numpy {null_p[-1]}")
        print("numpy: Spearman(cka, mutual_knn) null p per level", null_p)
        test = g["correlation_test"][()]
        check(test[kc, km] == 1 and test[km, kc] == 1, "cka vs mutual_knn: the calibration null")
        check(test[kc, kk] == 0 and test[kk, km] == 0,
              "cknna (not calibrated): not tested, never Mantel")
        check(np.isnan(g["correlation_breaking_level"][kc, kk]), "not tested: NaN breaking level")
        check(np.isnan(g["correlation_p"][:, kc, kk]).all(), "not tested: no p")
        check("not tested" in g.attrs["correlation_test_codes"], "correlation_test_codes attr")
        pv = g["correlation_p"][()]
        check(np.array_equal(pv[:, kc, km], g["spearman_null_p"][:, kc, km], equal_nan=True),
              "the calibration-null p is the test's p")
        cb = next((lv for lv, x in zip(LEVELS, null_p) if not x < ALPHA), math.inf)
        check(g["correlation_breaking_level"][kc, km] == cb,
              f"correlation breaking level {g['correlation_breaking_level'][kc, km]} vs numpy {cb}")

        # Comparisons: listed sets with each other, levels with their base only.
        pairs = {(a, b) for a in f["comparison"] for b in f[f"comparison/{a}"]}
        want_pairs = {("base", "other")} | {("base", level_set(lv)) for lv in LEVELS}
        got = {tuple(sorted(p)) for p in pairs}
        check(got == {tuple(sorted(p)) for p in want_pairs}, f"comparisons: {sorted(got)}")

    # Export and the Python reader.
    out = f"{tmp}/export"
    r = tr.prh("export", res[1], "--out", out)
    check(r.returncode == 0, f"export: {r.stderr[-2000:]}")
    path = os.path.join(out, "sweeps.csv")
    check(os.path.exists(path), "sweeps.csv exported")
    if os.path.exists(path):
        with open(path) as fh:
            rows = list(csv.DictReader(fh))
        row = [x for x in rows if x["configuration"] == "cka@kernel=linear" and float(x["level"]) == LEVELS[0]]
        check(len(row) == 1, "one sweeps.csv row per (sweep, level, configuration)")
        with h5py.File(res[1], "r") as f:
            if row:
                check(abs(float(row[0]["mean"]) - f["sweeps/fade/mean"][0, kc]) < 1e-12,
                      "sweeps.csv mean")
                check(float(row[0]["breaking_level"]) == f["sweeps/fade/breaking_level"][kc],
                      "sweeps.csv breaking level")
                check(float(row[0]["relative_breaking_level"]) == f["sweeps/fade/relative_breaking_level"][kc],
                      "sweeps.csv relative breaking level")
                check(int(row[0]["images"]) == N, "sweeps.csv images")
                check(abs(float(row[0]["chance_share"]) - f["sweeps/fade/chance_share"][0, kc]) < 1e-12,
                      "sweeps.csv chance share")
    tools = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools")
    r = subprocess.run(["/usr/bin/python3", os.path.join(tools, "prh_results.py"), "--brief", res[1]],
                       capture_output=True, text=True)
    check(r.returncode == 0, f"prh_results --brief: {r.stderr[-2000:]}")
    check("breaks [interval]" in r.stdout and "sweep fade" in r.stdout,
          f"--brief prints the breaking points: {r.stdout[-1500:]}")
    check("'power' = share of pairs" in r.stdout and f"N = {N}" in r.stdout
          and "'effect' = mean calibrated score" in r.stdout
          and re.search(r"^ +power( +[0-9.]+)+ ", r.stdout, re.M)
          and re.search(r"^  cka@kernel=linear +effect( +[0-9.]+)+ ", r.stdout, re.M),
          f"--brief labels the power curve with N and prints the effect size: {r.stdout[-1500:]}")
    print(r.stdout[-2500:])
    from prh import results as prh_results
    rr = prh_results.load(res[1])
    t = rr.sweep_table()
    row = t[(t.configuration == "cka@kernel=linear") & (t.level == LEVELS[-1])]
    with h5py.File(res[1], "r") as f:
        check(len(row) == 1 and abs(row.relative_calibrated.iloc[0] - f["sweeps/fade/relative_calibrated"][-1, kc])
              < 1e-12 and int(row.images.iloc[0]) == N, "prh_results sweep_table: relative_calibrated, images")
        cs = rr.correlation(level_set(LEVELS[0]))["chance_share"]
        check(cs is not None and abs(cs[kc] - f[f"correlation/{level_set(LEVELS[0])}/chance_share"][kc]) < 1e-15,
              "prh_results correlation(): chance_share")
        ci = rr.correlation_info(level_set(LEVELS[0]))
        for name in prh_results.MEAN_DATASETS:
            check(np.array_equal(ci[name], f[f"correlation/{level_set(LEVELS[0])}/{name}"][()], equal_nan=True),
                  f"prh_results correlation_info(): {name}")


if __name__ == "__main__":
    harness.run_test("sweep-results", main)
