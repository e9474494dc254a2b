"""Puts the prh Python package (docs/python.md) that belongs with these tools
first on sys.path: python/ of the source tree (tools/../python), or
P/lib/python3/dist-packages of the prefix they are installed in
(P/share/prh/tools/../../../lib/python3/dist-packages). When neither holds
it, `import prh` finds it on PYTHONPATH (`module load prh` sets it)."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
CANDIDATES = (os.path.join(HERE, "..", "python"),
              os.path.join(HERE, "..", "..", "..", "lib", "python3", "dist-packages"))

for _d in CANDIDATES:
    if os.path.isfile(os.path.join(_d, "prh", "__init__.py")):
        sys.path.insert(0, os.path.normpath(_d))
        break
