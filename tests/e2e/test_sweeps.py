#!/usr/bin/python3
"""End-to-end test of `sweeps:` (issue 13): falsification sweeps as image sets.

usage: test_sweeps.py PRH MAKE_TEST_MODELS MPIEXEC

- `prh validate` counts the generated sets with their sizes (limit applied);
- `prh embed` on 2 ranks creates /sets/BASE@FAMILY=LEVEL for every level, each
  with its sweep record (name, family, base, level, index) in the set's spec;
- the end points: blend 0 and patch_shuffle with the whole image as one
  patch are views of the base (docs/store.md, "Views": its rows, not
  embedded), blend 1 a view of the noise source with the sweep's seed; so
  their features are those bit for bit; phase_scramble 0 is embedded (its
  Fourier round trip is not guaranteed to give the same bytes) and gives the
  base's features bit for bit here through the models;
- 1 rank gives the same store as 2 (every level is deterministic and random
  access); a second run finds everything done;
- config errors: an unknown base or family, bad levels, exit 2 naming them.
"""
import json
import os
import sys

import h5py
import numpy as np

import harness  # noqa: E402
from harness import check, fashion  # noqa: E402

PRH, MAKE_MODELS, MPIEXEC = sys.argv[1:4]
prh = harness.Prh(PRH, MPIEXEC, harness.mpi_env())
mpi = prh.mpi


def config(tmp, name, sweeps):
    sets = f"""
  - name: id
    source: {fashion(60)}
  - name: noise3
    source: {{kind: noise, count: 40, height: 28, width: 28, channels: 1, seed: 3}}"""
    return harness.write_config(
        f"{tmp}/{name}.yaml", {"store": f"{tmp}/{name}.h5", "shard_size": 16, "batch_size": 8},
        sets, [(m, f"{tmp}/models/{m}.pt") for m in ("dict_model", "tuple_model")],
        tail=f"sweeps:{sweeps}\n")


SWEEPS = """
  - {name: towards_noise, base: id, family: blend, noise: uniform, levels: [0, 0.5, 1], limit: 40, seed: 3}
  - {name: shuffle, base: id, family: patch_shuffle, levels: [28, 7, 1]}
  - {name: phase, base: id, family: phase_scramble, levels: [0, 1], limit: 20}
"""
GENERATED = ["id@blend=0", "id@blend=0.5", "id@blend=1", "id@patch_shuffle=28",
             "id@patch_shuffle=7", "id@patch_shuffle=1", "id@phase_scramble=0",
             "id@phase_scramble=1"]
SIZES = [40, 40, 40, 60, 60, 60, 20, 20]


def features(f, s, m="dict_model"):
    """A set's features; a view's are its base's rows (docs/store.md)."""
    g = f[f"sets/{s}"]
    if "view_of" in g.attrs:
        base = g.attrs["view_of"]
        base = base.decode() if isinstance(base, bytes) else str(base)
        return features(f, base, m)[g["rows"][()]]
    return g[f"models/{m}/features"][()]


VIEWS = {"id@blend=0": ("id", list(range(40))), "id@patch_shuffle=28": ("id", list(range(60))),
         "id@blend=1": ("noise3", list(range(40)))}


def main(tmp):
    harness.make_models(MAKE_MODELS, tmp + "/models")
    cfg = config(tmp, "two", SWEEPS)

    r = prh("validate", cfg, env=os.environ)
    check(r.returncode == 0, f"validate: exit {r.returncode}: {r.stdout}{r.stderr}")
    sizes = ", ".join(str(n) for n in [60, 40] + SIZES)
    check(f"OK: 10 image sets ({sizes} images)" in r.stdout, f"validate summary: {r.stdout!r}")
    # validate names the views as embed will find them: set (n rows of base)
    want = ", ".join(f"{v} ({len(VIEWS[v][1])} rows of {VIEWS[v][0]})"
                     for v in GENERATED if v in VIEWS)
    check(f"{len(VIEWS)} views (image sets that are rows of another set, read through them, "
          f"not embedded): {want}" in r.stdout, f"validate names the views {want}: {r.stdout!r}")

    r = mpi(2, "embed", cfg)
    check(r.returncode == 0, f"embed on 2 ranks: exit {r.returncode}: {r.stderr[-3000:]}")
    with h5py.File(f"{tmp}/two.h5", "r") as f:
        check(sorted(f["sets"]) == sorted(["id", "noise3"] + GENERATED),
              f"store sets: {sorted(f['sets'])}")
        for s, n in zip(GENERATED, SIZES):
            if s not in f["sets"]:
                continue
            g = f["sets"][s]
            spec = json.loads(g.attrs["spec"])
            name, family, level = s.split("@")[0], s.split("@")[1].split("=")[0], s.split("=")[1]
            sw = spec.get("sweep", {})
            check(spec["name"] == s and sw.get("base") == name and sw.get("family") == family
                  and str(sw.get("level")).rstrip("0").rstrip(".") in (level, level + ".0"),
                  f"{s}: sweep record {sw}")
            check(spec["source"]["kind"] == family, f"{s}: source kind {spec['source']['kind']}")
            check(g["ids"].shape == (n,), f"{s}: {g['ids'].shape[0]} images, expected {n}")
            if s in VIEWS:
                base, rows = VIEWS[s]
                check(g.attrs.get("view_of") in (base, base.encode()) and list(g["rows"][()]) == rows
                      and "models" not in g, f"{s}: a view of {base}, not embedded: {list(g)}")
            else:
                check("view_of" not in g.attrs, f"{s}: not a view")
                check(np.all(g["models/dict_model/done"][()] == 1), f"{s}: every shard done")
        check(json.loads(f["sets/id@blend=0.5"].attrs["spec"])
              ["sweep"] == {"name": "towards_noise", "family": "blend", "base": "id",
                            "level": 0.5, "index": 1}, "blend 0.5 sweep record")
        check("sweep" not in json.loads(f["sets/id"].attrs["spec"]), "listed sets: no record")
        for m in ("dict_model", "tuple_model"):
            base = features(f, "id", m)
            for s, n in (("id@blend=0", 40), ("id@patch_shuffle=28", 60),
                         ("id@phase_scramble=0", 20)):
                check(np.array_equal(features(f, s, m), base[:n]),
                      f"{m}: {s} has the base's features bit for bit")
            check(np.array_equal(features(f, "id@blend=1", m), features(f, "noise3", m)),
                  f"{m}: blend 1 has the noise source's features bit for bit")
            for s in ("id@blend=0.5", "id@patch_shuffle=7", "id@patch_shuffle=1",
                      "id@phase_scramble=1"):
                n = features(f, s, m).shape[0]
                check(not np.array_equal(features(f, s, m), base[:n]), f"{m}: {s} differs")
            check(np.array_equal(f["sets/id@patch_shuffle=1/labels"][()], f["sets/id/labels"][()]),
                  "labels kept")

    # A second run: nothing left. One rank: the same store.
    r = mpi(2, "embed", cfg)
    check(r.returncode == 0, f"second embed: exit {r.returncode}: {r.stderr[-2000:]}")
    one = config(tmp, "one", SWEEPS)
    r = mpi(1, "embed", one)
    check(r.returncode == 0, f"embed on 1 rank: exit {r.returncode}: {r.stderr[-2000:]}")
    with h5py.File(f"{tmp}/two.h5", "r") as a, h5py.File(f"{tmp}/one.h5", "r") as b:
        for s in GENERATED:
            for m in ("dict_model", "tuple_model"):
                check(np.array_equal(features(a, s, m), features(b, s, m)),
                      f"{s}/{m}: 1 and 2 ranks give the same features")
            check(list(a[f"sets/{s}/ids"][()]) == list(b[f"sets/{s}/ids"][()]), f"{s}: ids")

    # Config errors, listed at once, exit 2.
    bad = config(tmp, "bad", """
  - {name: a, base: nope, family: blend, levels: [0.5]}
  - {name: b, base: id, family: jpeg, levels: [0.5]}
  - {name: c, base: id, family: patch_shuffle, levels: [0, 2.5]}
  - {name: d, base: id, family: blend, levels: [1.5]}
""")
    for args in (["validate", bad], ["embed", bad]):
        r = prh(*args)
        out = r.stdout + r.stderr
        check(r.returncode == 2, f"{args[0]} bad sweeps: exit {r.returncode}")
        for part in ("sweeps[0].base: 'nope' is not an image set of this config",
                     "sweeps[1].family: 'jpeg' is not allowed",
                     "sweeps[2].levels[0]: a patch_shuffle level is a patch size",
                     "sweeps[2].levels[1]: a patch_shuffle level is a patch size",
                     "sweeps[3].levels[0]: a blend level is a number in [0, 1], got 1.5"):
            check(part in out, f"{args[0]} bad sweeps: names {part!r}: {out}")
    check(not os.path.exists(f"{tmp}/bad.h5"), "a bad config creates no store")


if __name__ == "__main__":
    harness.run_test("sweeps", main)
