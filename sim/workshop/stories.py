"""Guided stories: built-in set-ups that run to checkpoints and pause with a short narration.

Each :class:`Story` sets the controls and names the weeks to stop at. Narrations are templates
filled with the run's own numbers when the checkpoint is reached (``{headline}``,
``{difference}``, ``{resisting}``...), so they never claim a result the run did not produce.
"""

from __future__ import annotations

from dataclasses import dataclass

from sim.workshop.session import Controls, Side, WorkshopSession

__all__ = ["Checkpoint", "Story", "STORIES", "story", "narrate"]


@dataclass(frozen=True)
class Checkpoint:
    """A week to stop at, and what to say there."""

    week: int
    narration: str


@dataclass(frozen=True)
class Story:
    """A guided story.

    Attributes:
        key: Identifier.
        title: Display name.
        intro: What the room is about to see (shown before the first checkpoint).
        controls: The set-up.
        checkpoints: Weeks to stop at, in order.

    """

    key: str
    title: str
    intro: str
    controls: Controls
    checkpoints: tuple[Checkpoint, ...]


STORIES: tuple[Story, ...] = (
    Story(
        "out_of_sight",
        "It goes out of sight",
        "Eight schools send staff to the network, but back home nothing is planned: the work "
        "is not in the improvement plan or targets, leaders are hands off, and those sent only "
        "pass the materials on. Brown's BELMAS interview: 'when people return from network "
        "meetings it goes out of sight'.",
        Controls(
            a=Side("broadcast", "none", "mixed"),
            levers=(
                ("leadership.in_improvement_plan", False),
                ("leadership.in_performance_targets", False),
                ("leadership.involvement", 0.1),
            ),
        ),
        (
            Checkpoint(
                15,
                "Two workshops in ({when}). {headline}. Look at the black outlines: those sent "
                "are learning. Has anyone else moved beyond 'aware'?",
            ),
            Checkpoint(
                40,
                "The facilitated year is over (the S mark). {headline}; {spread:.0f}% of the "
                "staff who were not sent use it. Ticks along the bottom of the curve show each "
                "time the work went out of sight in a school.",
            ),
            Checkpoint(
                117,
                "Three years on: {headline}. Try it again with the work in the plan and leaders "
                "checking in, and compare.",
            ),
        ),
    ),
    Story(
        "start_small_low_trust",
        "Start small under low trust",
        "Trust among staff is low. Side A launches to the whole staff after the first "
        "workshop; side B starts small with a pilot of trusted colleagues and brings everyone "
        "in once it shows it works (Flood's New Forest case study). Same schools, same luck.",
        Controls(side_by_side=True, levers=(("schools.trust_climate", 0.3),)),
        (
            Checkpoint(
                6,
                "The first workshop was in week 5: A launched to everyone (L), B started its "
                "pilots (P). {headline}. Count the purple bars: staff pushed before being "
                "persuaded push back.",
            ),
            Checkpoint(
                39,
                "End of year 1. {difference}. Has B widened its pilot yet (its L mark)?",
            ),
            Checkpoint(
                117,
                "End of year 3. {difference}. One run is one roll of the dice: press "
                "'Run 50 seeds' to see how often this holds.",
            ),
        ),
    ),
    Story(
        "who_you_send",
        "Who you send",
        "Both sides launch to the whole staff. Side A sends only senior leaders; side B sends "
        "the opinion formers: the teachers colleagues turn to for advice.",
        Controls(
            side_by_side=True,
            a=Side("whole_staff", "none", "senior_leaders"),
            b=Side("whole_staff", "none", "opinion_formers"),
        ),
        (
            Checkpoint(
                39,
                "End of year 1. {difference}. In the networks, look at who asks whom: how many "
                "ties lead to those outlined in black?",
            ),
            Checkpoint(117, "End of year 3. {difference}."),
        ),
    ),
    Story(
        "time_is_not_enough",
        "Time is not enough",
        "Every member of staff gets two hours a week to work on it together, but leaders are "
        "hands off and nobody shows colleagues how (Brown & Poortman interview: time is "
        "necessary but not sufficient).",
        Controls(
            levers=(
                ("leadership.collab_hours_per_week", 2.0),
                ("leadership.howto_support", 0.1),
                ("leadership.involvement", 0.1),
            ),
        ),
        (
            Checkpoint(39, "End of year 1: {headline}, at {hours:,.0f} teacher-hours."),
            Checkpoint(
                117,
                "End of year 3: {headline}, at {hours:,.0f} teacher-hours. Now pause early, "
                "raise involvement and 'how to' support, and compare.",
            ),
        ),
    ),
)

_BY_KEY = {s.key: s for s in STORIES}


def story(key: str) -> Story:
    """The story called ``key``."""
    return _BY_KEY[key]


def narrate(checkpoint: Checkpoint, session: WorkshopSession) -> str:
    """A checkpoint's narration filled with the run's own numbers."""
    m = session.monitors(0)
    return checkpoint.narration.format(
        headline=session.headline(),
        difference=session.difference() or session.headline(),
        when=m.when,
        spread=m.spread_pct,
        hours=m.teacher_hours,
        resisting=m.resistant,
    )
