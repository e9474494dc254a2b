#!/usr/bin/python3
"""End-to-end test of `prh reduce` / `prh run` under MPI.

usage: test_reduce.py PRH MAKE_TEST_MODELS MPIEXEC

The store is made by `prh embed` with small TorchScript models; then the test
overwrites the features with h5py by ones whose answers are known: exact
copies, rotations, independent noise, a noisy mix. Checked:

- 1, 2 and 3 ranks give identical results files (every dataset, bit for bit);
- known answers: copies score exactly like a model with itself, rotations
  give 1 (clamp off), independent noise gives chance-level mutual_knn
  (k / (N - 1)); two groups of copies give Spearman and Kendall 1 between
  every two configurations;
- every score and layer pair equals `prh compare` on the same features (an
  independent code path: no store, no cache, no MPI); cycle_knn and cknna
  are asymmetric and both directions are right (scores[j, i] = compare with
  the models swapped);
- correlations, p-values, accuracy and agreement against numpy;
- kill -9 in the preparation and in the scoring phase (while the ranks hold
  after their first unit: PRH_TEST_HOLD, tests/e2e/harness.py), then re-run: same
  results as an uninterrupted run, finished units not redone;
- `prh run` resumes both stages; a complete run is not redone;
- bad input: unknown configuration, k >= N (named), unfinished embeddings
  (listed; --partial reduces the rest), a model not in the store, results
  from another config, a missing store.
"""
import json
import os
import re
import shutil
import sys
import time

import h5py
import numpy as np

import harness  # noqa: E402
from harness import check, fashion, kill_held, why_no_hold  # noqa: E402

PRH, MAKE_MODELS, MPIEXEC = sys.argv[1:4]
ENV = harness.mpi_env(locking=False)
prh = harness.Prh(PRH, MPIEXEC, ENV)
mpi = prh.mpi
METRICS = ["mutual_knn:k=10", "mutual_knn:k=5", "cknna:k=10", "cycle_knn:k=10", "lcs_knn:k=10",
           "edit_distance_knn:k=10", "cka", "unbiased_cka", "cka:kernel=rbf,sigma=0.5",
           "svcca:cca_dim=4"]


def config(tmp, name, models, store=None, results=None, sets=None, metrics=METRICS, **extra):
    sets = sets or f"""
  - name: id
    source: {fashion(150)}
  - name: noise
    source: {{kind: noise, count: 80, height: 28, width: 28, channels: 1, seed: 3}}
"""
    params = {"store": store or f"{tmp}/{name}.store.h5",
              "results": results or f"{tmp}/{name}.results.h5",
              "shard_size": 32, "batch_size": 16, "bootstrap": 200,
              "correlations": "[spearman, kendall, pearson]",
              "preprocess": "{clamp: false}"}
    params.update(extra)
    params["metrics"] = "[" + ", ".join(json.dumps(m) for m in metrics) + "]"
    return harness.write_config(os.path.join(tmp, name + ".yaml"), params, sets,
                                [(m, f"{tmp}/models/dict_model.pt") for m in models])


def rotation(d, rng):
    q, r = np.linalg.qr(rng.standard_normal((d, d)))
    return (q * np.sign(np.diag(r))).astype(np.float64)


def set_features(store, make):
    """Overwrites every model's features in the store: make(set, model, shape) -> array.
    A view (docs/store.md, "Views") has none of its own: it reads its base's rows."""
    with h5py.File(store, "r+") as f:
        for s in f["sets"]:
            if "view_of" in f[f"sets/{s}"].attrs:
                continue
            for m in f[f"sets/{s}/models"]:
                ds = f[f"sets/{s}/models/{m}/features"]
                ds[...] = make(s, m, ds.shape).astype(np.float32)


def same_results(a, b, what):
    harness.same_h5(a, b, what, attrs=True)


def ranks(x):
    order = np.argsort(x, kind="mergesort")
    r = np.empty(len(x))
    r[order] = np.arange(1, len(x) + 1)
    for v in np.unique(x):  # average ranks for ties
        idx = x == v
        r[idx] = r[idx].mean()
    return r


def spearman(x, y):
    rx, ry = ranks(x), ranks(y)
    return np.corrcoef(rx, ry)[0, 1]


def compare_json(tmp, fa, fb):
    path = os.path.join(tmp, "pair.h5")
    with h5py.File(path, "w") as f:
        f["a"] = fa
        f["b"] = fb
    args = ["compare", f"{path}:/a", f"{path}:/b", "--json", "--no-clamp"]
    for m in METRICS:
        args += ["--metric", m]
    r = prh(*args)
    check(r.returncode == 0, f"prh compare ran: {r.stderr}")
    return {x["name"]: x for x in json.loads(r.stdout)["results"]}


def scored_pairs(log):
    m = re.search(r"scoring (\d+) model pairs", log)
    return int(m.group(1)) if m else 0


def prepared_units(log):
    m = re.search(r"preparing (\d+) of (\d+)", log)
    return int(m.group(1)) if m else 0


def done_flags(results):
    """Pairs x configurations done: in the file, or waiting in a serial-HDF5
    build's journals (harness.journal_flags)."""
    waiting = harness.journal_flags(results)
    try:
        with h5py.File(results, "r") as f:
            total = done = 0
            for s in f["alignment"]:
                for c in f[f"alignment/{s}"]:
                    name = f"/alignment/{s}/{c}/done"
                    d = f[name][()].copy()
                    d[list(waiting.get(name, ()))] = 1
                    total += d.size
                    done += int(d.sum())
            return done, total
    except Exception:
        return 0, 0


def prep_flags(cache):
    waiting = harness.journal_flags(cache)
    try:
        with h5py.File(cache, "r") as f:
            d = f["done"][()].copy()
            d[list(waiting.get("done", ()))] = 1
            return int(d.sum()), d.size
    except Exception:
        return 0, 0


def kill_when(cmd, stage, probe, log, what):
    """Starts cmd, kill -9 while its ranks hold after their first `stage` unit.

    Returns the done count probe() reports after the kill, or None if the
    command never held with work left (PRH_TEST_HOLD, tests/e2e/harness.py).
    """
    holds = kill_held(cmd, ENV, stage, 1, log)
    done, total = probe()
    print(f"{what}: holds {holds}, {done}/{total} done at the kill", flush=True)
    if not holds or any(left <= 0 for _, _, left in holds):
        print(f"{what}: {why_no_hold(log)}", flush=True)
        return None
    return done if total and 1 <= done < total else None


def main(tmp):
    harness.make_models(MAKE_MODELS, f"{tmp}/models")
    rng = np.random.default_rng(7)

    # --- the known-answer sweep ------------------------------------------------
    models = ["a", "a_copy", "a_rot", "z", "z_copy", "w"]
    cfg = config(tmp, "known", models)
    r = mpi(2, "embed", cfg)
    check(r.returncode == 0, f"embed: {r.stderr[-2000:]}")
    store = f"{tmp}/known.store.h5"
    base = {}
    q = [rotation(32, rng), rotation(32, rng)]

    def make(s, m, shape):
        n = shape[0]
        if (s, "a") not in base:
            # Clustered data, so neighbourhoods have structure.
            centres = rng.standard_normal((6, 2, 32)) * 3
            lab = rng.integers(0, 6, n)
            base[(s, "a")] = centres[lab] + rng.standard_normal((n, 2, 32))
            base[(s, "z")] = rng.standard_normal((n, 2, 32))
            base[(s, "w")] = base[(s, "a")] + 2.0 * rng.standard_normal((n, 2, 32))
        a = base[(s, "a")]
        if m == "a_rot":
            return np.stack([a[:, l, :] @ q[l] for l in range(2)], axis=1)
        return base[(s, m.replace("_copy", ""))]

    set_features(store, make)
    with h5py.File(store, "r") as f:
        feats = {(s, m): f[f"sets/{s}/models/{m}/features"][()] for s in f["sets"]
                 for m in f[f"sets/{s}/models"]}

    results = {}
    for n in (1, 2, 3):
        res = f"{tmp}/known.np{n}.results.h5"
        c = config(tmp, f"known_np{n}", models, store=store, results=res)
        r = mpi(n, "reduce", c)
        check(r.returncode == 0, f"reduce -np {n}: {r.stderr[-3000:]}")
        check(not os.path.exists(res + ".prep.h5"), f"-np {n}: cache removed after completion")
        results[n] = res
    same_results(results[1], results[2], "reduce -np 1 vs 2")
    same_results(results[1], results[3], "reduce -np 1 vs 3")

    # reduce's device path (prepare, score through metrics::Backend) with the
    # LibTorch backend on the CPU (PRH_TEST_REDUCE_BACKEND, docs/testing.md):
    # the alignment of the CPU path within docs/gpu.md's tolerance.
    res = f"{tmp}/known.torch.results.h5"
    c = config(tmp, "known_torch", models, store=store, results=res)
    r = mpi(2, "reduce", c, env=harness.mpi_env(locking=False, PRH_TEST_REDUCE_BACKEND="torch-cpu"))
    check(r.returncode == 0, f"reduce through the torch backend: {r.stderr[-3000:]}")
    check("heavy metric steps on torch:cpu" in r.stderr, f"the torch backend was used: {r.stderr[-2000:]}")
    with h5py.File(results[1], "r") as f, h5py.File(res, "r") as g:
        check(g.attrs["device"] == "cpu", "device attribute")
        for s in f["alignment"]:
            for cname in f[f"alignment/{s}"]:
                if "scores" not in f[f"alignment/{s}/{cname}"]:
                    continue
                x, y = f[f"alignment/{s}/{cname}/scores"][()], g[f"alignment/{s}/{cname}/scores"][()]
                tol = 0 if cname.split("@")[0].endswith("_knn") else 1e-5
                check(np.allclose(x, y, rtol=0, atol=tol, equal_nan=True),
                      f"torch backend vs cpu, {s} {cname}: max |diff| {np.nanmax(np.abs(x - y))}")

    # A results file from a prh that stored one orientation of cknna in both
    # triangles (symmetric = 1): resuming it recomputes cknna, it does not
    # keep the stale lower triangle.
    old = f"{tmp}/known.old.results.h5"
    shutil.copy(results[1], old)
    with h5py.File(old, "r+") as f:
        f.attrs["derived_hash"] = "made by an older prh"  # whose tables differ
        for s in f["alignment"]:
            for cname in f[f"alignment/{s}"]:
                if cname.startswith("cknna"):
                    g = f[f"alignment/{s}/{cname}"]
                    g.attrs["symmetric"] = 1
                    S = g["scores"][()]
                    g["scores"][...] = np.triu(S) + np.triu(S, 1).T
    r = mpi(2, "reduce", config(tmp, "known_old", models, store=store, results=old))
    check(r.returncode == 0, f"reduce of an old file: {r.stderr[-3000:]}")
    check("computed by an older prh" in r.stderr, f"the recomputation is said: {r.stderr[-2000:]}")
    same_results(results[1], old, "an old file resumed vs a fresh one")

    with h5py.File(results[1], "r") as f:
        check(list(f["models"].asstr()[()]) == models, "models in config order")
        configs = list(f["configurations"].asstr()[()])
        check(len(configs) == len(METRICS), "one configuration per metric spec")
        check(f.attrs["complete"] == 1, "results complete")
        check(json.loads(f.attrs["config"])["bootstrap"] == 200, "config stored")
        check(f.attrs["device"] == "cpu", f"device recorded: {f.attrs['device']}")
        check(json.loads(f.attrs["config"])["reduce_device"] == "cpu", "reduce_device in the config")
        M = len(models)
        ia, ic, ir, iz, izc, iw = range(M)
        for s in ("id", "noise"):
            n_rows = f[f"alignment/{s}"].attrs["n"]
            for cname in configs:
                g = f[f"alignment/{s}/{cname}"]
                S, L = g["scores"][()], g["layers"][()]
                check(g["done"][()].all(), f"{s}/{cname}: every pair done")
                check(np.isfinite(S).all(), f"{s}/{cname}: every score finite")
                check(S[ia, ic] == S[ia, ia] and S[iz, izc] == S[iz, iz],
                      f"{s}/{cname}: a copy scores exactly like the model itself")
                # The 1e-6 in the normaliser moves cknna and unbiased_cka off 1
                # by about 1e-6 / HSIC(K,K); SVCCA standardises columns, so it
                # is rotation invariant only with cca_dim = D.
                tol = 1e-4 if cname.startswith(("cknna", "unbiased_cka")) else 1e-6
                if not cname.startswith(("cycle_knn", "svcca")):
                    check(abs(S[ia, ir] - 1) < tol, f"{s}/{cname}: rotation gives 1 ({S[ia, ir]})")
                if not cname.startswith("cycle_knn"):
                    check(abs(S[ia, ia] - 1) < tol, f"{s}/{cname}: diagonal 1 ({S[ia, ia]})")
                if not cname.startswith(("cycle_knn", "cknna")):
                    check(np.array_equal(S, S.T), f"{s}/{cname}: symmetric")
                if cname.startswith("cknna"):  # metrics.md: the two orientations differ
                    check(not np.array_equal(S, S.T), f"{s}/{cname}: both orientations stored")
                if cname.startswith("mutual_knn"):
                    k = int(cname.split("=")[1])
                    chance = k / (n_rows - 1)
                    cross = [S[i, j] for i in (ia, ic, ir) for j in (iz, izc)]
                    check(abs(np.mean(cross) - chance) < 0.04,
                          f"{s}/{cname}: noise at chance {np.mean(cross):.3f} vs {chance:.3f}")
                    check(S[ia, iw] > np.mean(cross) + 0.05, f"{s}/{cname}: mix above chance")
                # Cross-check every score and layer pair of pairs with the
                # mix model against prh compare on the same features.
            # Metrics.md: S[i][j] = metric(A = model i, B = model j), i < j
            # computed once and mirrored; cycle_knn and cknna for both orders.
            ref = {}
            for i in range(M - 1):
                ref[(i, iw)] = compare_json(tmp, feats[(s, models[i])], feats[(s, "w")])
                ref[(iw, i)] = compare_json(tmp, feats[(s, "w")], feats[(s, models[i])])
            for cname in configs:
                S = f[f"alignment/{s}/{cname}/scores"][()]
                L = f[f"alignment/{s}/{cname}/layers"][()]
                for (i, j), rr in ref.items():
                    if i > j and not cname.startswith(("cycle_knn", "cknna")):
                        want = dict(ref[(j, i)][cname])
                        want["layers"] = want["layers"][::-1]
                    else:
                        want = rr[cname]
                    check(abs(S[i, j] - want["score"]) <= 1e-12 * max(1, abs(want["score"])),
                          f"{s}/{cname}[{models[i]},{models[j]}] = {S[i, j]} vs compare {want['score']}")
                    check(list(L[i, j]) == want["layers"],
                          f"{s}/{cname}[{models[i]},{models[j]}] layers {list(L[i, j])} vs {want['layers']}")
            # Correlations against numpy.
            iu = np.triu_indices(M, 1)
            vec = {c: f[f"alignment/{s}/{c}/scores"][()][iu] for c in configs}
            rho = f[f"correlation/{s}/spearman"][()]
            p = f[f"correlation/{s}/spearman_pvalue"][()]
            lo, hi = f[f"correlation/{s}/spearman_ci_low"][()], f[f"correlation/{s}/spearman_ci_high"][()]
            for x in range(len(configs)):
                for y in range(len(configs)):
                    want = spearman(vec[configs[x]], vec[configs[y]])
                    check(abs(rho[x, y] - want) < 1e-12, f"{s}: spearman[{configs[x]}, {configs[y]}] {rho[x, y]} vs {want}")
                    check(0 <= p[x, y] <= 1, f"{s}: p in [0, 1]")
                    check(np.isnan(lo[x, y]) or lo[x, y] <= hi[x, y], f"{s}: ci ordered")
            # Mantel p (default 999 relabellings of the models): a permutation
            # p-value, so in [1/1000, 1]; a configuration against itself is
            # only matched by relabellings that fix its matrix.
            R = int(f[f"correlation/{s}"].attrs["mantel"])
            check(R == 999, f"{s}: mantel attribute {R}")
            for method in ("spearman", "kendall", "pearson"):
                mp = f[f"correlation/{s}/{method}_mantel_p"][()]
                fin = mp[np.isfinite(mp)]
                check(fin.size > 0 and np.all((fin >= 1 / (R + 1) - 1e-15) & (fin <= 1)),
                      f"{s}: {method}_mantel_p in [1/(R+1), 1]")
                check(np.allclose(mp, mp.T, equal_nan=True), f"{s}: {method}_mantel_p symmetric")
            pear = f[f"correlation/{s}/pearson"][()]
            want = np.corrcoef(vec[configs[0]], vec[configs[6]])[0, 1]
            check(abs(pear[0, 6] - want) < 1e-12, f"{s}: pearson {pear[0, 6]} vs {want}")
            check(f[f"correlation/{s}/kendall"].shape == (len(configs),) * 2, f"{s}: kendall")
            ma = f[f"correlation/{s}/mean_alignment"][()]
            S0 = f[f"alignment/{s}/{configs[0]}/scores"][()]
            want = [(np.sum(S0[i]) + np.sum(S0[:, i]) - 2 * S0[i, i]) / 2 / (M - 1) for i in range(M)]
            check(np.allclose(ma[0], want, atol=1e-12), f"{s}: mean_alignment")

            # Predictions against numpy on the store's top-1.
            labels = None
            with h5py.File(store, "r") as st:
                labels = st[f"sets/{s}/labels"][()]
                top = [st[f"sets/{s}/models/{m}/top1"][()] for m in models]
            pr = f[f"predictions/{s}"]
            agree = np.array([[np.mean(top[i] == top[j]) for j in range(M)] for i in range(M)])
            check(np.allclose(pr["agreement"][()], agree), f"{s}: agreement")
            if s == "id":
                acc = [np.mean(t == labels) for t in top]
                check(np.allclose(pr["accuracy"][()], acc), f"{s}: accuracy")
            else:
                check(np.isnan(pr["accuracy"][()]).all(), f"{s}: no labels, no accuracy")
        check("comparison/id/noise/spearman_diff" in f, "set comparison written")

    # Three exact copies and one independent model: every pair is either
    # (copy, copy), all bit-identical, or (copy, other), all bit-identical, so
    # every configuration orders the pairs alike: correlation exactly 1.
    cfg2 = config(tmp, "groups", ["g1", "g1b", "g1c", "g2"])
    r = mpi(2, "embed", cfg2)
    check(r.returncode == 0, f"embed groups: {r.stderr[-2000:]}")
    set_features(f"{tmp}/groups.store.h5",
                 lambda s, m, shape: base[(s, "a" if m.startswith("g1") else "z")])
    r = mpi(2, "reduce", cfg2)
    check(r.returncode == 0, f"reduce groups: {r.stderr[-2000:]}")
    with h5py.File(f"{tmp}/groups.results.h5", "r") as f:
        for s in ("id", "noise"):
            for method in ("spearman", "kendall"):
                rho = f[f"correlation/{s}/{method}"][()]
                check(np.allclose(rho, 1, atol=1e-12), f"groups {s}: {method} all 1: {rho}")
                p = f[f"correlation/{s}/{method}_pvalue"][()]
                # Exact permutation p-value of r = 1 on 6 pairs with ties.
                check(np.all(p[~np.eye(len(p), dtype=bool)] < 0.2), f"groups {s}: {method} p {p}")

    # --- resume after kill -9 ----------------------------------------------------
    big_sets = f"""
  - name: big
    source: {{kind: noise, count: 1500, height: 28, width: 28, channels: 1, seed: 5}}
"""
    big_models = [f"m{i}" for i in range(6)]
    big_metrics = METRICS + ["cka:kernel=rbf,sigma=0.25", "cka:kernel=rbf,sigma=2",
                             "unbiased_cka:kernel=rbf,sigma=1"]
    bcfg = config(tmp, "big", big_models, sets=big_sets, metrics=big_metrics)
    r = mpi(2, "embed", bcfg)
    check(r.returncode == 0, f"embed big: {r.stderr[-2000:]}")
    bstore = f"{tmp}/big.store.h5"
    brng = np.random.default_rng(11)
    common = brng.standard_normal((1500, 2, 32))
    set_features(bstore, lambda s, m, shape: common + (1 + int(m[1:])) * 0.5 *
                 brng.standard_normal(shape))
    ref_cfg = config(tmp, "big_ref", big_models, store=bstore, sets=big_sets, metrics=big_metrics)
    t0 = time.time()
    r = mpi(2, "reduce", ref_cfg)
    check(r.returncode == 0, f"reduce big: {r.stderr[-2000:]}")
    print(f"big reduce: {time.time() - t0:.1f} s", flush=True)
    bres = f"{tmp}/big.results.h5"
    cmd = prh.cmd(2, "reduce", bcfg)
    # 1) killed while preparing (the cache has some units), 2) killed while scoring.
    at = kill_when(cmd, "prepare", lambda: prep_flags(bres + ".prep.h5"), f"{tmp}/kill1.log",
                   "kill in preparation")
    check(at is not None, "killed during preparation")
    at = kill_when(cmd, "score", lambda: done_flags(bres), f"{tmp}/kill2.log",
                   "kill in scoring")
    check(at is not None, "killed during scoring")
    done_before, total = done_flags(bres)
    units_done, units = prep_flags(bres + ".prep.h5")
    r = mpi(2, "reduce", bcfg, "--keep-cache")
    check(r.returncode == 0, f"resumed reduce: {r.stderr[-2000:]}")
    log = r.stderr + r.stdout
    n_pairs = len(big_models) * (len(big_models) + 1) // 2
    pairs_left = scored_pairs(log)
    print(f"resume: {done_before}/{total} flags done at kill, scored {pairs_left} of {n_pairs} "
          f"pairs, prepared {prepared_units(log)} units ({units_done}/{units} cached)", flush=True)
    check(pairs_left <= n_pairs - done_before // len(big_metrics),
          f"resume redid finished pairs ({pairs_left} scored, {done_before} flags done)")
    check(prepared_units(log) <= units - units_done, "resume redid prepared units")
    same_results(f"{tmp}/big_ref.results.h5", bres, "killed and resumed vs uninterrupted")
    check(os.path.exists(bres + ".prep.h5"), "--keep-cache keeps the cache")
    r = mpi(2, "reduce", bcfg)
    check("nothing to do" in r.stderr, f"complete results are not redone: {r.stderr[-500:]}")

    # --- prh run resumes both stages -------------------------------------------
    rcfg = config(tmp, "run", ["a", "b", "c"])
    r = mpi(2, "run", rcfg)
    check(r.returncode == 0, f"prh run: {r.stderr[-2000:]}")
    r = mpi(2, "run", rcfg)
    check(r.returncode == 0 and "0 to do" in r.stderr and "nothing to do" in r.stderr,
          f"second prh run does nothing: {r.stderr[-1000:]}")

    # --- bad input ------------------------------------------------------------
    def bad(cfg_path, needles, what, *flags):
        r = prh("reduce", cfg_path, *flags)
        check(r.returncode == 2, f"{what}: exit 2, got {r.returncode}: {r.stderr[-800:]}")
        for needle in needles:
            check(needle in r.stderr, f"{what}: message names '{needle}': {r.stderr[-800:]}")

    bad(config(tmp, "bad1", models, store=store, metrics=["mutual_knn:k=10", "frobnicate"]),
        ["frobnicate"], "unknown configuration")
    bad(config(tmp, "bad2", models, store=store, metrics=["mutual_knn:k=100"]),
        ["image set 'noise'", "mutual_knn@k=100", "k must be <= 79"], "k >= N")
    bad(config(tmp, "bad3", models + ["late"], store=store),
        ["model 'late': not in the store", "--partial"], "model not embedded")
    bad(config(tmp, "bad4", models, store=store, results=results[1], preprocess="{clamp: true}"),
        ["another configuration", "preprocess.clamp: false -> true"], "results from another config")
    bad(config(tmp, "bad5", models, store=f"{tmp}/nowhere.h5"), ["nowhere.h5", "prh embed"],
        "missing store")
    # A results file whose identity attribute is damaged: exit 2, named.
    dmg = f"{tmp}/damaged.results.h5"
    shutil.copy(results[1], dmg)
    with h5py.File(dmg, "r+") as f:
        f.attrs["identity"] = "{not json"
        f.attrs["complete"] = 0  # so that the reduce opens it (complete files are skipped)
    bad(config(tmp, "bad6", models, store=store, results=dmg), ["damaged.results.h5", "damaged"],
        "damaged identity attribute")
    # A results path whose folder cannot be made (a regular file in the way).
    bad(config(tmp, "bad7", models, store=store, results=f"{dmg}/sub/r.h5"),
        ["cannot create its folder"], "unmakeable results folder")
    # An export folder that cannot be made: exit 2, not an internal error.
    r = prh("export", results[1], "--format", "csv", "--out", f"{dmg}/csv")
    check(r.returncode == 2 and "internal error" not in r.stderr,
          f"unmakeable export folder: exit 2 ({r.returncode}): {r.stderr[-500:]}")

    # Unfinished embeddings: clear one done flag.
    part = f"{tmp}/partial.store.h5"
    shutil.copy(store, part)
    with h5py.File(part, "r+") as f:
        f["sets/id/models/z/done"][1] = 0
    pcfg = config(tmp, "partial", models, store=part)
    bad(pcfg, ["image set 'id', model 'z': 4 of 5 shards embedded", "--partial"],
        "unfinished embeddings")
    r = prh("reduce", pcfg, "--partial")
    check(r.returncode == 0, f"--partial: {r.stderr[-1000:]}")
    with h5py.File(f"{tmp}/partial.results.h5", "r") as f:
        S = f["alignment/id/mutual_knn@k=10/scores"][()]
        check(np.isnan(S[3]).all() and np.isnan(S[:, 3]).all(), "--partial: z left out (NaN)")
        check(np.isfinite(np.delete(np.delete(S, 3, 0), 3, 1)).all(), "--partial: the rest done")
        check(list(f["alignment/id"].attrs["models_present"]) == [1, 1, 1, 0, 1, 1],
              "--partial: models_present")
        check(np.isfinite(f["alignment/noise/mutual_knn@k=10/scores"][()]).all(),
              "--partial: the other set is complete")
    r = prh("status", pcfg, "--json")
    j = json.loads(r.stdout) if r.returncode == 0 else {"image_sets": []}
    ids = [s for s in j["image_sets"] if s["name"] == "id"]
    check(ids and (ids[0]["score_done"], ids[0]["score_total"], ids[0]["models_done"]) ==
          (15, 21, 5) and any(x.startswith("id: embed: 1 work item left (z 4/5)") and "score 6/21 pairs" in x
                              for x in j["left"]),
          f"prh status shows the reduction's progress: {r.stdout[-2000:]}")
    # Finishing the embedding and reducing again completes the matrix.
    with h5py.File(part, "r+") as f:
        f["sets/id/models/z/done"][1] = 1
    r = prh("reduce", pcfg)
    check(r.returncode == 0, f"reduce after completion: {r.stderr[-1000:]}")
    with h5py.File(f"{tmp}/partial.results.h5", "r") as f:
        check(np.isfinite(f["alignment/id/mutual_knn@k=10/scores"][()]).all(),
              "completed after the embeddings were")


if __name__ == "__main__":
    harness.run_test("reduce", main)
