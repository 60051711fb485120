"""Named random streams, for common random numbers across arms of an experiment.

Every random decision of the model draws from its own named stream. A draw is a pure function of
``(run seed, stream name, week, index)``: the stream for a week is a block of uniforms, one per
permanent agent slot (or edge, or school), drawn whether or not that slot needs it. So two runs with
the same seed that differ only in a strategy or lever share every draw the change does not touch,
and a draw never depends on how many draws an earlier process made (MODEL.md §6, as in Starsim).

For speed, a term's worth of weeks (:data:`BLOCK_WEEKS`) is generated at once from
``numpy.random.default_rng([seed, stream_id, block])``; that is still a pure function of the key
(the block length is part of the stream's definition, so it is a constant, not a setting).
Set-up draws (traits, networks) come from :meth:`Streams.setup`, keyed by seed and name only.
"""

from __future__ import annotations

import zlib

import numpy as np

__all__ = ["BLOCK_WEEKS", "Streams", "stream_id"]

#: Weeks of draws generated at once per stream (one 13-week term).
BLOCK_WEEKS = 13


def stream_id(name: str) -> int:
    """A stable integer for a stream name (Python's ``hash`` is salted per process)."""
    return zlib.crc32(name.encode("utf-8"))


class Streams:
    """The run's named random streams.

    Args:
        seed: The run seed.

    """

    def __init__(self, seed: int) -> None:
        self.seed = int(seed)
        self._blocks: dict[str, tuple[int, np.ndarray]] = {}
        self._sizes: dict[str, int] = {}

    def setup(self, name: str) -> np.random.Generator:
        """A generator for set-up draws (traits, networks) that no strategy or lever touches."""
        return np.random.default_rng([self.seed, stream_id("setup:" + name)])

    def uniform(self, name: str, week: int, size: int) -> np.ndarray:
        """Uniforms on [0, 1) for ``week`` of stream ``name``, one per index ``0..size-1``.

        The same ``(seed, name, week)`` always gives the same values, whatever else was drawn.
        A stream keeps one size for the whole run (slots and edges are permanent).
        """
        known = self._sizes.setdefault(name, size)
        if known != size:
            raise ValueError(f"stream {name!r} was used with size {known}, now {size}")
        block, offset = divmod(week, BLOCK_WEEKS)
        cached = self._blocks.get(name)
        if cached is None or cached[0] != block:
            gen = np.random.default_rng([self.seed, stream_id(name), block])
            cached = (block, gen.random((BLOCK_WEEKS, size)))
            self._blocks[name] = cached
        return cached[1][offset]
