#!/usr/bin/python3
"""Bad input end to end (issue 24): what a hostile or careless user gives prh.

usage: test_bad_input.py PRH MAKE_TEST_MODELS

The promise (docs/testing.md, "Bad input"): exit 2, the file or field named,
nothing touched. Each case here once crashed prh, lost data or was silently
accepted:

- data loss: a sidecar edited in place between two embeds (store and job
  array parts) is refused naming the change; a `results:` path whose
  preparation cache is the store (by name, symlink or hard link), and a
  foreign file where the cache goes, are refused with every byte of the
  store and of the foreign file unchanged;
- config reader: a 50k-character set name, a 100k-digit number, a YAML
  alias bomb, 1e999 and an out-of-range integer, a non-string key, a
  duplicated key, a second document, a FIFO and /dev/zero as the config, a
  NUL byte or a 5000-character folder in the store path (nothing left on
  disk), a non-UTF-8 model path, noise `count: 2^40`;
- sizes and files: an HDF5 image set [4, 60000, 60000], a sidecar
  `input_size: 100000`, `mean: [1e39]`, random bytes as a sidecar, a
  truncated JPEG, `std` so small that every feature is inf (embed refuses
  naming model, set and row);
- CLI: `compare --threads 100000`, an unknown command, `report --out` on a
  file, `submit --sbatch` with a newline and a `--time` that is no time;
- memory: a unit of `prh reduce` that cannot allocate (a 4 GiB address-space
  limit, a layer of 24304 features) names the set, the model and the bytes.
"""
import hashlib
import os
import shutil
import subprocess
import sys

import harness  # noqa: E402
from harness import REPO, check  # noqa: E402
from harness import write_text as write  # noqa: E402

PRH, MAKE_MODELS = sys.argv[1:3]
ENV = harness.mpi_env()
prh = harness.Prh(PRH, None, ENV)


def digest(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def tree_digest(folder):
    out = {}
    for root, _, files in os.walk(folder):
        for name in files:
            p = os.path.join(root, name)
            out[os.path.relpath(p, folder)] = digest(p)
    return out


def no_crash(r, what):
    """Exit 2, a message, no internal error, crash or traceback."""
    check(r.returncode == 2, f"{what}: exit {r.returncode}, want 2: {r.stderr[-600:]}")
    for bad in ("internal error", "Traceback", "std::bad_alloc", "json.exception"):
        check(bad not in r.stderr, f"{what}: stderr holds {bad!r}: {r.stderr[-600:]}")


def sweep(tmp, name, store, sidecar=None, extra="", sets=None):
    sets = sets or "\n  - name: u\n    source: {kind: noise, count: 12, height: 28, width: 28, " \
                   "channels: 1, seed: 3}\n"
    side = f", sidecar: {sidecar}" if sidecar else ""
    return write(f"{tmp}/{name}.yaml", f"store: {store}\nshard_size: 4\nbatch_size: 4\n"
                 f"metrics: [mutual_knn:k=3]\n{extra}image_sets:{sets}"
                 f"models:\n  - {{name: m, path: {tmp}/models/dict_model.pt{side}}}\n")


def data_loss(tmp):
    # 1. A sidecar edited in place: the store refuses to resume, naming the
    #    field and both values; the store is untouched.
    side = f"{tmp}/models/dict_model.yaml"
    original = open(side).read()
    cfg = sweep(tmp, "resume", f"{tmp}/resume/store.h5")
    r = prh("embed", cfg)
    check(r.returncode == 0, f"first embed: {r.stderr[-600:]}")
    before = digest(f"{tmp}/resume/store.h5")
    write(side, original.replace("mean: [0.5]", "mean: [0.1]"))
    r = prh.expect_error(["embed", cfg], ["sidecar changed", "mean: [0.5] -> [0.1]"],
                         "sidecar edited in place (store)")
    no_crash(r, "sidecar edited in place (store)")
    check(digest(f"{tmp}/resume/store.h5") == before, "store unchanged after the refusal")
    write(side, original.replace("layer_names: [hidden1, hidden2]", "layer_names: [a, b]"))
    prh.expect_error(["embed", cfg], ["sidecar changed: layer_names"], "layer names edited")
    write(side, original)
    r = prh("embed", cfg)
    check(r.returncode == 0 and "0 to do" in r.stderr, f"restored sidecar resumes: {r.stderr[-400:]}")

    # ... and the parts of a job array task.
    cfg = sweep(tmp, "parts", f"{tmp}/parts/store.h5")
    r = prh("embed", cfg, "--array-task", "0", "--array-size", "2")
    check(r.returncode == 0, f"array task: {r.stderr[-600:]}")
    parts = tree_digest(f"{tmp}/parts")
    check(len(parts) > 0, "the array task left parts")
    write(side, original.replace("std: [0.5]", "std: [0.25]"))
    r = prh.expect_error(["embed", cfg], ["sidecar.std: [0.5] -> [0.25]"], "sidecar edited (parts)")
    check(tree_digest(f"{tmp}/parts") == parts, "parts unchanged and no store made")
    r = prh.expect_error(["embed", cfg, "--array-task", "0", "--array-size", "2"],
                         ["std: [0.5] -> [0.25]"], "sidecar edited (array task resumed)")
    write(side, original)

    # 2. The store as its own results' preparation cache: by name, through a
    #    symlink, through a hard link. Every byte of the store stays.
    store = f"{tmp}/resume/store.h5"
    before = digest(store)
    for how in ("name", "symlink", "hardlink"):
        if how == "name":  # store: X.prep.h5 with results: X
            os.makedirs(f"{tmp}/collide", exist_ok=True)
            shutil.copy(store, f"{tmp}/collide/r.h5.prep.h5")
            st, results = f"{tmp}/collide/r.h5.prep.h5", f"{tmp}/collide/r.h5"
        elif how == "symlink":
            st, results = store, f"{tmp}/sym/r.h5"
            os.makedirs(f"{tmp}/sym", exist_ok=True)
            os.symlink(store, f"{tmp}/sym/r.h5.prep.h5")
        else:
            st, results = store, f"{tmp}/hard/r.h5"
            os.makedirs(f"{tmp}/hard", exist_ok=True)
            os.link(store, f"{tmp}/hard/r.h5.prep.h5")
        b = digest(st)
        cfg = sweep(tmp, f"collide_{how}", st, extra=f"results: {results}\n")
        for cmd in ("reduce", "run", "validate"):
            r = prh(cmd, cfg)
            no_crash(r, f"store as the preparation cache ({how}, {cmd})")
            check("are the same file" in r.stderr,
                  f"{how}, {cmd}: names the collision: {r.stderr[-600:]}")
        check(digest(st) == b, f"{how}: every byte of the store unchanged")
        check(not os.path.exists(results), f"{how}: no results file made")
    check(digest(store) == before, "the original store unchanged")

    # A foreign file where the cache goes (not the store): never remade.
    os.makedirs(f"{tmp}/foreign", exist_ok=True)
    foreign = write(f"{tmp}/foreign/r.h5.prep.h5", "my notes, not a cache\n")
    cfg = sweep(tmp, "foreign", store, extra=f"results: {tmp}/foreign/r.h5\n")
    r = prh.expect_error(["reduce", cfg], [foreign, "not a prh preparation cache"],
                         "foreign file at the cache's path")
    no_crash(r, "foreign file at the cache's path")
    check(open(foreign).read() == "my notes, not a cache\n", "the foreign file unchanged")
    check(digest(store) == before, "the store unchanged after the foreign-cache refusal")


def config_reader(tmp):
    def bad(name, text, needles, what, args=("validate", "--no-paths")):
        path = write(f"{tmp}/cfg/{name}.yaml", text)
        r = prh(*args, path)
        no_crash(r, what)
        for n in needles:
            check(n in r.stderr, f"{what}: stderr lacks {n!r}: {r.stderr[-600:]}")
        return r

    os.makedirs(f"{tmp}/cfg")
    base = "store: {tmp}/cfg/s.h5\nimage_sets:\n  - name: {name}\n    source: " \
           "{{kind: noise, count: {count}, height: 8, width: 8}}\n" \
           "models:\n  - {{name: m, path: x.pt}}\n"

    def cfg(name="u", count="4", head=""):
        return head + base.format(tmp=tmp, name=name, count=count)

    bad("longname", cfg(name="a" * 50000), ["image_sets[0].name", "longer than"], "50k-char name")
    bad("digits", cfg(count="9" * 100000), ["image_sets[0].source.count", "longer than"],
        "100k-digit number")
    bad("range", cfg(count="99999999999999999999"), ["image_sets[0].source.count", "out of range"],
        "out-of-range integer")
    bad("inf", cfg(head="seed: 1e999\n"), ["seed", "out of range"], "1e999")
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
        f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
        f"*{chr(97 + i)}, *{chr(97 + i)}]\n" for i in range(9))
    bad("bomb", bomb + cfg(), ["more than 100000 values", "alias"], "YAML alias bomb")
    bad("key", cfg(head="[a, b]: 1\n"), ["a key must be a plain string"], "non-string key")
    bad("dup", cfg(head="confidence: 1.5\n") + "confidence: 0.9\n", ["confidence", "given twice"],
        "duplicated key")
    bad("docs", cfg() + "---\nstore: elsewhere.h5\n", ["2 YAML documents"], "second document")
    bad("count", cfg(count=str(2 ** 40)), ["image_sets[0].source.count", "10000000"],
        "noise count 2^40")
    bad("nul", cfg().replace(f"store: {tmp}/cfg/s.h5", f'store: "{tmp}/cfg/a\\0b/s.h5"'),
        ["store", "NUL byte"], "NUL byte in the store path")
    long_dir = f"{tmp}/cfg/" + "d" * 5000 + "/s.h5"
    for args in (("validate",), ("embed",)):
        bad("longdir", cfg().replace(f"store: {tmp}/cfg/s.h5", f"store: {long_dir}"),
            ["store", "longer than"], f"5000-char folder ({args[0]})", args=args)
    bad("longpart", cfg().replace(f"store: {tmp}/cfg/s.h5", f"store: {tmp}/cfg/{'e' * 300}/s.h5"),
        ["store", "at most 255"], "300-byte folder name", args=("embed",))
    check(sorted(os.listdir(f"{tmp}/cfg")) == sorted(
        f for f in os.listdir(f"{tmp}/cfg") if f.endswith(".yaml")),
        f"nothing but the configs in the folder: {sorted(os.listdir(tmp + '/cfg'))}")
    # A model path that is not UTF-8 (valid on Linux): named, escaped.
    raw = cfg().encode().replace(b"path: x.pt", b"path: mod\xff\xfe.pt")
    with open(f"{tmp}/cfg/utf8.yaml", "wb") as f:
        f.write(raw)
    r = prh("validate", f"{tmp}/cfg/utf8.yaml")
    no_crash(r, "non-UTF-8 model path")
    check("models[0].path" in r.stderr and "mod\\xff\\xfe.pt" in r.stderr,
          f"non-UTF-8 path named, escaped: {r.stderr[-400:]}")

    # Not regular files: a FIFO (would block), /dev/zero (never ends).
    os.mkfifo(f"{tmp}/cfg/fifo.yaml")
    for path in (f"{tmp}/cfg/fifo.yaml", "/dev/zero"):
        r = prh("validate", path, timeout=60)
        no_crash(r, f"config {path}")
        check("not a regular file" in r.stderr, f"{path}: named as not a regular file: {r.stderr}")


def files_and_sizes(tmp):
    import h5py
    import numpy as np
    models = f"{tmp}/models"

    def sidecar_case(name, text, needles, what):
        side = f"{models}/{name}.yaml"
        with open(side, "wb") as f:
            f.write(text.encode() if isinstance(text, str) else text)
        cfg = sweep(tmp, name, f"{tmp}/{name}/s.h5", sidecar=side)
        for cmd in ("validate", "embed"):
            r = prh(cmd, cfg)
            no_crash(r, f"{what} ({cmd})")
            for n in needles:
                check(n in r.stderr, f"{what} ({cmd}): stderr lacks {n!r}: {r.stderr[-600:]}")
        check(not os.path.exists(f"{tmp}/{name}"), f"{what}: no store folder left")

    sidecar_case("huge", "input_size: 100000\nchannels: 1\n", ["input_size", "4096"],
                 "sidecar input_size 100000")
    sidecar_case("big_mean", "input_size: 28\nchannels: 1\nmean: [1e39]\n",
                 ["mean", "float32 range"], "sidecar mean 1e39")
    sidecar_case("random_bytes", b"input_size: 28\nlayer_names: [\xff\xfe\x80]\n" +
                 bytes(range(128, 256)) * 8, ["sidecar", "random_bytes.yaml"],
                 "random-bytes sidecar")
    # std so small that every pixel becomes inf: embed refuses, naming the
    # model, the set and the row.
    side = write(f"{models}/tiny_std.yaml", "input_size: 28\nchannels: 1\nmean: [0.5]\n"
                 "std: [1e-44]\n")
    cfg = sweep(tmp, "nan", f"{tmp}/nan/s.h5", sidecar=side)
    r = prh.expect_error(["embed", cfg], ["model 'm'", "non-finite feature", "image 0 of set 'u'"],
                         "non-finite features")
    no_crash(r, "non-finite features")

    # An HDF5 image set declaring [4, 60000, 60000] (nothing written: sparse).
    with h5py.File(f"{tmp}/big.h5", "w") as f:
        f.create_dataset("x", shape=(4, 60000, 60000), dtype=np.uint8, chunks=(1, 256, 256))
    cfg = sweep(tmp, "hdf5", f"{tmp}/hdf5/s.h5",
                sets=f"\n  - name: big\n    source: {{kind: hdf5, file: {tmp}/big.h5, "
                     f"dataset: x}}\n")
    for cmd in ("validate", "embed"):
        r = prh(cmd, cfg)
        no_crash(r, f"HDF5 [4, 60000, 60000] ({cmd})")
        check("60000 x 60000" in r.stderr and "big.h5" in r.stderr,
              f"HDF5 set: file and size named ({cmd}): {r.stderr[-500:]}")

    # A JPEG cut to a third (written by PIL when there, else skipped).
    try:
        from PIL import Image
    except ImportError:
        Image = None
    if check(Image is not None, "PIL for the truncated JPEG case"):
        os.makedirs(f"{tmp}/jpg/c")
        img = Image.fromarray((np.arange(64 * 64 * 3) % 251).astype(np.uint8).reshape(64, 64, 3))
        img.save(f"{tmp}/whole.jpg", quality=90)
        data = open(f"{tmp}/whole.jpg", "rb").read()
        with open(f"{tmp}/jpg/c/cut.jpg", "wb") as f:
            f.write(data[:len(data) // 3])
        cfg = sweep(tmp, "jpg", f"{tmp}/jpgstore/s.h5",
                    sets=f"\n  - name: j\n    source: {{kind: folder, root: {tmp}/jpg}}\n")
        r = prh.expect_error(["embed", cfg], ["cut.jpg", "truncated"], "truncated JPEG")
        no_crash(r, "truncated JPEG")


def cli(tmp):
    ab = f"{tmp}/ab.h5"
    import h5py
    import numpy as np
    with h5py.File(ab, "w") as f:
        f["a"] = np.random.default_rng(1).standard_normal((20, 4)).astype(np.float32)
        f["b"] = np.random.default_rng(2).standard_normal((20, 4)).astype(np.float32)
    r = prh.expect_error(["compare", f"{ab}:/a", f"{ab}:/b", "-m", "cka", "--threads", "100000"],
                         ["--threads", "1024"], "compare --threads 100000")
    no_crash(r, "compare --threads 100000")
    r = prh.expect_error(["frobnicate"], ["frobnicate", "unknown command"], "unknown command")
    notdir = write(f"{tmp}/notes.txt", "keep me\n")
    r = prh.expect_error(["report", ab, "--out", notdir], ["--out", notdir, "not a folder"],
                         "report --out a file")
    no_crash(r, "report --out a file")
    check(open(notdir).read() == "keep me\n", "report --out: the file unchanged")
    cfg = sweep(tmp, "submit", f"{tmp}/submit/s.h5")
    base = ["submit", cfg, "--dry-run", "--jobs-dir", f"{REPO}/jobs"]
    r = prh.expect_error(base + ["--sbatch=--qos=x\nrm -rf /"], ["--sbatch", "line break"],
                         "submit --sbatch with a newline")
    no_crash(r, "submit --sbatch with a newline")
    prh.expect_error(base + ["--time", "soon"], ["--time 'soon'", "not a SLURM time"],
                     "submit --time soon")
    prh.expect_error(base + ["--sbatch=--time=eventually"], ["not a SLURM time"],
                     "submit --sbatch=--time=eventually")
    r = prh(*base, "--time", "1-02:00:00")
    check(r.returncode == 0, f"submit --time 1-02:00:00 is fine: {r.stderr[-400:]}")


def reduce_out_of_memory(tmp):
    """A std::bad_alloc inside `prh reduce` (once "internal error: std::bad_alloc"):
    exit 2 naming the set, the model and the bytes. broad_model's one layer has
    24304 features: its Gram matrix (4.7 GB) cannot be had under a 4 GiB
    address-space limit, whatever the machine's memory."""
    import resource
    models = f"{tmp}/models"
    cfg = write(f"{tmp}/oom.yaml", f"store: {tmp}/oom/s.h5\nresults: {tmp}/oom/r.h5\n"
                "shard_size: 4\nbatch_size: 4\nmetrics: [cka]\nimage_sets:\n  - name: u\n"
                "    source: {kind: noise, count: 12, height: 28, width: 28, channels: 1, seed: 3}\n"
                f"models:\n  - {{name: b, path: {models}/broad_model.pt, "
                f"sidecar: {models}/broad_model.yaml}}\n")
    r = prh("embed", cfg)
    check(r.returncode == 0, f"embed of the broad model: {r.stderr[-600:]}")
    limit = 4 << 30

    def cap():
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    r = subprocess.run([PRH, "reduce", cfg], env=ENV, capture_output=True, text=True,
                       preexec_fn=cap, timeout=300)
    no_crash(r, "out of memory in prh reduce")
    for needle in ("prepare: out of memory (an allocation failed)", "image set 'u'", "model 'b'",
                   "24304 x 24304 Gram matrix", "4725475328 bytes"):
        check(needle in r.stderr, f"out of memory in reduce: stderr lacks {needle!r}: "
              f"{r.stderr[-600:]}")


def main(tmp):
    harness.make_models(MAKE_MODELS, tmp + "/models")
    data_loss(tmp)
    config_reader(tmp)
    files_and_sizes(tmp)
    cli(tmp)
    reduce_out_of_memory(tmp)


if __name__ == "__main__":
    harness.run_test("bad_input", main)
