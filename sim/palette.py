"""Colours shared by every picture of the project (report figures and the workshop page)."""

from __future__ import annotations

__all__ = ["STAGE_COLOURS"]

#: One colour per stage, the same in every figure: greys and blues before use, orange while
#: trialling, greens for adopters, red for those who stopped.
STAGE_COLOURS: dict[str, str] = {
    "unaware": "#d9d9d9",
    "aware": "#c6dbef",
    "interested": "#6baed6",
    "trialling": "#fdae6b",
    "adopted": "#74c476",
    "embedded": "#1b7837",
    "lapsed": "#d7301f",
}
