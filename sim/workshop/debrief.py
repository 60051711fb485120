"""What heads take away from a workshop: the run's table (CSV) and a one-page summary (Markdown).

The pictures are saved as PNG by the browser itself (``pictures.vue``), from the very SVG on
screen. The summary is rendered with Jinja2 from the session: the choices, every lever, the
decisions made during the run, the outcomes now, the difference between the sides, the events,
the band over many seeds when one was run, and the sources.
"""

from __future__ import annotations

from typing import Any

import jinja2

from sim.workshop.session import WorkshopSession
from sim.workshop.words import SOURCES

__all__ = ["table_csv", "summary_markdown"]

_TEMPLATE = jinja2.Environment(
    autoescape=False, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True
).from_string(
    """# Workshop summary: {{ headline }}

{{ scenario }}, seed {{ seed }}. {{ when }}.

## Choices
{% for side in sides %}
- **{{ side.label }}**: {{ side.strategy }}; {{ side.mode }}; sending {{ side.selection }}.
{% endfor %}

Leadership as set up (every school unless said):
{% for name, value in levers %}
- {{ name }}: {{ value }}
{% endfor %}
{% if decisions %}

Decisions made during the run:
{% for d in decisions %}
- {{ d }}
{% endfor %}
{% endif %}

## Outcomes so far

| | using it | trying or using | spread beyond those sent | pupils reached | teacher-hours | resisting |
|---|---|---|---|---|---|---|
{% for side in sides %}
| {{ side.label }} | {{ "%.0f"|format(side.m.uptake_pct) }}% | {{ "%.0f"|format(side.m.use_pct) }}% | {{ "%.0f"|format(side.m.spread_pct) }}% | {{ "{:,.0f}".format(side.m.pupils_reached) }} | {{ "{:,.0f}".format(side.m.teacher_hours) }} | {{ side.m.resistant }} |
{% endfor %}
{% if difference %}

**Difference:** {{ difference }}.
{% endif %}
{% if band_text %}

**Over many seeds:** {{ band_text }}
{% endif %}

## What happened
{% for side in sides %}
{% if sides|length > 1 %}

{{ side.label }}:
{% endif %}
{% for e in side.events %}
- {{ e }}
{% else %}
- nothing yet
{% endfor %}
{% endfor %}

## Sources

{% for name, work, used in sources %}
- {{ name }}: {{ work }}
{% endfor %}

One run is one roll of the dice: compare choices on the same seed, and over many seeds, before
drawing conclusions.
"""
)


def table_csv(session: WorkshopSession) -> bytes:
    """The run so far as CSV: one row per side and week."""
    return session.table().to_csv(index=False).encode("utf-8")


def summary_markdown(session: WorkshopSession, band_text: str = "") -> str:
    """A one-page summary of the choices made and their outcomes, in Markdown."""
    from sim.workshop.words import option_name

    names = session.side_names()
    sides: list[dict[str, Any]] = []
    for i, arm in enumerate(session.arms):
        n = arm.model.schools.n
        label = f"{'AB'[i]}: {names[i]}" if len(names) == 2 else names[i]
        sides.append(
            {
                "label": label,
                "strategy": arm.side.name("strategy"),
                "mode": arm.side.name("mode"),
                "selection": arm.side.name("selection").lower(),
                "m": session.monitors(i),
                "events": [
                    e.describe(n) for e in arm.events if e.kind not in ("workshop", "out_of_sight")
                ]
                + _summarised(arm.events, n),
            }
        )
    return _TEMPLATE.render(
        headline=session.headline(),
        scenario=option_name("scenario", session.controls.scenario),
        seed=session.controls.seed,
        when=session.monitors(0).when,
        sides=sides,
        levers=session.levers_in_force(),
        decisions=[d.describe(session) for d in session.decisions],
        difference=session.difference(),
        band_text=band_text,
        sources=SOURCES,
    )


def _summarised(events, n_schools: int) -> list[str]:
    """Frequent events in one line each: workshops attended, times the work went out of sight."""
    out = []
    workshops = [e.week for e in events if e.kind == "workshop"]
    if workshops:
        out.append(f"PLN workshops in weeks {', '.join(map(str, workshops))}")
    gone = [e for e in events if e.kind == "out_of_sight"]
    if gone:
        times = sum(len(e.schools) for e in gone)
        out.append(
            f"the work went out of sight {times} time{'s' if times != 1 else ''} in a school"
        )
    return out
