"""The strategy interface, its registry, and the actions strategies are built from."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import numpy as np

from sim.population import Stage

if TYPE_CHECKING:
    from sim.model import KnowledgeMobilisationModel

__all__ = [
    "STRATEGIES",
    "Strategy",
    "register_strategy",
    "make_strategy",
    "launch",
    "hold_sessions",
]

#: Registered strategies by name.
STRATEGIES: dict[str, type[Strategy]] = {}


class Strategy:
    """A mobilisation strategy: decides each week who is exposed, when, and with what pressure.

    Args:
        model: The model; strategies read its state and write exposure through the actions below.

    """

    name: ClassVar[str]

    def __init__(self, model: KnowledgeMobilisationModel) -> None:
        self.model = model

    def step(self, week: int) -> None:
        """Expose staff to the innovation this week."""
        raise NotImplementedError


def register_strategy(name: str):
    """Class decorator registering a :class:`Strategy` under ``name``."""

    def decorate(cls: type[Strategy]) -> type[Strategy]:
        if name in STRATEGIES:
            raise ValueError(f"strategy {name!r} is registered twice")
        cls.name = name
        STRATEGIES[name] = cls
        return cls

    return decorate


def make_strategy(name: str, model: KnowledgeMobilisationModel) -> Strategy:
    """Instantiate the registered strategy ``name`` for ``model``."""
    try:
        cls = STRATEGIES[name]
    except KeyError:
        allowed = ", ".join(sorted(STRATEGIES))
        raise ValueError(
            f"strategy.name = {name!r} is not allowed; choose one of: {allowed}"
        ) from None
    return cls(model)


# -- actions strategies are composed of ---------------------------------------------------------


def launch(model: KnowledgeMobilisationModel, schools: np.ndarray) -> None:
    """A whole-staff launch in the given schools: everyone hears of it and is asked to try.

    The work comes in sight of everyone in those schools (the school's signal and how-to support
    now reach non-participants); unaware staff become aware; every non-participant is marked as
    pressured this week (the pressure that risks resistance, MODEL.md §4.2).
    """
    staff = model.staff
    model.in_sight |= schools
    in_school = schools[staff.school]
    staff.stage[in_school & (staff.stage == Stage.UNAWARE)] = Stage.AWARE
    model.now.pressured = model.now.pressured | (in_school & ~staff.participant)


def hold_sessions(model: KnowledgeMobilisationModel, schools: np.ndarray, week: int) -> None:
    """Whole-staff sessions, led by the school's participants, in the given schools.

    Each non-participant attends with probability ``strategy.session_attendance``; attending makes
    them aware and closes a share ``session_learn_rate * (0.5 + 0.5 D_s)`` of the gap to the
    most knowledgeable participant of their school (focused input: Frank et al. 2011), D_s being
    distributed leadership (empowered participants reach further; seed 003).
    """
    if not schools.any():
        return
    cfg = model.config.strategy
    staff = model.staff
    sch = model.schools
    u = model.streams.uniform("mobilisation.session_attendance", week, staff.n)
    attend = schools[staff.school] & ~staff.participant & (u < cfg.session_attendance)
    lead_k = np.maximum.reduceat(np.where(staff.participant, staff.knowledge, 0.0), sch.first_slot)
    reach = cfg.session_learn_rate * (0.5 + 0.5 * sch.distributed_leadership)
    gap = np.maximum(lead_k[staff.school] - staff.knowledge, 0.0)
    staff.knowledge = np.where(attend, staff.knowledge + reach[staff.school] * gap, staff.knowledge)
    staff.stage[attend & (staff.stage == Stage.UNAWARE)] = Stage.AWARE
    count = np.bincount(staff.school[attend], minlength=sch.n)
    model.now.hours = model.now.hours + cfg.session_hours * count
