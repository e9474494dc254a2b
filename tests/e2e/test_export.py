#!/usr/bin/python3
"""End-to-end test of `prh export` and tools/prh_results.py on results files
written here with h5py exactly as docs/results.md describes.

usage: test_export.py PATH/TO/prh

- 3 models (one name with quotes), 3 configurations (one with a comma, one
  asymmetric), two image sets given in config order (not name order), one NaN
  score, correlations with and without bootstrap intervals, predictions for
  one set, a comparison between the sets;
- CSV and JSON tables are read back with the csv/json modules (exact values,
  RFC 4180 quoting, NaN as an empty field / null) and with pandas when it is
  installed, and checked value by value against what was written;
- an incomplete file (variable-length strings, unfinished pairs) exports with
  a warning, unfinished pairs as NaN / -1;
- prh_results.load() and its tables agree with h5py and the export;
- bad inputs: exit code 2 and a message naming the file.
"""
import csv
import json
import math
import os
import shutil
import subprocess
import sys

import h5py
import numpy as np

import harness  # noqa: E402
from harness import check  # noqa: E402

TOOLS = os.path.join(harness.REPO, "tools")
from prh import results as prh_results  # noqa: E402  (PYTHONPATH: python/, set by CTest)

try:
    import pandas as pd
except ImportError:  # the csv/json checks still run
    pd = None

run = harness.Prh(sys.argv[1])

MODELS = ["resnet", 'vit "b/16"', "clip"]
CONFIGS = [  # name, metric, params, symmetric
    ("mutual_knn@k=10", "mutual_knn", {"k": 10}, True),
    ("cka@kernel=rbf,sigma=0.5", "cka", {"kernel": "rbf", "sigma": 0.5}, True),
    ("cycle_knn@k=10", "cycle_knn", {"k": 10}, False),
]
SETS = ["uniform", "id"]  # config order; HDF5 lists them in name order
METHODS = ["spearman", "pearson"]

COLUMNS = {
    "alignment": ["set", "configuration", "metric", "model_a", "model_b", "i", "j", "self", "score",
                  "score_ba", "layer_a", "layer_b", "layer_a_ba", "layer_b_ba"],
    "correlations": ["set", "method", "config_a", "config_b", "r", "p", "n", "ci_low", "ci_high",
                     "mantel_p", "null_mean", "null_q95", "null_p"],
    "accuracy_correlation": ["set", "method", "configuration", "r", "p", "n"],
    "predictions": ["set", "model", "accuracy", "mean_prob", "mean_prob_wrong"],
    "agreement": ["set", "model_a", "model_b", "agreement", "both_wrong", "agreement_both_wrong"],
    "comparison": ["set_a", "set_b", "method", "config_a", "config_b", "r_a", "r_b", "diff", "ci_low",
                   "ci_high", "p"],
}
TABLES = list(COLUMNS)


def same(a, b):
    """Equal, NaN equal to NaN/None, exact for numbers."""
    na = a is None or (isinstance(a, float) and math.isnan(a))
    nb = b is None or (isinstance(b, float) and math.isnan(b))
    if na or nb:
        return na and nb
    if isinstance(a, (bool, np.bool_)) or isinstance(b, (bool, np.bool_)):
        return bool(a) == bool(b) and type(a) in (bool, np.bool_) and type(b) in (bool, np.bool_)
    return a == b


def close(a, b):
    """Like same(), but floats to 1e-12 relative (pandas' default float parsers)."""
    if isinstance(a, float) and isinstance(b, float) and math.isfinite(a) and math.isfinite(b):
        return abs(a - b) <= 1e-12 * max(abs(a), abs(b))
    return same(a, b)


# --- Ground truth and the file written from it ------------------------------------

def sym(rng, k, diag=None):
    a = rng.random((k, k))
    a = (a + a.T) / 2
    if diag is not None:
        np.fill_diagonal(a, diag)
    return a


def make_truth(seed, sets, configs, with_predictions=("id",), ci_sets=("id",), comparisons=None):
    rng = np.random.default_rng(seed)
    m, k = len(MODELS), len(configs)
    t = {"sets": sets, "configs": configs, "set_attrs": {}, "alignment": {}, "correlation": {},
         "predictions": {}, "comparison": {}}
    for si, s in enumerate(sets):
        t["set_attrs"][s] = {"n": 100 + si, "skipped": si, "models_present": np.ones(m, np.uint8)}
        t["alignment"][s] = {}
        for name, _, _, symmetric in configs:
            S = rng.random((m, m)) if not symmetric else sym(rng, m)
            L = rng.integers(0, 5, (m, m, 2)).astype(np.int32)
            if symmetric:
                for i in range(m):
                    for j in range(m):
                        L[j, i] = L[i, j][::-1]
            t["alignment"][s][name] = {"scores": S, "layers": L,
                                       "done": np.ones(m * (m + 1) // 2, np.uint8)}
        corr = {"bootstrap": 200 if s in ci_sets else 0, "mean_alignment": rng.random((k, m)),
                "methods": {}}
        for meth in METHODS:
            d = {"r": sym(rng, k, 1.0), "p": sym(rng, k, 0.0),
                 "n": np.full((k, k), m * (m - 1) // 2, np.int64),
                 "accuracy_r": rng.random(k), "accuracy_p": rng.random(k),
                 "accuracy_n": np.array([m] * k, np.int64)}
            if s in ci_sets:
                d["ci_low"] = d["r"] - 0.1
                d["ci_high"] = d["r"] + 0.1
                d["ci_low"][0, 1] = d["ci_low"][1, 0] = np.nan  # too few resamples
                d["mantel_p"] = sym(rng, k, 0.001)
            corr["methods"][meth] = d
        t["correlation"][s] = corr
        if s in with_predictions:
            agree = sym(rng, m, 1.0)
            both = rng.integers(0, 20, (m, m)).astype(np.int64)
            both = np.triu(both) + np.triu(both, 1).T
            both[0, 1] = both[1, 0] = 0
            abw = sym(rng, m)
            abw[0, 1] = abw[1, 0] = np.nan  # both_wrong = 0
            t["predictions"][s] = {"labelled": 90, "n": 100 + si,
                                   "accuracy": np.array([0.75, 0.5, np.nan]),  # clip: no head
                                   "mean_prob": np.array([rng.random(), rng.random(), np.nan]),
                                   "mean_prob_wrong": np.array([rng.random(), rng.random(), np.nan]),
                                   "agreement": agree, "both_wrong": both, "agreement_both_wrong": abw}
    for s1, s2 in comparisons or []:
        t["comparison"][(s1, s2)] = {
            meth: {"diff": t["correlation"][s1]["methods"][meth]["r"] - t["correlation"][s2]["methods"][meth]["r"],
                   "ci_low": sym(rng, k), "ci_high": sym(rng, k), "pvalue": sym(rng, k)}
            for meth in METHODS}
    return t


def string_dataset(parent, name, values, variable):
    if variable:
        parent.create_dataset(name, data=values, dtype=h5py.string_dtype("utf-8"))
    else:
        # Fixed-length UTF-8 (what prh writes): raw bytes written with the file type.
        raw = np.array([v.encode() for v in values])
        ds = parent.create_dataset(name, (len(values),), dtype=h5py.string_dtype("utf-8", raw.itemsize))
        ds.id.write(h5py.h5s.ALL, h5py.h5s.ALL, raw, mtype=ds.id.get_type())


def write_results(path, t, complete=1, variable_strings=False, fixed_format_attr=False):
    m = len(MODELS)
    config = {"store": "store.h5", "results": path,
              "image_sets": [{"name": s, "source": {"kind": "noise", "count": 100}} for s in t["sets"]],
              "models": [{"name": n, "path": n + ".pt"} for n in MODELS],
              "metrics": [c[0] for c in t["configs"]]}
    with h5py.File(path, "w") as f:
        if fixed_format_attr:
            f.attrs["format"] = np.bytes_(b"prh-results-1")
            f.attrs["device"] = np.bytes_(b"cuda,cpu")  # the other files predate it
        else:
            f.attrs["format"] = "prh-results-1"
        f.attrs["prh_version"] = "0.1.0"
        f.attrs["config_file"] = "sweep.yaml"
        f.attrs["config"] = json.dumps(config)
        f.attrs["identity"] = json.dumps({"sets": t["sets"], "models": MODELS})
        f.attrs["config_hash"] = "0123456789abcdef"
        f.attrs["store"] = "store.h5"
        f.attrs["complete"] = np.int64(complete)
        string_dataset(f, "models", MODELS, variable_strings)
        f["models"].attrs["layer_counts"] = np.array([5, 5, 4], np.int64)
        f["models"].attrs["classes"] = np.array([10, 10, 0], np.int64)
        string_dataset(f, "configurations", [c[0] for c in t["configs"]], variable_strings)
        for s in t["sets"]:
            g = f.create_group(f"alignment/{s}")
            for key, v in t["set_attrs"][s].items():
                g.attrs[key] = v if isinstance(v, np.ndarray) else np.int64(v)
            for name, metric, params, symmetric in t["configs"]:
                c = g.create_group(name)
                c.attrs["metric"] = metric
                for pk, pv in params.items():
                    c.attrs[pk] = pv if isinstance(pv, str) else (np.float64(pv) if isinstance(pv, float) else np.int64(pv))
                c.attrs["params"] = json.dumps(params)
                c.attrs["symmetric"] = np.int64(symmetric)
                c.attrs["preprocess"] = json.dumps({"clamp": True, "q": 0.95, "exact": False, "normalize": True})
                c.attrs["last_layer_only"] = np.int64(0)
                a = t["alignment"][s][name]
                c["scores"] = a["scores"]
                c["layers"] = a["layers"]
                c["done"] = a["done"]
            corr = t["correlation"][s]
            g = f.create_group(f"correlation/{s}")
            g.attrs["configurations"] = json.dumps([c[0] for c in t["configs"]])
            g.attrs["methods"] = json.dumps(METHODS)
            g.attrs["pairs"] = np.int64(m * (m - 1) // 2)
            g.attrs["bootstrap"] = np.int64(corr["bootstrap"])
            g.attrs["confidence"] = 0.95
            g.attrs["seed"] = np.int64(7)
            g.attrs["resampling"] = "models"
            g.attrs["vector"] = "upper triangle, i < j"
            g["mean_alignment"] = corr["mean_alignment"]
            for meth, d in corr["methods"].items():
                g[meth] = d["r"]
                g[meth + "_pvalue"] = d["p"]
                g[meth + "_n"] = d["n"]
                if "ci_low" in d:
                    g[meth + "_ci_low"] = d["ci_low"]
                    g[meth + "_ci_high"] = d["ci_high"]
                if "mantel_p" in d:
                    g[meth + "_mantel_p"] = d["mantel_p"]
                g["accuracy_" + meth] = d["accuracy_r"]
                g[f"accuracy_{meth}_pvalue"] = d["accuracy_p"]
                g[f"accuracy_{meth}_n"] = d["accuracy_n"]
            if s in t["predictions"]:
                p = t["predictions"][s]
                g = f.create_group(f"predictions/{s}")
                g.attrs["labelled"] = np.int64(p["labelled"])
                g.attrs["n"] = np.int64(p["n"])
                for key in ("accuracy", "mean_prob", "mean_prob_wrong", "agreement", "both_wrong",
                            "agreement_both_wrong"):
                    g[key] = p[key]
        for (s1, s2), methods in t["comparison"].items():
            g = f.create_group(f"comparison/{s1}/{s2}")
            g.attrs["sets"] = json.dumps([s1, s2])
            g.attrs["methods"] = json.dumps(METHODS)
            g.attrs["bootstrap"] = np.int64(200)
            g.attrs["confidence"] = 0.95
            g.attrs["seed"] = np.int64(7)
            g.attrs["test"] = "paired bootstrap over models"
            for meth, d in methods.items():
                g[meth + "_diff"] = d["diff"]
                g[meth + "_diff_ci_low"] = d["ci_low"]
                g[meth + "_diff_ci_high"] = d["ci_high"]
                g[meth + "_diff_pvalue"] = d["pvalue"]


# --- Expected tables, straight from the ground truth --------------------------------

def f(x):
    return float(x)


def expected_tables(t):
    m = len(MODELS)
    names = [c[0] for c in t["configs"]]
    k = len(names)
    out = {name: [] for name in TABLES}
    for s in t["sets"]:
        for name, metric, _, _ in t["configs"]:
            a = t["alignment"][s][name]
            S, L, done = a["scores"], a["layers"], a["done"]
            p = 0
            for i in range(m):
                for j in range(i, m):
                    ok = bool(done[p])
                    p += 1
                    nan = float("nan")
                    out["alignment"].append([
                        s, name, metric, MODELS[i], MODELS[j], i, j, i == j,
                        f(S[i, j]) if ok else nan, f(S[j, i]) if ok else nan,
                        int(L[i, j, 0]) if ok else -1, int(L[i, j, 1]) if ok else -1,
                        int(L[j, i, 1]) if ok else -1, int(L[j, i, 0]) if ok else -1])
        corr = t["correlation"][s]
        for meth, d in corr["methods"].items():
            for a in range(k):
                for b in range(a + 1, k):
                    out["correlations"].append([
                        s, meth, names[a], names[b], f(d["r"][a, b]), f(d["p"][a, b]), int(d["n"][a, b]),
                        f(d["ci_low"][a, b]) if "ci_low" in d else float("nan"),
                        f(d["ci_high"][a, b]) if "ci_high" in d else float("nan"),
                        f(d["mantel_p"][a, b]) if "mantel_p" in d else float("nan"),
                        float("nan"), float("nan"), float("nan")])
        for meth, d in corr["methods"].items():
            for c in range(k):
                out["accuracy_correlation"].append([s, meth, names[c], f(d["accuracy_r"][c]),
                                                    f(d["accuracy_p"][c]), int(d["accuracy_n"][c])])
        if s in t["predictions"]:
            p = t["predictions"][s]
            for i in range(m):
                out["predictions"].append([s, MODELS[i], f(p["accuracy"][i]), f(p["mean_prob"][i]),
                                           f(p["mean_prob_wrong"][i])])
            for i in range(m):
                for j in range(i + 1, m):
                    out["agreement"].append([s, MODELS[i], MODELS[j], f(p["agreement"][i, j]),
                                             int(p["both_wrong"][i, j]), f(p["agreement_both_wrong"][i, j])])
    for (s1, s2), methods in t["comparison"].items():
        for meth, d in methods.items():
            ra, rb = t["correlation"][s1]["methods"][meth]["r"], t["correlation"][s2]["methods"][meth]["r"]
            for a in range(k):
                for b in range(a + 1, k):
                    out["comparison"].append([s1, s2, meth, names[a], names[b], f(ra[a, b]), f(rb[a, b]),
                                              f(d["diff"][a, b]), f(d["ci_low"][a, b]), f(d["ci_high"][a, b]),
                                              f(d["pvalue"][a, b])])
    return out


# --- Reading the export back ----------------------------------------------------------

def csv_text(v):
    """What a CSV field of the expected value must read as (csv module)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and math.isnan(v):
        return ""
    return v


def parse_csv_field(text, want):
    if isinstance(want, bool) or isinstance(want, str):
        return text
    if text == "":
        return float("nan")
    return int(text) if isinstance(want, int) else float(text)


def check_csv(path, table, want):
    with open(path, newline="") as fh:
        rows = list(csv.reader(fh))
    check(rows and rows[0] == COLUMNS[table], f"{table}.csv header: {rows[0] if rows else None}")
    body = rows[1:]
    check(len(body) == len(want), f"{table}.csv: {len(body)} rows, want {len(want)}")
    for r, (got, exp) in enumerate(zip(body, want)):
        for c, (g, e) in enumerate(zip(got, exp)):
            ok = (g == csv_text(e)) if isinstance(e, (bool, str)) else same(parse_csv_field(g, e), e)
            if not ok:
                check(False, f"{table}.csv row {r} column {COLUMNS[table][c]}: {g!r}, want {e!r}")
                return
    if pd is not None:
        # pandas' default float parsers are fast, not exact; the exact ones round-trip.
        check_frame(pd.read_csv(path), table, want, f"pandas {table}.csv", close)
        check_frame(pd.read_csv(path, float_precision="round_trip"), table, want,
                    f"pandas {table}.csv (round_trip)", same)


def check_json(path, table, want):
    with open(path) as fh:
        records = json.load(fh)
    check(isinstance(records, list) and len(records) == len(want),
          f"{table}.json: {len(records)} records, want {len(want)}")
    for r, (rec, exp) in enumerate(zip(records, want)):
        if list(rec) != COLUMNS[table]:
            check(False, f"{table}.json record {r} keys {list(rec)}")
            return
        for col, e in zip(COLUMNS[table], exp):
            g = rec[col]
            nan_e = isinstance(e, float) and math.isnan(e)
            ok = (g is None) if nan_e else (same(g, e) and type(g) is type(e))
            if not ok:
                check(False, f"{table}.json record {r} {col}: {g!r}, want {e!r}")
                return
    if pd is not None and want:
        check_frame(pd.read_json(path, orient="records"), table, want, f"pandas {table}.json", close)
        check_frame(pd.read_json(path, orient="records", precise_float=True), table, want,
                    f"pandas {table}.json (precise_float)", same)


def check_frame(df, table, want, what, eq):
    check(list(df.columns) == COLUMNS[table], f"{what}: columns {list(df.columns)}")
    check(len(df) == len(want), f"{what}: {len(df)} rows, want {len(want)}")
    if list(df.columns) != COLUMNS[table] or len(df) != len(want):
        return
    if "self" in df.columns:
        check(df["self"].dtype == bool, f"{what}: self is {df['self'].dtype}, want bool")
    for c, col in enumerate(COLUMNS[table]):
        vals = df[col].tolist()
        for r, row in enumerate(want):
            g, e = vals[r], row[c]
            if isinstance(g, np.generic):
                g = g.item()
            if isinstance(e, int) and not isinstance(e, bool) and isinstance(g, float) and g.is_integer():
                g = int(g)
            if not eq(g, e):
                check(False, f"{what} row {r} column {col}: {g!r}, want {e!r}")
                return


def export(results, fmt, out):
    return run("export", results, "--format", fmt, "--out", out)


def check_export(results, out, want, t, complete):
    for fmt in ("csv", "json"):
        d = os.path.join(out, fmt)
        r = export(results, fmt, os.path.join(d, "nested"))
        check(r.returncode == 0, f"export {fmt}: exit {r.returncode}: {r.stderr[-1500:]}")
        if r.returncode != 0:
            continue
        d = os.path.join(d, "nested")
        paths = r.stdout.split()
        want_paths = [os.path.join(d, f"{n}.{fmt}") for n in TABLES] + [os.path.join(d, "meta.json")]
        check(paths == want_paths, f"export {fmt} prints the written paths: {paths}")
        warned = "incomplete" in r.stderr and results in r.stderr
        check(warned == (not complete), f"export {fmt}: warning iff incomplete: {r.stderr!r}")
        for table in TABLES:
            path = os.path.join(d, f"{table}.{fmt}")
            check(os.path.exists(path), f"{path} written")
            if os.path.exists(path):
                (check_csv if fmt == "csv" else check_json)(path, table, want[table])
        with open(os.path.join(d, "meta.json")) as fh:
            meta = json.load(fh)
        check(meta.get("results") == results and meta.get("format") == "prh-results-1"
              and meta.get("prh_version") == "0.1.0" and meta.get("config_hash") == "0123456789abcdef"
              and meta.get("models") == MODELS and meta.get("configurations") == [c[0] for c in t["configs"]]
              and meta.get("sets") == t["sets"] and meta.get("complete") is bool(complete),
              f"meta.json: {meta}")
        if fmt == "csv":
            with open(os.path.join(d, "alignment.csv")) as fh:
                text = fh.read()
            if any(c[0] == "cka@kernel=rbf,sigma=0.5" for c in t["configs"]):
                check('"cka@kernel=rbf,sigma=0.5"' in text, "configuration with a comma quoted")
            check('"vit ""b/16"""' in text, "model name with quotes quoted, quotes doubled")


# --- prh_results.py -------------------------------------------------------------------

def check_module(path, t, want):
    r = prh_results.load(path)
    names = [c[0] for c in t["configs"]]
    check(r.models == MODELS, f"prh_results models {r.models}")
    check(r.configurations == names, f"prh_results configurations {r.configurations}")
    check(r.sets == t["sets"], f"prh_results sets in config order: {r.sets}")
    check(r.config.get("image_sets", [{}])[0].get("name") == t["sets"][0], "prh_results config dict")
    with h5py.File(path, "r") as h:
        stored = h.attrs.get("device")
        want_device = "cpu" if stored is None else (stored.decode() if isinstance(stored, bytes)
                                                    else str(stored))
        check(r.device == want_device,
              f"prh_results device {r.device!r} (stored {stored!r}; 'cpu' when absent)")
        for s in t["sets"]:
            for name in names:
                g = h[f"alignment/{s}/{name}"]
                done = g["done"][()]
                ok = np.zeros((len(MODELS),) * 2, bool)
                ok[np.triu_indices(len(MODELS))] = done != 0
                ok |= ok.T
                S = np.where(ok, g["scores"][()], np.nan)
                L = np.where(ok[..., None], g["layers"][()], -1)
                check(np.array_equal(r.scores(s, name), S, equal_nan=True), f"scores({s}, {name})")
                check(np.array_equal(r.layers(s, name), L), f"layers({s}, {name})")
            for meth in METHODS:
                c = r.correlation(s, meth)
                g = h[f"correlation/{s}"]
                check(c["configurations"] == names, "correlation configurations")
                check(np.array_equal(c["r"], g[meth][()], equal_nan=True), f"correlation({s}, {meth}).r")
                check(np.array_equal(c["p"], g[meth + "_pvalue"][()], equal_nan=True), "correlation p")
                check(np.array_equal(c["n"], g[meth + "_n"][()]), "correlation n")
                if meth + "_ci_low" in g:
                    check(c["ci_low"] is not None and np.array_equal(c["ci_low"], g[meth + "_ci_low"][()], equal_nan=True)
                          and np.array_equal(c["ci_high"], g[meth + "_ci_high"][()], equal_nan=True),
                          f"correlation({s}, {meth}) CI")
                else:
                    check(c["ci_low"] is None and c["ci_high"] is None, f"correlation({s}) without CI: None")
            if f"predictions/{s}" in h:
                p = r.predictions(s)
                for key in ("accuracy", "mean_prob", "mean_prob_wrong", "agreement", "both_wrong",
                            "agreement_both_wrong"):
                    check(np.array_equal(p[key], h[f"predictions/{s}/{key}"][()], equal_nan=True),
                          f"predictions({s})[{key}]")
            else:
                try:
                    r.predictions(s)
                    check(False, f"predictions({s}) of a set without them raises KeyError")
                except KeyError:
                    pass
    if pd is None:
        print("pandas not installed: prh_results tables not checked", flush=True)
        return
    for table, method in (("alignment", r.alignment_table), ("correlations", r.correlation_table),
                          ("accuracy_correlation", r.accuracy_correlation_table),
                          ("predictions", r.predictions_table), ("agreement", r.agreement_table),
                          ("comparison", r.comparison_table)):
        df = method()
        check_frame(df, table, want[table], f"prh_results.{method.__name__}()", same)
        if table == "alignment":
            check(str(df["i"].dtype) == "int64" and str(df["layer_a"].dtype) == "int64",
                  f"alignment table int columns: {df.dtypes.to_dict()}")


def main(tmp):

    # 1. A complete file.
    t = make_truth(1, SETS, CONFIGS, comparisons=[("uniform", "id")])
    S = t["alignment"]["uniform"]["cka@kernel=rbf,sigma=0.5"]
    S["scores"][0, 2] = S["scores"][2, 0] = np.nan  # undefined
    S["layers"][0, 2] = S["layers"][2, 0] = -1
    results = os.path.join(tmp, "results.h5")
    write_results(results, t)
    want = expected_tables(t)
    check(want["alignment"][0][0] == "uniform", "sets in config order, not name order")
    check(any(isinstance(row[8], float) and math.isnan(row[8]) for row in want["alignment"]),
          "the fixture has a NaN score")
    check_export(results, os.path.join(tmp, "out"), want, t, complete=True)
    check_module(results, t, want)
    r = subprocess.run([sys.executable, os.path.join(TOOLS, "prh_results.py"), results],
                       capture_output=True, text=True)
    check(r.returncode == 0 and "image set uniform" in r.stdout and "accuracy: resnet 0.7500" in r.stdout
          and "mean agreement" in r.stdout and "mean top-1 probability" in r.stdout,
          f"prh_results.py summary: {r.returncode} {r.stdout} {r.stderr}")

    # 2. An incomplete file: variable-length strings, a fixed-length format
    #    attribute, one unfinished pair, no predictions or comparisons.
    configs2 = [CONFIGS[0], ("cknna@k=10", "cknna", {"k": 10}, True)]
    t2 = make_truth(2, ["id"], configs2, with_predictions=())
    t2["alignment"]["id"]["mutual_knn@k=10"]["done"][1] = 0  # pair (0, 1)
    partial = os.path.join(tmp, "partial.h5")
    write_results(partial, t2, complete=0, variable_strings=True, fixed_format_attr=True)
    want2 = expected_tables(t2)
    check(any(row[5] == 0 and row[6] == 1 and math.isnan(row[8]) for row in want2["alignment"]),
          "the unfinished pair is expected as NaN")
    check_export(partial, os.path.join(tmp, "out2"), want2, t2, complete=False)
    check_module(partial, t2, want2)
    r = subprocess.run([sys.executable, os.path.join(TOOLS, "prh_results.py"), partial],
                       capture_output=True, text=True)
    check(r.returncode == 0 and "INCOMPLETE" in r.stdout
          and "spearman(mutual_knn@k=10, cknna@k=10) = " in r.stdout and "] (p = " in r.stdout,
          f"prh_results.py summary with the knn correlation and its CI: {r.stdout} {r.stderr}")

    # 3. Bad inputs: exit code 2, a message naming the file, nothing on stdout.
    def bad(args, needles, what):
        run.expect_error(args, needles, what, stdout_empty=True)

    out = os.path.join(tmp, "bad-out")
    missing = os.path.join(tmp, "nope", "results.h5")
    bad(["export", missing, "--out", out], [missing], "missing file")
    plain = os.path.join(tmp, "plain.h5")
    with h5py.File(plain, "w") as h:
        h["x"] = np.zeros(3)
    bad(["export", plain, "--out", out], [plain, "not a prh results file"], "HDF5 file without format")
    store = os.path.join(tmp, "store.h5")
    with h5py.File(store, "w") as h:
        h.attrs["format"] = "prh-store-1"
    bad(["export", store, "--out", out], [store, "not a prh results file", "prh-store-1"],
        "another prh file")
    text = os.path.join(tmp, "text.h5")
    with open(text, "w") as fh:
        fh.write("not hdf5\n")
    bad(["export", text, "--out", out], [text], "not an HDF5 file")
    broken = os.path.join(tmp, "broken.h5")
    shutil.copy(results, broken)
    with h5py.File(broken, "a") as h:
        del h["alignment/id/mutual_knn@k=10/scores"]
        h["alignment/id/mutual_knn@k=10/scores"] = np.zeros((3, 2))
    bad(["export", broken, "--out", out], [broken, "alignment/id/mutual_knn@k=10/scores", "shape"],
        "a dataset of the wrong shape")
    bad(["export", results, "--format", "xml", "--out", out], ["xml"], "--format xml")
    bad(["export", results], ["--out"], "no --out")
    check(not os.path.exists(out), "nothing written on bad input")
    try:
        prh_results.load(plain)
        check(False, "prh_results.load of a non-prh file raises")
    except ValueError as e:
        check("not a prh results file" in str(e), f"prh_results.load error: {e}")


if __name__ == "__main__":
    harness.run_test("export", main)
