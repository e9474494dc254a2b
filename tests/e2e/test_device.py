#!/usr/bin/python3
"""End-to-end test of the device settings (docs/gpu.md): `prh compare --device`
and its JSON (`device`, `seconds`), `reduce_device` in a sweep config.

Without a usable GPU (this machine, CI): `--device cuda` and `reduce_device:
cuda` fail with exit 2 and a message naming the flag or the config field and
what to do, before any work (no results file, no store). With one (on a GPU
machine; PRH_EXPECT_GPU=1 requires it): compare on cuda gives the JSON of the
CPU run within docs/gpu.md's tolerance.

usage: test_device.py PATH/TO/prh
"""
import json
import os
import sys

import h5py
import numpy as np

import harness  # noqa: E402
from harness import check  # noqa: E402

run = harness.Prh(sys.argv[1])
expect_gpu = os.environ.get("PRH_EXPECT_GPU") == "1"
SCORE_TOL = 1e-5  # docs/gpu.md: cka, unbiased_cka, cknna, svcca


def main(tmp):
    f = os.path.join(tmp, "feats.h5")
    rng = np.random.default_rng(3)
    n = 200
    lat = rng.standard_normal((n, 6))
    with h5py.File(f, "w") as h:
        h["a"] = (lat @ rng.standard_normal((6, 32)) + 0.5 * rng.standard_normal((n, 32))).astype(np.float32)
        h["b"] = (np.tanh(lat @ rng.standard_normal((6, 20))) + 0.3 * rng.standard_normal((n, 20))).astype(np.float32)
    a, b = f + ":/a", f + ":/b"
    specs = ["mutual_knn:k=10", "cycle_knn:k=5", "lcs_knn:k=8", "edit_distance_knn:k=10", "cka",
             "unbiased_cka", "cka:kernel=rbf,sigma=0.6", "cknna:k=10", "svcca:cca_dim=6"]
    margs = sum([["--metric", s] for s in specs], [])

    # 1. The CPU: "device" and "seconds" in the JSON, by default and with --device cpu.
    r = run("compare", a, b, "--json", *margs)
    check(r.returncode == 0, f"compare on the CPU failed: {r.stderr[-800:]}")
    cpu = json.loads(r.stdout)
    check(cpu["device"] == "cpu", f"device of the default run: {cpu['device']}")
    check(isinstance(cpu["seconds"], float) and 0 <= cpu["seconds"] < 60,
          f"seconds of the default run: {cpu['seconds']}")
    r = run("compare", a, b, *margs, "--device", "cpu", "--json")
    check(r.returncode == 0, f"compare --device cpu failed: {r.stderr[-800:]}")
    cpu2 = json.loads(r.stdout)
    check(cpu2["device"] == "cpu", "device of --device cpu")
    check([x["score"] for x in cpu2["results"]] == [x["score"] for x in cpu["results"]],
          "--device cpu gives the default run's scores bit for bit")
    r = run("compare", a, b, "--device", "cpu")
    check(r.returncode == 0 and "mutual_knn@k=10" in r.stdout, "the table with --device cpu")

    # 2. cuda: a clear error without a GPU; the CPU's scores with one.
    for form in (["--device", "cuda"], ["--device=cuda"]):
        r = run("compare", a, b, *margs, *form, "--json")
        if r.returncode == 0:
            check(True, "a GPU is here")
            out = json.loads(r.stdout)
            check(out["device"] == "cuda", f"device of {form}: {out['device']}")
            check(isinstance(out["seconds"], float) and out["seconds"] > 0, f"seconds: {out['seconds']}")
            for x, y in zip(cpu["results"], out["results"]):
                check(x["name"] == y["name"], "same configurations in the same order")
                tol = 0.05 if x["metric"].endswith("_knn") else SCORE_TOL  # kNN: ties only, see gpu.md
                check(abs(x["score"] - y["score"]) <= tol,
                      f"{x['name']}: cpu {x['score']} vs cuda {y['score']}")
        else:
            check(not expect_gpu, f"PRH_EXPECT_GPU=1 but compare {form} failed: {r.stderr[-800:]}")
            check(r.returncode == 2, f"compare {form} without a GPU: exit {r.returncode}, want 2")
            for needle in ("--device cuda", "CUDA is not available", "use --device cpu", "docs/gpu.md"):
                check(needle in r.stderr, f"compare {form}: stderr lacks {needle!r}: {r.stderr[-800:]}")
            check(r.stdout == "", f"compare {form}: nothing on stdout")
    gpu = run("compare", a, b, "--device", "cuda", "--metric", "cka").returncode == 0
    run.expect_error(["compare", a, b, "--device", "tpu"], ["--device", "tpu"], "unknown device",
                     stdout_empty=True)

    # 3. reduce_device in a sweep config.
    def config(name, device, extra=None):
        params = {"store": os.path.join(tmp, name, "store.h5"),
                  "results": os.path.join(tmp, name, "results.h5"), "reduce_device": device}
        params.update(extra or {})
        path = harness.write_config(os.path.join(tmp, name + ".yaml"), params,
                                    " [{name: s, source: {kind: noise, count: 8, height: 4, width: 4}}]",
                                    [("m", os.path.join(tmp, "m.pt"))])
        return path, params

    cfg, params = config("cuda", "cuda")
    if gpu:
        # Past the device: the store is missing.
        run.expect_error(["reduce", cfg], ["the store does not exist"], "reduce on cuda, no store")
    else:
        needles = [f"{cfg}: reduce_device: cuda", "CUDA is not available",
                   f"set reduce_device: cpu in {cfg}"]
        run.expect_error(["reduce", cfg], needles, "reduce_device: cuda without a GPU")
        check(not os.path.exists(params["results"]), "no results file when the device is missing")
        run.expect_error(["run", cfg], needles, "run with reduce_device: cuda without a GPU")
        check(not os.path.exists(params["store"]), "run: no store when the device is missing")
        check(not os.path.exists(os.path.dirname(params["store"])), "run: no output folder either")
        # The embedding's own device key, likewise.
        cfg, params = config("embed_cuda", "cpu", {"device": "cuda"})
        run.expect_error(["embed", cfg], [f"{cfg}: device: cuda", "CUDA is not available",
                                          f"set device: cpu in {cfg}"], "device: cuda without a GPU")
        check(not os.path.exists(os.path.dirname(params["store"])), "embed: no store folder")
    cfg, _ = config("cpu", "cpu")
    run.expect_error(["reduce", cfg], ["the store does not exist"], "reduce_device: cpu, no store")
    cfg, _ = config("bad", "gpu")
    run.expect_error(["reduce", cfg], ["reduce_device: 'gpu' is not allowed (allowed: cpu, cuda)"],
                     "reduce_device: gpu")


harness.run_test("device", main)
