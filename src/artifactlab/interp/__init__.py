"""The interpolation lab (SPEC section 9): 1-D fits, convex-hull membership, double descent.

Example
-------
>>> from artifactlab.interp.io import read_numeric_csv
>>> callable(read_numeric_csv)
True
"""
