"""Where batches of seeds run: joblib processes on this machine, or an existing Dask cluster.

Both run *tasks* (:func:`experiments.cells.run_task`: a batch of seeds for one or more cells) and
yield each task's ``(cell, seeds, tables)`` as it finishes; the caller writes each batch as it
arrives.
``map(fn, items)`` runs any picklable function over items the same way (sensitivity analysis,
calibration and scenario discovery evaluate their design points through it).
Results are identical whichever executor runs them (every run is a pure function of its
configuration and seed); ``tests/test_compare.py`` checks this (batches and ``map``) against a
real Dask scheduler and two workers on 127.0.0.1.

For Slurm clusters, Hydra's submitit launcher runs sweep cells as cluster jobs
(``python -m experiments.sweep -m hydra/launcher=submitit_slurm ...``; see README).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence

from experiments.cells import run_task
from sim.config import ConfigError

__all__ = [
    "EXECUTORS",
    "SchedulerLostError",
    "LocalExecutor",
    "DaskExecutor",
    "check_dask_address",
    "check_executor_choice",
    "make_executor",
]


class LocalExecutor:
    """Batches on local worker processes (joblib/loky); ``n_jobs=1`` runs in this process."""

    def __init__(self, n_jobs: int = 2) -> None:
        self.n_jobs = n_jobs

    def run(self, tasks: Sequence[Sequence[tuple]]) -> Iterator[list[tuple]]:
        """Run each task (:func:`experiments.cells.run_task`); yield its results as it finishes."""
        if not tasks:
            return
        if self.n_jobs == 1:
            for task in tasks:
                yield run_task(task)
            return
        from joblib import Parallel, delayed

        parallel = Parallel(n_jobs=self.n_jobs, return_as="generator_unordered")
        yield from parallel(delayed(run_task)(task) for task in tasks)

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


class SchedulerLostError(RuntimeError):
    """The cluster went away while batches were running (finished batches are kept)."""


#: Address schemes of a Dask scheduler this project connects to.
DASK_SCHEMES = ("tcp", "tls")


def check_executor_choice(name: str, address: str) -> None:
    """Refuse a scheduler address given to the local executor (it would be ignored).

    The address takes effect only with ``executor=dask``; the local executor runs on this
    machine, so an address given with it is a slip (a forgotten ``executor=dask``).
    """
    if name == "local" and address:
        raise ConfigError(
            f"executor.address = {address!r} is a setting of executor=dask; add executor=dask to "
            "run on that scheduler, or leave executor.address out to run here (executor=local)"
        )


def check_dask_address(address: str) -> tuple[str, str, int]:
    """Check a scheduler address (``tcp://host:port`` or ``tls://host:port``) without connecting."""
    from urllib.parse import urlsplit

    if not address:
        raise ConfigError("executor.address is required with executor=dask (tcp://host:port)")
    try:
        parts = urlsplit(address)
        port = parts.port
    except ValueError:
        parts, port = None, None
    if (
        parts is None
        or parts.scheme not in DASK_SCHEMES
        or not parts.hostname
        or port is None
        or not 0 < port < 65536
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
    ):
        raise ConfigError(
            f"executor.address = {address!r} is not a scheduler address; expected "
            "tcp://host:port or tls://host:port (port 1-65535)"
        )
    return parts.scheme, parts.hostname, port


def _probe_scheduler(address: str, timeout: float, security=None) -> None:
    """Connect, and ask the scheduler who it is, within ``timeout`` seconds in all.

    ``distributed`` retries a refused connection until its timeout, and then waits without limit
    for a handshake, so a listener that is not a Dask scheduler would hang the run; this probe
    bounds the whole exchange.
    """
    import asyncio
    import socket

    from distributed.comm import connect

    scheme, host, port = check_dask_address(address)
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        if isinstance(exc, TimeoutError | socket.timeout):
            reason = f"no answer within {timeout:g} s"
        raise ConfigError(
            f"executor.address = {address!r}: no Dask scheduler reachable ({reason})"
        ) from None

    async def ask() -> dict:
        kwargs = security.get_connection_args("client") if security is not None else {}
        comm = await connect(address, timeout=timeout, **kwargs)
        try:
            await comm.write({"op": "identity"})
            return await comm.read()
        finally:
            comm.abort()

    from concurrent.futures import ThreadPoolExecutor

    try:  # in a thread of its own, so this works under a running event loop too (Jupyter)
        with ThreadPoolExecutor(1) as pool:
            answer = pool.submit(asyncio.run, asyncio.wait_for(ask(), timeout)).result()
    except TimeoutError:
        raise ConfigError(
            f"executor.address = {address!r}: something listens there but no Dask scheduler "
            f"answered within {timeout:g} s (executor.timeout)"
        ) from None
    except Exception as exc:  # a protocol error from a listener that is not Dask
        raise ConfigError(
            f"executor.address = {address!r}: not a Dask scheduler ({type(exc).__name__})"
        ) from None
    if not isinstance(answer, dict) or answer.get("type") != "Scheduler":
        raise ConfigError(f"executor.address = {address!r}: the listener is not a Dask scheduler")


class DaskExecutor:
    """Batches on an existing Dask cluster (``dask scheduler`` + ``dask worker`` processes).

    Args:
        address: The scheduler's address, e.g. ``tcp://127.0.0.1:8786`` (``tls://`` with Dask's
            TLS settings in its configuration, see README).
        timeout: Seconds to wait for the scheduler to answer before giving up.

    Raises:
        ConfigError: The address is malformed, nothing answers there, or what answers is not
            a Dask scheduler (raised before any work starts, within about ``timeout`` seconds).

    """

    def __init__(self, address: str, timeout: float = 10.0) -> None:
        check_dask_address(address)
        from distributed import Client

        self.address = address
        security = None
        if address.startswith("tls://"):
            from distributed.security import Security

            security = Security()  # from Dask's configuration (distributed.comm.tls.*)
        _probe_scheduler(address, timeout, security)
        try:
            self.client = Client(address, timeout=timeout, security=security)
        except (OSError, TimeoutError) as exc:
            raise ConfigError(
                f"executor.address = {address!r}: no Dask scheduler reachable ({type(exc).__name__})"
            ) from None

    def run(self, tasks: Sequence[Sequence[tuple]]) -> Iterator[list[tuple]]:
        """Submit every task (:func:`experiments.cells.run_task`); yield each result as it ends.

        Raises:
            SchedulerLostError: The scheduler went away; the results yielded so far are kept.

        """
        from distributed import as_completed

        try:
            futures = [self.client.submit(run_task, list(task), pure=False) for task in tasks]
            for future in as_completed(futures):
                yield future.result()
        except (OSError, TimeoutError) as exc:
            raise SchedulerLostError(f"lost the Dask scheduler at {self.address}") from exc
        except Exception as exc:
            if type(exc).__name__ in ("CancelledError", "FutureCancelledError", "CommClosedError"):
                raise SchedulerLostError(f"lost the Dask scheduler at {self.address}") from exc
            raise

    def map(self, fn: Callable, items: Sequence) -> Iterator[tuple[int, object]]:
        """Submit ``fn(item)`` for every item; yield ``(index, result)`` as each finishes."""
        from distributed import as_completed

        futures = [self.client.submit(_indexed, fn, i, x, pure=False) for i, x in enumerate(items)]
        for future in as_completed(futures):
            yield future.result()

    def close(self) -> None:
        """Disconnect from the scheduler (the cluster keeps running)."""
        with contextlib.suppress(Exception):  # the scheduler may already be gone
            self.client.close(timeout=5)


EXECUTORS = ("local", "dask")


def make_executor(name: str, address: str = "", n_jobs: int = 2, timeout: float = 10.0):
    """The executor ``name`` (``local`` or ``dask``)."""
    if name == "local":
        return LocalExecutor(n_jobs)
    if name == "dask":
        return DaskExecutor(address, timeout=timeout)
    raise ConfigError(f"executor.name = {name!r} is not allowed; choose one of: local, dask")
