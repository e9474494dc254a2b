#!/usr/bin/env python3
"""lint.schema_names: the results file's names come from its schema (issue 26).

    schema_names.py SOURCE_DIR SCHEMA_JSON STORE_SCHEMA_JSON

In every C++ file of src/ that includes results_schema.hpp (the writers and
readers of results.h5):
- no HDF5 attribute call (h5::write_attr, has_attr, delete_attr, open_attr,
  read_attr_*) and no dataset or group call (create_dataset*, open_dataset,
  write_doubles, write_int64s, write_strings, create_group, open_group,
  remove, exists) takes a string literal as its name: names come from
  schema::attr / schema::child / schema::path;
- every literal name given to schema::attr(schema::kX, "name"),
  schema::child(schema::kX, "name") or schema::path("pattern" | schema::kX) is
  declared in the schema (the JSON prh-schema-json writes), so a misspelt name
  fails here and not only when the code runs.
In every C++ file of src/ that includes store_schema.hpp (the writers and
readers of store.h5, of STORE.parts and of the preparation cache, STORE_FILES
among them; src/schema aside), the same, and also:
- no HDF5 name helper (detail::json_attr, json_attr_strings, string_attr_or)
  and no UnitFile or DoneFlags call (.write, .flags, DoneFlags) takes a
  string literal as its name;
- no literal path ("/models/...") and no literal name appended to a path
  (p + "done"): names come from schema::store() / part() / prep() .path /
  .child / .attr;
- no literal that is a name the store's tables declare ("done", "view_of"),
  except as the name given to those (or to a one-line wrapper of them) or a
  JSON key;
- every literal name given to those is declared in its table (the JSON
  `prh-schema-json --store` writes).
In python/prh/results.py (the Python reader): no h5py object is indexed or
searched with a literal path or attribute name (f["..."], "..." in g,
.attrs["..."]): they come from the JSON through _path / _name / _Attrs (the
one exception, marked "# lint: the {method} symbol", reads the attributes
that give the schema's {method} symbol its values).
Exit 1 with every finding listed.
"""
import json
import pathlib
import re
import sys

ATTR_CALLS = r"write_attr|has_attr|delete_attr|open_attr|read_attr_string|read_attr_ints|read_attr_int"
OBJECT_CALLS = (r"create_dataset_filled|create_dataset|open_dataset|write_doubles|write_int64s|"
                r"write_strings|create_group|open_group|remove|exists")
# h5::CALL(first argument, "literal"  (the first argument has no top-level comma)
LITERAL_NAME = re.compile(r"\bh5::(" + ATTR_CALLS + "|" + OBJECT_CALLS +
                          r")\(\s*[^,;()]*(?:\([^()]*\))?[^,;()]*,\s*\"")
CONSTANT = re.compile(r"inline constexpr std::string_view (k\w+)\s*=\s*\"([^\"]*)\"")
SCHEMA_CALL = re.compile(r"schema::(attr|child)\(\s*schema::(k\w+)\s*,\s*\"([^\"]*)\"\s*[,)]")
PATH_CONSTANT = re.compile(r"schema::path\(\s*schema::(k\w+)")
PATH_LITERAL = re.compile(r"schema::path\(\s*\"([^\"]*)\"")
# The store's: detail:: helpers and the unit file's calls with a literal name.
STORE_LITERAL_NAME = re.compile(
    r"\bdetail::(json_attr_strings|json_attr|string_attr_or)\(\s*[^,;()]*(?:\([^()]*\))?[^,;()]*,\s*\""
    r"|(\.(?:write|flags)|DoneFlags>)\(\s*(?:[^,;()]*,\s*)?\"")
# A literal path, or a literal name appended to a path ("/" alone, a separator, is not one).
STORE_LITERAL_PATH = re.compile(r"(?<![\w\"])\"/[\w{][^\"]*\"|\+\s*\"[\w{][\w{}]*\"")
STORE_CONSTANT = re.compile(r"inline constexpr std::string_view (k(?:Store|Part|Prep)\w+)\s*=\s*\"([^\"]*)\"")
STORE_CALL = re.compile(r"schema::(store|part|prep)\(\)\.(attr|child)\(\s*schema::(k\w+)\s*,\s*\"([^\"]*)\"\s*[,)]")
STORE_PATH_CALL = re.compile(r"schema::(store|part|prep)\(\)\.path\(\s*(?:schema::(k\w+)|\"([^\"]*)\")")
# The store's writers and readers (each must include store_schema.hpp).
STORE_FILES = ("src/store/embedding_store.cpp", "src/store/embedding_reader.cpp",
               "src/store/prep_cache.cpp")
# Any literal; one that is a declared name is a finding unless it goes to the
# schema (directly, or through a file's one-line wrapper that does: attr,
# root_attr, prep_root_attr, unit_child, ds, item_dataset, set_dataset) or is a JSON key.
ANY_LITERAL = re.compile(r"\"([\w{}]+)\"")
NAME_CONTEXT = re.compile(r"(?:schema::\w+\((?:\)\.\w+\()?\s*schema::k\w+\s*,|\b(?:attr|root_attr|prep_root_attr|unit_child|ds)\(|"
                          r"\b(?:item|set)_dataset\([^;]*,|[{\[]|\.at\(|\.contains\(|\.value\()\s*$")
PY_LITERAL = re.compile(r"\b(?:f|g|obj|models|gs)\[\s*f?\"|f?\"[\w/{}]+\" (?:not )?in (?:f|g|obj|gs)\b|"
                        r"\.attrs\[\s*f?\"|\b(?:f|g|obj|gs)\.get\(\s*f?\"")


def code_only(text):
    """The text with // comments blanked (same length, so positions hold)."""
    return re.sub(r"//[^\n]*", lambda m: " " * len(m.group(0)), text)


def store_lint(root, store_schema, problems):
    """The store's writers and readers (see the module's doc); returns how many files."""
    tables = {}
    for key in ("store", "part", "prep"):
        entries = store_schema[key]["entries"]
        tables[key] = ({e["path"] for e in entries if e["kind"] != "attribute"},
                       {(e["path"], e["attribute"]) for e in entries if e["kind"] == "attribute"})
    header = (root / "src/schema/store_schema.hpp").read_text(encoding="utf-8")
    constants = dict(STORE_CONSTANT.findall(header))
    names = set()  # every declared name: attributes, and the last part of each path
    for objects, attributes in tables.values():
        names |= {p.rsplit("/", 1)[-1] for p in objects} | {a for _, a in attributes}
    names = {n for n in names if n and "{" not in n or n.startswith("svcca")}
    for name, pattern in constants.items():
        key = "part" if name.startswith("kPart") else "prep" if name.startswith("kPrep") else "store"
        if pattern not in tables[key][0]:
            problems.append(f"store_schema.hpp: {name} = {pattern!r} is not a declared {key} object")
    files = sorted(p for p in (root / "src").rglob("*.[ch]pp")
                   if p.parent.name != "schema"
                   and '#include "store_schema.hpp"' in p.read_text(encoding="utf-8"))
    for must in STORE_FILES:
        if root / must not in files:
            problems.append(f"{must} does not include store_schema.hpp: it takes its names "
                            "from the store schema")
    for path in files:
        text = code_only(path.read_text(encoding="utf-8"))
        rel = path.relative_to(root)

        def line(pos):
            return text.count("\n", 0, pos) + 1

        for rx, what in ((LITERAL_NAME, "h5::{} with a literal name"),
                         (STORE_LITERAL_NAME, "{} with a literal name")):
            for m in rx.finditer(text):
                call = next(g for g in m.groups() if g)
                problems.append(f"{rel}:{line(m.start())}: {what.format(call)} "
                                "(take it from the store schema)")
        for m in STORE_LITERAL_PATH.finditer(text):
            before = text[max(0, m.start() - 40):m.start()]
            if re.search(r"schema::\w+\(\)\.path\(\s*$", before):
                continue  # a pattern, checked below
            problems.append(f"{rel}:{line(m.start())}: a literal path or name {m.group(0)!r} "
                            "(take it from the store schema)")
        for m in ANY_LITERAL.finditer(text):
            if m.group(1) not in names:
                continue
            if NAME_CONTEXT.search(text[max(0, m.start() - 160):m.start()]):
                continue
            problems.append(f"{rel}:{line(m.start())}: the literal name {m.group(0)} "
                            "(take it from the store schema)")
        for m in STORE_CALL.finditer(text):
            key, kind, const, name = m.groups()
            objects, attributes = tables[key]
            if const not in constants and const not in ("kRoot",):
                problems.append(f"{rel}:{line(m.start())}: schema::{const} is not a store constant")
                continue
            parent = constants.get(const, "/")
            if kind == "attr":
                if (parent, name) not in attributes:
                    problems.append(f"{rel}:{line(m.start())}: no {key} attribute {name!r} of {parent}")
            elif parent.rstrip("/") + "/" + name not in objects:
                problems.append(f"{rel}:{line(m.start())}: no {key} object "
                                f"{parent.rstrip('/') + '/' + name}")
        for m in STORE_PATH_CALL.finditer(text):
            key, const, literal = m.groups()
            pattern = constants.get(const) if const else literal
            if pattern is None:
                problems.append(f"{rel}:{line(m.start())}: schema::{const} is not a store constant")
            elif pattern not in tables[key][0]:
                problems.append(f"{rel}:{line(m.start())}: no {key} object {pattern}")
    return len(files)


def main():
    root = pathlib.Path(sys.argv[1])
    schema = json.load(open(sys.argv[2], encoding="utf-8"))
    objects = {e["path"] for e in schema["entries"] if e["kind"] != "attribute"}
    attributes = {(e["path"], e["attribute"]) for e in schema["entries"]
                  if e["kind"] == "attribute"}
    header = (root / "src/schema/results_schema.hpp").read_text(encoding="utf-8")
    constants = dict(CONSTANT.findall(header))
    problems = []
    for name, pattern in constants.items():
        if pattern not in objects:
            problems.append(f"results_schema.hpp: {name} = {pattern!r} is not a declared object")
    files = sorted(p for p in (root / "src").rglob("*.cpp")
                   if '#include "results_schema.hpp"' in p.read_text(encoding="utf-8")
                   and p.parent.name != "schema")
    if not files:
        problems.append("no source file includes results_schema.hpp: the lint looks in the wrong place")
    for path in files:
        text = path.read_text(encoding="utf-8")
        rel = path.relative_to(root)

        def line(pos):
            return text.count("\n", 0, pos) + 1

        for m in LITERAL_NAME.finditer(text):
            problems.append(f"{rel}:{line(m.start())}: h5::{m.group(1)} with a literal name "
                            "(take it from schema::attr / child / path)")
        for m in SCHEMA_CALL.finditer(text):
            kind, const, name = m.groups()
            if const not in constants:
                problems.append(f"{rel}:{line(m.start())}: schema::{const} is not declared")
                continue
            parent = constants[const]
            if kind == "attr":
                if (parent, name) not in attributes:
                    problems.append(f"{rel}:{line(m.start())}: no attribute {name!r} of {parent}")
            else:
                full = (parent.rstrip("/") + "/" + name)
                if full not in objects:
                    problems.append(f"{rel}:{line(m.start())}: no object {full}")
        for m in PATH_CONSTANT.finditer(text):
            if m.group(1) not in constants:
                problems.append(f"{rel}:{line(m.start())}: schema::{m.group(1)} is not declared")
        for m in PATH_LITERAL.finditer(text):
            if m.group(1) not in objects:
                problems.append(f"{rel}:{line(m.start())}: no object {m.group(1)}")
    reader = root / "python/prh/results.py"
    text = reader.read_text(encoding="utf-8")
    for m in PY_LITERAL.finditer(text):
        end = text.find("\n", m.start())
        if text[m.start():end].rstrip().endswith("# lint: the {method} symbol"):
            continue  # the schema's convention for {method}, in one function
        problems.append(f"python/prh/results.py:{text.count(chr(10), 0, m.start()) + 1}: "
                        f"a literal h5py name {m.group(0)!r} (take it from the schema JSON)")
    store_files = store_lint(root, json.load(open(sys.argv[3], encoding="utf-8")), problems)
    for p in problems:
        print("FAIL:", p)
    print(f"lint.schema_names: {len(files)} results files, {store_files} store files, "
          f"{len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
