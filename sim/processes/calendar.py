"""Calendar: term and year, workshop and session weeks, PLN support (MODEL.md §3 step 1)."""

from __future__ import annotations

import numpy as np

from sim.processes.base import Process

__all__ = ["Calendar", "WEEKS_PER_YEAR", "WEEKS_PER_TERM"]

#: Teaching weeks in an English school year: three terms of 13 [seed/lit].
WEEKS_PER_YEAR = 39
WEEKS_PER_TERM = 13


class Calendar(Process):
    """Sets this week's :class:`~sim.processes.base.WeekContext`.

    A workshop runs in the configured weeks of each year of PLN support; a school holds a
    whole-staff session when the week of the term is a multiple of its session period.

    It also sets what each person perceives of the school's levers this week. The school's
    signal (formalisation x involvement) and its how-to support reach participants always, and
    everyone else only once the work is *in sight* in their school (a strategy has brought it
    in: ``model.in_sight``); otherwise "when people return from network meetings it goes out of
    sight" (seed 001). Participants also get the facilitator's how-to support while the PLN is
    supported.
    """

    name = "calendar"

    def __init__(self, model) -> None:
        super().__init__(model)
        self._workshop_weeks = frozenset(model.config.pln.workshop_weeks)
        n = model.staff.n
        # Shared, never written in place: processes that add to them assign new arrays.
        self._no_one = np.zeros(n, dtype=bool)
        self._no_one.flags.writeable = False
        self._allocated_hours = model.schools.collab_hours * model.schools.size
        self._allocated_hours.flags.writeable = False
        self._perception_key: tuple | None = None

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
        now.workshop_week = now.support_active and week_of_year in self._workshop_weeks
        now.session_week = now.week_in_term % m.schools.session_period == 0
        now.stage_at_start = staff.stage.copy()
        self._update_perception(now.support_active)
        now.attended_workshop = self._no_one
        now.pressured = self._no_one
        now.failed_trials = self._no_one
        now.hours = self._allocated_hours  # collaboration time allocated to all staff

    def _update_perception(self, support_active: bool) -> None:
        """Set the signal and how-to support each person perceives (only when they change)."""
        m = self.model
        key = (support_active, m.in_sight.tobytes())
        if key == self._perception_key:
            return
        self._perception_key = key
        staff = m.staff
        facilitator = m.config.pln.facilitator_support if support_active else 0.0
        reached = staff.participant | m.in_sight[staff.school]
        m.now.signal = np.where(reached, m.signal_of_staff, 0.0)
        m.now.support = np.where(
            staff.participant,
            np.maximum(m.howto_of_staff, facilitator),
            np.where(reached, m.howto_of_staff, 0.0),
        )
