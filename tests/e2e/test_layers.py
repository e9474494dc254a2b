#!/usr/bin/python3
"""End-to-end test of the layer axis (`layer_profile`, docs/results.md:
/layers and /layer_profile).

usage: test_layers.py PRH MPIEXEC

Four models of imported features (HDF5, [N, L, D]) with 1, 2, 3 and 4 layers,
two image sets (Fashion-MNIST and noise), three configurations (mutual_knn,
cknna: asymmetric, linear CKA), calibration on the headline. Checked:

- `last_layer_only: true` with and without `layer_profile: true`: every
  dataset the run without the profile writes is bit for bit the same in the
  run with it (/alignment, /correlation, /calibration, /predictions, ...):
  the headline does not move;
- /layers/S/C is [M, M, 4, 4] float64; rows and columns beyond a model's
  layer count are NaN (padding), the rest finite; [i, j, L_i - 1, L_j - 1]
  equals scores[i, j] exactly (both orders of cknna);
- entries of /layers equal numpy's naive metrics (tests/e2e/naive_metrics.py)
  on the features, for every layer pair of two models and both orientations
  of cknna;
- /layer_profile: depths (g + 1) / 4; mean at each depth equals numpy's mean
  of the same-depth scores over the ordered pairs i != j, the layer of each
  model found independently (the shallowest layer l with (l + 1) / L >= the
  depth); at depth 1 it and its interval equal /correlation/S/mean* exactly
  (same estimator, same resamples);
- 1 and 2 ranks write identical /layers and /layer_profile;
- `last_layer_only: false` (profile on by default): scores[i, j] is the
  maximum of /layers[i, j] and /layers is the same as with last layers only;
- the Python reader (prh.results: layer_matrices, layer_profile,
  model_layer_counts) reads them; the report draws the layer-profile figure;
- /layer_profile's early-minus-late contrast: early_late = mean at the first
  grid point minus mean at the last, early_late_change = that minus the
  reference's (0, p 1 for the reference); intervals hold the estimate and
  exclude 0 exactly when p < 1 - confidence;
- `prh export` writes layers.csv, /layers in long format without the
  padding, equal to the file's doubles, and prh.tables.layers_table gives
  the same rows; no layers.csv without /layers;
- `layer_profile: 3` is refused naming the key.
"""
import os
import subprocess
import sys

import h5py
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import naive_metrics as nm  # noqa: E402
from harness import check, fashion  # noqa: E402

sys.path.insert(0, os.path.join(harness.REPO, "python"))
import prh.results  # noqa: E402

PRH, MPIEXEC = sys.argv[1:3]
ENV = harness.mpi_env(locking=False)
prh_run = harness.Prh(PRH, MPIEXEC, ENV)
N = {"id": 60, "noise": 40}
LAYERS = {"m1": 1, "m2": 2, "m3": 3, "m4": 4}
MODELS = list(LAYERS)
METRICS = ["mutual_knn:k=5", "cknna:k=5", "cka"]
CONFIGS = ["mutual_knn@k=5", "cknna@k=5", "cka@kernel=linear"]
SETS = f"""
  - name: id
    source: {fashion(N["id"])}
  - name: noise
    source: {{kind: noise, count: {N["noise"]}, height: 28, width: 28, channels: 1, seed: 3}}
"""


def write_features(tmp):
    """[N, L, D] per model and set: a shared latent in every layer, more noise with depth."""
    rng = np.random.default_rng(11)
    feats = {}
    os.makedirs(f"{tmp}/feats", exist_ok=True)
    for s, n in N.items():
        z = rng.standard_normal((n, 6))
        for m, L in LAYERS.items():
            x = np.stack([z @ rng.standard_normal((6, 10)) + (0.5 + l) * rng.standard_normal((n, 10))
                          for l in range(L)], axis=1).astype(np.float32)
            with h5py.File(f"{tmp}/feats/{m}_{s}.h5", "w") as f:
                f["feats"] = x
            feats[(m, s)] = x
    return feats


def write_config(tmp, name, store, extra):
    models = "".join(f"  - name: {m}\n    features:\n"
                     + "".join(f"      {s}: {tmp}/feats/{m}_{s}.h5:/feats\n" for s in N)
                     for m in MODELS)
    text = (f"store: {store}\nresults: {tmp}/{name}.results.h5\nshard_size: 16\nbatch_size: 8\n"
            f"bootstrap: 50\nmantel: 0\npreprocess: {{clamp: false}}\n"
            f"metrics: [{', '.join(METRICS)}]\n"
            f"calibration: {{permutations: 20, seed: 1, metrics: [mutual_knn:k=5, cka]}}\n"
            f"{extra}image_sets:{SETS}models:\n{models}")
    return harness.write_text(os.path.join(tmp, name + ".yaml"), text)


def reduce(cfg, ranks=1):
    r = prh_run.mpi(ranks, "reduce", cfg)
    check(r.returncode == 0, f"reduce {os.path.basename(cfg)} on {ranks} ranks: {r.stderr[-1500:]}")
    return r


def layer_at(f, L):
    """Independently of prh: the shallowest layer whose depth (l + 1) / L reaches f."""
    return next(l for l in range(L) if (l + 1) / L >= f - 1e-12)


def check_layers(path, feats):
    r = prh.results.load(path)
    check(list(r.model_layer_counts()) == [LAYERS[m] for m in MODELS],
          f"model_layer_counts {r.model_layer_counts()}")
    M, Lm = len(MODELS), max(LAYERS.values())
    for s in N:
        for c in CONFIGS:
            t = r.layer_matrices(s, c)
            if not check(t is not None and t.shape == (M, M, Lm, Lm) and t.dtype == np.float64,
                         f"/layers/{s}/{c}: shape {None if t is None else t.shape}"):
                continue
            sc = r.scores(s, c)
            for i, mi in enumerate(MODELS):
                for j, mj in enumerate(MODELS):
                    li, lj = LAYERS[mi], LAYERS[mj]
                    block = t[i, j]
                    check(np.isfinite(block[:li, :lj]).all(),
                          f"/layers/{s}/{c}[{i},{j}]: finite within the layers")
                    pad = np.ones((Lm, Lm), bool)
                    pad[:li, :lj] = False
                    check(np.isnan(block[pad]).all(), f"/layers/{s}/{c}[{i},{j}]: NaN padding")
                    check(block[li - 1, lj - 1] == sc[i, j],
                          f"/layers/{s}/{c}[{i},{j}] last layers {block[li - 1, lj - 1]!r} == "
                          f"scores {sc[i, j]!r}")
            # every layer pair of m2 x m4 (and m4 x m2) against numpy
            metric, p = c.split("@")
            key, val = p.split("=")
            params = {key: int(val)} if key == "k" else {}
            for (a, b) in ((1, 3), (3, 1)):
                fa, fb = feats[(MODELS[a], s)], feats[(MODELS[b], s)]
                for la in range(fa.shape[1]):
                    for lb in range(fb.shape[1]):
                        want = nm.score(nm.preprocess(fa[:, la], clamp=False),
                                        nm.preprocess(fb[:, lb], clamp=False), metric, **params)
                        got = t[a, b, la, lb]
                        check(abs(got - want) < 1e-6,
                              f"/layers/{s}/{c}[{a},{b},{la},{lb}] = {got} vs numpy {want}")
        # the profile
        p = r.layer_profile(s)
        if not check(p is not None, f"/layer_profile/{s} read"):
            continue
        G = Lm
        check(np.array_equal(p["depths"], (np.arange(G) + 1) / G), f"depths {p['depths']}")
        check(p["configurations"] == CONFIGS, f"profile configurations {p['configurations']}")
        for k, c in enumerate(CONFIGS):
            t = r.layer_matrices(s, c)
            for g in range(G):
                f = (g + 1) / G
                at = [layer_at(f, LAYERS[m]) for m in MODELS]
                vals = [t[i, j, at[i], at[j]] for i in range(M) for j in range(M) if i != j]
                vals = [v for v in vals if np.isfinite(v)]
                check(abs(p["mean"][g, k] - np.mean(vals)) < 1e-12,
                      f"profile {s} {c} g={g}: {p['mean'][g, k]} vs numpy {np.mean(vals)}")
                check(p["pairs"][g, k] == len(vals), f"profile pairs {s} {c} g={g}")
                check(p["mean_ci_low"][g, k] <= p["mean"][g, k] <= p["mean_ci_high"][g, k],
                      f"profile {s} {c} g={g}: the interval holds the mean")
        # relative to the reference set (the first: id) at the same depth
        ref = r.layer_profile("id")
        check(p["reference"] == "id", f"reference {p['reference']!r}")
        want = p["mean"] / ref["mean"]
        check(np.allclose(p["relative"], want, rtol=1e-12, atol=0),
              f"relative {s}: {p['relative']} vs mean / reference mean {want}")
        check(bool(np.all((p["relative_ci_low"] <= p["relative"] + 1e-12)
                          & (p["relative"] <= p["relative_ci_high"] + 1e-12))),
              f"relative {s}: the interval holds it")
        # the early-minus-late contrast: the first grid point's mean minus the last's,
        # minus the reference's; interval and p from the same resamples (docs/results.md)
        el, ch = p["early_late"], p["early_late_change"]
        if check(el is not None and ch is not None and el.shape == (len(CONFIGS),),
                 f"early_late {s}: [K]"):
            check(np.allclose(el, p["mean"][0] - p["mean"][G - 1], rtol=0, atol=1e-12),
                  f"early_late {s}: {el} vs mean first - last {p['mean'][0] - p['mean'][G - 1]}")
            check(np.allclose(ch, el - ref["early_late"], rtol=0, atol=1e-12),
                  f"early_late_change {s}: {ch} vs early_late - reference's")
            conf = p["confidence"]
            for name, v in (("early_late", el), ("early_late_change", ch)):
                lo, hi, pv = p[name + "_ci_low"], p[name + "_ci_high"], p[name + "_p"]
                check(bool(np.all((lo <= v + 1e-12) & (v <= hi + 1e-12))),
                      f"{name} {s}: the interval holds it: {lo} {v} {hi}")
                check(bool(np.all((pv >= 0) & (pv <= 1))), f"{name} {s}: p in [0, 1]: {pv}")
                check(np.array_equal((lo > 0) | (hi < 0), pv < 1 - conf),
                      f"{name} {s}: the interval excludes 0 exactly when p < 1 - confidence: "
                      f"{lo} {hi} {pv}")
            if s == "id":
                check(np.all(ch == 0) and np.all(p["early_late_change_p"] == 1),
                      f"early_late_change of the reference: 0, p 1: {ch}")
        # depth 1 = the last layers = the headline with last_layer_only
        with h5py.File(path, "r") as h:
            cs = h[f"correlation/{s}"]
            for name in ("mean", "mean_ci_low", "mean_ci_high"):
                check(np.array_equal(p[name][G - 1], cs[name][()]),
                      f"/layer_profile/{s}/{name} at depth 1 == /correlation/{s}/{name}: "
                      f"{p[name][G - 1]} vs {cs[name][()]}")


def datasets(path):
    return harness.read_h5(path)


def main(tmp):
    feats = write_features(tmp)
    store = f"{tmp}/store.h5"
    base = write_config(tmp, "base", store, "last_layer_only: true\n")
    r = prh_run.mpi(2, "embed", base)
    check(r.returncode == 0, f"embed: {r.stderr[-1500:]}")
    reduce(base)
    prof = write_config(tmp, "prof", store, "last_layer_only: true\nlayer_profile: true\n")
    reduce(prof)

    # 1. the headline is unchanged, bit for bit
    a, b = datasets(f"{tmp}/base.results.h5"), datasets(f"{tmp}/prof.results.h5")
    check(not any(k.startswith("layers") or k.startswith("layer_profile") for k in a),
          "without layer_profile: no /layers, no /layer_profile")
    for k, v in a.items():
        same = k in b and v.shape == b[k].shape and v.tobytes() == b[k].tobytes()
        check(same, f"{k}: identical with and without layer_profile")
    check(any(k.startswith("layers/") for k in b) and "layer_profile/depths" in b,
          "with layer_profile: /layers and /layer_profile written")

    # 2. /layers and /layer_profile against numpy, through the Python reader
    check_layers(f"{tmp}/prof.results.h5", feats)

    # 3. 2 ranks: the same
    prof2 = write_config(tmp, "prof2", store, "last_layer_only: true\nlayer_profile: true\n")
    reduce(prof2, ranks=2)
    c = datasets(f"{tmp}/prof2.results.h5")
    for k, v in b.items():
        if k.startswith("layers") or k.startswith("layer_profile"):
            check(k in c and v.tobytes() == c[k].tobytes(), f"{k}: 1 and 2 ranks identical")

    # 4. last_layer_only: false, the profile on by default: the maximum
    full = write_config(tmp, "full", store, "")
    reduce(full, ranks=2)
    rf = prh.results.load(f"{tmp}/full.results.h5")
    rp = prh.results.load(f"{tmp}/prof.results.h5")
    for s in N:
        for cn in CONFIGS:
            t = rf.layer_matrices(s, cn)
            check(t is not None and np.array_equal(t, rp.layer_matrices(s, cn), equal_nan=True),
                  f"/layers/{s}/{cn}: the same with last_layer_only false")
            if t is not None:
                mx = np.nanmax(t.reshape(len(MODELS), len(MODELS), -1), axis=2)
                check(np.array_equal(rf.scores(s, cn), mx),
                      f"{s} {cn}: scores = the maximum over the layer pairs")
    off = write_config(tmp, "off", store, "layer_profile: false\n")
    reduce(off)
    check(prh.results.load(f"{tmp}/off.results.h5").layer_matrices("id", CONFIGS[0]) is None,
          "layer_profile: false with every layer: no /layers")

    # 5. the report draws it
    rep = subprocess.run([PRH, "report", f"{tmp}/prof.results.h5", "--out", f"{tmp}/report"],
                         capture_output=True, text=True, env=ENV)
    check(rep.returncode == 0, f"report: {rep.stderr[-1500:]}")
    check(os.path.exists(f"{tmp}/report/figures/layer_profile.svg"), "report: layer_profile.svg")
    html = open(f"{tmp}/report/index.html", encoding="utf-8").read() if rep.returncode == 0 else ""
    check("Alignment by relative depth" in html, "report: the layer-profile section")

    # 6. export: layers.csv, long format, = /layers without the padding, and prh.tables
    out = f"{tmp}/export"
    ex = subprocess.run([PRH, "export", f"{tmp}/prof.results.h5", "--format", "csv", "--out", out],
                        capture_output=True, text=True, env=ENV)
    check(ex.returncode == 0, f"export: {ex.stderr[-1500:]}")
    rows = open(f"{out}/layers.csv", encoding="utf-8").read().splitlines() if ex.returncode == 0 else []
    cols = prh.results.SCHEMA["tables"]["layers"]
    check(bool(rows) and rows[0].split(",") == cols, f"layers.csv header {rows[:1]} vs {cols}")
    rp = prh.results.load(f"{tmp}/prof.results.h5")
    want = []
    for s in rp.sets:
        for cn in rp.configurations_of(s):
            t = rp.layer_matrices(s, cn)
            for i, a in enumerate(MODELS):
                for j, b in enumerate(MODELS):
                    for la in range(LAYERS[a]):
                        for lb in range(LAYERS[b]):
                            want.append((s, cn, a, b, i, j, la, lb, t[i, j, la, lb]))
    got = [x.split(",") for x in rows[1:]]
    check(len(got) == len(want), f"layers.csv: {len(got)} rows, /layers has {len(want)} (no padding)")
    ok = len(got) == len(want)
    for g, w in zip(got, want):
        same = (g[:4] == list(w[:4]) and [int(x) for x in g[4:8]] == list(w[4:8])
                and (float(g[8]) == w[8] if g[8] else np.isnan(w[8])))
        if not same:
            ok = False
            check(False, f"layers.csv row {g} vs /layers {w}")
            break
    check(ok, "layers.csv equals /layers (exact doubles), in order")
    df = rp.layers_table()
    check(df is not None and list(df.columns) == cols and len(df) == len(want)
          and np.array_equal(df["score"].to_numpy(), np.array([w[8] for w in want]), equal_nan=True)
          and list(df["layer_b"][:3]) == [w[7] for w in want[:3]],
          "prh.tables.layers_table: the rows of layers.csv")
    ex = subprocess.run([PRH, "export", f"{tmp}/base.results.h5", "--format", "csv", "--out",
                         f"{tmp}/export_base"], capture_output=True, text=True, env=ENV)
    check(ex.returncode == 0 and not os.path.exists(f"{tmp}/export_base/layers.csv")
          and prh.results.load(f"{tmp}/base.results.h5").layers_table() is None,
          "without /layers: no layers.csv, layers_table() None")

    # 7. a bad value
    bad = write_config(tmp, "bad", store, "layer_profile: 3\n")
    prh_run.expect_error(["reduce", bad], ["layer_profile"], "layer_profile: 3")


harness.run_test("layers", main)
