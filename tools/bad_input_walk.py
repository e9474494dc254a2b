#!/usr/bin/python3
"""The bad-input walk of issue 24: each of its 34 bad cases, run against a built prh.

usage: /usr/bin/python3 tools/bad_input_walk.py [BUILD]    (BUILD: build/ by default)

Issue 24 lists the inputs a trial found handled badly (data lost, a crash or
an uncaught error, or silent acceptance). This walk gives each one to
BUILD/prh in a fresh temporary folder and prints one line per case:

    | # | case | exit code(s) | first line of prh's message | PASS/FAIL | test |

(a Markdown table: docs/testing.md holds the last run's).
PASS: every command of the case exits 2; its output holds none of
`internal error`, `Traceback`, `bad_alloc`, `json.exception`; the message
names the file or field (the case's needles); and for the data-loss cases
(D*) every byte of the store, parts or file at stake is unchanged (sha256).
`test` names the test that reproduces the case in the suite (ctest name or
gtest name), where one does. Exits 1 if any case fails. Rows marked `+` after
the 34 are further checks (issue 24's leftovers), not among the 34.

How the issue's prose becomes 34 cases: data loss 1 for the store and for a
job-array task's parts (D1a, D1b); data loss 2 by name, by symlink, and the
"foreign file at the cache's path" refusal it asks for (D2a-c); each crash
input; noise `count: 2^40` in `embed` and in `validate` (which once said OK);
the NUL byte and the 5000-character folder in the store path each in
`validate` (once OK) and in `embed` (once a stray folder). `report --out
/etc/passwd` is run on a copy of /etc/passwd in the temporary folder (the
same class: an existing file, not a folder), never on /etc/passwd itself.
"""
import hashlib
import os
import resource
import shutil
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(REPO, "build"))
PRH = os.path.join(BUILD, "prh")
ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
           OMPI_MCA_rmaps_base_oversubscribe="1", OMPI_MCA_btl="self,vader",
           OMPI_MCA_btl_vader_single_copy_mechanism="none")
BAD = ("internal error", "Traceback", "bad_alloc", "json.exception")
E2E = "e2e.bad_input"


def find_tool(name):
    for d in (BUILD, os.path.join(BUILD, "tests")):
        if os.path.exists(os.path.join(d, name)):
            return os.path.join(d, name)
    sys.exit(f"bad_input_walk: {name} not found under {BUILD} (build it first)")


def digest(path):
    if os.path.isdir(path):
        out = hashlib.sha256()
        for root, dirs, files in sorted(os.walk(path)):
            dirs.sort()
            for name in sorted(files):
                p = os.path.join(root, name)
                out.update(os.path.relpath(p, path).encode() + b"\0" + digest(p).encode())
        return out.hexdigest()
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(text.encode() if isinstance(text, str) else text)
    return path


def run(*args, timeout=120, limit_as=None):
    def cap():
        resource.setrlimit(resource.RLIMIT_AS, (limit_as, limit_as))

    try:
        r = subprocess.run([PRH, *args], env=ENV, capture_output=True, timeout=timeout,
                           preexec_fn=cap if limit_as else None)
        return r.returncode, r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace")
    except subprocess.TimeoutExpired:
        return "timeout", "", f"no answer in {timeout} s"


def first_line(err):
    """The first line of prh's message: its first error line (log prefix
    "[TIME] [prh] " dropped), else the first line."""
    lines = [ln for ln in err.splitlines() if ln.strip()]
    for marks in ((" error: ", " critical: "), ("rror",), ("",)):
        for k, ln in enumerate(lines):
            if any(m in ln for m in marks):
                ln = ln.split("] ", 2)[-1] if ln.startswith("[") else ln
                # "...: 1 problem in the config:" and the like: with the first item
                if ln.endswith(":") and k + 1 < len(lines):
                    ln += " " + lines[k + 1].strip()
                return ln
    return ""


ROWS = []


def case(name, runs, needles, test, keep=()):
    """runs: [(args, kwargs)]; needles: in every run's stderr; keep: paths that must
    hold the same bytes after (for data loss), given as (path, digest before)."""
    codes, notes, message = [], [], ""
    ok = True
    for args, kw in runs:
        code, out, err = run(*args, **kw)
        codes.append(str(code))
        if not message:
            message = first_line(err)
        text = out + err
        if code != 2:
            ok = False
            notes.append(f"exit {code}")
        for b in BAD:
            if b in text:
                ok = False
                notes.append(f"holds {b!r}")
        for n in needles:
            if n not in err:
                ok = False
                notes.append(f"{args[0]}: lacks {n!r}")
    for path, before in keep:
        if not os.path.lexists(path) or digest(path) != before:
            ok = False
            notes.append(f"{path} changed")
    ROWS.append((name, "/".join(codes), message, "PASS" if ok else "FAIL", test, notes))
    cell = message[:200].replace("|", "\\|") + ("..." if len(message) > 200 else "")
    print(f"| {len(ROWS)} | {name} | {'/'.join(codes)} | `{cell}` | {'PASS' if ok else 'FAIL'} | "
          f"{test} |", flush=True)
    if notes:
        print(f"  FAIL: {'; '.join(notes)[:600]}", flush=True)


def sweep(tmp, name, store, sidecar=None, extra="", sets=None, model=None):
    sets = sets or ("\n  - name: u\n    source: {kind: noise, count: 12, height: 28, width: 28, "
                    "channels: 1, seed: 3}\n")
    side = f", sidecar: {sidecar}" if sidecar else ""
    model = model or f"{tmp}/models/dict_model.pt"
    return write(f"{tmp}/{name}.yaml", f"store: {store}\nshard_size: 4\nbatch_size: 4\n"
                 f"metrics: [mutual_knn:k=3]\n{extra}image_sets:{sets}"
                 f"models:\n  - {{name: m, path: {model}{side}}}\n")


def must(args):
    code, _, err = run(*args)
    if code != 0:
        sys.exit(f"bad_input_walk: setup step prh {' '.join(args)} failed ({code}): {err[-800:]}")


def data_loss(tmp):
    side = f"{tmp}/models/dict_model.yaml"
    original = open(side).read()
    # D1a: the sidecar edited in place between two embeds (store).
    cfg = sweep(tmp, "resume", f"{tmp}/resume/store.h5")
    must(["embed", cfg])
    store = f"{tmp}/resume/store.h5"
    before = digest(store)
    write(side, original.replace("mean: [0.5]", "mean: [0.1]"))
    case("D1a sidecar edited in place, resume (store)", [(["embed", cfg], {})],
         [store, "model 'm'", "sidecar changed", "mean: [0.5] -> [0.1]"],
         f"{E2E}; StoreParts.SidecarEditedInPlaceIsRefused", keep=[(store, before)])
    write(side, original)
    # D1b: ... and the parts of a job-array task.
    cfg = sweep(tmp, "parts", f"{tmp}/parts/store.h5")
    must(["embed", cfg, "--array-task", "0", "--array-size", "2"])
    parts = digest(f"{tmp}/parts")
    write(side, original.replace("std: [0.5]", "std: [0.25]"))
    case("D1b sidecar edited in place, resume (job-array parts)",
         [(["embed", cfg, "--array-task", "0", "--array-size", "2"], {}), (["embed", cfg], {})],
         ["std: [0.5] -> [0.25]"], E2E, keep=[(f"{tmp}/parts", parts)])
    write(side, original)
    # D2a-c: the store as its results' preparation cache, by name and by
    # symlink; a foreign file where the cache goes.
    os.makedirs(f"{tmp}/collide")
    shutil.copy(store, f"{tmp}/collide/r.h5.prep.h5")
    st = f"{tmp}/collide/r.h5.prep.h5"
    b = digest(st)
    cfg = sweep(tmp, "collide", st, extra=f"results: {tmp}/collide/r.h5\n")
    case("D2a results: R with R.prep.h5 = the store (by name)",
         [([c, cfg], {}) for c in ("reduce", "run", "validate")],
         ["are the same file", st], E2E, keep=[(st, b)])
    os.makedirs(f"{tmp}/sym")
    os.symlink(store, f"{tmp}/sym/r.h5.prep.h5")
    cfg = sweep(tmp, "sym", store, extra=f"results: {tmp}/sym/r.h5\n")
    case("D2b R.prep.h5 a symlink to the store", [(["reduce", cfg], {})],
         ["are the same file"], E2E, keep=[(store, before)])
    foreign = write(f"{tmp}/foreign/r.h5.prep.h5", "my notes, not a cache\n")
    fb = digest(foreign)
    cfg = sweep(tmp, "foreign", store, extra=f"results: {tmp}/foreign/r.h5\n")
    case("D2c a foreign file at R.prep.h5 (never remade)", [(["reduce", cfg], {})],
         [foreign, "not a prh preparation cache"], E2E, keep=[(foreign, fb), (store, before)])


def config_reader(tmp):
    base = ("store: {tmp}/cfg/s.h5\nimage_sets:\n  - name: {name}\n    source: "
            "{{kind: noise, count: {count}, height: 8, width: 8}}\n"
            "models:\n  - {{name: m, path: x.pt}}\n")

    def cfg(name="u", count="4", head=""):
        return head + base.format(tmp=tmp, name=name, count=count)

    def bad(label, file, text, needles, cmds=(("validate", "--no-paths"),), test=E2E):
        path = write(f"{tmp}/cfg/{file}.yaml", text)
        case(label, [([*c, path], {}) for c in cmds], needles, test)

    bad("50k-character set name", "longname", cfg(name="a" * 50000),
        ["image_sets[0].name", "longer than"])
    bad("100k-digit number", "digits", cfg(count="9" * 100000),
        ["image_sets[0].source.count", "longer than"])
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [" + ", ".join([f"*{chr(97 + i)}"] * 10) + "]\n"
        for i in range(9))
    bad("YAML alias bomb", "bomb", bomb + cfg(), ["more than 100000 values", "alias"])
    bad("out-of-range integer", "range", cfg(count="99999999999999999999"),
        ["image_sets[0].source.count", "out of range"])
    bad("1e999", "inf", cfg(head="seed: 1e999\n"), ["seed", "out of range"])
    bad("non-string key", "key", cfg(head="[a, b]: 1\n"), ["a key must be a plain string"])
    fifo = f"{tmp}/cfg/fifo.yaml"
    os.mkfifo(fifo)
    case("FIFO as the config", [(["validate", fifo], {"timeout": 60})],
         [fifo, "not a regular file"], E2E)
    case("/dev/zero as the config", [(["validate", "/dev/zero"], {"timeout": 60})],
         ["/dev/zero", "not a regular file"], E2E)
    return bad, cfg


def sizes(tmp, bad, cfg):
    import h5py
    import numpy as np

    def idx(path, dims, payload):
        head = bytes([0, 0, 8, len(dims)]) + b"".join(d.to_bytes(4, "big") for d in dims)
        return write(path, head + payload)

    big = idx(f"{tmp}/idx/huge-images-idx3-ubyte", [4000000000, 65536, 65536], bytes(64))
    sets = f"\n  - name: i\n    source: {{kind: idx, images: {big}}}\n"
    cfgp = sweep(tmp, "idx_images", f"{tmp}/idx_images/s.h5", sets=sets)
    case("IDX header 4e9 x 65536 x 65536", [(["validate", cfgp], {}), (["embed", cfgp], {})],
         [big, "65536 x 65536"], "IdxTest.BadFilesAreNamed")
    ok_images = idx(f"{tmp}/idx/ok-images-idx3-ubyte", [2, 28, 28], bytes(2 * 28 * 28))
    labels = idx(f"{tmp}/idx/huge-labels-idx1-ubyte", [4000000000], bytes([1, 2]))
    sets = f"\n  - name: i\n    source: {{kind: idx, images: {ok_images}, labels: {labels}}}\n"
    cfgp = sweep(tmp, "idx_labels", f"{tmp}/idx_labels/s.h5", sets=sets)
    case("IDX 4e9 labels", [(["validate", cfgp], {}), (["embed", cfgp], {})],
         [labels, "4000000000 labels"], "IdxTest.BadFilesAreNamed")

    with h5py.File(f"{tmp}/big.h5", "w") as f:
        f.create_dataset("x", shape=(4, 60000, 60000), dtype=np.uint8, chunks=(1, 256, 256))
    cfgp = sweep(tmp, "hdf5", f"{tmp}/hdf5/s.h5",
                 sets=f"\n  - name: big\n    source: {{kind: hdf5, file: {tmp}/big.h5, "
                      f"dataset: x}}\n")
    case("HDF5 image set [4, 60000, 60000]", [(["validate", cfgp], {}), (["embed", cfgp], {})],
         [f"{tmp}/big.h5", "60000 x 60000"], E2E)

    side = write(f"{tmp}/models/huge.yaml", "input_size: 100000\nchannels: 1\n")
    cfgp = sweep(tmp, "huge", f"{tmp}/huge/s.h5", sidecar=side)
    case("sidecar input_size: 100000", [(["validate", cfgp], {}), (["embed", cfgp], {})],
         [side, "input_size", "4096"], E2E)

    text = cfg(count=str(2 ** 40)).replace("path: x.pt", f"path: {tmp}/models/dict_model.pt")
    path = write(f"{tmp}/cfg/count.yaml", text)
    case("noise count: 2^40 (embed)", [(["embed", path], {})],
         ["image_sets[0].source.count", "10000000"], E2E)
    case("noise count: 2^40 (validate)", [(["validate", "--no-paths", path], {})],
         ["image_sets[0].source.count", "10000000"], f"{E2E}; ConfigLimits.GeneratedSetSizes")


def crashes_cli_files(tmp, bad, cfg):
    import h5py
    import numpy as np
    ab = f"{tmp}/ab.h5"
    with h5py.File(ab, "w") as f:
        f["a"] = np.random.default_rng(1).standard_normal((20, 4)).astype(np.float32)
        f["b"] = np.random.default_rng(2).standard_normal((20, 4)).astype(np.float32)
    case("compare --threads 100000",
         [(["compare", f"{ab}:/a", f"{ab}:/b", "-m", "cka", "--threads", "100000"], {})],
         ["--threads", "1024"], E2E)

    side = write(f"{tmp}/models/random_bytes.yaml", b"input_size: 28\nlayer_names: [\xff\xfe\x80]\n"
                 + bytes(range(128, 256)) * 8)
    cfgp = sweep(tmp, "random", f"{tmp}/random/s.h5", sidecar=side)
    case("random-bytes sidecar", [(["validate", cfgp], {}), (["embed", cfgp], {})],
         [side], f"{E2E}; SidecarTest.BadBytesAreInputErrors")

    raw = cfg().encode().replace(b"path: x.pt", b"path: mod\xff\xfe.pt")
    path = write(f"{tmp}/cfg/utf8.yaml", raw)
    case("non-UTF-8 model path", [(["validate", path], {}), (["embed", path], {})],
         ["models[0].path", "mod\\xff\\xfe.pt"], E2E)

    passwd = f"{tmp}/etc/passwd"
    os.makedirs(os.path.dirname(passwd))
    shutil.copy("/etc/passwd", passwd)
    before = digest(passwd)
    case("report --out /etc/passwd (a copy)", [(["report", ab, "--out", passwd], {})],
         ["--out", passwd, "not a folder"], E2E, keep=[(passwd, before)])


def silent(tmp, bad, cfg):
    import numpy as np
    bad("duplicated YAML key (confidence: 1.5 above)", "dup",
        cfg(head="confidence: 1.5\n") + "confidence: 0.9\n", ["confidence", "given twice"])
    bad("second YAML document", "docs", cfg() + "---\nstore: elsewhere.h5\n",
        ["2 YAML documents"])

    from PIL import Image
    os.makedirs(f"{tmp}/jpg/c")
    img = Image.fromarray((np.arange(64 * 64 * 3) % 251).astype(np.uint8).reshape(64, 64, 3))
    img.save(f"{tmp}/whole.jpg", quality=90)
    data = open(f"{tmp}/whole.jpg", "rb").read()
    write(f"{tmp}/jpg/c/cut.jpg", data[:len(data) // 3])
    cfgp = sweep(tmp, "jpg", f"{tmp}/jpgstore/s.h5",
                 sets=f"\n  - name: j\n    source: {{kind: folder, root: {tmp}/jpg}}\n")
    case("JPEG cut to a third", [(["embed", cfgp], {})], ["cut.jpg", "truncated"], E2E)

    # Flipped weight bytes: one byte of the first tensor's data in the zip.
    good = open(f"{tmp}/models/dict_model.pt", "rb").read()
    name = good.find(b"data/0")
    local = good.rfind(b"PK\x03\x04", 0, name)
    u16 = lambda at: good[at] | good[at + 1] << 8  # noqa: E731
    at = local + 30 + u16(local + 26) + u16(local + 28)
    flipped = bytearray(good)
    flipped[at + 1] ^= 0x40
    model = write(f"{tmp}/models/flipped.pt", bytes(flipped))
    shutil.copy(f"{tmp}/models/dict_model.yaml", f"{tmp}/models/flipped.yaml")
    cfgp = sweep(tmp, "flipped", f"{tmp}/flipped/s.h5", model=model)
    case("TorchScript with flipped weight bytes", [(["embed", cfgp], {})],
         [model, "CRC-32"], "TorchScriptTest.FlippedWeightBytesAreRefused")

    side = write(f"{tmp}/models/big_mean.yaml", "input_size: 28\nchannels: 1\nmean: [1e39]\n")
    cfgp = sweep(tmp, "big_mean", f"{tmp}/big_mean/s.h5", sidecar=side)
    case("sidecar mean: [1e39]", [(["validate", cfgp], {}), (["embed", cfgp], {})],
         [side, "mean", "float32 range"], E2E)

    nul = cfg().replace(f"store: {tmp}/cfg/s.h5", f'store: "{tmp}/cfg/a\\0b/s.h5"')
    nul = nul.replace("path: x.pt", f"path: {tmp}/models/dict_model.pt")
    path = write(f"{tmp}/cfg/nul.yaml", nul)
    case("NUL byte in the store path (validate)", [(["validate", path], {})],
         ["store", "NUL byte"], E2E)
    case("NUL byte in the store path (embed)", [(["embed", path], {})],
         ["store", "NUL byte"], E2E)
    long_dir = f"{tmp}/cfg/" + "d" * 5000 + "/s.h5"
    text = cfg().replace(f"store: {tmp}/cfg/s.h5", f"store: {long_dir}")
    path = write(f"{tmp}/cfg/longdir.yaml",
                 text.replace("path: x.pt", f"path: {tmp}/models/dict_model.pt"))
    case("5000-character store folder (validate)", [(["validate", path], {})],
         ["store", "longer than"], E2E)
    case("5000-character store folder (embed)", [(["embed", path], {})],
         ["store", "longer than"], E2E)
    stray = sorted(f for f in os.listdir(f"{tmp}/cfg") if not f.endswith(".yaml"))
    if stray:
        ROWS[-1] = ROWS[-1][:3] + ("FAIL",) + ROWS[-1][4:]
        print(f"  FAIL: stray entries left in {tmp}/cfg: {stray}")

    cfgp = sweep(tmp, "submit", f"{tmp}/submit/s.h5")
    case("submit --sbatch with a newline",
         [(["submit", cfgp, "--dry-run", "--jobs-dir", f"{REPO}/jobs",
            "--sbatch=--qos=x\nrm -rf /"], {})], ["--sbatch", "line break"], E2E)
    case("prh frobnicate", [(["frobnicate"], {})], ["frobnicate", "unknown command"], E2E)


def leftovers(tmp):
    cfgp = sweep(tmp, "submit", f"{tmp}/submit/s.h5")
    case("+ submit --time soon",
         [(["submit", cfgp, "--dry-run", "--jobs-dir", f"{REPO}/jobs", "--time", "soon"], {})],
         ["--time 'soon'", "not a SLURM time"], E2E)
    # A std::bad_alloc inside `prh reduce`: broad_model's layer of 24304
    # features needs a 4.7 GB Gram matrix, under a 4 GiB address-space limit.
    m = f"{tmp}/models"
    cfgp = write(f"{tmp}/oom.yaml", f"store: {tmp}/oom/s.h5\nresults: {tmp}/oom/r.h5\n"
                 "shard_size: 4\nbatch_size: 4\nmetrics: [cka]\nimage_sets:\n  - name: u\n"
                 "    source: {kind: noise, count: 12, height: 28, width: 28, channels: 1, "
                 f"seed: 3}}\nmodels:\n  - {{name: b, path: {m}/broad_model.pt, "
                 f"sidecar: {m}/broad_model.yaml}}\n")
    must(["embed", cfgp])
    case("+ out of memory inside prh reduce (4 GiB limit)",
         [(["reduce", cfgp], {"limit_as": 4 << 30, "timeout": 300})],
         ["out of memory", "image set 'u'", "model 'b'", "bytes"], E2E)


def main():
    find_tool("prh")
    make = find_tool("prh-make-test-models")
    tmp = tempfile.mkdtemp(prefix="prh-bad-input-walk-")
    os.makedirs(f"{tmp}/models")
    subprocess.run([make, f"{tmp}/models"], check=True, capture_output=True)
    print(f"# prh: {PRH}\n# folder: {tmp}\n\n| # | case | exit | first line of the message | "
          "verdict | reproduced by |\n|---|---|---|---|---|---|", flush=True)
    data_loss(tmp)
    bad, cfg = config_reader(tmp)
    sizes(tmp, bad, cfg)
    crashes_cli_files(tmp, bad, cfg)
    silent(tmp, bad, cfg)
    n = len([r for r in ROWS if not r[0].startswith("+")])
    leftovers(tmp)
    failed = [r for r in ROWS if r[3] != "PASS"]
    print(f"# {n} cases of issue 24, {len(ROWS) - n} more; {len(ROWS) - len(failed)} PASS, "
          f"{len(failed)} FAIL")
    if not failed:
        shutil.rmtree(tmp, ignore_errors=True)
    else:
        print(f"# kept {tmp}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
