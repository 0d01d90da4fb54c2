"""Plots and summaries, built from result files only.

Example
-------
>>> from artifactlab.report import figures
>>> callable(figures.plot_figure)
True
"""
