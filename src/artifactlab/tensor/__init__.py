"""Pure tensor maths: data tensors, completion tensors, artifacts.

Example
-------
>>> import numpy as np
>>> from artifactlab.tensor import DataTensor
>>> DataTensor.from_tuples(np.array([[0, 1, 1]]), V=2).nnz
1
"""

from artifactlab.tensor.data_tensor import DataTensor, encode

__all__ = ["DataTensor", "encode"]
