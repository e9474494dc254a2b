"""The figures' captions: HTML text on what each figure shows, its method and
its provenance. No drawing, no statistics."""
import json

from prh.report.format import CMAP, esc
from prh.report.page import calib_attrs, provenance


def correlations(ctx, sets, vlow, has_null):
    meth = ctx.method
    cinfo = ctx.corr_info(sets[0])
    caption = (f"For each image set, the {meth} correlation between every two metric "
               f"configurations, computed over the model pairs i &lt; j (the upper triangle of "
               f"the two alignment matrices, pairs where both scores are finite); one colour "
               f"scale for all sets, from {vlow:g} to 1 ({CMAP}, lighter is higher; grey: undefined, "
               f"e.g. a configuration constant over the pairs such as mutual_knn at k = N - 1). "
               f"Intervals in the titles: percentile bootstrap over models "
               f"({cinfo.get('bootstrap', 0)} resamples, pairs of two copies of a model dropped). ")
    if has_null:
        caption += (f"Dots: cells whose calibration-null p &ge; {ctx.alpha}: the two metrics agree "
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
    return caption + provenance(ctx, sets)


def scatter(ctx, sets):
    (ca, cb), meth = ctx.pair, ctx.method
    return (f"Top: each dot is a model pair i &lt; j, at its score under {esc(ca)} (x) and under "
            f"{esc(cb)} (y): scores[i, j] of the two alignment matrices. Bottom: the same pairs at "
            f"their ranks; {meth} rho is the Pearson correlation of these ranks (the dashed line: "
            f"identical rankings). rho, its p-value (asymptotic; exact permutation for at most 8 "
            f"pairs) and its percentile bootstrap interval over models are read from the results "
            f"file, not recomputed. The pairs share models (each model is in M - 1 of them), so "
            f"they are not independent: the interval, not the p-value, is the honest "
            f"uncertainty. " + provenance(ctx, sets))


def alignment(ctx, conf, sets, calibrated, marked):
    r, groups = ctx.r, ctx.groups
    meta = r.metric(sets[0], conf)
    params = ", ".join(f"{k} = {v}" for k, v in meta["params"].items()) or "defaults"
    a0 = r.alignment_info(sets[0], conf)
    layer = ("last layers only" if a0.get("last_layer_only") else
             "each entry the best layer pair (maximum over layers)")
    grouped = groups['family_source'] if not groups['training_data'] else 'training data and family'
    caption = (f"Entry (i, j): {esc(meta['metric'])} ({esc(params)}) of model i (row, as A) and model "
               f"j (column, as B), {layer}; preprocessing {esc(json.dumps(a0.get('preprocess')))}. "
               f"Models grouped by {esc(grouped)}"
               f" (family from {esc(groups['family_source'])}; training data "
               f"{esc(groups['training_source'])}); white lines separate the groups, "
               f"named on the right. Diagonal (a model with itself) and undefined entries grey. "
               f"One colour scale for all sets ({CMAP}). ")
    if calibrated:
        caption += ("Calibrated score = clamp((observed - tau) / (1 - tau), 0, 1), tau the "
                    "permutation null's threshold. ")
    if marked:
        caption += (f"Dots: pairs significant after Benjamini-Hochberg (q &lt; {ctx.alpha}) under "
                    f"the permutation null. ")
    elif not r.has_calibration():
        caption += "No calibration in this results file: no pair is marked significant. "
    return caption + provenance(ctx, sets, calib_attrs(ctx, c=conf))


def means(ctx, sets, e0, has_cal):
    if e0["stored"]:
        how = (f"read from the results file (/correlation/S/mean*, computed by prh reduce). Bars: "
               f"{e0['confidence']:.0%} percentile bootstrap interval over models ({e0['b']} "
               f"resamples of the M models with replacement, std::mt19937_64 seeded with "
               f"{e0['seed']}, the stream 'means' of the file's seed; pairs of two copies of one "
               f"model dropped). ")
    else:
        how = ("computed by the report from the alignment matrices: this results file does not "
               "store the means and their bootstrap intervals (written before prh reduce stored "
               "them), so no interval is drawn. ")
    caption = ("Mean over the model pairs (i &ne; j, both orders; undefined entries left out) of each "
               "main configuration's alignment, per image set, " + how
               + "Grey ticks: the chance level k / (N - 1) of mutual_knn. ")
    caption += ("Right: the same for the calibrated scores. " if has_cal else
                "No calibration in this results file, so raw scores only: raw scores are inflated "
                "by width and depth (Groeger et al. 2026). ")
    return caption + provenance(ctx, sets, calib_attrs(ctx))


def layer_profile(ctx, sets, p0):
    caption = ("Alignment by relative depth, read from the results file (/layer_profile, computed "
               "by prh reduce from the layer-by-layer scores /layers). Each model's layer l of L "
               "sits at depth (l + 1) / L; at each grid point (g + 1) / G (G = the most layers "
               "of any model) every model takes the layer whose depth interval (l / L, (l + 1) "
               "/ L] holds it, and a line is the mean over the model pairs (i &ne; j, both "
               "orders) of the score between the two models' layers at that depth, one line "
               "per image set. Depth 1 is the models' last layers (the headline scores when "
               "last_layer_only is on); the first point is every model's first layer. Bands: "
               f"{p0['confidence']:.0%} percentile bootstrap interval over models "
               f"({p0['bootstrap']} resamples of the M models with replacement, seed "
               f"{p0['seed']}; pairs of two copies of one model dropped). Raw scores, not "
               "calibrated: compare a set's curve with the in-distribution one at the same "
               "depth. Grey dotted: the chance level k / (N - 1) of mutual_knn. ")
    if p0.get("relative") is not None:
        caption += (f"Bottom: each set's mean over the reference set's ({esc(p0.get('reference'))}) "
                    "at the same depth, the band from the same model resamples (each resample "
                    "divides its own two means: a paired comparison); a line that stays near 1 at "
                    "shallow depths and falls at deep ones means early-layer alignment survives "
                    "the shift better than late-layer alignment. ")
    if p0.get("early_late_change") is not None:
        caption += ("Last row: per set, the mean at the first grid point minus the mean at depth 1 "
                    "(filled circle) and that difference minus the reference set's (open square, "
                    "with its p), each with its jackknife interval over the models (the table "
                    "below). ")
    return caption + provenance(ctx, sets)


def layer_contrast(p0):
    return ("Does early-layer alignment survive the shift better than late? early_late = the mean "
            "at the first grid point (every model's first layer) minus the mean at depth 1 (every "
            "model's last layer); change = early_late of the set minus that of "
            f"{esc(p0.get('reference'))} (positive: relative to {esc(p0.get('reference'))}, the "
            "last layers lose more than the first). Interval "
            f"({p0['confidence']:.0%}) and two-sided p from one construction over the models, "
            "the delete-one-model jackknife with Student's t on n - 1 degrees of freedom (n "
            "models), so the interval excludes 0 exactly when p &lt; "
            f"{1 - p0['confidence']:.2g}. Pairs share models, so the models are left out, "
            "never single pairs; in simulation (docs/results.md) the test holds its level when "
            "models differ in overall alignment and in their own depth effects. Raw scores: a "
            "metric whose chance level differs between first and last layers (CKA, with the "
            "layers' widths) moves early_late by that difference too.")


def predictions(ctx, sets, labelled):
    return ("Left: each model's top-1 accuracy over the labelled images, only where the model's "
            "label space matches the set's (the same label domain, every label of the set one of "
            "the classes the model was trained on: /predictions/S/labels_match); undefined "
            "elsewhere and for models without a head. Middle: mean top-1 softmax probability over all images and over "
            "the images the model gets wrong. Right: for every model pair, the fraction of "
            "images on which both predict the same class, and the same over the images both "
            "get wrong: high agreement there means the models fail together. Black bars: "
            f"medians; dots jittered sideways. Labelled images per set: {esc(labelled)}. "
            + provenance(ctx, sets))


def accuracy(ctx, sets, constant):
    conf = ctx.pair[0]
    return (f"Each point is a model whose label space matches the set's (the same label domain, "
            f"and every label of the set one of the classes the model was trained on; "
            f"/predictions/S/labels_match; the others have no accuracy and no point): its "
            f"accuracy on the set's labelled images against its mean "
            f"alignment with the other models under {esc(conf)} (mean of (scores[i, j] + "
            f"scores[j, i]) / 2 over the other models j). The correlation in the titles is over "
            f"the models with a defined accuracy, read from the results file. "
            + (f"No panel for {esc('; '.join(constant))}: nothing to correlate. " if constant else "")
            + provenance(ctx, sets))


def groups(ctx, level):
    conf = ctx.pair[0]
    return (f"Does sharing a training distribution (or an architecture family) raise a pair's "
            f"alignment under {esc(conf)} beyond what each model's overall alignment explains? "
            f"The effect is beta_F of the least squares fit s_ij = a_i + a_j + sum_F beta_F "
            f"[label_F(i) = label_F(j)] over the model pairs (one main effect a_i per model, all "
            f"factors jointly); the line is its {level:.0%} interval from inverting the permutation "
            f"test whose one-sided p (F's labels permuted over the models, the fit redone) gives "
            f"the q-value (Benjamini-Hochberg over every set and factor of the configuration); "
            f"filled: q &lt; {ctx.alpha}. The grey cross is the raw within - across gap, a "
            f"descriptive mean that moves with the models' overall alignment (a group of models "
            f"that aligns more with everyone widens it), so it is not the finding. "
            f"See docs/results.md (/groups).")


def _sweep_lead(ctx, sw, ntext):
    return (f"Left: the effect size, each configuration's mean calibrated score relative "
            f"to the first level's (1 there), with its bootstrap band over models; dotted: "
            f"{sw.get('relative_breaking', 0.5):g}, below which the sweep breaks (dashed "
            f"verticals). Second: the power curve, the share of model pairs whose "
            f"calibrated alignment is significant (BH q &lt; {sw.get('alpha') or ctx.alpha:g}) "
            f"at {esc(ntext or 'the images of each level')}; it grows with the images, so it "
            f"says where the test can still see the alignment, not how much is left (dotted "
            f"verticals: where it falls below {sw.get('breaking_fraction', 0.5):g}). Third: ")


def _sweep_break_rules(ctx, sw):
    """How the breaking points were found, for the caption."""
    alpha = ctx.alpha
    return ((f"stored in the file: the first level whose relative calibrated score is below "
             f"{sw.get('relative_breaking', 0.5):g}" if sw.get("relative_breaking_level") is not None else
             "stored in the file" if sw.get("breaking_level") is not None else
             "alignment: the first level at which fewer than half the model pairs are "
             f"significant, q &lt; {alpha}; shown only with calibration")
            + "; correlation: " + ("stored in the file" if sw.get("correlation_breaking_level")
                                   is not None or sw.get("correlation_breaking_levels")
                                   is not None else
                                   f"the first level whose calibration-null p &ge; {alpha}; "
                                   "without a null: not tested"))


def sweep(ctx, name, sw, sets, has_cal, has_null_q95, ntext, lead, brk, cal_panel=False):
    """lead: whether the caption describes the stored effect-size and power panels;
    cal_panel: whether a panel of the calibrated means is drawn."""
    (ca, cb), meth = ctx.pair, ctx.method
    return (f"Sweep {esc(name)} ({esc(sw['description'] or sw['parameter'])}): each level is an "
            f"image set of the results file ({esc(', '.join(sets))}). "
            + (_sweep_lead(ctx, sw, ntext) if lead else "Left: ") + "mean alignment "
            f"over the model pairs with {sw.get('bootstrap') or ctx.corr_info(sets[0]).get('bootstrap', 0)}"
            f"-resample bootstrap bands over models (stored by prh reduce; none in files that do "
            f"not store them)"
            + ("; dotted, in a configuration's colour: its chance level at the level's N "
               "(k/(N-1) for mutual_knn, stored as chance_level)"
               if sw.get("chance_level") is not None else "")
            + ("; middle: the same for the calibrated scores; " if cal_panel and not lead else
               "; fourth: the same for the calibrated scores (alignment beyond chance at each "
               "N, not relative to the first level); " if cal_panel else "; ")
            + f"right: {meth}({esc(ca)}, {esc(cb)}) with its bootstrap band"
            + (" and the 0.95 quantile of its calibration null (the coefficient over the "
               "pairs' permutation-null scores: what chance alone gives two metrics of the "
               "same pairs); crosses: levels whose null p &ge; " + f"{ctx.alpha:g}"
               if has_null_q95 else "")
            + ". Dashed vertical lines: breaking points ("
            + _sweep_break_rules(ctx, sw)
            + f"): {esc(brk)} (docs/sweeps.md). "
            + provenance(ctx, [s for s in sets if ctx.r.has_alignment(s)], calib_attrs(ctx)))
