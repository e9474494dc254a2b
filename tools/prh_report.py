#!/usr/bin/python3
"""prh report: a results file (docs/results.md) as an offline HTML report.

    prh report RESULTS [--out DIR]                   # the C++ CLI runs this script
    /usr/bin/python3 tools/prh_report.py RESULTS [--out DIR] [--pair A,B]
        [--config C]... [--method spearman] [--alpha 0.05]

The report is the package prh.report (docs/python.md; its command line:
prh/report/cli.py), imported from python/ of the source tree or from the
prefix this script is installed in (tools/_prh_path.py).

Exit status: 0 written; 2 bad input (missing file, not a results file, an
unknown configuration) or a missing Python package, with one line on stderr.
"""
import sys

import _prh_path  # noqa: F401  (puts the prh package first on sys.path)

try:
    from prh.report.cli import main  # noqa: E402
except ImportError as e:  # no prh package beside this script nor on PYTHONPATH
    if getattr(e, "name", None) != "prh":
        raise
    print(f"prh report: error: cannot import the prh Python package ({e}): run this script "
          f"from a prh source tree or install (cmake --install), or set PYTHONPATH", file=sys.stderr)
    sys.exit(2)

if __name__ == "__main__":
    sys.exit(main(sys.argv))
