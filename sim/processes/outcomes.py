"""Outcomes: pupil learning, costs and the weekly record (MODEL.md §3 step 10, §4.6, §7)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from sim import kernel
from sim.params import Section, param
from sim.population import STAGE_NAMES, Stage, stage_lookup
from sim.processes.base import Process
from sim.processes.decision import USES
from sim.registry import register
from sim.school_year import WEEKS_PER_YEAR

__all__ = [
    "OutcomesConfig",
    "Outcomes",
    "Record",
    "SchoolRecord",
    "SchoolTotals",
    "make_record",
]


@dataclass
class OutcomesConfig(Section):
    """Pupil outcomes and costs (ODD §4.6)."""

    effect_per_year: float = param(
        0.10,
        low=0,
        unit="SD/year",
        source="[lit: median education effect; Kraft 2020; Lortie-Forgues & Inglis 2019]",
        help="beta: pupil gain per year of use at full quality",
    )
    trial_dip_per_year: float = param(
        0.01,
        low=0,
        unit="SD/year",
        source="[assume: implementation dip; Fixsen et al. 2005]",
        help="pupil loss per year while a teacher is only trialling",
        plausible=(0.0, 0.03),
    )


N_STAGES = len(STAGE_NAMES)
ADOPTS = stage_lookup(Stage.ADOPTED, Stage.EMBEDDED)


@dataclass(frozen=True)
class SchoolTotals:
    """Per-week, per-school observations (arrays with leading dimensions ``(weeks, schools)``).

    Attributes:
        stages: staff count at each stage (third dimension: ``STAGE_NAMES``).
        resistant: resistant staff.
        knowledge, quality: sums over the school's staff.
        participant_knowledge: sum over the school's participants.
        participants: number of participants.
        pupils_reached: pupils taught by staff using the practice.
        pupil_gain: pupil-weighted sum of classes' cumulative gain (SD x pupils).
        hours: teacher-hours spent that week.
        spread_users: adopted or embedded non-participants.
        participants_using: participants trialling, adopted or embedded (the champions' own use).

    """

    stages: np.ndarray
    resistant: np.ndarray
    knowledge: np.ndarray
    quality: np.ndarray
    participant_knowledge: np.ndarray
    participants: np.ndarray
    pupils_reached: np.ndarray
    pupil_gain: np.ndarray
    hours: np.ndarray
    spread_users: np.ndarray
    participants_using: np.ndarray


class Record:
    """Weekly snapshots of per-slot state, preallocated for the whole horizon.

    Copying a few rows a week is far cheaper than aggregating every week; :meth:`totals`
    aggregates all weeks at once, by school, when results are read.

    Memory: about 27 bytes per staff member and week (4 MB for 10,000 staff over a year).
    """

    def __init__(self, weeks: int, slots: int, first_slot: np.ndarray, school: np.ndarray) -> None:
        shape = (weeks, slots)
        self.weeks_recorded = 0
        self.first_slot = first_slot
        self.school = school
        self.stage = np.zeros(shape, dtype=np.int8)
        self.resistant = np.zeros(shape, dtype=bool)
        self.participant = np.zeros(shape, dtype=bool)
        self.knowledge = np.zeros(shape)
        self.quality = np.zeros(shape)
        self.pupil_gain = np.zeros(shape)
        self.hours = np.zeros((weeks, len(first_slot)))
        self.pupils = np.zeros(slots)
        self._totals: tuple[int, SchoolTotals] | None = None

    def add_week(self, week: int, staff, hours: np.ndarray) -> None:
        """Record the state at the end of ``week``."""
        self.stage[week] = staff.stage
        self.resistant[week] = staff.resistant
        self.participant[week] = staff.participant
        self.knowledge[week] = staff.knowledge
        self.quality[week] = staff.quality
        self.pupil_gain[week] = staff.pupil_gain
        self.hours[week] = hours
        self.pupils = staff.pupils
        self.weeks_recorded = week + 1

    def totals(self) -> SchoolTotals:
        """Per-school totals for every recorded week (computed once per number of weeks)."""
        t = self.weeks_recorded
        if self._totals is not None and self._totals[0] == t:
            return self._totals[1]
        n_sch = len(self.first_slot)
        stage = self.stage[:t]
        part = self.participant[:t]
        uses = USES[stage]

        def by_school(values: np.ndarray) -> np.ndarray:
            return np.add.reduceat(values, self.first_slot, axis=1)

        index = (np.arange(t)[:, None] * n_sch + self.school[None, :]) * N_STAGES + stage
        stages = np.bincount(index.ravel(), minlength=t * n_sch * N_STAGES)
        totals = SchoolTotals(
            stages=stages.reshape(t, n_sch, N_STAGES),
            resistant=by_school(self.resistant[:t].astype(np.int64)),
            knowledge=by_school(self.knowledge[:t]),
            quality=by_school(self.quality[:t]),
            participant_knowledge=by_school(self.knowledge[:t] * part),
            participants=by_school(part.astype(np.int64)),
            pupils_reached=by_school(uses * self.pupils),
            pupil_gain=by_school(self.pupil_gain[:t] * self.pupils),
            hours=self.hours[:t].copy(),
            spread_users=by_school((ADOPTS[stage] & ~part).astype(np.int64)),
            participants_using=by_school((uses & part).astype(np.int64)),
        )
        self._totals = (t, totals)
        return totals


@contextmanager
def _small_pages() -> Iterator[None]:
    """Allocate the enclosed arrays in ordinary (4 kB) pages, not transparent huge pages.

    numpy asks Linux for huge pages for large arrays. The record is zeroed lazily and written
    one week's slice at a time, so every week would fault in fresh 2 MB pages, and on a busy
    machine each such fault may wait for the kernel to compact memory: about 5 ms a week at
    the ``england`` scenario's size, against under 1 ms for ordinary pages (0.5 s of a 3-year
    run). Only where numpy offers the switch; the values are the same either way.
    """
    switch = getattr(np._core.multiarray, "_set_madvise_hugepage", None)
    previous = switch(False) if switch is not None else None
    try:
        yield
    finally:
        if switch is not None:
            switch(previous)


class SchoolRecord:
    """Weekly per-school totals, summed as the run goes (``record=schools``, the default).

    Holds what :meth:`Record.totals` would give without the per-slot history: about
    ``17 x 8`` bytes per school and week (50 MB for 20,000 schools over three years, against
    1.3 GB of per-slot history at 420,000 staff). ``record=slots`` keeps the history
    (:class:`Record`).
    """

    def __init__(self, weeks: int, slots: int, first_slot: np.ndarray, school: np.ndarray) -> None:
        n_sch = len(first_slot)
        self.weeks_recorded = 0
        self.first_slot = first_slot
        self.school = school
        with _small_pages():
            self._stages = np.zeros((weeks, n_sch, N_STAGES), dtype=np.int64)
            self._counts = np.zeros((4, weeks, n_sch), dtype=np.int64)
            self._sums = np.zeros((5, weeks, n_sch))
            self.hours = np.zeros((weeks, n_sch))
        self._totals: tuple[int, SchoolTotals] | None = None

    def add_week(self, week: int, staff, hours: np.ndarray) -> None:
        """Add up the state at the end of ``week`` by school."""
        n_sch = len(self.first_slot)
        stage, part = staff.stage, staff.participant
        self.hours[week] = hours
        self.weeks_recorded = week + 1
        if kernel.enabled():  # the same totals in one compiled pass (sim.kernel)
            kernel.school_totals(
                self.first_slot,
                stage,
                staff.resistant,
                part,
                staff.knowledge,
                staff.quality,
                staff.pupils,
                staff.pupil_gain,
                USES,
                ADOPTS,
                self._stages[week],
                self._counts[:, week],
                self._sums[:, week],
            )
            return
        index = self.school * N_STAGES + stage
        self._stages[week] = np.bincount(index, minlength=n_sch * N_STAGES).reshape(n_sch, N_STAGES)

        def by_school(values: np.ndarray) -> np.ndarray:
            return np.add.reduceat(values, self.first_slot)

        self._counts[0, week] = by_school(staff.resistant.astype(np.int64))
        self._counts[1, week] = by_school(part.astype(np.int64))
        self._counts[2, week] = by_school((ADOPTS[stage] & ~part).astype(np.int64))
        self._counts[3, week] = by_school((USES[stage] & part).astype(np.int64))
        k = staff.knowledge
        self._sums[0, week] = by_school(k)
        self._sums[1, week] = by_school(staff.quality)
        self._sums[2, week] = by_school(k * part)
        self._sums[3, week] = by_school(USES[stage] * staff.pupils)
        self._sums[4, week] = by_school(staff.pupil_gain * staff.pupils)

    def week_out(self, week: int, hours: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Record ``hours`` for ``week``; the slices its totals go in (for the compiled pass).

        :func:`sim.kernel.outcomes_week` writes the week's totals into them, as
        :meth:`add_week` does.
        """
        self.hours[week] = hours
        self.weeks_recorded = week + 1
        return self._stages[week], self._counts[:, week], self._sums[:, week]

    def totals(self) -> SchoolTotals:
        """Per-school totals for every recorded week."""
        t = self.weeks_recorded
        if self._totals is not None and self._totals[0] == t:
            return self._totals[1]
        totals = SchoolTotals(
            stages=self._stages[:t],
            resistant=self._counts[0, :t],
            knowledge=self._sums[0, :t],
            quality=self._sums[1, :t],
            participant_knowledge=self._sums[2, :t],
            participants=self._counts[1, :t],
            pupils_reached=self._sums[3, :t],
            pupil_gain=self._sums[4, :t],
            hours=self.hours[:t].copy(),
            spread_users=self._counts[2, :t],
            participants_using=self._counts[3, :t],
        )
        self._totals = (t, totals)
        return totals


def make_record(kind: str, weeks: int, slots: int, first_slot: np.ndarray, school: np.ndarray):
    """The weekly record for ``config.record``: ``"schools"`` totals or ``"slots"`` history."""
    cls = Record if kind == "slots" else SchoolRecord
    return cls(weeks, slots, first_slot, school)


@register
class Outcomes(Process):
    """Pupil gains, week counters and the record.

    A class taught by a user gains ``effect_per_year * q / 39`` SD a week; a class whose teacher
    is only trialling also pays an implementation dip of ``trial_dip_per_year / 39`` a week.
    """

    name = "outcomes"
    section = "outcomes"
    Params = OutcomesConfig
    owns = ("staff.pupil_gain", "staff.stage_weeks", "record")
    reads = (
        "staff.stage",
        "staff.quality",
        "staff.resistant",
        "staff.participant",
        "staff.knowledge",
        "now.stage_at_start",
        "now.hours",
    )

    def __init__(self, model) -> None:
        super().__init__(model)
        cfg = model.config.outcomes
        self.gain_per_quality = cfg.effect_per_year / WEEKS_PER_YEAR
        # Weekly gain offset by stage: the implementation dip while trialling.
        self.offset_by_stage = np.zeros(N_STAGES)
        self.offset_by_stage[Stage.TRIALLING] = -cfg.trial_dip_per_year / WEEKS_PER_YEAR
        #: Stages that count as adopted (for the record's spread counts).
        self.adopts = ADOPTS

    def step(self, week: int) -> None:
        """Accrue pupil gains, count weeks in stage and record the week."""
        m = self.model
        staff, now, rec = m.staff, m.now, m.record
        stage = staff.stage
        if kernel.enabled() and isinstance(rec, SchoolRecord):  # one compiled call (sim.kernel)
            staff.pupil_gain, staff.stage_weeks = kernel.outcomes_week(
                stage,
                now.stage_at_start,
                staff.quality,
                staff.pupil_gain,
                staff.stage_weeks,
                rec.first_slot,
                staff.resistant,
                staff.participant,
                staff.knowledge,
                staff.pupils,
                *rec.week_out(week, now.hours),
                USES,
                self.adopts,
                self.offset_by_stage,
                self.gain_per_quality,
            )
            return
        if kernel.enabled():  # the same arithmetic, compiled (sim.kernel)
            staff.pupil_gain, staff.stage_weeks = kernel.outcomes_pass(
                stage,
                now.stage_at_start,
                staff.quality,
                staff.pupil_gain,
                staff.stage_weeks,
                USES,
                self.offset_by_stage,
                self.gain_per_quality,
            )
            rec.add_week(week, staff, now.hours)
            return
        weekly = self.gain_per_quality * staff.quality + self.offset_by_stage[stage]
        staff.pupil_gain = np.where(USES[stage], staff.pupil_gain + weekly, staff.pupil_gain)
        staff.stage_weeks = np.where(stage == now.stage_at_start, staff.stage_weeks + 1, 0)

        rec.add_week(week, staff, now.hours)
