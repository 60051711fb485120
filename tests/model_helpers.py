"""Helpers shared by the unit tests of the processes and mechanisms (``test_processes.py``,
``test_mechanisms.py``): building a model from ``Config()``, running single processes for a week
and setting hand-built state. State arrays are replaced, never written in place, as the
processes do (assignment bumps the version stamps derived caches are keyed on).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from sim.config import Config
from sim.model import KnowledgeMobilisationModel
from sim.processes import Calendar, Process


def make_model(edit: Callable[[Config], None] | None = None, seed: int = 0):
    """A model from the default configuration, optionally edited before validation."""
    cfg = Config(seed=seed)
    if edit is not None:
        edit(cfg)
    cfg.validate()
    return KnowledgeMobilisationModel(cfg)


def proc(model: KnowledgeMobilisationModel, cls: type[Process]) -> Process:
    """The model's instance of process ``cls``."""
    return next(p for p in model.processes if isinstance(p, cls))


def begin_week(model: KnowledgeMobilisationModel, week: int) -> None:
    """Run the calendar for ``week`` so that ``model.now`` describes it."""
    proc(model, Calendar).step(week)


def run_weeks(model, weeks, processes) -> None:
    """Run the calendar and then ``processes`` for each of ``weeks``."""
    for week in weeks:
        begin_week(model, week)
        for cls in processes:
            proc(model, cls).step(week)


def set_stage(model: KnowledgeMobilisationModel, stage) -> None:
    """Replace every slot's stage (a Stage or an array of stage codes)."""
    model.staff.stage = np.broadcast_to(np.asarray(stage, dtype=np.int8), model.staff.n).copy()


def expose_schools(model: KnowledgeMobilisationModel, schools) -> None:
    """Expose everyone in ``schools`` (indices or a mask), as a whole-staff launch would."""
    mask = np.zeros(model.schools.n, dtype=bool)
    mask[schools] = True
    model.exposed = model.exposed | mask[model.staff.school]
    model.in_sight = model.in_sight | mask


def tie_index(model: KnowledgeMobilisationModel, seeker: int, adviser: int) -> int:
    """Index of the tie ``seeker -> adviser`` (it must exist)."""
    lo, hi = model.tie_ptr[seeker], model.tie_ptr[seeker + 1]
    hits = np.flatnonzero(model.ties.adviser[lo:hi] == adviser)
    assert len(hits) == 1, f"no tie {seeker} -> {adviser}"
    return int(lo + hits[0])


def advisers_of(model: KnowledgeMobilisationModel, slot: int) -> np.ndarray:
    """The advisers of ``slot`` (the advisers of its outgoing ties)."""
    return model.ties.adviser[model.tie_ptr[slot] : model.tie_ptr[slot + 1]]


def only_ties(model: KnowledgeMobilisationModel, weights: dict[tuple[int, int], float]) -> None:
    """Trust 0 on every tie except the given ``(seeker, adviser): trust`` ones."""
    trust = np.zeros(model.ties.n)
    for (i, j), w in weights.items():
        trust[tie_index(model, i, j)] = w
    model.ties.trust = trust


def non_participant_with_advisers(model: KnowledgeMobilisationModel, at_least: int) -> int:
    """A non-participant slot with at least ``at_least`` advisers who are non-participants."""
    staff = model.staff
    for slot in range(staff.n):
        if staff.participant[slot]:
            continue
        adv = advisers_of(model, slot)
        if (~staff.participant[adv]).sum() >= at_least:
            return slot
    raise AssertionError("no such slot")


def deterministic_decisions(cfg: Config) -> None:
    """Every due stage transition happens at once (``p_act`` = 1); nobody tries at random."""
    cfg.decision.p_act = 1.0
    cfg.decision.noise_enabled = False


def sure_attendance(cfg: Config) -> None:
    """Every participant attends every workshop, and none commits there to a trial."""
    cfg.pln.attend_base = 1.0
    cfg.pln.trial_commitment = 0.0
