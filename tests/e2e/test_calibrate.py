#!/usr/bin/python3
"""End-to-end test of the calibrate stage of `prh reduce` (docs/calibration.md).

usage: test_calibrate.py PRH MAKE_TEST_MODELS MPIEXEC

A store made by `prh embed` with small TorchScript models, its features
overwritten (h5py) by known ones: a, an exact copy of a, a noisy mix of a,
and two independent noise models. Checked:

- 1, 2 and 3 ranks give identical results files (calibration included, bit
  for bit);
- a copy gives p = 1/(K+1) and calibrated 1 in both orientations;
- noise against anything: p spread over (0, 1], calibrated mostly 0;
- null_mean is the mean of the stored null scores, and p counts them;
- every stored p, threshold, calibrated score and null mean recomputes
  exactly (==) from the stored float64 null scores (recompute_calibration.py);
- one pair's K null scores and p equal a slow recomputation: the
  permutations drawn in Python (std::mt19937_64 written out, splitmix64
  seeds, Fisher-Yates), the permuted features scored by naive_metrics.py;
- calibration.metrics selects configurations, with the same numbers;
- prh export (calibration.csv, correlation null columns) and
  prh_results.calibration_table();
- qvalue equals an independent numpy Benjamini-Hochberg over the stored p
  (i < j for symmetric configurations, both orientations for asymmetric);
- the RBF configuration is skipped with a warning, no group written;
- the correlation null (/correlation/S/{method}_null_*) is there for the
  calibrated configurations, NaN for the others;
- turning calibration on for complete results computes only the calibration
  and gives the same file; kill -9 mid-calibration, then re-run: identical;
- bad settings: exit 2 with the field named.
"""
import re

import h5py
import numpy as np

import harness  # noqa: E402
import test_reduce as tr  # noqa: E402  (argv: PRH MAKE_TEST_MODELS MPIEXEC)
from harness import check  # noqa: E402

K = 99
CAL = f"{{permutations: {K}, alpha: 0.05, seed: 5}}"
METRICS = ["mutual_knn:k=10", "cknna:k=10", "cycle_knn:k=10", "cka", "svcca:cca_dim=4",
           "cka:kernel=rbf,sigma=0.5"]
MODELS = ["a", "a_copy", "w", "z", "y"]


def bh(p):
    p = np.asarray(p, float)
    m = len(p)
    order = np.argsort(p, kind="stable")
    q = np.minimum(1, p[order] * m / np.arange(1, m + 1))
    q = np.minimum.accumulate(q[::-1])[::-1]
    out = np.empty(m)
    out[order] = q
    return out


from prh.permutations import MT64, seeded_permutation  # noqa: E402,F401  (test_sweep_results uses it too)


def cfg(tmp, name, store, results, calibration=CAL, metrics=METRICS):
    extra = {"mantel": 99, "bootstrap": 50}
    if calibration is not None:
        extra["calibration"] = calibration
    return tr.config(tmp, name, MODELS, store=store, results=results, metrics=metrics, **extra)


def CAL_PAIR(i, j, m=len(MODELS)):
    """Row of pair i < j in null_scores (row-major)."""
    return i * (m - 1) - i * (i - 1) // 2 + (j - i - 1)


def main(tmp):
    harness.make_models(tr.MAKE_MODELS, f"{tmp}/models")
    rng = np.random.default_rng(11)
    store = f"{tmp}/cal.store.h5"
    r = tr.mpi(2, "embed", cfg(tmp, "embed", store, None, calibration=None))
    check(r.returncode == 0, f"embed: {r.stderr[-2000:]}")
    base = {}

    def make(s, m, shape):
        n = shape[0]
        if (s, "a") not in base:
            centres = rng.standard_normal((6, 2, 32)) * 3
            lab = rng.integers(0, 6, n)
            base[(s, "a")] = centres[lab] + rng.standard_normal((n, 2, 32))
            base[(s, "z")] = rng.standard_normal((n, 2, 32))
            base[(s, "y")] = rng.standard_normal((n, 2, 32))
            base[(s, "w")] = base[(s, "a")] + 2.0 * rng.standard_normal((n, 2, 32))
        return base[(s, m.replace("_copy", ""))]

    tr.set_features(store, make)

    # 1, 2, 3 ranks.
    res = {}
    for n in (1, 2, 3):
        res[n] = f"{tmp}/np{n}.results.h5"
        r = tr.mpi(n, "reduce", cfg(tmp, f"np{n}", store, res[n]))
        check(r.returncode == 0, f"reduce -np {n}: {r.stderr[-3000:]}")
        if n == 1:
            log1 = r.stdout + r.stderr
    tr.same_results(res[1], res[2], "calibrate -np 1 vs 2")
    tr.same_results(res[1], res[3], "calibrate -np 1 vs 3")
    check("no permutation null for cka@kernel=rbf" in log1 or "rbf" in log1,
          "the RBF configuration is named in a warning")

    # Every stored p, tau, calibrated score and null mean recomputes exactly
    # (==) from the stored float64 nulls and the stored scores, both
    # orientations (null_scores_reverse for cknna, cycle_knn), layer maximum
    # over 2 x 2 layers (recompute_calibration.py).
    import recompute_calibration
    problems, counts = recompute_calibration.recompute(res[1])
    check(not problems, f"recomputed from the stored nulls: {len(problems)} differ: {problems[:5]}")
    n_cal = 2 * 5 * (5 - 1) * 5  # sets x ordered pairs x calibrated configurations
    check(counts["pvalue"] == n_cal and counts["reverse"] == 2 * 10 * 2 and
          counts["layer_max"] == n_cal,
          f"recomputed every stored value, reverse and layer-maximum cases included: {counts}")

    M = len(MODELS)
    ia, ic, iw, iz, iy = range(M)
    noise_pairs = [(i, j) for i in range(M) for j in range(M)
                   if i != j and (iz in (i, j) or iy in (i, j))]
    with h5py.File(res[1], "r") as f:
        configs = list(f["configurations"].asstr()[()])
        calibrated = [c for c in configs if "rbf" not in c]
        check(f["calibration"].attrs["permutations"] == K, "permutations attribute")
        all_p, all_cal = [], []
        for s in ("id", "noise"):
            g = f[f"calibration/{s}"]
            check(g["done"][()].all(), f"{s}: every pair calibrated")
            check(sorted(g.keys()) == sorted(calibrated + ["done"]),
                  f"{s}: calibrated configurations only (rbf skipped): {sorted(g.keys())}")
            for c in calibrated:
                cg = g[c]
                S = f[f"alignment/{s}/{c}/scores"][()]
                p, cal = cg["pvalue"][()], cg["calibrated"][()]
                q, nulls = cg["qvalue"][()], cg["null_scores"][()]
                sym = "cknna" not in c and "cycle_knn" not in c
                off = ~np.eye(M, dtype=bool)
                check(np.isfinite(p[off]).all() and np.isnan(np.diag(p)).all(),
                      f"{s}/{c}: p finite off the diagonal, NaN on it")
                check(nulls.shape == (M * (M - 1) // 2, K) and np.isfinite(nulls).all(),
                      f"{s}/{c}: null_scores [P, K] finite")
                for i, j in ((ia, ic), (ic, ia)):
                    check(abs(p[i, j] - 1 / (K + 1)) < 1e-15,
                          f"{s}/{c}: copy p = 1/(K+1) ({p[i, j]})")
                    # cycle_knn of a model with itself is below 1 (metrics.md).
                    floor = 0 if c.startswith("cycle_knn") else 0.99
                    check(cal[i, j] > floor, f"{s}/{c}: copy calibrated ({cal[i, j]})")
                if sym:
                    check(np.array_equal(p, p.T, equal_nan=True), f"{s}/{c}: p symmetric")
                # p and null_mean from the stored null scores (orientation i < j).
                pidx = 0
                for i in range(M):
                    for j in range(i + 1, M):
                        nl = nulls[pidx].astype(float)
                        check(abs(cg["null_mean"][i, j] - nl.mean()) < 1e-6,
                              f"{s}/{c}: null_mean of ({i},{j})")
                        want = (1 + np.sum(nl >= S[i, j] - 1e-6)) / (K + 1)
                        lo = (1 + np.sum(nl >= S[i, j] + 1e-6)) / (K + 1)
                        check(lo <= p[i, j] <= want,
                              f"{s}/{c}: p of ({i},{j}) {p[i, j]} in [{lo}, {want}]")
                        pidx += 1
                # Benjamini-Hochberg over the pairs.
                idx = [(i, j) for i in range(M) for j in range(M)
                       if i != j and (not sym or i < j)]
                qq = bh([p[i, j] for i, j in idx])
                got = np.array([q[i, j] for i, j in idx])
                check(np.allclose(got, qq, rtol=0, atol=1e-12), f"{s}/{c}: q = numpy BH")
                if sym:
                    check(np.array_equal(q, q.T, equal_nan=True), f"{s}/{c}: q symmetric")
                for i, j in noise_pairs:
                    all_p.append(p[i, j])
                    all_cal.append(cal[i, j])
            # The correlation null.
            cr = f[f"correlation/{s}"]
            for method in ("spearman", "kendall", "pearson"):
                nm = cr[f"{method}_null_mean"][()]
                npv = cr[f"{method}_null_p"][()]
                ki = [configs.index(c) for c in calibrated]
                kr = configs.index("cka@kernel=rbf,sigma=0.5") if \
                    "cka@kernel=rbf,sigma=0.5" in configs else \
                    [k for k, c in enumerate(configs) if "rbf" in c][0]
                sub = np.ix_(ki, ki)
                check(np.isfinite(nm[sub]).all() and np.isfinite(npv[sub]).all(),
                      f"{s}/{method}: null mean and p finite between calibrated configurations")
                check(np.isnan(nm[kr]).all(), f"{s}/{method}: NaN for the RBF configuration")
                check(((npv[sub] > 0) & (npv[sub] <= 1)).all(), f"{s}/{method}: null p in (0, 1]")
        all_p, all_cal = np.array(all_p), np.array(all_cal)
        check((all_p > 0).all() and (all_p <= 1).all(), "noise: p in (0, 1]")
        check(0.25 < all_p.mean() < 0.75 and all_p.std() > 0.15,
              f"noise: p spread (mean {all_p.mean():.3f}, sd {all_p.std():.3f})")
        check(np.mean(all_cal > 0) < 0.2,
              f"noise: calibrated mostly 0 ({np.mean(all_cal > 0):.3f} above 0)")

    # A slow, independent recomputation of one pair's null (mutual_knn@k=10,
    # models a and w, set noise): the permutations drawn in Python, the
    # permuted features scored by tests/e2e/naive_metrics.py (full sorts),
    # the layer maximum over 2 x 2 layers; p from those.
    g = MT64(5489)
    for _ in range(9999):
        g()
    check(g() == 9981545732273789042, "MT64 is std::mt19937_64 (10000th output)")
    import naive_metrics as nm
    with h5py.File(store, "r") as f:
        fa = f["sets/noise/models/a/features"][()].astype(np.float64)
        fw = f["sets/noise/models/w/features"][()].astype(np.float64)
    A = [nm.knn(nm.preprocess(fa[:, l, :], clamp=False), 10) for l in range(2)]
    Bx = [nm.preprocess(fw[:, l, :], clamp=False) for l in range(2)]
    n_rows = fa.shape[0]
    slow = []
    for t in range(K):
        perm = seeded_permutation(5, t, n_rows)
        B = [nm.knn(b[perm], 10) for b in Bx]
        slow.append(max(nm.mutual_knn(a, b, 10) for a in A for b in B))
    with h5py.File(res[1], "r") as f:
        cg = f["calibration/noise/mutual_knn@k=10"]
        fast = cg["null_scores"][CAL_PAIR(ia, iw)]
        obs = f["alignment/noise/mutual_knn@k=10/scores"][ia, iw]
        check(np.allclose(fast, np.float32(slow), rtol=0, atol=1e-6),
              f"null scores equal the slow recomputation (max diff "
              f"{np.max(np.abs(fast - np.float32(slow))):.2e})")
        p_slow = (1 + sum(x >= obs - 1e-12 for x in slow)) / (K + 1)
        check(abs(cg["pvalue"][ia, iw] - p_slow) < 1e-12,
              f"p equals the slow recomputation ({cg['pvalue'][ia, iw]} vs {p_slow})")

    # prh export: the calibration table (i < j for symmetric configurations,
    # both orientations for asymmetric ones) and the correlation null columns.
    import csv
    r = tr.prh("export", res[1], "--out", f"{tmp}/export")
    check(r.returncode == 0, f"export: {r.stderr[-1500:]}")
    if r.returncode == 0:
        rows = list(csv.DictReader(open(f"{tmp}/export/calibration.csv")))
        n_sym = sum(1 for c in calibrated if "cknna" not in c and "cycle_knn" not in c)
        want = 2 * (n_sym * M * (M - 1) // 2 + (len(calibrated) - n_sym) * M * (M - 1))
        check(len(rows) == want, f"calibration.csv: {len(rows)} rows, want {want}")
        with h5py.File(res[1], "r") as f:
            for row in rows:
                i, j = int(row["i"]), int(row["j"])
                g = f[f"calibration/{row['set']}/{row['configuration']}"]
                check(float(row["pvalue"]) == g["pvalue"][i, j] and
                      float(row["qvalue"]) == g["qvalue"][i, j],
                      f"calibration.csv row {row} equals the file")
        from prh import results as prh_results
        rr = prh_results.load(res[1])
        with h5py.File(res[1], "r") as f:
            g = f["calibration/noise/cknna@k=10"]
            check(np.array_equal(rr.null_scores("noise", "cknna@k=10"), g["null_scores"][()]) and
                  np.array_equal(rr.null_scores("noise", "cknna@k=10", reverse=True),
                                 g["null_scores_reverse"][()]) and
                  rr.null_scores("noise", "mutual_knn@k=10", reverse=True) is None and
                  rr.null_scores("noise", "cka@kernel=rbf,sigma=0.5") is None and
                  rr.pair_index(len(MODELS), ia, iw) == CAL_PAIR(ia, iw),
                  "prh_results.null_scores reads both orientations (None where absent)")
        t = rr.calibration_table()
        t = t.to_dict("records") if hasattr(t, "to_dict") else t
        check(len(t) == want, f"prh_results calibration_table: {len(t)} rows, want {want}")
        rows = list(csv.DictReader(open(f"{tmp}/export/correlations.csv")))
        check(rows and "null_p" in rows[0] and any(x["null_p"] not in ("", "nan") for x in rows),
              "correlations.csv has the correlation null")

    # calibration.metrics picks configurations; the cache then holds longer
    # neighbour lists (k = 30) than the calibrated ones use (cut to k = 10):
    # the same numbers as above, bit for bit.
    res_sel = f"{tmp}/sel.results.h5"
    r = tr.mpi(2, "reduce", cfg(tmp, "sel", store, res_sel,
                                calibration=f"{{permutations: {K}, alpha: 0.05, seed: 5, "
                                            "metrics: [cka, 'mutual_knn:k=10']}",
                                metrics=["mutual_knn:k=10", "mutual_knn:k=30", "cka"]))
    check(r.returncode == 0, f"reduce with calibration.metrics: {r.stderr[-2000:]}")
    with h5py.File(res_sel, "r") as f, h5py.File(res[1], "r") as g:
        for s in ("id", "noise"):
            check(sorted(k for k in f[f"calibration/{s}"].keys() if k != "done") ==
                  ["cka@kernel=linear", "mutual_knn@k=10"], f"{s}: only the listed configurations")
            for c in ("cka@kernel=linear", "mutual_knn@k=10"):
                for d in ("pvalue", "threshold", "calibrated", "null_mean", "null_sd",
                          "null_scores"):
                    a, b = f[f"calibration/{s}/{c}/{d}"][()], g[f"calibration/{s}/{c}/{d}"][()]
                    check(a.tobytes() == b.tobytes(), f"{s}/{c}/{d}: same with calibration.metrics")

    # Calibration turned on for complete results: only the calibration runs.
    res_on = f"{tmp}/on.results.h5"
    r = tr.mpi(2, "reduce", cfg(tmp, "on", store, res_on, calibration=None))
    check(r.returncode == 0, f"reduce without calibration: {r.stderr[-2000:]}")
    with h5py.File(res_on, "r") as f:
        check("calibration" not in f, "no /calibration when calibration is off")
    r = tr.mpi(2, "reduce", cfg(tmp, "on", store, res_on))
    check(r.returncode == 0, f"reduce with calibration added: {r.stderr[-2000:]}")
    check("scoring" not in r.stdout + r.stderr, "adding calibration scores no pair again")
    tr.same_results(res[1], res_on, "calibration added later vs at once")

    # kill -9 mid-calibration, then resume.
    res_k = f"{tmp}/kill.results.h5"
    c = cfg(tmp, "kill", store, res_k)
    cmd = tr.prh.cmd(2, "reduce", c)

    def probe():
        # Done in the file, or waiting in a serial-HDF5 build's journals.
        waiting = harness.journal_flags(res_k)
        try:
            with h5py.File(res_k, "r") as f:
                flags = []
                for s in ("id", "noise"):
                    d = f[f"calibration/{s}/done"][()].copy()
                    d[list(waiting.get(f"/calibration/{s}/done", ()))] = 1
                    flags.append(d)
            d = np.concatenate(flags)
            return int(d.sum()), len(d)
        except Exception:
            return 0, 0
    done = tr.kill_when(cmd, "calibrate", probe, f"{tmp}/kill.log", "kill in calibrate")
    check(done is not None, "killed mid-calibration with pairs done and pairs left")
    r = tr.mpi(2, "reduce", c)
    check(r.returncode == 0, f"resume after kill: {r.stderr[-2000:]}")
    log = r.stdout + r.stderr
    if done is not None:
        # Ranks may finish a unit between the probe and their death: at most
        # 20 - done pairs are left.
        m = re.search(r"calibrating (\d+) model pairs", log)
        check(m is not None and int(m.group(1)) <= 20 - done,
              f"resume calibrates only the pairs left (<= {20 - done}): "
              f"{m.group(0) if m else log[-1500:]}")
    tr.same_results(res[1], res_k, "killed and resumed vs uninterrupted")

    # Bad settings: exit 2, the field named.
    bad = [("{permutations: 0}", "calibration.permutations"),
           ("{permutations: 10, alpha: 1.5}", "calibration.alpha"),
           ("{alpha: 0.1}", "calibration.permutations: required"),
           ("{permutations: 10, bogus: 1}", "bogus"),
           ("{permutations: 10, metrics: ['cka:kernel=rbf,sigma=0.5']}", "rbf"),
           ("{permutations: 10, metrics: ['mutual_knn:k=7']}", "not one of the sweep's")]
    for k, (text, want) in enumerate(bad):
        r = tr.mpi(1, "reduce", cfg(tmp, f"bad{k}", store, f"{tmp}/bad{k}.h5", calibration=text))
        check(r.returncode == 2 and want in r.stderr,
              f"bad calibration {text}: exit {r.returncode}, {r.stderr[-500:]}")


if __name__ == "__main__":
    harness.run_test("calibrate", main)
