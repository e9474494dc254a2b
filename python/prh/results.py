"""Read a prh results file (results.h5, docs/results.md) into numpy and pandas.

    import prh.results
    r = prh.results.load("out/default/results.h5")
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
    r.layer_matrices("id", "cka@kernel=linear")  # [M, M, Lmax, Lmax] layer-by-layer, or None
    r.layer_profile("id")                   # alignment by relative depth: dict, or None
    r.missing()                             # what an incomplete file lacks, as sentences

The tables have the same columns and rows as the files `prh export` writes
(include/prh/pipeline/export.hpp; built in prh.tables). Matrices are over all
models in /models order; a model pair whose `done` flag is not set (an
incomplete file) reads as NaN with layers -1. The public API is listed in
docs/python.md; everything whose name starts with `_` is private.

Needs numpy and h5py; pandas only for the *_table() methods.
"""
import json
import os
import re

import h5py
import numpy as np

from prh import tables as _tables

# The layout of the file, declared once in src/schema/results_schema.cpp and
# written as JSON by prh-schema-json (lint.results_schema_json checks that this
# copy is the generated one; issue 26): entries with kind, path (pattern:
# "/alignment/{set}/{config}/scores"), attribute, dtype, shape ("[M, M]"),
# optional, doc.
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "results_schema.json"),
          encoding="utf-8") as _fh:
    SCHEMA = json.load(_fh)

FORMAT = SCHEMA["format"]


def _datasets(parent):
    """The schema's datasets directly under the pattern `parent`: {name: entry}."""
    return {e["path"][len(parent) + 1:]: e for e in SCHEMA["entries"]
            if e["kind"] == "dataset" and e["path"].rsplit("/", 1)[0] == parent}


def _shape(entry, sizes):
    """The entry's shape, its symbols (M, K, L) replaced by `sizes`."""
    inner = entry["shape"].strip("[]")
    return tuple(int(x) if x.strip().isdigit() else sizes[x.strip()]
                 for x in inner.split(",")) if inner else ()


# /correlation/S: each configuration's mean score over the model pairs and its
# bootstrap interval over models, raw and calibrated ([K]; docs/results.md).
MEAN_DATASETS = tuple(name for name in _datasets("/correlation/{set}")
                      if re.fullmatch(r"(calibrated_)?mean(_ci_low|_ci_high)?", name))
# /correlation/S/{method}*: the keys of Results.correlation(set, method) and their datasets.
_CORRELATION_KEYS = {"r": "{method}", "p": "{method}_pvalue", "n": "{method}_n",
                     "ci_low": "{method}_ci_low", "ci_high": "{method}_ci_high",
                     "accuracy_r": "accuracy_{method}", "accuracy_p": "accuracy_{method}_pvalue",
                     "accuracy_n": "accuracy_{method}_n", "null_mean": "{method}_null_mean",
                     "null_q95": "{method}_null_q95", "null_p": "{method}_null_p",
                     "mantel_p": "{method}_mantel_p"}
# /sweeps/NAME: the datasets named without the correlation method, in schema order.
_SWEEP_DATASETS = {name: e for name, e in _datasets("/sweeps/{sweep}").items()
                   if "{" not in name}


def _methods_of(obj):
    """The values of the schema's {method} symbol below the h5py group `obj`: its
    `methods` (a JSON list: /correlation/S, /comparison/S1/S2) or `method` attribute
    (/sweeps/NAME); [] when it has neither."""
    methods = _attr_list(obj, "methods", None)  # lint: the {method} symbol
    if not methods and "method" in obj.attrs:  # lint: the {method} symbol
        methods = [_attr_text(obj, "method")]  # lint: the {method} symbol
    return methods


def _instances(f, pattern, values=None):
    """The objects of `f` that the schema pattern names: [(path, {symbol: value})].
    A component that is a {symbol} ranges over the keys present; one with a
    {method} inside ranges over the `methods` (JSON) or `method` attribute of its
    parent (none when the parent has neither)."""
    values = dict(values or {})
    parts = [p for p in pattern.split("/") if p]
    out = []

    def walk(obj, path, i, vals):
        if i == len(parts):
            out.append((path or "/", vals))
            return
        part = parts[i]
        if not isinstance(obj, h5py.Group):
            return
        m = re.fullmatch(r"\{(\w+)\}", part)
        if m and m.group(1) != "method":
            for k in obj.keys():
                walk(obj[k], f"{path}/{k}", i + 1, {**vals, m.group(1): k})
            return
        names = [part]
        if "{method}" in part:
            names = [part.replace("{method}", x) for x in _methods_of(obj)]
        for name in names:
            if name in obj:
                walk(obj[name], f"{path}/{name}", i + 1, vals)

    walk(f, "", 0, values)
    # a {symbol} ranges over groups only where the schema declares a group there
    # (/calibration/{set}/{config} is not /calibration/{set}/done)
    if _KINDS.get(pattern) == "group":
        out = [(p, v) for p, v in out if isinstance(f[p], h5py.Group)]
    return out


_KINDS = {e["path"]: e["kind"] for e in SCHEMA["entries"] if e["kind"] != "attribute"}
_ENTRIES = {(e["path"], e.get("attribute", "")): e for e in SCHEMA["entries"]}
# What each schema dtype reads as (the integers of the API are int64, the flags uint8).
_NUMPY = {"float64": np.float64, "int64": np.int64, "int32": np.int64, "uint8": np.uint8}


def _path(pattern, **values):
    """The path of the schema object `pattern` ("/correlation/{set}"), its {symbols}
    replaced by `values`; LookupError if the schema does not declare it."""
    if pattern not in _KINDS:
        raise LookupError(f"results schema: no object {pattern}")
    return re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], pattern)


def _name(parent, name, method=None):
    """The name of the object `name` (a schema pattern: "{method}_pvalue") inside an object
    whose pattern is `parent`, its {method} replaced; LookupError if undeclared."""
    full = parent.rstrip("/") + "/" + name
    if full not in _KINDS:
        raise LookupError(f"results schema: no object {full}")
    return name.replace("{method}", method) if method is not None else name


def _get(g, parent, name, sizes, method=None):
    """Dataset `name` (a schema pattern) of the h5py group `g`, whose pattern is `parent`, as
    the schema declares it: its shape (symbols from `sizes`) and dtype; None if absent."""
    e = _ENTRIES[(parent.rstrip("/") + "/" + _name(parent, name), "")]
    return _read(g, _name(parent, name, method), _shape(e, sizes), _NUMPY[e["dtype"]])


class _Attrs:
    """The attributes of the h5py object `obj`, whose schema pattern is `pattern`, read by
    the names the schema declares there (LookupError for any other)."""

    def __init__(self, obj, pattern):
        self.obj, self.pattern = obj, pattern

    def _name(self, name):
        if (self.pattern, name) not in _ENTRIES:
            raise LookupError(f"results schema: no attribute {name!r} of {self.pattern}")
        return name

    def has(self, name):
        return self._name(name) in self.obj.attrs

    def text(self, name, default=""):
        return _attr_text(self.obj, self._name(name), default)

    def list(self, name, default=None):
        return _attr_list(self.obj, self._name(name), default)

    def num(self, name, default=None):
        return _attr_num(self.obj, self._name(name), default)

    def ints(self, name):
        """A numeric array attribute as int64, None when absent."""
        return np.asarray(self.obj.attrs[name], np.int64) if self.has(name) else None


def check(f):
    """The required entries of the schema (python/prh/results_schema.json) that
    the open file `f` lacks, as sentences: a required dataset, group or
    attribute of an object that is there (an optional part that is absent is not
    a problem; neither is an object the schema does not declare)."""
    problems = []
    for e in SCHEMA["entries"]:
        if e["optional"]:
            continue
        if e["kind"] == "attribute":
            for path, _ in _instances(f, e["path"]):
                if e["attribute"] not in f[path].attrs:
                    problems.append(f"{path} lacks the attribute {e['attribute']!r}")
            continue
        parent, name = e["path"].rsplit("/", 1)
        if e["path"] == "/" or "{" in name.replace("{method}", ""):
            continue  # one of a set of objects: as many as there are
        for path, _ in _instances(f, parent or "/"):
            obj = f[path]
            names = [name]
            if "{method}" in name:
                names = [name.replace("{method}", x) for x in _methods_of(obj)]
            for n in names:
                if n not in obj:
                    problems.append(f"{path.rstrip('/')}/{n} is missing ({e['kind']}: {e['doc']})")
    return problems


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
            self._read_root(f, path)
            self._read_sets(f)
            self._read_comparisons(f)
            # Optional parts (calibration: written by prh reduce when `calibration` is on).
            self._read_calibrations(f)
            self.sweeps = {}
            if _path("/sweeps") in f:
                for name in f[_path("/sweeps")].keys():
                    self.sweeps[name] = self._read_sweep(f[_path("/sweeps/{sweep}", sweep=name)],
                                                         len(self.configurations), len(self.models))
            self.groups = self._read_groups(f) if _path("/groups") in f else None
            self._read_layers(f)
            self._read_model_attrs(f, path)
            # What the file lacks of the schema's required entries (sentences;
            # check() below): [] for every file prh writes.
            self.schema_problems = check(f)

    # --- reading ---------------------------------------------------------------

    def _read_root(self, f, path):
        """The root attributes, /models and /configurations."""
        a = _Attrs(f, "/")
        self.format = a.text("format", None)
        if self.format != FORMAT:
            raise ValueError(f"{path}: not a prh results file (format {self.format!r}, "
                             f"expected {FORMAT!r})")
        self.prh_version = a.text("prh_version")
        self.config_hash = a.text("config_hash")
        self.config_file = a.text("config_file")
        self.store = a.text("store")
        self.device = a.text("device", "cpu")
        self.config = _json(a.text("config"))
        self.identity = _json(a.text("identity"))
        self.complete = a.num("complete", 0) == 1
        models = f[_path("/models")]
        self.models = _texts(models[()])
        self.configurations = _texts(f[_path("/configurations")][()])
        self.layer_counts = _Attrs(models, "/models").ints("layer_counts")
        self.classes = _Attrs(models, "/models").ints("classes")

    def _read_sets(self, f):
        """/alignment, /correlation and /predictions of every image set (config order)."""
        m = len(self.models)
        names = []
        for top in (_path("/alignment"), _path("/correlation"), _path("/predictions")):
            for s in (f[top].keys() if top in f else []):
                if s not in names:
                    names.append(s)
        self.sets = _ordered(names, _set_order(self.config, self.identity))
        self._set_attrs, self._alignment, self._correlation, self._predictions = {}, {}, {}, {}
        for s in self.sets:
            if _path("/alignment/{set}", set=s) in f:
                g = f[_path("/alignment/{set}", set=s)]
                a = _Attrs(g, "/alignment/{set}")
                mp = a.ints("models_present")
                self._set_attrs[s] = {"n": a.num("n", 0), "skipped": a.num("skipped", 0),
                                      "models_present": None if mp is None else mp.astype(np.uint8)}
                self._alignment[s] = {}
                for c in _ordered(list(g.keys()), self.configurations):
                    self._alignment[s][c] = self._read_alignment(g[c], c, m)
            if _path("/correlation/{set}", set=s) in f:
                self._correlation[s] = self._read_correlation(f[_path("/correlation/{set}", set=s)], m)
            if _path("/predictions/{set}", set=s) in f:
                self._predictions[s] = self._read_predictions(f[_path("/predictions/{set}", set=s)], m)

    def _read_comparisons(self, f):
        self._comparison = {}
        if _path("/comparison") in f:
            for s1 in _ordered(list(f[_path("/comparison")].keys()), self.sets):
                for s2 in _ordered(list(f[_path("/comparison/{set_a}", set_a=s1)].keys()), self.sets):
                    g = f[_path("/comparison/{set_a}/{set_b}", set_a=s1, set_b=s2)]
                    self._comparison[(s1, s2)] = self._read_comparison(g, s1)
        self.comparisons = list(self._comparison)

    def _read_calibrations(self, f):
        m = len(self.models)
        self._calibration = {}
        if _path("/calibration") in f:
            for s in _ordered(list(f[_path("/calibration")].keys()), self.sets):
                g = f[_path("/calibration/{set}", set=s)]
                self._calibration[s] = {c: self._read_calibration(g[c], m)
                                        for c in _ordered(list(g.keys()), self.configurations)
                                        if isinstance(g[c], h5py.Group)}

    def _read_model_attrs(self, f, path):
        """/models attributes family, training_data, objective (one entry per model)."""
        m = len(self.models)
        self._model_attrs = {}
        a = _Attrs(f[_path("/models")], "/models")
        for key in ("family", "training_data", "objective"):
            if a.has(key):
                v = a.list(key)
                if len(v) != m:
                    raise ValueError(f"{path}: /models attribute {key!r} has {len(v)} entries, "
                                     f"expected {m}")
                self._model_attrs[key] = [str(x) for x in v]

    @staticmethod
    def _read_groups(f):
        """/groups (docs/results.md): {"attrs": {...}, "configurations": [...],
        "sets": {set: {"factors": {factor: {name: array [K]}}, "correlations":
        {name: array [K, K]}}}}."""
        g = f[_path("/groups")]
        # every attribute the schema declares for /groups that the file has
        attrs = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in g.attrs.items()
                 if ("/groups", k) in _ENTRIES}
        a = _Attrs(g, "/groups")
        configs = _json(a.text("configurations", "[]")) or []
        factors = _json(a.text("factors", "[]")) or []
        out = {"attrs": attrs, "configurations": list(configs), "factors": list(factors), "sets": {}}
        for s in g.keys():
            d = {"factors": {}, "correlations": {}}
            gs = f[_path("/groups/{set}", set=s)]
            for name in gs.keys():
                obj = gs[name]
                if isinstance(obj, h5py.Group):  # /groups/{set}/{factor}: its declared datasets
                    d["factors"][name] = {k: obj[k][()] for k in _datasets("/groups/{set}/{factor}")
                                          if k in obj}
                    note = _Attrs(obj, "/groups/{set}/{factor}")
                    if note.has("effect_note"):  # why an effect is NaN ("" where it is not)
                        d["factors"][name]["effect_note"] = _json(note.text("effect_note"))
                else:  # /groups/{set}/{method}_across_training_data*
                    d["correlations"][name] = obj[()]
            out["sets"][s] = d
        return out

    @staticmethod
    def _read_alignment(g, name, m):
        P = "/alignment/{set}/{config}"
        at, sizes = _Attrs(g, P), {"M": m, "P": m * (m + 1) // 2}  # P: pairs i <= j
        a = {"metric": at.text("metric", name.split("@")[0]),
             "params": _json(at.text("params", "{}")),
             "symmetric": bool(at.num("symmetric", 1)),
             "preprocess": _json(at.text("preprocess")),
             "last_layer_only": bool(at.num("last_layer_only", 0)),
             "scores": _get(g, P, "scores", sizes),
             "layers": _get(g, P, "layers", sizes),
             "done": _get(g, P, "done", sizes)}
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
        P = "/correlation/{set}"
        a = _Attrs(g, P)
        configs = a.list("configurations", self.configurations)
        methods = a.list("methods") or [n for n in g.keys() if "_" not in n and n != "mean"]
        sizes = {"K": len(configs), "M": m}
        c = {"configurations": configs, "methods": methods,
             "pairs": a.num("pairs", 0), "bootstrap": a.num("bootstrap", 0),
             "confidence": a.num("confidence"), "seed": a.num("seed"),
             "mean_alignment": _get(g, P, "mean_alignment", sizes),
             # [K] share of each configuration's score variance across pairs that chance
             # explains (calibrated configurations; None when calibration is off)
             "chance_share": _get(g, P, "chance_share", sizes), "by_method": {}}
        # [K] the mean score over the model pairs and its bootstrap interval over models,
        # raw and calibrated (reduce; None in files written before they were stored)
        for name in MEAN_DATASETS:
            c[name] = _get(g, P, name, sizes)
        c["mean_seed"] = a.num("mean_seed")
        for meth in methods:
            if _name(P, "{method}", meth) not in g:
                continue
            # Optional (later stages): the correlation under the null of pairs that
            # share nothing (null_*), and the Mantel permutation p.
            c["by_method"][meth] = {key: _get(g, P, name, sizes, meth)
                                    for key, name in _CORRELATION_KEYS.items()}
        return c

    # /calibration/S/C: the [M, M] datasets (the schema's, but the [P, K] null scores)
    CALIBRATION_DATASETS = tuple(n for n, e in _datasets("/calibration/{set}/{config}").items()
                                 if e["shape"] == "[M, M]")

    @staticmethod
    def _read_calibration(g, m):
        """/calibration/S/C: the [M, M] datasets present, and every attribute."""
        c = {"attrs": {k: (_text(v) if isinstance(v, (str, bytes, np.bytes_)) else
                           (np.asarray(v).reshape(-1)[0].item() if np.asarray(v).size == 1
                            else np.asarray(v)))
                       for k, v in g.attrs.items()}}
        for name in Results.CALIBRATION_DATASETS:
            c[name] = _get(g, "/calibration/{set}/{config}", name, {"M": m})
        return c

    @staticmethod
    def _read_sweep(g, k, m):
        """/sweeps/NAME (docs/results.md, docs/sweeps.md): levels [L], the image set of each
        level [L], the curves [L, K], the breaking levels [K] and the gathered correlations
        [L, K, K]; every array but levels and sets is optional (None when absent)."""
        P = "/sweeps/{sweep}"
        if _name(P, "levels") not in g or _name(P, "sets") not in g:
            raise ValueError(f"{g.file.filename}: {g.name} lacks 'levels' or 'sets'")
        levels = np.asarray(g[_name(P, "levels")][()], np.float64).reshape(-1)
        sets = _texts(g[_name(P, "sets")][()])
        L = len(levels)
        if len(sets) != L:
            raise ValueError(f"{g.file.filename}: {g.name}: {len(sets)} sets for {L} levels")
        a = _Attrs(g, P)
        method = a.text("method", "")
        w = {"levels": levels, "sets": sets,
             "family": a.text("family", ""), "base": a.text("base", ""),
             "parameter": a.text("parameter", "level"),
             "description": a.text("description", ""),
             "alpha": a.num("alpha", None), "method": method,
             "breaking_fraction": a.num("breaking_fraction", 0.5),
             "bootstrap": a.num("bootstrap", 0), "confidence": a.num("confidence"),
             "seed": a.num("seed"),
             "relative_breaking": a.num("relative_breaking", 0.5)}
        # Every dataset the schema declares under /sweeps/NAME (levels and sets
        # above), checked against its shape; None when absent. significant_fraction
        # is a power curve (it grows with the images per level, `images`);
        # relative_calibrated (the mean calibrated score over the first level's) is
        # the effect size, with its own breaking level.
        sizes = {"L": L, "K": k, "M": m}
        for name in _SWEEP_DATASETS:
            if name not in ("levels", "sets"):
                w[name] = _get(g, P, name, sizes)
        # [K, K]: the first level not rejecting, per configuration pair
        w["correlation_breaking_levels"] = w.pop("correlation_breaking_level")
        # the gathered correlations of the sweep's method: r, r_ci_low, ...
        for name in _datasets(P):
            if name.startswith("{method}"):
                w["r" + name[len("{method}"):]] = _get(g, P, name, sizes, method) if method else None
        return w

    def _read_layers(self, f):
        """/layers attributes and /layer_profile (layer_profile on; docs/results.md)."""
        self._model_layer_counts, self._layer_profile = None, {}
        g = f.get(_path("/layers"))
        if isinstance(g, h5py.Group):
            self._model_layer_counts = _Attrs(g, "/layers").ints("layer_counts")
        P = "/layer_profile"
        p = f.get(_path(P))
        if not isinstance(p, h5py.Group) or _name(P, "depths") not in p:
            return
        depths = np.asarray(p[_name(P, "depths")][()], np.float64).reshape(-1)
        a = _Attrs(p, P)
        configs = a.list("configurations", None) or list(self.configurations)
        sizes = {"G": len(depths), "K": len(configs)}
        attrs = {"configurations": configs, "bootstrap": a.num("bootstrap", 0),
                 "confidence": a.num("confidence"), "seed": a.num("seed"),
                 "resampling": a.text("resampling", ""), "depth_rule": a.text("depth_rule", ""),
                 "estimator": a.text("estimator", ""), "reference": a.text("reference", ""),
                 "contrast": a.text("contrast", "")}
        S = "/layer_profile/{set}"
        for s in _ordered([k for k in p.keys() if isinstance(p[k], h5py.Group)], self.sets):
            d = {"depths": depths.copy(), **attrs}
            for name in _datasets(S):
                d[name] = _get(p[s], S, name, sizes)
            self._layer_profile[s] = d

    @staticmethod
    def _read_predictions(g, m):
        P = "/predictions/{set}"
        a = _Attrs(g, P)
        p = {"labelled": a.num("labelled", 0), "n": a.num("n", 0),
             # the set's label space ("" not known; absent in files before issue 23)
             "label_space": a.text("label_space", None)}
        # every dataset the schema declares (labels_match: 1 / 0 / -1, the label spaces
        # match / do not (accuracy NaN) / the model's is not known), those present
        for name in _datasets(P):
            v = _get(g, P, name, {"M": m})
            if v is not None:
                p[name] = v
        return p

    def _read_comparison(self, g, s1):
        default = (self._correlation[s1]["configurations"] if s1 in self._correlation
                   else self.configurations)
        P = "/comparison/{set_a}/{set_b}"
        a = _Attrs(g, P)
        # (no prh writes a `configurations` attribute here: the first set's correlation's)
        configs = default
        methods = a.list("methods") or [n[:-5] for n in g.keys() if n.endswith("_diff")]
        sizes = {"K": len(configs)}
        c = {"configurations": configs, "methods": methods, "bootstrap": a.num("bootstrap", 0),
             "confidence": a.num("confidence"), "seed": a.num("seed"), "by_method": {}}
        for meth in methods:
            if _name(P, "{method}_diff", meth) not in g:
                continue
            c["by_method"][meth] = {key: _get(g, P, "{method}_diff" + suffix, sizes, meth)
                                    for key, suffix in (("diff", ""), ("ci_low", "_ci_low"),
                                                        ("ci_high", "_ci_high"), ("p", "_pvalue"))}
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

    def has_alignment(self, set):
        """Whether the file holds alignment matrices (/alignment/SET) for an image set."""
        return set in self._alignment

    def has_correlation(self, set):
        """Whether the file holds correlations between configurations for an image set."""
        return set in self._correlation

    def has_predictions(self, set):
        """Whether the file holds a prediction summary (/predictions/SET) for an image set."""
        return set in self._predictions

    def alignment_info(self, set, config):
        """What a configuration's matrices are: metric, params (dict), symmetric (bool),
        preprocess (dict, the preprocessing applied to the features) and
        last_layer_only (bool: scores of the last layers, not the best layer pair)."""
        a = self._config(set, config)
        return {"metric": a["metric"], "params": a["params"], "symmetric": a["symmetric"],
                "preprocess": a["preprocess"], "last_layer_only": a["last_layer_only"]}

    def correlation_info(self, set):
        """How the correlations of an image set were computed, None when the file has none:
        configurations (K names), methods, pairs, bootstrap (resamples), confidence, seed,
        mean_alignment ([K, M]: each model's mean alignment with the others, or None),
        chance_share ([K] or None), and mean, mean_ci_low, mean_ci_high,
        calibrated_mean, calibrated_mean_ci_low, calibrated_mean_ci_high ([K]: the mean
        score over the model pairs and its percentile interval over model resamples
        drawn with mean_seed; calibrated_* NaN where not calibrated; each None in files
        that do not store them)."""
        c = self._correlation.get(set)
        if c is None:
            return None
        return {k: (v.copy() if isinstance(v, np.ndarray) else list(v) if isinstance(v, list) else v)
                for k, v in c.items() if k != "by_method"}

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
        pattern = "/calibration/{set}/{config}/null_scores" + ("_reverse" if reverse else "")
        with h5py.File(self.path, "r") as f:
            d = f.get(_path(pattern, set=set, config=config))
            if not isinstance(d, h5py.Dataset):
                return None
            return np.asarray(d[()], np.float64)

    @staticmethod
    def pair_index(m, i, j):
        """Row of pair i < j (of m models) in null_scores: row-major over i < j."""
        if not 0 <= i < j < m:
            raise ValueError(f"pair ({i}, {j}) of {m} models: need 0 <= i < j < m")
        return i * (m - 1) - i * (i - 1) // 2 + (j - i - 1)

    def model_layer_counts(self):
        """Every layer of each model (int64 [M], 0 for a model not in the store), as
        /layers records it; None when the file has no layer-by-layer scores
        (layer_profile off). `layer_counts` is the layers the headline scores used."""
        return None if self._model_layer_counts is None else self._model_layer_counts.copy()

    def layer_matrices(self, set, config):
        """The layer-by-layer scores of one image set and configuration (docs/results.md,
        /layers/S/C): float64 [M, M, Lmax, Lmax], entry [i, j, l, m] = the score of layer l
        of model i (as A) against layer m of model j (as B); NaN for layers a model does
        not have (padding), absent models and pairs not scored. Read from the file on each
        call; None when the file has none (layer_profile off)."""
        with h5py.File(self.path, "r") as f:
            d = f.get(_path("/layers/{set}/{config}", set=set, config=config))
            if not isinstance(d, h5py.Dataset):
                return None
            return np.asarray(d[()], np.float64)

    def layer_profile_sets(self):
        """The image sets with a relative-depth summary (config order; [] when none)."""
        return list(self._layer_profile)

    def layer_profile(self, set):
        """Alignment by relative depth of one image set (docs/results.md, /layer_profile):
        a dict with depths ([G], the grid (g + 1) / G), configurations ([K] names), mean,
        mean_ci_low, mean_ci_high ([G, K]: the mean same-depth score over the ordered model
        pairs i != j and its percentile bootstrap interval over model resamples), pairs
        ([G, K] int: the finite pairs), relative, relative_ci_low, relative_ci_high ([G, K]:
        mean over the reference set's mean at the same depth, paired model resamples),
        early_late, early_late_ci_low, early_late_ci_high, early_late_p ([K]: the mean at
        the first grid point minus the mean at the last, its interval and two-sided p from
        one delete-one-model jackknife), early_late_change,
        early_late_change_ci_low, early_late_change_ci_high, early_late_change_p ([K]:
        early_late minus the reference set's; None in files written before the contrast),
        reference (that set), bootstrap, confidence, seed, resampling, depth_rule,
        estimator and contrast (sentences); None when the file has none."""
        d = self._layer_profile.get(set)
        if d is None:
            return None
        return {k: (v.copy() if isinstance(v, np.ndarray) else list(v) if isinstance(v, list)
                    else v) for k, v in d.items()}

    def has_calibration(self):
        """Whether any image set has a calibrated configuration."""
        return any(self._calibration.values())

    def calibrations(self):
        """The (set, configuration) pairs with a calibration, in file order (sets in
        config order, then configurations in /configurations order)."""
        return [(s, c) for s, d in self._calibration.items() for c in d]

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

    def comparison_methods(self, set_a, set_b):
        """The correlation methods of a comparison of two image sets (r.comparisons)."""
        return list(self._comparison[(set_a, set_b)]["by_method"])

    # --- tables (pandas), as `prh export` writes them (prh.tables) ---------------

    def alignment_table(self):
        """prh.tables.alignment_table: one row per set, configuration and pair i <= j."""
        return _tables.alignment_table(self)

    def correlation_table(self):
        """prh.tables.correlation_table: configurations a < b per set and method."""
        return _tables.correlation_table(self)

    def accuracy_correlation_table(self):
        """prh.tables.accuracy_correlation_table: mean alignment vs accuracy over models."""
        return _tables.accuracy_correlation_table(self)

    def predictions_table(self):
        """prh.tables.predictions_table: accuracy and confidence per set and model."""
        return _tables.predictions_table(self)

    def calibration_table(self):
        """prh.tables.calibration_table: the calibrated pairs (as calibration.csv)."""
        return _tables.calibration_table(self)

    def agreement_table(self):
        """prh.tables.agreement_table: prediction agreement per set and pair i < j."""
        return _tables.agreement_table(self)

    def sweep_table(self):
        """prh.tables.sweep_table: one row per sweep, level and configuration."""
        return _tables.sweep_table(self)

    def comparison_table(self):
        """prh.tables.comparison_table: the comparisons of image sets."""
        return _tables.comparison_table(self)

    def layers_table(self):
        """prh.tables.layers_table: the layer-by-layer scores /layers (as layers.csv); None
        without /layers (layer_profile off)."""
        return _tables.layers_table(self)


def load(path):
    """Reads a results file; ValueError if it is not one (OSError if unreadable)."""
    return Results(path)

