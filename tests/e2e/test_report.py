#!/usr/bin/python3
"""End-to-end test of `prh report`: the report of small results files,
rendered in headless Chromium.

usage: test_report.py PATH/TO/prh

The results files are written by tests/e2e/report_fixture.py with h5py in the
layout `prh reduce` writes (docs/results.md): 20 models in 6 families (long
timm-style names among them), 3 image sets, 6 configurations. Three files:

1. plain: what prh reduce writes today (no calibration, no correlation nulls,
   no sweeps): the report has no calibrated or sweep figure, says that those
   parts are absent, and exits 0;
2. rich: the same plus *fabricated* optional parts that later stages will
   write (calibration, correlation nulls and Mantel p, /models family and
   training_data, a sweep in the older /sweeps layout, without the curves): the calibrated
   and sweep figures appear;
3. partial: what `prh reduce --partial` leaves (two models without
   embeddings, complete = 0): the report says what is missing.

Each report is loaded in headless Chromium through the DevTools protocol on
a pipe (--remote-debugging-pipe: no port, no websocket):
- no console message of level error/warning, no uncaught exception, no
  failed request, and every request is a file:// URL inside the report folder
  (nothing fetched from anywhere else);
- every figure of the page is an <img> that loaded (naturalWidth > 0), its
  SVG/PNG/PDF files exist, its PNG and its region of a full-page screenshot
  are not blank (pixel statistics: enough non-white pixels, spread of grey
  levels);
- the page prints (Page.printToPDF gives a PDF);
- every number in the page's tables is parsed back from the DOM (html.parser
  on the rendered document) and compared with the results file read by h5py:
  cells that carry data-h5 / data-idx must equal the dataset entry exactly
  (the report prints repr of the double), the mean alignment and its
  bootstrap interval included (/correlation/S/mean*, /sweeps/NAME/mean*:
  stored by reduce); for a file that does not store them (plain), the
  report computes the mean (data-derived, no interval), recomputed here
  independently from the h5py arrays to 1e-12 relative, and says so.
Bad input: a missing file, a file that is not a results file, an unknown
--pair, a missing report script (PRH_TOOLS) or a Python without matplotlib
(PRH_PYTHON) give exit status 2 and one line naming the problem.

Screenshots and reports are kept under $PRH_REPORT_TEST_KEEP when set.
"""
import base64
import html.parser
import io
import json
import math
import os
import select
import shutil
import re
import subprocess
import sys
import time

import h5py
import numpy as np

import harness  # noqa: E402
import report_fixture  # noqa: E402
from harness import check  # noqa: E402

PRH = os.path.abspath(sys.argv[1])
KEEP = os.environ.get("PRH_REPORT_TEST_KEEP")


def find_chromium():
    for c in ("chromium", "chromium-browser", "google-chrome"):
        p = shutil.which(c)
        if p:
            return p
    return None


# --- PNG decoding (matplotlib's reader: Debian's python3-matplotlib) ------------------

def png_pixels(data):
    import matplotlib.image
    a = matplotlib.image.imread(io.BytesIO(data), format="png")
    if a.dtype != np.uint8:
        a = (a * 255).round().astype(np.uint8)
    return a[..., :3]


def not_blank(rgb, what, min_ink=0.02):
    """Enough pixels that are not the white background, and a spread of grey."""
    grey = rgb.astype(np.float64).mean(axis=2)
    ink = float(np.mean(grey < 245))
    spread = float(grey.std())
    levels = len(np.unique((grey // 16).astype(int)))
    ok = ink >= min_ink and spread >= 8 and levels >= 4
    check(ok, f"{what}: blank-looking (ink {ink:.3f}, std {spread:.1f}, {levels} grey levels)")
    return ok


# --- DevTools protocol over a pipe ---------------------------------------------------------

class Browser:
    """Chromium with --remote-debugging-pipe: JSON messages separated by NUL on
    fd 3 (to the browser) and fd 4 (from it)."""

    def __init__(self, chromium, profile):
        import fcntl
        r0, self.to_w = os.pipe()
        self.from_r, w0 = os.pipe()
        # Away from 3 and 4, so that moving them there cannot clobber one another.
        to_r, from_w = fcntl.fcntl(r0, fcntl.F_DUPFD, 100), fcntl.fcntl(w0, fcntl.F_DUPFD, 100)
        os.close(r0)
        os.close(w0)
        args = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--remote-debugging-pipe",
                f"--user-data-dir={profile}", "--no-first-run", "--no-default-browser-check",
                "--disable-extensions", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--disable-default-apps", "--mute-audio", "--hide-scrollbars",
                "--window-size=1280,1000", "--allow-file-access-from-files", "about:blank"]
        # fd 3 and 4 of the browser: the pipe ends (moved there by the shell).
        script = f'exec "$@" 3<&{to_r} 4>&{from_w} {to_r}<&- {from_w}>&-'
        self.proc = subprocess.Popen(["bash", "-c", script, "bash", *args], pass_fds=(to_r, from_w),
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        os.close(to_r)
        os.close(from_w)
        self.buf = b""
        self.next_id = 0
        self.events = []

    def _read(self, timeout):
        r, _, _ = select.select([self.from_r], [], [], timeout)
        if not r:
            return False
        chunk = os.read(self.from_r, 1 << 20)
        if not chunk:
            raise RuntimeError("chromium closed the DevTools pipe: "
                               + self.proc.stderr.read().decode(errors="replace")[-2000:])
        self.buf += chunk
        return True

    def _messages(self):
        while b"\0" in self.buf:
            msg, self.buf = self.buf.split(b"\0", 1)
            yield json.loads(msg)

    def call(self, method, params=None, session=None, timeout=60):
        self.next_id += 1
        mid = self.next_id
        msg = {"id": mid, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self.to_w, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            for m in self._messages():
                if m.get("id") == mid:
                    if "error" in m:
                        raise RuntimeError(f"{method}: {m['error']}")
                    return m.get("result", {})
                self.events.append(m)
            if time.monotonic() > deadline:
                raise TimeoutError(f"{method}: no answer in {timeout} s")
            self._read(0.5)

    def wait_event(self, method, timeout=60):
        deadline = time.monotonic() + timeout
        seen = 0
        while True:
            for m in self._messages():
                self.events.append(m)
            for m in self.events[seen:]:
                if m.get("method") == method:
                    return m
            seen = len(self.events)
            if time.monotonic() > deadline:
                raise TimeoutError(f"no {method} in {timeout} s")
            self._read(0.5)

    def close(self):
        try:
            self.call("Browser.close", timeout=10)
        except Exception:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self.to_w)
        os.close(self.from_r)


def render(chromium, index, tmp, shots):
    """Loads index.html; returns (events, DOM html, images [dicts], screenshot png bytes,
    per-image screenshot pngs, pdf bytes)."""
    b = Browser(chromium, os.path.join(tmp, "profile"))
    try:
        target = b.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        sid = b.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for dom in ("Page", "Runtime", "Log", "Network"):
            b.call(dom + ".enable", session=sid)
        b.call("Emulation.setDeviceMetricsOverride", {"width": 1280, "height": 1000, "deviceScaleFactor": 1,
                                                      "mobile": False}, session=sid)
        url = "file://" + os.path.abspath(index)
        b.call("Page.navigate", {"url": url}, session=sid)
        b.wait_event("Page.loadEventFired", timeout=60)
        ev = lambda expr: b.call("Runtime.evaluate", {"expression": expr, "returnByValue": True},  # noqa: E731
                                 session=sid)["result"].get("value")
        images = ev("""Array.from(document.images).map(i => { const r = i.getBoundingClientRect();
            return {src: i.getAttribute('src'), complete: i.complete, w: i.naturalWidth, h: i.naturalHeight,
                    x: r.left + window.scrollX, y: r.top + window.scrollY, cw: r.width, ch: r.height,
                    figure: i.closest('figure') ? i.closest('figure').dataset.figure : null}; })""")
        dom = ev("document.documentElement.outerHTML")
        metrics = b.call("Page.getLayoutMetrics", session=sid)
        size = metrics.get("cssContentSize") or metrics["contentSize"]
        full = base64.b64decode(b.call("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 0.5}},
            session=sid)["data"])
        crops = []
        for im in images:
            crops.append(base64.b64decode(b.call("Page.captureScreenshot", {
                "format": "png", "captureBeyondViewport": True,
                "clip": {"x": im["x"], "y": im["y"], "width": max(im["cw"], 1), "height": max(im["ch"], 1),
                         "scale": 1}}, session=sid)["data"]))
        pdf = base64.b64decode(b.call("Page.printToPDF", {"printBackground": False}, session=sid,
                                      timeout=120)["data"])
        # Let late events arrive (none expected: the page has no script).
        b.call("Runtime.evaluate", {"expression": "1"}, session=sid)
        events = list(b.events)
    finally:
        b.close()
    if shots:
        os.makedirs(shots, exist_ok=True)
        with open(os.path.join(shots, "page.png"), "wb") as fh:
            fh.write(full)
        for im, crop in zip(images, crops):
            with open(os.path.join(shots, f"{im['figure']}.png"), "wb") as fh:
                fh.write(crop)
        with open(os.path.join(shots, "print.pdf"), "wb") as fh:
            fh.write(pdf)
    return events, dom, images, full, crops, pdf


# --- the page's tables, parsed back --------------------------------------------------------

class Tables(html.parser.HTMLParser):
    """Every <td> of every table.numbers: its attributes, its text, its row."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tables = []  # (name, header, rows of [(attrs, text)])
        self.stack = None
        self.cell = None
        self.header = None
        self.in_th = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table" and "numbers" in (a.get("class") or ""):
            self.stack = (a.get("data-table"), [], [])
            self.tables.append(self.stack)
        elif self.stack is not None and tag == "tr":
            self.stack[2].append([])
        elif self.stack is not None and tag == "td":
            self.cell = [a, ""]
        elif self.stack is not None and tag == "th":
            self.in_th = True
            self.stack[1].append("")

    def handle_endtag(self, tag):
        if tag == "table":
            self.stack = None
        elif tag == "td" and self.cell is not None:
            self.stack[2][-1].append(tuple(self.cell))
            self.cell = None
        elif tag == "th":
            self.in_th = False

    def handle_data(self, data):
        if self.cell is not None:
            self.cell[1] += data
        elif self.in_th and self.stack is not None:
            self.stack[1][-1] += data


def parse_number(text):
    t = text.strip()
    if t == "NaN":
        return float("nan")
    if t in ("inf", "-inf"):
        return float(t)
    if all(c.isdigit() or c == "-" for c in t):
        return int(t)
    return float(t)


def same(a, b):
    a, b = float(a), float(b)
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == b


def close(a, b, rel=1e-12):
    a, b = float(a), float(b)
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return abs(a - b) <= rel * max(abs(a), abs(b), 1e-300)


def mean_offdiag_ref(S):
    """Independent: a plain loop over i != j, finite entries."""
    vals = [S[i, j] for i in range(S.shape[0]) for j in range(S.shape[0]) if i != j and np.isfinite(S[i, j])]
    return math.fsum(vals) / len(vals) if vals else float("nan")


MEAN_CELL = re.compile(r"^/(correlation|sweeps)/[^/]+/(calibrated_)?mean(_ci_low|_ci_high)?$")


def check_tables(dom, results, label):
    p = Tables()
    p.feed(dom)
    check(len(p.tables) >= 5, f"{label}: {len(p.tables)} number tables in the page")
    checked = derived = means = 0
    data = {}
    with h5py.File(results, "r") as f:
        models = [m.decode() if isinstance(m, bytes) else m for m in f["models"][()]]
        for name, header, rows in p.tables:
            check(len(rows) > 0, f"{label}: table {name} has rows")
            for r, row in enumerate(rows):
                for c, (attrs, text) in enumerate(row):
                    if "n" not in (attrs.get("class") or "").split():
                        continue
                    path = attrs.get("data-h5")
                    if not check(path is not None and path in f,
                                 f"{label}: table {name} row {r} col {c}: number {text!r} without a source "
                                 f"in the results file ({path})"):
                        continue
                    try:
                        got = parse_number(text)
                    except ValueError:
                        check(False, f"{label}: table {name} row {r}: {text!r} is not a number")
                        continue
                    if "data-derived" in attrs:
                        # Only the mean of a file that does not store it (no interval).
                        kind = attrs["data-derived"]
                        check(kind == "mean_offdiag", f"{label}: table {name} row {r}: computed {kind!r}")
                        S = f[path][()].astype(np.float64)
                        want = mean_offdiag_ref(S)
                        if not check(close(got, want), f"{label}: table {name} row {r}: {kind} of {path} "
                                                       f"= {text}, recomputed {want!r}"):
                            return
                        derived += 1
                        continue
                    means += bool(MEAN_CELL.match(path))
                    idx = tuple(int(i) for i in attrs["data-idx"].split(",")) if attrs.get("data-idx") else ()
                    if path not in data:
                        data[path] = f[path][()]
                    want = data[path][idx] if idx else data[path]
                    if not check(same(got, want) and (not isinstance(got, int) or float(want).is_integer()),
                                 f"{label}: table {name} row {r}: {path}{list(idx)} = {text}, file has {want!r}"):
                        return
                    checked += 1
                # Labels of pair rows name the models of the indices.
                cells = [t for a, t in row]
                hdr = list(header)
                if "model_a" in hdr and "model_b" in hdr:
                    idx_cells = [a for a, t in row if a.get("data-idx") and "scores" in a.get("data-h5", "")
                                 or a.get("data-h5", "").startswith("/predictions/") and a.get("data-idx", "").count(",") == 1]
                    if idx_cells:
                        i, j = (int(x) for x in idx_cells[0]["data-idx"].split(","))
                        ma, mb = cells[hdr.index("model_a")], cells[hdr.index("model_b")]
                        check({ma, mb} == {models[i], models[j]},
                              f"{label}: table {name} row {r}: models {ma}, {mb} but indices {i}, {j}")
    check(checked > 500, f"{label}: {checked} table numbers compared with the results file")
    # The mean alignment and its interval: read from the file (reduce stores them), or for a
    # file without them the mean recomputed here and no interval.
    check(derived > 10 or means > 10, f"{label}: {derived} computed, {means} stored means checked")
    check(not (derived and means), f"{label}: stored and computed means mixed in one file")
    print(f"{label}: {checked} numbers equal to the results file ({means} stored means), {derived} "
          f"computed means recomputed", flush=True)


# --- one report ------------------------------------------------------------------------------------

def check_report(chromium, results, tmp, label, want_figures, absent_figures, texts, default_out=False,
                 flags=()):
    t0 = time.monotonic()
    out = os.path.join(tmp, label + "-report")
    if default_out:
        check(results[:-3] + "-report" == out, "test: the default folder of the partial file")
    r = subprocess.run([PRH, "report", results, *flags] + ([] if default_out else ["--out", out]),
                       capture_output=True, text=True)
    check(r.returncode == 0, f"{label}: prh report exit {r.returncode}: {r.stderr[-2000:]}")
    if r.returncode != 0:
        return
    index = os.path.join(out, "index.html")
    check(r.stdout.strip() == index, f"{label}: prints the page's path: {r.stdout!r}")
    with open(index, encoding="utf-8") as fh:
        page = fh.read()
    for t in texts:
        check(t in page, f"{label}: the page says {t!r}")
    check("<script" not in page.lower(), f"{label}: no script in the page")
    for bad in ("http://", "https://", "//cdn", "@import", "url("):
        check(bad not in page, f"{label}: the page refers to {bad!r}")
    figs = sorted({os.path.splitext(x)[0] for x in os.listdir(os.path.join(out, "figures"))})
    for name in want_figures:
        check(name in figs, f"{label}: figure {name} written (have {figs})")
    for name in absent_figures:
        check(not any(x.startswith(name) for x in figs), f"{label}: no figure {name}* (have {figs})")
    for name in figs:
        for ext in ("svg", "png", "pdf"):
            path = os.path.join(out, "figures", f"{name}.{ext}")
            check(os.path.getsize(path) > 2000, f"{label}: {path} is not empty")
        with open(os.path.join(out, "figures", f"{name}.pdf"), "rb") as fh:
            check(fh.read(5) == b"%PDF-", f"{label}: {name}.pdf is a PDF")
        with open(os.path.join(out, "figures", f"{name}.svg"), encoding="utf-8") as fh:
            svg = fh.read()
        check("<svg" in svg and "http://www.w3.org/2000/svg" in svg and "xlink:href=\"http" not in svg,
              f"{label}: {name}.svg is a self-contained SVG")
        with open(os.path.join(out, "figures", f"{name}.png"), "rb") as fh:
            not_blank(png_pixels(fh.read()), f"{label}: {name}.png")

    t1 = time.monotonic()
    shots = os.path.join(KEEP, label + "-shots") if KEEP else None
    events, dom, images, full, crops, pdf = render(chromium, index, tmp, shots)
    t2 = time.monotonic()
    # Console, exceptions, requests.
    for e in events:
        m, p = e.get("method"), e.get("params", {})
        if m == "Runtime.consoleAPICalled":
            check(p.get("type") not in ("error", "warning", "assert"),
                  f"{label}: console {p.get('type')}: {p.get('args')}")
        elif m == "Runtime.exceptionThrown":
            check(False, f"{label}: exception {p.get('exceptionDetails')}")
        elif m == "Log.entryAdded":
            entry = p.get("entry", {})
            check(entry.get("level") not in ("error", "warning"), f"{label}: log {entry}")
        elif m == "Network.loadingFailed":
            check(False, f"{label}: request failed: {p}")
        elif m == "Network.requestWillBeSent":
            u = p.get("request", {}).get("url", "")
            check(u.startswith("file://" + os.path.abspath(out) + "/") or u.startswith("data:"),
                  f"{label}: request outside the report folder: {u}")
        elif m == "Network.responseReceived":
            st = p.get("response", {}).get("status", 0)
            check(st in (0, 200), f"{label}: response status {st} for {p.get('response', {}).get('url')}")
    requests = [e for e in events if e.get("method") == "Network.requestWillBeSent"]
    check(len(requests) >= 1 + len(images), f"{label}: {len(requests)} requests seen (page + images)")
    # Figures in the page.
    shown = [im["figure"] for im in images]
    check(sorted(shown) == figs, f"{label}: figures shown {sorted(shown)} = figures written {figs}")
    for im, crop in zip(images, crops):
        check(im["complete"] and im["w"] > 0 and im["h"] > 0, f"{label}: image {im['src']} loaded: {im}")
        check(im["src"] == f"figures/{im['figure']}.svg", f"{label}: image source {im['src']} is relative")
        check(im["cw"] >= 300, f"{label}: figure {im['figure']} shown {im['cw']:.0f} px wide")
        not_blank(png_pixels(crop), f"{label}: screenshot of figure {im['figure']}")
    page_px = png_pixels(full)
    check(page_px.shape[0] > 500, f"{label}: full-page screenshot {page_px.shape}")
    not_blank(page_px, f"{label}: full-page screenshot", min_ink=0.01)
    check(pdf[:5] == b"%PDF-" and len(pdf) > 10000, f"{label}: the page prints to PDF ({len(pdf)} bytes)")
    check_tables(dom, results, label)
    print(f"{label}: report {t1 - t0:.1f} s, browser {t2 - t1:.1f} s, checks {time.monotonic() - t2:.1f} s",
          flush=True)  # for the reader; nothing asserts on it
    if KEEP:
        shutil.copytree(out, os.path.join(KEEP, label + "-report"), dirs_exist_ok=True)


def main(tmp):
    chromium = find_chromium()
    if not check(chromium, "chromium not found (Debian: apt-get install chromium; "
                 "bash tools/bootstrap.sh --tests installs it)"):
        return
    base = ["correlation_matrices", "pair_scatter", "alignment_mutual_knn_k_10", "alignment_cknna_k_10",
            "alignment_cka_kernel_linear", "mean_alignment", "predictions", "alignment_vs_accuracy"]

    plain = report_fixture.write(os.path.join(tmp, "plain.h5"))
    check_report(chromium, plain, tmp, "plain", base, ["calibrated_", "sweep_"],
                 ["Not in this results file", "calibration (/calibration)", "sweeps (/sweeps)",
                  "no pair is marked significant", "does not store the mean alignment"])

    rich = report_fixture.write(os.path.join(tmp, "rich.h5"), calibration=True, nulls=True, sweep=True, groups=True,
                                means=True)
    # Two main configurations, one by its short name (fewer heatmaps to draw).
    check_report(chromium, rich, tmp, "rich",
                 [f for f in base if f != "alignment_cka_kernel_linear"]
                 + ["calibrated_mutual_knn_k_10", "calibrated_cknna_k_10", "sweep_blend", "group_effects"],
                 ["alignment_cka", "calibrated_cka"],
                 ["Mantel p", "Benjamini-Hochberg", "Sweep blend", "docs/sweeps.md",
                  "training data and family", "Group effects beyond each model",
                  "not the finding"], flags=["--config", "mutual_knn@10", "--config", "cknna@k=10"])

    # Written without --out: RESULTS without .h5, plus -report.
    partial = report_fixture.write(os.path.join(tmp, "partial.h5"), partial=True, models=10, means=True)
    check_report(chromium, partial, tmp, "partial", base, ["calibrated_", "sweep_"],
                 ["This results file is incomplete", "2 of 10 models without complete embeddings",
                  "cnn_w16_d2_s1", "model pairs (i &lt;= j) not scored"], default_out=True)

    # Bad inputs: exit 2, one line naming the problem.
    def bad(args, needles, what, env=None):
        harness.Prh(PRH).expect_error(["report", *args], needles, what,
                                      env=dict(os.environ, **(env or {})))

    missing = os.path.join(tmp, "nope.h5")
    bad([missing], [missing, "no such file"], "missing file")
    other = os.path.join(tmp, "other.h5")
    with h5py.File(other, "w") as h:
        h.attrs["format"] = "prh-store-1"
    bad([other], [other, "not a prh results file"], "not a results file")
    text = os.path.join(tmp, "text.h5")
    with open(text, "w") as fh:
        fh.write("not hdf5\n")
    bad([text], [text], "not an HDF5 file")
    bad([plain, "--pair", "mutual_knn@k=10,svcca"], ["svcca", "--pair"], "unknown --pair configuration")
    bad([plain, "--config", "nope"], ["nope", "--config"], "unknown --config")
    empty = os.path.join(tmp, "empty-tools")
    os.makedirs(empty)
    bad([plain], ["PRH_TOOLS=" + empty, "prh_report.py"], "no report script", env={"PRH_TOOLS": empty})
    bad([plain], ["/nonexistent/python3", "matplotlib"], "no python", env={"PRH_PYTHON": "/nonexistent/python3"})
    nomods = os.path.join(tmp, "python-without-packages")
    with open(nomods, "w") as fh:
        fh.write("#!/bin/sh\nexec /usr/bin/python3 -S \"$@\"\n")  # -S: no dist-packages
    os.chmod(nomods, 0o755)
    bad([plain], ["python3-matplotlib", "bootstrap.sh"], "python without matplotlib",
        env={"PRH_PYTHON": nomods})


if __name__ == "__main__":
    harness.run_test("report", main)
