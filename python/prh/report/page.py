"""The report's HTML: figure and table blocks, provenance phrases, the methods
and the page. No drawing, no statistics."""
import json
import os

from prh.report.format import CMAP, FIGURE_FORMATS, esc, num


class Page:
    """The sections of a report page, in order: (id, title, html)."""

    def __init__(self):
        self.sections = []

    def section(self, sid, title, body):
        self.sections.append((sid, title, body))


def figure_html(name, title, caption):
    links = " · ".join(f'<a href="figures/{name}.{e}">{e.upper()}</a>' for e in FIGURE_FORMATS)
    return (f'<figure id="fig-{name}" data-figure="{name}">\n'
            f'<figcaption class="title">{esc(title)}</figcaption>\n'
            f'<img src="figures/{name}.svg" alt="{esc(title)}">\n'
            f'<figcaption class="method">{caption} <span class="links">{links}</span></figcaption>\n'
            f'</figure>\n')


def table_html(name, caption, columns, rows, open_=False):
    """rows: lists of cells; a cell is text (a label) or a dict
    {'v': number, 'h5': path, 'idx': (i, j)} / {'v': number, 'derived': what, ...}."""
    out = [f'<details class="numbers"{" open" if open_ else ""}><summary>{esc(caption)} '
           f'({len(rows)} rows)</summary>',
           f'<table class="numbers" data-table="{esc(name)}"><thead><tr>'
           + "".join(f"<th>{esc(c)}</th>" for c in columns) + "</tr></thead><tbody>"]
    for row in rows:
        cells = []
        for cell in row:
            if isinstance(cell, dict):
                attrs = ""
                for k, v in cell.items():
                    if k == "v":
                        continue
                    if k == "idx":
                        v = ",".join(str(int(i)) for i in v)
                    attrs += f' data-{k}="{esc(v)}"'
                cells.append(f'<td class="n"{attrs}>{num(cell["v"])}</td>')
            else:
                cells.append(f"<td>{esc(cell)}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</tbody></table></details>\n")
    return "\n".join(out)


def provenance(ctx, sets, permutations=None):
    r = ctx.r
    ns = ", ".join(f"{s}: {ctx.n_images(s)}" for s in sets)
    c = ctx.corr_info(sets[0]) if sets else {}
    parts = [f"N images per set ({ns})", f"M = {ctx.m} models",
             f"{ctx.m * (ctx.m - 1) // 2} model pairs i &lt; j"]
    if c:
        parts.append(f"bootstrap: {c.get('bootstrap', 0)} resamples of the models, "
                     f"confidence {c.get('confidence')}, seed {c.get('seed')}")
    if permutations:
        parts.append(permutations)
    parts.append(f"config hash {esc(r.config_hash)}, prh {esc(r.prh_version)}")
    return "; ".join(parts) + "."


def calib_attrs(ctx, s=None, c=None):
    """A phrase on the calibration's parameters, from its attributes."""
    seen = []
    for ss, cc in ctx.r.calibrations():
        if (s is not None and ss != s) or (c is not None and cc != c):
            continue
        a = ctx.r.calibration(ss, cc)["attrs"]
        text = ", ".join(f"{k} = {esc(v)}" for k, v in sorted(a.items()))
        if text and text not in seen:
            seen.append(text)
    return ("calibration: " + "; ".join(seen)) if seen else None


def _methods_inputs(ctx):
    """The file, its image sets and its models, as list items."""
    r = ctx.r
    out = []
    out.append(f"<li>Results file <code>{esc(r.path)}</code> ({esc(r.format)}), written by prh "
               f"{esc(r.prh_version)} from config <code>{esc(r.config_file)}</code> (hash "
               f"<code>{esc(r.config_hash)}</code>), store <code>{esc(r.store)}</code>; "
               f"{'complete' if r.complete else '<b>incomplete</b>'}.</li>")
    sets = []
    for s in r.sets:
        info = r.set_info(s) if r.has_alignment(s) else {}
        p = r.predictions(s) if r.has_predictions(s) else {}
        sets.append(f"{esc(s)}: N = {info.get('n', '?')} images ({info.get('skipped', 0)} skipped"
                    + (f", {p.get('labelled')} labelled" if p else "") + ")")
    out.append(f"<li>{len(r.sets)} image sets: " + "; ".join(sets) + ".</li>")
    lc = "" if r.layer_counts is None else " (layers: " + ", ".join(
        f"{esc(n)} {int(c)}" for n, c in zip(r.models, r.layer_counts)) + ")"
    out.append(f"<li>M = {ctx.m} models{lc}; {ctx.m * (ctx.m - 1) // 2} model pairs. Groups: "
               f"family from {esc(ctx.groups['family_source'])}, training data "
               f"{esc(ctx.groups['training_source'])}.</li>")
    return out


def _methods_configurations(r):
    """The metric configurations and their preprocessing, as list items."""
    out = []
    cs = []
    first = next((s for s in r.sets if r.has_alignment(s)), None)
    for c in r.configurations:
        if first and c in r.configurations_of(first):
            meta = r.alignment_info(first, c)
            cs.append(f"{esc(c)} ({esc(meta['metric'])}"
                      + ("" if meta["symmetric"] else ", asymmetric") + ")")
        else:
            cs.append(esc(c))
    out.append(f"<li>{len(r.configurations)} metric configurations: " + ", ".join(cs) + ".")
    if first and r.configurations_of(first):
        a0 = r.alignment_info(first, r.configurations_of(first)[0])
        out.append(f" Preprocessing {esc(json.dumps(a0.get('preprocess')))}; "
                   + ("last layers only." if a0.get("last_layer_only") else
                      "each score the maximum over layer pairs.") + "</li>")
    return out


def methods_html(ctx):
    """The Methods section: what the file holds and how each number was computed."""
    r = ctx.r
    out = ["<ul>"] + _methods_inputs(ctx)
    out += _methods_configurations(r)
    c = ctx.corr_info(ctx.sets[0]) if ctx.sets else {}
    if c:
        out.append(f"<li>Correlations between configurations ({esc(', '.join(c.get('methods', [])))}) "
                   f"over the upper triangle of the alignment matrices (model pairs i &lt; j, both "
                   f"finite); p-values asymptotic (exact permutation for at most 8 pairs); "
                   f"{c.get('confidence')} percentile bootstrap intervals resampling models "
                   f"({c.get('bootstrap')} resamples, seed {c.get('seed')}), because the pairs share "
                   f"models and are not independent.</li>")
    cal = calib_attrs(ctx)
    if cal:
        out.append(f"<li>Calibrated alignment: a permutation null per pair (one model's rows "
                   f"shuffled), threshold tau the ceil((1 - alpha)(K + 1))-th order statistic of the "
                   f"null scores with the observed one, p = (1 + #{{null &ge; observed}}) / (K + 1), "
                   f"calibrated = clamp((observed - tau) / (1 - tau), 0, 1), Benjamini-Hochberg "
                   f"across pairs; {cal}.</li>")
    if r.comparisons:
        out.append("<li>Comparisons of image sets: " + ", ".join(f"{esc(a)} - {esc(b)}"
                   for a, b in r.comparisons) + " (paired bootstrap over models; in prh export's "
                   "comparison table).</li>")
    out.append("<li>Report: matplotlib figures (SVG shown, PNG and PDF linked), colour map "
               f"{CMAP}; chosen pair {esc(ctx.pair[0])} vs {esc(ctx.pair[1])}; main configurations "
               f"{esc(', '.join(ctx.main))}; significance level {ctx.alpha}. Numbers in the tables "
               "are the results file's, printed exactly (repr of the double), except cells marked "
               "as computed by the report: the mean alignment of files that do not store it "
               "(/correlation/S/mean*), shown without an interval.</li>")
    out.append("</ul>")
    out.append(f"<details><summary>The sweep config (JSON, from the results file)</summary><pre>"
               f"{esc(json.dumps(r.config, indent=1))}</pre></details>")
    return "\n".join(out)


def absent_html(ctx):
    r = ctx.r
    missing = r.missing()
    out = ""
    if missing:
        out += ("<div class='incomplete'><h2>This results file is incomplete</h2><p>What is "
                "missing (figures show it as grey or leave it out):</p><ul>"
                + "".join(f"<li>{esc(x)}</li>" for x in missing) + "</ul></div>\n")
    notes = []
    if not r.has_calibration():
        notes.append("calibration (/calibration): no calibrated scores or significant pairs")
    if not any(d.get("null_mean") is not None or d.get("mantel_p") is not None
               for s in r.sets for d in (r.correlation(s, meth) for meth in r.correlation_methods(s))):
        notes.append("correlation nulls and Mantel p-values (/correlation/S/METHOD_null_*, "
                     "METHOD_mantel_p)")
    if not r.sweeps:
        notes.append("sweeps (/sweeps): no sweep figures")
    if ctx.groups["training_data"] is None:
        notes.append("the models' training data")
    if notes:
        out += ("<p class='absent'>Not in this results file, so not shown: "
                + "; ".join(esc(n) for n in notes) + ".</p>\n")
    return out


def render(ctx, page):
    """The page: title, what is absent, the table of contents and the sections."""
    r = ctx.r
    toc = "".join(f'<li><a href="#{sid}">{esc(t)}</a></li>' for sid, t, _ in page.sections)
    body = "".join(f'<section id="{sid}"><h2>{esc(t)}</h2>\n{b}</section>\n'
                   for sid, t, b in page.sections)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>prh report: {esc(os.path.basename(r.path))}</title>
<style>
body {{ font-family: "DejaVu Sans", Helvetica, Arial, sans-serif; color: #111; margin: 0 auto;
       max-width: 1200px; padding: 1em 1.5em; line-height: 1.45; font-size: 15px; }}
h1 {{ font-size: 1.5em; margin-bottom: 0.2em; }} h2 {{ font-size: 1.2em; border-bottom: 1px solid #ccc; }}
code {{ font-size: 0.92em; }}
figure {{ margin: 1.2em 0; break-inside: avoid; page-break-inside: avoid; }}
figure img {{ display: block; max-width: 100%; height: auto; margin: 0.4em 0; }}
figcaption.title {{ font-weight: bold; }}
figcaption.method {{ font-size: 0.88em; color: #333; }}
.links a {{ margin: 0 0.2em; }}
details.numbers {{ margin: 0.4em 0 1.4em 0; }}
details summary {{ cursor: pointer; color: #1f3b73; }}
table.numbers {{ border-collapse: collapse; font-size: 12px; margin-top: 0.4em; }}
table.numbers th, table.numbers td {{ border: 1px solid #ddd; padding: 1px 6px; text-align: left; }}
table.numbers td.n {{ text-align: right; font-variant-numeric: tabular-nums; font-family: "DejaVu Sans Mono", monospace; }}
.incomplete {{ border: 2px solid #a33; padding: 0.3em 1em; background: #fff4f4; }}
.absent {{ color: #555; font-style: italic; }}
pre {{ font-size: 11px; white-space: pre-wrap; }}
@media print {{ body {{ max-width: none; font-size: 11pt; }} nav, details {{ display: none; }}
  section {{ break-before: auto; }} figure img {{ max-width: 100%; }} }}
</style></head>
<body>
<h1>prh report: {esc(os.path.basename(r.path))}</h1>
<p>{ctx.m} models, {len(r.sets)} image sets ({esc(', '.join(r.sets))}), {len(r.configurations)} metric
configurations. prh {esc(r.prh_version)}, config hash <code>{esc(r.config_hash)}</code>.</p>
{absent_html(ctx)}
<nav><ul>{toc}</ul></nav>
{body}
</body></html>
"""


def write_index(ctx, page):
    """Writes OUT/index.html (through a temporary file) and returns its path."""
    path = os.path.join(ctx.out, "index.html")
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(render(ctx, page))
    os.replace(tmp, path)
    return path
