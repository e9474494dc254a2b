#!/usr/bin/python3
"""prh report: a results file (docs/results.md) as an offline HTML report.

    prh report RESULTS [--out DIR]                   # the C++ CLI runs this script
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
import html
import json
import math
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

FIGURE_FORMATS = ("svg", "png", "pdf")
PNG_DPI = 150
CMAP = "cividis"  # perceptually uniform, monotonic in lightness: readable in greyscale
DEFAULT_PAIR = ("mutual_knn@k=10", "cknna@k=10")
EXTRA_MAIN = ("cka@kernel=linear",)


def fail(msg, code=2):
    print(f"prh report: error: {msg}", file=sys.stderr)
    sys.exit(code)


def _imports():
    """numpy, h5py, matplotlib (Agg) and prh_results, or a clear error."""
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
    import matplotlib
    matplotlib.use("Agg")


_imports()
import numpy as np  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib import rcParams  # noqa: E402
import prh_results  # noqa: E402

rcParams.update({
    "font.size": 9, "axes.titlesize": 9.5, "axes.labelsize": 9, "xtick.labelsize": 8,
    "ytick.labelsize": 8, "legend.fontsize": 8, "figure.titlesize": 11,
    "svg.hashsalt": "prh-report", "svg.fonttype": "path", "axes.spines.top": False,
    "axes.spines.right": False, "savefig.facecolor": "white", "figure.facecolor": "white",
})
NAN_COLOUR = "#d0d0d0"


# --- small helpers ----------------------------------------------------------------

def num(x):
    """A number as table text that reads back exactly (repr of the double)."""
    if x is None:
        return "NaN"
    if isinstance(x, (bool, np.bool_)):
        return "1" if x else "0"
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    x = float(x)
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return repr(x)


def fmt(x, d=2):
    """A number for titles and captions (rounded; tables hold the exact value)."""
    if x is None or not np.isfinite(x):
        return "n/a"
    return f"{x:.{d}f}"


def fmt_p(p):
    if p is None or not np.isfinite(p):
        return "n/a"
    return f"{p:.2g}" if p >= 1e-3 else f"{p:.1e}"


def short(c):
    """mutual_knn@k=10 -> mutual_knn@10 (for axis labels)."""
    return re.sub(r"@k=(\d+)$", r"@\1", c).replace("@kernel=linear", "")


def slug(c):
    return re.sub(r"[^A-Za-z0-9]+", "_", c).strip("_")


def esc(x):
    return html.escape(str(x), quote=True)


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


def offdiag(m):
    return ~np.eye(m, dtype=bool)


def mean_offdiag(S):
    """Mean of the finite entries S[i, j], i != j (both orders: asymmetric
    configurations count each direction)."""
    v = S[offdiag(S.shape[0])]
    v = v[np.isfinite(v)]
    return float(v.mean()) if v.size else float("nan")


def bootstrap_resamples(m, b, seed):
    """The model resamples of the mean-alignment intervals: B rows of M model
    indices drawn with replacement by numpy's default_rng(seed)."""
    return np.random.default_rng(seed).integers(0, m, size=(b, m))


def bootstrap_mean(S, draws, confidence):
    """Percentile interval of mean_offdiag over model resamples: each resample
    keeps the entries S[u, v] of two different drawn models (pairs of two
    copies of one model are dropped, as in the pipeline's bootstrap); NaN when
    fewer than half the resamples give a number."""
    vals = []
    for d in draws:
        sub = S[np.ix_(d, d)]
        keep = (d[:, None] != d[None, :]) & np.isfinite(sub)
        if keep.any():
            vals.append(float(sub[keep].mean()))
    if len(vals) * 2 < len(draws):
        return float("nan"), float("nan")
    a = (1 - confidence) / 2
    return float(np.quantile(vals, a)), float(np.quantile(vals, 1 - a))


def ranks(x):
    """Average ranks (1-based) of a vector, ties sharing their mean rank."""
    order = np.argsort(x, kind="mergesort")
    r = np.empty(len(x))
    r[order] = np.arange(1, len(x) + 1)
    for v in np.unique(x):
        tie = x == v
        if tie.sum() > 1:
            r[tie] = r[tie].mean()
    return r


# --- the report -------------------------------------------------------------------

class Report:
    def __init__(self, r, out, pair, main, method, alpha):
        self.r, self.out, self.pair, self.main, self.method, self.alpha = r, out, pair, main, method, alpha
        self.figdir = os.path.join(out, "figures")
        self.sections = []  # (id, title, html)
        self.figures = []   # names written
        self.m = len(r.models)
        g = r.model_groups()
        self.groups = g
        key = [(g["training_data"][i] if g["training_data"] else "", g["family"][i]) for i in range(self.m)]
        first, first_t = {}, {}
        for i, k in enumerate(key):
            first.setdefault(k, i)
            first_t.setdefault(k[0], i)
        # Models grouped by training data, then family (groups in order of first appearance).
        self.order = sorted(range(self.m), key=lambda i: (first_t[key[i][0]], first[key[i]], i))
        self.group_of = [" / ".join(x for x in key[i] if x) for i in range(self.m)]
        sweep_sets = {s for sw in r.sweeps.values() for s in sw["sets"]}
        self.sets = [s for s in r.sets if s not in sweep_sets] or list(r.sets)

    # -- provenance -----------------------------------------------------------------

    def corr_info(self, s):
        c = self.r._correlation.get(s)
        return c or {}

    def n_images(self, s):
        info = self.r._set_attrs.get(s)
        return None if info is None else int(info["n"])

    def models_present(self, s):
        info = self.r._set_attrs.get(s, {})
        mp = info.get("models_present")
        return self.m if mp is None else int(np.sum(mp == 1))

    def provenance(self, sets, permutations=None):
        r = self.r
        ns = ", ".join(f"{s}: {self.n_images(s)}" for s in sets)
        c = self.corr_info(sets[0]) if sets else {}
        parts = [f"N images per set ({ns})", f"M = {self.m} models",
                 f"{self.m * (self.m - 1) // 2} model pairs i &lt; j"]
        if c:
            parts.append(f"bootstrap: {c.get('bootstrap', 0)} resamples of the models, "
                         f"confidence {c.get('confidence')}, seed {c.get('seed')}")
        if permutations:
            parts.append(permutations)
        parts.append(f"config hash {esc(r.config_hash)}, prh {esc(r.prh_version)}")
        return "; ".join(parts) + "."

    def calib_attrs(self, s=None, c=None):
        """A phrase on the calibration's parameters, from its attributes."""
        seen = []
        for ss, d in self.r._calibration.items():
            if s is not None and ss != s:
                continue
            for cc, cal in d.items():
                if c is not None and cc != c:
                    continue
                a = cal["attrs"]
                text = ", ".join(f"{k} = {esc(v)}" for k, v in sorted(a.items()))
                if text and text not in seen:
                    seen.append(text)
        return ("calibration: " + "; ".join(seen)) if seen else None

    # -- figure and table plumbing ------------------------------------------------------

    def save(self, fig, name):
        os.makedirs(self.figdir, exist_ok=True)
        for n, ext in enumerate(FIGURE_FORMATS):
            meta = {"svg": {"Date": None}, "pdf": {"CreationDate": None}, "png": {}}[ext]
            # bbox "tight": the saved canvas grows to hold every label (never clipped).
            fig.savefig(os.path.join(self.figdir, f"{name}.{ext}"), dpi=PNG_DPI, metadata=meta,
                        bbox_inches="tight", pad_inches=0.05)
            if n == 0:
                # Laid out once (constrained layout), then frozen for the other formats.
                fig.set_layout_engine("none")
        plt.close(fig)
        self.figures.append(name)

    def figure_html(self, name, title, caption):
        links = " · ".join(f'<a href="figures/{name}.{e}">{e.upper()}</a>' for e in FIGURE_FORMATS)
        return (f'<figure id="fig-{name}" data-figure="{name}">\n'
                f'<figcaption class="title">{esc(title)}</figcaption>\n'
                f'<img src="figures/{name}.svg" alt="{esc(title)}">\n'
                f'<figcaption class="method">{caption} <span class="links">{links}</span></figcaption>\n'
                f'</figure>\n')

    @staticmethod
    def table_html(name, caption, columns, rows, open_=False):
        """rows: lists of cells; a cell is text (a label) or a dict
        {'v': number, 'h5': path, 'idx': (i, j)} / {'v': number, 'derived': what, ...}."""
        out = [f'<details class="numbers"{" open" if open_ else ""}><summary>{esc(caption)} '
               f'({len(rows)} rows)</summary>',
               f'<table class="numbers" data-table="{esc(name)}"><thead><tr>'
               + "".join(f"<th>{esc(c)}</th>" for c in columns) + "</tr></thead><tbody>"]
        for row in rows:
            cells = []
            for cell in row:
                if isinstance(cell, dict):
                    attrs = ""
                    for k, v in cell.items():
                        if k == "v":
                            continue
                        if k == "idx":
                            v = ",".join(str(int(i)) for i in v)
                        attrs += f' data-{k}="{esc(v)}"'
                    cells.append(f'<td class="n"{attrs}>{num(cell["v"])}</td>')
                else:
                    cells.append(f"<td>{esc(cell)}</td>")
            out.append("<tr>" + "".join(cells) + "</tr>")
        out.append("</tbody></table></details>\n")
        return "\n".join(out)

    def section(self, sid, title, body):
        self.sections.append((sid, title, body))

    # -- heatmap helper ---------------------------------------------------------------------

    def heatmap(self, ax, A, labels, vmin, vmax, ylabels=True, xlabels=True, marks=None,
                bounds=None, fontsize=8, xticklabels=None):
        k = A.shape[0]
        ax.set_facecolor(NAN_COLOUR)
        # One image pixel per cell, drawn without interpolation (crisp in SVG,
        # PNG and PDF, no seams between cells); NaN shows the grey background.
        mesh = ax.imshow(np.ma.masked_invalid(A), cmap=CMAP, vmin=vmin, vmax=vmax, interpolation="none",
                         extent=(0, k, k, 0), aspect="equal")
        ax.set_xlim(0, k)
        ax.set_ylim(k, 0)
        ax.set_aspect("equal")
        for sp in ax.spines.values():
            sp.set_visible(False)
        ticks = np.arange(k) + 0.5
        ax.set_xticks(ticks)
        ax.set_yticks(ticks)
        # Labels set on every panel (shared axes share them); hidden on inner panels.
        if xticklabels is None:
            ax.set_xticklabels(labels, rotation=90, fontsize=fontsize)
        else:
            ax.set_xticklabels(xticklabels, rotation=0, fontsize=fontsize - 1)
        ax.set_yticklabels(labels, fontsize=fontsize)
        ax.tick_params(length=0, pad=2, labelbottom=xlabels, labelleft=ylabels)
        for b in bounds or []:
            ax.axhline(b, color="white", lw=1.5)
            ax.axvline(b, color="white", lw=1.5)
        if marks is not None:
            ii, jj = np.nonzero(marks)
            if len(ii):
                vals = A[ii, jj]
                mid = (vmin + vmax) / 2
                col = ["black" if np.isfinite(v) and v > mid else "white" for v in vals]
                ax.scatter(jj + 0.5, ii + 0.5, s=7, c=col, marker="o", linewidths=0)
        return mesh

    # -- 1. configuration x configuration correlation ------------------------------------

    def fig_correlations(self):
        r, meth = self.r, self.method
        sets = [s for s in self.sets if meth in r.correlation_methods(s)]
        if not sets:
            self.section("correlations", "Correlation between metric configurations",
                         f"<p class='absent'>No {esc(meth)} correlations in this results file.</p>")
            return
        names = r.correlation(sets[0], meth)["configurations"]
        k = len(names)
        ncol = len(sets) if (k <= 10 or len(sets) <= 2) else 2
        nrow = math.ceil(len(sets) / ncol)
        cell = 0.2 if k > 12 else 0.38
        side = max(2.4, cell * k)
        fig, axes = plt.subplots(nrow, ncol, figsize=(ncol * side + 1.8, nrow * side + 1.6),
                                 squeeze=False, layout="constrained", sharex=True, sharey=True)
        a, b = (names.index(self.pair[0]), names.index(self.pair[1])) if all(
            p in names for p in self.pair) else (None, None)
        rows = []
        mesh = None
        has_null = False
        # One scale for every set: 0..1 when no correlation is negative, else -1..1.
        lows = [np.nanmin(np.where(np.isfinite(r.correlation(s, meth)["r"]), r.correlation(s, meth)["r"], np.nan))
                for s in sets if np.isfinite(r.correlation(s, meth)["r"]).any()]
        vlow = -1.0 if (lows and min(lows) < 0) else 0.0
        for n, s in enumerate(sets):
            ax = axes[n // ncol][n % ncol]
            c = r.correlation(s, meth)
            R = c["r"]
            marks = None
            if c.get("null_p") is not None and np.isfinite(c["null_p"]).any():
                # The calibration null (agreement beyond chance); cells without one
                # (configurations not calibrated) carry no mark: Mantel's p tests
                # pair-level association only.
                marks = (c["null_p"] >= self.alpha) & ~np.eye(k, dtype=bool)
                has_null = True
            mesh = self.heatmap(ax, R, [short(x) for x in names], vlow, 1, ylabels=(n % ncol == 0),
                                xlabels=(n // ncol == nrow - 1) or (n + ncol >= len(sets)),
                                marks=marks, fontsize=7 if k > 12 else 8)
            if k <= 8:
                for i in range(k):
                    for j in range(k):
                        if np.isfinite(R[i, j]):
                            ax.text(j + 0.5, i + 0.5, f"{R[i, j]:.2f}", ha="center", va="center",
                                    fontsize=7, color="black" if R[i, j] > 0 else "white")
            title = f"{s} (N = {self.n_images(s)}, {c['n'][a, b] if a is not None else '?'} pairs)"
            if a is not None:
                ci = "" if c["ci_low"] is None else f" [{fmt(c['ci_low'][a, b])}, {fmt(c['ci_high'][a, b])}]"
                title += f"\n{short(self.pair[0])} vs {short(self.pair[1])}:\n{meth} {fmt(R[a, b])}{ci}"
                extra = []
                if c.get("null_p") is not None and np.isfinite(c["null_p"][a, b]):
                    extra.append(f"null p {fmt_p(c['null_p'][a, b])}")
                cs = c.get("chance_share")
                if cs is not None and np.isfinite(cs[a]) and np.isfinite(cs[b]):
                    extra.append(f"chance share {fmt(cs[a])}/{fmt(cs[b])}")
                if c.get("mantel_p") is not None:
                    extra.append(f"Mantel p {fmt_p(c['mantel_p'][a, b])}")
                if extra:
                    title += "\n" + ", ".join(extra)
            ax.set_title(title, fontsize=8.5)
            p = "/correlation/" + s + "/"
            for i in range(k):
                for j in range(i + 1, k):
                    row = [s, names[i], names[j],
                           {"v": R[i, j], "h5": p + meth, "idx": (i, j)},
                           {"v": c["p"][i, j], "h5": p + meth + "_pvalue", "idx": (i, j)},
                           {"v": c["n"][i, j], "h5": p + meth + "_n", "idx": (i, j)}]
                    for key, suffix in (("ci_low", "_ci_low"), ("ci_high", "_ci_high"),
                                        ("null_mean", "_null_mean"), ("null_q95", "_null_q95"),
                                        ("null_p", "_null_p"), ("mantel_p", "_mantel_p")):
                        if c.get(key) is not None:
                            row.append({"v": c[key][i, j], "h5": p + meth + suffix, "idx": (i, j)})
                        else:
                            row.append("—")
                    rows.append(row)
        for n in range(len(sets), nrow * ncol):
            axes[n // ncol][n % ncol].set_visible(False)
        cb = fig.colorbar(mesh, ax=axes, shrink=0.6 if nrow > 1 else 0.9, aspect=30)
        cb.set_label(f"{meth} correlation over model pairs")
        self.save(fig, "correlation_matrices")
        cinfo = self.corr_info(sets[0])
        caption = (f"For each image set, the {meth} correlation between every two metric "
                   f"configurations, computed over the model pairs i &lt; j (the upper triangle of "
                   f"the two alignment matrices, pairs where both scores are finite); one colour "
                   f"scale for all sets, from {vlow:g} to 1 ({CMAP}, lighter is higher; grey: undefined, "
                   f"e.g. a configuration constant over the pairs such as mutual_knn at k = N - 1). "
                   f"Intervals in the titles: percentile bootstrap over models "
                   f"({cinfo.get('bootstrap', 0)} resamples, pairs of two copies of a model dropped). ")
        if has_null:
            caption += (f"Dots: cells whose calibration-null p &ge; {self.alpha}: the two metrics agree "
                        f"no more than their scores on pairs that share nothing (the coefficient over "
                        f"the pairs' permutation-null scores) would; cells of configurations without a "
                        f"calibration null are not tested. Titles: the chance share, the share of each "
                        f"configuration's score variance across the pairs that chance explains (mean "
                        f"per-pair null variance over the variance of the scores), and the Mantel p "
                        f"(models relabelled), which tests pair-level association only: chance alone "
                        f"makes two metrics of the same pairs associated, so it is not a test of "
                        f"agreement beyond construction. ")
        else:
            caption += ("This results file holds no null correlation or Mantel p (the correlation of "
                        "the two metrics over pairs that share nothing is not 0; see the science "
                        "notes), so the titles give the asymptotic p of the table only. ")
        caption += self.provenance(sets)
        title = (f"{meth.capitalize()} correlation between metric configurations, per image set "
                 f"({k} configurations)")
        body = self.figure_html("correlation_matrices", title, caption)
        body += self.table_html("correlations", f"Numbers: {meth} correlations (configurations a < b)",
                                ["set", "config_a", "config_b", "r", "p", "n", "ci_low", "ci_high",
                                 "null_mean", "null_q95", "null_p", "mantel_p"], rows)
        self.section("correlations", "Correlation between metric configurations", body)

    # -- 2. the scatter of one configuration pair --------------------------------------------

    def fig_scatter(self):
        r, (ca, cb), meth = self.r, self.pair, self.method
        sets = [s for s in self.sets if ca in r.configurations_of(s) and cb in r.configurations_of(s)]
        if not sets:
            self.section("scatter", f"{short(ca)} against {short(cb)}",
                         f"<p class='absent'>{esc(ca)} or {esc(cb)} is not in this results file.</p>")
            return
        m = self.m
        iu = np.triu_indices(m, 1)
        fig, axes = plt.subplots(2, len(sets), figsize=(max(3.0 * len(sets), 6.5), 6.4),
                                 squeeze=False, layout="constrained")
        rows = []
        for n, s in enumerate(sets):
            x, y = r.scores(s, ca)[iu], r.scores(s, cb)[iu]
            ok = np.isfinite(x) & np.isfinite(y)
            ax = axes[0][n]
            ax.scatter(x[ok], y[ok], s=12, color="#1f3b73", alpha=0.75, linewidths=0)
            ax.set_xlabel(short(ca))
            if n == 0:
                ax.set_ylabel(short(cb))
            title = f"{s}: {ok.sum()} pairs"
            if meth in r.correlation_methods(s):
                c = r.correlation(s, meth)
                names = c["configurations"]
                if ca in names and cb in names:
                    i, j = names.index(ca), names.index(cb)
                    ci = ("" if c["ci_low"] is None else
                          f" [{fmt(c['ci_low'][i, j])}, {fmt(c['ci_high'][i, j])}]")
                    title = f"{s}: {meth} = {fmt(c['r'][i, j])}{ci}\np = {fmt_p(c['p'][i, j])}, " \
                            f"n = {c['n'][i, j]} pairs"
                    if c.get("mantel_p") is not None:
                        title += f", Mantel p = {fmt_p(c['mantel_p'][i, j])}"
                    if c.get("null_p") is not None and np.isfinite(c["null_p"][i, j]):
                        title += f"\nnull p = {fmt_p(c['null_p'][i, j])}"
                        if c.get("null_q95") is not None:
                            title += f" (null q95 {fmt(c['null_q95'][i, j])})"
            ax.set_title(title, fontsize=8.5)
            ax2 = axes[1][n]
            if ok.sum() > 1:
                rx, ry = ranks(x[ok]), ranks(y[ok])
                ax2.scatter(rx, ry, s=12, color="#1f3b73", alpha=0.75, linewidths=0)
                ax2.plot([1, ok.sum()], [1, ok.sum()], color="#888888", lw=0.8, ls="--")
            ax2.set_xlabel(f"rank of {short(ca)}")
            if n == 0:
                ax2.set_ylabel(f"rank of {short(cb)}")
            ax2.set_title("ranks (ties: mean rank)", fontsize=8.5)
            for p in range(len(iu[0])):
                i, j = int(iu[0][p]), int(iu[1][p])
                rows.append([s, r.models[i], r.models[j],
                             {"v": x[p], "h5": f"/alignment/{s}/{ca}/scores", "idx": (i, j)},
                             {"v": y[p], "h5": f"/alignment/{s}/{cb}/scores", "idx": (i, j)}])
        self.save(fig, "pair_scatter")
        caption = (f"Top: each dot is a model pair i &lt; j, at its score under {esc(ca)} (x) and under "
                   f"{esc(cb)} (y): scores[i, j] of the two alignment matrices. Bottom: the same pairs at "
                   f"their ranks; {meth} rho is the Pearson correlation of these ranks (the dashed line: "
                   f"identical rankings). rho, its p-value (asymptotic; exact permutation for at most 8 "
                   f"pairs) and its percentile bootstrap interval over models are read from the results "
                   f"file, not recomputed. The pairs share models (each model is in M - 1 of them), so "
                   f"they are not independent: the interval, not the p-value, is the honest "
                   f"uncertainty. " + self.provenance(sets))
        title = f"How the correlation of {short(ca)} and {short(cb)} was computed, per image set"
        body = self.figure_html("pair_scatter", title, caption)
        body += self.table_html("pair_scores", f"Numbers: the two scores of every model pair",
                                ["set", "model_a", "model_b", ca, cb], rows)
        self.section("scatter", f"{short(ca)} against {short(cb)}", body)

    # -- 3. alignment matrices -----------------------------------------------------------------

    def group_bounds(self):
        """Where one group ends and the next begins; none when every model is a
        group of its own (the names say it all)."""
        g = [self.group_of[i] for i in self.order]
        if len(set(g)) == len(g):
            return []
        return [n for n in range(1, self.m) if g[n] != g[n - 1]]

    def fig_alignment(self, conf, calibrated=False):
        r, m = self.r, self.m
        sets = [s for s in self.sets if conf in r.configurations_of(s)
                and (not calibrated or r.calibration(s, conf) is not None)]
        if not sets:
            return None
        o = self.order
        mats, marks = {}, {}
        for s in sets:
            cal = r.calibration(s, conf)
            if calibrated:
                A = cal["calibrated"]
            else:
                A = r.scores(s, conf)
            mk = None
            if cal is not None and cal.get("qvalue") is not None:
                mk = cal["qvalue"] < self.alpha
            elif cal is not None and cal.get("pvalue") is not None:
                mk = cal["pvalue"] < self.alpha
            A = A.copy()
            np.fill_diagonal(A, np.nan)  # the self-scores would set the colour scale
            mats[s] = A[np.ix_(o, o)]
            if mk is not None:
                mk = mk.copy()
                np.fill_diagonal(mk, False)
                marks[s] = mk[np.ix_(o, o)]
        finite = np.concatenate([v[np.isfinite(v)] for v in mats.values()] + [np.zeros(0)])
        vmin = 0.0 if not finite.size else min(0.0, float(finite.min()))
        vmax = 1.0 if not finite.size else max(float(finite.max()), vmin + 1e-9)
        if not calibrated and finite.size and finite.max() <= 1:
            vmax = float(finite.max())
        ncol = len(sets) if (m <= 8 or len(sets) <= 2) else 2
        nrow = math.ceil(len(sets) / ncol)
        # Sized to be shown at 1:1 on an 1100 px page: 0.17 in (12 pt) a model
        # at M = 20, names at 8 pt (about 0.06 in a character).
        side = max(2.6, 0.17 * m)
        label_w = 0.06 * max(len(x) for x in r.models) + 0.3
        groups_w = 0.065 * max(len(x) for x in self.group_of) + 0.2
        fig, axes = plt.subplots(nrow, ncol, figsize=(label_w + ncol * side + (ncol - 1) * 0.25 + groups_w,
                                                      nrow * (side + 0.55) + 0.9),
                                 squeeze=False, layout="constrained", sharey=True)
        # Rows named and numbered; columns numbered (the same order), so that
        # 20 long names fit beside every panel without clipping.
        ylab = [f"{r.models[i]}  {n + 1}" for n, i in enumerate(o)]
        xlab = [str(n + 1) for n in range(m)]
        mesh = None
        for n, s in enumerate(sets):
            ax = axes[n // ncol][n % ncol]
            mesh = self.heatmap(ax, mats[s], ylab, vmin, vmax, ylabels=(n % ncol == 0), xlabels=True,
                                marks=marks.get(s), bounds=self.group_bounds(),
                                fontsize=8, xticklabels=xlab)
            present = self.models_present(s)
            ax.set_title(f"{s} (N = {self.n_images(s)}" + (f", {present} of {m} models" if present < m else "")
                         + f"): mean {fmt(mean_offdiag(mats[s]), 3)}", fontsize=8.5)
        for n in range(len(sets), nrow * ncol):
            axes[n // ncol][n % ncol].set_visible(False)
        if m <= 8:  # few models: the values themselves
            for n, s in enumerate(sets):
                ax = axes[n // ncol][n % ncol]
                A = mats[s]
                for i in range(m):
                    for j in range(m):
                        if np.isfinite(A[i, j]):
                            ax.text(j + 0.5, i + 0.5, f"{A[i, j]:.2f}", ha="center", va="center", fontsize=8,
                                    color="black" if A[i, j] > (vmin + vmax) / 2 else "white")
        # Family (and training data) of each group, on the right of the last column.
        bounds = [0] + self.group_bounds() + [m]
        if len(bounds) == 2:
            bounds = [0]  # every model a group of its own: no group labels
        centres = [(bounds[i] + bounds[i + 1]) / 2 for i in range(len(bounds) - 1)]
        gnames = [self.group_of[o[bounds[i]]] for i in range(len(bounds) - 1)]
        for rr in range(nrow):
            last = min(ncol, len(sets) - rr * ncol) - 1
            ax = axes[rr][last]
            sec = ax.secondary_yaxis("right")
            sec.set_yticks(centres)
            sec.set_yticklabels(gnames, fontsize=7.5, color="#333333")
            sec.tick_params(length=0)
            for sp in sec.spines.values():
                sp.set_visible(False)
        what = "calibrated alignment" if calibrated else "alignment"
        cb = fig.colorbar(mesh, ax=axes, location="bottom", shrink=0.5, aspect=40, pad=0.02)
        cb.set_label(f"{conf} ({what})")
        name = ("calibrated_" if calibrated else "alignment_") + slug(conf)
        self.save(fig, name)
        rows = []
        for s in sets:
            cal = r.calibration(s, conf)
            S = r.scores(s, conf)
            for i in range(m):
                for j in range(i + 1, m):
                    row = [s, conf, r.models[i], r.models[j], self.group_of[i], self.group_of[j],
                           {"v": S[i, j], "h5": f"/alignment/{s}/{conf}/scores", "idx": (i, j)},
                           {"v": S[j, i], "h5": f"/alignment/{s}/{conf}/scores", "idx": (j, i)}]
                    for key in ("calibrated", "threshold", "pvalue", "qvalue"):
                        if cal is not None and cal.get(key) is not None:
                            row.append({"v": cal[key][i, j], "h5": f"/calibration/{s}/{conf}/{key}",
                                        "idx": (i, j)})
                        else:
                            row.append("—")
                    rows.append(row)
        meta = r.metric(sets[0], conf)
        params = ", ".join(f"{k} = {v}" for k, v in meta["params"].items()) or "defaults"
        a0 = r._alignment[sets[0]][conf]
        layer = ("last layers only" if a0.get("last_layer_only") else
                 "each entry the best layer pair (maximum over layers)")
        caption = (f"Entry (i, j): {esc(meta['metric'])} ({esc(params)}) of model i (row, as A) and model "
                   f"j (column, as B), {layer}; preprocessing {esc(json.dumps(a0.get('preprocess')))}. "
                   f"Models grouped by {esc(self.groups['family_source'] if not self.groups['training_data'] else 'training data and family')}"
                   f" (family from {esc(self.groups['family_source'])}; training data "
                   f"{esc(self.groups['training_source'])}); white lines separate the groups, "
                   f"named on the right. Diagonal (a model with itself) and undefined entries grey. "
                   f"One colour scale for all sets ({CMAP}). ")
        if calibrated:
            caption += ("Calibrated score = clamp((observed - tau) / (1 - tau), 0, 1), tau the "
                        "permutation null's threshold. ")
        if marks:
            caption += (f"Dots: pairs significant after Benjamini-Hochberg (q &lt; {self.alpha}) under "
                        f"the permutation null. ")
        elif not r.has_calibration():
            caption += "No calibration in this results file: no pair is marked significant. "
        caption += self.provenance(sets, self.calib_attrs(c=conf))
        title = (f"{'Calibrated alignment' if calibrated else 'Alignment'} of every model pair under "
                 f"{conf}, per image set")
        body = self.figure_html(name, title, caption)
        body += self.table_html(name, f"Numbers: {conf}, every model pair (i < j; score_ba = scores[j, i])",
                                ["set", "configuration", "model_a", "model_b", "group_a", "group_b",
                                 "score", "score_ba", "calibrated", "threshold", "pvalue", "qvalue"], rows)
        return body

    def figs_alignment(self):
        body = ""
        for conf in self.main:
            b = self.fig_alignment(conf)
            if b:
                body += b
            if self.r.has_calibration():
                b = self.fig_alignment(conf, calibrated=True)
                if b:
                    body += b
        if not body:
            body = "<p class='absent'>None of the main configurations is in this results file.</p>"
        self.section("alignment", "Alignment matrices", body)

    # -- 4. mean alignment per set --------------------------------------------------------------

    def mean_table(self, sets, confs):
        """Per set and configuration: mean raw (and calibrated) alignment over the
        model pairs with bootstrap intervals over models."""
        r = self.r
        out = {}
        for s in sets:
            c = self.corr_info(s)
            b = int(c.get("bootstrap") or 1000)
            seed = int(c.get("seed") or 0)
            conf_level = float(c.get("confidence") or 0.95)
            draws = bootstrap_resamples(self.m, b, seed)
            for conf in confs:
                if conf not in r.configurations_of(s):
                    continue
                S = r.scores(s, conf)
                e = {"raw": mean_offdiag(S), "raw_ci": bootstrap_mean(S, draws, conf_level),
                     "b": b, "seed": seed, "confidence": conf_level}
                cal = r.calibration(s, conf)
                if cal is not None and cal.get("calibrated") is not None:
                    e["cal"] = mean_offdiag(cal["calibrated"])
                    e["cal_ci"] = bootstrap_mean(cal["calibrated"], draws, conf_level)
                out[(s, conf)] = e
        return out

    def fig_means(self):
        r = self.r
        sets = self.sets
        confs = [c for c in r.configurations if any(c in r.configurations_of(s) for s in sets)]
        if not confs:
            return
        means = self.mean_table(sets, confs)
        shown = [c for c in self.main if any((s, c) in means for s in sets)]
        has_cal = any("cal" in e for e in means.values())
        ncols = 2 if has_cal else 1
        fig, axes = plt.subplots(1, ncols, figsize=(5.2 * ncols + 1.5, 3.6), squeeze=False,
                                 layout="constrained", sharey=has_cal)
        markers = ["o", "s", "^", "D", "v", "P"]
        colours = plt.get_cmap(CMAP)(np.linspace(0.05, 0.85, max(len(shown), 1)))
        x = np.arange(len(sets))
        for panel, key in enumerate(["raw", "cal"][:ncols]):
            ax = axes[0][panel]
            for n, conf in enumerate(shown):
                ys, lo, hi = [], [], []
                for s in sets:
                    e = means.get((s, conf), {})
                    ys.append(e.get(key, np.nan))
                    ci = e.get(key + "_ci", (np.nan, np.nan))
                    lo.append(ci[0])
                    hi.append(ci[1])
                ys, lo, hi = np.array(ys), np.array(lo), np.array(hi)
                off = (n - (len(shown) - 1) / 2) * 0.12
                err = np.vstack([ys - lo, hi - ys])
                err = np.where(np.isfinite(err), np.maximum(err, 0), 0)
                ax.errorbar(x + off, ys, yerr=err, fmt=markers[n % len(markers)], color=colours[n],
                            ms=5, capsize=3, lw=1.2, label=short(conf))
                meta = r.metric(sets[0], conf) if conf in r.configurations_of(sets[0]) else None
                if key == "raw" and meta and meta["metric"] == "mutual_knn":
                    try:  # params hold strings ({"k": "10"}) in files from prh reduce
                        kk = float(meta["params"].get("k"))
                    except (TypeError, ValueError):
                        kk = None
                    for xi, s in enumerate(sets):
                        nn = self.n_images(s)
                        if kk and nn and nn > 1:
                            ax.plot([xi + off - 0.06, xi + off + 0.06], [kk / (nn - 1)] * 2, color="#777777",
                                    lw=1)
            ax.set_xticks(x)
            ax.set_xticklabels(sets)
            ax.set_xlim(-0.5, len(sets) - 0.5)
            ax.set_ylabel("mean calibrated alignment" if key == "cal" else "mean alignment")
            ax.set_title("calibrated" if key == "cal" else "raw scores", fontsize=9)
            ax.grid(axis="y", color="#e5e5e5", lw=0.6)
            ax.set_axisbelow(True)
        axes[0][0].legend(loc="best", frameon=False)
        self.save(fig, "mean_alignment")
        rows = []
        for (s, conf), e in means.items():
            h5 = f"/alignment/{s}/{conf}/scores"
            row = [s, conf, {"v": e["raw"], "derived": "mean_offdiag", "h5": h5},
                   {"v": e["raw_ci"][0], "derived": "bootstrap_low", "h5": h5},
                   {"v": e["raw_ci"][1], "derived": "bootstrap_high", "h5": h5}]
            if "cal" in e:
                h5c = f"/calibration/{s}/{conf}/calibrated"
                row += [{"v": e["cal"], "derived": "mean_offdiag", "h5": h5c},
                        {"v": e["cal_ci"][0], "derived": "bootstrap_low", "h5": h5c},
                        {"v": e["cal_ci"][1], "derived": "bootstrap_high", "h5": h5c}]
            else:
                row += ["—", "—", "—"]
            for cell in row[2:]:
                if isinstance(cell, dict):
                    cell.update({"b": e["b"], "seed": e["seed"], "confidence": e["confidence"]})
            rows.append(row)
        e0 = next(iter(means.values()))
        caption = (f"Mean over the model pairs (i &ne; j, both orders; undefined entries left out) of each "
                   f"main configuration's alignment, per image set, computed by the report from the "
                   f"alignment matrices. Bars: {e0['confidence']:.0%} percentile bootstrap interval over "
                   f"models ({e0['b']} resamples of the M models with replacement, numpy default_rng "
                   f"seeded with the file's seed {e0['seed']}; pairs of two copies of one model dropped). "
                   f"Grey ticks: the chance level k / (N - 1) of mutual_knn. ")
        caption += ("Right: the same for the calibrated scores. " if has_cal else
                    "No calibration in this results file, so raw scores only: raw scores are inflated "
                    "by width and depth (Groeger et al. 2026). ")
        caption += self.provenance(sets, self.calib_attrs())
        body = self.figure_html("mean_alignment", "Mean alignment per image set"
                                + (", raw and calibrated" if has_cal else ""), caption)
        body += self.table_html("mean_alignment", "Numbers: mean alignment of every configuration",
                                ["set", "configuration", "mean", "ci_low", "ci_high", "calibrated_mean",
                                 "calibrated_ci_low", "calibrated_ci_high"], rows)
        self.section("means", "Mean alignment per image set", body)

    # -- 5. predictions ---------------------------------------------------------------------------

    def fig_predictions(self):
        r, m = self.r, self.m
        sets = [s for s in self.sets if s in r._predictions]
        preds = {s: r.predictions(s) for s in sets}
        sets = [s for s in sets if "mean_prob" in preds[s] and np.isfinite(preds[s]["mean_prob"]).any()]
        if not sets:
            self.section("predictions", "Predictions",
                         "<p class='absent'>No model with a classifier head, or no predictions in this "
                         "results file.</p>")
            return
        iu = np.triu_indices(m, 1)
        fig, axes = plt.subplots(1, 3, figsize=(11, 3.6), layout="constrained")
        x = np.arange(len(sets))
        rng = np.random.default_rng(0)  # jitter only
        dark, light = "#1f3b73", "#b8a04a"

        def strip(ax, xs, vals, off, colour, marker, label, filled=True):
            v = np.asarray(vals, float)
            v = v[np.isfinite(v)]
            if not v.size:
                return
            jit = rng.uniform(-0.07, 0.07, v.size)
            ax.scatter(xs + off + jit, v, s=14, marker=marker, linewidths=0.8,
                       facecolors=colour if filled else "none", edgecolors=colour, label=label, alpha=0.85)
            ax.plot([xs + off - 0.13, xs + off + 0.13], [np.median(v)] * 2, color="black", lw=1.5)

        ax = axes[0]
        for xi, s in enumerate(sets):
            acc = np.asarray(preds[s].get("accuracy", []), float)
            if np.isfinite(acc).any():
                strip(ax, xi, acc, 0, dark, "o", None)
            else:
                ax.text(xi, 0.5, "no accuracy\n(no label space\nmatches the set's)", ha="center", va="center",
                        fontsize=7.5, color="#555555")
        ax.set_title("top-1 accuracy (labelled images)")
        ax.set_ylim(-0.03, 1.03)
        ax = axes[1]
        for xi, s in enumerate(sets):
            strip(ax, xi, preds[s]["mean_prob"], -0.17, dark, "o", "all images" if xi == 0 else None)
            strip(ax, xi, preds[s].get("mean_prob_wrong", []), 0.17, light, "^",
                  "images it gets wrong" if xi == 0 else None, filled=False)
        ax.set_title("confidence: mean top-1 probability")
        ax.set_ylim(-0.03, 1.03)
        ax.legend(loc="lower left", frameon=False)
        ax = axes[2]
        for xi, s in enumerate(sets):
            strip(ax, xi, preds[s]["agreement"][iu], -0.17, dark, "o", "all images" if xi == 0 else None)
            strip(ax, xi, preds[s]["agreement_both_wrong"][iu], 0.17, light, "^",
                  "images both get wrong" if xi == 0 else None, filled=False)
        ax.set_title("agreement: same top-1 class (model pairs)")
        ax.set_ylim(-0.03, 1.03)
        ax.legend(loc="lower left", frameon=False)
        for ax in axes:
            ax.set_xticks(x)
            ax.set_xticklabels(sets)
            ax.set_xlim(-0.5, len(sets) - 0.5)
            ax.grid(axis="y", color="#e5e5e5", lw=0.6)
            ax.set_axisbelow(True)
        self.save(fig, "predictions")
        rows_m, rows_p = [], []
        for s in sets:
            p = preds[s]
            for i in range(m):
                rows_m.append([s, r.models[i]] + [
                    ({"v": p[k][i], "h5": f"/predictions/{s}/{k}", "idx": (i,)} if k in p else "—")
                    for k in ("accuracy", "mean_prob", "mean_prob_wrong")])
            for i, j in zip(*iu):
                rows_p.append([s, r.models[i], r.models[j]] + [
                    ({"v": p[k][i, j], "h5": f"/predictions/{s}/{k}", "idx": (i, j)} if k in p else "—")
                    for k in ("agreement", "both_wrong", "agreement_both_wrong")])
        labelled = ", ".join(f"{s}: {preds[s].get('labelled')} of {preds[s].get('n')}" for s in sets)
        caption = ("Left: each model's top-1 accuracy over the labelled images, only where the model's "
                   "label space matches the set's (the same label domain, every label of the set one of "
                   "the classes the model was trained on: /predictions/S/labels_match); undefined "
                   "elsewhere and for models without a head. Middle: mean top-1 softmax probability over all images and over "
                   "the images the model gets wrong. Right: for every model pair, the fraction of "
                   "images on which both predict the same class, and the same over the images both "
                   "get wrong: high agreement there means the models fail together. Black bars: "
                   f"medians; dots jittered sideways. Labelled images per set: {esc(labelled)}. "
                   + self.provenance(sets))
        body = self.figure_html("predictions", "Predictions: accuracy, confidence and whether models "
                                "fail together, per image set", caption)
        body += self.table_html("predictions_models", "Numbers: per model",
                                ["set", "model", "accuracy", "mean_prob", "mean_prob_wrong"], rows_m)
        body += self.table_html("predictions_pairs", "Numbers: per model pair",
                                ["set", "model_a", "model_b", "agreement", "both_wrong",
                                 "agreement_both_wrong"], rows_p)
        self.section("predictions", "Predictions", body)

    # -- 6. alignment against accuracy ---------------------------------------------------------------

    def fig_accuracy(self):
        r, meth = self.r, self.method
        conf = self.pair[0]
        sets, constant = [], []
        for s in self.sets:
            if s in r._predictions and "accuracy" in r._predictions[s] and s in r._correlation:
                acc = r._predictions[s]["accuracy"]
                c = r._correlation[s]
                fin = acc[np.isfinite(acc)]
                if c["mean_alignment"] is None or conf not in c["configurations"]:
                    continue
                if fin.size >= 2 and np.unique(fin).size >= 2:
                    sets.append(s)
                elif fin.size:
                    constant.append(f"{s} (accuracy {fmt(fin[0], 3)} for every model)")
        if not sets:
            self.section("accuracy", "Alignment against accuracy",
                         "<p class='absent'>No image set with model accuracies and mean alignments "
                         f"under {esc(conf)} (accuracy needs a set whose label space matches the models').</p>")
            return
        fams = list(dict.fromkeys(self.group_of))
        markers = ["o", "s", "^", "D", "v", "P", "X", "<", ">", "*"]
        colours = plt.get_cmap(CMAP)(np.linspace(0.0, 0.9, max(len(fams), 1)))
        fig, axes = plt.subplots(1, len(sets), figsize=(max(3.6 * len(sets), 5) + 2.0, 3.6),
                                 squeeze=False, layout="constrained")
        rows = []
        for n, s in enumerate(sets):
            ax = axes[0][n]
            acc = r.predictions(s)["accuracy"]
            c = r.correlation(s, meth) if meth in r.correlation_methods(s) else None
            k = r._correlation[s]["configurations"].index(conf)
            ma = r._correlation[s]["mean_alignment"][k]
            for fi, fam in enumerate(fams):
                idx = [i for i in range(self.m) if self.group_of[i] == fam]
                ax.scatter(acc[idx], ma[idx], s=22, marker=markers[fi % len(markers)],
                           color=colours[fi], label=fam if n == 0 else None, linewidths=0)
            title = s
            if c is not None and c.get("accuracy_r") is not None:
                title += (f": {meth} {fmt(c['accuracy_r'][k])}, p = {fmt_p(c['accuracy_p'][k])}, "
                          f"n = {c['accuracy_n'][k]} models")
            ax.set_title(title, fontsize=8.5)
            ax.set_xlabel("accuracy")
            if n == 0:
                ax.set_ylabel(f"mean alignment ({short(conf)})")
            ax.grid(color="#eeeeee", lw=0.6)
            ax.set_axisbelow(True)
            for i in range(self.m):
                rows.append([s, r.models[i], {"v": acc[i], "h5": f"/predictions/{s}/accuracy", "idx": (i,)},
                             {"v": ma[i], "h5": f"/correlation/{s}/mean_alignment", "idx": (k, i)}])
        handles, labels = axes[0][0].get_legend_handles_labels()
        axes[0][-1].legend(handles, labels, loc="center left", bbox_to_anchor=(1.02, 0.5), frameon=False,
                           title="group", fontsize=7.5)
        self.save(fig, "alignment_vs_accuracy")
        crows = []
        for s in sets:
            for meth2 in r.correlation_methods(s):
                c = r.correlation(s, meth2)
                if c.get("accuracy_r") is None:
                    continue
                for k, name in enumerate(c["configurations"]):
                    p = f"/correlation/{s}/accuracy_{meth2}"
                    crows.append([s, meth2, name, {"v": c["accuracy_r"][k], "h5": p, "idx": (k,)},
                                  {"v": c["accuracy_p"][k], "h5": p + "_pvalue", "idx": (k,)},
                                  {"v": c["accuracy_n"][k], "h5": p + "_n", "idx": (k,)}])
        caption = (f"Each point is a model whose label space matches the set's (the same label domain, "
                   f"and every label of the set one of the classes the model was trained on; "
                   f"/predictions/S/labels_match; the others have no accuracy and no point): its "
                   f"accuracy on the set's labelled images against its mean "
                   f"alignment with the other models under {esc(conf)} (mean of (scores[i, j] + "
                   f"scores[j, i]) / 2 over the other models j). The correlation in the titles is over "
                   f"the models with a defined accuracy, read from the results file. "
                   + (f"No panel for {esc('; '.join(constant))}: nothing to correlate. " if constant else "")
                   + self.provenance(sets))
        body = self.figure_html("alignment_vs_accuracy", "Alignment against accuracy, per image set", caption)
        body += self.table_html("accuracy_points", "Numbers: each model's accuracy and mean alignment",
                                ["set", "model", "accuracy", f"mean_alignment {conf}"], rows)
        body += self.table_html("accuracy_correlation", "Numbers: correlation of mean alignment with "
                                "accuracy, every configuration", ["set", "method", "configuration", "r",
                                                                  "p", "n"], crows)
        self.section("accuracy", "Alignment against accuracy", body)

    # -- 6b. group effects ---------------------------------------------------------------------------

    def fig_groups(self):
        """/groups: per factor and set, the effect of sharing the factor's label (OLS with the
        models' main effects), its interval and q; the raw gap beside it, descriptive only."""
        g = getattr(self.r, "groups", None)
        conf = self.pair[0]
        if not g or not g["factors"] or conf not in g["configurations"]:
            return
        k = g["configurations"].index(conf)
        sets = [s for s in self.r.sets if s in g["sets"]]
        factors = [f for f in g["factors"]
                   if any("effect" in g["sets"][s]["factors"].get(f, {}) for s in sets)]
        if not sets or not factors:
            return
        level = float(g["attrs"].get("confidence", 0.95))
        fig, axes = plt.subplots(1, len(factors), figsize=(4.2 * len(factors) + 1.5, 0.32 * len(sets) + 1.4),
                                 squeeze=False, layout="constrained", sharey=True)
        rows = []
        for n, factor in enumerate(factors):
            ax = axes[0][n]
            for y, s in enumerate(sets):
                f = g["sets"][s]["factors"].get(factor)
                if f is None or "effect" not in f:
                    continue
                e, lo, hi = f["effect"][k], f["effect_ci_low"][k], f["effect_ci_high"][k]
                q = f["effect_qvalue"][k]
                sig = np.isfinite(q) and q < self.alpha
                if np.isfinite(e):
                    x0 = lo if np.isfinite(lo) else ax.get_xlim()[0]
                    x1 = hi if np.isfinite(hi) else ax.get_xlim()[1]
                    ax.plot([x0, x1], [y, y], color="#1f4e79", lw=1.4)
                    ax.plot([e], [y], "o", color="#1f4e79", mfc="#1f4e79" if sig else "white", ms=5.5,
                            label=("effect, q < alpha" if sig else "effect") if n == 0 else None)
                    ax.text(1.01, y, f"q = {fmt_p(q)}", transform=ax.get_yaxis_transform(), fontsize=7,
                            va="center")
                ax.plot([f["gap"][k]], [y], "x", color="#999999", ms=4.5,
                        label="raw gap (descriptive)" if n == 0 and y == 0 else None)
                base = f"/groups/{s}/{factor}/"
                rows.append([s, factor] + [{"v": f[d][k], "h5": base + d, "idx": (k,)} for d in
                                           ("effect", "effect_ci_low", "effect_ci_high", "effect_pvalue",
                                            "effect_qvalue", "within", "across", "gap")])
            ax.axvline(0, color="#666666", lw=0.7)
            ax.set_yticks(range(len(sets)))
            ax.set_yticklabels(sets, fontsize=8)
            if n == 0:
                ax.invert_yaxis()  # shared: once
            ax.set_title(f"same {factor.replace('_', ' ')}", fontsize=9)
            ax.set_xlabel(f"effect on {short(conf)}")
            ax.grid(axis="x", color="#eeeeee", lw=0.6)
        handles, labels = [], []
        for ax in axes[0]:
            for h, lab in zip(*ax.get_legend_handles_labels()):
                if lab not in labels:
                    handles.append(h)
                    labels.append(lab)
        if handles:
            axes[0][-1].legend(handles, labels, loc="upper left", bbox_to_anchor=(1.12, 1.0), frameon=False,
                               fontsize=7.5)
        self.save(fig, "group_effects")
        caption = (f"Does sharing a training distribution (or an architecture family) raise a pair's "
                   f"alignment under {esc(conf)} beyond what each model's overall alignment explains? "
                   f"The effect is beta_F of the least squares fit s_ij = a_i + a_j + sum_F beta_F "
                   f"[label_F(i) = label_F(j)] over the model pairs (one main effect a_i per model, all "
                   f"factors jointly); the line is its {level:.0%} interval from inverting the permutation "
                   f"test whose one-sided p (F's labels permuted over the models, the fit redone) gives "
                   f"the q-value (Benjamini-Hochberg over every set and factor of the configuration); "
                   f"filled: q &lt; {self.alpha}. The grey cross is the raw within - across gap, a "
                   f"descriptive mean that moves with the models' overall alignment (a group of models "
                   f"that aligns more with everyone widens it), so it is not the finding. "
                   f"See docs/results.md (/groups).")
        body = self.figure_html("group_effects", "Group effects beyond each model's overall alignment",
                                caption)
        body += self.table_html("group_effects", "Numbers: effect, interval, p, q, and the descriptive means",
                                ["set", "factor", "effect", "ci_low", "ci_high", "p", "q", "within",
                                 "across", "gap"], rows)
        self.section("groups", "Group effects", body)

    # -- 7. sweeps ------------------------------------------------------------------------------------

    def fig_sweeps(self):
        r, meth = self.r, self.method
        if not r.sweeps:
            return
        body = ""
        ca, cb = self.pair
        for name, sw in r.sweeps.items():
            lv = sw["levels"]
            sets = sw["sets"]
            confs = [c for c in self.main if all(c in r.configurations_of(s) for s in sets if s in r._alignment)]
            means = self.mean_table([s for s in sets if s in r._alignment], confs)
            has_cal = any("cal" in e for e in means.values())
            # The stored effect-size curve (relative calibrated score) and power curve
            # (docs/sweeps.md), when the file has them: the main panels.
            stored = sw.get("relative_calibrated") is not None and sw.get("significant_fraction") is not None
            panels = ((["rel", "power", "raw"] if stored else ["raw"] + (["cal"] if has_cal else []))
                      + ["corr"])
            images = sw.get("images")
            ntext = ("" if images is None else
                     "N = " + ", ".join(str(int(x)) for x in np.unique(images)) + " images per level")
            fig, axes = plt.subplots(1, len(panels), figsize=(3.7 * len(panels) + 1.2, 3.5),
                                     squeeze=False, layout="constrained", sharex=True)
            colours = plt.get_cmap(CMAP)(np.linspace(0.05, 0.85, max(len(confs), 1)))
            markers = ["o", "s", "^", "D", "v"]
            breaks = {}
            rows = []
            legend_loc = "best"
            for pi, key in enumerate(panels):
                ax = axes[0][pi]
                if key in ("rel", "power"):
                    arr, lo_k, hi_k, line = (("relative_calibrated", "relative_calibrated_ci_low",
                                              "relative_calibrated_ci_high", sw.get("relative_breaking", 0.5))
                                             if key == "rel" else
                                             ("significant_fraction", "significant_fraction_ci_low",
                                              "significant_fraction_ci_high", sw.get("breaking_fraction", 0.5)))
                    for n, conf in enumerate(confs):
                        kidx = r.configurations.index(conf)
                        y = sw[arr][:, kidx]
                        if not np.isfinite(y).any():
                            continue  # not calibrated: no curve, no legend entry
                        ax.plot(lv, y, marker=markers[n % 5], color=colours[n], ms=4, lw=1.2, label=short(conf))
                        if sw.get(lo_k) is not None and sw.get(hi_k) is not None:
                            ax.fill_between(lv, sw[lo_k][:, kidx], sw[hi_k][:, kidx], color=colours[n],
                                            alpha=0.2, lw=0)
                    ax.axhline(line, color="#888888", lw=0.8, ls=":")
                    if key == "rel":
                        ax.set_ylabel("mean calibrated score / first level's")
                        ax.set_title("effect size: relative calibrated score", fontsize=9)
                    else:
                        ax.set_ylabel(f"share of pairs with q < {sw.get('alpha') or self.alpha:g}")
                        ax.set_title("power curve" + (f" ({ntext})" if ntext else ""), fontsize=9)
                elif key in ("raw", "cal"):
                    for n, conf in enumerate(confs):
                        y = np.array([means.get((s, conf), {}).get(key, np.nan) for s in sets])
                        if not np.isfinite(y).any():
                            continue  # not calibrated: no curve, no legend entry
                        ci = np.array([means.get((s, conf), {}).get(key + "_ci", (np.nan, np.nan)) for s in sets])
                        ax.plot(lv, y, marker=markers[n % 5], color=colours[n], ms=4, lw=1.2, label=short(conf))
                        ax.fill_between(lv, ci[:, 0], ci[:, 1], color=colours[n], alpha=0.2, lw=0)
                    ax.set_ylabel("mean calibrated alignment" if key == "cal" else "mean alignment")
                    ax.set_title("calibrated" if key == "cal" else "raw scores", fontsize=9)
                else:
                    y, lo, hi, nm, nq, pv = [], [], [], [], [], []
                    for s in sets:
                        v = [np.nan] * 6
                        if meth in r.correlation_methods(s):
                            c = r.correlation(s, meth)
                            names = c["configurations"]
                            if ca in names and cb in names:
                                i, j = names.index(ca), names.index(cb)
                                get = lambda key: np.nan if c.get(key) is None else c[key][i, j]  # noqa: E731
                                v = [c["r"][i, j], get("ci_low"), get("ci_high"), get("null_mean"),
                                     get("null_q95"), get("null_p")]
                        for lst, val in zip((y, lo, hi, nm, nq, pv), v):
                            lst.append(val)
                    y, lo, hi, nm, nq, pv = map(np.array, (y, lo, hi, nm, nq, pv))
                    ax.plot(lv, y, marker="o", color="#1f3b73", ms=4, lw=1.2, label="observed")
                    legend_loc = "lower left"
                    ax.fill_between(lv, lo, hi, color="#1f3b73", alpha=0.2, lw=0)
                    # The calibration null's 0.95 quantile: what chance alone reaches (the
                    # test is the observed value against that distribution; its mean is not
                    # a baseline to subtract).
                    if np.isfinite(nq).any():
                        ax.plot(lv, nq, color="#b8a04a", lw=1.0, ls=":", label="null q95 (chance)")
                        out = np.isfinite(pv) & (pv >= self.alpha)
                        if out.any():
                            ax.plot(np.asarray(lv)[out], y[out], ls="none", marker="x", color="#b8a04a",
                                    ms=6, label=f"null p ≥ {self.alpha:g}")
                    ax.set_ylabel(f"{meth}({short(ca)}, {short(cb)})")
                    ax.set_title("cross-metric correlation", fontsize=9)
                    stored = sw.get("correlation_breaking_level")
                    cbl = sw.get("correlation_breaking_levels")
                    if cbl is not None and ca in r.configurations and cb in r.configurations:
                        v = cbl[r.configurations.index(ca), r.configurations.index(cb)]
                        breaks["corr"] = v if np.isfinite(v) else None
                    elif stored is not None:
                        breaks["corr"] = stored
                    else:
                        bad = [n for n in range(len(lv)) if not (np.isfinite(pv[n]) and pv[n] < self.alpha)]
                        breaks["corr"] = lv[bad[0]] if bad else None
                ax.set_xlabel(sw["parameter"])
                if len(lv) > 1 and lv[0] > lv[-1]:
                    ax.invert_xaxis()  # the sweep's order: from the base towards no structure
                ax.grid(color="#eeeeee", lw=0.6)
                ax.set_axisbelow(True)
                ax.legend(loc=legend_loc if key == "corr" else "best", frameon=False, fontsize=7)
            # Breaking points: stored per configuration (the effect-size one where
            # stored, else the power curve's), else the first level at which fewer
            # than half the model pairs are significant (q < alpha).
            for n, conf in enumerate(confs):
                kidx = r.configurations.index(conf)
                if sw.get("relative_breaking_level") is not None:
                    bl = sw["relative_breaking_level"][kidx]
                    breaks[conf] = bl if np.isfinite(bl) else None
                elif sw.get("breaking_level") is not None:
                    bl = sw["breaking_level"][kidx]
                    breaks[conf] = bl if np.isfinite(bl) else None
                elif has_cal:
                    hit = None
                    for li, s in enumerate(sets):
                        cal = r.calibration(s, conf)
                        if cal is None or cal.get("qvalue") is None:
                            continue
                        q = cal["qvalue"][np.triu_indices(self.m, 1)]
                        q = q[np.isfinite(q)]
                        if q.size and np.mean(q < self.alpha) < 0.5:
                            hit = lv[li]
                            break
                    breaks[conf] = hit
            for pi, key in enumerate(panels):
                ax = axes[0][pi]
                if key == "corr" and breaks.get("corr") is not None:
                    ax.axvline(breaks["corr"], color="black", lw=1, ls="--")
                    ax.annotate("breaks", (breaks["corr"], 1), xycoords=("data", "axes fraction"),
                                fontsize=7, ha="left", va="top", xytext=(2, -2), textcoords="offset points")
                if key in ("raw", "cal", "rel"):
                    for n, conf in enumerate(confs):
                        if breaks.get(conf) is not None:
                            ax.axvline(breaks[conf], color=colours[n], lw=1, ls="--")
                if key == "power" and sw.get("breaking_level") is not None:
                    for n, conf in enumerate(confs):
                        bl = sw["breaking_level"][r.configurations.index(conf)]
                        if np.isfinite(bl):
                            ax.axvline(bl, color=colours[n], lw=1, ls=":")
            self.save(fig, "sweep_" + slug(name))
            for li, s in enumerate(sets):
                for conf in confs:
                    e = means.get((s, conf))
                    if e is None:
                        continue
                    h5 = f"/alignment/{s}/{conf}/scores"
                    row = [name, {"v": lv[li], "h5": f"/sweeps/{name}/levels", "idx": (li,)}, s, conf,
                           {"v": e["raw"], "derived": "mean_offdiag", "h5": h5, "b": e["b"], "seed": e["seed"],
                            "confidence": e["confidence"]}]
                    if "cal" in e:
                        row.append({"v": e["cal"], "derived": "mean_offdiag",
                                    "h5": f"/calibration/{s}/{conf}/calibrated", "b": e["b"],
                                    "seed": e["seed"], "confidence": e["confidence"]})
                    else:
                        row.append("—")
                    kidx = r.configurations.index(conf)
                    for key in ("relative_calibrated", "significant_fraction"):
                        a = sw.get(key)
                        if a is not None and np.isfinite(a[li, kidx]):
                            row.append({"v": a[li, kidx], "h5": f"/sweeps/{name}/{key}", "idx": (li, kidx)})
                        else:
                            row.append("—")
                    if meth in r.correlation_methods(s):
                        c = r.correlation(s, meth)
                        names = c["configurations"]
                        if ca in names and cb in names:
                            i, j = names.index(ca), names.index(cb)
                            row.append({"v": c["r"][i, j], "h5": f"/correlation/{s}/{meth}", "idx": (i, j)})
                        else:
                            row.append("—")
                    else:
                        row.append("—")
                    rows.append(row)
            brk = "; ".join(f"{short(k) if k != 'corr' else 'cross-metric correlation'}: "
                            f"{'none' if v is None else fmt(float(v), 3)}" for k, v in breaks.items())
            lead = ""
            if stored:
                lead = (f"Left: the effect size, each configuration's mean calibrated score relative "
                        f"to the first level's (1 there), with its bootstrap band over models; dotted: "
                        f"{sw.get('relative_breaking', 0.5):g}, below which the sweep breaks (dashed "
                        f"verticals). Second: the power curve, the share of model pairs whose "
                        f"calibrated alignment is significant (BH q &lt; {sw.get('alpha') or self.alpha:g}) "
                        f"at {esc(ntext or 'the images of each level')}; it grows with the images, so it "
                        f"says where the test can still see the alignment, not how much is left (dotted "
                        f"verticals: where it falls below {sw.get('breaking_fraction', 0.5):g}). Third: ")
            caption = (f"Sweep {esc(name)} ({esc(sw['description'] or sw['parameter'])}): each level is an "
                       f"image set of the results file ({esc(', '.join(sets))}). "
                       + (lead or "Left: ") + "mean alignment "
                       f"over the model pairs with {self.corr_info(sets[0]).get('bootstrap', 0) or 1000}-resample "
                       f"bootstrap bands over models; "
                       + ("middle: the same for the calibrated scores; " if has_cal else "")
                       + f"right: {meth}({esc(ca)}, {esc(cb)}) with its bootstrap band"
                       + (" and the 0.95 quantile of its calibration null (the coefficient over the "
                          "pairs' permutation-null scores: what chance alone gives two metrics of the "
                          "same pairs); crosses: levels whose null p &ge; " + f"{self.alpha:g}"
                          if any(r._correlation.get(s, {}).get("by_method", {}).get(meth, {}).get("null_q95") is not None for s in sets) else "")
                       + ". Dashed vertical lines: breaking points ("
                       + (f"stored in the file: the first level whose relative calibrated score is below "
                          f"{sw.get('relative_breaking', 0.5):g}" if sw.get("relative_breaking_level") is not None else
                          "stored in the file" if sw.get("breaking_level") is not None else
                          "alignment: the first level at which fewer than half the model pairs are "
                          f"significant, q &lt; {self.alpha}; shown only with calibration")
                       + "; correlation: " + ("stored in the file" if sw.get("correlation_breaking_level")
                                              is not None or sw.get("correlation_breaking_levels")
                                              is not None else
                                              f"the first level whose calibration-null p &ge; {self.alpha}; "
                                              "without a null: not tested")
                       + f"): {esc(brk)} (docs/sweeps.md). "
                       + self.provenance([s for s in sets if s in r._alignment], self.calib_attrs()))
            body += self.figure_html("sweep_" + slug(name), f"Sweep {name}: alignment and cross-metric "
                                     f"correlation against {sw['parameter']}", caption)
            body += self.table_html("sweep_" + slug(name), f"Numbers: sweep {name}",
                                    ["sweep", "level", "set", "configuration", "mean", "calibrated_mean",
                                     "relative_calibrated", "significant_fraction (power)",
                                     f"{meth}({ca}, {cb})"], rows)
        self.section("sweeps", "Sweeps", body)

    # -- methods, missing parts, page ---------------------------------------------------------------

    def methods_html(self):
        r = self.r
        out = ["<ul>"]
        out.append(f"<li>Results file <code>{esc(r.path)}</code> ({esc(r.format)}), written by prh "
                   f"{esc(r.prh_version)} from config <code>{esc(r.config_file)}</code> (hash "
                   f"<code>{esc(r.config_hash)}</code>), store <code>{esc(r.store)}</code>; "
                   f"{'complete' if r.complete else '<b>incomplete</b>'}.</li>")
        sets = []
        for s in r.sets:
            info = r._set_attrs.get(s, {})
            p = r._predictions.get(s, {})
            sets.append(f"{esc(s)}: N = {info.get('n', '?')} images ({info.get('skipped', 0)} skipped"
                        + (f", {p.get('labelled')} labelled" if p else "") + ")")
        out.append(f"<li>{len(r.sets)} image sets: " + "; ".join(sets) + ".</li>")
        lc = "" if r.layer_counts is None else " (layers: " + ", ".join(
            f"{esc(n)} {int(c)}" for n, c in zip(r.models, r.layer_counts)) + ")"
        out.append(f"<li>M = {self.m} models{lc}; {self.m * (self.m - 1) // 2} model pairs. Groups: "
                   f"family from {esc(self.groups['family_source'])}, training data "
                   f"{esc(self.groups['training_source'])}.</li>")
        cs = []
        first = next((s for s in r.sets if s in r._alignment), None)
        for c in r.configurations:
            if first and c in r._alignment[first]:
                meta = r._alignment[first][c]
                cs.append(f"{esc(c)} ({esc(meta['metric'])}"
                          + ("" if meta["symmetric"] else ", asymmetric") + ")")
            else:
                cs.append(esc(c))
        out.append(f"<li>{len(r.configurations)} metric configurations: " + ", ".join(cs) + ".")
        if first and r._alignment[first]:
            a0 = next(iter(r._alignment[first].values()))
            out.append(f" Preprocessing {esc(json.dumps(a0.get('preprocess')))}; "
                       + ("last layers only." if a0.get("last_layer_only") else
                          "each score the maximum over layer pairs.") + "</li>")
        c = self.corr_info(self.sets[0]) if self.sets else {}
        if c:
            out.append(f"<li>Correlations between configurations ({esc(', '.join(c.get('methods', [])))}) "
                       f"over the upper triangle of the alignment matrices (model pairs i &lt; j, both "
                       f"finite); p-values asymptotic (exact permutation for at most 8 pairs); "
                       f"{c.get('confidence')} percentile bootstrap intervals resampling models "
                       f"({c.get('bootstrap')} resamples, seed {c.get('seed')}), because the pairs share "
                       f"models and are not independent.</li>")
        cal = self.calib_attrs()
        if cal:
            out.append(f"<li>Calibrated alignment: a permutation null per pair (one model's rows "
                       f"shuffled), threshold tau the ceil((1 - alpha)(K + 1))-th order statistic of the "
                       f"null scores with the observed one, p = (1 + #{{null &ge; observed}}) / (K + 1), "
                       f"calibrated = clamp((observed - tau) / (1 - tau), 0, 1), Benjamini-Hochberg "
                       f"across pairs; {cal}.</li>")
        if r.comparisons:
            out.append("<li>Comparisons of image sets: " + ", ".join(f"{esc(a)} - {esc(b)}"
                       for a, b in r.comparisons) + " (paired bootstrap over models; in prh export's "
                       "comparison table).</li>")
        out.append("<li>Report: matplotlib figures (SVG shown, PNG and PDF linked), colour map "
                   f"{CMAP}; chosen pair {esc(self.pair[0])} vs {esc(self.pair[1])}; main configurations "
                   f"{esc(', '.join(self.main))}; significance level {self.alpha}. Numbers in the tables "
                   "are the results file's, printed exactly (repr of the double), except the columns "
                   "marked as computed by the report (mean alignment and its bootstrap interval).</li>")
        out.append("</ul>")
        out.append(f"<details><summary>The sweep config (JSON, from the results file)</summary><pre>"
                   f"{esc(json.dumps(r.config, indent=1))}</pre></details>")
        return "\n".join(out)

    def absent_html(self):
        r = self.r
        missing = r.missing()
        out = ""
        if missing:
            out += ("<div class='incomplete'><h2>This results file is incomplete</h2><p>What is "
                    "missing (figures show it as grey or leave it out):</p><ul>"
                    + "".join(f"<li>{esc(x)}</li>" for x in missing) + "</ul></div>\n")
        notes = []
        if not r.has_calibration():
            notes.append("calibration (/calibration): no calibrated scores or significant pairs")
        if not any(d.get("null_mean") is not None or d.get("mantel_p") is not None
                   for c in r._correlation.values() for d in c["by_method"].values()):
            notes.append("correlation nulls and Mantel p-values (/correlation/S/METHOD_null_*, "
                         "METHOD_mantel_p)")
        if not r.sweeps:
            notes.append("sweeps (/sweeps): no sweep figures")
        if self.groups["training_data"] is None:
            notes.append("the models' training data")
        if notes:
            out += ("<p class='absent'>Not in this results file, so not shown: "
                    + "; ".join(esc(n) for n in notes) + ".</p>\n")
        return out

    def page(self):
        r = self.r
        toc = "".join(f'<li><a href="#{sid}">{esc(t)}</a></li>' for sid, t, _ in self.sections)
        body = "".join(f'<section id="{sid}"><h2>{esc(t)}</h2>\n{b}</section>\n'
                       for sid, t, b in self.sections)
        return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>prh report: {esc(os.path.basename(r.path))}</title>
<style>
body {{ font-family: "DejaVu Sans", Helvetica, Arial, sans-serif; color: #111; margin: 0 auto;
       max-width: 1200px; padding: 1em 1.5em; line-height: 1.45; font-size: 15px; }}
h1 {{ font-size: 1.5em; margin-bottom: 0.2em; }} h2 {{ font-size: 1.2em; border-bottom: 1px solid #ccc; }}
code {{ font-size: 0.92em; }}
figure {{ margin: 1.2em 0; break-inside: avoid; page-break-inside: avoid; }}
figure img {{ display: block; max-width: 100%; height: auto; margin: 0.4em 0; }}
figcaption.title {{ font-weight: bold; }}
figcaption.method {{ font-size: 0.88em; color: #333; }}
.links a {{ margin: 0 0.2em; }}
details.numbers {{ margin: 0.4em 0 1.4em 0; }}
details summary {{ cursor: pointer; color: #1f3b73; }}
table.numbers {{ border-collapse: collapse; font-size: 12px; margin-top: 0.4em; }}
table.numbers th, table.numbers td {{ border: 1px solid #ddd; padding: 1px 6px; text-align: left; }}
table.numbers td.n {{ text-align: right; font-variant-numeric: tabular-nums; font-family: "DejaVu Sans Mono", monospace; }}
.incomplete {{ border: 2px solid #a33; padding: 0.3em 1em; background: #fff4f4; }}
.absent {{ color: #555; font-style: italic; }}
pre {{ font-size: 11px; white-space: pre-wrap; }}
@media print {{ body {{ max-width: none; font-size: 11pt; }} nav, details {{ display: none; }}
  section {{ break-before: auto; }} figure img {{ max-width: 100%; }} }}
</style></head>
<body>
<h1>prh report: {esc(os.path.basename(r.path))}</h1>
<p>{self.m} models, {len(r.sets)} image sets ({esc(', '.join(r.sets))}), {len(r.configurations)} metric
configurations. prh {esc(r.prh_version)}, config hash <code>{esc(r.config_hash)}</code>.</p>
{self.absent_html()}
<nav><ul>{toc}</ul></nav>
{body}
</body></html>
"""

    def build(self):
        self.fig_correlations()
        self.fig_scatter()
        self.figs_alignment()
        self.fig_means()
        self.fig_predictions()
        self.fig_accuracy()
        self.fig_groups()
        self.fig_sweeps()
        self.section("methods", "Methods", self.methods_html())
        path = os.path.join(self.out, "index.html")
        tmp = path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(self.page())
        os.replace(tmp, path)
        return path


def main(argv):
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
    args = ap.parse_args(argv[1:])

    path = args.results
    if not os.path.exists(path):
        fail(f"{path}: no such file")
    try:
        r = prh_results.load(path)
    except (OSError, ValueError, KeyError) as e:
        msg = str(e)
        fail(msg if path in msg else f"{path}: {msg}")
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
        rep = Report(r, out, tuple(pair), main_confs, args.method, args.alpha)
        index = rep.build()
    except OSError as e:
        fail(f"--out {out}: cannot write the report: {e.filename or out}: {e.strerror or e}")
    print(index)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
