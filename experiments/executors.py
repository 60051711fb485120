"""Where batches of seeds run: joblib processes on this machine, or an existing Dask cluster.

Both yield ``(seeds, tables)`` as batches finish; the caller writes each batch as it arrives.
``map(fn, items)`` runs any picklable function over items the same way (sensitivity analysis,
calibration and scenario discovery evaluate their design points through it).
Results are identical whichever executor runs them (every run is a pure function of its
configuration and seed); ``tests/test_executors.py`` checks this against a real Dask scheduler
and two workers on 127.0.0.1.

For Slurm clusters, Hydra's submitit launcher runs sweep cells as cluster jobs
(``python -m experiments.sweep -m hydra/launcher=submitit_slurm ...``; see README).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

from experiments.cells import run_batch
from sim.config import Config, ConfigError

__all__ = ["EXECUTORS", "LocalExecutor", "DaskExecutor", "make_executor"]


class LocalExecutor:
    """Batches on local worker processes (joblib/loky); ``n_jobs=1`` runs in this process."""

    def __init__(self, n_jobs: int = 2) -> None:
        self.n_jobs = n_jobs

    def run(
        self, arm: str, config: Config, todo: Sequence[Sequence[int]]
    ) -> Iterator[tuple[Sequence[int], dict]]:
        """Yield each batch's seeds and tables as it finishes."""
        if not todo:
            return
        if self.n_jobs == 1:
            for seeds in todo:
                yield seeds, run_batch(arm, config, seeds)
            return
        from joblib import Parallel, delayed

        parallel = Parallel(n_jobs=self.n_jobs, return_as="generator_unordered")
        tasks = (delayed(_tagged)(arm, config, seeds) for seeds in todo)
        yield from parallel(tasks)

    def map(self, fn: Callable, items: Sequence) -> Iterator[tuple[int, object]]:
        """Yield ``(index, fn(item))`` for every item, as each finishes (any picklable ``fn``)."""
        if not items:
            return
        if self.n_jobs == 1:
            for i, item in enumerate(items):
                yield i, fn(item)
            return
        from joblib import Parallel, delayed

        parallel = Parallel(n_jobs=self.n_jobs, return_as="generator_unordered")
        yield from parallel(delayed(_indexed)(fn, i, item) for i, item in enumerate(items))

    def close(self) -> None:
        """Nothing to release."""


def _indexed(fn: Callable, i: int, item: object) -> tuple[int, object]:
    return i, fn(item)


def _tagged(arm: str, config: Config, seeds: Sequence[int]):
    return seeds, run_batch(arm, config, seeds)


class DaskExecutor:
    """Batches on an existing Dask cluster (``dask scheduler`` + ``dask worker`` processes).

    Args:
        address: The scheduler's address, e.g. ``tcp://127.0.0.1:8786``.
        timeout: Seconds to wait for the scheduler before giving up.

    Raises:
        ConfigError: The scheduler cannot be reached (raised before any work starts).

    """

    def __init__(self, address: str, timeout: float = 10.0) -> None:
        if not address:
            raise ConfigError("executor.address is required with executor.name=dask")
        from distributed import Client

        try:
            self.client = Client(address, timeout=timeout)
        except (OSError, TimeoutError) as exc:
            raise ConfigError(
                f"executor.address = {address!r}: no Dask scheduler reachable ({type(exc).__name__})"
            ) from None

    def run(
        self, arm: str, config: Config, todo: Sequence[Sequence[int]]
    ) -> Iterator[tuple[Sequence[int], dict]]:
        """Submit every batch and yield each as it finishes."""
        from distributed import as_completed

        futures = [self.client.submit(_tagged, arm, config, list(s), pure=False) for s in todo]
        for future in as_completed(futures):
            yield future.result()

    def map(self, fn: Callable, items: Sequence) -> Iterator[tuple[int, object]]:
        """Submit ``fn(item)`` for every item; yield ``(index, result)`` as each finishes."""
        from distributed import as_completed

        futures = [self.client.submit(_indexed, fn, i, x, pure=False) for i, x in enumerate(items)]
        for future in as_completed(futures):
            yield future.result()

    def close(self) -> None:
        """Disconnect from the scheduler (the cluster keeps running)."""
        self.client.close()


EXECUTORS = ("local", "dask")


def make_executor(name: str, address: str = "", n_jobs: int = 2):
    """The executor ``name`` (``local`` or ``dask``)."""
    if name == "local":
        return LocalExecutor(n_jobs)
    if name == "dask":
        return DaskExecutor(address)
    raise ConfigError(f"executor.name = {name!r} is not allowed; choose one of: local, dask")
