"""What a report is about: the results file, the chosen configurations and
settings, and the models' display order and groups. No drawing, no HTML."""
import os

import numpy as np


class ReportContext:
    """The inputs every section reads.

    r (prh.results.Results), out and figdir (the report folder and its
    figures/), pair (the two configurations of the scatter), main (the main
    configurations), method (the correlation method shown), alpha, m (models),
    groups (r.model_groups()), order (models grouped by training data, then
    family), group_of (each model's group label), sets (the image sets that are
    not levels of a sweep; all of them when every set is)."""

    def __init__(self, r, out, pair, main, method, alpha):
        self.r, self.out, self.pair, self.main, self.method, self.alpha = r, out, pair, main, method, alpha
        self.figdir = os.path.join(out, "figures")
        self.m = len(r.models)
        g = r.model_groups()
        self.groups = g
        key = [(g["training_data"][i] if g["training_data"] else "", g["family"][i]) for i in range(self.m)]
        first, first_t = {}, {}
        for i, k in enumerate(key):
            first.setdefault(k, i)
            first_t.setdefault(k[0], i)
        # Models grouped by training data, then family (groups in order of first appearance).
        self.order = sorted(range(self.m), key=lambda i: (first_t[key[i][0]], first[key[i]], i))
        self.group_of = [" / ".join(x for x in key[i] if x) for i in range(self.m)]
        sweep_sets = {s for sw in r.sweeps.values() for s in sw["sets"]}
        self.sets = [s for s in r.sets if s not in sweep_sets] or list(r.sets)

    def corr_info(self, s):
        """The correlation settings of a set (bootstrap, confidence, seed, methods); {} when none."""
        return self.r.correlation_info(s) or {}

    def n_images(self, s):
        return int(self.r.set_info(s)["n"]) if self.r.has_alignment(s) else None

    def models_present(self, s):
        mp = self.r.set_info(s).get("models_present") if self.r.has_alignment(s) else None
        return self.m if mp is None else int(np.sum(mp == 1))

    def group_bounds(self):
        """Where one group ends and the next begins; none when every model is a
        group of its own (the names say it all)."""
        g = [self.group_of[i] for i in self.order]
        if len(set(g)) == len(g):
            return []
        return [n for n in range(1, self.m) if g[n] != g[n - 1]]
