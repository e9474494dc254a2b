"""The tables of a results file as pandas DataFrames, with the same columns and rows
as the files `prh export` writes (include/prh/pipeline/export.hpp).

    import prh.results, prh.tables
    r = prh.results.load("out/default/results.h5")
    prh.tables.alignment_table(r)     # the same as r.alignment_table()

Each function takes a prh.results.Results and reads it through its public API
only. Needs pandas (Debian: python3-pandas).
"""


def _columns(table):
    """The columns of `prh export`'s table `table`, declared once in
    src/schema/export_tables.cpp and read from the schema JSON ("tables")."""
    from prh.results import SCHEMA  # not at import: prh.results imports this module
    return list(SCHEMA["tables"][table])


def _pandas():
    try:
        import pandas
    except ImportError as e:  # pragma: no cover - depends on the machine
        raise ImportError("prh_results: the *_table() methods need pandas "
                          "(Debian: apt install python3-pandas; or pip install pandas)") from e
    return pandas


def _at(a, idx):
    """a[idx] as a float (NaN when the array is absent)."""
    return float("nan") if a is None else float(a[idx])


def _at_int(a, idx):
    return float("nan") if a is None else int(a[idx])


def _frame(columns, rows, ints=(), bools=()):
    pd = _pandas()
    df = pd.DataFrame.from_records(rows, columns=columns)
    for c in columns:
        if c in bools:
            df[c] = df[c].astype(bool)
        elif c in ints:
            df[c] = df[c].astype("int64") if not df[c].isna().any() else df[c].astype("float64")
        elif c not in ("set", "configuration", "metric", "model", "model_a", "model_b", "method",
                       "config_a", "config_b", "set_a", "set_b", "sweep", "family", "base",
                       "parameter"):
            df[c] = df[c].astype("float64")
    return df


def alignment_table(r):
    """set, configuration, metric, model_a, model_b, i, j, self, score (scores[i, j]),
    score_ba (scores[j, i]), layer_a, layer_b (best layers for score), layer_a_ba,
    layer_b_ba (best layers for score_ba): one row per set, configuration and pair i <= j."""
    rows = []
    m = len(r.models)
    for s in r.sets:
        for c in r.configurations_of(s):
            S, L, metric = r.scores(s, c), r.layers(s, c), r.metric(s, c)["metric"]
            for i in range(m):
                for j in range(i, m):
                    rows.append((s, c, metric, r.models[i], r.models[j], i, j, i == j,
                                 S[i, j], S[j, i], L[i, j, 0], L[i, j, 1], L[j, i, 1], L[j, i, 0]))
    return _frame(_columns("alignment"), rows, ints=("i", "j", "layer_a", "layer_b", "layer_a_ba", "layer_b_ba"),
                  bools=("self",))


def correlation_table(r):
    """set, method, config_a, config_b, r, p, n, ci_low, ci_high, mantel_p, null_mean, null_q95,
    null_p (configurations a < b; mantel_p and the correlation null NaN when the file has none)."""
    rows = []
    for s in r.sets:
        if not r.has_correlation(s):
            continue
        names = r.correlation_info(s)["configurations"]
        k = len(names)
        for meth in r.correlation_methods(s):
            d = r.correlation(s, meth)
            for a in range(k):
                for b in range(a + 1, k):
                    rows.append((s, meth, names[a], names[b], _at(d["r"], (a, b)), _at(d["p"], (a, b)),
                                 _at_int(d["n"], (a, b)), _at(d["ci_low"], (a, b)),
                                 _at(d["ci_high"], (a, b)), _at(d.get("mantel_p"), (a, b)),
                                 _at(d.get("null_mean"), (a, b)), _at(d.get("null_q95"), (a, b)),
                                 _at(d.get("null_p"), (a, b))))
    return _frame(_columns("correlations"), rows, ints=("n",))


def accuracy_correlation_table(r):
    """set, method, configuration, r, p, n: mean alignment vs accuracy over models."""
    rows = []
    for s in r.sets:
        if not r.has_correlation(s):
            continue
        for meth in r.correlation_methods(s):
            d = r.correlation(s, meth)
            if d["accuracy_r"] is None:
                continue
            for k, name in enumerate(d["configurations"]):
                rows.append((s, meth, name, _at(d["accuracy_r"], k), _at(d["accuracy_p"], k),
                             _at_int(d["accuracy_n"], k)))
    return _frame(_columns("accuracy_correlation"), rows, ints=("n",))


def predictions_table(r):
    """set, model, accuracy, mean_prob, mean_prob_wrong."""
    rows = []
    for s in r.sets:
        if not r.has_predictions(s):
            continue
        p = r.predictions(s)
        for i, model in enumerate(r.models):
            rows.append((s, model, _at(p.get("accuracy"), i), _at(p.get("mean_prob"), i),
                         _at(p.get("mean_prob_wrong"), i)))
    return _frame(_columns("predictions"), rows)


def calibration_table(r):
    """set, configuration, model_a, model_b, i, j, permutations, alpha, pvalue, qvalue,
    threshold, calibrated, null_mean, null_sd: the pairs i < j of symmetric configurations,
    both orientations of asymmetric ones (as `prh export` calibration.csv); empty when the
    file has no calibration."""
    rows = []
    m = len(r.models)
    for s in r.sets:
        for c in [c for ss, c in r.calibrations() if ss == s]:
            d = r.calibration(s, c)
            sym = r.metric(s, c)["symmetric"] if c in r.configurations_of(s) else True
            a = d["attrs"]
            for i in range(m):
                for j in range(m):
                    if i == j or (sym and j < i):
                        continue
                    rows.append((s, c, r.models[i], r.models[j], i, j,
                                 a.get("permutations"), a.get("alpha"),
                                 *(_at(d.get(k), (i, j)) for k in
                                   ("pvalue", "qvalue", "threshold", "calibrated",
                                    "null_mean", "null_sd"))))
    return _frame(_columns("calibration"), rows, ints=("i", "j", "permutations"))


def agreement_table(r):
    """set, model_a, model_b, agreement, both_wrong, agreement_both_wrong (pairs i < j)."""
    rows = []
    m = len(r.models)
    for s in r.sets:
        p = r.predictions(s) if r.has_predictions(s) else None
        if p is None or not any(k in p for k in ("agreement", "both_wrong", "agreement_both_wrong")):
            continue
        for i in range(m):
            for j in range(i + 1, m):
                rows.append((s, r.models[i], r.models[j], _at(p.get("agreement"), (i, j)),
                             _at_int(p.get("both_wrong"), (i, j)),
                             _at(p.get("agreement_both_wrong"), (i, j))))
    return _frame(_columns("agreement"), rows, ints=("both_wrong",))


def sweep_table(r):
    """The columns of `prh export`'s sweeps table: sweep, family, base, parameter, level,
    set, configuration, mean, mean_ci_low, mean_ci_high, calibrated_mean,
    significant_fraction, significant_ci_low, significant_ci_high (the power curve: share
    of pairs with q < alpha at `images` images), breaking_level, breaking_level_low,
    breaking_level_high, breaking_agreement (the power curve's breaking level), images,
    relative_calibrated, relative_calibrated_ci_low, relative_calibrated_ci_high (the mean
    calibrated score over the first level's: the effect size), relative_breaking_level,
    relative_breaking_level_low, relative_breaking_level_high, relative_breaking_agreement,
    chance_share. Breaking levels per configuration, repeated on each level's row; inf:
    never within the levels; NaN: not calibrated."""
    rows = []
    for name, w in r.sweeps.items():
        for li, (lv, s) in enumerate(zip(w["levels"], w["sets"])):
            n = w.get("images")
            for k, c in enumerate(r.configurations):
                lk = (li, k)
                rows.append((name, w["family"], w["base"], w["parameter"], float(lv), s, c,
                             _at(w["mean"], lk), _at(w["mean_ci_low"], lk),
                             _at(w["mean_ci_high"], lk), _at(w["calibrated_mean"], lk),
                             _at(w["significant_fraction"], lk),
                             _at(w["significant_fraction_ci_low"], lk),
                             _at(w["significant_fraction_ci_high"], lk),
                             _at(w["breaking_level"], k), _at(w["breaking_level_low"], k),
                             _at(w["breaking_level_high"], k), _at(w.get("breaking_agreement"), k),
                             None if n is None else int(n[li]),
                             _at(w.get("relative_calibrated"), lk),
                             _at(w.get("relative_calibrated_ci_low"), lk),
                             _at(w.get("relative_calibrated_ci_high"), lk),
                             _at(w.get("relative_breaking_level"), k),
                             _at(w.get("relative_breaking_level_low"), k),
                             _at(w.get("relative_breaking_level_high"), k),
                             _at(w.get("relative_breaking_agreement"), k),
                             _at(w.get("chance_share"), lk)))
    return _frame(_columns("sweeps"), rows, ints=("images",))


def _r(r, set, method, a, b):
    if method not in r.correlation_methods(set):
        return float("nan")
    c = r.correlation(set, method)
    names = c["configurations"]
    if a not in names or b not in names:
        return float("nan")
    return _at(c["r"], (names.index(a), names.index(b)))


def comparison_table(r):
    """set_a, set_b, method, config_a, config_b, r_a, r_b, diff (r_a - r_b), ci_low,
    ci_high, p (configurations a < b)."""
    rows = []
    for s1, s2 in r.comparisons:
        for meth in r.comparison_methods(s1, s2):
            d = r.comparison(s1, s2, meth)
            names, k = d["configurations"], len(d["configurations"])
            for a in range(k):
                for b in range(a + 1, k):
                    rows.append((s1, s2, meth, names[a], names[b], _r(r, s1, meth, names[a], names[b]),
                                 _r(r, s2, meth, names[a], names[b]), _at(d["diff"], (a, b)),
                                 _at(d["ci_low"], (a, b)), _at(d["ci_high"], (a, b)), _at(d["p"], (a, b))))
    return _frame(_columns("comparison"), rows)


def layers_table(r):
    """set, configuration, model_a, model_b, i, j, layer_a, layer_b, score: /layers/S/C[i, j,
    layer_a, layer_b], one row per set, configuration, ordered model pair (i == j included)
    and layer pair within the two models' layer counts (no padding rows; a model with no
    layers has none); None when the file has no /layers (layer_profile off), as `prh export`
    then writes no layers.csv."""
    counts = r.model_layer_counts()
    if counts is None:
        return None
    rows = []
    m = len(r.models)
    for s in r.sets:
        for c in r.configurations_of(s):
            t = r.layer_matrices(s, c)
            if t is None:
                continue
            for i in range(m):
                for j in range(m):
                    for la in range(int(counts[i])):
                        for lb in range(int(counts[j])):
                            rows.append((s, c, r.models[i], r.models[j], i, j, la, lb,
                                         float(t[i, j, la, lb])))
    return _frame(_columns("layers"), rows, ints=("i", "j", "layer_a", "layer_b"))
