"""The levers the page offers: plain names and explanations here, ranges and units from the config.

Each :class:`Lever` names a parameter of :mod:`sim.config`; its allowed range, unit and choices
are read from that parameter's metadata (:func:`sim.config.iter_params`), never re-declared. The
only number declared here is the top of the plan-priorities slider, which the config leaves
unbounded (any number of priorities is valid; the slider stops at a plausible plan).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sim.config import Config, iter_params
from sim.workshop.words import OPTION_NAMES

__all__ = ["Lever", "LEVERS", "LEVER_GROUPS", "lever", "scenario_value", "format_value"]

_META: dict[str, tuple[Any, dict]] = {key: (d, m) for key, d, m in iter_params(Config())}


@dataclass(frozen=True)
class Lever:
    """One lever of the page.

    Attributes:
        key: The parameter's dotted key in :class:`sim.config.Config`.
        group: The heading it sits under.
        name: Display name.
        help: One-line explanation.
        low_label, high_label: What the two ends of a slider mean.
        step: Slider step (sliders only).
        ui_high: Top of the slider where the config has no upper bound.

    """

    key: str
    group: str
    name: str
    help: str
    low_label: str = ""
    high_label: str = ""
    step: float = 0.1
    ui_high: float | None = None

    @property
    def meta(self) -> dict:
        """The parameter's metadata in the config schema."""
        return _META[self.key][1]

    @property
    def kind(self) -> str:
        """``switch``, ``choice``, ``int`` or ``float``."""
        default = _META[self.key][0]
        if self.meta["choices"]:
            return "choice"
        if isinstance(default, bool):
            return "switch"
        return "int" if isinstance(default, int) else "float"

    @property
    def low(self) -> float:
        """Bottom of the slider: the config's lower bound."""
        return self.meta["low"]

    @property
    def high(self) -> float:
        """Top of the slider: the config's upper bound (or :attr:`ui_high` where it has none)."""
        high = self.meta["high"]
        return self.ui_high if high is None else high

    @property
    def unit(self) -> str:
        """The parameter's unit."""
        return self.meta["unit"]

    @property
    def choices(self) -> tuple[str, ...]:
        """Allowed values of a choice lever."""
        return tuple(self.meta["choices"] or ())

    @property
    def mid_run(self) -> bool:
        """Whether the lever can be changed during a run (leadership levers, per school)."""
        return self.key.startswith("leadership.")


LEVERS: tuple[Lever, ...] = (
    Lever(
        "leadership.in_improvement_plan",
        "Formalise",
        "In the improvement plan",
        "The work is written into the school improvement plan (Flood's New Forest case study).",
    ),
    Lever(
        "leadership.in_performance_targets",
        "Formalise",
        "In performance targets",
        "Staff have it in their performance-management targets.",
    ),
    Lever(
        "leadership.governors_engaged",
        "Formalise",
        "Governors engaged",
        "Governors hear about the work and ask about it.",
    ),
    Lever(
        "leadership.plan_priorities",
        "Formalise",
        "Priorities in the plan",
        "How many priorities compete in the plan: a priority among many is no priority "
        "(Brown & Flood 2019).",
        low_label="1: the only priority",
        high_label="8: one of many",
        step=1,
        ui_high=8,
    ),
    Lever(
        "leadership.release_for_workshops",
        "Time",
        "Release staff for workshops",
        "Those sent are released from teaching to attend every workshop.",
    ),
    Lever(
        "leadership.collab_hours_per_week",
        "Time",
        "Collaboration time",
        "Time every member of staff gets to work on it together; necessary but not "
        "sufficient (Brown & Poortman interview).",
        low_label="none",
        high_label="2 hours a week",
        step=0.25,
    ),
    Lever(
        "leadership.session_frequency",
        "Time",
        "Whole-staff sessions",
        "How often those sent lead sessions for colleagues.",
    ),
    Lever(
        "leadership.distributed_leadership",
        "Lead",
        "Distributed leadership",
        "Those sent are trusted to lead; without it leaders take control back after a visible "
        "failure (Brown & Flood 2019).",
        low_label="leaders keep control",
        high_label="those sent lead",
    ),
    Lever(
        "leadership.involvement",
        "Lead",
        "Leaders stay involved",
        "Check-ins and reminders keep the work from going 'out of sight' (Brown's BELMAS "
        "interview).",
        low_label="hands off",
        high_label="check in every week",
    ),
    Lever(
        "leadership.howto_support",
        "Lead",
        "'How to' support",
        "Someone models and explains the practice to staff who did not go (Flood's case study).",
        low_label="none",
        high_label="modelled for everyone",
    ),
    Lever(
        "schools.trust_climate",
        "School",
        "Trust among staff",
        "Trust makes trying something new safe; with low trust, a launch breeds resistance "
        "(Flood's case study, Brown 2019).",
        low_label="low trust",
        high_label="high trust",
        step=0.05,
    ),
)

#: Headings, in page order.
LEVER_GROUPS: tuple[str, ...] = ("Formalise", "Time", "Lead", "School")

_BY_KEY = {lv.key: lv for lv in LEVERS}


def lever(key: str) -> Lever:
    """The lever for a config key."""
    return _BY_KEY[key]


def scenario_value(config: Config, key: str) -> tuple[Any, bool]:
    """A lever's value in a resolved config, and whether it differs between schools.

    Per-school parameters resolve to one value per school; the page shows the first school's
    value (for numbers, the mean) and says when schools differ.
    """
    node: Any = config
    for part in key.split("."):
        node = getattr(node, part)
    if not isinstance(node, list):
        return node, False
    varies = len(set(map(str, node))) > 1
    if varies and isinstance(node[0], float | int) and not isinstance(node[0], bool):
        return type(node[0])(sum(node) / len(node)), True
    return node[0], varies


def format_value(lv: Lever, value: Any) -> str:
    """A lever's value in words, e.g. '1.5 hours/week', 'Twice a term', 'yes'."""
    if lv.kind == "switch":
        return "yes" if value else "no"
    if lv.kind == "choice":
        return OPTION_NAMES.get(lv.key.rpartition(".")[2], {}).get(value, str(value))
    if lv.kind == "int":
        return f"{int(value)}"
    text = f"{float(value):.2f}".rstrip("0").rstrip(".")
    return f"{text} {lv.unit}".strip()
