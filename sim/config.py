"""Configuration schema: structured configs for Hydra, with validation.

Every parameter is declared once, with :func:`param`, carrying its default, allowed range or
choices, unit and source tag. Hydra uses the dataclasses as the schema (typos and wrong types are
rejected while composing); :meth:`Config.validate` then checks ranges, choices, per-school list
lengths and combinations, and raises :class:`ConfigError` with a one-line message naming the key
and what is allowed. ``docs/PARAMETERS.md`` is generated from the same metadata.

Per-school parameters (``per_school=True``) accept one value for every school or a list with one
value per school.

Source tags: ``[seed NNN]`` a text in the project's seed collection (see docs/ODD.md),
``[lit]`` the literature (named), ``[assume]`` an assumption, exposed for sensitivity analysis.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "Config",
    "ConfigError",
    "SESSION_PERIOD_WEEKS",
    "param",
    "iter_params",
]

#: Weeks between whole-staff sessions for each allowed session frequency.
SESSION_PERIOD_WEEKS: dict[str, int] = {
    "weekly": 1,
    "fortnightly": 2,
    "half_termly": 7,  # two sessions per 13-week term
    "termly": 13,
}

#: Kinds of collaboration (Warren-Little 1990, seed 004), ordered by depth, and the relative
#: rate at which each lets enactment quality grow [assume].
COLLABORATION_DEPTH: dict[str, float] = {
    "storytelling": 0.25,
    "aid_and_assistance": 0.5,
    "sharing": 0.75,
    "joint_work": 1.0,
}


class ConfigError(ValueError):
    """An invalid configuration; the message is one line naming the key and what is allowed."""


class Section:
    """Base of every configuration section: assigning a key it does not declare is an error.

    ``cfg.leadership.involvment = 0.5`` (a typo) raises :class:`ConfigError` naming the key and
    the allowed keys, instead of adding an attribute no process reads.
    """

    def __setattr__(self, name: str, value: Any) -> None:
        fields = self.__dataclass_fields__  # type: ignore[attr-defined]
        if name not in fields:
            prefix = _SECTION_KEYS.get(type(self), "")
            allowed = ", ".join(prefix + n for n in fields)
            raise ConfigError(f"unknown key '{prefix}{name}'; allowed keys here: {allowed}")
        object.__setattr__(self, name, value)


#: The key prefix of each section class ("leadership." for LeadershipConfig), filled in below.
_SECTION_KEYS: dict[type, str] = {}


def param(
    default: Any,
    *,
    source: str,
    help: str,
    unit: str = "",
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    choices: tuple[Any, ...] | None = None,
    per_school: bool = False,
) -> Any:
    """Declare a parameter: its default plus the metadata used for validation and docs.

    Args:
        default: Default value (lists are copied for each instance).
        source: Source tag, e.g. ``"[seed 000]"``, ``"[lit: Valente 1996]"``, ``"[assume]"``.
        help: One-line meaning of the parameter.
        unit: Unit, if the value has one.
        low: Smallest allowed value (inclusive unless ``low_open``).
        high: Largest allowed value (inclusive).
        low_open: Whether ``low`` itself is excluded.
        choices: Allowed values, for categorical parameters.
        per_school: Whether the parameter may be given per school (scalar or one value per school).

    """
    meta = {
        "source": source,
        "help": help,
        "unit": unit,
        "low": low,
        "high": high,
        "low_open": low_open,
        "choices": choices,
        "per_school": per_school,
    }
    if isinstance(default, list):
        return field(default_factory=lambda d=tuple(default): list(d), metadata=meta)
    return field(default=default, metadata=meta)


# --------------------------------------------------------------------------------------------
# Sections (one per module of the model; see docs/ODD.md for the mechanisms they parameterise)
# --------------------------------------------------------------------------------------------


@dataclass
class SchoolsConfig(Section):
    """Schools, staff and pupils (ODD §2)."""

    phase: str = param(
        "primary",
        choices=("primary", "secondary"),
        source="[seed 000]",
        help="school phase (a label: teachers, leaders and team_size set the structure)",
    )
    teachers: Any = param(
        [6, 7, 8, 8, 9, 10, 10, 12],
        low=1,
        per_school=True,
        unit="staff",
        source="[seed 000: ~70 teachers in 8 primaries]",
        help="classroom staff per school (not counting senior leaders); list length sets schools",
    )
    leaders: Any = param(
        2,
        low=1,
        per_school=True,
        unit="staff",
        source="[assume: head and deputy in a primary]",
        help="senior leaders per school; the first is the head",
    )
    team_size: int = param(
        3,
        low=1,
        unit="staff",
        source="[lit: de Jong et al. 2022, year-group or phase teams]",
        help="typical team size (year groups or phases in primaries, departments in secondaries)",
    )
    opinion_formers: Any = param(
        [1, 1, 1, 1, 1, 1, 1, 2],
        low=0,
        per_school=True,
        unit="staff",
        source="[seed 000: 9 opinion formers in 8 schools]",
        help="non-leaders colleagues turn to for advice (advice-network hubs)",
    )
    middle_leader_share: float = param(
        0.2,
        low=0,
        high=1,
        source="[assume]",
        help="share of teachers (senior leaders excluded) who are middle leaders",
    )
    early_career_share: float = param(
        0.15, low=0, high=1, source="[assume]", help="share of teachers in their first years"
    )
    pupils_per_teacher: float = param(
        21.0,
        low=0,
        unit="pupils",
        source="[seed 000: 1,470 pupils / 70 teachers]",
        help="pupils taught by a teacher",
    )
    pupils_per_leader: float = param(
        0.0,
        low=0,
        unit="pupils",
        source="[seed 000: the 1,470 pupils are counted over the 70 teachers]",
        help="pupils taught by a senior leader (beyond the teachers' classes)",
    )
    trust_climate: Any = param(
        0.6,
        low=0,
        high=1,
        per_school=True,
        source="[assume; lit: Bryk & Schneider 2002]",
        help="mean trust among staff and in leaders",
    )
    disadvantage: Any = param(
        0.2,
        low=0,
        high=1,
        per_school=True,
        source="[assume]",
        help="share of pupils eligible for free school meals (recorded; no mechanism uses it yet)",
    )


@dataclass
class NetworkConfig(Section):
    """Within-school advice networks (ODD §2)."""

    p_within_team: float = param(
        0.95,
        low=0,
        high=1,
        source="[lit: Spillane, Kim & Frank 2012; calibrated to de Jong et al. 2022 densities]",
        help="probability that two members of the same team have an advice relationship",
    )
    cross_team_ties: float = param(
        8.0,
        low=0,
        unit="ties",
        source="[calibrated to de Jong et al. 2022 densities]",
        help="expected advice relationships a person has outside their team (sparser large schools)",
    )
    p_cross_team_max: float = param(
        0.85,
        low=0,
        high=1,
        source="[assume]",
        help="cap on the cross-team relationship probability in small schools",
    )
    mutual_share: float = param(
        0.6,
        low=0,
        high=1,
        source="[calibrated to de Jong et al. 2022 reciprocity]",
        help="share of relationships in which advice flows both ways",
    )
    hub_pull: float = param(
        1.8,
        low=1,
        source="[calibrated to de Jong et al. 2022 centralisation]",
        help="how strongly opinion formers attract advice seekers (relative attractiveness)",
    )
    opinion_former_trust_bonus: float = param(
        0.8,
        low=0,
        high=1,
        source="[seed 000: 'trusted work-related expertise and advice'; calibrated to pattern 4]",
        help="share of the gap to full trust added to the mean trust of ties to opinion formers",
    )
    trust_concentration: float = param(
        10.0,
        low=0,
        low_open=True,
        source="[assume]",
        help="Beta concentration of initial tie trust around the school's trust climate",
    )
    staff: str = param(
        "",
        source="[your data; docs/NETWORK_DATA.md]",
        help="staff CSV of an imported network (id, school, role, ...); empty: generate networks",
    )
    ties: str = param(
        "",
        source="[your data; docs/NETWORK_DATA.md]",
        help="advice-ties CSV of an imported network (seeker, adviser, optional strength)",
    )
    schools: str = param(
        "",
        source="[your data; docs/NETWORK_DATA.md]",
        help="schools CSV of an imported network (id, phase, size, optional levers)",
    )


@dataclass
class PLNConfig(Section):
    """The Professional Learning Network (ODD §2, §4 PLN learning)."""

    workshop_weeks: list[int] = param(
        [4, 14, 24, 34],
        low=0,
        high=38,
        source="[seed 000: four workshops, October to June]",
        help="weeks of the school year (0 = first week of September) with a PLN workshop",
    )
    support_years: int = param(
        1,
        low=0,
        unit="years",
        source="[seed 000, 001: facilitated first year]",
        help="years of facilitated PLN support (workshops run only while supported)",
    )
    focus_alignment: float = param(
        0.8,
        low=0,
        high=1,
        source="[seed 000, 004: shared, clearly defined focus]",
        help="how well the network's topic matches the schools' priorities",
    )
    homogeneity: float = param(
        0.6,
        low=0,
        high=1,
        source="[seed 004]",
        help="similarity of member schools; trust forms faster between similar schools",
    )
    attend_base: float = param(
        0.7,
        low=0,
        high=1,
        source="[assume]",
        help="probability a participant attends a workshop without release time or formalisation",
    )
    attend_release_bonus: float = param(
        0.2,
        low=0,
        high=1,
        source="[seed 000: release from timetabled commitments]",
        help="added attendance probability when the school releases participants",
    )
    attend_formal_bonus: float = param(
        0.1,
        low=0,
        high=1,
        source="[seed 000, 003]",
        help="added attendance probability at full formalisation",
    )
    learn_rate: float = param(
        0.4,
        low=0,
        high=1,
        source="[assume]",
        help="share of the knowledge gap closed per workshop at full alignment and network trust",
    )
    trust_rate: float = param(
        0.3,
        low=0,
        high=1,
        source="[assume; seed 004]",
        help="share of the network-trust gap closed per workshop at full homogeneity",
    )
    initial_network_trust: float = param(
        0.3, low=0, high=1, source="[assume]", help="participants' trust in the network at start"
    )
    trial_commitment: float = param(
        0.5,
        low=0,
        high=1,
        source="[lit: Brown 2017, RLC cycle of trialling between workshops; assume value]",
        help="probability an attending participant with the time starts a trial after a workshop",
    )
    facilitator_support: float = param(
        0.8,
        low=0,
        high=1,
        source="[seed 001: an academic facilitator]",
        help="how-to support participants get from the facilitator while the PLN is supported",
    )
    workshop_hours: float = param(
        6.0, low=0, unit="hours", source="[assume: a school day]", help="length of a workshop"
    )


@dataclass
class SelectionConfig(Section):
    """Who is sent to the PLN (ODD §4.4 participant selection)."""

    policy: str = param(
        "mixed",
        choices=(
            "mixed",
            "random",
            "opinion_formers",
            "senior_leaders",
            "middle_leaders",
            "early_career",
            "listed",
        ),
        source="[seed 000: senior leaders plus opinion formers; seed 001]",
        help="how participants are chosen (listed: the staff ids in selection.participants)",
    )
    participants: list[str] = param(
        [],
        source="[your choice; experiments.whom_to_send]",
        help="with policy listed: staff ids to send (at most per_school per school)",
    )
    per_school: Any = param(
        [3, 3, 3, 3, 2, 2, 2, 3],
        low=0,
        per_school=True,
        unit="staff",
        source="[seed 000: 21 participants from 8 schools]",
        help="participants per school",
    )
    leaders_per_school: Any = param(
        [2, 2, 2, 2, 1, 1, 1, 1],
        low=0,
        per_school=True,
        unit="staff",
        source="[seed 000: 12 senior leaders and 9 opinion formers]",
        help="with policy mixed: how many of a school's participants are senior leaders",
    )


@dataclass
class StrategyConfig(Section):
    """How the knowledge is mobilised back in school (ODD §4.3)."""

    name: str = param(
        "whole_staff",
        source="[seed 000]",
        help="mobilisation strategy: a name registered in sim.strategies",
    )
    session_attendance: float = param(
        0.9,
        low=0,
        high=1,
        source="[assume]",
        help="probability a staff member attends a whole-staff session",
    )
    session_learn_rate: float = param(
        0.15,
        low=0,
        high=1,
        source="[assume]",
        help="share of the gap to the participants' knowledge closed by one session",
    )
    session_hours: float = param(
        1.0, low=0, unit="hours", source="[seed 000: twilight sessions]", help="length of a session"
    )
    pilot_size: int = param(
        2,
        low=0,
        unit="staff",
        source="[seed 000: start small; assume size]",
        help="start_small: colleagues each participant brings into the pilot (most trusting ties)",
    )
    q_ready: float = param(
        0.5,
        low=0,
        high=1,
        source="[seed 000: 'showing positive impact'; assume level]",
        help="start_small: mean pilot quality at which the whole staff is brought in",
    )
    max_wait_terms: int = param(
        3,
        low=0,
        unit="terms",
        source="[assume]",
        help="start_small: terms after the pilot starts when the whole staff is brought in anyway",
    )
    materials_knowledge: float = param(
        0.05,
        low=0,
        high=1,
        source="[assume; lit: EEF Literacy Octopus]",
        help="broadcast: share of the knowledge gap closed by reading the materials",
    )


@dataclass
class ModeConfig(Section):
    """How mobilisation is carried out (seed 003): champions, learning conversations, or both."""

    name: str = param(
        "none",
        choices=("none", "champions", "learning_conversations", "both"),
        source="[seed 003]",
        help="mobilisation mode, combinable with any rollout strategy",
    )
    champion_visibility: float = param(
        1.5,
        low=1,
        source="[seed 003; assume]",
        help="champions: how much more a participant's practice counts in colleagues' social proof",
    )


@dataclass
class LeadershipConfig(Section):
    """Leadership levers, per school (ODD §4.4)."""

    in_improvement_plan: Any = param(
        True, per_school=True, source="[seed 000, 003]", help="the work is in the improvement plan"
    )
    in_performance_targets: Any = param(
        True, per_school=True, source="[seed 000]", help="the work is in performance targets"
    )
    governors_engaged: Any = param(
        False, per_school=True, source="[seed 000]", help="governors are engaged with the work"
    )
    plan_priorities: Any = param(
        3,
        low=1,
        per_school=True,
        source="[seed 003; assume default]",
        help="number of priorities in the improvement plan (a priority among many is none)",
    )
    priority_dilution: float = param(
        0.15,
        low=0,
        source="[assume]",
        help="d in P = F (0.5 + 0.5 L) / (1 + d (priorities - 1))",
    )
    release_for_workshops: Any = param(
        True, per_school=True, source="[seed 000]", help="participants are released to attend"
    )
    collab_hours_per_week: Any = param(
        1.0,
        low=0,
        high=2,
        per_school=True,
        unit="hours/week",
        source="[seed 000: PPA reallocation]",
        help="collaboration time allocated to every member of staff",
    )
    session_frequency: Any = param(
        "half_termly",
        choices=tuple(SESSION_PERIOD_WEEKS),
        per_school=True,
        source="[seed 000: twilight sessions]",
        help="how often whole-staff sessions run",
    )
    distributed_leadership: Any = param(
        0.5,
        low=0,
        high=1,
        per_school=True,
        source="[seed 003]",
        help="D: how far participants are empowered to lead (reach of their sessions)",
    )
    involvement: Any = param(
        0.5,
        low=0,
        high=1,
        per_school=True,
        source="[seed 000, 001]",
        help="L: leaders stay involved, check in, keep reminders up",
    )
    research_lead: Any = param(
        False,
        per_school=True,
        source="[seed 000: a dedicated member of staff]",
        help="a research lead finds, reads and passes on research",
    )
    research_lead_support: float = param(
        0.2,
        low=0,
        high=1,
        source="[assume]",
        help="how-to support a research lead adds (capped at 1)",
    )
    research_lead_hours: float = param(
        2.0, low=0, unit="hours/week", source="[assume]", help="a research lead's weekly time"
    )
    out_of_sight_rate: float = param(
        0.04,
        low=0,
        high=1,
        unit="1/week",
        source="[seed 001: 'it goes out of sight'; assume rate]",
        help="weekly hazard the work goes out of sight at zero involvement and formalisation",
    )
    back_in_sight_rate: float = param(
        0.25,
        low=0,
        high=1,
        unit="1/week",
        source="[seed 000: check-ins, ambient reminders; assume rate]",
        help="weekly chance, at full involvement, that check-ins bring the work back in sight",
    )
    control_back_trust_loss: float = param(
        0.15,
        low=0,
        high=1,
        source="[seed 003; assume]",
        help="share of trust in leaders lost when leaders take control back after a failure",
    )
    howto_support: Any = param(
        0.5,
        low=0,
        high=1,
        per_school=True,
        source="[seed 000]",
        help="H: modelling and explaining the practice to non-participants",
    )


@dataclass
class DecisionConfig(Section):
    """Readiness, thresholds, capacity and transitions (ODD §4.2)."""

    w_social: float = param(
        0.5, low=0, high=1, source="[assume]", help="weight of social proof in readiness"
    )
    w_formal: float = param(
        0.25, low=0, high=1, source="[assume]", help="weight of the school's signal in readiness"
    )
    w_support: float = param(
        0.25, low=0, high=1, source="[assume]", help="weight of how-to support in readiness"
    )
    threshold_mean: float = param(
        0.35,
        low=0,
        high=1,
        low_open=True,
        source="[assume; lit: Valente 1996]",
        help="mean of the adoption threshold (see threshold_distribution)",
    )
    threshold_distribution: str = param(
        "beta",
        choices=("beta", "normal"),
        source="[lit: Valente 1996 (beta on [0,1]); Granovetter 1978 (normal)]",
        help="distribution of thresholds with the given mean and sd",
    )
    threshold_sd: float = param(
        0.15, low=0, source="[assume]", help="standard deviation of the threshold"
    )
    capacity_mean_hours: float = param(
        1.0,
        low=0,
        low_open=True,
        unit="hours/week",
        source="[assume]",
        help="mean discretionary hours a week (Gamma distributed)",
    )
    capacity_shape: float = param(
        2.0, low=0, low_open=True, source="[assume]", help="Gamma shape of capacity"
    )
    trial_hours: float = param(
        1.0,
        low=0,
        unit="hours/week",
        source="[assume]",
        help="h_trial: free hours a week needed to start trialling",
    )
    p_act: float = param(
        0.3, low=0, high=1, source="[assume]", help="weekly probability of acting when ready"
    )
    noise_enabled: bool = param(
        True, source="[lit: Eckles et al.]", help="whether unpersuaded aware staff may try anyway"
    )
    noise_rate: float = param(
        0.002,
        low=0,
        high=1,
        unit="1/week",
        source="[assume]",
        help="epsilon: weekly probability an aware person tries without persuasion",
    )
    relapse_margin: float = param(
        0.1,
        low=0,
        high=1,
        source="[assume]",
        help="extra readiness a lapsed person needs before becoming interested again",
    )
    resistance_rate: float = param(
        0.3,
        low=0,
        high=1,
        source="[assume; seed 001, Daly 2010]",
        help="rho: pressured, unpersuaded staff turn resistant with probability rho (1 - tau)",
    )
    resistance_margin: float = param(
        0.1,
        low=0,
        high=1,
        source="[assume]",
        help="m: pressure turns staff resistant only when readiness < threshold - m",
    )
    resistance_exit: float = param(
        0.15,
        low=0,
        high=1,
        source="[assume]",
        help="delta-theta: extra readiness a resistant person needs to become interested",
    )
    resistant_influence: float = param(
        0.5,
        low=0,
        high=1,
        source="[lit: Daly 2010, negative opinion leadership; assume weight]",
        help="how much a resistant adviser subtracts from a colleague's social proof",
    )
    leader_trust_concentration: float = param(
        10.0,
        low=0,
        low_open=True,
        source="[assume]",
        help="Beta concentration of trust in leaders around the school's trust climate",
    )


@dataclass
class ConversationConfig(Section):
    """Conversation along advice ties (ODD §4.1)."""

    contact_rate: float = param(
        0.25,
        low=0,
        high=1,
        unit="1/week",
        source="[assume]",
        help="weekly probability a fully trusted tie is active without allocated time",
    )
    collab_boost: float = param(
        0.5,
        low=0,
        unit="per hour",
        source="[assume]",
        help="relative increase of tie activity per allocated collaboration hour",
    )
    knowhow_rate: float = param(
        0.1,
        low=0,
        high=1,
        source="[assume]",
        help="r_k: share of the know-how gap closed by one conversation on a fully trusted tie",
    )


@dataclass
class PracticeConfig(Section):
    """Classroom practice, stages and lapse (ODD §4.5)."""

    quality_rate: float = param(
        0.12,
        low=0,
        high=1,
        unit="1/week",
        source="[assume]",
        help="r_q: weekly growth rate of enactment quality at full time, support and depth",
    )
    practice_hours_full: float = param(
        2.0,
        low=0,
        low_open=True,
        unit="hours/week",
        source="[assume]",
        help="weekly hours at which practice time no longer limits quality growth",
    )
    quality_decay: float = param(
        0.03,
        low=0,
        high=1,
        unit="1/week",
        source="[assume]",
        help="weekly loss of quality without practice",
    )
    collaboration_kind: str = param(
        "sharing",
        choices=tuple(COLLABORATION_DEPTH),
        source="[seed 004: Warren-Little's kinds of collaboration]",
        help="the kind of collaboration staff practise in",
    )
    q_adopt: float = param(
        0.5, low=0, high=1, source="[assume]", help="quality at which a trial becomes adoption"
    )
    q_embed: float = param(
        0.7, low=0, high=1, source="[assume]", help="quality needed to become embedded"
    )
    embed_weeks: int = param(
        13,
        low=1,
        unit="weeks",
        source="[assume: a term]",
        help="weeks of adoption before practice can embed",
    )
    routine_level: float = param(
        0.5,
        low=0,
        high=1,
        source="[seed 002; assume level]",
        help="F or D at or above which school routines can carry practice (embedding)",
    )
    trial_weeks_max: int = param(
        26,
        low=1,
        unit="weeks",
        source="[assume]",
        help="a trial that has not reached q_adopt by then has failed (visible failure)",
    )
    lapse_base: float = param(
        0.004,
        low=0,
        high=1,
        unit="1/week",
        source="[assume]",
        help="weekly lapse hazard of a user with time, check-ins, formalisation and support",
    )
    lapse_no_time: float = param(
        1.0, low=0, source="[assume]", help="relative hazard increase when practice time is short"
    )
    lapse_no_checkin: float = param(
        1.0, low=0, source="[assume]", help="relative hazard increase without leader involvement"
    )
    lapse_unformalised: float = param(
        1.0, low=0, source="[assume]", help="relative hazard increase without formalisation"
    )
    lapse_support_ended: float = param(
        2.0,
        low=0,
        source="[assume; lit: Datnow 2005]",
        help="relative hazard increase after PLN support ends",
    )
    embedded_lapse_factor: float = param(
        0.1, low=0, high=1, source="[seed 002; assume]", help="embedded users' relative hazard"
    )


@dataclass
class TrustConfig(Section):
    """Trust updates on advice ties (ODD §3 step 9)."""

    gain: float = param(
        0.05,
        low=0,
        high=1,
        source="[assume; lit: Bryk & Schneider 2002]",
        help="share of the trust gap closed when help on a tie led to progress",
    )
    loss: float = param(
        0.1,
        low=0,
        high=1,
        source="[assume]",
        help="share of trust lost on a person's ties when their trial fails",
    )


@dataclass
class TurnoverConfig(Section):
    """Staff turnover at school-year ends (MODEL.md §3 step 2)."""

    rate: float = param(
        0.09,
        low=0,
        high=1,
        unit="1/year",
        source="[lit: DfE teacher leaver rates 7.8-9.2%]",
        help="share of staff who leave at each year end (replaced by unaware newcomers)",
    )


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
    )


@dataclass
class Config(Section):
    """A whole run's configuration: scenario name, seed, horizon and one section per module."""

    scenario: str = param("new_forest", source="[seed 000]", help="name of the scenario preset")
    seed: int = param(0, low=0, source="-", help="run seed; all random streams derive from it")
    years: int = param(
        3, low=1, unit="years", source="[seed 004; Hutchings et al. 2012]", help="horizon"
    )
    schools: SchoolsConfig = field(default_factory=SchoolsConfig)
    network: NetworkConfig = field(default_factory=NetworkConfig)
    pln: PLNConfig = field(default_factory=PLNConfig)
    selection: SelectionConfig = field(default_factory=SelectionConfig)
    strategy: StrategyConfig = field(default_factory=StrategyConfig)
    mode: ModeConfig = field(default_factory=ModeConfig)
    leadership: LeadershipConfig = field(default_factory=LeadershipConfig)
    decision: DecisionConfig = field(default_factory=DecisionConfig)
    conversation: ConversationConfig = field(default_factory=ConversationConfig)
    practice: PracticeConfig = field(default_factory=PracticeConfig)
    trust: TrustConfig = field(default_factory=TrustConfig)
    turnover: TurnoverConfig = field(default_factory=TurnoverConfig)
    outcomes: OutcomesConfig = field(default_factory=OutcomesConfig)

    @property
    def n_schools(self) -> int:
        """Number of schools, set by the length of ``schools.teachers``."""
        teachers = self.schools.teachers
        return len(teachers) if isinstance(teachers, list | tuple) else 1

    def validate(self) -> Config:
        """Check every value against its declared range and the cross-parameter rules.

        Per-school values are normalised to lists of length ``n_schools``.

        Returns:
            The validated configuration itself.

        Raises:
            ConfigError: One line naming the offending key and what is allowed.

        """
        self._validate_section(self, "", n_schools=None)
        n = self.n_schools
        for f in dataclasses.fields(self):
            if dataclasses.is_dataclass(f.type) or dataclasses.is_dataclass(getattr(self, f.name)):
                self._validate_section(getattr(self, f.name), f.name + ".", n_schools=n)
        self._validate_combinations()
        return self

    # -- helpers ---------------------------------------------------------------------------

    @staticmethod
    def _validate_section(section: Any, prefix: str, n_schools: int | None) -> None:
        for f in dataclasses.fields(section):
            if dataclasses.is_dataclass(getattr(section, f.name)):
                continue
            key = prefix + f.name
            value = getattr(section, f.name)
            meta = f.metadata
            if meta.get("per_school"):
                value = _per_school(key, value, n_schools)
                for v in value:
                    check_value(key, v, f)
                setattr(section, f.name, value)
            elif isinstance(value, list):
                for v in value:
                    check_value(key, v, f)
            else:
                check_value(key, value, f)

    def _validate_combinations(self) -> None:
        from sim.strategies import STRATEGIES  # the registry is the list of allowed strategies

        if self.strategy.name not in STRATEGIES:
            raise ConfigError(
                f"strategy.name = {self.strategy.name!r} is not allowed; choose one of: "
                + ", ".join(sorted(STRATEGIES))
            )
        d = self.decision
        total = d.w_social + d.w_formal + d.w_support
        if not math.isclose(total, 1.0, abs_tol=1e-9):
            raise ConfigError(
                "decision.w_social + decision.w_formal + decision.w_support must sum to 1 "
                f"(got {total:g})"
            )
        m = d.threshold_mean
        if d.threshold_distribution == "beta" and d.threshold_sd**2 >= m * (1 - m):
            raise ConfigError(
                f"decision.threshold_sd must be below sqrt(mean*(1-mean)) = "
                f"{math.sqrt(m * (1 - m)):.4f} for a Beta threshold (got {d.threshold_sd:g})"
            )
        s = self.schools
        for i in range(self.n_schools):
            staff = s.teachers[i] + s.leaders[i]
            if s.opinion_formers[i] > s.teachers[i]:
                raise ConfigError(
                    f"schools.opinion_formers[{i}] = {s.opinion_formers[i]} exceeds the "
                    f"school's {s.teachers[i]} teachers"
                )
            if self.selection.per_school[i] > staff:
                raise ConfigError(
                    f"selection.per_school[{i}] = {self.selection.per_school[i]} exceeds the "
                    f"school's {staff} staff"
                )
            if self.selection.policy == "mixed":
                lead = self.selection.leaders_per_school[i]
                if lead > s.leaders[i] or lead > self.selection.per_school[i]:
                    raise ConfigError(
                        f"selection.leaders_per_school[{i}] = {lead} must be at most "
                        f"schools.leaders[{i}] = {s.leaders[i]} and selection.per_school[{i}] "
                        f"= {self.selection.per_school[i]}"
                    )
        if self.practice.q_embed < self.practice.q_adopt:
            raise ConfigError("practice.q_embed must be at least practice.q_adopt")


_SECTION_KEYS.update(
    {f.default_factory: f.name + "." for f in dataclasses.fields(Config) if f.default_factory}
)


def _per_school(key: str, value: Any, n_schools: int | None) -> list[Any]:
    """Normalise a per-school value to a list of length ``n_schools``."""
    if isinstance(value, list | tuple):
        values = list(value)
        if n_schools is None:  # schools.teachers itself defines the number of schools
            if not values:
                raise ConfigError(f"{key} must list at least one school")
            return values
        if len(values) == 1:
            return values * n_schools
        if len(values) != n_schools:
            raise ConfigError(
                f"{key} has {len(values)} values; give one value or one per school ({n_schools})"
            )
        return values
    return [value] * (n_schools or 1)


def check_value(key: str, value: Any, f: dataclasses.Field) -> None:
    """Check one scalar against the field's declared type, range and choices."""
    meta = f.metadata
    expected = scalar_type(f)
    if expected is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{key} must be true or false (got {value!r})")
    elif expected is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{key} must be a whole number (got {value!r})")
    elif expected is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{key} must be a number (got {value!r})")
        if not math.isfinite(value):
            raise ConfigError(f"{key} must be finite (got {value!r})")
    elif expected is str and not isinstance(value, str):
        raise ConfigError(f"{key} must be text (got {value!r})")
    choices = meta.get("choices")
    if choices is not None and value not in choices:
        raise ConfigError(f"{key} = {value!r} is not allowed; choose one of: {', '.join(choices)}")
    low, high, low_open = meta.get("low"), meta.get("high"), meta.get("low_open")
    if low is not None and (value < low or (low_open and value == low)):
        bound = f"> {low:g}" if low_open else f">= {low:g}"
        rng = f"{bound}" + (f" and <= {high:g}" if high is not None else "")
        raise ConfigError(f"{key} = {value!r} is out of range; allowed: {rng}")
    if high is not None and value > high:
        rng = (f">= {low:g} and " if low is not None else "") + f"<= {high:g}"
        raise ConfigError(f"{key} = {value!r} is out of range; allowed: {rng}")


def scalar_type(f: dataclasses.Field) -> type | None:
    """The scalar type a field holds (for per-school and list fields, the element type)."""
    default = f.default
    if default is dataclasses.MISSING and f.default_factory is not dataclasses.MISSING:
        default = f.default_factory()
    if isinstance(default, list):
        default = default[0] if default else None
    if isinstance(default, bool):
        return bool
    if isinstance(default, int):
        return int
    if isinstance(default, float):
        return float
    if isinstance(default, str):
        return str
    return None


def iter_params(section: Any = None, prefix: str = "") -> Any:
    """Yield ``(key, default, metadata)`` for every parameter of the schema, in order."""
    section = Config() if section is None else section
    for f in dataclasses.fields(section):
        value = getattr(section, f.name)
        if dataclasses.is_dataclass(value):
            yield from iter_params(value, prefix + f.name + ".")
        else:
            yield prefix + f.name, value, f.metadata
