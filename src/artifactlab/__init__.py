"""artifactlab: measure the completion artifacts of language models.

Example
-------
>>> from artifactlab.data import random_triples
>>> ds = random_triples(V=16, N=20, seed=0)
>>> ds.tuples.shape
(20, 3)
"""

__version__ = "0.1.0"
