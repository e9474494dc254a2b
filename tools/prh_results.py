#!/usr/bin/python3
"""Read a prh results file (results.h5, docs/results.md) into numpy and pandas.

    import sys; sys.path.insert(0, "tools")
    import prh_results
    r = prh_results.load("out/default/results.h5")
    r.models, r.configurations, r.sets, r.config        # names, the sweep config (dict)
    r.scores("id", "mutual_knn@k=10")                   # numpy [M, M]
    r.layers("id", "mutual_knn@k=10")                   # numpy [M, M, 2]
    r.correlation("id")                                 # dict: r, p, n, ci_low, ci_high [K, K]
    r.predictions("id")                                 # dict of arrays
    r.alignment_table()                                 # pandas, the columns of `prh export`

Parts that later stages add are read when present and None / [] when not
(docs/results.md, "Optional parts"):
    r.calibration("id", "mutual_knn@k=10")  # dict of [M, M] arrays + attrs, or None
    r.null_scores("id", "mutual_knn@k=10")  # [P, K] float64 permutation nulls, or None
    r.correlation("id")["mantel_p"]         # also null_mean, null_q95, null_p: [K, K] or None
    r.sweeps                                # {name: dict} from /sweeps (docs/sweeps.md)
    r.sweep_table()                         # one row per sweep, level, configuration
    r.model_groups()                        # family / training data per model, and where from
    r.missing()                             # what an incomplete file lacks, as sentences

The tables have the same columns and rows as the files `prh export` writes
(include/prh/pipeline/export.hpp). Matrices are over all models in /models
order; a model pair whose `done` flag is not set (an incomplete file) reads
as NaN with layers -1.

Run as a script for a short summary:  python3 tools/prh_results.py RESULTS

Needs numpy and h5py; pandas only for the *_table() methods.
"""
import json
import sys

import h5py
import numpy as np

FORMAT = "prh-results-1"


def _pandas():
    try:
        import pandas
    except ImportError as e:  # pragma: no cover - depends on the machine
        raise ImportError("prh_results: the *_table() methods need pandas "
                          "(Debian: apt install python3-pandas; or pip install pandas)") from e
    return pandas


def _text(x):
    """A str from whatever h5py gives for a string (str, bytes, numpy scalar)."""
    if isinstance(x, np.ndarray) and x.shape == ():
        x = x[()]
    if isinstance(x, (bytes, np.bytes_)):
        return bytes(x).decode("utf-8")
    return str(x)


def _texts(x):
    """A list of str from a string attribute or dataset value of any shape."""
    if isinstance(x, (str, bytes, np.bytes_)):
        return [_text(x)]
    return [_text(v) for v in np.asarray(x).ravel()]


def _attr_text(obj, name, default=""):
    if name not in obj.attrs:
        return default
    v = _texts(obj.attrs[name])
    if len(v) != 1:
        raise ValueError(f"{obj.file.filename}: {obj.name}: attribute {name!r} is not one string")
    return v[0]


def _attr_list(obj, name, default=None):
    """A JSON array in one string (the contract) or a string array attribute."""
    if name not in obj.attrs:
        return list(default or [])
    v = _texts(obj.attrs[name])
    return list(json.loads(v[0])) if len(v) == 1 else v


def _attr_num(obj, name, default=None):
    if name not in obj.attrs:
        return default
    v = np.asarray(obj.attrs[name])
    return v.reshape(-1)[0].item() if v.size == 1 else v


def _json(text):
    try:
        return json.loads(text) if text else {}
    except ValueError:
        return {}


def _ordered(names, order):
    """`names` in the order of `order`; the others follow in their own order."""
    rank = {n: i for i, n in enumerate(order)}
    return sorted(names, key=lambda n: rank.get(n, len(order)))


def _set_order(config, identity):
    """Image-set names in config order, as far as the config/identity say."""
    for doc, key in ((config, "image_sets"), (config, "sets"), (identity, "sets"),
                     (identity, "image_sets")):
        v = doc.get(key) if isinstance(doc, dict) else None
        if isinstance(v, list):
            names = [e if isinstance(e, str) else e.get("name") for e in v
                     if isinstance(e, str) or (isinstance(e, dict) and isinstance(e.get("name"), str))]
            if names:
                return names
    return []


def _read(obj, name, shape, dtype):
    """Dataset `name` of `obj` as `dtype`, checked against `shape`; None if absent."""
    if name not in obj:
        return None
    a = obj[name][()]
    if a.shape != tuple(shape):
        raise ValueError(f"{obj.file.filename}: {obj.name}/{name} has shape {a.shape}, "
                         f"expected {tuple(shape)}")
    return a.astype(dtype)


def _at(a, idx):
    """a[idx] as a float (NaN when the array is absent)."""
    return float("nan") if a is None else float(a[idx])


def _at_int(a, idx):
    return float("nan") if a is None else int(a[idx])


SIZE_WORDS = {"tiny", "small", "base", "medium", "large", "huge", "giant", "gigantic"}


def family_from_name(name):
    """A model's family guessed from its name: the `_`-separated parts before
    the first part that holds a digit or names a size (tiny ... giant), plus
    the first part of a timm pretrained tag after `.` (the training recipe):
    mlp_w256_d2_s0 -> mlp, cnn_ae_w16_d2_s0 -> cnn_ae,
    vit_base_patch16_224.mae -> vit.mae,
    vit_huge_patch14_clip_224.laion2b_ft_in12k -> vit.laion2b.
    A name whose first part already holds a digit is its own family."""
    base, _, tag = name.partition(".")
    parts = base.split("_")
    head = []
    for p in parts:
        if any(ch.isdigit() for ch in p) or p.lower() in SIZE_WORDS:
            break
        head.append(p)
    family = "_".join(head) if head else parts[0]
    return family + ("." + tag.split("_")[0] if tag else "")


class Results:
    """The contents of a results file, read eagerly (the file is closed).

    Attributes: path, format, prh_version, config_hash, config_file, store,
    device (where reduce ran its heavy metric steps: "cpu", "cuda", or the
    devices of successive runs, "cuda,cpu"; "cpu" for files written before
    prh recorded it), config (dict), identity (dict), complete (bool), models (list),
    layer_counts / classes (int arrays [M] or None), configurations (list),
    sets (list, config order), comparisons (list of (set_a, set_b)).
    """

    def __init__(self, path):
        self.path = str(path)
        with h5py.File(path, "r") as f:
            self.format = _attr_text(f, "format", None)
            if self.format != FORMAT:
                raise ValueError(f"{path}: not a prh results file (format {self.format!r}, "
                                 f"expected {FORMAT!r})")
            self.prh_version = _attr_text(f, "prh_version")
            self.config_hash = _attr_text(f, "config_hash")
            self.config_file = _attr_text(f, "config_file")
            self.store = _attr_text(f, "store")
            self.device = _attr_text(f, "device", "cpu")
            self.config = _json(_attr_text(f, "config"))
            self.identity = _json(_attr_text(f, "identity"))
            self.complete = _attr_num(f, "complete", 0) == 1
            self.models = _texts(f["models"][()])
            self.configurations = _texts(f["configurations"][()])
            m = len(self.models)
            self.layer_counts = (np.asarray(f["models"].attrs["layer_counts"], dtype=np.int64)
                                 if "layer_counts" in f["models"].attrs else None)
            self.classes = (np.asarray(f["models"].attrs["classes"], dtype=np.int64)
                            if "classes" in f["models"].attrs else None)

            names = []
            for top in ("alignment", "correlation", "predictions"):
                for s in (f[top].keys() if top in f else []):
                    if s not in names:
                        names.append(s)
            self.sets = _ordered(names, _set_order(self.config, self.identity))

            self._set_attrs, self._alignment, self._correlation, self._predictions = {}, {}, {}, {}
            for s in self.sets:
                if f"alignment/{s}" in f:
                    g = f["alignment"][s]
                    mp = g.attrs.get("models_present")
                    self._set_attrs[s] = {"n": _attr_num(g, "n", 0), "skipped": _attr_num(g, "skipped", 0),
                                          "models_present": None if mp is None else np.asarray(mp, np.uint8)}
                    self._alignment[s] = {}
                    for c in _ordered(list(g.keys()), self.configurations):
                        self._alignment[s][c] = self._read_alignment(g[c], c, m)
                if f"correlation/{s}" in f:
                    self._correlation[s] = self._read_correlation(f["correlation"][s], m)
                if f"predictions/{s}" in f:
                    self._predictions[s] = self._read_predictions(f["predictions"][s], m)

            self._comparison = {}
            if "comparison" in f:
                for s1 in _ordered(list(f["comparison"].keys()), self.sets):
                    for s2 in _ordered(list(f["comparison"][s1].keys()), self.sets):
                        self._comparison[(s1, s2)] = self._read_comparison(f["comparison"][s1][s2], s1)
            self.comparisons = list(self._comparison)

            # Optional parts (calibration: written by prh reduce when `calibration` is on).
            self._calibration = {}
            if "calibration" in f:
                for s in _ordered(list(f["calibration"].keys()), self.sets):
                    g = f["calibration"][s]
                    self._calibration[s] = {c: self._read_calibration(g[c], m)
                                            for c in _ordered(list(g.keys()), self.configurations)
                                            if isinstance(g[c], h5py.Group)}
            self.sweeps = {}
            if "sweeps" in f:
                for name in f["sweeps"].keys():
                    self.sweeps[name] = self._read_sweep(f["sweeps"][name], len(self.configurations), m)
            self.groups = self._read_groups(f) if "groups" in f else None
            self._model_attrs = {}
            for key in ("family", "training_data", "objective"):
                if key in f["models"].attrs:
                    v = _attr_list(f["models"], key)
                    if len(v) != m:
                        raise ValueError(f"{path}: /models attribute {key!r} has {len(v)} entries, "
                                         f"expected {m}")
                    self._model_attrs[key] = [str(x) for x in v]

    # --- reading ---------------------------------------------------------------

    @staticmethod
    def _read_groups(f):
        """/groups (docs/results.md): {"attrs": {...}, "configurations": [...],
        "sets": {set: {"factors": {factor: {name: array [K]}}, "correlations":
        {name: array [K, K]}}}}."""
        g = f["groups"]
        attrs = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in g.attrs.items()}
        configs = _json(attrs.get("configurations", "[]")) or []
        factors = _json(attrs.get("factors", "[]")) or []
        out = {"attrs": attrs, "configurations": list(configs), "factors": list(factors), "sets": {}}
        for s in g.keys():
            d = {"factors": {}, "correlations": {}}
            for name in g[s].keys():
                obj = g[s][name]
                if isinstance(obj, h5py.Group):
                    d["factors"][name] = {k: obj[k][()] for k in obj.keys()}
                    if "effect_note" in obj.attrs:  # why an effect is NaN ("" where it is not)
                        d["factors"][name]["effect_note"] = _json(_attr_text(obj, "effect_note"))
                else:
                    d["correlations"][name] = obj[()]
            out["sets"][s] = d
        return out

    @staticmethod
    def _read_alignment(g, name, m):
        a = {"metric": _attr_text(g, "metric", name.split("@")[0]),
             "params": _json(_attr_text(g, "params", "{}")),
             "symmetric": bool(_attr_num(g, "symmetric", 1)),
             "preprocess": _json(_attr_text(g, "preprocess")),
             "last_layer_only": bool(_attr_num(g, "last_layer_only", 0)),
             "scores": _read(g, "scores", (m, m), np.float64),
             "layers": _read(g, "layers", (m, m, 2), np.int64),
             "done": _read(g, "done", (m * (m + 1) // 2,), np.uint8)}
        if a["scores"] is None or a["layers"] is None:
            raise ValueError(f"{g.file.filename}: {g.name} lacks scores or layers")
        # Mask the pairs not written yet.
        if a["done"] is not None:
            iu = np.triu_indices(m)  # row-major i <= j: the order of `done`
            ok = np.zeros((m, m), bool)
            ok[iu] = a["done"] != 0
            ok |= ok.T
            a["scores"] = np.where(ok, a["scores"], np.nan)
            a["layers"] = np.where(ok[..., None], a["layers"], -1)
        return a

    def _read_correlation(self, g, m):
        configs = _attr_list(g, "configurations", self.configurations)
        methods = _attr_list(g, "methods") or [n for n in g.keys() if "_" not in n]
        k = len(configs)
        c = {"configurations": configs, "methods": methods,
             "pairs": _attr_num(g, "pairs", 0), "bootstrap": _attr_num(g, "bootstrap", 0),
             "confidence": _attr_num(g, "confidence"), "seed": _attr_num(g, "seed"),
             "mean_alignment": _read(g, "mean_alignment", (k, m), np.float64),
             # [K] share of each configuration's score variance across pairs that chance
             # explains (calibrated configurations; None when calibration is off)
             "chance_share": _read(g, "chance_share", (k,), np.float64), "by_method": {}}
        for meth in methods:
            if meth not in g:
                continue
            c["by_method"][meth] = {
                "r": _read(g, meth, (k, k), np.float64),
                "p": _read(g, meth + "_pvalue", (k, k), np.float64),
                "n": _read(g, meth + "_n", (k, k), np.int64),
                "ci_low": _read(g, meth + "_ci_low", (k, k), np.float64),
                "ci_high": _read(g, meth + "_ci_high", (k, k), np.float64),
                "accuracy_r": _read(g, "accuracy_" + meth, (k,), np.float64),
                "accuracy_p": _read(g, f"accuracy_{meth}_pvalue", (k,), np.float64),
                "accuracy_n": _read(g, f"accuracy_{meth}_n", (k,), np.int64),
                # Optional (later stages): the correlation under the null of
                # pairs that share nothing, and the Mantel permutation p.
                "null_mean": _read(g, meth + "_null_mean", (k, k), np.float64),
                "null_q95": _read(g, meth + "_null_q95", (k, k), np.float64),
                "null_p": _read(g, meth + "_null_p", (k, k), np.float64),
                "mantel_p": _read(g, meth + "_mantel_p", (k, k), np.float64)}
        return c

    CALIBRATION_DATASETS = ("pvalue", "qvalue", "threshold", "calibrated", "null_mean", "null_sd")

    @staticmethod
    def _read_calibration(g, m):
        """/calibration/S/C: the [M, M] datasets present, and every attribute."""
        c = {"attrs": {k: (_text(v) if isinstance(v, (str, bytes, np.bytes_)) else
                           (np.asarray(v).reshape(-1)[0].item() if np.asarray(v).size == 1
                            else np.asarray(v)))
                       for k, v in g.attrs.items()}}
        for name in Results.CALIBRATION_DATASETS:
            c[name] = _read(g, name, (m, m), np.float64)
        return c

    @staticmethod
    def _read_sweep(g, k, m):
        """/sweeps/NAME (docs/results.md, docs/sweeps.md): levels [L], the image set of each
        level [L], the curves [L, K], the breaking levels [K] and the gathered correlations
        [L, K, K]; every array but levels and sets is optional (None when absent)."""
        if "levels" not in g or "sets" not in g:
            raise ValueError(f"{g.file.filename}: {g.name} lacks 'levels' or 'sets'")
        levels = np.asarray(g["levels"][()], np.float64).reshape(-1)
        sets = _texts(g["sets"][()])
        L = len(levels)
        if len(sets) != L:
            raise ValueError(f"{g.file.filename}: {g.name}: {len(sets)} sets for {L} levels")
        method = _attr_text(g, "method", "")
        w = {"levels": levels, "sets": sets,
             "family": _attr_text(g, "family", ""), "base": _attr_text(g, "base", ""),
             "parameter": _attr_text(g, "parameter", "level"),
             "description": _attr_text(g, "description", ""),
             "alpha": _attr_num(g, "alpha", None), "method": method,
             "breaking_fraction": _attr_num(g, "breaking_fraction", 0.5),
             "correlation_breaking_level": (float(np.asarray(g.attrs["correlation_breaking_level"]).reshape(-1)[0])
                                            if "correlation_breaking_level" in g.attrs else None)}
        for name in ("mean", "mean_ci_low", "mean_ci_high", "calibrated_mean", "calibrated_mean_ci_low",
                     "calibrated_mean_ci_high", "significant_fraction", "significant_fraction_ci_low",
                     "significant_fraction_ci_high"):
            w[name] = _read(g, name, (L, k), np.float64)
        # significant_fraction is a power curve (it grows with the images per level,
        # `images`); relative_calibrated (the mean calibrated score over the first
        # level's) is the effect size, with its own breaking level.
        for name in ("relative_calibrated", "relative_calibrated_ci_low", "relative_calibrated_ci_high",
                     "chance_share"):
            w[name] = _read(g, name, (L, k), np.float64)
        w["images"] = _read(g, "images", (L,), np.int64)
        w["relative_breaking"] = _attr_num(g, "relative_breaking", 0.5)
        for name in ("breaking_level", "breaking_level_low", "breaking_level_high", "breaking_agreement",
                     "relative_breaking_level", "relative_breaking_level_low",
                     "relative_breaking_level_high", "relative_breaking_agreement"):
            w[name] = _read(g, name, (k,), np.float64)
        w["r"] = _read(g, method, (L, k, k), np.float64) if method else None
        for name in ("ci_low", "ci_high", "mantel_p", "null_mean", "null_q95", "null_p"):
            w["r_" + name] = _read(g, f"{method}_{name}", (L, k, k), np.float64) if method else None
        w["correlation_p"] = _read(g, "correlation_p", (L, k, k), np.float64)
        w["correlation_test"] = _read(g, "correlation_test", (k, k), np.int64)
        w["correlation_breaking_levels"] = _read(g, "correlation_breaking_level", (k, k), np.float64)
        w["accuracy"] = _read(g, "accuracy", (L, m), np.float64)
        w["agreement"] = _read(g, "agreement", (L,), np.float64)
        return w

    @staticmethod
    def _read_predictions(g, m):
        p = {"labelled": _attr_num(g, "labelled", 0), "n": _attr_num(g, "n", 0),
             # the set's label space ("" not known; absent in files before issue 23)
             "label_space": _attr_text(g, "label_space", None)}
        for name, shape, dt in (("accuracy", (m,), np.float64), ("mean_prob", (m,), np.float64),
                                ("mean_prob_wrong", (m,), np.float64),
                                ("agreement", (m, m), np.float64), ("both_wrong", (m, m), np.int64),
                                ("agreement_both_wrong", (m, m), np.float64),
                                # 1 / 0 / -1: label spaces match / do not (accuracy NaN) /
                                # the model's is not known
                                ("labels_match", (m,), np.int64)):
            a = _read(g, name, shape, dt)
            if a is not None:
                p[name] = a
        return p

    def _read_comparison(self, g, s1):
        default = (self._correlation[s1]["configurations"] if s1 in self._correlation
                   else self.configurations)
        configs = _attr_list(g, "configurations", default)
        methods = _attr_list(g, "methods") or [n[:-5] for n in g.keys() if n.endswith("_diff")]
        k = len(configs)
        c = {"configurations": configs, "methods": methods, "bootstrap": _attr_num(g, "bootstrap", 0),
             "confidence": _attr_num(g, "confidence"), "seed": _attr_num(g, "seed"), "by_method": {}}
        for meth in methods:
            if meth + "_diff" not in g:
                continue
            c["by_method"][meth] = {
                key: _read(g, meth + "_diff" + suffix, (k, k), np.float64)
                for key, suffix in (("diff", ""), ("ci_low", "_ci_low"), ("ci_high", "_ci_high"),
                                    ("p", "_pvalue"))}
        return c

    # --- access ----------------------------------------------------------------

    def _config(self, set, config):
        try:
            return self._alignment[set][config]
        except KeyError:
            raise KeyError(f"{self.path}: no alignment for set {set!r}, configuration {config!r}") from None

    def set_info(self, set):
        """{'n', 'skipped', 'models_present'} of an image set."""
        return dict(self._set_attrs[set])

    def configurations_of(self, set):
        """The configurations present for an image set (file order)."""
        return list(self._alignment.get(set, {}))

    def scores(self, set, config):
        """scores[i, j] = metric(model i as A, model j as B): numpy float64 [M, M]."""
        return self._config(set, config)["scores"].copy()

    def layers(self, set, config):
        """The best layer pair (layer of i, layer of j): numpy int64 [M, M, 2], -1 undefined."""
        return self._config(set, config)["layers"].copy()

    def metric(self, set, config):
        """Metric name, params (dict) and symmetric (bool) of a configuration."""
        a = self._config(set, config)
        return {"metric": a["metric"], "params": a["params"], "symmetric": a["symmetric"]}

    def correlation(self, set, method="spearman"):
        """Correlations between configurations of one image set.

        A dict: configurations (K names), r, p, ci_low, ci_high (float [K, K];
        ci_* None when the file has no bootstrap intervals), n (int [K, K]),
        mean_alignment ([K, M]), accuracy_r, accuracy_p, accuracy_n ([K] or None);
        mantel_p (pair-level association only: it is not a test of agreement beyond
        chance), null_mean, null_q95, null_p (the calibration null: null_p is the test of
        agreement beyond chance; null_mean is not a baseline to subtract) and
        chance_share ([K]: the share of each configuration's score variance across the
        pairs that chance explains), each None when absent.
        """
        if set not in self._correlation:
            raise KeyError(f"{self.path}: no correlation for set {set!r}")
        c = self._correlation[set]
        if method not in c["by_method"]:
            raise KeyError(f"{self.path}: no {method!r} correlation for set {set!r} "
                           f"(methods: {', '.join(c['by_method'])})")
        out = {"configurations": list(c["configurations"]), "mean_alignment": c["mean_alignment"],
               "chance_share": None if c.get("chance_share") is None else c["chance_share"].copy()}
        out.update({k: (None if v is None else v.copy()) for k, v in c["by_method"][method].items()})
        return out

    def correlation_methods(self, set):
        """The correlation methods stored for an image set ([] when none)."""
        return list(self._correlation.get(set, {}).get("by_method", {}))

    def predictions(self, set):
        """Predictions of one image set: accuracy, mean_prob, mean_prob_wrong ([M]),
        agreement, both_wrong, agreement_both_wrong ([M, M]), labelled, n."""
        if set not in self._predictions:
            raise KeyError(f"{self.path}: no predictions for set {set!r}")
        return {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in self._predictions[set].items()}

    def calibration(self, set, config):
        """Calibration of one image set and configuration (docs/results.md,
        optional part): pvalue, qvalue, threshold, calibrated, null_mean,
        null_sd ([M, M] arrays, None where absent) and attrs (dict); None when
        the file has no calibration for it."""
        c = self._calibration.get(set, {}).get(config)
        if c is None:
            return None
        return {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in c.items()}

    def null_scores(self, set, config, reverse=False):
        """The stored permutation null scores of one image set and calibrated configuration
        (docs/results.md): [P, K] float64, row p = pair i < j in row-major order
        (pair_index), column t = permutation t; orientation (i, j) (model j's rows
        shuffled), or with reverse=True orientation (j, i) (asymmetric configurations
        only: cknna, cycle_knn). Read from the file on each call (they are large); None
        when the file has none. p, tau and the calibrated score of docs/calibration.md
        recompute exactly from them, except in files of a prh older than the float64
        nulls (dtype float32 there: ties with the observed score may be lost)."""
        name = "null_scores_reverse" if reverse else "null_scores"
        with h5py.File(self.path, "r") as f:
            d = f.get(f"calibration/{set}/{config}/{name}")
            if not isinstance(d, h5py.Dataset):
                return None
            return np.asarray(d[()], np.float64)

    @staticmethod
    def pair_index(m, i, j):
        """Row of pair i < j (of m models) in null_scores: row-major over i < j."""
        if not 0 <= i < j < m:
            raise ValueError(f"pair ({i}, {j}) of {m} models: need 0 <= i < j < m")
        return i * (m - 1) - i * (i - 1) // 2 + (j - i - 1)

    def has_calibration(self):
        return any(self._calibration.values())

    def model_groups(self):
        """Per model: family and training data, and where they came from.

        A dict: family (list [M]), training_data (list [M] or None),
        family_source / training_source (a phrase). Read from /models
        attributes `family` / `training_data` when present, else from the
        config's model entries (`family`, `training_data`), else the family is
        guessed from the model name (family_from_name: `cnn_ae_w16_d2_s0` ->
        `cnn_ae`, `vit_base_patch16_224.mae` -> `vit.mae`) and the training
        data is unknown."""
        m = len(self.models)
        entries = {}
        for e in (self.config.get("models") or []) if isinstance(self.config, dict) else []:
            if isinstance(e, dict) and isinstance(e.get("name"), str):
                entries[e["name"]] = e
        out = {}
        for key in ("family", "training_data"):
            if key in self._model_attrs:
                out[key], out[key.split("_")[0] + "_source"] = list(self._model_attrs[key]), \
                    f"/models attribute {key!r}"
            elif entries and all(isinstance(entries.get(n, {}).get(key), str) for n in self.models):
                out[key], out[key.split("_")[0] + "_source"] = [entries[n][key] for n in self.models], \
                    f"the config's model entries ({key!r})"
        if "family" not in out:
            out["family"] = [family_from_name(n) for n in self.models]
            out["family_source"] = "the model names (prh_results.family_from_name)"
        if "training_data" not in out:
            out["training_data"], out["training_source"] = None, "not recorded"
        assert len(out["family"]) == m
        return out

    def missing(self):
        """What an incomplete results file lacks: a list of sentences (empty
        when the file is complete and every set has its tables)."""
        out = []
        m = len(self.models)
        if not self.complete:
            out.append("the file is marked incomplete (complete = 0): a reduce was interrupted "
                       "or run with --partial")
        for s in self.sets:
            info = self._set_attrs.get(s)
            if info is None:
                out.append(f"image set {s}: no alignment matrices")
                continue
            mp = info.get("models_present")
            if mp is not None and not np.all(mp == 1):
                absent = [self.models[i] for i in range(m) if mp[i] != 1]
                out.append(f"image set {s}: {len(absent)} of {m} models without complete embeddings "
                           f"(left out, NaN): {', '.join(absent)}")
            unscored = {}  # pairs left -> configurations
            for c in self.configurations:
                a = self._alignment[s].get(c)
                if a is None:
                    out.append(f"image set {s}: configuration {c} not computed")
                    continue
                if a["done"] is not None:
                    left = int(np.sum(a["done"] == 0))
                    if left:
                        unscored.setdefault((left, len(a["done"])), []).append(c)
            for (left, total), cs in unscored.items():
                which = (f"all {len(cs)} configurations" if len(cs) == len(self.configurations) > 1
                         else ", ".join(cs))
                out.append(f"image set {s}: {left} of {total} model pairs (i <= j) not scored in {which}")
            if s not in self._correlation:
                out.append(f"image set {s}: no correlations between configurations")
            if s not in self._predictions:
                out.append(f"image set {s}: no prediction summary")
        return out

    def comparison(self, set_a, set_b, method="spearman"):
        """Comparison of two image sets: configurations, diff, ci_low, ci_high, p ([K, K])."""
        c = self._comparison[(set_a, set_b)]
        return dict(c["by_method"][method], configurations=list(c["configurations"]))

    # --- tables (pandas), as `prh export` writes them ---------------------------

    def _frame(self, columns, rows, ints=(), bools=()):
        pd = _pandas()
        df = pd.DataFrame.from_records(rows, columns=columns)
        for c in columns:
            if c in bools:
                df[c] = df[c].astype(bool)
            elif c in ints:
                df[c] = df[c].astype("int64") if not df[c].isna().any() else df[c].astype("float64")
            elif c not in ("set", "configuration", "metric", "model", "model_a", "model_b", "method",
                           "config_a", "config_b", "set_a", "set_b", "sweep"):
                df[c] = df[c].astype("float64")
        return df

    def alignment_table(self):
        """set, configuration, metric, model_a, model_b, i, j, self, score (scores[i, j]),
        score_ba (scores[j, i]), layer_a, layer_b (best layers for score), layer_a_ba,
        layer_b_ba (best layers for score_ba): one row per set, configuration and pair i <= j."""
        rows = []
        m = len(self.models)
        for s in self.sets:
            for c, a in self._alignment.get(s, {}).items():
                S, L = a["scores"], a["layers"]
                for i in range(m):
                    for j in range(i, m):
                        rows.append((s, c, a["metric"], self.models[i], self.models[j], i, j, i == j,
                                     S[i, j], S[j, i], L[i, j, 0], L[i, j, 1], L[j, i, 1], L[j, i, 0]))
        return self._frame(["set", "configuration", "metric", "model_a", "model_b", "i", "j", "self",
                            "score", "score_ba", "layer_a", "layer_b", "layer_a_ba", "layer_b_ba"],
                           rows, ints=("i", "j", "layer_a", "layer_b", "layer_a_ba", "layer_b_ba"),
                           bools=("self",))

    def correlation_table(self):
        """set, method, config_a, config_b, r, p, n, ci_low, ci_high, mantel_p, null_mean, null_q95,
        null_p (configurations a < b; mantel_p and the correlation null NaN when the file has none)."""
        rows = []
        for s in self.sets:
            c = self._correlation.get(s)
            if not c:
                continue
            names, k = c["configurations"], len(c["configurations"])
            for meth, d in c["by_method"].items():
                for a in range(k):
                    for b in range(a + 1, k):
                        rows.append((s, meth, names[a], names[b], _at(d["r"], (a, b)), _at(d["p"], (a, b)),
                                     _at_int(d["n"], (a, b)), _at(d["ci_low"], (a, b)),
                                     _at(d["ci_high"], (a, b)), _at(d.get("mantel_p"), (a, b)),
                                     _at(d.get("null_mean"), (a, b)), _at(d.get("null_q95"), (a, b)),
                                     _at(d.get("null_p"), (a, b))))
        return self._frame(["set", "method", "config_a", "config_b", "r", "p", "n", "ci_low", "ci_high",
                            "mantel_p", "null_mean", "null_q95", "null_p"], rows, ints=("n",))

    def accuracy_correlation_table(self):
        """set, method, configuration, r, p, n: mean alignment vs accuracy over models."""
        rows = []
        for s in self.sets:
            c = self._correlation.get(s)
            if not c:
                continue
            for meth, d in c["by_method"].items():
                if d["accuracy_r"] is None:
                    continue
                for k, name in enumerate(c["configurations"]):
                    rows.append((s, meth, name, _at(d["accuracy_r"], k), _at(d["accuracy_p"], k),
                                 _at_int(d["accuracy_n"], k)))
        return self._frame(["set", "method", "configuration", "r", "p", "n"], rows, ints=("n",))

    def predictions_table(self):
        """set, model, accuracy, mean_prob, mean_prob_wrong."""
        rows = []
        for s in self.sets:
            p = self._predictions.get(s)
            if p is None:
                continue
            for i, model in enumerate(self.models):
                rows.append((s, model, _at(p.get("accuracy"), i), _at(p.get("mean_prob"), i),
                             _at(p.get("mean_prob_wrong"), i)))
        return self._frame(["set", "model", "accuracy", "mean_prob", "mean_prob_wrong"], rows)

    def calibration_table(self):
        """set, configuration, model_a, model_b, i, j, permutations, alpha, pvalue, qvalue,
        threshold, calibrated, null_mean, null_sd: the pairs i < j of symmetric configurations,
        both orientations of asymmetric ones (as `prh export` calibration.csv); empty when the
        file has no calibration."""
        rows = []
        m = len(self.models)
        for s in self.sets:
            for c, d in self._calibration.get(s, {}).items():
                sym = bool(self._config(s, c).get("symmetric", True)) if c in \
                    self.configurations_of(s) else True
                a = d["attrs"]
                for i in range(m):
                    for j in range(m):
                        if i == j or (sym and j < i):
                            continue
                        rows.append((s, c, self.models[i], self.models[j], i, j,
                                     a.get("permutations"), a.get("alpha"),
                                     *(_at(d.get(k), (i, j)) for k in
                                       ("pvalue", "qvalue", "threshold", "calibrated",
                                        "null_mean", "null_sd"))))
        return self._frame(["set", "configuration", "model_a", "model_b", "i", "j", "permutations",
                            "alpha", "pvalue", "qvalue", "threshold", "calibrated", "null_mean",
                            "null_sd"], rows, ints=("i", "j", "permutations"))

    def agreement_table(self):
        """set, model_a, model_b, agreement, both_wrong, agreement_both_wrong (pairs i < j)."""
        rows = []
        m = len(self.models)
        for s in self.sets:
            p = self._predictions.get(s)
            if p is None or not any(k in p for k in ("agreement", "both_wrong", "agreement_both_wrong")):
                continue
            for i in range(m):
                for j in range(i + 1, m):
                    rows.append((s, self.models[i], self.models[j], _at(p.get("agreement"), (i, j)),
                                 _at_int(p.get("both_wrong"), (i, j)),
                                 _at(p.get("agreement_both_wrong"), (i, j))))
        return self._frame(["set", "model_a", "model_b", "agreement", "both_wrong", "agreement_both_wrong"],
                           rows, ints=("both_wrong",))

    def sweep_table(self):
        """sweep, level, set, images, configuration, mean, mean_ci_low, mean_ci_high,
        calibrated_mean, relative_calibrated, relative_ci_low, relative_ci_high (the mean
        calibrated score over the first level's: the effect size), relative_breaking_level,
        relative_breaking_level_low, relative_breaking_level_high, significant_fraction,
        significant_ci_low, significant_ci_high (the power curve: share of pairs with q < alpha
        at `images` images), breaking_level, breaking_level_low, breaking_level_high (the power
        curve's breaking level), chance_share. Breaking levels per configuration, repeated on
        each level's row; inf: never within the levels; NaN: not calibrated."""
        rows = []
        for name, w in self.sweeps.items():
            for li, (lv, s) in enumerate(zip(w["levels"], w["sets"])):
                n = w.get("images")
                for k, c in enumerate(self.configurations):
                    rows.append((name, float(lv), s, None if n is None else int(n[li]), c,
                                 _at(w["mean"], (li, k)), _at(w["mean_ci_low"], (li, k)),
                                 _at(w["mean_ci_high"], (li, k)), _at(w["calibrated_mean"], (li, k)),
                                 _at(w.get("relative_calibrated"), (li, k)),
                                 _at(w.get("relative_calibrated_ci_low"), (li, k)),
                                 _at(w.get("relative_calibrated_ci_high"), (li, k)),
                                 _at(w.get("relative_breaking_level"), k),
                                 _at(w.get("relative_breaking_level_low"), k),
                                 _at(w.get("relative_breaking_level_high"), k),
                                 _at(w["significant_fraction"], (li, k)),
                                 _at(w["significant_fraction_ci_low"], (li, k)),
                                 _at(w["significant_fraction_ci_high"], (li, k)), _at(w["breaking_level"], k),
                                 _at(w["breaking_level_low"], k), _at(w["breaking_level_high"], k),
                                 _at(w.get("chance_share"), (li, k))))
        return self._frame(["sweep", "level", "set", "images", "configuration", "mean", "mean_ci_low",
                            "mean_ci_high", "calibrated_mean", "relative_calibrated", "relative_ci_low",
                            "relative_ci_high", "relative_breaking_level", "relative_breaking_level_low",
                            "relative_breaking_level_high", "significant_fraction", "significant_ci_low",
                            "significant_ci_high", "breaking_level", "breaking_level_low",
                            "breaking_level_high", "chance_share"], rows, ints=("images",))

    def _r(self, set, method, a, b):
        c = self._correlation.get(set)
        if not c or method not in c["by_method"]:
            return float("nan")
        names = c["configurations"]
        if a not in names or b not in names:
            return float("nan")
        return _at(c["by_method"][method]["r"], (names.index(a), names.index(b)))

    def comparison_table(self):
        """set_a, set_b, method, config_a, config_b, r_a, r_b, diff (r_a - r_b), ci_low,
        ci_high, p (configurations a < b)."""
        rows = []
        for (s1, s2), c in self._comparison.items():
            names, k = c["configurations"], len(c["configurations"])
            for meth, d in c["by_method"].items():
                for a in range(k):
                    for b in range(a + 1, k):
                        rows.append((s1, s2, meth, names[a], names[b], self._r(s1, meth, names[a], names[b]),
                                     self._r(s2, meth, names[a], names[b]), _at(d["diff"], (a, b)),
                                     _at(d["ci_low"], (a, b)), _at(d["ci_high"], (a, b)), _at(d["p"], (a, b))))
        return self._frame(["set_a", "set_b", "method", "config_a", "config_b", "r_a", "r_b", "diff",
                            "ci_low", "ci_high", "p"], rows)


def load(path):
    """Reads a results file; ValueError if it is not one (OSError if unreadable)."""
    return Results(path)


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
        info = r._set_attrs.get(s, {})
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
        if s in r._predictions:
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
    m = len(r.models)
    off = ~np.eye(m, dtype=bool)
    iu = np.triu_indices(m, 1)
    metrics = ["mutual_knn", "cknna", "cycle_knn", "lcs_knn", "edit_distance_knn", "cka",
               "unbiased_cka", "svcca"]
    short = {"mutual_knn": "mknn", "cknna": "cknna", "cycle_knn": "cycle", "lcs_knn": "lcs",
             "edit_distance_knn": "edit", "cka": "cka", "unbiased_cka": "ucka", "svcca": "svcca"}
    in_sweep = {s for w in r.sweeps.values() for s in w["sets"]}
    base = [s for s in r.sets if s not in in_sweep] or list(r.sets)
    more = len(base) - BRIEF_SETS
    base = base[:BRIEF_SETS]
    sw = max([10] + [len(s) + 1 for s in base])
    p(f"{r.path}: {len(r.models)} models, {len(r.configurations)} metric configurations, "
      f"{len(r.sets)} image sets, {'complete' if r.complete else 'INCOMPLETE'}"
      + (f"; {more} more sets in the full summary" if more > 0 else ""))

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
        if s in r._predictions:
            pr = r.predictions(s)
            agree = _nanmean(pr.get("agreement", np.full((m, m), np.nan))[iu])
            prob = _nanmean(pr.get("mean_prob", []))
            acc = _nanmean(pr.get("accuracy", []))
        p(row + f"{_num(agree):>7}{_num(prob):>6}{_num(acc):>6}")

    p("")
    cal_metrics = [x for x in ("mutual_knn", "cknna", "cka")
                   if any(_first(r.configurations_of(s), x) and
                          r.calibration(s, _first(r.configurations_of(s), x)) for s in base)]
    first = base[0]
    p("beyond chance: share of pairs at BH q < 0.05 against their permutation null; rho =")
    p("Spearman(mutual_knn@k=10, cknna@k=10) over the pairs [95% CI, models resampled], null p")
    p(f"(calibration null), chance share of the score variance (mknn/cknna), rho({first}) - rho [CI] p:")
    p(f"  {'image set':<{sw}}" + "".join(f"{short[x]:>6}" for x in cal_metrics)
      + f"{'rho':>7}{'CI':>14}{'null p':>8}{'chance':>13}{'rho(' + first + ') - rho':>27}")
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
        p(row + f"{_num(rho, '{:.3f}'):>7}{ci:>14}{_num(nullp, '{:.3f}'):>8}{share:>13}{diff:>27}")
    _brief_effects(r, p, base, sw)
    sweep_brief(r, out)


def _brief_effects(r, p, sets, sw):
    """The group effects of mutual_knn@k=10 (issue 23: beyond each model's overall
    alignment), both factors side by side, and the cross-metric correlation over the
    pairs trained on different data."""
    g = getattr(r, "groups", None)
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
        rel, rb = w.get("relative_calibrated"), w.get("relative_breaking_level")
        sig, brk = w.get("significant_fraction"), w.get("breaking_level")
        alpha = w.get("alpha") or 0.05
        p("")
        if first:
            p(f"sweeps: 'effect' = mean calibrated score over the first level's, breaking below "
              f"{w.get('relative_breaking', 0.5):g} [interval")
            p(f"over model resamples]; 'power' = share of pairs at q < {alpha:g}, breaking below "
              f"{w.get('breaking_fraction', 0.5):g} (grows with N);")
            p("'rho': Spearman(mutual_knn@k=10, cknna@k=10), breaking where not above its calibration null.")
            first = False
        n = w.get("images")
        nt = "" if n is None else ", N = " + ", ".join(str(int(x)) for x in np.unique(n)) + " images per level"
        p(f"sweep {name}{nt}:")
        p(f"  {w['description'] or w['family']}")
        shown = [k for k, c in enumerate(r.configurations)
                 if (rel is not None and rb is not None and (np.isfinite(rel[:, k]).any() or not np.isnan(rb[k])))
                 or (sig is not None and brk is not None and not np.isnan(brk[k]))]
        cw = max([17] + [len(r.configurations[k]) + 1 for k in shown])
        lv = "".join(f"{x:>6g}" for x in w["levels"])
        p(f"  {w['parameter']:<{cw}}{'':>7}{lv}  breaks [interval]")
        for k, c in enumerate(r.configurations):
            rows = []
            if rel is not None and rb is not None and (np.isfinite(rel[:, k]).any() or not np.isnan(rb[k])):
                lo, hi = w.get("relative_breaking_level_low"), w.get("relative_breaking_level_high")
                rows.append(("effect", rel[:, k], rb[k], lo[k] if lo is not None else None,
                             hi[k] if hi is not None else None))
            if sig is not None and brk is not None and not np.isnan(brk[k]):
                lo, hi = w.get("breaking_level_low"), w.get("breaking_level_high")
                rows.append(("power", sig[:, k], brk[k], lo[k] if lo is not None else None,
                             hi[k] if hi is not None else None))
            for i, (lab, vals, bl, lo, hi) in enumerate(rows):
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
    g = getattr(r, "groups", None)
    if not g or not g["factors"]:
        return
    names = g["configurations"]
    if "mutual_knn@k=10" not in names:
        return
    k = names.index("mutual_knn@k=10")
    sets = [s for s in r.sets if s in g["sets"]]
    w = max([10] + [len(s) + 1 for s in sets])
    for factor in g["factors"]:
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
    if "cknna@k=10" in names:
        b = names.index("cknna@k=10")
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
