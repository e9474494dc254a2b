"""prh's Python side (docs/python.md): read a results file and report on it.

    prh.results       the reader: load(path) -> Results (numpy; pandas for the tables)
    prh.tables        the tables of `prh export` as pandas DataFrames
    prh.summary       the text summaries (tools/prh_results.py [--brief])
    prh.permutations  prh's seeded permutations, for independent recomputation
    prh.report        the HTML report (`prh report`, tools/prh_report.py; matplotlib)

Importing prh imports none of them: `import prh.results` needs numpy and h5py
only.
"""
