"""The strategy contract, the parameters all strategies share, and the actions they are built from.

A strategy is a :class:`Strategy` subclass in a file of its own in ``sim/strategies/``, registered
with :func:`sim.registry.register`, with a YAML preset ``configs/strategy/<name>.yaml``. Its own
parameters (a ``Params`` dataclass) join the ``strategy`` section; ``strategy.name`` chooses it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim import kernel, registry
from sim.access import trust_in_participants
from sim.module import Module
from sim.params import Section, param
from sim.population import Stage
from sim.processes.base import PERCEPTION

if TYPE_CHECKING:
    from sim.model import KnowledgeMobilisationModel

__all__ = [
    "Strategy",
    "StrategyParams",
    "make_strategy",
    "inform",
    "expose",
    "launch",
    "hold_sessions",
]


@dataclass
class StrategyParams(Section):
    """How the knowledge is mobilised back in school (ODD §4.3)."""

    session_attendance: float = param(
        0.9,
        low=0,
        high=1,
        source="[assume]",
        help="probability a staff member attends a whole-staff session",
        plausible=(0.7, 1.0),
    )
    session_learn_rate: float = param(
        0.15,
        low=0,
        high=1,
        source="[assume]",
        help="share of the gap to the participants' knowledge closed by one session",
        plausible=(0.05, 0.3),
    )
    session_untied_share: float = param(
        0.25,
        low=0,
        high=1,
        source="[seed 003: 'who is doing the mobilizing matters'; assume share]",
        help="share of a session's learning taken by an attendee with no advice tie to a "
        "participant (full with a fully trusted tie)",
    )
    session_hours: float = param(
        1.0, low=0, unit="hours", source="[seed 000: twilight sessions]", help="length of a session"
    )
    session_mandate: float = param(
        0.5,
        low=0,
        high=1,
        source="[seed 003: without distributed leadership change comes by directive; assume]",
        help="whole-staff sessions require trying: chance an attendee is pressured, times 1 - D",
    )


@registry.kind
class Strategy(Module):
    """A mobilisation strategy: decides each week who is exposed, when, and with what pressure.

    Strategies act through the actions below (:func:`inform`, :func:`expose`, :func:`launch`,
    :func:`hold_sessions`), so what they may write is declared once, here.

    Args:
        model: The model; strategies read its state and write exposure through the actions.

    """

    kind = "strategy"
    section = "strategy"
    selector = "name"
    selector_param = param(
        "whole_staff", source="[seed 000]", help="mobilisation strategy (sim/strategies/<name>.py)"
    )
    Params = StrategyParams
    owns = (
        "staff.stage",
        "staff.knowledge",
        "model.exposed",
        "model.in_sight",
        "model.out_of_sight",
        "now.pressured",
        "now.hours",
        *PERCEPTION,
    )
    reads = (
        "model.pln_started",
        "model.distributed",
        "now.session_week",
        "staff.participant",
        "staff.quality",
        "ties.trust",
    )

    def step(self, week: int) -> None:
        """Expose staff to the innovation this week."""
        raise NotImplementedError


def make_strategy(name: str, model: KnowledgeMobilisationModel) -> Strategy:
    """Instantiate the registered strategy ``name`` for ``model``."""
    return registry.get("strategy", name)(model)


# -- actions strategies are composed of ---------------------------------------------------------


def inform(model: KnowledgeMobilisationModel, who: np.ndarray) -> None:
    """General updates: the people in ``who`` hear of the work (unaware -> aware), no pressure."""
    stage = model.staff.stage
    stage[who & (stage == Stage.UNAWARE)] = Stage.AWARE


def expose(model: KnowledgeMobilisationModel, who: np.ndarray) -> None:
    """Bring the work in sight of ``who``.

    They hear of it, and the school's signal and how-to support now reach them, from this week.
    """
    staff = model.staff
    model.exposed = model.exposed | who
    model.in_sight = model.in_sight | (
        np.bincount(staff.school[who], minlength=model.schools.n) > 0
    )
    inform(model, who)
    model.refresh_perception()


def launch(model: KnowledgeMobilisationModel, schools: np.ndarray) -> None:
    """A whole-staff launch in the given schools: everyone hears of it and is asked to try.

    The work comes (back) in sight of everyone in those schools; every non-participant is marked as
    pressured this week: pushed to change before being persuaded, some turn resistant
    (MODEL.md §4.2, in :class:`~sim.processes.Decision`).
    """
    staff = model.staff
    in_school = schools[staff.school]
    model.out_of_sight = model.out_of_sight & ~schools  # a launch puts the work back in sight
    expose(model, in_school)
    model.now.pressured = model.now.pressured | (in_school & ~staff.participant)


def _heed(model: KnowledgeMobilisationModel) -> np.ndarray:
    """How much of a session each person takes in: more from colleagues they turn to.

    ``f + (1 - f) t_i``, ``t_i`` the highest trust on an advice tie to a participant and
    ``f = strategy.session_untied_share`` (see :func:`hold_sessions`).
    """
    floor = model.config.strategy.session_untied_share
    return floor + (1.0 - floor) * trust_in_participants(model)


def hold_sessions(
    model: KnowledgeMobilisationModel,
    audience: np.ndarray,
    week: int,
    mandate: np.ndarray | bool = True,
) -> None:
    """Sessions led by each school's participants, for the non-participants in ``audience``.

    Sessions run only where the work is in sight (not where it has gone out of sight). Each
    person invited attends with probability ``strategy.session_attendance``; attending makes them
    aware and closes a share ``session_learn_rate * reach_s`` of the gap to the most
    knowledgeable participant of their school (focused input: Frank et al. 2011), where
    ``reach_s = 0.5 + 0.5 D_s`` with D_s the distributed leadership in force (empowered
    participants reach further; seed 003), times ``f + (1 - f) t_i`` with ``t_i`` the attendee's
    highest trust on an advice tie to a participant and ``f = session_untied_share``: "who is
    doing the mobilizing matters", participants at the centre of the school's network reach
    further (seed 003).

    The first session of each term, where held as a ``mandate`` (whole-staff sessions; not a
    volunteer pilot's), requires staff to try the practice: each attendee is pressured with
    probability
    ``session_mandate * (1 - D_s)`` — where leadership is not distributed, change comes by
    the head's directive (seed 003) — and pressure before persuasion breeds resistance
    (:class:`~sim.processes.Decision`).
    """
    staff = model.staff
    sch = model.schools
    cfg = model.config.strategy
    if kernel.enabled():  # the same draws and arithmetic in one compiled pass (sim.kernel)
        model.streams.check_size("mobilisation.session_attendance", staff.n)
        held = kernel.sessions_pass(
            audience,
            staff.participant,
            model.out_of_sight,
            staff.school,
            sch.n,
            staff.knowledge,
            staff.stage,
            model.distributed,
            _heed(model),
            model.streams.keys("mobilisation.session_attendance", week),
            week,
            cfg.session_attendance,
            cfg.session_learn_rate,
            int(Stage.UNAWARE),
            int(Stage.AWARE),
        )
        if held is None:
            return
        staff.knowledge, attend, count = held
    else:
        audience = audience & ~staff.participant & ~model.out_of_sight[staff.school]
        if not audience.any():
            return
        u = model.streams.uniform("mobilisation.session_attendance", week, staff.n)
        attend = audience & (u < cfg.session_attendance)
        lead_k = np.maximum.reduceat(
            np.where(staff.participant, staff.knowledge, 0.0), sch.first_slot
        )
        distributed = model.distributed[staff.school]
        rate = cfg.session_learn_rate * (0.5 + 0.5 * distributed) * _heed(model)
        k = staff.knowledge
        gap = np.maximum(lead_k[staff.school] - k, 0.0)
        staff.knowledge = np.where(attend, k + rate * gap, k)
        inform(model, attend)
        count = np.bincount(staff.school[attend], minlength=sch.n)
    model.now.hours = model.now.hours + cfg.session_hours * count
    # The directive comes with the term's first session (every session frequency has one), so
    # more frequent sessions mean more learning, not more directives.
    if mandate is False or cfg.session_mandate == 0 or model.now.week_in_term != 0:
        return
    u_mandate = model.streams.uniform("mobilisation.session_mandate", week, staff.n)
    distributed = model.distributed[staff.school]
    pressured = attend & mandate & (u_mandate < cfg.session_mandate * (1.0 - distributed))
    if pressured.any():
        model.now.pressured = model.now.pressured | pressured
