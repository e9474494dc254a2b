#!/usr/bin/python3
"""End-to-end test of imported features (docs/config.md, "Imported features").

usage: test_features.py PRH MAKE_TEST_MODELS MPIEXEC

- feature files written by h5py (float32, float16), numpy (.npy: float32,
  float64 big-endian in Fortran order) and torch.save ({"feats": tensor},
  the PRH reference layout) become models of the store: 1 and 2 ranks give
  the same store, float32 input is stored bit for bit, other types as
  numpy's astype(float32); a model without features for a set is absent
  from it; imported models have no predictions;
- they mix with a TorchScript model: validate, status, reduce with
  calibration and the report;
- kill -9 mid-embedding, then re-run: the same store as an uninterrupted run;
- a feature file changed after embedding is refused on resume (exit 2);
- bad input, each exit 2 naming the model, set and file: wrong N, a NaN row,
  layers that differ between sets, a missing file, a missing dataset, a
  damaged .npy header, path and features together.
"""
import os
import subprocess
import sys

import h5py
import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import check, fashion, kill_held, same_h5, why_no_hold  # noqa: E402

PRH, MAKE_MODELS, MPIEXEC = sys.argv[1:4]
ENV = harness.mpi_env()
prh = harness.Prh(PRH, MPIEXEC, ENV)
mpi = prh.mpi

N = {"id": 70, "ood": 40, "uniform": 30}
SETS = f"""
  - name: id
    source: {fashion(N["id"])}
  - name: ood
    source: {{kind: noise, count: {N["ood"]}, height: 28, width: 28, channels: 1, seed: 1}}
  - name: uniform
    source: {{kind: noise, count: {N["uniform"]}, height: 28, width: 28, channels: 1, seed: 2}}
"""


def write_config(tmp, name, models, store=None, extra=""):
    """models: YAML lines of the `models:` list (each a `- ...` entry, indented)."""
    text = (f"store: {store or f'{tmp}/{name}.h5'}\nshard_size: 16\nbatch_size: 8\n"
            f"bootstrap: 0\nmantel: 0\nmetrics: [mutual_knn:k=5, cka]\n{extra}"
            f"image_sets:{SETS}models:\n" + "".join(models))
    return harness.write_text(os.path.join(tmp, name + ".yaml"), text)


def imported(name, files, labels=""):
    lines = [f"  - name: {name}\n", "    features:\n"]
    lines += [f"      {s}: {f}\n" for s, f in files.items()]
    return "".join(lines) + labels


def write_inputs(tmp):
    """The feature files; returns {(model, set): expected float32 array}."""
    rng = np.random.default_rng(7)
    d = os.path.join(tmp, "feats")
    os.makedirs(d, exist_ok=True)
    want = {}
    # imp_a: float32 everywhere, [N, 3, 16]: HDF5 (in a group), .npy, .pt.
    a = {s: rng.standard_normal((N[s], 3, 16)).astype(np.float32) for s in N}
    with h5py.File(f"{d}/imp_a_id.h5", "w") as f:
        f["grp/feats"] = a["id"]
    np.save(f"{d}/imp_a_ood.npy", a["ood"])
    torch.save({"feats": torch.from_numpy(a["uniform"]), "num_params": 123,
                "mask": torch.ones(N["uniform"])}, f"{d}/imp_a_uniform.pt")
    for s in N:
        want[("imp_a", s)] = a[s]
    # imp_b: [N, 8], other types: .npy float64 big-endian Fortran order;
    # HDF5 float16. No features for `uniform`.
    b_id = rng.standard_normal((N["id"], 8)) * 3
    np.save(f"{d}/imp_b_id.npy", np.asfortranarray(b_id.astype(">f8")))
    b_ood = (rng.standard_normal((N["ood"], 8)) * 2).astype(np.float16)
    with h5py.File(f"{d}/imp_b_ood.h5", "w") as f:
        f["feats"] = b_ood
    # imp_c: ood only, a dict of one item (pickle's SETITEM), float16 [N, 2, 4].
    c_ood = torch.randn(N["ood"], 2, 4, generator=torch.Generator().manual_seed(3)).half()
    torch.save({"feats": c_ood}, f"{d}/imp_c_ood.pt")
    want[("imp_c", "ood")] = c_ood.float().numpy()
    want[("imp_b", "id")] = b_id.astype(np.float32)[:, None, :]
    want[("imp_b", "ood")] = b_ood.astype(np.float32)[:, None, :]
    return want


def models_main(tmp):
    d = f"{tmp}/feats"
    return [
        imported("imp_a", {"id": f"{d}/imp_a_id.h5:/grp/feats", "ood": f"{d}/imp_a_ood.npy",
                           "uniform": f"{d}/imp_a_uniform.pt"},
                 "    family: vit\n    training_data: web\n"),
        imported("imp_b", {"id": f"{d}/imp_b_id.npy", "ood": f"{d}/imp_b_ood.h5:/feats"},
                 "    family: cnn\n    training_data: web\n"),
        imported("imp_c", {"ood": f"{d}/imp_c_ood.pt"}),
        f"  - {{name: dict_model, path: {tmp}/models/dict_model.pt, family: cnn, "
        "training_data: fashion}\n",
    ]


def check_store(path, want, what):
    with h5py.File(path, "r") as f:
        for (m, s), x in want.items():
            g = f[f"sets/{s}/models/{m}"]
            got = g["features"][()]
            check(got.dtype == np.float32 and got.shape == x.shape,
                  f"{what}: {m}/{s} features {got.dtype} {got.shape}, want float32 {x.shape}")
            if got.shape == x.shape:
                check(got.tobytes() == x.tobytes(), f"{what}: {m}/{s} features bit for bit")
            check(np.all(g["done"][()] == 1), f"{what}: {m}/{s} every shard done")
            check("top1" not in g and "prob" not in g, f"{what}: {m}/{s}: no predictions")
        check("imp_b" not in f["sets/uniform/models"], f"{what}: imp_b absent from uniform")
        check("imp_c" not in f["sets/uniform/models"] and "imp_c" not in f["sets/id/models"],
              f"{what}: imp_c absent from id and uniform")
        check(f["models/imp_a"].attrs["classes"] == 0, f"{what}: imp_a has no head")
        check(list(f["models/imp_a"].attrs["layer_dims"]) == [16, 16, 16], f"{what}: imp_a dims")
        check(list(np.atleast_1d(f["models/imp_b"].attrs["layer_dims"])) == [8], f"{what}: imp_b dims")
        check("top1" in f["sets/id/models/dict_model"], f"{what}: the TorchScript model predicts")


def main(tmp):
    harness.make_models(MAKE_MODELS, tmp + "/models")
    want = write_inputs(tmp)
    models = models_main(tmp)

    # 1. validate, then 1 and 2 ranks: the same store, the inputs bit for bit.
    cfg1 = write_config(tmp, "r1", models)
    r = prh("validate", cfg1)
    check(r.returncode == 0 and "4 models" in r.stdout, f"validate: {r.returncode} {r.stdout} {r.stderr[-1500:]}")
    stores = []
    for n in (1, 2):
        cfg = write_config(tmp, f"r{n}", models)
        r = mpi(n, "embed", cfg)
        check(r.returncode == 0, f"embed, {n} ranks: exit {r.returncode}: {r.stderr[-2000:]}")
        stores.append(f"{tmp}/r{n}.h5")
        check_store(stores[-1], want, f"{n} ranks")
    same_h5(stores[0], stores[1], "2 ranks vs 1 rank")
    # A re-run has nothing to do.
    r = mpi(1, "embed", cfg1)
    check(r.returncode == 0 and "0 to do" in r.stderr + r.stdout, f"re-run: {r.stderr[-800:]}")

    # 2. status: imp_b is absent from `uniform`, not missing there.
    r = prh("status", cfg1, "--json")
    check(r.returncode == 0, f"status --json: {r.returncode} {r.stderr[-800:]}")
    if r.returncode == 0:
        import json
        st = json.loads(r.stdout)
        per = {s["name"]: s for s in st["image_sets"]}
        check(per["uniform"]["models"] == 2 and per["uniform"]["models_done"] == 2,
              f"status: uniform has 2 models, both done: {per['uniform']}")
        check(per["ood"]["models"] == 4 and per["ood"]["models_done"] == 4, f"status ood: {per['ood']}")
        check(per["id"]["models"] == 3 and per["id"]["models_done"] == 3, f"status id: {per['id']}")
        check(st["embed"]["items_done"] == st["embed"]["items"], f"status embed: {st['embed']}")
    r = prh("status", cfg1, "--verbose")
    check(r.returncode == 0 and "absent" in r.stdout, f"status --verbose names the absent item: {r.stdout[-1500:]}")

    # 3. reduce with calibration (imported and TorchScript models together), the report.
    calcfg = write_config(tmp, "r1cal", models, store=stores[0],
                          extra=f"results: {tmp}/r1.results.h5\n"
                                "calibration: {permutations: 19, alpha: 0.1}\n")
    r = mpi(2, "reduce", calcfg)
    check(r.returncode == 0, f"reduce: exit {r.returncode}: {r.stderr[-2000:]}")
    if r.returncode == 0:
        with h5py.File(f"{tmp}/r1.results.h5", "r") as f:
            names = [x.decode() if isinstance(x, bytes) else x for x in f.attrs.get("models", [])]
            check(f.attrs.get("complete", 0) == 1, "results complete")
            check("calibration" in f, "results have a calibration group")
            def datasets(g, out):
                for k, v in g.items():
                    if isinstance(v, h5py.Dataset):
                        out.append(v.name)
                    else:
                        datasets(v, out)
                return out
            listed = datasets(f, [])
            check(any("uniform" in x for x in listed), f"results hold the uniform set: {listed[:20]}")
        r = subprocess.run([PRH, "report", f"{tmp}/r1.results.h5", "--out", f"{tmp}/report"],
                           capture_output=True, text=True, env=ENV)
        check(r.returncode == 0 and os.path.exists(f"{tmp}/report/index.html"),
              f"report: exit {r.returncode}: {r.stderr[-1500:]}")
        r = prh("status", calcfg)
        states = {l.split()[0]: l.split()[-1] for l in r.stdout.splitlines()[2:5]}
        check(r.returncode == 0 and states == {s: "done" for s in N},
              f"status after reduce: every set done (absent models have no pairs): {r.stdout[-1500:]}")
        r = prh("status", calcfg, "--json")
        if r.returncode == 0:
            import json
            st = json.loads(r.stdout)
            per = {x["name"]: x for x in st["image_sets"]}
            check(per["uniform"]["score_total"] == 3 and per["uniform"]["calibrate_total"] == 1,
                  f"status: uniform has 2 models: 3 pairs scored, 1 calibrated: {per['uniform']}")
            check(st["next"]["command"] is None, f"status: nothing left: {st['next']}")

    # 4. kill -9 mid-embedding, then re-run: the uninterrupted store.
    killcfg = write_config(tmp, "killed", models)
    cmd = prh.cmd(2, "embed", killcfg)
    log = f"{tmp}/kill.log"
    holds = kill_held(cmd, ENV, "embed", 3, log)
    check(holds and all(left > 0 for _, _, left in holds),
          f"kill landed mid-work: holds {holds} ({why_no_hold(log)})")
    harness.wait_gone(killcfg)
    r = mpi(2, "embed", killcfg)
    check(r.returncode == 0, f"embed after kill -9: {r.returncode}: {r.stderr[-2000:]}")
    same_h5(stores[0], f"{tmp}/killed.h5", "resumed after kill -9 vs uninterrupted")

    # Job array: two tasks write parts, a plain embed merges them: the same store.
    arrcfg = write_config(tmp, "array", models)
    for t in (0, 1):
        r = prh("embed", arrcfg, "--array-task", str(t), "--array-size", "2")
        check(r.returncode == 0, f"array task {t}: {r.returncode}: {r.stderr[-1500:]}")
    r = mpi(2, "embed", arrcfg)
    check(r.returncode == 0, f"merge of the array's parts: {r.returncode}: {r.stderr[-1500:]}")
    same_h5(stores[0], f"{tmp}/array.h5", "job array vs 1 rank")

    # 5. A feature file changed after embedding: refused on resume.
    x = np.load(f"{tmp}/feats/imp_a_ood.npy")
    x[3, 0, 0] += 1
    np.save(f"{tmp}/feats/imp_a_ood.npy", x)
    r = prh.expect_error(["embed", cfg1], ["imp_a", "checksum", "ood"], "changed feature file")
    np.save(f"{tmp}/feats/imp_a_ood.npy", want[("imp_a", "ood")])
    r = mpi(1, "embed", cfg1)
    check(r.returncode == 0, f"the file restored: embed resumes: {r.stderr[-800:]}")

    # 6. Bad input: exit 2 naming the model, set and file.
    bad_dir = f"{tmp}/bad"
    os.makedirs(bad_dir, exist_ok=True)
    d = f"{tmp}/feats"
    rng = np.random.default_rng(1)

    def bad(name, files, needles, validate_too=False):
        cfg = write_config(tmp, f"bad_{name}", [imported("imp_x", files)],
                           store=f"{bad_dir}/{name}.h5")
        prh.expect_error(["embed", cfg], ["imp_x"] + needles, f"embed, {name}")
        if validate_too:
            prh.expect_error(["validate", cfg], ["imp_x"] + needles, f"validate, {name}")

    np.save(f"{bad_dir}/short.npy", rng.standard_normal((39, 4)).astype(np.float32))
    bad("wrong_n", {"ood": f"{bad_dir}/short.npy"},
        ["'ood'", f"{bad_dir}/short.npy", "39", "40"], validate_too=True)
    x = rng.standard_normal((70, 2, 4)).astype(np.float32)
    x[37, 1, 2] = np.nan
    x[52, 0, 0] = np.inf
    with h5py.File(f"{bad_dir}/nan.h5", "w") as f:
        f["x"] = x
    bad("nan_row", {"id": f"{bad_dir}/nan.h5:/x"}, ["'id'", f"{bad_dir}/nan.h5", "row 37", "non-finite"])
    np.save(f"{bad_dir}/two_layers.npy", rng.standard_normal((40, 2, 16)).astype(np.float32))
    bad("layers", {"id": f"{d}/imp_a_id.h5:/grp/feats", "ood": f"{bad_dir}/two_layers.npy"},
        ["'id'", "'ood'", "2 layers", "3 layers", f"{bad_dir}/two_layers.npy"], validate_too=True)
    torch.save({"feats": torch.zeros(40, 2, 16)}, f"{bad_dir}/two_layers.pt")
    bad("layers_pt", {"id": f"{d}/imp_a_id.h5:/grp/feats", "ood": f"{bad_dir}/two_layers.pt"},
        ["'id'", "'ood'", "2 layers", "3 layers", f"{bad_dir}/two_layers.pt"])
    bad("missing_file", {"id": f"{bad_dir}/nope.npy"}, ["'id'", f"{bad_dir}/nope.npy"],
        validate_too=True)
    bad("missing_dataset", {"id": f"{d}/imp_a_id.h5:/grp/nope"},
        ["'id'", f"{d}/imp_a_id.h5", "/grp/nope"], validate_too=True)
    # Damaged .npy headers: each an InputError, never a crash or a huge allocation.
    good = open(f"{d}/imp_a_ood.npy", "rb").read()
    hlen = int.from_bytes(good[8:10], "little")
    header = good[10:10 + hlen].decode()
    variants = {
        "magic": b"\x93NUMPX" + good[6:],
        "huge_shape": good[:10] + header.replace("(40, 3, 16)", "(40000000000, 3, 16)").ljust(hlen)[:hlen].encode() + good[10 + hlen:],
        "dtype": good[:10] + header.replace("<f4", "<i4").encode() + good[10 + hlen:],
        "truncated": good[:-7],
        "header_len": good[:8] + (60000).to_bytes(2, "little") + good[10:],
        "garbage": good[:10] + b"{'descr': '<f4', 'shape': (40, 3, 16), 'fortran_order': Maybe}".ljust(hlen)[:hlen] + good[10 + hlen:],
        "text_after": good[:10] + header.replace("}", "}x", 1).encode()[:hlen] + good[10 + hlen:],
    }
    for name, data in variants.items():
        with open(f"{bad_dir}/{name}.npy", "wb") as f:
            f.write(data)
        bad(f"npy_{name}", {"ood": f"{bad_dir}/{name}.npy"}, ["'ood'", f"{bad_dir}/{name}.npy"])
    with open(f"{bad_dir}/garbage.pt", "wb") as f:
        f.write(b"PK\x03\x04 not a zip at all" * 10)
    bad("pt_garbage", {"uniform": f"{bad_dir}/garbage.pt"}, ["'uniform'", f"{bad_dir}/garbage.pt"])
    torch.save({"other": torch.zeros(30, 4)}, f"{bad_dir}/nofeats.pt")
    bad("pt_no_feats", {"uniform": f"{bad_dir}/nofeats.pt"}, ["'uniform'", 'no "feats" key'])
    # Config errors.
    cfg = write_config(tmp, "bad_both", [f"  - {{name: imp_x, path: {tmp}/models/dict_model.pt, "
                                         f"features: {{id: {d}/imp_a_ood.npy}}}}\n"],
                       store=f"{bad_dir}/both.h5")
    prh.expect_error(["validate", cfg], ["models[0]", "path", "features"], "path and features")
    cfg = write_config(tmp, "bad_set", [imported("imp_x", {"nosuch": f"{d}/imp_a_ood.npy"})],
                       store=f"{bad_dir}/set.h5")
    prh.expect_error(["validate", cfg], ["models[0].features.nosuch", "no image set"], "unknown set")
    cfg = write_config(tmp, "bad_form", [imported("imp_x", {"id": f"{d}/imp_a_id.h5"})],
                       store=f"{bad_dir}/form.h5")
    prh.expect_error(["validate", cfg], ["models[0].features.id", "FILE.h5:/dataset"], "h5 without dataset")


if __name__ == "__main__":
    harness.run_test("e2e.features", main)
