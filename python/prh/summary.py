"""The text summaries of a results file: the full one (`prh_results.py RESULTS`)
and the one-screen one (`prh_results.py --brief RESULTS`).

    import prh.results, prh.summary
    r = prh.results.load("out/default/results.h5")
    prh.summary.summary(r)            # to stdout; summary(r, out=file)
    prh.summary.brief(r)              # at most 60 lines of 100 columns on the default

main(argv) is the command line of tools/prh_results.py.
"""
import sys

import numpy as np

from prh.results import load


def _fmt(x):
    return "nan" if x is None or not np.isfinite(x) else f"{x:.4f}"


def _nanmean(a):
    a = np.asarray(a, dtype=np.float64)
    a = a[np.isfinite(a)]
    return float(a.mean()) if a.size else float("nan")


def summary(r, out=sys.stdout):
    """Prints a short summary of a loaded results file."""
    p = lambda *a: print(*a, file=out)  # noqa: E731
    p(f"{r.path}: {r.format}, prh {r.prh_version}, config {r.config_hash}, "
      f"{'complete' if r.complete else 'INCOMPLETE'}, heavy metric steps on {r.device}")
    p(f"{len(r.models)} models: {', '.join(r.models)}")
    p(f"{len(r.configurations)} configurations: {', '.join(r.configurations)}")
    m = len(r.models)
    off = ~np.eye(m, dtype=bool)
    for s in r.sets:
        info = r.set_info(s) if r.has_alignment(s) else {}
        p(f"\nimage set {s}: n = {info.get('n', '?')}, skipped = {info.get('skipped', '?')}")
        configs = r.configurations_of(s)
        if configs:
            p("  mean off-diagonal alignment:")
            width = max(len(c) for c in configs)
            for c in configs:
                p(f"    {c:<{width}}  {_fmt(_nanmean(r.scores(s, c)[off]))}")
        if "spearman" in r.correlation_methods(s):
            c = r.correlation(s, "spearman")
            names = c["configurations"]
            if "mutual_knn@k=10" in names and "cknna@k=10" in names:
                a, b = names.index("mutual_knn@k=10"), names.index("cknna@k=10")
                ci = ("" if c["ci_low"] is None else
                      f" [{_fmt(c['ci_low'][a, b])}, {_fmt(c['ci_high'][a, b])}]")
                n = "?" if c["n"] is None else int(c["n"][a, b])
                pv = float("nan") if c["p"] is None else c["p"][a, b]
                p(f"  spearman(mutual_knn@k=10, cknna@k=10) = {_fmt(c['r'][a, b])}{ci} "
                  f"(p = {_fmt(pv)}, {n} model pairs)")
        if r.has_predictions(s):
            pr = r.predictions(s)
            if "agreement" in pr:
                p(f"  mean agreement: {_fmt(_nanmean(pr['agreement'][np.triu_indices(m, 1)]))}")
            if "mean_prob" in pr:
                p(f"  mean top-1 probability: {_fmt(_nanmean(pr['mean_prob']))}")
            if "accuracy" in pr:
                p("  accuracy: " + ", ".join(f"{name} {_fmt(a)}" for name, a in zip(r.models, pr["accuracy"])))
    _brief_groups(r, p)


def _first(configs, prefix):
    """The configuration named prefix@k=10 or prefix@..., preferring k=10."""
    for c in configs:
        if c == prefix + "@k=10":
            return c
    for c in configs:
        if c.split("@")[0] == prefix:
            return c
    return None


BRIEF_SETS = 12  # rows per table in the one-screen summary (more: the full summary)


def _spearman_pair(r, s, a="mutual_knn@k=10", b="cknna@k=10"):
    """(correlation dict, i, j) for the pair (a, b) on set s, or None."""
    if "spearman" not in r.correlation_methods(s):
        return None
    c = r.correlation(s, "spearman")
    names = c["configurations"]
    if a not in names or b not in names:
        return None
    return c, names.index(a), names.index(b)


def _num(x, fmt="{:.2f}"):
    return "-" if x is None or not np.isfinite(x) else fmt.format(x)


def brief(r, out=sys.stdout):
    """One screen (at most 60 lines of 100 columns on the default): the base image sets
    (not the levels of a sweep) in three tables, then one block per sweep.

    1. alignment: the mean off-diagonal score of each metric (k = 10 where it has k) and
       the prediction summary;
    2. beyond chance: the share of pairs whose score exceeds its permutation null, the
       Spearman correlation of mutual_knn@k=10 with cknna@k=10 with its bootstrap interval,
       its calibration-null p, the chance share of the score variance, and its difference
       from the first set's;
    3. groups: the same-training-data and same-family effects beyond each model's overall
       alignment, with interval and BH q;
    4. per sweep: relative calibrated score per level and its breaking level (effect size),
       the share of pairs at q < alpha (power curve, N images per level), and whether the
       cross-metric correlation exceeds its calibration null.
    The full summary (no --brief), the CSV tables and the report have the rest."""
    p = lambda *a: print(*a, file=out)  # noqa: E731
    in_sweep = {s for w in r.sweeps.values() for s in w["sets"]}
    base = [s for s in r.sets if s not in in_sweep] or list(r.sets)
    more = len(base) - BRIEF_SETS
    base = base[:BRIEF_SETS]
    sw = max([10] + [len(s) + 1 for s in base])
    p(f"{r.path}: {len(r.models)} models, {len(r.configurations)} metric configurations, "
      f"{len(r.sets)} image sets, {'complete' if r.complete else 'INCOMPLETE'}"
      + (f"; {more} more sets in the full summary" if more > 0 else ""))
    _brief_alignment(r, p, base, sw)
    _brief_chance(r, p, base, sw)
    _brief_effects(r, p, base, sw)
    sweep_brief(r, out)


BRIEF_METRICS = ["mutual_knn", "cknna", "cycle_knn", "lcs_knn", "edit_distance_knn", "cka",
                 "unbiased_cka", "svcca"]
BRIEF_SHORT = {"mutual_knn": "mknn", "cknna": "cknna", "cycle_knn": "cycle", "lcs_knn": "lcs",
               "edit_distance_knn": "edit", "cka": "cka", "unbiased_cka": "ucka", "svcca": "svcca"}


def _brief_alignment(r, p, base, sw):
    """The mean off-diagonal score of each metric and the prediction summary, per set."""
    m = len(r.models)
    off = ~np.eye(m, dtype=bool)
    iu = np.triu_indices(m, 1)
    metrics, short = BRIEF_METRICS, BRIEF_SHORT
    p("")
    p("mean off-diagonal alignment (k = 10); predictions: mean pairwise agreement, mean top-1")
    p("probability, mean accuracy over the classifiers whose label space is the set's (- none):")
    p(f"  {'image set':<{sw}}" + "".join(f"{short[x]:>6}" for x in metrics)
      + f"{'agree':>7}{'prob':>6}{'acc':>6}")
    for s in base:
        cs = r.configurations_of(s)
        row = f"  {s:<{sw}}"
        for x in metrics:
            c = _first(cs, x)
            row += f"{_num(_nanmean(r.scores(s, c)[off]), '{:.3f}'):>6}" if c else f"{'-':>6}"
        agree = prob = acc = float("nan")
        if r.has_predictions(s):
            pr = r.predictions(s)
            agree = _nanmean(pr.get("agreement", np.full((m, m), np.nan))[iu])
            prob = _nanmean(pr.get("mean_prob", []))
            acc = _nanmean(pr.get("accuracy", []))
        p(row + f"{_num(agree):>7}{_num(prob):>6}{_num(acc):>6}")


def _brief_chance(r, p, base, sw):
    """Per set: the share of pairs beyond their permutation null, Spearman(mutual_knn@k=10,
    cknna@k=10) with its interval, null p and chance shares, and its difference from the
    first set's."""
    off = ~np.eye(len(r.models), dtype=bool)
    short = BRIEF_SHORT
    p("")
    cal_metrics = [x for x in ("mutual_knn", "cknna", "cka")
                   if any(_first(r.configurations_of(s), x) and
                          r.calibration(s, _first(r.configurations_of(s), x)) for s in base)]
    first = base[0]
    p("beyond chance: share of pairs at BH q < 0.05 against their permutation null; rho =")
    p("Spearman(mutual_knn@k=10, cknna@k=10) over the pairs [95% CI, models resampled], null p")
    p(f"(calibration null), chance share of the score variance (mknn/cknna), rho({first}) - rho [CI] p:")
    p(f"  {'image set':<{sw}}" + "".join(f"{short[x]:>6}" for x in cal_metrics)
      + f"{'rho':>7}{'CI':>14}{'null p':>8}{'chance':>13}{'rho(' + first + ') - rho':>28}")
    for s in base:
        row = f"  {s:<{sw}}"
        cs = r.configurations_of(s)
        for x in cal_metrics:
            c = _first(cs, x)
            cal = r.calibration(s, c) if c else None
            frac = float("nan")
            if cal is not None and cal.get("qvalue") is not None:
                q = cal["qvalue"][off]
                q = q[np.isfinite(q)]
                if q.size:
                    frac = float(np.mean(q < cal["attrs"].get("alpha", 0.05)))
            row += f"{_num(frac):>6}"
        rho, ci, nullp, share, diff = float("nan"), "-", float("nan"), "-", "-"
        pair = _spearman_pair(r, s)
        if pair:
            c, a, b = pair
            rho = c["r"][a, b]
            if c["ci_low"] is not None:
                ci = f"[{c['ci_low'][a, b]:.2f}, {c['ci_high'][a, b]:.2f}]"
            if c.get("null_p") is not None:
                nullp = c["null_p"][a, b]
            if c.get("chance_share") is not None:
                share = f"{_num(c['chance_share'][a], '{:.3f}')}/{_num(c['chance_share'][b], '{:.3f}')}"
        if s != first and (first, s) in r.comparisons:
            d = r.comparison(first, s, "spearman")
            names = d["configurations"]
            if "mutual_knn@k=10" in names and "cknna@k=10" in names:
                i, j = names.index("mutual_knn@k=10"), names.index("cknna@k=10")
                diff = (f"{d['diff'][i, j]:+.3f} [{d['ci_low'][i, j]:.2f}, {d['ci_high'][i, j]:.2f}]"
                        f" {d['p'][i, j]:.3f}")
        p(row + f"{_num(rho, '{:.3f}'):>7}{ci:>14}{_num(nullp, '{:.3f}'):>8}{share:>13}{diff:>28}")


def _brief_effects(r, p, sets, sw):
    """The group effects of mutual_knn@k=10 (issue 23: beyond each model's overall
    alignment), both factors side by side, and the cross-metric correlation over the
    pairs trained on different data."""
    g = r.groups
    if not g or not g["factors"] or "mutual_knn@k=10" not in g["configurations"]:
        return
    names = g["configurations"]
    k = names.index("mutual_knn@k=10")
    b = names.index("cknna@k=10") if "cknna@k=10" in names else None
    factors = list(g["factors"])[:2]
    sets = [s for s in sets if s in g["sets"]]
    conf = float(g["attrs"].get("confidence", 0.95))
    p("")
    p("mutual_knn@k=10 between models that share " + " / ".join(f.replace("_", " ") for f in factors)
      + ": effect beyond each")
    p(f"model's overall alignment (OLS with model main effects) [{conf:.0%} CI, inverted permutation "
      "test],")
    p("BH q; rho_x: Spearman(mknn, cknna) over the pairs trained on different data [CI]:")
    head = f"  {'image set':<{sw}}"
    for f in factors:
        lab = {"training_data": "data", "family": "family"}.get(f, f)
        head += f"{lab:>7}{'CI':>17}{'q':>7}"
    p(head + (f"{'rho_x':>7}{'CI':>14}" if b is not None else ""))
    for s in sets:
        row = f"  {s:<{sw}}"
        for f in factors:
            d = g["sets"][s]["factors"].get(f)
            if d is None or "effect" not in d:
                row += f"{'-':>7}{'-':>17}{'-':>7}"
                continue
            ci = f"[{_num(d['effect_ci_low'][k], '{:.3f}')}, {_num(d['effect_ci_high'][k], '{:.3f}')}]"
            row += (f"{_num(d['effect'][k], '{:.3f}'):>7}{ci:>17}"
                    f"{_num(d['effect_qvalue'][k], '{:.3f}'):>7}")
        c = g["sets"][s]["correlations"]
        if b is not None and "spearman_across_training_data" in c:
            ci = "-"
            if "spearman_across_training_data_ci_low" in c:
                ci = (f"[{c['spearman_across_training_data_ci_low'][k, b]:.2f}, "
                      f"{c['spearman_across_training_data_ci_high'][k, b]:.2f}]")
            row += f"{_num(c['spearman_across_training_data'][k, b], '{:.3f}'):>7}{ci:>14}"
        p(row)


def _level(x):
    if x is None or np.isnan(x):
        return "-"
    return "never" if np.isinf(x) else f"{x:g}"


def sweep_brief(r, out=sys.stdout):
    """Per sweep and calibrated configuration: the relative calibrated score per level
    (effect size: the mean calibrated score over the first level's) with its breaking
    level and interval, and the share of pairs at q < alpha (a power curve: it grows with
    the images per level) with its own; then whether Spearman(mutual_knn@k=10, cknna@k=10)
    exceeds its calibration null at each level."""
    p = lambda *a: print(*a, file=out)  # noqa: E731
    if not r.sweeps:
        return
    first = True
    for name, w in r.sweeps.items():
        alpha = w.get("alpha") or 0.05
        p("")
        if first:
            p(f"sweeps: 'effect' = mean calibrated score over the first level's, breaking below "
              f"{w.get('relative_breaking', 0.5):g} [interval")
            p(f"over model resamples]; 'power' = share of pairs at q < {alpha:g}, breaking below "
              f"{w.get('breaking_fraction', 0.5):g} (grows with N);")
            p("'rho': Spearman(mutual_knn@k=10, cknna@k=10), breaking where not above its calibration null.")
            first = False
        _sweep_brief_one(r, p, name, w)


def _sweep_curve_rows(w, k):
    """(label, values per level, breaking level, low, high) of configuration k: the
    effect size and the power curve, where the sweep has them."""
    rel, rb = w.get("relative_calibrated"), w.get("relative_breaking_level")
    sig, brk = w.get("significant_fraction"), w.get("breaking_level")
    rows = []
    if rel is not None and rb is not None and (np.isfinite(rel[:, k]).any() or not np.isnan(rb[k])):
        lo, hi = w.get("relative_breaking_level_low"), w.get("relative_breaking_level_high")
        rows.append(("effect", rel[:, k], rb[k], lo[k] if lo is not None else None,
                     hi[k] if hi is not None else None))
    if sig is not None and brk is not None and not np.isnan(brk[k]):
        lo, hi = w.get("breaking_level_low"), w.get("breaking_level_high")
        rows.append(("power", sig[:, k], brk[k], lo[k] if lo is not None else None,
                     hi[k] if hi is not None else None))
    return rows


def _sweep_brief_one(r, p, name, w):
    """One sweep: its curves per configuration, then the cross-metric correlation."""
    n = w.get("images")
    nt = "" if n is None else ", N = " + ", ".join(str(int(x)) for x in np.unique(n)) + " images per level"
    p(f"sweep {name}{nt}:")
    p(f"  {w['description'] or w['family']}")
    shown = [k for k in range(len(r.configurations)) if _sweep_curve_rows(w, k)]
    cw = max([17] + [len(r.configurations[k]) + 1 for k in shown])
    lv = "".join(f"{x:>6g}" for x in w["levels"])
    p(f"  {w['parameter']:<{cw}}{'':>7}{lv}  breaks [interval]")
    for k, c in enumerate(r.configurations):
        for i, (lab, vals, bl, lo, hi) in enumerate(_sweep_curve_rows(w, k)):
            p(f"  {c if i == 0 else '':<{cw}}{lab:>7}" + "".join(f"{_num(x):>6}" for x in vals)
              + f"  {_level(bl)} [{_level(lo)}, {_level(hi)}]")
    cb = w.get("correlation_breaking_levels")
    names = r.configurations
    if cb is not None and w.get("r") is not None and "mutual_knn@k=10" in names and "cknna@k=10" in names:
        a, b = names.index("mutual_knn@k=10"), names.index("cknna@k=10")
        tested = w.get("correlation_test") is not None and int(w["correlation_test"][a, b]) == 1
        bl = cb[a, b]
        verdict = ("not tested (no calibration null)" if not tested or np.isnan(bl) else _level(bl))
        p(f"  {'':<{cw}}{'rho':>7}" + "".join(f"{_num(x):>6}" for x in w["r"][:, a, b])
          + f"  {verdict}")


def _brief_groups(r, p):
    """The group analysis: mutual_knn@k=10 within vs across training distributions
    and architecture families, and the cross-metric correlation over the
    cross-distribution pairs."""
    g = r.groups
    if not g or not g["factors"]:
        return
    names = g["configurations"]
    if "mutual_knn@k=10" not in names:
        return
    k = names.index("mutual_knn@k=10")
    sets = [s for s in r.sets if s in g["sets"]]
    w = max([10] + [len(s) + 1 for s in sets])
    for factor in g["factors"]:
        _brief_group_factor(p, g, factor, k, sets, w)
    if "cknna@k=10" in names:
        _brief_across_training_data(p, g, k, names.index("cknna@k=10"), sets, w)


def _brief_group_factor(p, g, factor, k, sets, w):
    """One factor's effect on mutual_knn@k=10 (configuration k) per set."""
    p("")
    conf = float(g["attrs"].get("confidence", 0.95))
    p(f"mutual_knn@k=10, same {factor.replace('_', ' ')}: effect beyond each model's overall "
      f"alignment")
    p(f"(OLS with model main effects) [{conf:.0%} CI: inverted permutation test], one-sided "
      f"permutation p,")
    p("BH q over sets x factors; within/across/gap: descriptive means (confounded by main "
      "effects):")
    p(f"  {'image set':<{w}}{'effect':>8}{'CI':>18}{'p':>7}{'q':>7}"
      f"{'within':>8}{'across':>8}{'gap':>8}")
    for s in sets:
        f = g["sets"][s]["factors"].get(factor)
        if f is None:
            continue
        if "effect" not in f:  # a file from before issue 23
            p(f"  {s:<{w}}{'-':>8}{'-':>18}{'-':>7}{'-':>7}{f['within'][k]:>8.3f}"
              f"{f['across'][k]:>8.3f}{f['gap'][k]:>8.3f}")
            continue
        ci = f"[{f['effect_ci_low'][k]:.3f}, {f['effect_ci_high'][k]:.3f}]"
        p(f"  {s:<{w}}{f['effect'][k]:>8.3f}{ci:>18}{f['effect_pvalue'][k]:>7.3f}"
          f"{f['effect_qvalue'][k]:>7.3f}{f['within'][k]:>8.3f}{f['across'][k]:>8.3f}"
          f"{f['gap'][k]:>8.3f}")


def _brief_across_training_data(p, g, k, b, sets, w):
    """Spearman(mutual_knn@k=10, cknna@k=10) (configurations k, b) over the pairs of
    models trained on different data, per set."""
    rows = []
    for s in sets:
        c = g["sets"][s]["correlations"]
        if "spearman_across_training_data" not in c:
            continue
        ci = ""
        if "spearman_across_training_data_ci_low" in c:
            ci = (f"[{c['spearman_across_training_data_ci_low'][k, b]:.2f}, "
                  f"{c['spearman_across_training_data_ci_high'][k, b]:.2f}]")
        n = int(c["spearman_across_training_data_n"][k, b])
        rows.append(f"  {s:<{w}}{c['spearman_across_training_data'][k, b]:>10.3f}{ci:>18}{n:>7}")
    if rows:
        p("")
        p("Spearman(mutual_knn@k=10, cknna@k=10) over the pairs of models trained on different")
        p("data only [95% bootstrap CI over models], pairs:")
        for row in rows:
            p(row)


def main(argv):
    args = [a for a in argv[1:] if a != "--brief"]
    if len(args) != 1 or args[0] in ("-h", "--help"):
        print("usage: prh_results.py [--brief] RESULTS.h5", file=sys.stderr)
        return 2
    try:
        r = load(args[0])
    except (OSError, ValueError, KeyError) as e:
        msg = str(e)
        print(f"prh_results: {msg if args[0] in msg else args[0] + ': ' + msg}", file=sys.stderr)
        return 2
    if "--brief" in argv:
        brief(r)
    else:
        summary(r)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
