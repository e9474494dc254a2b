"""The HTML report of a results file (`prh report`, tools/prh_report.py;
docs/python.md), split by concern:

    prh.report.cli       the command line: arguments, checks, main(argv)
    prh.report.context   what the report is about: the file, the chosen
                         configurations, the models' order and groups (no drawing)
    prh.report.stats     the stored means in the report's form (numpy only)
    prh.report.figures   the matplotlib figures (one draw_* function per figure)
    prh.report.captions  the figures' captions (HTML text)
    prh.report.page      HTML: figure and table blocks, the methods, the page
    prh.report.sections  each section: its numbers, its figure, its caption
    prh.report.format    number and name formatting shared by all of them

Importing prh.report imports none of them; prh.report.figures needs
matplotlib (it selects the Agg backend).
"""
