"""Training loops.

Example
-------
>>> from artifactlab.train import TrainConfig
>>> TrainConfig().mode
'last'
"""

from artifactlab.train.trainer import TrainConfig, TrainResult, train

__all__ = ["TrainConfig", "TrainResult", "train"]
