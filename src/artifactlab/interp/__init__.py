"""The interpolation lab: 1-D fits, convex-hull membership, double descent.

See ``docs/glossary.md#interpolation-lab``.

Example
-------
>>> from artifactlab.interp.io import read_numeric_csv
>>> callable(read_numeric_csv)
True
"""
