#!/usr/bin/python3
"""A short summary of a prh results file (docs/results.md):

    /usr/bin/python3 tools/prh_results.py [--brief] RESULTS.h5

The reader itself is the package prh.results (docs/python.md):

    import prh.results
    r = prh.results.load("out/default/results.h5")

This script imports it from python/ of the source tree or from the prefix it
is installed in (tools/_prh_path.py); the names below are re-exported for
scripts that import this file as a module.
"""
import sys

import _prh_path  # noqa: F401  (puts the prh package first on sys.path)

try:
    from prh.results import FORMAT, Results, family_from_name, load  # noqa: F401,E402
    from prh.summary import brief, main, summary, sweep_brief  # noqa: F401,E402
except ImportError as e:
    if __name__ != "__main__" or getattr(e, "name", None) != "prh":
        raise
    print(f"prh_results: cannot import the prh Python package ({e}): run this script from a prh "
          f"source tree or install (cmake --install), or set PYTHONPATH", file=sys.stderr)
    sys.exit(2)
__all__ = ["FORMAT", "Results", "family_from_name", "load", "brief", "main", "summary", "sweep_brief"]

if __name__ == "__main__":
    sys.exit(main(sys.argv))
