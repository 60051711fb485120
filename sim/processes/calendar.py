"""Calendar: term and year, workshop and session weeks, PLN support (MODEL.md §3 step 1)."""

from __future__ import annotations

import numpy as np

from sim.processes.base import PERCEPTION, Process
from sim.registry import register
from sim.school_year import WEEKS_PER_TERM, WEEKS_PER_YEAR

__all__ = ["Calendar", "WEEKS_PER_YEAR", "WEEKS_PER_TERM"]  # the constants: sim.school_year


@register
class Calendar(Process):
    """Sets this week's :class:`~sim.processes.base.WeekContext`.

    A workshop runs in the configured weeks of each year of PLN support, shifted for each PLN by
    its calendar offset (``system.pln_offset_weeks``; 0 for a listed scenario's one PLN); a
    school holds a
    whole-staff session when the week of the term is a multiple of its session period. It then
    refreshes what each person perceives of the school's levers
    (:meth:`~sim.model.KnowledgeMobilisationModel.refresh_perception`).
    """

    name = "calendar"
    owns = (
        "now.week",
        "now.year",
        "now.term",
        "now.week_of_year",
        "now.week_in_term",
        "now.workshop_week",
        "now.workshop_schools",
        "now.support_active",
        "now.support_ended",
        "now.session_week",
        "now.stage_at_start",
        "now.attended_workshop",
        "now.pressured",
        "now.failed_trials",
        "now.active_ties",
        "now.helpful_ties",
        "now.hours",
        *PERCEPTION,
    )
    reads = ("pln.workshop_weeks", "pln.support_years", "levers", "staff.stage")

    def __init__(self, model) -> None:
        super().__init__(model)
        self._workshop_weeks = frozenset(model.config.pln.workshop_weeks)
        # Each PLN's calendar: its workshops come pln_offset weeks after the configured weeks
        # (a generated system, sim.system; listed scenarios have one PLN, offset 0).
        table = model.school_table
        offset_of_school = table.pln_offset[table.pln]
        weeks = np.arange(WEEKS_PER_YEAR)[:, None] - offset_of_school[None, :]
        self._workshop_schools = np.isin(weeks, list(self._workshop_weeks))
        self._workshop_schools.flags.writeable = False
        self._any_workshop = self._workshop_schools.any(axis=1)  # per week of the year
        n = model.staff.n
        # Shared, never written in place: processes that add to them assign new arrays.
        self._no_one = np.zeros(n, dtype=bool)
        self._no_one.flags.writeable = False
        self._no_tie = np.zeros(model.ties.n, dtype=bool)
        self._no_tie.flags.writeable = False
        self._levers_version = -1

    def step(self, week: int) -> None:
        """Set up this week's context."""
        m = self.model
        now = m.now
        staff = m.staff
        year, week_of_year = divmod(week, WEEKS_PER_YEAR)
        support_years = m.config.pln.support_years
        now.week = week
        now.year = year
        now.week_of_year = week_of_year
        now.term, now.week_in_term = divmod(week_of_year, WEEKS_PER_TERM)
        now.support_active = year < support_years
        now.support_ended = support_years > 0 and not now.support_active
        now.workshop_schools = self._workshop_schools[week_of_year]
        now.workshop_week = now.support_active and bool(self._any_workshop[week_of_year])
        levers = m.levers
        if levers.version != self._levers_version:  # a lever changed (or the first week)
            self._levers_version = levers.version
            self._allocated_hours = (
                levers.collab_hours * m.schools.size + levers.research_lead_hours
            )
            self._allocated_hours.flags.writeable = False
            # Per week of the term, the schools that hold a session that week.
            self._session_weeks = np.arange(WEEKS_PER_TERM)[:, None] % levers.session_period == 0
            self._session_weeks.flags.writeable = False
        now.session_week = self._session_weeks[now.week_in_term]
        now.stage_at_start = staff.stage.copy()
        m.refresh_perception()
        now.attended_workshop = self._no_one
        now.pressured = self._no_one
        now.failed_trials = self._no_one
        now.active_ties = now.helpful_ties = self._no_tie
        now.hours = self._allocated_hours  # allocated collaboration time and research leads
