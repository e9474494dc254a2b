"""What the e2e tests share: recorded checks and the verdict, prh run plainly
or under mpiexec, configs written from their parts, a work folder kept when a
check failed, HDF5 files read whole and compared bit for bit, and commands
that hold at a known point for kill and signal tests.

A test imports what it needs and ends with `run_test(NAME, main)`.

Holding (docs/testing.md): PRH_TEST_HOLD=STAGE:N:FILE makes each rank of a
stage wait after its N-th finished unit until FILE exists or a stop is
requested. A test starts the command with a FILE that never appears, waits
for the hold line in the log, and then kills or signals it: the kill lands
mid-work every time, however fast or loaded the machine, and the hold line
says how much was left.
"""
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
FASHION = "/usr/share/datasets/fashion-mnist"
SKIMAGE = "/usr/lib/python3/dist-packages/skimage/data"

# Open MPI as root, more ranks than cores, shared memory without CMA (not
# allowed in containers).
MPI_ENV = {"OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
           "OMPI_MCA_rmaps_base_oversubscribe": "1", "OMPI_MCA_btl": "self,vader",
           "OMPI_MCA_btl_vader_single_copy_mechanism": "none"}

# --- checks and the verdict -----------------------------------------------------

failures = []
verbose = False  # print passed checks too


def check(cond, what):
    """Records `what` as failed unless cond (printed at once); returns cond."""
    if verbose or not cond:
        print(("ok: " if cond else "FAIL: ") + what, flush=True)
    if not cond:
        failures.append(what)
    return cond


def run_test(name, body, *args):
    """Runs body(tmp, *args) in a fresh work folder and exits with the verdict.

    An exception counts as a failure. The folder is removed when every check
    passed and kept (named) otherwise.
    """
    tmp = tempfile.mkdtemp(prefix=f"prh-{name}-")
    try:
        body(tmp, *args)
    except Exception as e:  # noqa: BLE001: reported as a failure, the folder kept
        traceback.print_exc()
        check(False, f"unexpected {type(e).__name__}: {e}")
    if failures:
        print(f"{name}: {len(failures)} FAILED; files kept in {tmp}", flush=True)
        sys.exit(1)
    shutil.rmtree(tmp, ignore_errors=True)
    print(f"{name}: all checks passed", flush=True)
    sys.exit(0)


# --- running prh ----------------------------------------------------------------

def mpi_env(locking=True, **extra):
    """This process's environment with MPI_ENV (and HDF5 file locking off if not locking)."""
    env = dict(os.environ, **MPI_ENV, **extra)
    if not locking:
        env["HDF5_USE_FILE_LOCKING"] = "FALSE"
    return env


class Prh:
    """prh as the tests run it: a plain process (an MPI singleton) or under mpiexec.

    env: the environment of every run (None: this process's); a call's own
    env= replaces it.
    """

    def __init__(self, exe, mpiexec=None, env=None):
        self.exe, self.mpiexec, self.env = exe, mpiexec, env

    def cmd(self, n, *args):
        """The command line: mpiexec with n ranks, or prh alone for n = 0."""
        return ([self.mpiexec, "-n", str(n), "--oversubscribe"] if n else []) + [self.exe, *args]

    def mpi(self, n, *args, env=None, **kw):
        return subprocess.run(self.cmd(n, *args), capture_output=True, text=True,
                              env=self.env if env is None else env, **kw)

    def __call__(self, *args, **kw):
        return self.mpi(0, *args, **kw)

    def start(self, n, *args):
        return subprocess.Popen(self.cmd(n, *args), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=self.env)

    def expect_error(self, args, needles, what, stdout_empty=False, env=None):
        """Checks that prh ARGS exits 2 naming every needle on stderr; returns the run."""
        r = self(*args, env=env)
        check(r.returncode == 2, f"{what}: exit {r.returncode}, want 2: {r.stderr[-800:]}")
        for needle in needles:
            check(needle in r.stderr, f"{what}: stderr lacks {needle!r}: {r.stderr[-800:]}")
        if stdout_empty:
            check(r.stdout == "", f"{what}: stdout not empty: {r.stdout!r}")
        return r


def make_models(tool, folder):
    """The test models of tests/make_test_models into folder."""
    os.makedirs(folder, exist_ok=True)
    subprocess.run([tool, folder], check=True, capture_output=True)


# --- configs --------------------------------------------------------------------

def write_text(path, text):
    with open(path, "w") as f:
        f.write(text)
    return path


def fashion(limit=None, labels=True, classes=(0, 1, 2, 3, 4)):
    """An idx source of Fashion-MNIST's test images, as one line of YAML."""
    parts = ["kind: idx", f"images: {FASHION}/t10k-images-idx3-ubyte.gz"]
    if labels:
        parts.append(f"labels: {FASHION}/t10k-labels-idx1-ubyte.gz")
        if classes:
            parts.append("classes: [" + ", ".join(str(c) for c in classes) + "]")
    if limit is not None:
        parts.append(f"limit: {limit}")
    return "{" + ", ".join(parts) + "}"


def write_config(path, params, sets, models, tail=""):
    """Writes a sweep config; returns its path.

    params: key -> YAML value text, written in order; sets: the YAML after
    `image_sets:`; models: (name, path) or (name, path, sidecar) each; tail:
    text after the models.
    """
    lines = [f"{k}: {v}" for k, v in params.items()]
    lines.append("image_sets:" + sets)
    lines.append("models:")
    for m in models:
        side = f", sidecar: {m[2]}" if len(m) > 2 else ""
        lines.append(f"  - {{name: {m[0]}, path: {m[1]}{side}}}")
    return write_text(path, "\n".join(lines) + "\n" + tail)


# --- HDF5 -----------------------------------------------------------------------

def read_h5(path, attrs=False, root_attrs=False):
    """Every dataset of an HDF5 file by path; with attrs, every attribute of its
    objects as 'path@name' too (and the root's as '@name' with root_attrs)."""
    import h5py
    out = {}
    with h5py.File(path, "r") as f:
        def visit(name, obj):
            if isinstance(obj, h5py.Dataset):
                out[name] = obj[()]
            if attrs:
                for k, v in obj.attrs.items():
                    out[name + "@" + k] = v
        f.visititems(visit)
        if root_attrs:
            for k, v in f.attrs.items():
                out["@" + k] = v
    return out


def same_h5(a, b, what, attrs=False):
    """Checks that two HDF5 files hold the same objects, each bit for bit equal."""
    import numpy as np
    if not check(os.path.exists(a) and os.path.exists(b), f"{what}: files exist ({a}, {b})"):
        return
    ra, rb = read_h5(a, attrs), read_h5(b, attrs)
    check(sorted(ra) == sorted(rb) and len(ra) > 0,
          f"{what}: same objects ({len(ra)}; only in one: "
          f"{sorted(set(ra) ^ set(rb))[:8]})")
    differ = []
    for k in ra:
        if k in rb:
            x, y = np.asarray(ra[k]), np.asarray(rb[k])
            if not (x.shape == y.shape and x.tobytes() == y.tobytes()):
                differ.append(k)
    check(not differ, f"{what}: every object bit for bit equal (differ: {differ[:8]})")


# --- holding a stage ------------------------------------------------------------

HOLD = re.compile(r"test hold: (\w+) after (\d+) of (\d+) units on this rank \((\d+) left\)")


def journal_flags(path):
    """The done flags waiting in the journals of `path` (a serial-HDF5 build's
    reduce, docs/store.md "Serial HDF5"): {flag dataset path: set of units},
    read from whole frames only, as prh replays them. Empty when there is none
    (every parallel-HDF5 run)."""
    import struct
    out = {}
    folder = path + ".journal"
    if not os.path.isdir(folder):
        return out
    for name in sorted(os.listdir(folder)):
        with open(os.path.join(folder, name), "rb") as f:
            data = f.read()
        if len(data) < 20 or not data.startswith(b"prh-journal-1\n"):
            continue
        pos = 20
        while pos + 16 <= len(data):
            begin, n = struct.unpack_from("<QQ", data, pos)
            end = pos + 16 + n
            if begin != 0x314D5246484A5250 or end + 8 > len(data) or \
                    struct.unpack_from("<Q", data, end)[0] != 0x31444E45484A5250:
                break  # torn: dropped
            q = pos + 16
            while q < end:
                kind = data[q]
                (plen,) = struct.unpack_from("<I", data, q + 1)
                dpath = data[q + 5:q + 5 + plen].decode()
                q += 5 + plen
                if kind == 2:
                    out.setdefault(dpath, set()).add(struct.unpack_from("<Q", data, q)[0])
                    q += 8
                else:
                    rank = data[q + 1]
                    q += 2 + 16 * rank
                    (nbytes,) = struct.unpack_from("<Q", data, q)
                    q += 8 + nbytes
            pos = end + 8
    return out


def parts_waiting(store):
    """Work items in part files beside `store` (job-array tasks, or the ranks
    of a serial-HDF5 build before rank 0 merges them)."""
    n = 0
    for _, _, files in os.walk(store + ".parts"):
        n += sum(1 for f in files if f.endswith(".h5"))
    return n


def start_held(cmd, env, stage, after, log, timeout=300):
    """Starts cmd (its own process group) holding after `after` units of `stage`.

    Returns (process, holds): holds lists (done, todo, left) of each hold line
    seen in `log` (the command's stdout and stderr) by the time the first
    appeared; empty if the command ended or `timeout` passed first.
    """
    out = open(log, "w")
    p = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT,
                         env=dict(env, PRH_TEST_HOLD=f"{stage}:{after}:{log}.never"),
                         start_new_session=True)
    out.close()
    t0 = time.time()
    while time.time() - t0 < timeout and p.poll() is None:
        with open(log) as f:
            found = [(int(d), int(t), int(l)) for s, d, t, l in HOLD.findall(f.read())
                     if s == stage]
        if found:
            return p, found
        time.sleep(0.02)
    return p, []


def kill_held(cmd, env, stage, after, log, timeout=300):
    """kill -9 of the whole process group once a rank holds; returns the holds seen."""
    p, holds = start_held(cmd, env, stage, after, log, timeout)
    if p.poll() is None:
        os.killpg(p.pid, signal.SIGKILL)
    p.wait()
    return holds


def wait_gone(needle, timeout=60):
    """Polls until no process's command line contains `needle` (ranks that
    outlive a killed mpirun for a moment); returns whether they are gone."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        alive = False
        for pid in os.listdir("/proc"):
            if not pid.isdigit() or int(pid) == os.getpid():
                continue
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if needle in cmd:
                alive = True
                break
        if not alive:
            return True
        time.sleep(0.1)
    return False


def why_no_hold(log):
    """One line on why a command never held, from its log."""
    text = open(log).read() if os.path.exists(log) else ""
    return f"it never held; its log ends: {text[-600:]!r}"
