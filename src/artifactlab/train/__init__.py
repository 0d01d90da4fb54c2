"""Training loops.

Example
-------
>>> from artifactlab.train import TrainConfig
>>> TrainConfig().mode
'last'
"""

from artifactlab.train.batched import can_batch, train_batched
from artifactlab.train.fit import FIT_STOP_REASON, fit_model
from artifactlab.train.trainer import TrainConfig, TrainResult, train

__all__ = [
    "FIT_STOP_REASON",
    "TrainConfig",
    "TrainResult",
    "can_batch",
    "fit_model",
    "train",
    "train_batched",
]
