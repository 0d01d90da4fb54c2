"""The Ray backend: each batch is a Ray task; the driver writes every result to the store.

Ray is an optional extra (``pip install "artifactlab[ray]"``). Without ``--address`` a
local Ray instance with ``workers`` CPUs is started for the sweep and stopped after
it; with an address the sweep joins that cluster, whose nodes need artifactlab
installed. A worker that dies fails its own batch only; the next run retries it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from artifactlab.errors import InputError

if TYPE_CHECKING:
    from artifactlab.experiments.executors import Unit


def _ray() -> Any:
    try:
        import ray
    except ImportError:
        raise InputError(
            "--backend ray",
            "Ray is not installed",
            'install it with pip install "artifactlab[ray]", or use --backend processes',
        ) from None
    return ray


def run_on_ray(
    units: list[Unit], workers: int, address: str | None, stop: Callable[[], bool]
) -> Iterator[tuple[str, int, list[dict] | None]]:
    """Run batches as Ray tasks, at most ``workers`` in flight; same events as the runner's."""
    from artifactlab.experiments.executors import bounded, execute_unit

    ray = _ray()

    started_here = not ray.is_initialized()
    if started_here:
        _init(ray, workers, address)
    # a worker that dies must fail its own batch, not be retried behind the driver's back
    task = ray.remote(num_cpus=1, max_retries=0)(execute_unit)
    in_flight: dict[Any, int] = {}

    def finished(refs: list[Any]) -> list[tuple[Any, list[dict]]]:
        ready, _ = ray.wait(refs, num_returns=1)
        return [(ref, _get(ray, ref, len(units[in_flight[ref]].configs))) for ref in ready]

    def submit(i: int) -> Any:
        return task.remote(units[i].kind, units[i].configs)

    try:
        yield from bounded(len(units), workers, stop, submit, finished, in_flight)
    finally:
        for ref in in_flight:  # stopped early (--fail-fast, Ctrl-C): cancel what still runs
            ray.cancel(ref, force=True)
        if started_here:
            ray.shutdown()


def _init(ray: Any, workers: int, address: str | None) -> None:
    try:
        if address:
            ray.init(address=address, log_to_driver=False)
        else:
            ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False)
    except (ConnectionError, ValueError, RuntimeError) as err:
        where = f"--address {address}" if address else "--backend ray"
        raise InputError(
            where, f"could not start or reach Ray: {err}", "check the address"
        ) from None


def _get(ray: Any, ref: Any, n: int) -> list[dict]:
    try:
        return ray.get(ref)
    except ray.exceptions.RayError as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        return [{"ok": False, "error": f"Ray task failed: {first}"}] * n
