#!/usr/bin/python3
"""py.package: the Python package prh (python/prh, docs/python.md) as CTest
puts it on PYTHONPATH (or as installed).

usage: test_package.py PACKAGE_DIR      (the folder that holds prh/)

- every module of the package imports with this interpreter, from PACKAGE_DIR;
- the public API of prh.results that the report, the summaries and the tables
  use exists, and they use nothing else of a Results (no attribute starting
  with `_`: a static check of their source);
- the reader on a tiny results file written here with h5py (docs/results.md):
  names, set order, masked pairs (done = 0: NaN, layers -1), the has_*/info
  methods, correlations, predictions, calibrations, what is missing, the
  tables (with pandas), the summaries; a file that is not a results file is a
  ValueError naming it.
"""
import importlib
import io
import json
import os
import re
import sys
import tempfile

import h5py
import numpy as np

PKG = os.path.realpath(sys.argv[1]) if len(sys.argv) > 1 else None
failures = []


def check(cond, what):
    if not cond:
        print("FAIL: " + what, flush=True)
        failures.append(what)
    return cond


def modules(root):
    """Every module of the package under root/prh, as dotted names."""
    out = []
    for d, _, files in os.walk(os.path.join(root, "prh")):
        if "__pycache__" in d:
            continue
        for f in sorted(files):
            if f.endswith(".py"):
                rel = os.path.relpath(os.path.join(d, f), root)[:-3].replace(os.sep, ".")
                out.append(rel[:-len(".__init__")] if rel.endswith(".__init__") else rel)
    return sorted(out)


def test_imports():
    import prh
    where = os.path.realpath(os.path.dirname(prh.__file__))
    check(PKG is None or where == os.path.join(PKG, "prh"), f"prh imported from {where}, want {PKG}/prh")
    names = modules(os.path.dirname(where))
    want = {"prh", "prh.results", "prh.tables", "prh.summary", "prh.permutations", "prh.report",
            "prh.report.cli", "prh.report.context", "prh.report.stats", "prh.report.figures",
            "prh.report.captions", "prh.report.page", "prh.report.sections", "prh.report.format"}
    check(want <= set(names), f"the package's modules: {names}")
    for name in names:
        try:
            importlib.import_module(name)
        except Exception as e:  # noqa: BLE001
            check(False, f"import {name}: {type(e).__name__}: {e}")


PUBLIC = {
    "module": ["FORMAT", "Results", "load", "family_from_name", "MEAN_DATASETS"],
    "methods": ["set_info", "has_alignment", "has_correlation", "has_predictions", "configurations_of",
                "scores", "layers", "metric", "alignment_info", "correlation", "correlation_info",
                "correlation_methods", "predictions", "calibration", "calibrations", "has_calibration",
                "null_scores", "pair_index", "model_groups", "missing", "comparison", "comparison_methods",
                "alignment_table", "correlation_table", "accuracy_correlation_table", "predictions_table",
                "calibration_table", "agreement_table", "sweep_table", "comparison_table",
                "layer_matrices", "model_layer_counts", "layer_profile", "layer_profile_sets",
                "layers_table"],
    "attributes": ["path", "format", "prh_version", "config_hash", "config_file", "store", "device",
                   "config", "identity", "complete", "models", "layer_counts", "classes",
                   "configurations", "sets", "comparisons", "sweeps", "groups"],
}


def test_public_api(r):
    import prh.results
    for name in PUBLIC["module"]:
        check(hasattr(prh.results, name), f"prh.results.{name}")
    for name in PUBLIC["methods"]:
        check(callable(getattr(prh.results.Results, name, None)), f"Results.{name}()")
    for name in PUBLIC["attributes"]:
        check(hasattr(r, name), f"Results attribute {name}")
    # The users of a Results reach it through public names only.
    import prh
    root = os.path.dirname(prh.__file__)
    users = ["summary.py", "tables.py"] + [os.path.join("report", f) for f in
                                           sorted(os.listdir(os.path.join(root, "report")))
                                           if f.endswith(".py")]
    for f in users:
        text = open(os.path.join(root, f)).read()
        hits = re.findall(r"\b(?:r|ctx\.r|self\.r)\._[A-Za-z]\w*", text)
        check(not hits, f"prh/{f} uses private parts of a Results: {sorted(set(hits))}")


# --- a tiny results file -------------------------------------------------------------

MODELS = ["mlp_w8_s0", "mlp_w8_s1", "cnn_w4_s0"]
CONFIGS = ["mutual_knn@k=2", "cka@kernel=linear"]


def strings(parent, name, values):
    parent.create_dataset(name, data=np.array(values, dtype=h5py.string_dtype()))


def write_tiny(path):
    m = len(MODELS)
    S = np.array([[1.0, 0.5, 0.25], [0.5, 1.0, 0.125], [0.25, 0.125, 1.0]])
    with h5py.File(path, "w") as f:
        f.attrs["format"] = "prh-results-1"
        f.attrs["prh_version"] = "9.9.9"
        f.attrs["config_hash"] = "abc123"
        f.attrs["config"] = json.dumps({"image_sets": [{"name": "b"}, {"name": "a"}]})
        f.attrs["complete"] = np.int64(0)
        strings(f, "models", MODELS)
        strings(f, "configurations", CONFIGS)
        for s in ("a", "b"):  # file order a, b; config order b, a
            g = f.create_group(f"alignment/{s}")
            g.attrs["n"] = np.int64(40)
            g.attrs["skipped"] = np.int64(1)
            for ci, c in enumerate(CONFIGS):
                h = g.create_group(c)
                h.attrs["metric"] = c.split("@")[0]
                h.attrs["params"] = json.dumps({"k": "2"} if ci == 0 else {"kernel": "linear"})
                h.attrs["symmetric"] = np.int64(1)
                h.attrs["preprocess"] = json.dumps({"normalize": True})
                h["scores"] = S * (ci + 1)
                h["layers"] = np.ones((m, m, 2), np.int32)
                done = np.ones(m * (m + 1) // 2, np.uint8)
                if s == "a" and ci == 1:
                    done[4] = 0  # pair (1, 2) in row-major i <= j order
                h["done"] = done
        g = f.create_group("correlation/b")
        g.attrs["configurations"] = json.dumps(CONFIGS)
        g.attrs["methods"] = json.dumps(["spearman"])
        g.attrs["bootstrap"] = np.int64(10)
        g.attrs["confidence"] = 0.9
        g.attrs["seed"] = np.int64(7)
        R = np.array([[1.0, 0.75], [0.75, 1.0]])
        g["spearman"] = R
        g["spearman_pvalue"] = np.full((2, 2), 0.5)
        g["spearman_n"] = np.full((2, 2), 3, np.int64)
        g["mean_alignment"] = np.arange(6, dtype=float).reshape(2, 3)
        p = f.create_group("predictions/b")
        p.attrs["labelled"] = np.int64(40)
        p.attrs["n"] = np.int64(40)
        p["accuracy"] = np.array([0.5, 0.75, np.nan])
        p["mean_prob"] = np.array([0.6, 0.7, 0.8])
        p["agreement"] = np.eye(m)
        c = f.create_group("calibration/b/mutual_knn@k=2")
        c.attrs["permutations"] = np.int64(20)
        c.attrs["alpha"] = 0.05
        c["qvalue"] = np.full((m, m), 0.01)
        c["calibrated"] = S / 2
        # the layer axis (layer_profile on): layer counts 1, 2, 2; G = 2 on set b only
        ly = f.create_group("layers")
        ly.attrs["layer_counts"] = np.array([1, 2, 2], np.int64)
        ly.attrs["max_layers"] = np.int64(2)
        T = np.full((m, m, 2, 2), np.nan)
        T[:, :, 0, 0] = 0.5
        f["layers/b/cka@kernel=linear"] = T
        lp = f.create_group("layer_profile")
        lp.attrs["configurations"] = json.dumps(CONFIGS)
        lp.attrs["bootstrap"] = np.int64(10)
        lp.attrs["confidence"] = 0.9
        lp.attrs["reference"] = "b"
        lp["depths"] = np.array([0.5, 1.0])
        for name in ("mean", "mean_ci_low", "mean_ci_high", "relative", "relative_ci_low",
                     "relative_ci_high"):
            lp[f"b/{name}"] = np.arange(4, dtype=float).reshape(2, 2)
        lp["b/pairs"] = np.full((2, 2), 6, np.int64)
        lp.attrs["contrast"] = "early minus late"
        for name in ("early_late", "early_late_ci_low", "early_late_ci_high", "early_late_p"):
            lp[f"b/{name}"] = np.array([0.25, -0.5])


def test_reader(path):
    import prh.results
    r = prh.results.load(path)
    check(r.models == MODELS and r.configurations == CONFIGS, f"names {r.models} {r.configurations}")
    check(r.sets == ["b", "a"], f"sets in config order: {r.sets}")
    check(r.prh_version == "9.9.9" and r.device == "cpu" and not r.complete, "root attributes")
    check(r.has_alignment("a") and r.has_correlation("b") and not r.has_correlation("a")
          and r.has_predictions("b") and not r.has_predictions("a"), "has_alignment/correlation/predictions")
    check(r.set_info("a")["n"] == 40 and r.set_info("a")["skipped"] == 1, f"set_info {r.set_info('a')}")
    S = r.scores("a", "cka@kernel=linear")
    check(np.isnan(S[1, 2]) and np.isnan(S[2, 1]) and S[0, 1] == 1.0, f"pair not done reads NaN: {S}")
    check(r.layers("a", "cka@kernel=linear")[1, 2, 0] == -1, "pair not done: layers -1")
    S[0, 1] = 99
    check(r.scores("a", "cka@kernel=linear")[0, 1] == 1.0, "scores() returns a copy")
    info = r.alignment_info("b", "mutual_knn@k=2")
    check(info == {"metric": "mutual_knn", "params": {"k": "2"}, "symmetric": True,
                   "preprocess": {"normalize": True}, "last_layer_only": False}, f"alignment_info {info}")
    ci = r.correlation_info("b")
    check(ci["configurations"] == CONFIGS and ci["bootstrap"] == 10 and ci["seed"] == 7
          and ci["methods"] == ["spearman"] and ci["mean_alignment"].shape == (2, 3),
          f"correlation_info {ci}")
    check(r.correlation_info("a") is None, "correlation_info of a set without: None")
    c = r.correlation("b")
    check(c["r"][0, 1] == 0.75 and c["n"][0, 1] == 3 and c["ci_low"] is None and c["null_p"] is None,
          "correlation(): r, n; absent parts None")
    check(r.correlation_methods("b") == ["spearman"] and r.correlation_methods("a") == [],
          "correlation_methods")
    check(r.calibrations() == [("b", "mutual_knn@k=2")] and r.has_calibration(),
          f"calibrations {r.calibrations()}")
    cal = r.calibration("b", "mutual_knn@k=2")
    check(cal["attrs"]["permutations"] == 20 and cal["pvalue"] is None and cal["qvalue"][0, 1] == 0.01,
          "calibration(): attrs, datasets, None where absent")
    check(r.calibration("a", "mutual_knn@k=2") is None, "calibration() of an uncalibrated set: None")
    g = r.model_groups()
    check(g["family"] == ["mlp", "mlp", "cnn"] and g["training_data"] is None, f"model_groups {g}")
    missing = r.missing()
    check(any("1 of 6 model pairs" in x and "cka@kernel=linear" in x for x in missing)
          and any("image set a: no correlations" in x for x in missing), f"missing(): {missing}")
    check(prh.results.Results.pair_index(3, 1, 2) == 2, "pair_index")
    T = r.layer_matrices("b", "cka@kernel=linear")
    check(T is not None and T.shape == (3, 3, 2, 2) and T[0, 1, 0, 0] == 0.5 and np.isnan(T[0, 1, 1, 1]),
          "layer_matrices(): [M, M, Lmax, Lmax] with NaN padding")
    check(r.layer_matrices("a", "cka@kernel=linear") is None, "layer_matrices() absent: None")
    check(list(r.model_layer_counts()) == [1, 2, 2], f"model_layer_counts {r.model_layer_counts()}")
    lp = r.layer_profile("b")
    check(lp is not None and list(lp["depths"]) == [0.5, 1.0] and lp["mean"].shape == (2, 2)
          and lp["relative"][1, 1] == 3.0 and lp["pairs"][0, 0] == 6 and lp["reference"] == "b"
          and lp["configurations"] == CONFIGS and lp["bootstrap"] == 10,
          f"layer_profile(): {lp}")
    check(lp["early_late"].shape == (2,) and lp["early_late_p"][1] == -0.5
          and lp["early_late_change"] is None and lp["contrast"] == "early minus late",
          f"layer_profile(): the early-minus-late contrast [K], None where absent: {lp}")
    check(r.layer_profile("a") is None and r.layer_profile_sets() == ["b"], "layer_profile absent: None")
    import prh.summary
    out = io.StringIO()
    prh.summary.summary(r, out)
    check("image set b: n = 40, skipped = 1" in out.getvalue()
          and "spearman(mutual_knn@k=10" not in out.getvalue(), f"summary: {out.getvalue()}")
    out = io.StringIO()
    prh.summary.brief(r, out)
    check(out.getvalue().startswith(f"{path}: 3 models, 2 metric configurations, 2 image sets, INCOMPLETE"),
          f"brief: {out.getvalue()}")
    try:
        import pandas  # noqa: F401
    except ImportError:
        print("pandas not installed: tables not checked")
        return r
    t = r.alignment_table()
    check(len(t) == 2 * 2 * 6 and list(t.columns[:3]) == ["set", "configuration", "metric"],
          f"alignment_table: {len(t)} rows")
    check(len(r.correlation_table()) == 1 and len(r.calibration_table()) == 3
          and len(r.predictions_table()) == 3, "correlation/calibration/predictions tables")
    return r


def test_not_results(tmp):
    import prh.results
    bad = os.path.join(tmp, "not-results.h5")
    with h5py.File(bad, "w") as f:
        f.attrs["format"] = "something-else"
    try:
        prh.results.load(bad)
        check(False, "a file that is not a results file is refused")
    except ValueError as e:
        check(bad in str(e) and "not a prh results file" in str(e), f"the error names the file: {e}")


def test_sweep_level_order():
    """The report joins a sweep's points in the order of the levels' values,
    not the config's (issue 25: a subsample sweep listed as [8, 30, 16])."""
    import numpy as np
    from prh.report.figures import sweep_in_level_order
    K = 2
    sw = {"levels": np.array([8, 30, 16]), "images": np.array([8, 30, 16]),
          "chance_level": np.array([[1 / 7, 0.5], [1 / 29, 0.25], [1 / 15, 0.125]]),
          "breaking_level": np.array([30.0, np.nan]), "parameter": "images"}
    corr = {"y": np.array([0.1, 0.3, 0.2]), "lo": np.array([0.0, 0.2, 0.1])}
    out, sets, c = sweep_in_level_order(sw, ["b8", "b30", "b16"], corr)
    check(list(out["levels"]) == [8, 16, 30] and list(out["images"]) == [8, 16, 30],
          f"levels sorted: {out['levels']}")
    check(np.array_equal(out["chance_level"][:, 0], [1 / 7, 1 / 15, 1 / 29]),
          "per-level arrays move with their level")
    check(out["breaking_level"].shape == (K,) and out["breaking_level"][0] == 30.0,
          "per-configuration arrays stay")
    check(sets == ["b8", "b16", "b30"] and list(c["y"]) == [0.1, 0.2, 0.3],
          f"sets and correlations reordered: {sets} {c['y']}")
    check(list(sw["levels"]) == [8, 30, 16], "the stored arrays are not changed")


def main():
    test_imports()
    test_sweep_level_order()
    with tempfile.TemporaryDirectory(prefix="prh-py-package-") as tmp:
        path = os.path.join(tmp, "tiny.h5")
        write_tiny(path)
        r = test_reader(path)
        test_public_api(r)
        test_not_results(tmp)
    if failures:
        print(f"py.package: {len(failures)} FAILED")
        return 1
    print("py.package: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
