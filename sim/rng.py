"""Named random streams, for common random numbers across arms of an experiment.

Every random decision of the model draws from its own named stream. A draw is a pure function of
``(run seed, stream name, week, index)`` (index: a permanent agent slot, tie or school): two runs
with the same seed that differ only in a strategy or lever share every draw the change does not
touch, and a draw never depends on how many draws an earlier process made (MODEL.md §6, as in
Starsim).

The generator is counter-based: SplitMix64 (Steele, Lea & Flood 2014, "Fast splittable
pseudorandom number generators"; the generator behind ``java.util.SplittableRandom``), whose
``i``-th output is a fixed mixing function of ``key + i * golden gamma``. So the draw for index
``i`` is computed directly, without generating the draws before it. The key of a stream's week is
the same mixing function applied to the seed, the stream's id and the week. The same function is
implemented here for numpy (vectorised, :func:`uniforms`) and in :mod:`sim.kernel` for the
compiled weekly kernel (inline, one draw at a time); both give bit-identical values
(``tests/test_kernel.py``). No maintained library offers a counter-based generator that can be
called per element from compiled code, hence these few lines.

Set-up draws (traits, networks) come from :meth:`Streams.setup`, keyed by seed and name only.
"""

from __future__ import annotations

import zlib

import numpy as np

__all__ = [
    "GOLDEN",
    "MIX1",
    "MIX2",
    "Streams",
    "stream_id",
    "stream_key",
    "stream_keys",
    "uniform_table",
    "uniforms",
]

_MASK = (1 << 64) - 1
#: SplitMix64's increment (the "golden gamma", 2^64 / phi, odd).
GOLDEN = 0x9E3779B97F4A7C15
#: SplitMix64's finaliser multipliers (Stafford's "Mix13").
MIX1 = 0xBF58476D1CE4E5B9
MIX2 = 0x94D049BB133111EB
#: 2^-53: a 64-bit output's top 53 bits, times this, is a uniform double on [0, 1).
TO_UNIT = 1.0 / (1 << 53)


def stream_id(name: str) -> int:
    """A stable integer for a stream name (Python's ``hash`` is salted per process)."""
    return zlib.crc32(name.encode("utf-8"))


def _mix(z: int) -> int:
    z = ((z ^ (z >> 30)) * MIX1) & _MASK
    z = ((z ^ (z >> 27)) * MIX2) & _MASK
    return z ^ (z >> 31)


def stream_base(seed: int, stream: int) -> int:
    """The part of :func:`stream_key` that depends only on the seed and the stream."""
    z = _mix(((int(seed) & _MASK) + 1) * GOLDEN & _MASK)
    return _mix(z ^ ((int(stream) + 1) * GOLDEN & _MASK))


def stream_key(seed: int, stream: int, week: int) -> int:
    """The 64-bit key of one week of one stream (an unsigned integer)."""
    return _week_key(stream_base(seed, stream), week)


def _week_key(base: int, week: int) -> int:
    return _mix((base + (int(week) + 1) * GOLDEN) & _MASK)


def _mix_np(z: np.ndarray) -> np.ndarray:
    z = z.copy()
    z ^= z >> np.uint64(30)
    z *= np.uint64(MIX1)
    z ^= z >> np.uint64(27)
    z *= np.uint64(MIX2)
    z ^= z >> np.uint64(31)
    return z


def stream_keys(seed: int, stream: int, weeks: np.ndarray) -> np.ndarray:
    """:func:`stream_key` for many "weeks" at once (uint64; set-up uses school indices)."""
    base = np.uint64(stream_base(seed, stream))
    z = np.asarray(weeks).astype(np.uint64) + np.uint64(1)
    z *= np.uint64(GOLDEN)
    z += base
    return _mix_np(z)


def uniform_table(keys: np.ndarray, count: int) -> np.ndarray:
    """Uniforms for indices ``0..count-1`` of each key: shape ``(len(keys), count)``."""
    z = np.arange(1, count + 1, dtype=np.uint64)[None, :] * np.uint64(GOLDEN)
    z = z + np.asarray(keys, dtype=np.uint64)[:, None]
    z = _mix_np(z)
    z >>= np.uint64(11)
    return z.astype(np.float64) * TO_UNIT


def uniforms(key: int, index: np.ndarray) -> np.ndarray:
    """Uniforms on [0, 1) for the given indices of the stream-week with this key (float64).

    ``index`` is any integer array; the value for index ``i`` is SplitMix64's output for state
    ``key + (i + 1) * GOLDEN`` (mod 2^64), top 53 bits scaled to [0, 1).
    """
    z = np.asarray(index).astype(np.uint64)
    z += np.uint64(1)
    z *= np.uint64(GOLDEN)
    z += np.uint64(key)
    z ^= z >> np.uint64(30)
    z *= np.uint64(MIX1)
    z ^= z >> np.uint64(27)
    z *= np.uint64(MIX2)
    z ^= z >> np.uint64(31)
    z >>= np.uint64(11)
    return z.astype(np.float64) * TO_UNIT


#: The compiled form of :func:`uniforms` and whether it is in use (set by :mod:`sim.kernel`).
_compiled: tuple | None = None
#: Weeks of keys :meth:`Streams.keys` computes at once (a 3-year run is 117 weeks).
KEY_BLOCK_WEEKS = 128


def use_compiled(function, in_use) -> None:
    """Register a compiled :func:`uniforms` used while ``in_use()``.

    ``function(keys, week, index)`` takes the stream's key table (:meth:`Streams.keys`).
    """
    global _compiled
    _compiled = (function, in_use)


class Streams:
    """The run's named random streams.

    Args:
        seed: The run seed.

    """

    def __init__(self, seed: int) -> None:
        self.seed = int(seed)
        self._sizes: dict[str, int] = {}
        self._tables: dict[str, np.ndarray] = {}
        self._index: dict[int, np.ndarray] = {}

    def setup(self, name: str) -> np.random.Generator:
        """A generator for set-up draws (traits, networks) that no strategy or lever touches."""
        return np.random.default_rng([self.seed, stream_id("setup:" + name)])

    def setup_table(self, name: str, units: np.ndarray, count: int) -> np.ndarray:
        """Set-up uniforms per unit (e.g. school), shape ``(len(units), count)``.

        Row ``r`` is a pure function of ``(seed, name, units[r])``, so units can be drawn in any
        grouping.
        """
        return uniform_table(self.setup_keys(name, units), count)

    def setup_keys(self, name: str, units: np.ndarray) -> np.ndarray:
        """The keys of :meth:`setup_table`'s rows: ``uniform_table(keys[rows], count)``."""
        return stream_keys(self.seed, stream_id("setup:" + name), units)

    def keys(self, name: str, week: int) -> np.ndarray:
        """The keys of stream ``name`` for weeks ``0, 1, ...`` (uint64), up to ``week`` at least.

        Computed for a block of weeks at once (``stream_keys``, the same values as
        :func:`stream_key`), so a week's key is a look-up. The compiled kernel takes the table and
        the week: a uint64 scalar would cost more to pass into it than the work it does.
        """
        table = self._tables.get(name)
        if table is None or week >= len(table):
            weeks = np.arange(max(KEY_BLOCK_WEEKS, 2 * week + 1))
            table = self._tables[name] = stream_keys(self.seed, stream_id(name), weeks)
        return table

    def key(self, name: str, week: int) -> int:
        """The counter-based generator's key for ``week`` of stream ``name``."""
        return int(self.keys(name, week)[week])

    def check_size(self, name: str, size: int) -> None:
        """A stream keeps one size for the whole run (slots and edges are permanent)."""
        known = self._sizes.setdefault(name, size)
        if known != size:
            raise ValueError(f"stream {name!r} was used with size {known}, now {size}")

    def _uniforms(self, name: str, week: int, index: np.ndarray) -> np.ndarray:
        table = self.keys(name, week)
        if _compiled is not None and _compiled[1]():  # the compiled path (the same values)
            return _compiled[0](table, week, index)
        return uniforms(int(table[week]), index)

    def uniform(self, name: str, week: int, size: int) -> np.ndarray:
        """Uniforms on [0, 1) for ``week`` of stream ``name``, one per index ``0..size-1``.

        The same ``(seed, name, week)`` always gives the same values, whatever else was drawn.
        """
        self.check_size(name, size)
        index = self._index.get(size)
        if index is None:
            index = self._index[size] = np.arange(size, dtype=np.int64)
        return self._uniforms(name, week, index)

    def uniform_at(self, name: str, week: int, size: int, index: np.ndarray) -> np.ndarray:
        """The values :meth:`uniform` gives at ``index`` only (the rest are not computed).

        ``uniform(name, week, size)[index] == uniform_at(name, week, size, index)`` exactly: the
        generator is counter-based, so drawing only what is needed changes nothing.
        """
        self.check_size(name, size)
        return self._uniforms(name, week, np.asarray(index, dtype=np.int64))
