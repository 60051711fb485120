"""The English school calendar the model runs on (MODEL.md §3 step 1).

Constants only: every module that counts weeks, terms or session periods imports them from here.
"""

from __future__ import annotations

__all__ = ["WEEKS_PER_YEAR", "WEEKS_PER_TERM", "SESSION_PERIOD_WEEKS"]

#: Teaching weeks in an English school year: three terms of 13 [seed/lit].
WEEKS_PER_YEAR = 39
WEEKS_PER_TERM = 13

#: Weeks between whole-staff sessions for each allowed session frequency.
SESSION_PERIOD_WEEKS: dict[str, int] = {
    "weekly": 1,
    "fortnightly": 2,
    "half_termly": 7,  # two sessions per 13-week term
    "termly": 13,
}
