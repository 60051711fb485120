"""Version stamps for state that caches are derived from.

Caches in the weekly loop (a school's signal as each person perceives it, trust totals, the
readiness terms that change only with the levers) are recomputed when a version stamp of what
they are derived from changes. Every writer bumps the stamp: assigning an attribute of a
:class:`Versioned` object bumps it automatically; code that writes into an array in place (the
Mesa agent views, :mod:`sim.agents`) calls :meth:`Versioned.touch`. A cache can therefore never
hold a value derived from an older state than the one it would be computed from now.
"""

from __future__ import annotations

import itertools

__all__ = ["Versioned", "next_stamp"]

#: One counter for every stamp, so that a stamp never repeats, even across objects.
_STAMPS = itertools.count(1)


def next_stamp() -> int:
    """A version stamp never handed out before."""
    return next(_STAMPS)


class Versioned:
    """Mixin: every attribute assignment gives that attribute a new version stamp.

    Attributes named in ``unversioned`` (bookkeeping no cache derives from, such as a clock)
    are assigned without a stamp.
    """

    #: Attributes assigned without a version stamp.
    unversioned: frozenset[str] = frozenset()

    def __setattr__(self, name: str, value: object) -> None:
        object.__setattr__(self, name, value)
        if name in self.unversioned:
            return
        try:
            self.__dict__["_stamps"][name] = next(_STAMPS)
        except KeyError:
            object.__setattr__(self, "_stamps", {name: next(_STAMPS)})

    def touch(self, *names: str) -> None:
        """Mark attributes as changed after writing into them in place."""
        for name in names:
            self.__dict__["_stamps"][name] = next(_STAMPS)

    def version(self, *names: str) -> tuple[int, ...] | int:
        """The version stamp of the named attribute, or a tuple of stamps for several.

        Compare them to see if any changed (the weekly loop calls this often: keep it cheap).
        """
        stamps = self.__dict__.get("_stamps") or {}
        if len(names) == 1:
            return stamps.get(names[0], 0)
        return tuple([stamps.get(name, 0) for name in names])
