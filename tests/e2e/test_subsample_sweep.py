#!/usr/bin/python3
"""End-to-end test of the `subsample` sweep family (issue 25, the N axis).

usage: test_subsample_sweep.py PRH MAKE_TEST_MODELS MPIEXEC

- `prh validate` sizes the levels (N each) and refuses a level above the
  base's image count, naming both numbers (exit 2); `prh embed` refuses one
  over a base whose count only the files tell (exit 2, both numbers);
- `prh embed` creates /sets/BASE@subsample=N with N images; the levels are
  nested (level n's ids are the first n of every larger level's) and every
  id is the base's behind `subsample(N):`; the full level is a permutation
  of the base (not its order);
- levels are views (docs/store.md, "Views"), never embedded: each has
  `view_of` = base and `rows` = its base rows (the ids' rows), no models of
  its own, the log names each level as read through its rows, and the work
  items are the base's alone; level n's features read through the rows are
  the base's rows bit for bit whatever the batch size, labels too;
- kill -9 mid-embed and a rerun give the uninterrupted store bit for bit, and
  1 rank the same store as 2; `prh status --json` names each level's base;
- `prh reduce` writes /sweeps/NAME with parameter "images", `images` = the
  levels and `chance_level` [L, K] = k/(N-1) for mutual_knn@k, NaN for cka;
  a second run of embed finds everything done.
"""
import os
import sys

import h5py
import numpy as np

import harness  # noqa: E402
from harness import check, fashion, kill_held, same_h5, why_no_hold  # noqa: E402

PRH, MAKE_MODELS, MPIEXEC = sys.argv[1:4]
prh = harness.Prh(PRH, MPIEXEC, harness.mpi_env())
mpi = prh.mpi

MODELS = ("dict_model", "tuple_model")
LEVELS = [8, 30, 16]


def config(tmp, name, sweeps, base=None, batch=1):
    base = base or "{kind: noise, count: 30, height: 28, width: 28, channels: 1, seed: 3}"
    sets = f"""
  - name: base
    source: {base}"""
    params = {"store": f"{tmp}/{name}.h5", "results": f"{tmp}/{name}.results.h5",
              "shard_size": 8, "batch_size": batch, "bootstrap": 20,
              "metrics": "[mutual_knn:k=3, cka, mutual_knn:k=5]"}
    return harness.write_config(f"{tmp}/{name}.yaml", params, sets,
                                [(m, f"{tmp}/models/{m}.pt") for m in MODELS],
                                tail=f"sweeps:{sweeps}\n")


SWEEPS = "\n  - {name: n_axis, base: base, family: subsample, levels: [8, 30, 16], seed: 5}\n"


def features(f, s, m):
    """A set's features as docs/store.md says to read them: a view's are its
    base's rows."""
    g = f[f"sets/{s}"]
    if "view_of" in g.attrs:
        base = g.attrs["view_of"]
        base = base.decode() if isinstance(base, bytes) else str(base)
        return f[f"sets/{base}/models/{m}/features"][()][g["rows"][()]]
    return g[f"models/{m}/features"][()]


def ids(f, s):
    return [x.decode() if isinstance(x, bytes) else str(x) for x in f[f"sets/{s}/ids"][()]]


def main(tmp):
    harness.make_models(MAKE_MODELS, tmp + "/models")
    cfg = config(tmp, "sub", SWEEPS)

    r = prh("validate", cfg, env=os.environ)
    check(r.returncode == 0, f"validate: exit {r.returncode}: {r.stdout}{r.stderr}")
    check("OK: 4 image sets (30, 8, 30, 16 images)" in r.stdout, f"validate summary: {r.stdout!r}")
    check("3 views (image sets that are rows of another set, read through them, not embedded): "
          "base@subsample=8 (8 rows of base), base@subsample=30 (30 rows of base), "
          "base@subsample=16 (16 rows of base)" in r.stdout, f"validate names the views: {r.stdout!r}")

    r = mpi(2, "embed", cfg)
    check(r.returncode == 0, f"embed: exit {r.returncode}: {r.stderr[-3000:]}")
    log = r.stdout + r.stderr
    for n in LEVELS:
        check(f"image set 'base@subsample={n}' ({n} images) is rows of 'base': read through them, "
              "not embedded" in log, f"the log names level {n} as a view")
    check("embed: 8 work items in all, 8 to do" in log,
          f"only the base's items (2 models x 4 shards): {log[-1500:]}")
    with h5py.File(f"{tmp}/sub.h5", "r") as f:
        names = [f"base@subsample={n}" for n in LEVELS]
        check(sorted(f["sets"]) == sorted(["base"] + names), f"store sets: {sorted(f['sets'])}")
        base_ids = ids(f, "base")
        row_of = {x: i for i, x in enumerate(base_ids)}
        full = ids(f, "base@subsample=30")
        perm = [row_of[x.split(":", 1)[1]] for x in full]
        check(sorted(perm) == list(range(30)), "the full level is a permutation of the base")
        check(perm != list(range(30)), "the full level is not the base's order")
        for n, s in zip(LEVELS, names):
            got = ids(f, s)
            check(len(got) == n, f"{s}: {len(got)} images")
            check(all(x.startswith(f"subsample({n}):") for x in got), f"{s}: ids {got[:2]}")
            rows = [row_of[x.split(":", 1)[1]] for x in got]
            check(rows == perm[:n], f"{s}: nested, the first {n} of one permutation: {rows}")
            check(np.array_equal(f[f"sets/{s}/labels"][()], f["sets/base/labels"][()][rows]),
                  f"{s}: the base's labels")
            g = f[f"sets/{s}"]
            check(g.attrs.get("view_of") in ("base", b"base"), f"{s}: view_of {g.attrs.get('view_of')}")
            check(list(g["rows"][()]) == rows, f"{s}: stored rows are the ids' rows")
            check("models" not in g and "skipped" not in g, f"{s}: nothing embedded: {list(g)}")
            for m in MODELS:
                a = features(f, s, m)
                b = f[f"sets/base/models/{m}/features"][()][rows]
                check(a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes(),
                      f"{s}/{m}: the base's rows bit for bit")

    r = mpi(2, "embed", cfg)
    check(r.returncode == 0, f"second embed: exit {r.returncode}: {r.stderr[-2000:]}")
    check("embed: 8 work items in all, 0 to do" in r.stdout + r.stderr, "second embed: all done")

    # 1 rank: the same store as 2 ranks, bit for bit.
    r = mpi(1, "embed", config(tmp, "one", SWEEPS))
    check(r.returncode == 0, f"embed 1 rank: exit {r.returncode}: {r.stderr[-3000:]}")
    same_h5(f"{tmp}/sub.h5", f"{tmp}/one.h5", "1 rank vs 2 ranks")

    # kill -9 mid-embed, then a rerun: the uninterrupted store, bit for bit.
    killcfg = config(tmp, "killed", SWEEPS)
    log = f"{tmp}/kill.log"
    holds = kill_held(prh.cmd(2, "embed", killcfg), prh.env, "embed", 1, log)
    check(holds and all(left > 0 for _, _, left in holds),
          f"kill landed mid-work: holds {holds} ({why_no_hold(log)})")
    harness.wait_gone(killcfg)
    r = mpi(2, "embed", killcfg)
    check(r.returncode == 0, f"embed after kill -9: {r.returncode}: {r.stderr[-2000:]}")
    same_h5(f"{tmp}/sub.h5", f"{tmp}/killed.h5", "resumed after kill -9 vs uninterrupted")

    # Batches of 8: still the base's rows bit for bit (no level is embedded,
    # so LibTorch's batch-dependent rounding cannot reach them).
    r = mpi(2, "embed", config(tmp, "b8", SWEEPS, batch=8))
    check(r.returncode == 0, f"embed batch 8: exit {r.returncode}: {r.stderr[-3000:]}")
    with h5py.File(f"{tmp}/b8.h5", "r") as f:
        row_of = {x: i for i, x in enumerate(ids(f, "base"))}
        for s in (f"base@subsample={n}" for n in LEVELS):
            rows = [row_of[x.split(":", 1)[1]] for x in ids(f, s)]
            for m in MODELS:
                a = features(f, s, m)
                b = f[f"sets/base/models/{m}/features"][()][rows]
                check(a.tobytes() == b.tobytes(), f"{s}/{m} (batch 8): the base's rows bit for bit")

    r = prh("status", cfg, "--json")
    check(r.returncode == 0, f"status: exit {r.returncode}: {r.stderr[-1500:]}")
    import json
    st = json.loads(r.stdout)
    by = {x["name"]: x for x in st["image_sets"]}
    for n in LEVELS:
        x = by[f"base@subsample={n}"]
        check(x["view_of"] == "base" and x["models_done"] == 2 and x["shards"] == 0,
              f"status: level {n} is a view of base with its models: {x}")
    check(st["embed"]["items"] == 8 and st["embed"]["items_done"] == 8,
          f"status: the base's 8 items: {st['embed']}")

    r = mpi(2, "reduce", cfg)
    check(r.returncode == 0, f"reduce: exit {r.returncode}: {r.stderr[-3000:]}")
    with h5py.File(f"{tmp}/sub.results.h5", "r") as f:
        g = f["sweeps/n_axis"]
        check(g.attrs["family"] in ("subsample", b"subsample"), f"family {g.attrs['family']}")
        check(g.attrs["parameter"] in ("images", b"images"), f"parameter {g.attrs['parameter']}")
        check(list(g["levels"][()]) == LEVELS, f"levels {g['levels'][()]}")
        check(list(g["images"][()]) == LEVELS, f"images {g['images'][()]}")
        confs = [c.decode() if isinstance(c, bytes) else c for c in f["configurations"][()]]
        chance = g["chance_level"][()]
        check(chance.shape == (len(LEVELS), len(confs)), f"chance_level shape {chance.shape}")
        for k, c in enumerate(confs):
            for l, n in enumerate(LEVELS):
                if c.startswith("mutual_knn@k="):
                    kk = int(c.split("=")[1])
                    check(chance[l, k] == kk / (n - 1), f"{c} at N={n}: {chance[l, k]}")
                else:
                    check(np.isnan(chance[l, k]), f"{c}: no closed form, NaN: {chance[l, k]}")

    # A level above the base's count: exit 2 naming both numbers.
    too = "\n  - {name: n_axis, base: base, family: subsample, levels: [8, 31]}\n"
    r = prh("validate", config(tmp, "too", too))
    out = r.stdout + r.stderr
    check(r.returncode == 2, f"validate over the count: exit {r.returncode}: {out}")
    check("subsample of 31 images, but its base has only 30 images" in out, f"names both: {out}")
    r = mpi(1, "embed", config(tmp, "toof", too, base=fashion(30)))
    out = r.stdout + r.stderr
    check(r.returncode == 2, f"embed over the count: exit {r.returncode}: {out[-2000:]}")
    check("subsample of 31 images, but its base has only 30 images" in out, f"names both: {out}")
    r = prh("validate", config(tmp, "one", "\n  - {name: n_axis, base: base, family: subsample, "
                               "levels: [1]}\n"))
    out = r.stdout + r.stderr
    check(r.returncode == 2 and "sweeps[0].levels[0]: a subsample level is a count of the base's "
          "images, an integer in [2, " in out, f"level 1: exit {r.returncode}: {out}")


if __name__ == "__main__":
    harness.run_test("subsample_sweep", main)
