"""The report's sections, in page order: each gathers its numbers from the
results file (and prh.report.stats), draws its figure (prh.report.figures),
and adds its caption (prh.report.captions) and number tables
(prh.report.page) to the page. A table cell is text or a dict {'v': number,
'h5': dataset path, 'idx': index} ({'derived': what} where the report computed
it), so that every number can be traced back to the file."""
import numpy as np

from prh.report import captions, figures, stats
from prh.report.format import esc, fmt, fmt_p, short, slug
from prh.report.page import figure_html, table_html


def _save(ctx, fig, name):
    figures.save(fig, ctx.figdir, name)


# --- 1. configuration x configuration correlation ------------------------------------

def _correlation_rows(s, c, names, meth):
    rows = []
    k = len(names)
    p = "/correlation/" + s + "/"
    R = c["r"]
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
    return rows


def correlations(ctx, page):
    r, meth = ctx.r, ctx.method
    sets = [s for s in ctx.sets if meth in r.correlation_methods(s)]
    if not sets:
        page.section("correlations", "Correlation between metric configurations",
                     f"<p class='absent'>No {esc(meth)} correlations in this results file.</p>")
        return
    corr = {s: r.correlation(s, meth) for s in sets}
    names = corr[sets[0]]["configurations"]
    k = len(names)
    a, b = (names.index(ctx.pair[0]), names.index(ctx.pair[1])) if all(
        p in names for p in ctx.pair) else (None, None)
    # One scale for every set: 0..1 when no correlation is negative, else -1..1.
    lows = [np.nanmin(np.where(np.isfinite(corr[s]["r"]), corr[s]["r"], np.nan))
            for s in sets if np.isfinite(corr[s]["r"]).any()]
    vlow = -1.0 if (lows and min(lows) < 0) else 0.0
    has_null = any(corr[s].get("null_p") is not None and np.isfinite(corr[s]["null_p"]).any()
                   for s in sets)
    _save(ctx, figures.draw_correlations(ctx, sets, corr, names, a, b, vlow), "correlation_matrices")
    rows = [row for s in sets for row in _correlation_rows(s, corr[s], names, meth)]
    title = (f"{meth.capitalize()} correlation between metric configurations, per image set "
             f"({k} configurations)")
    body = figure_html("correlation_matrices", title, captions.correlations(ctx, sets, vlow, has_null))
    body += table_html("correlations", f"Numbers: {meth} correlations (configurations a < b)",
                       ["set", "config_a", "config_b", "r", "p", "n", "ci_low", "ci_high",
                        "null_mean", "null_q95", "null_p", "mantel_p"], rows)
    page.section("correlations", "Correlation between metric configurations", body)


# --- 2. the scatter of one configuration pair --------------------------------------------

def scatter(ctx, page):
    r, (ca, cb) = ctx.r, ctx.pair
    sets = [s for s in ctx.sets if ca in r.configurations_of(s) and cb in r.configurations_of(s)]
    if not sets:
        page.section("scatter", f"{short(ca)} against {short(cb)}",
                     f"<p class='absent'>{esc(ca)} or {esc(cb)} is not in this results file.</p>")
        return
    iu = np.triu_indices(ctx.m, 1)
    xy = {s: (r.scores(s, ca)[iu], r.scores(s, cb)[iu]) for s in sets}
    _save(ctx, figures.draw_scatter(ctx, sets, xy), "pair_scatter")
    rows = []
    for s in sets:
        x, y = xy[s]
        for p in range(len(iu[0])):
            i, j = int(iu[0][p]), int(iu[1][p])
            rows.append([s, r.models[i], r.models[j],
                         {"v": x[p], "h5": f"/alignment/{s}/{ca}/scores", "idx": (i, j)},
                         {"v": y[p], "h5": f"/alignment/{s}/{cb}/scores", "idx": (i, j)}])
    title = f"How the correlation of {short(ca)} and {short(cb)} was computed, per image set"
    body = figure_html("pair_scatter", title, captions.scatter(ctx, sets))
    body += table_html("pair_scores", "Numbers: the two scores of every model pair",
                       ["set", "model_a", "model_b", ca, cb], rows)
    page.section("scatter", f"{short(ca)} against {short(cb)}", body)


# --- 3. alignment matrices -----------------------------------------------------------------

def _alignment_panels(ctx, conf, sets, calibrated):
    """The matrices to draw (diagonal NaN, models in ctx.order), the significant pairs
    (q, else p, < alpha) and one colour scale for all sets."""
    r, o = ctx.r, ctx.order
    mats, marks = {}, {}
    for s in sets:
        cal = r.calibration(s, conf)
        A = cal["calibrated"] if calibrated else r.scores(s, conf)
        mk = None
        if cal is not None and cal.get("qvalue") is not None:
            mk = cal["qvalue"] < ctx.alpha
        elif cal is not None and cal.get("pvalue") is not None:
            mk = cal["pvalue"] < ctx.alpha
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
    return mats, marks, vmin, vmax


def _alignment_rows(ctx, conf, sets):
    r, m = ctx.r, ctx.m
    rows = []
    for s in sets:
        cal = r.calibration(s, conf)
        S = r.scores(s, conf)
        for i in range(m):
            for j in range(i + 1, m):
                row = [s, conf, r.models[i], r.models[j], ctx.group_of[i], ctx.group_of[j],
                       {"v": S[i, j], "h5": f"/alignment/{s}/{conf}/scores", "idx": (i, j)},
                       {"v": S[j, i], "h5": f"/alignment/{s}/{conf}/scores", "idx": (j, i)}]
                for key in ("calibrated", "threshold", "pvalue", "qvalue"):
                    if cal is not None and cal.get(key) is not None:
                        row.append({"v": cal[key][i, j], "h5": f"/calibration/{s}/{conf}/{key}",
                                    "idx": (i, j)})
                    else:
                        row.append("—")
                rows.append(row)
    return rows


def alignment_figure(ctx, conf, calibrated=False):
    """The (calibrated) alignment matrices of one configuration: its HTML, or None
    when no set has them."""
    r = ctx.r
    sets = [s for s in ctx.sets if conf in r.configurations_of(s)
            and (not calibrated or r.calibration(s, conf) is not None)]
    if not sets:
        return None
    mats, marks, vmin, vmax = _alignment_panels(ctx, conf, sets, calibrated)
    name = ("calibrated_" if calibrated else "alignment_") + slug(conf)
    _save(ctx, figures.draw_alignment(ctx, conf, sets, mats, marks, vmin, vmax, calibrated), name)
    title = (f"{'Calibrated alignment' if calibrated else 'Alignment'} of every model pair under "
             f"{conf}, per image set")
    body = figure_html(name, title, captions.alignment(ctx, conf, sets, calibrated, bool(marks)))
    body += table_html(name, f"Numbers: {conf}, every model pair (i < j; score_ba = scores[j, i])",
                       ["set", "configuration", "model_a", "model_b", "group_a", "group_b",
                        "score", "score_ba", "calibrated", "threshold", "pvalue", "qvalue"],
                       _alignment_rows(ctx, conf, sets))
    return body


def alignment(ctx, page):
    body = ""
    for conf in ctx.main:
        b = alignment_figure(ctx, conf)
        if b:
            body += b
        if ctx.r.has_calibration():
            b = alignment_figure(ctx, conf, calibrated=True)
            if b:
                body += b
    if not body:
        body = "<p class='absent'>None of the main configurations is in this results file.</p>"
    page.section("alignment", "Alignment matrices", body)


# --- 4. mean alignment per set --------------------------------------------------------------

def mean_table(ctx, sets, confs):
    """stats.mean_table: the stored means and intervals (/correlation/S/mean*)."""
    return stats.mean_table(ctx.r, sets, confs)


def _mean_cells(e, key, h5_plain):
    """The mean and its interval as cells: read from the file (h5 path and index) when
    stored, else the mean computed from `h5_plain` (data-derived) and no interval."""
    info = {"b": e["b"], "seed": e["seed"], "confidence": e["confidence"]}
    if e["stored"]:
        pre = "" if key == "raw" else "calibrated_"
        k = e["idx"]
        return [{"v": e[key], "h5": f"{e['h5']}/{pre}mean", "idx": k},
                {"v": e[key + "_ci"][0], "h5": f"{e['h5']}/{pre}mean_ci_low", "idx": k},
                {"v": e[key + "_ci"][1], "h5": f"{e['h5']}/{pre}mean_ci_high", "idx": k}]
    return [dict({"v": e[key], "derived": "mean_offdiag", "h5": h5_plain}, **info), "—", "—"]


def _means_rows(means):
    rows = []
    for (s, conf), e in means.items():
        row = [s, conf] + _mean_cells(e, "raw", f"/alignment/{s}/{conf}/scores")
        if "cal" in e:
            row += _mean_cells(e, "cal", f"/calibration/{s}/{conf}/calibrated")
        else:
            row += ["—", "—", "—"]
        rows.append(row)
    return rows


def _not_stored_note(means):
    """A visible note when some means were not stored in the file (older files)."""
    sets = sorted({s for (s, _), e in means.items() if not e["stored"]})
    if not sets:
        return ""
    return ("<p class='absent'>This results file does not store the mean alignment and its "
            "bootstrap interval of " + ", ".join(esc(s) for s in sets) + " (/correlation/S/mean*: "
            "written by prh reduce since 2026-12-06): the means shown there are computed from "
            "the stored matrices, without intervals. Run prh reduce again to store them.</p>")


def means(ctx, page):
    r, sets = ctx.r, ctx.sets
    confs = [c for c in r.configurations if any(c in r.configurations_of(s) for s in sets)]
    if not confs:
        return
    table = mean_table(ctx, sets, confs)
    shown = [c for c in ctx.main if any((s, c) in table for s in sets)]
    has_cal = any("cal" in e for e in table.values())
    _save(ctx, figures.draw_means(ctx, sets, shown, table, has_cal), "mean_alignment")
    rows = _means_rows(table)
    e0 = next(iter(table.values()))
    body = figure_html("mean_alignment", "Mean alignment per image set"
                       + (", raw and calibrated" if has_cal else ""), captions.means(ctx, sets, e0, has_cal))
    body += _not_stored_note(table)
    body += table_html("mean_alignment", "Numbers: mean alignment of every configuration",
                       ["set", "configuration", "mean", "ci_low", "ci_high", "calibrated_mean",
                        "calibrated_ci_low", "calibrated_ci_high"], rows)
    page.section("means", "Mean alignment per image set", body)


# --- 4b. alignment by relative depth --------------------------------------------------------

def layer_profile(ctx, page):
    r = ctx.r
    sets = [s for s in ctx.sets if r.layer_profile(s) is not None]
    if not sets:
        return
    profiles = {s: r.layer_profile(s) for s in sets}
    p0 = profiles[sets[0]]
    confs = [c for c in ctx.main if all(c in profiles[s]["configurations"] for s in sets)]
    if not confs:
        confs = list(p0["configurations"])[:3]
    _save(ctx, figures.draw_layer_profile(ctx, sets, confs, profiles), "layer_profile")
    rows = []
    for s in sets:
        p = profiles[s]
        for conf in confs:
            c = p["configurations"].index(conf)
            for g, depth in enumerate(p["depths"]):
                names = ["mean", "mean_ci_low", "mean_ci_high"]
                if p.get("relative") is not None:
                    names += ["relative", "relative_ci_low", "relative_ci_high"]
                rows.append([s, conf, fmt(depth, 3)]
                            + [{"v": p[name][g, c], "h5": f"/layer_profile/{s}/{name}",
                                "idx": (g, c)} for name in names])
    body = figure_html("layer_profile", "Alignment by relative depth",
                       captions.layer_profile(ctx, sets, p0))
    body += table_html("layer_profile", "Numbers: mean same-depth alignment",
                       ["set", "configuration", "depth", "mean", "ci_low", "ci_high", "relative",
                        "relative_ci_low", "relative_ci_high"], rows)
    # the early-minus-late contrast, with interval and p (one construction)
    names = ["early_late", "early_late_ci_low", "early_late_ci_high", "early_late_p",
             "early_late_change", "early_late_change_ci_low", "early_late_change_ci_high",
             "early_late_change_p"]
    crows = []
    for s in sets:
        p = profiles[s]
        if any(p.get(n) is None for n in names):
            continue
        for conf in confs:
            c = p["configurations"].index(conf)
            crows.append([s, conf] + [{"v": p[n][c], "h5": f"/layer_profile/{s}/{n}", "idx": (c,)}
                                      for n in names])
    if crows:
        body += ("<p>" + captions.layer_contrast(p0) + "</p>\n")
        body += table_html("layer_contrast",
                           "Numbers: first layers minus last layers, and its change from "
                           + str(p0.get("reference")),
                           ["set", "configuration", "early_late", "ci_low", "ci_high", "p",
                            "change", "change_ci_low", "change_ci_high", "change_p"], crows,
                           open_=True)
    page.section("layer_profile", "Alignment by relative depth", body)


# --- 5. predictions ---------------------------------------------------------------------------

def predictions(ctx, page):
    r, m = ctx.r, ctx.m
    sets = [s for s in ctx.sets if r.has_predictions(s)]
    preds = {s: r.predictions(s) for s in sets}
    sets = [s for s in sets if "mean_prob" in preds[s] and np.isfinite(preds[s]["mean_prob"]).any()]
    if not sets:
        page.section("predictions", "Predictions",
                     "<p class='absent'>No model with a classifier head, or no predictions in this "
                     "results file.</p>")
        return
    _save(ctx, figures.draw_predictions(ctx, sets, preds), "predictions")
    iu = np.triu_indices(m, 1)
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
    body = figure_html("predictions", "Predictions: accuracy, confidence and whether models "
                       "fail together, per image set", captions.predictions(ctx, sets, labelled))
    body += table_html("predictions_models", "Numbers: per model",
                       ["set", "model", "accuracy", "mean_prob", "mean_prob_wrong"], rows_m)
    body += table_html("predictions_pairs", "Numbers: per model pair",
                       ["set", "model_a", "model_b", "agreement", "both_wrong",
                        "agreement_both_wrong"], rows_p)
    page.section("predictions", "Predictions", body)


# --- 6. alignment against accuracy ---------------------------------------------------------------

def _accuracy_sets(ctx, conf):
    """The sets with accuracies that vary over the models and mean alignments under
    conf; and, as phrases, those whose accuracy is one value for every model."""
    r = ctx.r
    sets, constant = [], []
    for s in ctx.sets:
        if r.has_predictions(s) and "accuracy" in r.predictions(s) and r.has_correlation(s):
            acc = r.predictions(s)["accuracy"]
            c = r.correlation_info(s)
            fin = acc[np.isfinite(acc)]
            if c["mean_alignment"] is None or conf not in c["configurations"]:
                continue
            if fin.size >= 2 and np.unique(fin).size >= 2:
                sets.append(s)
            elif fin.size:
                constant.append(f"{s} (accuracy {fmt(fin[0], 3)} for every model)")
    return sets, constant


def _accuracy_correlation_rows(r, sets):
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
    return crows


def accuracy(ctx, page):
    r, meth, conf = ctx.r, ctx.method, ctx.pair[0]
    sets, constant = _accuracy_sets(ctx, conf)
    if not sets:
        page.section("accuracy", "Alignment against accuracy",
                     "<p class='absent'>No image set with model accuracies and mean alignments "
                     f"under {esc(conf)} (accuracy needs a set whose label space matches the models').</p>")
        return
    points, rows = {}, []
    for s in sets:
        acc = r.predictions(s)["accuracy"]
        c = r.correlation(s, meth) if meth in r.correlation_methods(s) else None
        info = r.correlation_info(s)
        k = info["configurations"].index(conf)
        ma = info["mean_alignment"][k]
        title = s
        if c is not None and c.get("accuracy_r") is not None:
            title += (f": {meth} {fmt(c['accuracy_r'][k])}, p = {fmt_p(c['accuracy_p'][k])}, "
                      f"n = {c['accuracy_n'][k]} models")
        points[s] = (acc, ma, title)
        for i in range(ctx.m):
            rows.append([s, r.models[i], {"v": acc[i], "h5": f"/predictions/{s}/accuracy", "idx": (i,)},
                         {"v": ma[i], "h5": f"/correlation/{s}/mean_alignment", "idx": (k, i)}])
    _save(ctx, figures.draw_accuracy(ctx, sets, points), "alignment_vs_accuracy")
    body = figure_html("alignment_vs_accuracy", "Alignment against accuracy, per image set",
                       captions.accuracy(ctx, sets, constant))
    body += table_html("accuracy_points", "Numbers: each model's accuracy and mean alignment",
                       ["set", "model", "accuracy", f"mean_alignment {conf}"], rows)
    body += table_html("accuracy_correlation", "Numbers: correlation of mean alignment with "
                       "accuracy, every configuration", ["set", "method", "configuration", "r",
                                                         "p", "n"], _accuracy_correlation_rows(r, sets))
    page.section("accuracy", "Alignment against accuracy", body)


# --- 6b. group effects ---------------------------------------------------------------------------

def groups(ctx, page):
    """/groups: per factor and set, the effect of sharing the factor's label (OLS with the
    models' main effects), its interval and q; the raw gap beside it, descriptive only."""
    g = ctx.r.groups
    conf = ctx.pair[0]
    if not g or not g["factors"] or conf not in g["configurations"]:
        return
    k = g["configurations"].index(conf)
    sets = [s for s in ctx.r.sets if s in g["sets"]]
    factors = [f for f in g["factors"]
               if any("effect" in g["sets"][s]["factors"].get(f, {}) for s in sets)]
    if not sets or not factors:
        return
    level = float(g["attrs"].get("confidence", 0.95))
    _save(ctx, figures.draw_groups(ctx, g, k, sets, factors), "group_effects")
    rows = []
    for factor in factors:
        for s in sets:
            f = g["sets"][s]["factors"].get(factor)
            if f is None or "effect" not in f:
                continue
            base = f"/groups/{s}/{factor}/"
            rows.append([s, factor] + [{"v": f[d][k], "h5": base + d, "idx": (k,)} for d in
                                       ("effect", "effect_ci_low", "effect_ci_high", "effect_pvalue",
                                        "effect_qvalue", "within", "across", "gap")])
    body = figure_html("group_effects", "Group effects beyond each model's overall alignment",
                       captions.groups(ctx, level))
    body += table_html("group_effects", "Numbers: effect, interval, p, q, and the descriptive means",
                       ["set", "factor", "effect", "ci_low", "ci_high", "p", "q", "within",
                        "across", "gap"], rows)
    page.section("groups", "Group effects", body)


# --- 7. sweeps ------------------------------------------------------------------------------------

def _sweep_correlation(ctx, sets):
    """Per level: the chosen pair's correlation, its interval and its calibration null
    (arrays y, lo, hi, null_mean, null_q95, null_p; NaN where absent)."""
    r, meth, (ca, cb) = ctx.r, ctx.method, ctx.pair
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
    return {"y": y, "lo": lo, "hi": hi, "null_mean": nm, "null_q95": nq, "null_p": pv}


def _sweep_breaks(ctx, sw, sets, confs, has_cal, corr):
    """The breaking points: the cross-metric correlation's ("corr") first, then each
    configuration's (stored: the effect size's, else the power curve's; else the first
    level at which fewer than half the model pairs are significant, with calibration)."""
    r, (ca, cb), lv = ctx.r, ctx.pair, sw["levels"]
    breaks = {}
    stored = sw.get("correlation_breaking_level")
    cbl = sw.get("correlation_breaking_levels")
    if cbl is not None and ca in r.configurations and cb in r.configurations:
        v = cbl[r.configurations.index(ca), r.configurations.index(cb)]
        breaks["corr"] = v if np.isfinite(v) else None
    elif stored is not None:
        breaks["corr"] = stored
    else:
        pv = corr["null_p"]
        bad = [n for n in range(len(lv)) if not (np.isfinite(pv[n]) and pv[n] < ctx.alpha)]
        breaks["corr"] = lv[bad[0]] if bad else None
    for conf in confs:
        kidx = r.configurations.index(conf)
        if sw.get("relative_breaking_level") is not None:
            bl = sw["relative_breaking_level"][kidx]
            breaks[conf] = bl if np.isfinite(bl) else None
        elif sw.get("breaking_level") is not None:
            bl = sw["breaking_level"][kidx]
            breaks[conf] = bl if np.isfinite(bl) else None
        elif has_cal:
            breaks[conf] = stats.first_level_below_half(r, ctx.m, sets, lv, conf, ctx.alpha)
    return breaks


def _sweep_rows(ctx, name, sw, sets, confs, means):
    r, meth, (ca, cb), lv = ctx.r, ctx.method, ctx.pair, sw["levels"]
    rows = []
    for li, s in enumerate(sets):
        for conf in confs:
            e = means.get((s, conf))
            if e is None:
                continue
            row = [name, {"v": lv[li], "h5": f"/sweeps/{name}/levels", "idx": (li,)}, s, conf,
                   _mean_cells(e, "raw", f"/alignment/{s}/{conf}/scores")[0]]
            if "cal" in e:
                row.append(_mean_cells(e, "cal", f"/calibration/{s}/{conf}/calibrated")[0])
            else:
                row.append("—")
            kidx = r.configurations.index(conf)
            for key in ("relative_calibrated", "significant_fraction"):
                a = sw.get(key)
                if a is not None and np.isfinite(a[li, kidx]):
                    row.append({"v": a[li, kidx], "h5": f"/sweeps/{name}/{key}", "idx": (li, kidx)})
                else:
                    row.append("—")
            cell = "—"
            if meth in r.correlation_methods(s):
                c = r.correlation(s, meth)
                names = c["configurations"]
                if ca in names and cb in names:
                    i, j = names.index(ca), names.index(cb)
                    cell = {"v": c["r"][i, j], "h5": f"/correlation/{s}/{meth}", "idx": (i, j)}
            row.append(cell)
            rows.append(row)
    return rows


def sweep(ctx, name, sw):
    """One sweep's figure, caption and table (HTML)."""
    r, meth, (ca, cb) = ctx.r, ctx.method, ctx.pair
    sets = sw["sets"]
    confs = [c for c in ctx.main if all(c in r.configurations_of(s) for s in sets if r.has_alignment(s))]
    means_ = stats.sweep_means(r, name, sw, confs,
                               mean_table(ctx, [s for s in sets if r.has_alignment(s)], confs))
    has_cal = any("cal" in e for e in means_.values())
    # The stored effect-size curve (relative calibrated score) and power curve
    # (docs/sweeps.md), when the file has them: the main panels.
    stored = sw.get("relative_calibrated") is not None and sw.get("significant_fraction") is not None
    # The N axis (family subsample) also draws the calibrated means themselves:
    # whether alignment beyond chance falls with N is the question there.
    n_axis = sw.get("family") == "subsample" and has_cal
    panels = ((["rel", "power", "raw"] + (["cal"] if n_axis else [])) if stored else
              ["raw"] + (["cal"] if has_cal else [])) + ["corr"]
    images = sw.get("images")
    ntext = ("" if images is None else
             "N = " + ", ".join(str(int(x)) for x in np.unique(images)) + " images per level")
    corr = _sweep_correlation(ctx, sets)
    breaks = _sweep_breaks(ctx, sw, sets, confs, has_cal, corr)
    fig = figures.draw_sweep(ctx, sw, sets, confs, means_, panels, ntext, corr, breaks)
    _save(ctx, fig, "sweep_" + slug(name))
    rows = _sweep_rows(ctx, name, sw, sets, confs, means_)
    brk = "; ".join(f"{short(k) if k != 'corr' else 'cross-metric correlation'}: "
                    f"{'none' if v is None else fmt(float(v), 3)}" for k, v in breaks.items())
    # The caption describes the panels drawn: the stored effect-size and power
    # curves first when the file has them.
    lead = stored
    has_null_q95 = any(meth in r.correlation_methods(s) and r.correlation(s, meth)["null_q95"] is not None
                       for s in sets)
    caption = captions.sweep(ctx, name, sw, sets, has_cal, has_null_q95, ntext, lead, brk,
                             "cal" in panels)
    body = figure_html("sweep_" + slug(name), f"Sweep {name}: alignment and cross-metric "
                       f"correlation against {sw['parameter']}", caption)
    body += _not_stored_note(means_)
    body += table_html("sweep_" + slug(name), f"Numbers: sweep {name}",
                       ["sweep", "level", "set", "configuration", "mean", "calibrated_mean",
                        "relative_calibrated", "significant_fraction (power)",
                        f"{meth}({ca}, {cb})"], rows)
    return body


def sweeps(ctx, page):
    if not ctx.r.sweeps:
        return
    body = "".join(sweep(ctx, name, sw) for name, sw in ctx.r.sweeps.items())
    page.section("sweeps", "Sweeps", body)


SECTIONS = (correlations, scatter, alignment, means, layer_profile, predictions, accuracy, groups,
            sweeps)
