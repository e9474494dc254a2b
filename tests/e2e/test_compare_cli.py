#!/usr/bin/python3
"""End-to-end test of `prh compare`: HDF5 files written by h5py, scores checked
against the independent dense numpy implementation (naive_metrics.py), output
format, determinism, and a clear error with exit code 2 for every bad input.

usage: test_compare_cli.py PATH/TO/prh
"""
import json
import math
import os
import sys

import h5py
import numpy as np

import harness  # noqa: E402
import naive_metrics as nm  # noqa: E402
from harness import check  # noqa: E402

run = harness.Prh(sys.argv[1])


def expect_error(args, needle, what):
    run.expect_error(args, [needle], what, stdout_empty=True)


def main(tmp):
    f = os.path.join(tmp, "feats.h5")
    rng = np.random.default_rng(5)
    n = 120
    lat = rng.standard_normal((n, 6))
    a_layers = [lat @ rng.standard_normal((6, 24)) + s * rng.standard_normal((n, 24)) for s in (2.0, 0.5, 1.0)]
    b_layers = [np.tanh(lat @ rng.standard_normal((6, 16))) + s * rng.standard_normal((n, 16)) for s in (1.5, 0.3)]
    with h5py.File(f, "w") as h:
        h["a"] = np.stack(a_layers, axis=1).astype(np.float32)  # [N, L, D]
        h["b"] = np.stack(b_layers, axis=1).astype(np.float64)
        h["a_last"] = a_layers[-1].astype(np.float32)  # [N, D]
        h["b_last16"] = b_layers[-1].astype(np.float16)
        g = h.create_group("group")
        g["nested"] = a_layers[0].astype(np.float32)
        h["rank1"] = np.zeros(n, dtype=np.float32)
        h["rank4"] = np.zeros((n, 2, 2, 2), dtype=np.float32)
        h["ints"] = np.zeros((n, 4), dtype=np.int64)
        h["short"] = np.zeros((n - 1, 16), dtype=np.float32)
        bad = a_layers[0].astype(np.float32).copy()
        bad[17, 3] = np.nan
        h["nan"] = bad
        h["tiny"] = rng.standard_normal((3, 5)).astype(np.float32)
        h["tiny_b"] = rng.standard_normal((3, 5)).astype(np.float32)

    specs = ["mutual_knn:k=10", "cycle_knn:k=5", "lcs_knn:k=8", "edit_distance_knn:k=10", "cka",
             "unbiased_cka", "cka:kernel=rbf,sigma=0.6", "cknna:k=10", "svcca:cca_dim=6"]
    margs = sum([["--metric", s] for s in specs], [])

    # 1. Layer maximum against the naive implementation, every layer pair.
    r = run("compare", f + ":/a", f + ":/b", "--json", *margs)
    check(r.returncode == 0, f"compare failed: {r.stderr}")
    out = json.loads(r.stdout)
    check(r.stdout.count("\n") == 1, "--json prints exactly one line")
    check(out["n"] == n and out["layers_a"] == 3 and out["layers_b"] == 2, "n and layer counts")
    pa = [nm.preprocess(x.astype(np.float32)) for x in a_layers]
    pb = [nm.preprocess(x) for x in b_layers]
    for res in out["results"]:
        best, arg = -math.inf, None
        for l, x in enumerate(pa):
            for m, y in enumerate(pb):
                s = nm.score(x, y, res["metric"], **res["params"])
                if s > best:
                    best, arg = s, [l, m]
        check(abs(res["score"] - best) < 2e-6, f"{res['name']}: prh {res['score']} vs naive {best}")
        check(res["layers"] == arg, f"{res['name']}: layers {res['layers']} vs naive {arg}")
    check(out["results"][0]["params"] == {"k": 10}, "params of mutual_knn")
    check(out["results"][6]["params"] == {"kernel": "rbf", "sigma": 0.6}, "params of rbf cka")

    # 2. Defaults: all eight metrics; --last-layer; float16 input; switches.
    r = run("compare", f + ":/a", f + ":/b", "--json")
    d = json.loads(r.stdout)
    check([x["metric"] for x in d["results"]] == ["mutual_knn", "cycle_knn", "lcs_knn", "edit_distance_knn",
                                                  "cka", "unbiased_cka", "cknna", "svcca"], "default metrics")
    check(all(x["params"].get("k", 10) == 10 for x in d["results"]), "default k = 10")
    r = run("compare", f + ":/a", f + ":/b", "--json", "--last-layer", "-m", "cka")
    last = json.loads(r.stdout)["results"][0]
    check(last["layers"] == [0, 0], "--last-layer compares one layer pair")
    want = nm.score(pa[-1], pb[-1], "cka")
    check(abs(last["score"] - want) < 1e-6, f"--last-layer score {last['score']} vs {want}")
    r = run("compare", f + ":/a_last", f + ":/b_last16", "--json", "--no-clamp", "--no-normalize", "-m", "cka")
    got = json.loads(r.stdout)["results"][0]["score"]
    b16 = b_layers[-1].astype(np.float16).astype(np.float64)
    want = nm.score(nm.preprocess(a_layers[-1].astype(np.float32), clamp=False, normalize=False),
                    nm.preprocess(b16, clamp=False, normalize=False), "cka")
    check(abs(got - want) < 1e-6, f"float16 + switches: {got} vs {want}")
    r = run("compare", f + ":/a_last", f + ":/b_last16", "--json", "--clamp-exact", "--clamp-q", "0.9", "-m", "cka")
    got = json.loads(r.stdout)["results"][0]["score"]
    want = nm.score(nm.preprocess(a_layers[-1].astype(np.float32), q=0.9, exact=True),
                    nm.preprocess(b16, q=0.9, exact=True), "cka")
    check(abs(got - want) < 1e-6, f"--clamp-exact: {got} vs {want}")

    # 3. The readable table and determinism (also across BLAS thread counts).
    r = run("compare", f + ":/a", f + ":/b")
    check(r.returncode == 0 and "mutual_knn@k=10" in r.stdout and "best layers" in r.stdout, "table output")
    outs = set()

    def scores(stdout):  # the output without the compute time, which varies
        out = json.loads(stdout)
        check(isinstance(out.pop("seconds"), float), "seconds in the JSON")
        return json.dumps(out, sort_keys=True)

    for threads in ("1", "2", "3"):
        env = dict(os.environ, OMP_NUM_THREADS=threads, OPENBLAS_NUM_THREADS=threads)
        outs.add(scores(run("compare", f + ":/a", f + ":/b", "--json", env=env).stdout))
    outs.add(scores(run("compare", f + ":/a", f + ":/b", "--json", "--threads", "1").stdout))
    check(len(outs) == 1, "same output for every run and BLAS thread count")

    # 4. Bad input: a clear message and exit code 2.
    a = f + ":/a"
    expect_error(["compare", tmp + "/missing.h5:/a", a], "missing.h5: no such file", "missing file")
    expect_error(["compare", f + ":/nope", a], "no dataset '/nope'", "missing dataset")
    expect_error(["compare", f + ":/group/nope", a], "no dataset '/group/nope'", "missing nested dataset")
    expect_error(["compare", f + ":/group", a], "is not a dataset", "group instead of dataset")
    expect_error(["compare", f + ":/rank1", a], "got rank 1", "rank 1")
    expect_error(["compare", f + ":/rank4", a], "got rank 4", "rank 4")
    expect_error(["compare", f + ":/ints", a], "got int64", "integer features")
    expect_error(["compare", f + ":/short", a], "N mismatch", "N mismatch")
    expect_error(["compare", a, f + ":/b", "-m", "mutual_knn:k=120"], "1 <= k <= N-1 = 119", "k >= N")
    expect_error(["compare", a, f + ":/b", "-m", "mutual_knn:k=0"], "k must be >= 1", "k < 1")
    expect_error(["compare", a, f + ":/b", "-m", "cknna:k=1"], "k >= 2", "cknna k < 2")
    expect_error(["compare", f + ":/tiny", f + ":/tiny_b", "-m", "unbiased_cka"], "N >= 4", "unbiased N < 4")
    expect_error(["compare", f + ":/tiny", f + ":/tiny_b", "-m", "cknna:k=2"], "N >= 4", "cknna N < 4")
    expect_error(["compare", f + ":/nan", a], "row 17", "NaN row named")
    expect_error(["compare", a, f + ":/b", "-m", "mutual"], "unknown metric 'mutual'", "unknown metric")
    expect_error(["compare", a, f + ":/b", "-m", "cka:k=3"], "unknown parameter 'k'", "unknown parameter")
    expect_error(["compare", a, f + ":/b", "-m", "svcca:cca_dim=20"], "cca_dim must be <=", "cca_dim > D")
    expect_error(["compare", f, a], "expected FILE.h5:/path", "malformed reference")
    expect_error(["compare", a, f + ":/b", "--bogus"], "--bogus", "unknown flag")
    expect_error(["compare", a], "B is required", "missing argument")
    expect_error(["compare", a, f + ":/b", "--clamp-q", "1.5"], "--clamp-q", "bad clamp quantile")
    noth5 = os.path.join(tmp, "plain.txt")
    with open(noth5, "w") as t:
        t.write("hello")
    expect_error(["compare", noth5 + ":/a", a], "not an HDF5 file", "not HDF5")


if __name__ == "__main__":
    harness.run_test("compare_cli", main)
