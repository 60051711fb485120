"""``listed``: the staff named in ``selection.participants`` (used by experiments.whom_to_send)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.params import param
from sim.registry import register
from sim.selection.base import SelectionPolicy

__all__ = ["Listed"]


@dataclass
class ListedParams:
    """Parameters of ``listed`` (in the ``selection`` section)."""

    participants: list[str] = param(
        [],
        source="[your choice; experiments.whom_to_send]",
        help="with policy listed: staff ids to send (at most per_school per school)",
    )


@register
class Listed(SelectionPolicy):
    """The staff named in ``selection.participants``, at most ``per_school`` a school.

    Ids are an imported network's (sim.network_import); the policy needs one.
    """

    name = "listed"
    Params = ListedParams

    @classmethod
    def select(cls, config, schools, staff, ties, streams) -> np.ndarray:
        """The participant mask."""
        from sim.network_import import listed_participants

        return listed_participants(config, schools, staff)
