"""The workshop page's pictures as SVG text: the staff network, the curves, the stages.

Drawing is cheap string work in Python; the browser draws and scales the result. The network's
ties and school names are drawn once per run (:func:`network_static`); each week only the staff
markers change (:func:`network_nodes`). Every style is an attribute (no stylesheet), so a picture
renders the same on the page and when the browser turns it into a PNG for the debrief.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

import numpy as np

from sim.model import KnowledgeMobilisationModel
from sim.palette import (
    RESISTANT_COLOUR,
    SIDE_COLOURS,
    SIDE_DASHES,
    STAGE_COLOURS,
    STAGE_LABELS,
    STAGE_SHAPES,
)
from sim.population import STAGE_NAMES, Role
from sim.processes.calendar import WEEKS_PER_TERM, WEEKS_PER_YEAR
from sim.workshop.session import Event
from sim.workshop.words import EVENT_NAMES

__all__ = [
    "FONT",
    "Series",
    "layout",
    "network_static",
    "network_nodes",
    "network_viewbox",
    "legend_svg",
    "line_chart",
    "stages_chart",
    "nice_top",
]

FONT = "DejaVu Sans, Helvetica, Arial, sans-serif"
UNIT = 100.0  # SVG units per layout unit
NODE_R = 11.0
SPACING = 2.3  # layout units between school centres


def _columns(n_schools: int) -> int:
    """Schools per row: a grid wider than tall, to sit beside the curves."""
    return max(1, math.ceil(math.sqrt(1.6 * n_schools)))


def layout(model: KnowledgeMobilisationModel) -> np.ndarray:
    """Node positions (SVG units): schools on a grid, each school's staff on a circle."""
    sch = model.schools
    cols = _columns(sch.n)
    pos = np.zeros((model.staff.n, 2))
    for s in range(sch.n):
        cx, cy = (s % cols) * SPACING, (s // cols) * SPACING
        n = int(sch.size[s])
        angle = 2 * math.pi * np.arange(n) / n - math.pi / 2
        radius = 0.45 + 0.11 * math.sqrt(n)
        lo = int(sch.first_slot[s])
        pos[lo : lo + n, 0] = cx + radius * np.cos(angle)
        pos[lo : lo + n, 1] = cy + radius * np.sin(angle)
    return pos * UNIT


def network_viewbox(model: KnowledgeMobilisationModel) -> str:
    """The network picture's viewBox (fits every school and its label)."""
    cols = _columns(model.schools.n)
    rows = math.ceil(model.schools.n / cols)
    pad = 1.15 * UNIT
    width = (cols - 1) * SPACING * UNIT + 2 * pad
    height = (rows - 1) * SPACING * UNIT + 2 * pad + 0.25 * UNIT
    return f"{-pad:.0f} {-pad:.0f} {width:.0f} {height:.0f}"


def network_static(model: KnowledgeMobilisationModel, pos: np.ndarray) -> str:
    """What does not change during a run: advice ties and school names (SVG elements)."""
    ties = model.ties
    a, b = pos[ties.seeker], pos[ties.adviser]
    path = "".join(
        f"M{x0:.0f} {y0:.0f}L{x1:.0f} {y1:.0f}"
        for (x0, y0), (x1, y1) in zip(a.tolist(), b.tolist(), strict=True)
    )
    out = [f'<path d="{path}" stroke="#b0b0b0" stroke-width="1.2" fill="none"/>']
    sch = model.schools
    cols = _columns(sch.n)
    for s in range(sch.n):
        cx, cy = (s % cols) * SPACING * UNIT, (s // cols) * SPACING * UNIT
        r = (0.45 + 0.11 * math.sqrt(int(sch.size[s]))) * UNIT
        out.append(
            f'<text x="{cx:.0f}" y="{cy + r + 38:.0f}" text-anchor="middle" font-size="26" '
            f'font-family="{FONT}" fill="#222">School {s + 1}</text>'
        )
    return "".join(out)


def _shape(kind: str, x: float, y: float, r: float, attrs: str) -> str:
    if kind == "circle":
        return f'<circle cx="{x:.0f}" cy="{y:.0f}" r="{r:.1f}" {attrs}/>'
    if kind == "square":
        s = r * 0.9
        return f'<rect x="{x - s:.1f}" y="{y - s:.1f}" width="{2 * s:.1f}" height="{2 * s:.1f}" {attrs}/>'
    if kind == "diamond":
        s = r * 1.25
        return (
            f'<polygon points="{x:.1f},{y - s:.1f} {x + s:.1f},{y:.1f} {x:.1f},{y + s:.1f} '
            f'{x - s:.1f},{y:.1f}" {attrs}/>'
        )
    # cross: an X made of one polygon
    s, t = r * 1.1, r * 0.42
    pts = [
        (0, -t), (s - t, -s), (s, -s + t), (t, 0), (s, s - t), (s - t, s),
        (0, t), (-s + t, s), (-s, s - t), (-t, 0), (-s, -s + t), (-s + t, -s),
    ]  # fmt: skip
    text = " ".join(f"{x + px:.1f},{y + py:.1f}" for px, py in pts)
    return f'<polygon points="{text}" {attrs}/>'


def _marker(
    stage: str,
    x: float,
    y: float,
    *,
    leader: bool = False,
    former: bool = False,
    participant: bool = False,
    resistant: bool = False,
    scale: float = 1.0,
) -> str:
    r = NODE_R * scale * (1.35 if leader else 1.0)
    edge, width = ("#000", 4.0) if participant else ("#555", 1.5)
    attrs = f'fill="{STAGE_COLOURS[stage]}" stroke="{edge}" stroke-width="{width * scale:.1f}"'
    out = [_shape(STAGE_SHAPES[stage], x, y, r, attrs)]
    if former:
        out.append(f'<circle cx="{x:.0f}" cy="{y:.0f}" r="{3.2 * scale:.1f}" fill="#000"/>')
    if resistant:
        d = r * 1.15
        out.append(
            f'<line x1="{x - d:.1f}" y1="{y + d:.1f}" x2="{x + d:.1f}" y2="{y - d:.1f}" '
            f'stroke="{RESISTANT_COLOUR}" stroke-width="{5 * scale:.1f}" stroke-linecap="round"/>'
        )
    return "".join(out)


def network_nodes(model: KnowledgeMobilisationModel, pos: np.ndarray) -> str:
    """Every staff member's marker this week: stage by colour and shape, role by size and marks.

    Senior leaders are larger, opinion formers have a black dot, those sent to the PLN a thick
    black outline, resistant staff a purple bar.
    """
    staff = model.staff
    leader = staff.role == Role.SENIOR_LEADER
    out = []
    for i, (x, y) in enumerate(pos.tolist()):
        out.append(
            _marker(
                STAGE_NAMES[staff.stage[i]],
                x,
                y,
                leader=bool(leader[i]),
                former=bool(staff.opinion_former[i]),
                participant=bool(staff.participant[i]),
                resistant=bool(staff.resistant[i]),
            )
        )
    return "".join(out)


def legend_svg(columns: int = 4) -> str:
    """The network legend: stages (colour and shape) and the marks for roles and resistance."""
    items = [(name, dict(), STAGE_LABELS[name]) for name in STAGE_NAMES]
    items += [
        ("aware", {"leader": True}, "senior leader (larger)"),
        ("aware", {"former": True}, "opinion former (dot)"),
        ("aware", {"participant": True}, "sent to the PLN (outline)"),
        ("aware", {"resistant": True}, "resisting (purple bar)"),
    ]
    col_w, row_h = 340, 40
    rows = math.ceil(len(items) / columns)
    out = []
    for k, (stage, marks, label) in enumerate(items):
        x, y = (k % columns) * col_w + 20, (k // columns) * row_h + 22
        out.append(_marker(stage, x, y, **marks))
        out.append(
            f'<text x="{x + 24}" y="{y + 8}" font-size="22" font-family="{FONT}" '
            f'fill="#222">{escape(label)}</text>'
        )
    width, height = columns * col_w, rows * row_h + 4
    return _svg(width, height, "".join(out), "Legend of the network")


def _svg(width: float, height: float, body: str, title: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0f} {height:.0f}" '
        f'width="{width:.0f}" height="{height:.0f}" role="img" aria-label="{escape(title)}">'
        f'<rect x="0" y="0" width="{width:.0f}" height="{height:.0f}" fill="#fff"/>'
        f"{body}</svg>"
    )


def nice_top(value: float, floor: float = 10.0) -> float:
    """A round top for a y-axis that shows ``value`` with a little headroom (at least ``floor``)."""
    value = max(value * 1.1, floor)
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if step * magnitude >= value:
            return step * magnitude
    return 10 * magnitude


def _ticks(top: float) -> list[float]:
    for n in (5, 4, 6, 3):
        step = top / n
        if abs(step - round(step, 1)) < 1e-9 and step > 0:
            return [step * i for i in range(n + 1)]
    return [0.0, top / 2, top]


@dataclass(frozen=True)
class Series:
    """One side's line on a chart.

    Attributes:
        values: One value per week so far (week 1 first).
        label: The side's name.
        side: 0 for A, 1 for B (colour and dash).
        events: Events to mark on the line.
        band: Optional (low, middle, high) per week over many seeds.

    """

    values: np.ndarray
    label: str
    side: int = 0
    events: tuple[Event, ...] = ()
    band: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None


def line_chart(
    series: Sequence[Series],
    horizon: int,
    title: str,
    y_label: str,
    *,
    percent: bool = False,
    floor: float = 10.0,
    width: int = 1000,
    height: int = 460,
    shade_gap: bool = False,
    mark_events: bool = False,
    big: float = 1.0,
) -> str:
    """A chart of one measure over the weeks, one line per side, y-axis fitted to the data.

    With ``mark_events`` each side's events are lettered on its line (see
    :data:`sim.workshop.words.EVENT_NAMES`); going out of sight is ticked along the bottom.
    A band over many seeds, if given, is drawn behind each line.

    The sides are named in a legend between the title and the plot, never on the plot: a name
    at the end of a line sat on the curve and on its event letters. The legend's rows are
    added to ``height``, so the plot keeps its size.
    """
    left, right, bottom = 96 * big, 24, 84 * big
    pw = width - left - right
    legend, legend_height = _line_legend(series, left, 46 * big, pw, big)
    top_m = max(58 * big, 46 * big + legend_height)
    height = height + top_m - 58 * big
    ph = height - top_m - bottom
    peak = 0.0
    for s in series:
        if len(s.values):
            peak = max(peak, float(np.max(s.values)))
        if s.band is not None:
            peak = max(peak, float(np.max(s.band[2])))
    y_top = nice_top(peak, floor if not percent else min(floor, 100.0))
    if percent:
        y_top = min(y_top, 100.0)

    def px(week: float) -> float:
        return left + pw * week / max(horizon, 1)

    def py(value: float) -> float:
        return top_m + ph * (1 - value / y_top)

    out = [
        f'<text x="{left}" y="{36 * big:.0f}" font-size="{28 * big:.0f}" font-weight="bold" font-family="{FONT}" '
        f'fill="#111">{escape(title)}</text>'
    ]
    # grid, y ticks and labels
    for t in _ticks(y_top):
        y = py(t)
        out.append(
            f'<line x1="{left}" x2="{left + pw}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e3e3e3"/>'
        )
        label = f"{t:.0f}%" if percent else f"{t:,.0f}"
        out.append(
            f'<text x="{left - 10}" y="{y + 8:.1f}" text-anchor="end" font-size="{22 * big:.0f}" '
            f'font-family="{FONT}" fill="#333">{label}</text>'
        )
    # terms and years
    for w in range(WEEKS_PER_TERM, horizon, WEEKS_PER_TERM):
        major = w % WEEKS_PER_YEAR == 0
        out.append(
            f'<line x1="{px(w):.1f}" x2="{px(w):.1f}" y1="{top_m}" y2="{top_m + ph}" '
            f'stroke="{"#888" if major else "#e3e3e3"}" stroke-width="{2 if major else 1}"/>'
        )
    for y in range(math.ceil(horizon / WEEKS_PER_YEAR)):
        mid = px(min((y + 0.5) * WEEKS_PER_YEAR, horizon))
        out.append(
            f'<text x="{mid:.1f}" y="{top_m + ph + 30 * big:.0f}" text-anchor="middle" font-size="{22 * big:.0f}" '
            f'font-family="{FONT}" fill="#333">Year {y + 1}</text>'
        )
    out.append(
        f'<text x="{left + pw / 2:.1f}" y="{height - 12 * big:.0f}" text-anchor="middle" font-size="{20 * big:.0f}" '
        f'font-family="{FONT}" fill="#555">{escape(y_label)} · teaching weeks, three terms a '
        f"year</text>"
    )
    out.append(
        f'<rect x="{left}" y="{top_m}" width="{pw}" height="{ph}" fill="none" stroke="#777"/>'
    )

    def points(values: np.ndarray, start: int = 1) -> list[tuple[float, float]]:
        return [(px(start + i), py(float(v))) for i, v in enumerate(values)]

    def poly(pts: list[tuple[float, float]]) -> str:
        return " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)

    for s in series:
        if s.band is not None:
            low, mid, high = s.band
            pts = points(high) + points(low)[::-1]
            colour = SIDE_COLOURS[s.side]
            out.append(f'<polygon points="{poly(pts)}" fill="{colour}" fill-opacity="0.16"/>')
            out.append(
                f'<polyline points="{poly(points(mid))}" fill="none" stroke="{colour}" '
                f'stroke-width="2" stroke-dasharray="2 5" stroke-opacity="0.8"/>'
            )
    if shade_gap and len(series) == 2 and len(series[0].values) and len(series[1].values):
        n = min(len(series[0].values), len(series[1].values))
        pts = points(series[0].values[:n]) + points(series[1].values[:n])[::-1]
        out.append(f'<polygon points="{poly(pts)}" fill="#9e9e9e" fill-opacity="0.28"/>')
    for s in series:
        if not len(s.values):
            continue
        dash = f' stroke-dasharray="{SIDE_DASHES[s.side]}"' if SIDE_DASHES[s.side] else ""
        out.append(
            f'<polyline points="{poly(points(s.values))}" fill="none" '
            f'stroke="{SIDE_COLOURS[s.side]}" stroke-width="4"{dash}/>'
        )
    if mark_events:
        out.extend(_event_marks(series, px, py, top_m + ph, big, top_m))
    out.extend(legend)
    return _svg(width, height, "".join(out), title)


@functools.cache
def _text_width(text: str, font_size: float, bold: bool = True) -> float:
    """The width of ``text`` in DejaVu Sans, the first of :data:`FONT` (SVG units).

    SVG has no text flow to ask, so widths are measured with matplotlib's copy of the font;
    the fallbacks (Helvetica, Arial) are narrower, so the space kept is enough for them too.
    """
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextToPath

    font = FontProperties(family="DejaVu Sans", weight="bold" if bold else "normal", size=font_size)
    width, _, _ = TextToPath().get_text_width_height_descent(text, font, ismath=False)
    return float(width)


def _line_legend(
    series: Sequence[Series], left: float, top: float, width: float, big: float
) -> tuple[list[str], float]:
    """Each side's line style and name, left to right in rows above the plot.

    Returns the SVG elements and the height they take (0 when no side has a name). A row
    wraps before a name that would run past ``width``; the plot starts 12 units below the
    last row.
    """
    named = [s for s in series if s.label]
    if not named:
        return [], 0.0
    font, swatch, gap, row_height = 22 * big, 40 * big, 36 * big, 32 * big
    out: list[str] = []
    x, row = left, 0
    for s in named:
        item = swatch + 8 * big + _text_width(s.label, font)
        if x > left and x + item > left + width:
            x, row = left, row + 1
        y = top + row * row_height + row_height / 2
        colour = SIDE_COLOURS[s.side]
        dash = f' stroke-dasharray="{SIDE_DASHES[s.side]}"' if SIDE_DASHES[s.side] else ""
        out.append(
            f'<line class="legend-line" x1="{x:.1f}" x2="{x + swatch:.1f}" y1="{y:.1f}" '
            f'y2="{y:.1f}" stroke="{colour}" stroke-width="4"{dash}/>'
        )
        out.append(
            f'<text class="legend-label" x="{x + swatch + 8 * big:.1f}" y="{y + 0.36 * font:.1f}" '
            f'font-size="{font:.0f}" font-weight="bold" font-family="{FONT}" '
            f'fill="{colour}">{escape(s.label)}</text>'
        )
        x += item + gap
    return out, (row + 1) * row_height + 12 * big


def _event_marks(
    series: Sequence[Series], px, py, baseline: float, big: float, ceiling: float
) -> list[str]:
    """Each side's event letters, placed clear of every line and of each other.

    A mark's letters go just above the highest line around its week (or, where the plot has no
    room there, just below the lowest; failing both, a label's width to one side), in the first
    slot whose box meets no other mark and no tick (:func:`_free_slot`); a stem joins them to
    the point on its own line. Going out of sight is ticked along the bottom.
    """
    out: list[str] = []
    font = 22 * big
    left, right = px(0), px(max((len(s.values) for s in series), default=0))
    curves = [
        np.array([(px(i + 1), py(float(v))) for i, v in enumerate(s.values)])
        for s in series
        if len(s.values)
    ]
    placed: list[tuple[float, float, float, float]] = []  # x0, y0, x1, y1 of each label
    marks: list[tuple[int, int, list[str]]] = []
    for s in series:
        colour = SIDE_COLOURS[s.side]
        by_week: dict[int, list[str]] = {}
        for ev in s.events:
            if ev.kind == "out_of_sight":
                x = px(ev.week)
                y0 = baseline - (6 if s.side == 0 else 18)
                out.append(
                    f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{y0:.1f}" y2="{y0 - 10:.1f}" '
                    f'stroke="{colour}" stroke-width="3"/>'
                )
                placed.append((x - 3, y0 - 12, x + 3, y0 + 2))  # no letters on the ticks
                continue
            letters = by_week.setdefault(ev.week, [])
            if ev.mark not in letters:
                letters.append(ev.mark)
        marks += [(week, s.side, letters) for week, letters in by_week.items()]
    values = {s.side: s.values for s in series}
    for week, side, letters in sorted(marks, key=lambda m: (m[0], m[1])):
        if week > len(values[side]) or week < 1:
            continue
        text = "".join(letters)
        x, y = px(week), py(float(values[side][week - 1]))
        half = _text_width(text, font) / 2 + 4 * big
        height = font + 4 * big
        cx, bottom = _free_slot(
            x, half, height, curves, placed, (left, right, ceiling, baseline - 30 * big), big
        )
        placed.append((cx - half, bottom - height, cx + half, bottom))
        edge = bottom if bottom <= y else bottom - height
        colour = SIDE_COLOURS[side]
        out.append(
            f'<line x1="{x:.1f}" x2="{cx:.1f}" y1="{y:.1f}" y2="{edge:.1f}" '
            f'stroke="{colour}" stroke-width="2"/>'
        )
        out.append(
            f'<text x="{cx:.1f}" y="{bottom - 4 * big:.1f}" text-anchor="middle" '
            f'font-size="{font:.0f}" font-weight="bold" font-family="{FONT}" '
            f'fill="{"#b30000" if "D" in letters else colour}" '
            f'stroke="#fff" stroke-width="5" paint-order="stroke">{text}</text>'
        )
    return out


def _free_slot(
    x: float,
    half: float,
    height: float,
    curves: Sequence[np.ndarray],
    placed: list[tuple[float, float, float, float]],
    bounds: tuple[float, float, float, float],
    big: float,
) -> tuple[float, float]:
    """Where a label ``2 half`` wide and ``height`` tall goes: its centre x and bottom y.

    Tried in order: straight above the lines around ``x`` (nearest first, going up), straight
    below them (going down), then the same a label's width to the right or left, and so on
    across the plot, so that a crowded stretch sends a label further along its stem rather
    than on top of another. A slot must stay inside ``bounds`` (left, right, top, bottom) and
    meet no box in ``placed``; when none does, the first slot above is used.
    """
    left, right, top, floor = bounds
    step = 2 * half + 2
    reach = int((right - left) / step) + 1
    tried: set[float] = set()
    first = None
    for shift in (0, *(k * side for k in range(1, reach + 1) for side in (1, -1))):
        cx = min(max(x + shift * step, left + half), max(right, left + 2 * half) - half)
        if cx in tried:  # pushed against an edge: the same slots again
            continue
        tried.add(cx)
        highest, lowest = _curve_span(curves, cx - half, cx + half)
        above = np.arange(highest - 8 * big, top + height + 2, -height)
        below = np.arange(lowest + 8 * big + height, floor, height)
        for bottom in (*above, *below):
            box = (cx - half, bottom - height, cx + half, bottom)
            if not _collides(box, placed):
                return cx, float(bottom)
            first = first or (cx, float(bottom))
    return first or (x, max(top + height + 2, floor))


def _spread_apart(ys: Sequence[float], gap: float, low: float, high: float) -> list[float]:
    """Label centres as near ``ys`` as they can be, at least ``gap`` apart, within [low, high].

    Labels keep their order; a label pushed past ``high`` pushes those above it up instead.
    """
    order = np.argsort(ys, kind="stable")
    placed = np.asarray(ys, float)[order]
    for i in range(len(placed)):  # downwards: each at least gap below the one above
        floor = low + gap / 2 if i == 0 else placed[i - 1] + gap
        placed[i] = max(placed[i], floor)
    for i in range(len(placed) - 1, -1, -1):  # then upwards from the bottom edge
        ceiling = high - gap / 2 if i == len(placed) - 1 else placed[i + 1] - gap
        placed[i] = min(placed[i], ceiling)
    result = np.empty_like(placed)
    result[order] = placed
    return result.tolist()


def _curve_span(curves: Sequence[np.ndarray], x0: float, x1: float) -> tuple[float, float]:
    """The highest and lowest point (SVG y) of any line between ``x0`` and ``x1``."""
    ys = []
    for pts in curves:
        inside = pts[(pts[:, 0] >= x0) & (pts[:, 0] <= x1), 1]
        ys.extend(inside)
        for x in (x0, x1):  # where the window's edges cut the line
            if pts[0, 0] <= x <= pts[-1, 0]:
                ys.append(float(np.interp(x, pts[:, 0], pts[:, 1])))
    return (min(ys), max(ys)) if ys else (0.0, 0.0)


def _collides(box: tuple[float, float, float, float], placed) -> bool:
    x0, y0, x1, y1 = box
    return any(x0 < b[2] and b[0] < x1 and y0 < b[3] and b[1] < y1 for b in placed)


def events_key() -> str:
    """The letters used on the curves, in words."""
    seen: dict[str, list[str]] = {}
    for mark, name in EVENT_NAMES.values():
        seen.setdefault(mark, []).append(name)
    parts = [f"{m} {' / '.join(names)}" for m, names in seen.items() if m != "O"]
    return " · ".join(parts) + " · ticks along the bottom: went out of sight"


def stages_chart(
    shares: np.ndarray,
    horizon: int,
    title: str,
    width: int = 1000,
    height: int = 400,
    big: float = 1.0,
) -> str:
    """Where staff are, week by week: stacked shares with each band labelled where it is wide.

    The labels sit right of the plot, each beside its band's end, moved apart where bands are
    thin so that no two overlap; the margin is as wide as the widest label can be.
    """
    font = 21 * big
    widest = max(_text_width(f"{label} 100%", font, bold=False) for label in STAGE_LABELS.values())
    left, right, top_m, bottom = 96 * big, widest + 24 * big, 58 * big, 60 * big
    pw, ph = width - left - right, height - top_m - bottom

    def px(week: float) -> float:
        return left + pw * week / max(horizon, 1)

    def py(value: float) -> float:
        return top_m + ph * (1 - value)

    out = [
        f'<text x="{left}" y="{36 * big:.0f}" font-size="{28 * big:.0f}" font-weight="bold" font-family="{FONT}" '
        f'fill="#111">{escape(title)}</text>'
    ]
    order = [
        0,
        1,
        2,
        6,
        3,
        4,
        5,
    ]  # unaware, aware, interested, lapsed, trialling, adopted, embedded
    n = len(shares)
    labels: list[tuple[float, str]] = []  # (band's middle at the last week, text)
    if n:
        cum = np.zeros(n)
        weeks = np.arange(1, n + 1)
        for k in order[::-1]:
            lower = cum.copy()
            cum = cum + shares[:, k]
            pts = [(px(w), py(v)) for w, v in zip(weeks, cum, strict=True)]
            pts += [(px(w), py(v)) for w, v in zip(weeks[::-1], lower[::-1], strict=True)]
            text = " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)
            name = STAGE_NAMES[k]
            out.append(
                f'<polygon points="{text}" fill="{STAGE_COLOURS[name]}" stroke="#fff" '
                f'stroke-width="0.8"/>'
            )
            share = shares[-1, k]
            if share >= 0.07:
                mid = py((cum[-1] + lower[-1]) / 2)
                labels.append((mid, f"{STAGE_LABELS[name]} {100 * share:.0f}%"))
    for y, text in zip(
        _spread_apart([y for y, _ in labels], font * 1.15, top_m, top_m + ph),
        (t for _, t in labels),
        strict=True,
    ):
        out.append(
            f'<text x="{px(n) + 10:.1f}" y="{y + 0.36 * font:.1f}" font-size="{font:.0f}" '
            f'font-family="{FONT}" fill="#111">{escape(text)}</text>'
        )
    for t in (0, 0.25, 0.5, 0.75, 1.0):
        out.append(
            f'<text x="{left - 10}" y="{py(t) + 8:.1f}" text-anchor="end" font-size="{22 * big:.0f}" '
            f'font-family="{FONT}" fill="#333">{100 * t:.0f}%</text>'
        )
    for y in range(math.ceil(horizon / WEEKS_PER_YEAR)):
        mid = px(min((y + 0.5) * WEEKS_PER_YEAR, horizon))
        out.append(
            f'<text x="{mid:.1f}" y="{top_m + ph + 30 * big:.0f}" text-anchor="middle" font-size="{22 * big:.0f}" '
            f'font-family="{FONT}" fill="#333">Year {y + 1}</text>'
        )
    for w in range(WEEKS_PER_YEAR, horizon, WEEKS_PER_YEAR):
        out.append(
            f'<line x1="{px(w):.1f}" x2="{px(w):.1f}" y1="{top_m}" y2="{top_m + ph}" '
            f'stroke="#888" stroke-width="2"/>'
        )
    out.append(
        f'<rect x="{left}" y="{top_m}" width="{pw}" height="{ph}" fill="none" stroke="#777"/>'
    )
    return _svg(width, height, "".join(out), title)
