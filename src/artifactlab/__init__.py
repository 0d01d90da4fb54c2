"""artifactlab: measure the completion artifacts of language models.

The quickstart API (:mod:`artifactlab.api`) is exported here and imported on first
use, so ``import artifactlab`` and ``artifactlab.__version__`` do not import torch.

Example
-------
>>> import artifactlab
>>> artifactlab.__version__
'0.1.0'
>>> artifactlab.fit is artifactlab.api.fit
True
"""

import importlib as _importlib

__version__ = "0.1.0"

#: public name -> module that defines it; loaded by :func:`__getattr__` on first access
_LAZY = {
    "Completion": "artifactlab.api",
    "DecodedArtifact": "artifactlab.api",
    "TrainedModel": "artifactlab.api",
    "evaluate": "artifactlab.api",
    "fit": "artifactlab.api",
    "load_tuples": "artifactlab.api",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> object:
    # only reached for names not already set; the quickstart's `fit` is not called `train`
    # because importing the subpackage artifactlab.train binds that attribute to the package
    if name in _LAZY:
        value = getattr(_importlib.import_module(_LAZY[name]), name)
        globals()[name] = value  # later accesses skip this function
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
