"""A second device for machines without a GPU: CPU tensors that say they live elsewhere.

Code meant for a GPU goes wrong on a CPU-only machine in ways no CPU test sees: a tensor
made on the CPU and combined with one on the device, an index on the wrong side, a
``.numpy()`` of a device tensor. This helper makes those mistakes fail here. Inside
:func:`emulated_device`, ``torch.device("meta")`` is an *emulated device*:

- a tensor moved there (``.to("meta")``, a module's ``.to``) or made there (a factory
  function, ``torch.tensor`` included, given ``device="meta"``, or a ``*_like`` of such a
  tensor) is an
  :class:`OnDevice`: its ``.device`` is ``meta``, but it holds a real CPU tensor, so
  every operation computes real numbers with the CPU kernels (results can be compared
  with a CPU run, bit for bit);
- an operation that mixes it with a CPU tensor of one or more dimensions raises, as
  CUDA does ("Expected all tensors to be on the same device"), except the cases CUDA
  allows: CPU index tensors for advanced indexing, and copies between devices;
- ``.numpy()`` of it raises (torch refuses a non-CPU tensor), ``.cpu()`` copies it back,
  ``.tolist()`` and ``.item()`` read it (through the CPU, as on CUDA).

What it does not emulate: CUDA's kernels, numerics, streams, memory, or operations that
exist on the CPU only. The mode is per thread, so code must run on the calling thread.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten, tree_map

#: the emulated device (a real device type whose tensors hold no data of their own)
DEVICE = torch.device("meta")
aten = torch.ops.aten
#: operations that may take CPU tensors beside device ones: copies, and the indices of
#: advanced indexing (CUDA accepts CPU index tensors there)
_CROSS_DEVICE = {aten.copy_.default, aten._to_copy.default, aten.lift_fresh.default}
_INDEXING = {
    aten.index.Tensor,
    aten.index_put.default,
    aten.index_put_.default,
    aten._index_put_impl_.default,
}


class DeviceMixError(RuntimeError):
    """An operation combined an emulated-device tensor with a CPU tensor."""


class OnDevice(torch.Tensor):
    """A tensor on the emulated device: the metadata of a device tensor, a CPU tensor inside."""

    elem: torch.Tensor

    @staticmethod
    def __new__(cls, elem: torch.Tensor) -> OnDevice:
        with torch.inference_mode(False):  # a wrapper is never an inference tensor: views of
            return cls._wrap(elem)  # parameters made under inference_mode stay consistent

    @classmethod
    def _wrap(cls, elem: torch.Tensor) -> OnDevice:
        r = torch.Tensor._make_wrapper_subclass(
            cls,
            elem.size(),
            strides=elem.stride(),
            storage_offset=elem.storage_offset(),
            dtype=elem.dtype,
            layout=elem.layout,
            device=DEVICE,
            requires_grad=False,
        )
        r.elem = elem
        return r

    def __repr__(self) -> str:  # the default repr computes on the tensor
        return f"OnDevice({self.elem!r})"

    def tolist(self) -> Any:
        """As on CUDA: a copy to the CPU, then its list (torch refuses subclasses)."""
        return self.cpu().tolist()

    @classmethod
    def __torch_dispatch__(cls, func, types, args=(), kwargs=None):  # noqa: ANN001, ANN206
        return _run(func, args, kwargs or {})


class _Mode(TorchDispatchMode):
    def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # noqa: ANN001, ANN206
        return _run(func, args, kwargs or {})


def _is_emulated(device: Any) -> bool:
    return device is not None and torch.device(device).type == DEVICE.type


def _check(func: Any, args: tuple, kwargs: dict) -> None:
    """Raise DeviceMixError where CUDA would refuse the mix of devices."""
    if func in _CROSS_DEVICE:
        return
    exempt: list[Any] = []
    if func in _INDEXING:  # CPU index tensors are allowed next to a device tensor
        exempt = tree_flatten(args[1])[0]
    for x in tree_flatten((args, kwargs))[0]:
        if not isinstance(x, torch.Tensor) or isinstance(x, OnDevice):
            continue
        if x.device.type == DEVICE.type:
            raise DeviceMixError(f"{func}: a real meta tensor (no data) reached the emulation")
        if x.dim() > 0 and not any(x is e for e in exempt):
            raise DeviceMixError(
                f"{func}: a CPU tensor of shape {tuple(x.shape)} is combined with a tensor on "
                "the device (CUDA: Expected all tensors to be on the same device)"
            )


def _run(func: Any, args: tuple, kwargs: dict) -> Any:
    flat = tree_flatten((args, kwargs))[0]
    on_device = any(isinstance(x, OnDevice) for x in flat)
    target = kwargs.get("device")
    if on_device:
        _check(func, args, kwargs)
    if _is_emulated(target):
        kwargs = {**kwargs, "device": torch.device("cpu")}
    unwrapped_args, unwrapped_kwargs = tree_map(
        lambda x: x.elem if isinstance(x, OnDevice) else x, (args, kwargs)
    )
    out = func(*unwrapped_args, **unwrapped_kwargs)
    if target is not None:
        wrap = _is_emulated(target)
    else:
        wrap = on_device
    schema = func._schema
    written = {}  # alias set -> the argument an in-place or out= op returns
    for arg, value in zip(schema.arguments, args, strict=False):
        if arg.alias_info is not None and arg.alias_info.is_write:
            written[frozenset(arg.alias_info.before_set)] = value
    for arg in schema.arguments[len(args) :]:
        if arg.alias_info is not None and arg.alias_info.is_write and arg.name in kwargs:
            written[frozenset(arg.alias_info.before_set)] = kwargs[arg.name]
    returns = schema.returns
    if not returns:
        return out
    if len(returns) == 1:
        info = returns[0].alias_info
        if info is not None and info.is_write and frozenset(info.before_set) in written:
            return written[frozenset(info.before_set)]
        return tree_map(lambda t: OnDevice(t) if wrap and isinstance(t, torch.Tensor) else t, out)
    results = []
    for ret, value in zip(returns, out, strict=True):
        info = ret.alias_info
        if info is not None and info.is_write and frozenset(info.before_set) in written:
            results.append(written[frozenset(info.before_set)])
        else:
            results.append(OnDevice(value) if wrap and isinstance(value, torch.Tensor) else value)
    return tuple(results)


def _from_data(make: Any) -> Any:
    """``torch.tensor`` / ``torch.as_tensor`` that put data on the emulated device.

    They copy Python data to a device without the dispatcher seeing a ``device=``
    argument, so the mode alone would let a real (empty) meta tensor through.
    """

    def factory(data: Any, *args: Any, device: Any = None, **kwargs: Any) -> torch.Tensor:
        if _is_emulated(device):
            return make(data, *args, **kwargs).to(DEVICE)
        return make(data, *args, device=device, **kwargs)

    return factory


@contextlib.contextmanager
def emulated_device() -> Iterator[torch.device]:
    """Inside: ``torch.device("meta")`` is the emulated device (see the module docstring)."""
    tensor, as_tensor = torch.tensor, torch.as_tensor
    torch.tensor, torch.as_tensor = _from_data(tensor), _from_data(as_tensor)
    try:
        with _Mode():
            yield DEVICE
    finally:
        torch.tensor, torch.as_tensor = tensor, as_tensor


def on_device(t: Any) -> bool:
    """Whether ``t`` is a tensor on the emulated device."""
    return isinstance(t, OnDevice)
