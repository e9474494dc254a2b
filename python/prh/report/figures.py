"""The report's matplotlib figures: one draw_* function per figure, each given
the numbers to show and returning the figure; save() writes it as SVG, PNG and
PDF with fixed metadata (the same bytes for the same numbers). No HTML.

Importing this module selects matplotlib's Agg backend and sets the report's
rcParams."""
import math
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib import rcParams  # noqa: E402

from prh.report.format import CMAP, FIGURE_FORMATS, fmt, fmt_p, short  # noqa: E402
from prh.report.stats import mean_offdiag, ranks  # noqa: E402

PNG_DPI = 150
NAN_COLOUR = "#d0d0d0"

rcParams.update({
    "font.size": 9, "axes.titlesize": 9.5, "axes.labelsize": 9, "xtick.labelsize": 8,
    "ytick.labelsize": 8, "legend.fontsize": 8, "figure.titlesize": 11,
    "svg.hashsalt": "prh-report", "svg.fonttype": "path", "axes.spines.top": False,
    "axes.spines.right": False, "savefig.facecolor": "white", "figure.facecolor": "white",
})


def save(fig, figdir, name):
    """Writes figdir/name.{svg,png,pdf} and closes the figure."""
    os.makedirs(figdir, exist_ok=True)
    for n, ext in enumerate(FIGURE_FORMATS):
        meta = {"svg": {"Date": None}, "pdf": {"CreationDate": None}, "png": {}}[ext]
        # bbox "tight": the saved canvas grows to hold every label (never clipped).
        fig.savefig(os.path.join(figdir, f"{name}.{ext}"), dpi=PNG_DPI, metadata=meta,
                    bbox_inches="tight", pad_inches=0.05)
        if n == 0:
            # Laid out once (constrained layout), then frozen for the other formats.
            fig.set_layout_engine("none")
    plt.close(fig)


def colours(n, low, high):
    """n colours of the report's colour map between low and high (0..1)."""
    return plt.get_cmap(CMAP)(np.linspace(low, high, max(n, 1)))


def heatmap(ax, A, labels, vmin, vmax, ylabels=True, xlabels=True, marks=None, bounds=None, fontsize=8,
            xticklabels=None):
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


def _hide_unused(axes, used, nrow, ncol):
    for n in range(used, nrow * ncol):
        axes[n // ncol][n % ncol].set_visible(False)


# --- 1. configuration x configuration correlation ------------------------------------

def _correlation_title(ctx, s, c, a, b):
    R, meth = c["r"], ctx.method
    title = f"{s} (N = {ctx.n_images(s)}, {c['n'][a, b] if a is not None else '?'} pairs)"
    if a is None:
        return title
    ci = "" if c["ci_low"] is None else f" [{fmt(c['ci_low'][a, b])}, {fmt(c['ci_high'][a, b])}]"
    title += f"\n{short(ctx.pair[0])} vs {short(ctx.pair[1])}:\n{meth} {fmt(R[a, b])}{ci}"
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
    return title


def draw_correlations(ctx, sets, corr, names, a, b, vlow):
    """The K x K correlation of every image set (corr: {set: r.correlation(set, method)}),
    one colour scale from vlow to 1; (a, b): the chosen pair's indices (None: absent).
    Dots: cells whose calibration-null p >= alpha."""
    k = len(names)
    ncol = len(sets) if (k <= 10 or len(sets) <= 2) else 2
    nrow = math.ceil(len(sets) / ncol)
    cell = 0.2 if k > 12 else 0.38
    side = max(2.4, cell * k)
    fig, axes = plt.subplots(nrow, ncol, figsize=(ncol * side + 1.8, nrow * side + 1.6),
                             squeeze=False, layout="constrained", sharex=True, sharey=True)
    mesh = None
    for n, s in enumerate(sets):
        ax = axes[n // ncol][n % ncol]
        c = corr[s]
        R = c["r"]
        marks = None
        if c.get("null_p") is not None and np.isfinite(c["null_p"]).any():
            # The calibration null (agreement beyond chance); cells without one
            # (configurations not calibrated) carry no mark: Mantel's p tests
            # pair-level association only.
            marks = (c["null_p"] >= ctx.alpha) & ~np.eye(k, dtype=bool)
        mesh = heatmap(ax, R, [short(x) for x in names], vlow, 1, ylabels=(n % ncol == 0),
                       xlabels=(n // ncol == nrow - 1) or (n + ncol >= len(sets)),
                       marks=marks, fontsize=7 if k > 12 else 8)
        if k <= 8:
            for i in range(k):
                for j in range(k):
                    if np.isfinite(R[i, j]):
                        ax.text(j + 0.5, i + 0.5, f"{R[i, j]:.2f}", ha="center", va="center",
                                fontsize=7, color="black" if R[i, j] > 0 else "white")
        ax.set_title(_correlation_title(ctx, s, c, a, b), fontsize=8.5)
    _hide_unused(axes, len(sets), nrow, ncol)
    cb = fig.colorbar(mesh, ax=axes, shrink=0.6 if nrow > 1 else 0.9, aspect=30)
    cb.set_label(f"{ctx.method} correlation over model pairs")
    return fig


# --- 2. the scatter of one configuration pair --------------------------------------------

def _scatter_title(ctx, s, ok):
    r, (ca, cb), meth = ctx.r, ctx.pair, ctx.method
    title = f"{s}: {ok.sum()} pairs"
    if meth not in r.correlation_methods(s):
        return title
    c = r.correlation(s, meth)
    names = c["configurations"]
    if ca not in names or cb not in names:
        return title
    i, j = names.index(ca), names.index(cb)
    ci = "" if c["ci_low"] is None else f" [{fmt(c['ci_low'][i, j])}, {fmt(c['ci_high'][i, j])}]"
    title = f"{s}: {meth} = {fmt(c['r'][i, j])}{ci}\np = {fmt_p(c['p'][i, j])}, " \
            f"n = {c['n'][i, j]} pairs"
    if c.get("mantel_p") is not None:
        title += f", Mantel p = {fmt_p(c['mantel_p'][i, j])}"
    if c.get("null_p") is not None and np.isfinite(c["null_p"][i, j]):
        title += f"\nnull p = {fmt_p(c['null_p'][i, j])}"
        if c.get("null_q95") is not None:
            title += f" (null q95 {fmt(c['null_q95'][i, j])})"
    return title


def draw_scatter(ctx, sets, xy):
    """Top: the chosen pair's two scores over the model pairs i < j per set
    (xy: {set: (x, y)}); bottom: their ranks."""
    ca, cb = ctx.pair
    fig, axes = plt.subplots(2, len(sets), figsize=(max(3.0 * len(sets), 6.5), 6.4),
                             squeeze=False, layout="constrained")
    for n, s in enumerate(sets):
        x, y = xy[s]
        ok = np.isfinite(x) & np.isfinite(y)
        ax = axes[0][n]
        ax.scatter(x[ok], y[ok], s=12, color="#1f3b73", alpha=0.75, linewidths=0)
        ax.set_xlabel(short(ca))
        if n == 0:
            ax.set_ylabel(short(cb))
        ax.set_title(_scatter_title(ctx, s, ok), fontsize=8.5)
        ax2 = axes[1][n]
        if ok.sum() > 1:
            rx, ry = ranks(x[ok]), ranks(y[ok])
            ax2.scatter(rx, ry, s=12, color="#1f3b73", alpha=0.75, linewidths=0)
            ax2.plot([1, ok.sum()], [1, ok.sum()], color="#888888", lw=0.8, ls="--")
        ax2.set_xlabel(f"rank of {short(ca)}")
        if n == 0:
            ax2.set_ylabel(f"rank of {short(cb)}")
        ax2.set_title("ranks (ties: mean rank)", fontsize=8.5)
    return fig


# --- 3. alignment matrices -----------------------------------------------------------------

def _group_labels(ctx, axes, nrow, ncol, nsets):
    """Family (and training data) of each group, on the right of the last column."""
    m, o = ctx.m, ctx.order
    bounds = [0] + ctx.group_bounds() + [m]
    if len(bounds) == 2:
        bounds = [0]  # every model a group of its own: no group labels
    centres = [(bounds[i] + bounds[i + 1]) / 2 for i in range(len(bounds) - 1)]
    gnames = [ctx.group_of[o[bounds[i]]] for i in range(len(bounds) - 1)]
    for rr in range(nrow):
        last = min(ncol, nsets - rr * ncol) - 1
        ax = axes[rr][last]
        sec = ax.secondary_yaxis("right")
        sec.set_yticks(centres)
        sec.set_yticklabels(gnames, fontsize=7.5, color="#333333")
        sec.tick_params(length=0)
        for sp in sec.spines.values():
            sp.set_visible(False)


def draw_alignment(ctx, conf, sets, mats, marks, vmin, vmax, calibrated):
    """The M x M (calibrated) alignment matrices of `conf`, models in ctx.order
    (mats, marks: {set: [M, M]} already reordered, diagonal NaN / False)."""
    r, m, o = ctx.r, ctx.m, ctx.order
    ncol = len(sets) if (m <= 8 or len(sets) <= 2) else 2
    nrow = math.ceil(len(sets) / ncol)
    # Sized to be shown at 1:1 on an 1100 px page: 0.17 in (12 pt) a model
    # at M = 20, names at 8 pt (about 0.06 in a character).
    side = max(2.6, 0.17 * m)
    label_w = 0.06 * max(len(x) for x in r.models) + 0.3
    groups_w = 0.065 * max(len(x) for x in ctx.group_of) + 0.2
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
        mesh = heatmap(ax, mats[s], ylab, vmin, vmax, ylabels=(n % ncol == 0), xlabels=True,
                       marks=marks.get(s), bounds=ctx.group_bounds(), fontsize=8, xticklabels=xlab)
        present = ctx.models_present(s)
        ax.set_title(f"{s} (N = {ctx.n_images(s)}" + (f", {present} of {m} models" if present < m else "")
                     + f"): mean {fmt(mean_offdiag(mats[s]), 3)}", fontsize=8.5)
    _hide_unused(axes, len(sets), nrow, ncol)
    if m <= 8:  # few models: the values themselves
        for n, s in enumerate(sets):
            ax = axes[n // ncol][n % ncol]
            A = mats[s]
            for i in range(m):
                for j in range(m):
                    if np.isfinite(A[i, j]):
                        ax.text(j + 0.5, i + 0.5, f"{A[i, j]:.2f}", ha="center", va="center", fontsize=8,
                                color="black" if A[i, j] > (vmin + vmax) / 2 else "white")
    _group_labels(ctx, axes, nrow, ncol, len(sets))
    what = "calibrated alignment" if calibrated else "alignment"
    cb = fig.colorbar(mesh, ax=axes, location="bottom", shrink=0.5, aspect=40, pad=0.02)
    cb.set_label(f"{conf} ({what})")
    return fig


# --- 4. mean alignment per set --------------------------------------------------------------

def _mutual_knn_chance(ctx, ax, sets, conf, off):
    """Grey ticks at mutual_knn's chance level k / (N - 1) per set."""
    r = ctx.r
    meta = r.metric(sets[0], conf) if conf in r.configurations_of(sets[0]) else None
    if not (meta and meta["metric"] == "mutual_knn"):
        return
    try:  # params hold strings ({"k": "10"}) in files from prh reduce
        kk = float(meta["params"].get("k"))
    except (TypeError, ValueError):
        kk = None
    for xi, s in enumerate(sets):
        nn = ctx.n_images(s)
        if kk and nn and nn > 1:
            ax.plot([xi + off - 0.06, xi + off + 0.06], [kk / (nn - 1)] * 2, color="#777777", lw=1)


def draw_means(ctx, sets, shown, means, has_cal):
    """Mean (calibrated) alignment per set of the configurations `shown`, with the
    bootstrap intervals of means (stats.mean_table)."""
    ncols = 2 if has_cal else 1
    fig, axes = plt.subplots(1, ncols, figsize=(5.2 * ncols + 1.5, 3.6), squeeze=False,
                             layout="constrained", sharey=has_cal)
    markers = ["o", "s", "^", "D", "v", "P"]
    cols = colours(len(shown), 0.05, 0.85)
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
            ax.errorbar(x + off, ys, yerr=err, fmt=markers[n % len(markers)], color=cols[n],
                        ms=5, capsize=3, lw=1.2, label=short(conf))
            if key == "raw":
                _mutual_knn_chance(ctx, ax, sets, conf, off)
        ax.set_xticks(x)
        ax.set_xticklabels(sets)
        ax.set_xlim(-0.5, len(sets) - 0.5)
        ax.set_ylabel("mean calibrated alignment" if key == "cal" else "mean alignment")
        ax.set_title("calibrated" if key == "cal" else "raw scores", fontsize=9)
        ax.grid(axis="y", color="#e5e5e5", lw=0.6)
        ax.set_axisbelow(True)
    axes[0][0].legend(loc="best", frameon=False)
    return fig


def draw_layer_profile(ctx, sets, confs, profiles):
    """Alignment by relative depth (stored /layer_profile): one column per
    configuration, one line per set with its bootstrap band; top: the mean
    same-depth score (grey dotted: mutual_knn's chance level k / (N - 1) of the
    first set); bottom, when stored: relative to the reference set's."""
    has_rel = all(profiles[s].get("relative") is not None for s in sets)
    has_ct = all(profiles[s].get("early_late_change") is not None for s in sets)
    nrow, ncol = (2 if has_rel else 1), len(confs)
    fig, axes = plt.subplots(nrow + has_ct, ncol, figsize=(3.5 * ncol + 1.0, 2.8 * (nrow + has_ct)),
                             squeeze=False, layout="constrained")
    cols = colours(len(sets), 0.05, 0.9)
    markers = ["o", "s", "^", "D", "v", "P", "X", "*"]
    for k, conf in enumerate(confs):
        for row, key in enumerate(["mean", "relative"][:nrow]):
            ax = axes[row][k]
            for n_s, s in enumerate(sets):
                p = profiles[s]
                c = p["configurations"].index(conf)
                x, y = p["depths"], p[key][:, c]
                lo, hi = p[key + "_ci_low"][:, c], p[key + "_ci_high"][:, c]
                ax.plot(x, y, marker=markers[n_s % len(markers)], ms=3.5, lw=1.3,
                        color=cols[n_s], label=s)
                ok = np.isfinite(lo) & np.isfinite(hi)
                if ok.any():
                    ax.fill_between(x[ok], lo[ok], hi[ok], color=cols[n_s], alpha=0.15, lw=0)
            if key == "mean":
                meta = (ctx.r.metric(sets[0], conf) if conf in ctx.r.configurations_of(sets[0])
                        else None)
                if meta and meta["metric"] == "mutual_knn":
                    try:
                        kk, nn = float(meta["params"].get("k")), ctx.n_images(sets[0])
                        if nn and nn > 1:
                            ax.axhline(kk / (nn - 1), color="#777777", lw=0.9, ls=":")
                    except (TypeError, ValueError):
                        pass
                ax.set_title(short(conf), fontsize=9)
                ax.set_ylabel("mean same-depth alignment")
            else:
                ax.axhline(1.0, color="#777777", lw=0.9, ls=":")
                ax.set_ylabel(f"relative to {profiles[sets[0]].get('reference') or 'reference'}")
            if row == nrow - 1:
                ax.set_xlabel("relative depth (layer l of L at (l + 1) / L)")
            ax.set_xlim(0, 1.02)
            ax.grid(color="#e5e5e5", lw=0.6)
            ax.set_axisbelow(True)
        if has_ct:
            # the early-minus-late contrast: per set, (first - last) and its
            # change from the reference, with intervals and p (one construction)
            ax = axes[nrow][k]
            for n_s, s in enumerate(sets):
                p = profiles[s]
                c = p["configurations"].index(conf)
                for off, key, mk in ((-0.15, "early_late", "o"), (0.15, "early_late_change", "s")):
                    v, lo, hi = p[key][c], p[key + "_ci_low"][c], p[key + "_ci_high"][c]
                    if not np.isfinite(v):
                        continue
                    err = ([[v - lo], [hi - v]] if np.isfinite(lo) and np.isfinite(hi) else None)
                    ax.errorbar([v], [n_s + off], xerr=err, fmt=mk, ms=4,
                                color=cols[n_s], mfc=cols[n_s] if mk == "o" else "white",
                                lw=1.1, capsize=2)
                    pv = p[key + "_p"][c]
                    if key == "early_late_change" and n_s > 0 and np.isfinite(pv):
                        ax.annotate(f"p={pv:.3g}", (v, n_s + off), xytext=(3, -3),
                                    textcoords="offset points", fontsize=6, color="#444444")
            ax.axvline(0.0, color="#777777", lw=0.9, ls=":")
            ax.set_yticks(range(len(sets)))
            ax.set_yticklabels(sets, fontsize=7)
            ax.invert_yaxis()
            ax.set_xlabel("first minus last layers (o); its change from "
                          f"{profiles[sets[0]].get('reference') or 'reference'} (\u25a1)",
                          fontsize=8)
            ax.grid(color="#e5e5e5", lw=0.6)
            ax.set_axisbelow(True)
    axes[0][0].legend(loc="best", frameon=False, fontsize=7)
    return fig


# --- 5. predictions ---------------------------------------------------------------------------

DARK, LIGHT = "#1f3b73", "#b8a04a"


def _strip(ax, rng, xs, vals, off, colour, marker, label, filled=True):
    """Jittered dots of vals at x = xs + off, with their median as a bar."""
    v = np.asarray(vals, float)
    v = v[np.isfinite(v)]
    if not v.size:
        return
    jit = rng.uniform(-0.07, 0.07, v.size)
    ax.scatter(xs + off + jit, v, s=14, marker=marker, linewidths=0.8,
               facecolors=colour if filled else "none", edgecolors=colour, label=label, alpha=0.85)
    ax.plot([xs + off - 0.13, xs + off + 0.13], [np.median(v)] * 2, color="black", lw=1.5)


def draw_predictions(ctx, sets, preds):
    """Accuracy, confidence and agreement per set (preds: {set: r.predictions(set)})."""
    iu = np.triu_indices(ctx.m, 1)
    fig, axes = plt.subplots(1, 3, figsize=(11, 3.6), layout="constrained")
    x = np.arange(len(sets))
    rng = np.random.default_rng(0)  # jitter only
    ax = axes[0]
    for xi, s in enumerate(sets):
        acc = np.asarray(preds[s].get("accuracy", []), float)
        if np.isfinite(acc).any():
            _strip(ax, rng, xi, acc, 0, DARK, "o", None)
        else:
            ax.text(xi, 0.5, "no accuracy\n(no label space\nmatches the set's)", ha="center", va="center",
                    fontsize=7.5, color="#555555")
    ax.set_title("top-1 accuracy (labelled images)")
    ax.set_ylim(-0.03, 1.03)
    ax = axes[1]
    for xi, s in enumerate(sets):
        _strip(ax, rng, xi, preds[s]["mean_prob"], -0.17, DARK, "o", "all images" if xi == 0 else None)
        _strip(ax, rng, xi, preds[s].get("mean_prob_wrong", []), 0.17, LIGHT, "^",
               "images it gets wrong" if xi == 0 else None, filled=False)
    ax.set_title("confidence: mean top-1 probability")
    ax.set_ylim(-0.03, 1.03)
    ax.legend(loc="lower left", frameon=False)
    ax = axes[2]
    for xi, s in enumerate(sets):
        _strip(ax, rng, xi, preds[s]["agreement"][iu], -0.17, DARK, "o", "all images" if xi == 0 else None)
        _strip(ax, rng, xi, preds[s]["agreement_both_wrong"][iu], 0.17, LIGHT, "^",
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
    return fig


# --- 6. alignment against accuracy ---------------------------------------------------------------

def draw_accuracy(ctx, sets, points):
    """Each model's accuracy against its mean alignment under ctx.pair[0], per set
    (points: {set: (accuracy [M], mean alignment [M], title)}), marked by group."""
    conf = ctx.pair[0]
    fams = list(dict.fromkeys(ctx.group_of))
    markers = ["o", "s", "^", "D", "v", "P", "X", "<", ">", "*"]
    cols = colours(len(fams), 0.0, 0.9)
    fig, axes = plt.subplots(1, len(sets), figsize=(max(3.6 * len(sets), 5) + 2.0, 3.6),
                             squeeze=False, layout="constrained")
    for n, s in enumerate(sets):
        ax = axes[0][n]
        acc, ma, title = points[s]
        for fi, fam in enumerate(fams):
            idx = [i for i in range(ctx.m) if ctx.group_of[i] == fam]
            ax.scatter(acc[idx], ma[idx], s=22, marker=markers[fi % len(markers)],
                       color=cols[fi], label=fam if n == 0 else None, linewidths=0)
        ax.set_title(title, fontsize=8.5)
        ax.set_xlabel("accuracy")
        if n == 0:
            ax.set_ylabel(f"mean alignment ({short(conf)})")
        ax.grid(color="#eeeeee", lw=0.6)
        ax.set_axisbelow(True)
    handles, labels = axes[0][0].get_legend_handles_labels()
    axes[0][-1].legend(handles, labels, loc="center left", bbox_to_anchor=(1.02, 0.5), frameon=False,
                       title="group", fontsize=7.5)
    return fig


# --- 6b. group effects ---------------------------------------------------------------------------

def _group_effect_row(ctx, ax, f, k, y, first_panel):
    """One set's effect (dot, filled when q < alpha), interval and raw gap."""
    e, lo, hi = f["effect"][k], f["effect_ci_low"][k], f["effect_ci_high"][k]
    q = f["effect_qvalue"][k]
    sig = np.isfinite(q) and q < ctx.alpha
    if np.isfinite(e):
        x0 = lo if np.isfinite(lo) else ax.get_xlim()[0]
        x1 = hi if np.isfinite(hi) else ax.get_xlim()[1]
        ax.plot([x0, x1], [y, y], color="#1f4e79", lw=1.4)
        ax.plot([e], [y], "o", color="#1f4e79", mfc="#1f4e79" if sig else "white", ms=5.5,
                label=("effect, q < alpha" if sig else "effect") if first_panel else None)
        ax.text(1.01, y, f"q = {fmt_p(q)}", transform=ax.get_yaxis_transform(), fontsize=7,
                va="center")
    ax.plot([f["gap"][k]], [y], "x", color="#999999", ms=4.5,
            label="raw gap (descriptive)" if first_panel and y == 0 else None)


def draw_groups(ctx, g, k, sets, factors):
    """Per factor, the effect of sharing its label on ctx.pair[0] per set (g: r.groups,
    k: the configuration's index in g["configurations"])."""
    conf = ctx.pair[0]
    fig, axes = plt.subplots(1, len(factors), figsize=(4.2 * len(factors) + 1.5, 0.32 * len(sets) + 1.4),
                             squeeze=False, layout="constrained", sharey=True)
    for n, factor in enumerate(factors):
        ax = axes[0][n]
        for y, s in enumerate(sets):
            f = g["sets"][s]["factors"].get(factor)
            if f is None or "effect" not in f:
                continue
            _group_effect_row(ctx, ax, f, k, y, n == 0)
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
    return fig


# --- 7. sweeps ------------------------------------------------------------------------------------

SWEEP_MARKERS = ["o", "s", "^", "D", "v"]


def _sweep_stored_panel(ctx, ax, sw, key, confs, cols, ntext):
    """The stored effect-size ("rel") or power ("power") curve of each configuration."""
    r, lv = ctx.r, sw["levels"]
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
        ax.plot(lv, y, marker=SWEEP_MARKERS[n % 5], color=cols[n], ms=4, lw=1.2, label=short(conf))
        if sw.get(lo_k) is not None and sw.get(hi_k) is not None:
            ax.fill_between(lv, sw[lo_k][:, kidx], sw[hi_k][:, kidx], color=cols[n], alpha=0.2, lw=0)
    ax.axhline(line, color="#888888", lw=0.8, ls=":")
    if key == "rel":
        ax.set_ylabel("mean calibrated score / first level's")
        ax.set_title("effect size: relative calibrated score", fontsize=9)
    else:
        ax.set_ylabel(f"share of pairs with q < {sw.get('alpha') or ctx.alpha:g}")
        ax.set_title("power curve" + (f" ({ntext})" if ntext else ""), fontsize=9)


def _sweep_mean_panel(ax, sw, key, sets, confs, means, cols, configurations=()):
    """The report's mean (key "raw") or mean calibrated ("cal") alignment per level;
    raw: each configuration's chance level at the level's N (`chance_level`, where
    a closed form is stored: mutual_knn) as a dotted line of its colour."""
    lv = sw["levels"]
    chance = sw.get("chance_level")
    for n, conf in enumerate(confs):
        y = np.array([means.get((s, conf), {}).get(key, np.nan) for s in sets])
        if not np.isfinite(y).any():
            continue  # not calibrated: no curve, no legend entry
        ci = np.array([means.get((s, conf), {}).get(key + "_ci", (np.nan, np.nan)) for s in sets])
        ax.plot(lv, y, marker=SWEEP_MARKERS[n % 5], color=cols[n], ms=4, lw=1.2, label=short(conf))
        ax.fill_between(lv, ci[:, 0], ci[:, 1], color=cols[n], alpha=0.2, lw=0)
        if key == "raw" and chance is not None and conf in configurations:
            c = chance[:, list(configurations).index(conf)]
            if np.isfinite(c).any():
                ax.plot(lv, c, color=cols[n], lw=0.9, ls=":")
    ax.set_ylabel("mean calibrated alignment" if key == "cal" else "mean alignment")
    ax.set_title("calibrated" if key == "cal" else "raw scores", fontsize=9)


def _sweep_corr_panel(ctx, ax, sw, corr):
    """The cross-metric correlation per level (corr: arrays y, lo, hi, null_q95, null_p)
    with its band and its calibration null's 0.95 quantile."""
    (ca, cb), lv = ctx.pair, sw["levels"]
    y, lo, hi, nq, pv = corr["y"], corr["lo"], corr["hi"], corr["null_q95"], corr["null_p"]
    ax.plot(lv, y, marker="o", color="#1f3b73", ms=4, lw=1.2, label="observed")
    ax.fill_between(lv, lo, hi, color="#1f3b73", alpha=0.2, lw=0)
    # The calibration null's 0.95 quantile: what chance alone reaches (the
    # test is the observed value against that distribution; its mean is not
    # a baseline to subtract).
    if np.isfinite(nq).any():
        ax.plot(lv, nq, color="#b8a04a", lw=1.0, ls=":", label="null q95 (chance)")
        out = np.isfinite(pv) & (pv >= ctx.alpha)
        if out.any():
            ax.plot(np.asarray(lv)[out], y[out], ls="none", marker="x", color="#b8a04a",
                    ms=6, label=f"null p ≥ {ctx.alpha:g}")
    ax.set_ylabel(f"{ctx.method}({short(ca)}, {short(cb)})")
    ax.set_title("cross-metric correlation", fontsize=9)


def _sweep_breaks(ctx, axes, sw, panels, confs, cols, breaks):
    """The breaking points as vertical lines (dashed: breaks; dotted: the power curve's)."""
    r = ctx.r
    for pi, key in enumerate(panels):
        ax = axes[0][pi]
        if key == "corr" and breaks.get("corr") is not None:
            ax.axvline(breaks["corr"], color="black", lw=1, ls="--")
            ax.annotate("breaks", (breaks["corr"], 1), xycoords=("data", "axes fraction"),
                        fontsize=7, ha="left", va="top", xytext=(2, -2), textcoords="offset points")
        if key in ("raw", "cal", "rel"):
            for n, conf in enumerate(confs):
                if breaks.get(conf) is not None:
                    ax.axvline(breaks[conf], color=cols[n], lw=1, ls="--")
        if key == "power" and sw.get("breaking_level") is not None:
            for n, conf in enumerate(confs):
                bl = sw["breaking_level"][r.configurations.index(conf)]
                if np.isfinite(bl):
                    ax.axvline(bl, color=cols[n], lw=1, ls=":")


# The per-level datasets of /sweeps/NAME ([L, ...]) that the panels draw.
SWEEP_LEVEL_KEYS = ("levels", "images", "relative_calibrated", "relative_calibrated_ci_low",
                    "relative_calibrated_ci_high", "significant_fraction",
                    "significant_fraction_ci_low", "significant_fraction_ci_high",
                    "chance_level")


def sweep_in_level_order(sw, sets, corr):
    """The sweep's levels sorted by value (lines join neighbouring levels, whatever
    the config's order): sw's per-level arrays, the level sets and the correlation
    arrays reordered alike."""
    lv = np.asarray(sw["levels"], dtype=float)
    order = np.argsort(lv, kind="stable")
    if (order == np.arange(len(order))).all():
        return sw, sets, corr
    out = dict(sw)
    for k in SWEEP_LEVEL_KEYS:
        v = sw.get(k)
        if v is not None and np.ndim(v) >= 1 and len(v) == len(order):
            out[k] = np.asarray(v)[order]
    sets = [sets[i] for i in order]
    if corr:
        corr = {k: (np.asarray(v)[order] if np.ndim(v) >= 1 and len(v) == len(order) else v)
                for k, v in corr.items()}
    return out, sets, corr


def draw_sweep(ctx, sw, sets, confs, means, panels, ntext, corr, breaks):
    """A sweep against its level: panels "rel", "power" (stored curves), "raw", "cal"
    (the report's means) and "corr" (the cross-metric correlation); breaks: {conf or
    "corr": level or None}. Points are joined in the order of their level's value."""
    descending = len(sw["levels"]) > 1 and sw["levels"][0] > sw["levels"][-1]
    sw, sets, corr = sweep_in_level_order(sw, sets, corr)
    lv = sw["levels"]
    fig, axes = plt.subplots(1, len(panels), figsize=(3.7 * len(panels) + 1.2, 3.5),
                             squeeze=False, layout="constrained", sharex=True)
    cols = colours(len(confs), 0.05, 0.85)
    for pi, key in enumerate(panels):
        ax = axes[0][pi]
        if key in ("rel", "power"):
            _sweep_stored_panel(ctx, ax, sw, key, confs, cols, ntext)
        elif key in ("raw", "cal"):
            _sweep_mean_panel(ax, sw, key, sets, confs, means, cols, ctx.r.configurations)
        else:
            _sweep_corr_panel(ctx, ax, sw, corr)
        ax.set_xlabel(sw["parameter"])
        if descending:
            ax.invert_xaxis()  # the sweep's order: from the base towards no structure
        ax.grid(color="#eeeeee", lw=0.6)
        ax.set_axisbelow(True)
        ax.legend(loc="lower left" if key == "corr" else "best", frameon=False, fontsize=7)
    _sweep_breaks(ctx, axes, sw, panels, confs, cols, breaks)
    return fig
