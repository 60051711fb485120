"""``none``: no particular mode; practice counts once, collaboration is as configured."""

from __future__ import annotations

from sim.modes.base import Mode
from sim.registry import register

__all__ = ["NoMode"]


@register
class NoMode(Mode):
    """Neither champions nor learning conversations."""

    name = "none"
