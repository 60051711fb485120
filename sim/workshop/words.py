"""Plain words for the workshop page: display names, one-line explanations, sources, Info.

Everything a trainer reads on the page comes from here, so the page never shows a config key
(``whole_staff``) or a file name. Ranges and defaults are not declared here: they are read from
the parameter metadata of :mod:`sim.config` (see :mod:`sim.workshop.levers`).
"""

from __future__ import annotations

__all__ = [
    "OPTION_NAMES",
    "OPTION_HELP",
    "OPPOSITE_STRATEGY",
    "SOURCES",
    "INFO_SECTIONS",
    "EVENT_NAMES",
    "option_name",
]

#: Display names of every option of every choice.
OPTION_NAMES: dict[str, dict[str, str]] = {
    "scenario": {
        "new_forest": "New Forest: 8 primary schools, 21 sent",
        "rlc_trial": "Research Learning Communities trial: 5 primaries",
        "secondary_trust": "A trust of 6 secondary schools",
        "passive_dissemination": "Materials only, no network",
        "from_files": "Your network (from its files)",
    },
    "strategy": {
        "whole_staff": "Whole-staff launch",
        "start_small": "Start small",
        "broadcast": "Pass on materials only",
        "none": "Nothing back in school",
    },
    "mode": {
        "none": "No particular way",
        "champions": "Champions",
        "learning_conversations": "Learning conversations",
        "both": "Champions and learning conversations",
    },
    "selection": {
        "mixed": "Senior leaders and opinion formers",
        "senior_leaders": "Senior leaders only",
        "opinion_formers": "Opinion formers",
        "middle_leaders": "Middle leaders",
        "early_career": "Early-career teachers",
        "random": "Whoever is free (random)",
    },
    "session_frequency": {
        "weekly": "Every week",
        "fortnightly": "Every fortnight",
        "half_termly": "Twice a term",
        "termly": "Once a term",
    },
}

#: One line explaining each option.
OPTION_HELP: dict[str, dict[str, str]] = {
    "scenario": {
        "new_forest": "The New Forest Research Learning Network of 2017-18: 8 primaries, about "
        "70 teachers, 21 staff sent to four workshops with a facilitator (Flood's case study).",
        "rlc_trial": "Like the EEF Research Learning Communities trial (Rose et al. 2017): 5 "
        "primaries, two evidence champions each; leadership back home set so that the model "
        "gives the trial's small pupil effect (+0.02).",
        "secondary_trust": "Six secondary schools of about 60 staff each, organised in "
        "departments.",
        "passive_dissemination": "Research materials are posted to the schools; nobody goes "
        "to a network (like the EEF 'Literacy Octopus' trial).",
        "from_files": "Your own schools: the staff, advice ties and schools of the network files "
        "the page was started with (make workshop NETWORK=folder).",
    },
    "strategy": {
        "whole_staff": "After the first workshop the whole staff is told and asked to try it; "
        "sessions for everyone follow. Pushes people before they are persuaded.",
        "start_small": "Those sent each bring a few trusted colleagues into a pilot; the "
        "whole staff joins once the pilot shows it works (Flood's New Forest case study).",
        "broadcast": "Those sent pass on the materials by email or a briefing; nobody is "
        "asked to try it.",
        "none": "Nothing is done back in school: only those sent learn, and it can go 'out "
        "of sight' (Brown's BELMAS interview).",
    },
    "mode": {
        "none": "Sessions only, with no extra way of working.",
        "champions": "Those sent model the practice in their classrooms; colleagues see it "
        "working and it counts for more (Brown & Flood 2019).",
        "learning_conversations": "Staff try it, then talk it through together; learning "
        "is deeper and quality grows faster (Brown & Flood 2019).",
        "both": "Champions model it and staff hold learning conversations.",
    },
    "selection": {
        "mixed": "Senior leaders plus the colleagues others turn to for advice, as in the "
        "New Forest (Flood's case study).",
        "senior_leaders": "Only the head and deputies: authority, but fewer colleagues turn "
        "to them for everyday advice.",
        "opinion_formers": "The teachers colleagues turn to for trusted advice.",
        "middle_leaders": "Heads of year or department.",
        "early_career": "New teachers: keen, but few colleagues ask them for advice "
        "(Brown's BELMAS interview warns against it).",
        "random": "Whoever has the time: a baseline to compare with.",
    },
    "session_frequency": {
        "weekly": "A whole-staff session every week.",
        "fortnightly": "A session every other week.",
        "half_termly": "Two sessions a term (twilight sessions, as in the New Forest).",
        "termly": "One session a term.",
    },
}

#: The strategy side B starts with, given side A's: the comparison a room usually wants.
OPPOSITE_STRATEGY: dict[str, str] = {
    "whole_staff": "start_small",
    "start_small": "whole_staff",
    "broadcast": "start_small",
    "none": "whole_staff",
}

#: Events marked on the curves: key -> (mark, name).
EVENT_NAMES: dict[str, tuple[str, str]] = {
    "workshop": ("W", "PLN workshop"),
    "pilot": ("P", "pilot started"),
    "launch": ("L", "whole-staff launch"),
    "widened": ("L", "pilot widened to the whole staff"),
    "support_ended": ("S", "facilitated support ended"),
    "control_back": ("C", "leaders took control back"),
    "out_of_sight": ("O", "went out of sight"),
    "decision": ("D", "your decision"),
}

#: The source texts, as readers know them: (short name, the work, what the model takes from it).
SOURCES: tuple[tuple[str, str, str], ...] = (
    (
        "Flood's New Forest case study",
        "Jane Flood, 'How can school leaders maximise the benefits of being part of a "
        "Professional Learning Network' - the New Forest Research Learning Network, 2017-18.",
        "The eight schools, the 21 staff sent, four workshops, time release, whole-staff "
        "twilight sessions, starting small, 'how to' support, trust and risk-taking.",
    ),
    (
        "Brown & Flood 2019",
        "Chris Brown and Jane Flood, 'Formalise, Prioritise and Mobilise' (2019), "
        "summarised in the blog 'Maximising the benefits of Professional Learning Networks' "
        "(Brown, Flood and MacGregor).",
        "Formalising the work, a priority among many being no priority, distributed "
        "leadership, champions and learning conversations.",
    ),
    (
        "Brown 2019",
        "Chris Brown's 2019 paper on Professional Learning Networks: what they are, the "
        "conditions for their success, and the role of school leaders in linking them to schools.",
        "Kinds of collaboration from storytelling to joint work, trust between similar "
        "schools, three years before pupils gain.",
    ),
    (
        "Brown's BELMAS interview",
        "'Could a professional learning network help your school to improve?', interview "
        "with Chris Brown, BELMAS, June 2018.",
        "'When people return from network meetings it goes out of sight'; whom to send; "
        "a facilitated first year.",
    ),
    (
        "Brown & Poortman interview",
        "'Professional Learning Networks: promises and challenges for sustainable school "
        "improvement', interview with Chris Brown and Cindy Poortman, Valu.Enews (2020).",
        "Time is necessary but not sufficient; change lasts when it becomes a routine.",
    ),
)

#: The Info panel: (heading, paragraphs).
INFO_SECTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "What this is",
        (
            "A simulation of staff in a group of schools. A few of them go to a Professional "
            "Learning Network (PLN) and learn a new teaching practice; the question is whether "
            "it reaches their colleagues back in school, and stays.",
            "Each dot is a member of staff, grouped by school; lines are who asks whom for "
            "advice. Week by week people hear of the practice, get interested, try it, adopt "
            "it and make it a habit - or stop, or push back.",
        ),
    ),
    (
        "What it assumes",
        (
            "People move on when enough colleagues they trust use it, when the school signals "
            "it matters (the plan, targets, leaders checking in) and when someone shows them "
            "how. Time is needed but is not enough on its own.",
            "Being pushed before being persuaded makes some staff resist. Without involvement "
            "the work can go 'out of sight'. Leaders may take control back after a visible "
            "failure. Staff leave and join each year.",
            "Numbers such as rates and thresholds are plausible assumptions, not measurements: "
            "use the page to compare choices, not to forecast one school.",
        ),
    ),
    (
        "Things to notice",
        (
            "Who the first users are, and whether use spreads beyond those sent.",
            "What happens after the facilitated year ends (the S mark on the curves).",
            "How many staff resist under a whole-staff launch, against starting small.",
            "How much of a difference is chance: press 'Run 50 seeds' before reading much "
            "into one run.",
        ),
    ),
    (
        "Things to try",
        (
            "Side by side, with trust low: whole-staff launch against start small.",
            "Pause at the end of year 1, put the work in the improvement plan for one school "
            "only, and continue.",
            "Send opinion formers instead of senior leaders.",
            "Give two hours a week of collaboration time but no leader involvement.",
        ),
    ),
)


def option_name(kind: str, value: str) -> str:
    """The display name of an option (the value itself if it has none)."""
    return OPTION_NAMES.get(kind, {}).get(value, value.replace("_", " "))
