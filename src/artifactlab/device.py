"""Where models train and evaluate: the CPU (the default), a CUDA GPU, or whichever there is.

A device is named ``cpu``, ``cuda`` (or ``cuda:N``) or ``auto`` (a CUDA GPU when one is
visible, else the CPU). :func:`resolve_device` turns a name into a ``torch.device`` and
refuses a GPU that is not there with an :class:`~artifactlab.errors.InputError`: asking
for ``cuda`` never falls back to the CPU silently. The process-wide default follows the
thread policy of :mod:`artifactlab.threads`: the CLI's global ``--device`` (checked once,
before any command runs) is written to ``ARTIFACTLAB_DEVICE``, which
:func:`default_device` reads, so worker processes started by a sweep inherit it; without
either, models stay on the CPU.

Models are built on the CPU (their seeded initialisation does not depend on the device)
and then moved by :func:`place`; the code that evaluates them makes its tensors on the
model's device and moves results to the CPU before turning them into numpy arrays.

Importing this module imports no torch; every function that needs it imports it inside.

Example
-------
>>> resolve_device("cpu")
device(type='cpu')
>>> device_name(None, env={})
'cpu'
>>> device_name(None, env={"ARTIFACTLAB_DEVICE": " Auto "})
'auto'
>>> device_name("gpu")
Traceback (most recent call last):
artifactlab.errors.InputError: --device: unknown device 'gpu' (choose cpu, cuda, cuda:N or auto)
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from artifactlab.errors import InputError

if TYPE_CHECKING:
    import torch

#: environment variable holding the process-wide default device name
ENV_VAR = "ARTIFACTLAB_DEVICE"
#: the device unless told otherwise
DEFAULT_DEVICE = "cpu"
#: the names ``--device`` takes (``cuda:N`` picks one of several GPUs)
CHOICES = ("cpu", "cuda", "auto")
_NAME = re.compile(r"cpu|auto|cuda(:\d+)?")
NO_GPU = "cuda was asked for but no CUDA GPU is visible (torch.cuda.is_available() is False)"


def device_name(
    name: str | None = None, env: Mapping[str, str] | None = None, where: str = "--device"
) -> str:
    """The checked device name: ``name``, else ``ARTIFACTLAB_DEVICE``, else ``cpu``.

    Checks the spelling only (imports no torch): whether a GPU is there is
    :func:`resolve_device`'s question.

    Parameters
    ----------
    name : str, optional
        An explicit name (the CLI's ``--device``).
    env : mapping, optional
        Environment to read ``ARTIFACTLAB_DEVICE`` from (default ``os.environ``).
    where : str
        What to blame for a bad explicit name.

    Returns
    -------
    str
        ``cpu``, ``auto``, ``cuda`` or ``cuda:N``, lower case.

    Raises
    ------
    InputError
        An unknown name (the environment variable is named when it holds it).
    """
    if name is None:
        env = os.environ if env is None else env
        value = env.get(ENV_VAR, "").strip()
        name, where = (value, ENV_VAR) if value else (DEFAULT_DEVICE, where)
    text = str(name).strip().lower()
    if not _NAME.fullmatch(text):
        raise InputError(
            where, f"unknown device {str(name).strip()!r}", "choose cpu, cuda, cuda:N or auto"
        )
    return text


def resolve_device(name: str, where: str = "--device") -> torch.device:
    """The ``torch.device`` called ``name``: ``cpu``, ``cuda`` / ``cuda:N``, or ``auto``.

    Parameters
    ----------
    name : str
        ``cpu``; ``cuda`` or ``cuda:N`` (refused when no such GPU is visible); ``auto``:
        ``cuda`` when a CUDA GPU is visible, else ``cpu``.
    where : str
        What to blame in an error (the CLI option or the environment variable).

    Returns
    -------
    torch.device

    Raises
    ------
    InputError
        An unknown name, or a CUDA device that this process cannot see.
    """
    import torch

    text = device_name(name, where=where)
    if text == "cpu":
        return torch.device("cpu")
    available = torch.cuda.is_available()
    if text == "auto":
        return torch.device("cuda" if available else "cpu")
    if not available:
        raise InputError(where, NO_GPU, "use --device cpu or auto")
    index = int(text.partition(":")[2] or 0)
    count = torch.cuda.device_count()
    if index >= count:
        raise InputError(
            where,
            f"{text} was asked for but only {count} CUDA GPU(s) are visible",
            f"use cuda:0 .. cuda:{count - 1}, cuda, or auto",
        )
    return torch.device(text)


def default_device() -> torch.device:
    """The process-wide device: ``ARTIFACTLAB_DEVICE`` resolved, else the CPU."""
    return resolve_device(device_name(None), where=ENV_VAR)


def as_device(device: str | torch.device | None) -> torch.device:
    """``device`` as a ``torch.device``: a name is resolved, None is :func:`default_device`."""
    import torch

    if device is None:
        return default_device()
    if isinstance(device, torch.device):
        return device
    return resolve_device(device)


def place(model: Any, device: str | torch.device | None = None) -> Any:
    """Move ``model`` (in place) to ``device``, default :func:`default_device`; returns it."""
    return model.to(as_device(device))


def module_device(module: Any) -> torch.device:
    """The device of a module's first parameter or buffer (the CPU when it has neither)."""
    import torch

    for tensor in (*module.parameters(), *module.buffers()):
        return tensor.device
    return torch.device("cpu")


def set_device_environment(name: str | None = None) -> str:
    """Check the CLI's ``--device`` up front and record it in ``ARTIFACTLAB_DEVICE``.

    ``cpu`` (the default) imports nothing. ``cuda`` is refused here, before any command
    runs, when no GPU is visible; ``auto`` is resolved here, so this process and the
    workers it starts agree on one device.

    Parameters
    ----------
    name : str, optional
        The ``--device`` value; default ``ARTIFACTLAB_DEVICE``, else ``cpu``.

    Returns
    -------
    str
        The name recorded: ``cpu``, ``cuda`` or ``cuda:N`` (never ``auto``).

    Raises
    ------
    InputError
        An unknown name, or a CUDA device that is not visible.
    """
    where = "--device" if name is not None else ENV_VAR
    text = device_name(name)
    if text != "cpu":
        text = str(resolve_device(text, where=where))
    os.environ[ENV_VAR] = text
    return text
