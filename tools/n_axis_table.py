#!/usr/bin/python3
"""The N axis (README, "Does alignment fall with N?"): per level of the sweep
`n_axis` of a results file, the mean raw score with its chance level and the
mean calibrated score of each calibrated configuration, with their stored
bootstrap intervals (/sweeps/NAME, docs/results.md).

usage: n_axis_table.py RESULTS.h5 [SWEEP]"""
import sys

import numpy as np

import prh.results


def main():
    r = prh.results.load(sys.argv[1])
    name = sys.argv[2] if len(sys.argv) > 2 else "n_axis"
    sw = r.sweeps[name]
    confs = list(r.configurations)
    for k, c in enumerate(confs):
        cells = []
        for li, n in enumerate(sw["images"]):
            cell = (f"N={n}: raw {sw['mean'][li, k]:.3f} [{sw['mean_ci_low'][li, k]:.3f}, "
                    f"{sw['mean_ci_high'][li, k]:.3f}]")
            ch = sw.get("chance_level")
            if ch is not None and np.isfinite(ch[li, k]):
                cell += f" chance {ch[li, k]:.3f}"
            if np.isfinite(sw["calibrated_mean"][li, k]):
                cell += (f" calibrated {sw['calibrated_mean'][li, k]:.3f} "
                         f"[{sw['calibrated_mean_ci_low'][li, k]:.3f}, "
                         f"{sw['calibrated_mean_ci_high'][li, k]:.3f}]")
            cells.append(cell)
        print(f"{c}: " + "; ".join(cells))


if __name__ == "__main__":
    main()
