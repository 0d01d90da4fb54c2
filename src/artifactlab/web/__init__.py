"""Pages a researcher looks at: the HTML report, the tensor explorer, the interpolation explorer.

Every page is one self-contained HTML file built from saved results (it never retrains):
its data is embedded as JSON and its JavaScript (plotly.js and the project's own scripts
in ``assets/``) is inlined, so it opens offline in any browser.
"""
