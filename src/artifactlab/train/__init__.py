"""Training loops.

Example
-------
>>> from artifactlab.train import TrainConfig
>>> TrainConfig().mode
'last'
"""

from artifactlab.train.batched import can_batch, train_batched
from artifactlab.train.trainer import TrainConfig, TrainResult, train

__all__ = ["TrainConfig", "TrainResult", "can_batch", "train", "train_batched"]
