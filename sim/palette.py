"""Colours and marks shared by every picture of the project (report figures and the workshop page).

Chosen to survive a projector, a greyscale printout and colour-blind viewers: the stages run
from light to dark as people move towards the practice (CIE lightness about 97, 90, 80, 71, 58
and 32 for unaware to embedded; lapsed sits at 44), the hues come from the Okabe-Ito
colour-blind-safe set, and every stage also has its own marker shape on the network, so colour
is never the only cue. Resistance is a purple hue and a bar through the marker, never the red of
lapsed. The two sides of a comparison differ in line style as well as colour.
"""

from __future__ import annotations

__all__ = [
    "STAGE_COLOURS",
    "STAGE_SHAPES",
    "STAGE_LABELS",
    "RESISTANT_COLOUR",
    "SIDE_COLOURS",
    "SIDE_DASHES",
    "lightness",
]

#: One colour per stage, the same in every figure: light greys and blues before use, orange
#: while trialling, greens for adopters, a dark vermilion for those who stopped.
STAGE_COLOURS: dict[str, str] = {
    "unaware": "#f4f4f4",
    "aware": "#d3e6f5",
    "interested": "#a6cdec",
    "trialling": "#e69f00",
    "adopted": "#009e73",
    "embedded": "#00573f",
    "lapsed": "#b34700",
}

#: Marker shape of each stage on the network: circles before use, a diamond while trying it,
#: squares for adopters, a cross for those who stopped.
STAGE_SHAPES: dict[str, str] = {
    "unaware": "circle",
    "aware": "circle",
    "interested": "circle",
    "trialling": "diamond",
    "adopted": "square",
    "embedded": "square",
    "lapsed": "cross",
}

#: Plain-language names of the stages, for legends and labels.
STAGE_LABELS: dict[str, str] = {
    "unaware": "unaware",
    "aware": "aware",
    "interested": "interested",
    "trialling": "trying it out",
    "adopted": "adopted",
    "embedded": "embedded (habit)",
    "lapsed": "lapsed (stopped)",
}

#: Resistant staff: a purple (Okabe-Ito reddish purple, darkened), distinct from lapsed.
RESISTANT_COLOUR = "#7b3294"

#: Side A and side B of a comparison: blue solid and near-black dashed.
SIDE_COLOURS: tuple[str, str] = ("#0072b2", "#222222")
SIDE_DASHES: tuple[str, str] = ("", "9 5")


def lightness(colour: str) -> float:
    """CIE L* (0 black to 100 white) of a ``#rrggbb`` colour: what a greyscale copy keeps."""
    r, g, b = (int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5))

    def linear(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    y = 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b)
    return 116 * y ** (1 / 3) - 16 if y > 0.008856 else 903.3 * y
