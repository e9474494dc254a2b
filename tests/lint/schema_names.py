#!/usr/bin/env python3
"""lint.schema_names: the results file's names come from its schema (issue 26).

    schema_names.py SOURCE_DIR SCHEMA_JSON

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
PY_LITERAL = re.compile(r"\b(?:f|g|obj|models|gs)\[\s*f?\"|f?\"[\w/{}]+\" (?:not )?in (?:f|g|obj|gs)\b|"
                        r"\.attrs\[\s*f?\"|\b(?:f|g|obj|gs)\.get\(\s*f?\"")


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
    for p in problems:
        print("FAIL:", p)
    print(f"lint.schema_names: {len(files)} files, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
