"""Number and name formatting of the report (no numpy arrays, no drawing)."""
import html
import math
import re

import numpy as np

FIGURE_FORMATS = ("svg", "png", "pdf")
CMAP = "cividis"  # perceptually uniform, monotonic in lightness: readable in greyscale


def num(x):
    """A number as table text that reads back exactly (repr of the double)."""
    if x is None:
        return "NaN"
    if isinstance(x, (bool, np.bool_)):
        return "1" if x else "0"
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    x = float(x)
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return repr(x)


def fmt(x, d=2):
    """A number for titles and captions (rounded; tables hold the exact value)."""
    if x is None or not np.isfinite(x):
        return "n/a"
    return f"{x:.{d}f}"


def fmt_p(p):
    if p is None or not np.isfinite(p):
        return "n/a"
    return f"{p:.2g}" if p >= 1e-3 else f"{p:.1e}"


def short(c):
    """mutual_knn@k=10 -> mutual_knn@10 (for axis labels)."""
    return re.sub(r"@k=(\d+)$", r"@\1", c).replace("@kernel=linear", "")


def slug(c):
    return re.sub(r"[^A-Za-z0-9]+", "_", c).strip("_")


def esc(x):
    return html.escape(str(x), quote=True)
