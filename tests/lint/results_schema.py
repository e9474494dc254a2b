#!/usr/bin/env python3
"""lint.results_schema: docs/results.md and the results schema
(src/schema/results_schema.cpp, as JSON: python/prh/results_schema.json) agree.

    results_schema.py DOCS_RESULTS_MD SCHEMA_JSON
    results_schema.py DOCS_STORE_MD STORE_SCHEMA_JSON --key store --section Layout
    results_schema.py DOCS_STORE_MD STORE_SCHEMA_JSON --key prep --section "The preparation cache"
    results_schema.py DOCS_STORE_MD STORE_SCHEMA_JSON --key part --section "Job arrays: part files"

(the second to fourth: lint.store_schema, lint.prep_schema, lint.part_schema:
the embedding store's, the preparation cache's and the part files' layouts of
src/schema/store_schema.cpp, as
`prh-schema-json --store` writes them, against the tables of those sections
of docs/store.md)

- every dataset of the schema is a path of a docs table row whose type column
  names its dtype and shape ("float64 [M, M]");
- every attribute of the schema is named (`name`) in a docs row of its object;
- every dataset path in a docs table is in the schema.

Docs rows name paths as in the text: S, C, NAME, F, S1, S2 for the schema's
{set}, {config}, {sweep}, {factor}, {set_a}, {set_b}; a row lists several
datasets as `/a/b/x`, `x_ci_low` (beside x), `_ci_high` (a suffix of x's name:
appended, or replacing one of x's trailing _parts) and {a,b}_c (expanded).
Exit 1 with every disagreement listed.
"""
import itertools
import json
import re
import sys

SYMBOLS = {"{set}": "S", "{config}": "C", "{sweep}": "NAME", "{factor}": "F",
           "{set_a}": "S1", "{set_b}": "S2", "{model}": "M", "{unit}": "U"}
DTYPE_WORDS = {"float64": "float64", "float32": "float32", "int64": "int64", "int32": "int32",
               "uint8": "uint8", "string": "strings"}


def docs_name(path):
    for k, v in SYMBOLS.items():
        path = path.replace(k, v)
    return path


def braces(token):
    """{a,b}_c -> a_c, b_c; {method} stays."""
    m = re.search(r"\{([^{}]*,[^{}]*)\}", token)
    if not m:
        return [token]
    out = []
    for part in m.group(1).split(","):
        out += braces(token[:m.start()] + part.strip() + token[m.end():])
    return out


def row_paths(cell):
    """The dataset paths a path cell names (over-generating for suffixes) and,
    for an `attrs` row, the object path."""
    tokens = re.findall(r"`([^`]*)`", cell)
    if not tokens:
        return [], None
    first = tokens[0]
    if "attrs" in cell:
        return [], first
    groups = []  # one list of candidates per dataset named
    bases = []  # the last full token (several after a {a,b} expansion)
    for t in tokens:
        xs = braces(t)
        if t.startswith("/"):
            bases = xs
            groups += [[x] for x in xs]
        elif bases and t.startswith("_"):
            for base in bases:
                d, name = base.rsplit("/", 1)
                cands = [f"{d}/{name}{t}"]
                cands += [f"{d}/{name[:i]}{t}" for i, ch in enumerate(name) if ch == "_"]
                groups.append(cands)
        elif bases and re.fullmatch(r"[A-Za-z0-9_{},]+", t):
            d = bases[0].rsplit("/", 1)[0]
            groups += [[f"{d}/{x}"] for x in xs]
            bases = [f"{d}/{x}" for x in xs]
    return groups, None


def main():
    import argparse
    ap = argparse.ArgumentParser()
    ap.add_argument("docs")
    ap.add_argument("schema")
    ap.add_argument("--key", help="the schema under this key of the JSON (store, prep, part)")
    ap.add_argument("--section", help="only the tables under the '## ' heading starting so")
    args = ap.parse_args()
    docs_path = args.docs
    doc = json.load(open(args.schema))
    schema = (doc[args.key] if args.key else doc)["entries"]
    docs_name_ = docs_path.replace("\\", "/").rsplit("/", 1)[-1]
    rows = []  # (path candidate groups, attrs object, type cell, whole row)
    inside = args.section is None
    for line in open(docs_path, encoding="utf-8"):
        if args.section is not None and line.startswith("## "):
            inside = line[3:].startswith(args.section)
        if not inside or not line.startswith("| `"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        # a cell may hold an escaped | (\|): rejoin is not needed for the first two
        groups, obj = row_paths(cells[0])
        rows.append((groups, obj, cells[1] if len(cells) > 1 else "", line))
    problems = []
    datasets = {docs_name(e["path"]): e for e in schema if e["kind"] == "dataset"}
    for name, e in datasets.items():
        found = [r for r in rows if any(name in g for g in r[0])]
        if not found:
            problems.append(f"schema dataset {e['path']} is not in docs/{docs_name_}")
            continue
        want_t, want_s = DTYPE_WORDS[e["dtype"]], e["shape"]
        if not any(want_t in r[2] and want_s in r[2] for r in found):
            problems.append(f"{e['path']}: schema says {e['dtype']} {want_s}, docs/{docs_name_} says "
                            + " / ".join(repr(r[2]) for r in found))
    for e in schema:
        if e["kind"] != "attribute":
            continue
        obj = docs_name(e["path"])
        mine = [r for r in rows if r[1] == obj]
        # its attrs row, the row of the dataset itself, or a row of an object inside it
        near = [r for r in rows
                if any(g and (g[0] == obj or g[0].startswith(obj.rstrip("/") + "/")) for g in r[0])]
        tick = f"`{e['attribute']}`"
        if not any(tick in r[3] for r in mine) and not any(tick in r[3] for r in near):
            problems.append(f"schema attribute {e['attribute']!r} of {e['path']} is not in "
                            f"docs/{docs_name_}'s row '`{obj}` attrs'")
    for groups, obj, _, line in rows:
        for g in groups:
            if not any(c in datasets for c in g):
                problems.append(f"docs/{docs_name_} names {g[0]} (row {line[:60].strip()}...), "
                                "which the schema does not declare")
    for p in problems:
        print(p)
    if problems:
        print(f"lint: {len(problems)} disagreement(s) between docs/{docs_name_} and the schema "
              f"{args.key or 'results'}")
        return 1
    print(f"lint: {len(datasets)} datasets and {sum(e['kind'] == 'attribute' for e in schema)} "
          f"attributes of the {args.key or 'results'} schema agree with docs/{docs_name_}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
