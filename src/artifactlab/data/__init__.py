"""Tuples, datasets and generators.

Example
-------
>>> from artifactlab.data import random_triples
>>> random_triples(V=4, N=3, seed=0).n
3
"""

from artifactlab.data.random_triples import random_triples
from artifactlab.data.tuples import TupleDataset, Vocabulary, load_tuples

__all__ = ["TupleDataset", "Vocabulary", "load_tuples", "random_triples"]
