"""The command line of the report (`prh report`, tools/prh_report.py):

    prh report RESULTS [--out DIR]                   # the C++ CLI runs tools/prh_report.py
    /usr/bin/python3 tools/prh_report.py RESULTS [--out DIR] [--pair A,B]
        [--config C]... [--method spearman] [--alpha 0.05]

Writes DIR/index.html and DIR/figures/NAME.{svg,png,pdf} (DIR default:
RESULTS without .h5, plus -report). The page needs nothing but its folder: no
script, no font, no style sheet or image from anywhere else; it shows the SVG
figures and links their PNG and PDF. Every figure is titled with what it
shows and captioned with its method and provenance; the numbers behind it
follow as a table. Table numbers are printed as Python's repr of the float
(the shortest text that reads back as the same double), so a table parsed
back gives the results file's numbers exactly; NaN prints as NaN.

Figures (each only when the results file holds what it needs):
  correlation_matrices   configuration x configuration correlation per image set, one scale
  pair_scatter           the two scores of a configuration pair over the model pairs, and
                         their ranks (Spearman = Pearson of the ranks)
  alignment_CONFIG       the M x M alignment matrix per image set, models grouped by family
  calibrated_CONFIG      the calibrated alignment matrix (when /calibration exists)
  mean_alignment         mean alignment per image set, raw and calibrated, bootstrap intervals
  predictions            accuracy, confidence, agreement (also on images both get wrong)
  alignment_vs_accuracy  each model's mean alignment against its accuracy (models whose label
                         space matches the set's)
  group_effects          the effect of a shared training distribution / family on a pair's
                         alignment beyond each model's overall alignment (when /groups exists)
  sweep_NAME             a sweep's alignment and cross-metric correlation against its level

Exit status: 0 written; 2 bad input (missing file, not a results file, an
unknown configuration) or a missing Python package, with one line on stderr.
"""
import argparse
import os
import re
import sys

DEFAULT_PAIR = ("mutual_knn@k=10", "cknna@k=10")
EXTRA_MAIN = ("cka@kernel=linear",)


def fail(msg, code=2):
    print(f"prh report: error: {msg}", file=sys.stderr)
    sys.exit(code)


def check_imports():
    """numpy, h5py and matplotlib, or a clear error (exit 2)."""
    missing = []
    for mod, pkg in (("numpy", "python3-numpy"), ("h5py", "python3-h5py"),
                     ("matplotlib", "python3-matplotlib")):
        try:
            __import__(mod)
        except ImportError:
            missing.append(f"{mod} (Debian: {pkg})")
    if missing:
        fail(f"{sys.executable} lacks {', '.join(missing)}: run tools/bootstrap.sh, or "
             f"apt-get install {' '.join(m.split(': ')[1][:-1] for m in missing)}")


def resolve_config(r, name):
    """A configuration of the file from its canonical name or a short form
    (mutual_knn@10 for mutual_knn@k=10, cka for cka@kernel=linear)."""
    if name in r.configurations:
        return name
    m = re.fullmatch(r"([a-z_]+)@(\d+)", name)
    if m and f"{m.group(1)}@k={m.group(2)}" in r.configurations:
        return f"{m.group(1)}@k={m.group(2)}"
    hits = [c for c in r.configurations if c.split("@")[0] == name]
    if len(hits) == 1:
        return hits[0]
    return None


def build(ctx):
    """Draws every section of the report into ctx.out and writes its index.html;
    returns the page's path."""
    from prh.report import page as html_page
    from prh.report import sections
    page = html_page.Page()
    for section in sections.SECTIONS:
        section(ctx, page)
    page.section("methods", "Methods", html_page.methods_html(ctx))
    return html_page.write_index(ctx, page)


def parse_args(argv):
    ap = argparse.ArgumentParser(prog="prh report", description="A results file as an offline HTML report.")
    ap.add_argument("results", metavar="RESULTS", help="results file (results.h5)")
    ap.add_argument("--out", help="output directory (default: RESULTS without .h5, plus -report)")
    ap.add_argument("--pair", default=",".join(DEFAULT_PAIR),
                    help="the configuration pair of the scatter figure, A,B (default %(default)s)")
    ap.add_argument("--config", action="append", default=None,
                    help="a main configuration for the alignment matrices (repeatable; default: the "
                         "pair and cka@kernel=linear)")
    ap.add_argument("--method", default="spearman", help="correlation method shown (default spearman)")
    ap.add_argument("--alpha", type=float, default=0.05, help="significance level (default 0.05)")
    return ap.parse_args(argv[1:])


def choose_configs(r, args, path):
    """The scatter's pair and the main configurations, from the arguments (exit 2 on
    an unknown one)."""
    pair = []
    for name in args.pair.split(","):
        c = resolve_config(r, name.strip())
        if c is None and args.pair != ",".join(DEFAULT_PAIR):
            fail(f"--pair: configuration {name!r} is not in {path} (it has: {', '.join(r.configurations)})")
        pair.append(c or name.strip())
    if len(pair) != 2:
        fail(f"--pair wants two configurations A,B, got {args.pair!r}")
    if args.config:
        main_confs = []
        for name in args.config:
            c = resolve_config(r, name)
            if c is None:
                fail(f"--config: configuration {name!r} is not in {path} (it has: {', '.join(r.configurations)})")
            main_confs.append(c)
    else:
        main_confs = [c for c in list(pair) + list(EXTRA_MAIN) if c in r.configurations]
        if not main_confs:
            main_confs = r.configurations[:2]
        main_confs = list(dict.fromkeys(main_confs))
    return pair, main_confs


def main(argv):
    check_imports()
    from prh import results
    from prh.report import figures  # noqa: F401  (matplotlib: Agg, the report's rcParams)
    from prh.report.context import ReportContext
    args = parse_args(argv)
    path = args.results
    if not os.path.exists(path):
        fail(f"{path}: no such file")
    try:
        r = results.load(path)
    except (OSError, ValueError, KeyError) as e:
        msg = str(e)
        fail(msg if path in msg else f"{path}: {msg}")
    pair, main_confs = choose_configs(r, args, path)
    methods = sorted({m for s in r.sets for m in r.correlation_methods(s)})
    if methods and args.method not in methods:
        fail(f"--method {args.method}: {path} holds the correlation methods {', '.join(methods)}")
    if not 0 < args.alpha < 1:
        fail(f"--alpha must be in (0, 1), got {args.alpha}")
    out = args.out or (path[:-3] if path.endswith(".h5") else path) + "-report"
    if os.path.exists(out) and not os.path.isdir(out):
        fail(f"--out {out}: exists and is not a folder (the report is a folder of files)")
    try:
        os.makedirs(out, exist_ok=True)
        ctx = ReportContext(r, out, tuple(pair), main_confs, args.method, args.alpha)
        index = build(ctx)
    except OSError as e:
        fail(f"--out {out}: cannot write the report: {e.filename or out}: {e.strerror or e}")
    print(index)
    return 0
