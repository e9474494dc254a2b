#!/usr/bin/python3
"""Writes a prh config whose models are imported feature files.

    /usr/bin/python3 tools/features_config.py FOLDER [--store out/feats/store.h5] > feats.yaml

FOLDER holds NAME_SET.h5 (dataset /feats), NAME_SET.npy or NAME_SET.pt
(torch.save({"feats": tensor[N, L, D]})) files: model NAME's features of
image set SET, rows in the set's image order (docs/config.md, "Imported
features"). Image sets are written as placeholders: fill in their sources.
"""
import argparse
import collections
import os
import re

ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
ap.add_argument("folder")
ap.add_argument("--store", default="out/feats/store.h5")
ap.add_argument("--dataset", default="/feats", help="the dataset inside .h5 files")
args = ap.parse_args()

models = collections.defaultdict(dict)  # name -> set -> spec
for f in sorted(os.listdir(args.folder)):
    m = re.fullmatch(r"(.+)_([A-Za-z0-9.-]+)\.(h5|npy|pt)", f)
    if not m:
        continue
    path = os.path.join(args.folder, f)
    models[m[1]][m[2]] = path + (":" + args.dataset if m[3] == "h5" else "")
sets = sorted({s for files in models.values() for s in files})

print(f"store: {args.store}")
print("image_sets:")
for s in sets:
    print(f"  - name: {s}\n    source: {{kind: folder, root: FILL/ME/{s}}}   # the images, in the files' row order")
print("models:")
for name, files in sorted(models.items()):
    print(f"  - name: {name}\n    features:")
    for s, spec in sorted(files.items()):
        print(f"      {s}: {spec}")
