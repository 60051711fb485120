"""Unit tests of the weekly processes (MODEL.md §3-4) on small hand-built situations.

Each test builds a model from ``Config()`` (the New Forest default: 8 primaries, 86 staff), sets
the state arrays it needs, runs the calendar for the week (so ``model.now`` is set) and then the
one process under test. State arrays are replaced, never written in place, as the processes do
(some readers cache on the identity of an array).

What a person perceives of the school's levers is set by
:meth:`~sim.model.KnowledgeMobilisationModel.refresh_perception` (called by the calendar): a
person is reached if a participant, or exposed by a strategy (``model.exposed``) in a school where
the work has not gone out of sight (``model.out_of_sight``). Tests bring the work in sight with
:func:`expose_schools`, as a strategy would.
"""

from __future__ import annotations

import numpy as np
import pytest
from model_helpers import (
    advisers_of,
    begin_week,
    deterministic_decisions,
    expose_schools,
    make_model,
    non_participant_with_advisers,
    only_ties,
    proc,
    run_weeks,
    set_stage,
    sure_attendance,
    tie_index,
)

from sim.config import COLLABORATION_DEPTH, Config
from sim.model import KnowledgeMobilisationModel
from sim.population import Stage
from sim.processes import (
    Conversation,
    Decision,
    Mobilisation,
    Outcomes,
    PLNLearning,
    Practice,
    TrustUpdate,
)
from sim.processes.decision import USES
from sim.school_year import WEEKS_PER_TERM, WEEKS_PER_YEAR

# -- helpers ---------------------------------------------------------------------------------------


def sure_contact(cfg: Config) -> None:
    """Ties with trust >= 2/3 are active every week (contact probability capped at 1)."""
    cfg.conversation.contact_rate = 1.0
    cfg.leadership.collab_hours_per_week = 1.0  # scale 1 * (1 + 0.5 * 1) = 1.5


# -- 1. Calendar -----------------------------------------------------------------------------------


def test_calendar_maps_weeks_to_years_terms_and_weeks_in_term():
    """Weeks 0-116 are three years of three 13-week terms."""
    m = make_model()
    seen = set()
    for week in range(3 * WEEKS_PER_YEAR):
        begin_week(m, week)
        now = m.now
        assert now.week == week
        assert now.year == week // 39
        assert now.week_of_year == week % 39
        assert now.term == (week % 39) // 13
        assert now.week_in_term == week % 13
        seen.add((now.year, now.term))
    assert seen == {(y, t) for y in range(3) for t in range(3)}
    begin_week(m, 116)
    assert (m.now.year, m.now.term, m.now.week_in_term) == (2, 2, 12)
    begin_week(m, 39)
    assert (m.now.year, m.now.term, m.now.week_in_term) == (1, 0, 0)


@pytest.mark.parametrize("support_years", [0, 1, 2])
def test_workshops_only_in_support_years_and_support_ends_after(support_years):
    """Workshop weeks are the configured weeks of each supported year; support then ends."""

    def edit(cfg):
        cfg.pln.support_years = support_years
        cfg.pln.workshop_weeks = [4, 14, 24, 34]

    m = make_model(edit)
    workshops, ended = [], []
    for week in range(3 * WEEKS_PER_YEAR):
        begin_week(m, week)
        if m.now.workshop_week:
            workshops.append(week)
        assert m.now.support_active == (week < support_years * WEEKS_PER_YEAR)
        ended.append(m.now.support_ended)
    expected = [39 * y + w for y in range(support_years) for w in (4, 14, 24, 34)]
    assert workshops == expected
    if support_years == 0:
        assert not any(ended)  # support that never began does not "end"
    else:
        first_unsupported = support_years * WEEKS_PER_YEAR
        assert ended == [w >= first_unsupported for w in range(3 * WEEKS_PER_YEAR)]


def test_session_weeks_follow_each_schools_session_frequency():
    """Weekly: every week; fortnightly: even weeks of term; half-termly: 0 and 7; termly: 0."""
    freqs = ["weekly", "fortnightly", "half_termly", "termly"] * 2

    def edit(cfg):
        cfg.leadership.session_frequency = freqs

    m = make_model(edit)
    sessions = [[] for _ in freqs]
    for week in range(2 * WEEKS_PER_YEAR):
        begin_week(m, week)
        assert m.now.session_week.shape == (8,)
        for s in np.flatnonzero(m.now.session_week):
            sessions[s].append(week)
    weeks = range(2 * WEEKS_PER_YEAR)
    expected = {
        "weekly": list(weeks),
        "fortnightly": [w for w in weeks if w % 13 % 2 == 0],
        "half_termly": [w for w in weeks if w % 13 in (0, 7)],
        "termly": [w for w in weeks if w % 13 == 0],
    }
    for s, f in enumerate(freqs):
        assert sessions[s] == expected[f], f
    assert len([w for w in weeks if w % 13 == 0]) == 6  # one per term


def test_calendar_perception_out_of_sight_then_in_sight():
    """The school's signal and how-to support reach non-participants only while in sight.

    Reached = participant, or exposed in a school where the work has not gone out of sight.
    Participants always perceive the signal and get the facilitator's support while supported.
    """
    m = make_model()
    staff = m.staff
    part = staff.participant
    begin_week(m, 0)
    signal = m.signal_of_staff
    assert np.all(m.now.signal[part] == signal[part])
    assert np.all(m.now.signal[~part] == 0)
    facilitator = m.config.pln.facilitator_support
    assert np.allclose(m.now.support[part], np.maximum(m.howto_of_staff[part], facilitator))
    assert np.all(m.now.support[~part] == 0)

    assert np.array_equal(m.now.reached, part)

    expose_schools(m, [0])  # a strategy brings the work in sight in school 0
    begin_week(m, 1)
    in_zero = staff.school == 0
    assert np.array_equal(m.now.reached, part | in_zero)
    np.testing.assert_allclose(m.now.signal[in_zero], signal[in_zero])
    np.testing.assert_allclose(m.now.support[in_zero & ~part], m.howto_of_staff[in_zero & ~part])
    assert np.all(m.now.signal[~in_zero & ~part] == 0)

    m.out_of_sight = np.arange(8) == 0  # the work slips out of sight: back to participants only
    begin_week(m, 2)
    assert np.array_equal(m.now.reached, part)
    assert np.all(m.now.signal[~part] == 0) and np.all(m.now.support[~part] == 0)
    m.out_of_sight = np.zeros(8, dtype=bool)
    begin_week(m, 3)
    assert np.array_equal(m.now.reached, part | in_zero)

    begin_week(m, WEEKS_PER_YEAR)  # support over: participants keep only the school's support
    np.testing.assert_allclose(m.now.support[part], m.howto_of_staff[part])


def test_calendar_records_stage_at_start_and_resets_weekly_scratch():
    """The calendar snapshots stages and clears last week's attendance, pressure and failures.

    The week's hours start at the allocated collaboration time plus research leads' hours.
    """
    research_lead = [True, False] * 4
    m = make_model(lambda cfg: setattr(cfg.leadership, "research_lead", research_lead))
    set_stage(m, Stage.AWARE)
    m.now.failed_trials = np.ones(m.staff.n, dtype=bool)
    m.now.attended_workshop = np.ones(m.staff.n, dtype=bool)
    m.now.pressured = np.ones(m.staff.n, dtype=bool)
    m.now.helpful_ties = m.now.active_ties = np.ones(m.ties.n, dtype=bool)
    begin_week(m, 5)
    assert np.all(m.now.stage_at_start == Stage.AWARE)
    assert m.now.stage_at_start is not m.staff.stage
    assert not m.now.failed_trials.any()
    assert not m.now.attended_workshop.any()
    assert not m.now.pressured.any()
    assert not m.now.active_ties.any() and not m.now.helpful_ties.any()
    lead_hours = m.config.leadership.research_lead_hours * np.array(research_lead)
    np.testing.assert_allclose(m.now.hours, m.levers.collab_hours * m.schools.size + lead_hours)


# -- 3. PLN learning -------------------------------------------------------------------------------


def test_pln_only_participants_attend_and_only_in_workshop_weeks():
    """No workshop, no change; in a workshop week all participants (p = 1) and nobody else."""
    m = make_model(sure_attendance)
    pln = proc(m, PLNLearning)
    part = m.staff.participant
    for week in (0, 3, 5, 13):  # not workshop weeks
        begin_week(m, week)
        pln.step(week)
        assert not m.now.attended_workshop.any()
        assert np.all(m.staff.knowledge == 0)
        assert np.all(m.staff.stage == Stage.UNAWARE)
    begin_week(m, 4)
    pln.step(4)
    assert np.array_equal(m.now.attended_workshop, part)
    assert np.all(m.staff.knowledge[part] > 0)
    assert np.all(m.staff.knowledge[~part] == 0)
    assert np.all(m.staff.stage[part] == Stage.AWARE)  # attendance makes participants aware
    assert np.all(m.staff.stage[~part] == Stage.UNAWARE)
    assert m.pln_started.all()
    hours = m.config.pln.workshop_hours * np.bincount(m.staff.school[part], minlength=8)
    np.testing.assert_allclose(m.now.hours - m.levers.collab_hours * m.schools.size, hours)


def test_pln_no_workshop_after_support_ends():
    """The configured workshop week of an unsupported year runs no workshop."""
    m = make_model(sure_attendance)
    begin_week(m, WEEKS_PER_YEAR + 4)
    proc(m, PLNLearning).step(WEEKS_PER_YEAR + 4)
    assert not m.now.attended_workshop.any()
    assert np.all(m.staff.knowledge == 0)


def test_pln_knowledge_and_network_trust_follow_the_documented_formula():
    """k += learn_rate (0.5 + 0.5 A)(0.5 + 0.5 T)(1 - k); T += trust_rate (0.5 + 0.5 h)(1 - T)."""
    m = make_model(sure_attendance)
    rng = np.random.default_rng(1)
    n = m.staff.n
    part = m.staff.participant
    k0 = np.where(part, rng.uniform(0, 0.9, n), 0.0)
    t0 = np.where(part, rng.uniform(0, 1, n), 0.0)
    m.staff.knowledge, m.staff.network_trust = k0.copy(), t0.copy()
    begin_week(m, 14)
    proc(m, PLNLearning).step(14)
    cfg = m.config.pln
    rate = cfg.learn_rate * (0.5 + 0.5 * cfg.focus_alignment) * (0.5 + 0.5 * t0)
    np.testing.assert_allclose(m.staff.knowledge, np.where(part, k0 + rate * (1 - k0), 0.0))
    t_rate = cfg.trust_rate * (0.5 + 0.5 * cfg.homogeneity)
    np.testing.assert_allclose(m.staff.network_trust, np.where(part, t0 + t_rate * (1 - t0), 0.0))


def after_workshop(**pln) -> KnowledgeMobilisationModel:
    """A model with sure attendance and the given ``cfg.pln`` settings, after the week-4 workshop."""

    def edit(cfg):
        sure_attendance(cfg)
        for key, value in pln.items():
            setattr(cfg.pln, key, value)

    m = make_model(edit)
    begin_week(m, 4)
    proc(m, PLNLearning).step(4)
    return m


def test_pln_higher_focus_alignment_gives_larger_knowledge_gain():
    """Same seed and state: a better-aligned network teaches every attendee more."""
    gains = {}
    for alignment in (0.2, 1.0):
        m = after_workshop(focus_alignment=alignment)
        gains[alignment] = m.staff.knowledge[m.staff.participant]
    assert np.all(gains[1.0] > gains[0.2])
    np.testing.assert_allclose(gains[1.0] / gains[0.2], 1.0 / 0.6)


def test_pln_network_trust_rises_faster_with_homogeneity():
    """Participants' trust in the network grows more per workshop among similar schools."""
    trust = {}
    for h in (0.0, 1.0):
        m = after_workshop(homogeneity=h)
        trust[h] = m.staff.network_trust[m.staff.participant]
    t0 = m.config.pln.initial_network_trust
    assert np.all(trust[1.0] - t0 > trust[0.0] - t0)
    np.testing.assert_allclose((trust[1.0] - t0) / (trust[0.0] - t0), 2.0)


def test_pln_attendance_depends_on_release_time():
    """With attendance only from release time, only released schools' participants attend."""
    released = [True, False] * 4

    def edit(cfg):
        cfg.pln.attend_base = 0.0
        cfg.pln.attend_formal_bonus = 0.0
        cfg.pln.attend_release_bonus = 1.0
        cfg.leadership.release_for_workshops = released

    m = make_model(edit)
    begin_week(m, 4)
    proc(m, PLNLearning).step(4)
    expected = m.staff.participant & np.array(released)[m.staff.school]
    assert np.array_equal(m.now.attended_workshop, expected)
    assert np.array_equal(m.pln_started, np.array(released))


def test_pln_trial_commitment_needs_free_time_and_openness():
    """Attending participants with trial_hours free start a trial; others and resistant do not."""

    def edit(cfg):
        cfg.pln.attend_base = 1.0
        cfg.pln.trial_commitment = 1.0

    m = make_model(edit)
    part = np.flatnonzero(m.staff.participant)
    has_time = np.arange(m.staff.n) % 2 == 0
    m.free_hours = np.where(has_time, 3.0, 0.5)
    resistant = np.zeros(m.staff.n, dtype=bool)
    resistant[part[:4]] = True
    m.staff.resistant = resistant
    begin_week(m, 4)
    proc(m, PLNLearning).step(4)
    stage = m.staff.stage[part]
    trials = has_time[part] & ~resistant[part]
    assert np.all(stage[trials] == Stage.TRIALLING)
    assert np.all(stage[~trials] == Stage.AWARE)


# -- 5. Mobilisation -------------------------------------------------------------------------------


def test_whole_staff_launch_after_first_workshop():
    """Nothing before the first workshop; then everyone aware, in sight, non-participants pressed."""
    m = make_model(sure_attendance)
    part = m.staff.participant
    run_weeks(m, range(4), [PLNLearning, Mobilisation])
    assert not m.in_sight.any()
    assert np.all(m.staff.stage == Stage.UNAWARE)
    run_weeks(m, [4], [PLNLearning, Mobilisation])
    assert m.in_sight.all()
    assert np.all(m.staff.stage != Stage.UNAWARE)
    assert np.array_equal(m.now.pressured, ~part)
    begin_week(m, 5)  # from now on non-participants perceive the school's signal
    assert np.all(m.now.signal > 0)


def test_whole_staff_launch_waits_for_a_schools_first_attendance():
    """A school whose participants have not attended a workshop is not launched."""
    released = [True, False] * 4

    def edit(cfg):
        cfg.pln.attend_base = 0.0
        cfg.pln.attend_formal_bonus = 0.0
        cfg.pln.attend_release_bonus = 1.0
        cfg.leadership.release_for_workshops = released

    m = make_model(edit)
    run_weeks(m, range(5), [PLNLearning, Mobilisation])
    assert np.array_equal(m.in_sight, np.array(released))
    unlaunched = ~np.array(released)[m.staff.school]
    assert np.all(m.staff.stage[unlaunched] == Stage.UNAWARE)


def launched_weekly_sessions(d_per_school=0.5, untied_share=0.25) -> KnowledgeMobilisationModel:
    """A model launched at week 4, holding weekly sessions everyone attends."""

    def edit(cfg):
        sure_attendance(cfg)
        cfg.leadership.session_frequency = "weekly"
        cfg.leadership.distributed_leadership = d_per_school
        cfg.strategy.session_attendance = 1.0
        cfg.strategy.session_untied_share = untied_share

    m = make_model(edit)
    run_weeks(m, range(5), [PLNLearning, Mobilisation])
    return m


def test_sessions_close_the_gap_to_the_best_participant():
    """A session closes session_learn_rate (0.5 + 0.5 D) (f + (1 - f) t_i) of the gap to the
    best participant, t_i the attendee's highest trust on an advice tie to a participant
    (written out tie by tie here) and f = session_untied_share."""
    d = [0.0, 1.0, 0.5, 0.2, 0.8, 0.0, 1.0, 0.3]
    m = launched_weekly_sessions(d)
    staff = m.staff
    part = staff.participant
    rng = np.random.default_rng(2)
    k0 = rng.uniform(0, 1, staff.n)
    staff.knowledge = k0.copy()
    best = np.array([k0[part & (staff.school == s)].max() for s in range(8)])[staff.school]
    hours_before = m.levers.collab_hours * m.schools.size
    begin_week(m, 5)
    proc(m, Mobilisation).step(5)
    reach = m.config.strategy.session_learn_rate * (0.5 + 0.5 * np.array(d))[staff.school]
    t = np.zeros(staff.n)
    for e in range(m.ties.n):
        if part[m.ties.adviser[e]]:
            t[m.ties.seeker[e]] = max(t[m.ties.seeker[e]], m.ties.trust[e])
    assert np.any(t[~part] == 0) or np.all(t[~part] > 0)
    heed = 0.25 + 0.75 * t
    expected = np.where(part, k0, k0 + reach * heed * np.maximum(best - k0, 0))
    np.testing.assert_allclose(staff.knowledge, expected)
    assert np.any(k0[~part] > best[~part])  # some already knew more: they are unchanged
    n_attend = np.bincount(staff.school[~part], minlength=8)
    np.testing.assert_allclose(
        m.now.hours - hours_before, m.config.strategy.session_hours * n_attend
    )


def test_sessions_converge_towards_but_never_above_the_best_participant():
    """Many sessions bring non-participants close to the best participant, never above."""
    m = launched_weekly_sessions(untied_share=1.0)
    staff = m.staff
    part = staff.participant
    k_part = np.where(part, np.linspace(0.3, 0.9, staff.n), 0.0)
    staff.knowledge = k_part
    best = np.maximum.reduceat(k_part, m.schools.first_slot)[staff.school]
    for week in range(5, 5 + 60):
        begin_week(m, week)
        proc(m, Mobilisation).step(week)
        assert np.all(staff.knowledge <= best + 1e-12)
    assert np.all(best[~part] - staff.knowledge[~part] < 0.05)
    np.testing.assert_array_equal(staff.knowledge[part], k_part[part])


def test_no_session_outside_session_weeks():
    """With termly sessions, week 5 of a term has no session; week 0 of the next has one."""

    def edit(cfg):
        sure_attendance(cfg)
        cfg.leadership.session_frequency = "termly"
        cfg.strategy.session_attendance = 1.0

    m = make_model(edit)
    run_weeks(m, range(5), [PLNLearning, Mobilisation])
    staff = m.staff
    staff.knowledge = np.where(staff.participant, 0.8, 0.0)
    run_weeks(m, range(5, WEEKS_PER_TERM), [Mobilisation])
    assert np.all(staff.knowledge[~staff.participant] == 0)
    run_weeks(m, [WEEKS_PER_TERM], [Mobilisation])
    assert np.all(staff.knowledge[~staff.participant] > 0)


def test_strategy_none_exposes_nobody():
    """With strategy none, a year of workshops leaves non-participants unaware and out of sight."""

    def edit(cfg):
        sure_attendance(cfg)
        cfg.strategy.name = "none"
        cfg.leadership.session_frequency = "weekly"

    m = make_model(edit)
    part = m.staff.participant
    run_weeks(m, range(WEEKS_PER_YEAR), [PLNLearning, Mobilisation])
    assert m.pln_started.all()
    assert not m.in_sight.any()
    assert np.all(m.staff.stage[~part] == Stage.UNAWARE)
    assert np.all(m.staff.knowledge[~part] == 0)
    assert np.all(m.staff.knowledge[part] > 0)
    begin_week(m, WEEKS_PER_YEAR)
    assert np.all(m.now.signal[~part] == 0) and np.all(m.now.support[~part] == 0)


# -- 6. Conversation -------------------------------------------------------------------------------


def test_conversation_awareness_passes_along_an_active_tie():
    """An unaware person whose only trusted adviser is aware becomes aware; nobody else does."""
    m = make_model(sure_contact)
    i = non_participant_with_advisers(m, 1)
    j = int(advisers_of(m, i)[0])
    set_stage(m, Stage.UNAWARE)
    m.staff.stage[j] = Stage.AWARE
    only_ties(m, {(i, j): 1.0})
    begin_week(m, 6)
    proc(m, Conversation).step(6)
    aware = np.flatnonzero(m.staff.stage == Stage.AWARE)
    assert set(aware.tolist()) == {i, j}
    assert m.now.active_ties.sum() == 1 and m.now.active_ties[tie_index(m, i, j)]


@pytest.mark.parametrize(
    ("adviser_stage", "resistant", "spreads"),
    [
        (Stage.AWARE, False, True),
        (Stage.INTERESTED, False, True),
        (Stage.TRIALLING, False, True),
        (Stage.ADOPTED, False, True),
        (Stage.EMBEDDED, False, True),
        (Stage.AWARE, True, False),  # resistant: does not pass the innovation on
        (Stage.ADOPTED, True, False),
        (Stage.LAPSED, False, False),
        (Stage.UNAWARE, False, False),
    ],
)
def test_conversation_who_spreads_awareness(adviser_stage, resistant, spreads):
    """Aware-or-further advisers spread awareness; resistant, lapsed and unaware ones do not."""
    m = make_model(sure_contact)
    i = non_participant_with_advisers(m, 1)
    j = int(advisers_of(m, i)[0])
    set_stage(m, Stage.UNAWARE)
    m.staff.stage[j] = adviser_stage
    m.staff.resistant = np.arange(m.staff.n) == j if resistant else np.zeros(m.staff.n, bool)
    m.staff.knowledge = np.where(np.arange(m.staff.n) == j, 0.8, 0.0)
    only_ties(m, {(i, j): 1.0})
    begin_week(m, 6)
    proc(m, Conversation).step(6)
    assert (m.staff.stage[i] == Stage.AWARE) == spreads


def test_conversation_untrusted_tie_is_never_active():
    """Contact probability scales with trust: a tie with zero trust never carries anything."""
    m = make_model(sure_contact)
    i = non_participant_with_advisers(m, 1)
    j = int(advisers_of(m, i)[0])
    set_stage(m, Stage.UNAWARE)
    m.staff.stage[j] = Stage.ADOPTED
    m.staff.knowledge = np.where(np.arange(m.staff.n) == j, 0.9, 0.0)
    only_ties(m, {})
    for week in range(13):
        begin_week(m, week)
        proc(m, Conversation).step(week)
        assert not m.now.active_ties.any()
    assert m.staff.stage[i] == Stage.UNAWARE and m.staff.knowledge[i] == 0


def test_conversation_know_how_formula_from_more_knowledgeable_advisers():
    """k_i += min(r_k c, 1) g / c over active ties to colleagues who know more."""
    m = make_model(sure_contact)
    i = non_participant_with_advisers(m, 3)
    a, b, c = (int(x) for x in advisers_of(m, i)[:3])
    k = np.zeros(m.staff.n)
    k[[i, a, b, c]] = [0.3, 0.9, 0.5, 0.1]
    m.staff.knowledge = k.copy()
    set_stage(m, Stage.AWARE)
    only_ties(m, {(i, a): 1.0, (i, b): 0.8, (i, c): 1.0})
    begin_week(m, 6)
    proc(m, Conversation).step(6)
    r = m.config.conversation.knowhow_rate
    gain, weight = 1.0 * 0.6 + 0.8 * 0.2, 1.8  # c (less knowledgeable) does not count
    assert m.staff.knowledge[i] == pytest.approx(0.3 + min(r * weight, 1.0) * gain / weight)
    others = np.arange(m.staff.n) != i
    np.testing.assert_array_equal(m.staff.knowledge[others], k[others])  # advisers learn nothing
    helpful = np.zeros(m.ties.n, dtype=bool)
    helpful[[tie_index(m, i, a), tie_index(m, i, b)]] = True
    assert np.array_equal(m.now.helpful_ties, helpful)


def test_conversation_no_learning_from_less_knowledgeable_colleagues():
    """Someone who knows more than all their advisers learns nothing from them."""
    m = make_model(sure_contact)
    i = non_participant_with_advisers(m, 2)
    a, b = (int(x) for x in advisers_of(m, i)[:2])
    k = np.zeros(m.staff.n)
    k[[i, a, b]] = [0.6, 0.1, 0.6]
    m.staff.knowledge = k.copy()
    set_stage(m, Stage.AWARE)
    only_ties(m, {(i, a): 1.0, (i, b): 1.0})
    begin_week(m, 6)
    proc(m, Conversation).step(6)
    assert m.staff.knowledge[i] == 0.6
    assert not m.now.helpful_ties.any()


@pytest.mark.parametrize("rate", [0.1, 0.5, 1.0])
def test_conversation_never_overshoots_the_best_adviser(rate):
    """Over many weeks on the real networks, nobody passes the most knowledgeable active adviser."""

    def edit(cfg):
        sure_contact(cfg)
        cfg.conversation.knowhow_rate = rate

    m = make_model(edit)
    rng = np.random.default_rng(3)
    m.staff.knowledge = rng.uniform(0, 1, m.staff.n)
    m.ties.trust = rng.uniform(0, 1, m.ties.n)
    src, dst = m.ties.seeker, m.ties.adviser
    for week in range(20):
        k0 = m.staff.knowledge.copy()
        begin_week(m, week)
        proc(m, Conversation).step(week)
        k1 = m.staff.knowledge
        active = m.now.active_ties
        best = k0.copy()
        np.maximum.at(best, src[active], k0[dst[active]])
        assert np.all(k1 >= k0)
        assert np.all(k1 <= best + 1e-12)
    # with r_k = 1 and a single helpful tie, i reaches exactly the adviser's knowledge
    if rate == 1.0:
        i = non_participant_with_advisers(m, 1)
        j = int(advisers_of(m, i)[0])
        m.staff.knowledge = np.where(np.arange(m.staff.n) == j, 0.7, 0.2)
        only_ties(m, {(i, j): 1.0})
        begin_week(m, 30)
        proc(m, Conversation).step(30)
        assert m.staff.knowledge[i] == pytest.approx(0.7)


def test_conversation_tie_activity_rises_with_trust():
    """Over a year, each tie is active about 39 min(1, contact_rate (1 + boost hours) w) times."""
    m = make_model()
    rng = np.random.default_rng(4)
    m.ties.trust = rng.uniform(0, 1, m.ties.n)
    cfg = m.config.conversation
    hours = m.levers.collab_hours[m.staff.school[m.ties.seeker]]
    p = np.minimum(1.0, cfg.contact_rate * (1 + cfg.collab_boost * hours) * m.ties.trust)
    count = np.zeros(m.ties.n)
    for week in range(WEEKS_PER_YEAR):
        begin_week(m, week)
        proc(m, Conversation).step(week)
        count += m.now.active_ties
    expected = WEEKS_PER_YEAR * p
    assert abs(count.sum() - expected.sum()) < 4 * np.sqrt((expected * (1 - p)).sum())
    high, low = m.ties.trust > 0.7, m.ties.trust < 0.3
    assert count[high].mean() > 2 * count[low].mean()


# -- 7. Decision -----------------------------------------------------------------------------------


def decision_model(edit=None) -> KnowledgeMobilisationModel:
    def full_edit(cfg):
        deterministic_decisions(cfg)
        if edit is not None:
            edit(cfg)

    return make_model(full_edit)


def readiness_by_hand(m: KnowledgeMobilisationModel) -> np.ndarray:
    """MODEL.md §4.2 readiness, person by person, from the current arrays.

    An adviser who uses the practice counts by their quality times their standing (set-up
    trust on ties to them over their school's mean; times ``champion_visibility`` for a
    participant when the mode has champions); a resistant adviser counts
    ``-resistant_influence``. How-to support counts by access to a participant:
    ``f + (1 - f) t`` for non-participants, ``t`` the highest trust on a tie to a participant.
    """
    d = m.config.decision
    staff, ties = m.staff, m.ties
    champions = m.config.mode.name in ("champions", "both")
    strength = np.zeros(staff.n)
    best = np.zeros(staff.n)
    for e in range(ties.n):
        strength[ties.adviser[e]] += ties.initial_trust[e]
        if staff.participant[ties.adviser[e]]:
            best[ties.seeker[e]] = max(best[ties.seeker[e]], ties.trust[e])
    school_mean = {s: strength[staff.school == s].mean() for s in range(m.schools.n)}
    f = m.config.practice.support_reach_untied
    ready = np.zeros(staff.n)
    for i in range(staff.n):
        lo, hi = m.tie_ptr[i], m.tie_ptr[i + 1]
        w, adv = ties.trust[lo:hi], ties.adviser[lo:hi]
        uses = np.isin(staff.stage[adv], [Stage.TRIALLING, Stage.ADOPTED, Stage.EMBEDDED])
        visible = np.where(
            champions & staff.participant[adv], m.config.mode.champion_visibility, 1.0
        )
        visible = visible * strength[adv] / school_mean[staff.school[i]]
        shown = staff.quality[adv] * uses * visible - d.resistant_influence * staff.resistant[adv]
        e = (w * shown).sum() / w.sum() if w.sum() > 0 else 0.0
        access = 1.0 if staff.participant[i] else f + (1 - f) * best[i]
        ready[i] = (
            d.w_social * e
            + d.w_formal * m.now.signal[i] * staff.trust_in_leaders[i]
            + d.w_support * m.now.support[i] * access * staff.knowledge[i]
        )
    return ready


@pytest.mark.parametrize("mode", ["none", "champions"])
def test_readiness_follows_the_documented_formula(mode):
    """R = w_social E + w_formal P tau + w_support H a k, E the trust- and quality-weighted use.

    Some advisers are resistant (they count -resistant_influence); each user's practice counts
    by their standing, and with champions participants' practice champion_visibility times
    more; a is access to a participant to ask. Schools 0-3 are in sight, 4-7 are not.
    """
    m = decision_model(lambda cfg: setattr(cfg.mode, "name", mode))
    rng = np.random.default_rng(5)
    n = m.staff.n
    stages = rng.choice([Stage.AWARE, Stage.TRIALLING, Stage.ADOPTED, Stage.LAPSED], n)
    set_stage(m, stages)
    m.staff.quality = rng.uniform(0, 1, n)
    m.staff.knowledge = rng.uniform(0, 1, n)
    m.staff.trust_in_leaders = rng.uniform(0, 1, n)
    m.ties.trust = rng.uniform(0, 1, m.ties.n)
    m.staff.resistant = rng.uniform(size=n) < 0.2
    expose_schools(m, range(4))
    begin_week(m, 10)
    np.testing.assert_allclose(proc(m, Decision).readiness(), readiness_by_hand(m))
    # out of sight, non-participants get no signal or support: only social proof counts
    out = (m.staff.school >= 4) & ~m.staff.participant
    assert np.all(m.now.signal[out] == 0) and np.all(m.now.support[out] == 0)
    assert np.all(m.now.signal[~out] > 0)


def test_decision_aware_become_interested_when_ready():
    """Aware staff with readiness >= threshold become interested (p_act = 1); others stay."""
    m = decision_model()
    set_stage(m, Stage.AWARE)
    begin_week(m, 10)
    ready = proc(m, Decision).readiness()
    below = np.arange(m.staff.n) % 3 == 0
    m.staff.threshold = np.where(below, ready + 0.01, ready - 0.01)
    proc(m, Decision).step(10)
    assert np.all(m.staff.stage[~below] == Stage.INTERESTED)
    assert np.all(m.staff.stage[below] == Stage.AWARE)


def test_decision_trial_needs_free_hours():
    """Interested, ready staff start trialling only with trial_hours free a week."""
    m = decision_model()
    set_stage(m, Stage.INTERESTED)
    m.staff.threshold = np.zeros(m.staff.n)
    has_time = np.arange(m.staff.n) % 2 == 0
    m.free_hours = np.where(has_time, m.config.decision.trial_hours, 0.99)
    decision = Decision(m)  # free time is read when the process is built
    begin_week(m, 10)
    decision.step(10)
    assert np.all(m.staff.stage[has_time] == Stage.TRIALLING)
    assert np.all(m.staff.stage[~has_time] == Stage.INTERESTED)


def test_decision_one_stage_per_week():
    """An aware person does not jump straight to trialling in the same week."""
    m = decision_model()
    set_stage(m, Stage.AWARE)
    m.staff.threshold = np.zeros(m.staff.n)
    m.free_hours = np.full(m.staff.n, 5.0)
    decision = Decision(m)
    begin_week(m, 10)
    decision.step(10)
    assert np.all(m.staff.stage == Stage.INTERESTED)
    begin_week(m, 11)
    decision.step(11)
    assert np.all(m.staff.stage == Stage.TRIALLING)


def test_decision_resistant_staff_do_not_move():
    """Resistant staff stay put though past their threshold, even with noise on.

    Readiness is set just above the threshold, short of the extra ``resistance_exit`` (0.15)
    MODEL.md §4.2 asks of resistant staff (the exit itself: ``test_mechanisms.py``).
    """

    def edit(cfg):
        cfg.decision.noise_enabled = True
        cfg.decision.noise_rate = 1.0

    m = decision_model(edit)
    stages = np.where(np.arange(m.staff.n) % 2 == 0, Stage.AWARE, Stage.INTERESTED)
    set_stage(m, stages)
    m.free_hours = np.full(m.staff.n, 5.0)
    resistant = np.arange(m.staff.n) % 3 == 0
    m.staff.resistant = resistant  # first: resistant advisers weigh on readiness
    decision = Decision(m)
    begin_week(m, 10)
    ready = decision.readiness()
    m.staff.threshold = ready - 0.05
    decision.step(10)
    assert np.array_equal(m.staff.stage[resistant], stages[resistant])
    assert np.all(m.staff.stage[~resistant] > stages[~resistant])


def test_decision_below_threshold_without_noise_nobody_moves():
    """With noise off and readiness below every threshold, nobody moves in a year."""
    m = decision_model()
    stages = np.where(np.arange(m.staff.n) % 2 == 0, Stage.AWARE, Stage.INTERESTED)
    set_stage(m, stages)
    m.free_hours = np.full(m.staff.n, 5.0)
    decision = Decision(m)
    begin_week(m, 10)
    m.staff.threshold = decision.readiness() + 0.01
    for week in range(10, 10 + WEEKS_PER_YEAR):
        begin_week(m, week)
        decision.step(week)
    assert np.array_equal(m.staff.stage, stages)


def test_decision_noise_lets_unpersuaded_staff_with_time_try():
    """With noise at rate 1, aware and interested staff with time try without persuasion."""

    def edit(cfg):
        cfg.decision.noise_enabled = True
        cfg.decision.noise_rate = 1.0

    m = decision_model(edit)
    stages = np.where(np.arange(m.staff.n) % 2 == 0, Stage.AWARE, Stage.INTERESTED)
    set_stage(m, stages)
    has_time = np.arange(m.staff.n) % 4 < 2
    m.free_hours = np.where(has_time, 5.0, 0.0)
    decision = Decision(m)
    begin_week(m, 10)
    m.staff.threshold = decision.readiness() + 1.0
    decision.step(10)
    assert np.all(m.staff.stage[has_time] == Stage.TRIALLING)
    assert np.array_equal(m.staff.stage[~has_time], stages[~has_time])


def test_decision_p_act_zero_blocks_all_transitions():
    """Transitions happen only with probability p_act: at 0, ready staff never move."""
    m = decision_model(lambda cfg: setattr(cfg.decision, "p_act", 0.0))
    set_stage(m, Stage.AWARE)
    m.staff.threshold = np.zeros(m.staff.n)
    for week in range(13):
        begin_week(m, week)
        proc(m, Decision).step(week)
    assert np.all(m.staff.stage == Stage.AWARE)


def test_decision_lapsed_need_the_relapse_margin():
    """Lapsed staff need threshold + relapse_margin; aware staff with the same readiness move."""
    m = decision_model()
    n = m.staff.n
    lapsed = np.arange(n) % 2 == 0
    set_stage(m, np.where(lapsed, Stage.LAPSED, Stage.AWARE))
    begin_week(m, 10)
    decision = proc(m, Decision)
    ready = decision.readiness()
    margin = m.config.decision.relapse_margin
    enough = np.arange(n) % 4 < 2  # half of each group is past threshold + margin
    m.staff.threshold = np.where(enough, ready - margin - 0.01, ready - margin + 0.01)
    decision.step(10)
    assert np.all(m.staff.stage[lapsed & enough] == Stage.INTERESTED)
    assert np.all(m.staff.stage[lapsed & ~enough] == Stage.LAPSED)
    assert np.all(m.staff.stage[~lapsed] == Stage.INTERESTED)


def test_decision_social_proof_from_users_raises_readiness():
    """Advisers who use the practice well make a person readier (complex contagion)."""
    m = decision_model()
    set_stage(m, Stage.AWARE)
    begin_week(m, 10)
    decision = proc(m, Decision)
    before = decision.readiness().copy()
    users = m.staff.participant
    set_stage(m, np.where(users, Stage.ADOPTED, Stage.AWARE))
    m.staff.quality = np.where(users, 0.8, 0.0)
    after = decision.readiness()
    has_user_adviser = np.bincount(
        m.ties.seeker, weights=users[m.ties.adviser], minlength=m.staff.n
    )
    assert np.all(after[has_user_adviser > 0] > before[has_user_adviser > 0])
    assert np.allclose(after[has_user_adviser == 0], before[has_user_adviser == 0])


# -- 8. Practice -----------------------------------------------------------------------------------


def practice_model(edit=None) -> KnowledgeMobilisationModel:
    """No lapse, full fit for everyone and how-to support that reaches every trialling person
    in full (the fit cap and the sharing of support are tested on their own below)."""

    def full_edit(cfg):
        cfg.practice.lapse_base = 0.0
        cfg.practice.fit_mean = 1.0
        cfg.practice.fit_sd = 0.0
        cfg.practice.supported_per_supporter = 1000.0
        cfg.practice.support_reach_untied = 1.0
        if edit is not None:
            edit(cfg)

    return make_model(full_edit)


def test_practice_fit_caps_quality_and_makes_persistent_non_adopters():
    """fit 0.4 < q_adopt for everyone: 30 weeks of practice bring quality close to 0.4 (for
    those with the time), never above, and no trial becomes adoption."""
    m = practice_model(lambda cfg: setattr(cfg.practice, "fit_mean", 0.4))
    set_stage(m, Stage.TRIALLING)
    m.staff.knowledge = np.ones(m.staff.n)
    expose_schools(m, range(8))
    for week in range(10, 10 + 30):
        begin_week(m, week)
        proc(m, Practice).step(week)
        assert np.all(m.staff.quality <= 0.4 + 1e-12)
    assert m.staff.quality.max() > 0.35  # those with the time got close to their fit
    assert not (m.staff.stage == Stage.ADOPTED).any()


def test_practice_how_to_support_is_shared_among_trialling_staff():
    """A school's supporters (participants x (0.5 + 0.5 D)) each support
    supported_per_supporter trialling non-participants; with more trialling, each gets that
    share of H, times their access to a participant to ask: f + (1 - f) t, t their highest
    trust on an advice tie to a participant and f = support_reach_untied (f without a tie)."""

    def edit(cfg):
        cfg.practice.supported_per_supporter = 1.0
        cfg.practice.support_reach_untied = 0.5
        cfg.leadership.distributed_leadership = 1.0
        cfg.leadership.howto_support = 1.0

    m = practice_model(edit)
    staff = m.staff
    set_stage(m, np.where(staff.participant, Stage.ADOPTED, Stage.TRIALLING))
    expose_schools(m, range(8))
    begin_week(m, 10)
    practice = proc(m, Practice)
    share = practice._coverage(staff.stage)
    part_count = np.bincount(staff.school[staff.participant], minlength=8)
    demand = np.bincount(staff.school[~staff.participant], minlength=8)
    ties = m.ties
    best = np.zeros(staff.n)  # highest trust on a tie to a participant, tie by tie
    for e in np.flatnonzero(staff.participant[ties.adviser]):
        best[ties.seeker[e]] = max(best[ties.seeker[e]], ties.trust[e])
    expected = np.minimum(part_count / demand, 1.0)[staff.school] * (0.5 + 0.5 * best)
    np.testing.assert_allclose(share[~staff.participant], expected[~staff.participant])
    assert np.all(share[staff.participant] == 1.0)
    assert np.all(share[~staff.participant] < 1.0)


def expected_growth(m: KnowledgeMobilisationModel) -> np.ndarray:
    """MODEL.md §4.5 growth factor g with q += g (1 - q): r_q time (0.5 + 0.5 H) depth k."""
    cfg = m.config.practice
    time = np.minimum(m.free_hours / cfg.practice_hours_full, 1.0)
    depth = COLLABORATION_DEPTH[cfg.collaboration_kind]
    support = 0.5 + 0.5 * m.now.support
    return cfg.quality_rate * time * depth * support * m.staff.knowledge


def test_practice_quality_grows_for_users_and_decays_for_others():
    """Users: q += r_q time (0.5 + 0.5 H) depth k (1 - q); others: q *= 1 - decay."""
    m = practice_model()
    n = m.staff.n
    stages = np.array([Stage.AWARE, Stage.TRIALLING, Stage.ADOPTED, Stage.EMBEDDED, Stage.LAPSED])
    set_stage(m, stages[np.arange(n) % 5])
    q0 = np.full(n, 0.2)
    m.staff.quality = q0.copy()
    m.staff.knowledge = np.random.default_rng(8).uniform(0.1, 1.0, n)
    expose_schools(m, range(8))
    begin_week(m, 10)
    assert np.all(m.now.depth == COLLABORATION_DEPTH[m.config.practice.collaboration_kind])
    proc(m, Practice).step(10)
    using = USES[m.now.stage_at_start]
    decay = m.config.practice.quality_decay
    expected = np.where(using, q0 + expected_growth(m) * (1 - q0), q0 * (1 - decay))
    np.testing.assert_allclose(m.staff.quality, expected)
    assert np.all(m.staff.quality[using] > q0[using])


def test_practice_knowledge_paces_quality_growth():
    """Growth is proportional to knowledge: twice the knowledge, twice the gain; none at k = 0."""
    gains = {}
    for k in (0.0, 0.4, 0.8):
        m = practice_model()
        set_stage(m, Stage.TRIALLING)
        m.staff.knowledge = np.full(m.staff.n, k)
        m.staff.quality = np.full(m.staff.n, 0.1)
        begin_week(m, 10)
        proc(m, Practice).step(10)
        gains[k] = m.staff.quality - 0.1
    assert np.all(gains[0.0] == 0)
    assert np.all(gains[0.4] > 0)
    np.testing.assert_allclose(gains[0.8], 2 * gains[0.4])


def test_practice_deeper_collaboration_grows_quality_faster():
    """Joint work > sharing > aid and assistance > storytelling (Warren-Little)."""
    gains = []
    for kind in ("storytelling", "aid_and_assistance", "sharing", "joint_work"):
        m = practice_model(lambda cfg, k=kind: setattr(cfg.practice, "collaboration_kind", k))
        set_stage(m, Stage.TRIALLING)
        m.staff.knowledge = np.full(m.staff.n, 0.6)
        begin_week(m, 10)
        proc(m, Practice).step(10)
        gains.append(m.staff.quality.copy())
    for shallow, deep in zip(gains, gains[1:], strict=False):
        assert np.all(deep > shallow)


def test_practice_quality_decays_when_nobody_uses():
    """With no users at all, everyone's quality still decays."""
    m = practice_model()
    set_stage(m, Stage.LAPSED)
    m.staff.quality = np.full(m.staff.n, 0.5)
    begin_week(m, 10)
    proc(m, Practice).step(10)
    np.testing.assert_allclose(m.staff.quality, 0.5 * (1 - m.config.practice.quality_decay))


def test_practice_trial_becomes_adoption_at_q_adopt():
    """A trial whose quality reaches q_adopt this week is adopted; one short of it continues."""
    m = practice_model()
    set_stage(m, Stage.TRIALLING)
    m.staff.knowledge = np.full(m.staff.n, 0.8)
    begin_week(m, 10)
    growth = expected_growth(m)
    q_adopt = m.config.practice.q_adopt
    # q + g (1 - q) = target  <=>  q = (target - g) / (1 - g)
    close = np.arange(m.staff.n) % 2 == 0
    target = np.where(close, q_adopt + 1e-6, q_adopt - 0.05)
    m.staff.quality = (target - growth) / (1 - growth)
    proc(m, Practice).step(10)
    assert np.all(m.staff.stage[close] == Stage.ADOPTED)
    assert np.all(m.staff.stage[~close] == Stage.TRIALLING)
    assert not m.now.failed_trials.any()


def test_practice_failed_trial_after_trial_weeks_max():
    """A trial still short of q_adopt after trial_weeks_max weeks fails and lapses."""
    m = practice_model()
    weeks_max = m.config.practice.trial_weeks_max
    set_stage(m, Stage.TRIALLING)
    m.staff.quality = np.full(m.staff.n, 0.05)
    long = np.arange(m.staff.n) % 2 == 0
    m.staff.stage_weeks = np.where(long, weeks_max - 1, weeks_max - 2).astype(np.int32)
    begin_week(m, 60)
    proc(m, Practice).step(60)
    assert np.array_equal(m.now.failed_trials, long)
    assert np.all(m.staff.stage[long] == Stage.LAPSED)
    assert np.all(m.staff.stage[~long] == Stage.TRIALLING)


def test_practice_a_new_trial_does_not_fail_in_its_first_week():
    """Starting a trial after a long time interested must not count that time as trial weeks.

    Trial weeks count within the stage held at the start of the week (formerly a bug: the
    weeks of the previous stage made a new trial fail at once).
    """
    m = practice_model(deterministic_decisions)
    set_stage(m, Stage.INTERESTED)
    m.staff.stage_weeks = np.full(m.staff.n, 30, dtype=np.int32)  # interested for 30 weeks
    m.staff.threshold = np.zeros(m.staff.n)
    m.free_hours = np.full(m.staff.n, 3.0)
    decision = Decision(m)
    begin_week(m, 60)
    decision.step(60)
    assert np.all(m.staff.stage == Stage.TRIALLING)
    proc(m, Practice).step(60)
    assert not m.now.failed_trials.any()
    assert np.all(m.staff.stage == Stage.TRIALLING)


def test_practice_new_adopter_does_not_embed_in_its_first_week():
    """Embedding counts weeks of adoption only: weeks in the stage held at the start of the week.

    Hand-built: a slot adopted since the calendar ran, with many weeks on its stage counter
    from before, must not embed.
    """
    m = practice_model()
    n = m.staff.n
    set_stage(m, Stage.TRIALLING)
    m.staff.knowledge = np.ones(n)
    m.staff.quality = np.full(n, 0.95)  # adopts this week, quality well above q_embed
    m.staff.stage_weeks = np.full(n, 2 * m.config.practice.embed_weeks, dtype=np.int32)
    begin_week(m, 60)
    m.staff.stage = np.full(n, Stage.ADOPTED, dtype=np.int8)  # adopted earlier this week
    proc(m, Practice).step(60)
    assert np.all(m.staff.stage == Stage.ADOPTED)


def test_practice_embedding_needs_weeks_quality_and_routine():
    """Adopted -> embedded needs embed_weeks of adoption, q >= q_embed and F or D >= level."""
    # school 0: formalised; 1: not formalised, low D; 2: not formalised, high D
    f_plan = [True, False, False, True, True, True, True, True]
    d = [0.2, 0.2, 0.8, 0.5, 0.5, 0.5, 0.5, 0.5]

    def edit(cfg):
        cfg.leadership.in_improvement_plan = f_plan
        cfg.leadership.in_performance_targets = f_plan
        cfg.leadership.distributed_leadership = d

    m = practice_model(edit)
    staff = m.staff
    cfg = m.config.practice
    n = staff.n
    set_stage(m, Stage.ADOPTED)
    rows = np.arange(n) % 3
    staff.quality = np.where(rows == 1, cfg.q_embed - 0.1, 0.9)  # row 1: quality too low
    staff.stage_weeks = np.where(rows == 2, cfg.embed_weeks - 1, cfg.embed_weeks).astype(np.int32)
    begin_week(m, 60)
    proc(m, Practice).step(60)
    school = staff.school
    routine = np.isin(school, [0, 2, 3, 4, 5, 6, 7])
    should = routine & (rows == 0)
    assert np.all(staff.stage[should] == Stage.EMBEDDED)
    assert np.all(staff.stage[~should] == Stage.ADOPTED)
    assert np.any(should & (school == 2))  # distributed leadership alone carries it
    assert not np.any(staff.stage[school == 1] == Stage.EMBEDDED)


def lapse_counts(edit, stage=Stage.ADOPTED, weeks=range(0, WEEKS_PER_YEAR)) -> np.ndarray:
    """Lapses per slot over ``weeks``, everyone reset to ``stage`` each week (same seed)."""

    def full_edit(cfg):
        cfg.practice.lapse_base = 0.05
        edit(cfg)

    m = make_model(full_edit)
    lapses = np.zeros(m.staff.n, dtype=int)
    for week in weeks:
        set_stage(m, stage)
        m.staff.quality = np.full(m.staff.n, 0.6)
        m.staff.stage_weeks = np.zeros(m.staff.n, dtype=np.int32)
        begin_week(m, week)
        proc(m, Practice).step(week)
        lapses += m.staff.stage == Stage.LAPSED
    return lapses


def formalised(value: bool):
    def edit(cfg):
        cfg.leadership.in_improvement_plan = value
        cfg.leadership.in_performance_targets = value
        cfg.leadership.governors_engaged = value

    return edit


def test_practice_lapse_hazard_higher_without_formalisation():
    """Same seed: unformalised schools lapse about twice as often (lapse_unformalised = 1).

    With the same random streams, every lapse in the formalised run also happens unformalised.
    """
    with_f = lapse_counts(formalised(True))
    without_f = lapse_counts(formalised(False))
    assert np.all(without_f >= with_f)
    assert 1.6 < without_f.sum() / with_f.sum() < 2.5, (with_f.sum(), without_f.sum())


def test_practice_embedded_users_lapse_far_more_rarely():
    """Embedded users lapse at embedded_lapse_factor (0.1) times the hazard of adopters."""
    adopted = lapse_counts(formalised(True), Stage.ADOPTED)
    embedded = lapse_counts(formalised(True), Stage.EMBEDDED)
    assert np.all(embedded <= adopted)
    assert embedded.sum() < 0.25 * adopted.sum(), (embedded.sum(), adopted.sum())


def test_practice_lapse_hazard_rises_when_support_ends():
    """After PLN support ends users lapse (1 + lapse_support_ended) = 3 times as often.

    The same year-2 weeks (same random streams) with three supported years and with one: every
    lapse under support also happens once support has ended. One seed, 86 slots x 39 weeks
    (about 300 lapses under support): the ratio is within 3 +- 0.6 (about 4 sd).
    """

    def years(n: int):
        def edit(cfg):
            formalised(True)(cfg)
            cfg.pln.support_years = n

        return edit

    weeks = range(WEEKS_PER_YEAR, 2 * WEEKS_PER_YEAR)
    supported = lapse_counts(years(3), weeks=weeks)
    ended = lapse_counts(years(1), weeks=weeks)
    assert np.all(ended >= supported)
    factor = 1 + Config().practice.lapse_support_ended
    assert factor == 3.0
    assert abs(ended.sum() / supported.sum() - factor) < 0.6, (supported.sum(), ended.sum())


# -- 9. Trust update -------------------------------------------------------------------------------


def test_trust_rises_on_helpful_ties_where_the_seeker_progressed():
    """Trust closes `gain` of its gap on helpful ties of seekers who progressed.

    Progress: changed stage this week other than by lapsing (a lapsed person becoming interested
    again counts), or used the practice.
    """
    m = make_model()
    n = m.staff.n
    rng = np.random.default_rng(6)
    w0 = rng.uniform(0.1, 0.9, m.ties.n)
    m.ties.trust = w0.copy()
    start = np.array(
        [Stage.AWARE, Stage.AWARE, Stage.ADOPTED, Stage.TRIALLING, Stage.LAPSED, Stage.LAPSED]
    )
    end = np.array(
        [Stage.INTERESTED, Stage.AWARE, Stage.ADOPTED, Stage.LAPSED, Stage.INTERESTED, Stage.LAPSED]
    )
    # kinds: 0 advanced, 1 stayed, 2 uses, 3 lapsed, 4 interested again, 5 stayed lapsed
    kind = np.arange(n) % 6
    set_stage(m, start[kind])
    begin_week(m, 10)
    set_stage(m, end[kind])
    helpful = rng.uniform(size=m.ties.n) < 0.5
    m.now.helpful_ties = helpful
    proc(m, TrustUpdate).step(10)
    progressed = np.isin(kind, [0, 2, 4])[m.ties.seeker]
    gain = m.config.trust.gain
    up = helpful & progressed
    expected = np.where(up, w0 + gain * (1 - w0), w0)
    np.testing.assert_allclose(m.ties.trust, expected)
    assert up.any() and (helpful & ~progressed).any()


def test_trust_falls_on_failed_triallers_ties_to_users_and_participants():
    """A failed trial costs `loss` of trust towards colleagues who use it or took part in the PLN."""
    m = make_model()
    n = m.staff.n
    w0 = np.full(m.ties.n, 0.6)
    m.ties.trust = w0.copy()
    users = np.arange(n) % 4 == 0
    set_stage(m, np.where(users, Stage.ADOPTED, Stage.AWARE))
    begin_week(m, 10)
    failed = np.arange(n) % 3 == 0
    failed &= ~users
    m.now.failed_trials = failed
    m.now.helpful_ties = np.zeros(m.ties.n, dtype=bool)  # no conversation this week
    proc(m, TrustUpdate).step(10)
    encouraged = users | m.staff.participant
    down = failed[m.ties.seeker] & encouraged[m.ties.adviser]
    np.testing.assert_allclose(m.ties.trust, np.where(down, 0.6 * (1 - m.config.trust.loss), 0.6))
    assert down.any() and (failed[m.ties.seeker] & ~encouraged[m.ties.adviser]).any()


@pytest.mark.parametrize("change", ["rise", "fall"])
def test_trust_update_is_seen_by_later_readiness(change):
    """Changed tie trust reaches the decision's readiness (no stale cache of tie trust)."""
    m = decision_model()
    users = m.staff.participant
    set_stage(m, np.where(users, Stage.ADOPTED, Stage.AWARE))
    m.staff.quality = np.where(users, 0.8, 0.0)
    rng = np.random.default_rng(7)
    m.ties.trust = rng.uniform(0.2, 0.8, m.ties.n)
    begin_week(m, 10)
    decision = proc(m, Decision)
    before = decision.readiness().copy()
    np.testing.assert_allclose(before, readiness_by_hand(m))
    if change == "rise":  # users' helpful ties towards non-users: only users' trust rises
        m.now.helpful_ties = users[m.ties.seeker] & ~users[m.ties.adviser]
        m.now.failed_trials = np.zeros(m.staff.n, dtype=bool)
    else:  # non-users' trials failed: their trust in users and participants falls
        m.now.helpful_ties = np.zeros(m.ties.n, dtype=bool)
        m.now.failed_trials = ~users
    trust_before = m.ties.trust.copy()
    proc(m, TrustUpdate).step(10)
    assert not np.array_equal(m.ties.trust, trust_before)
    after = decision.readiness()
    np.testing.assert_allclose(after, readiness_by_hand(m))
    assert not np.allclose(after, before)


def test_trust_stays_in_unit_interval_under_extreme_rates():
    """With gain = loss = 1 over a full run, every tie's trust stays within [0, 1]."""

    def edit(cfg):
        cfg.trust.gain = 1.0
        cfg.trust.loss = 1.0
        cfg.practice.trial_weeks_max = 2  # many failed trials

    m = make_model(edit)
    changed = False
    w0 = m.ties.trust.copy()
    for _ in range(2 * WEEKS_PER_YEAR):
        m.step()
        w = m.ties.trust
        assert np.all((w >= 0) & (w <= 1))
        changed |= not np.array_equal(w, w0)
    assert changed
    assert np.any(m.ties.trust == 1.0) and np.any(m.ties.trust == 0.0)


# -- 10. Outcomes ----------------------------------------------------------------------------------


def test_outcomes_pupil_gain_per_week_by_stage():
    """Users' classes gain beta q / 39 a week; trialling pays the dip; non-users gain nothing."""
    m = make_model()
    n = m.staff.n
    stages = np.array([Stage.AWARE, Stage.TRIALLING, Stage.ADOPTED, Stage.EMBEDDED, Stage.LAPSED])
    stage = stages[np.arange(n) % 5]
    set_stage(m, stage)
    q = np.linspace(0.1, 0.9, n)
    m.staff.quality = q.copy()
    g0 = np.full(n, 0.01)
    m.staff.pupil_gain = g0.copy()
    begin_week(m, 10)
    proc(m, Outcomes).step(10)
    cfg = m.config.outcomes
    weekly = cfg.effect_per_year * q / 39
    dip = cfg.trial_dip_per_year / 39
    expected = np.select(
        [np.isin(stage, [Stage.ADOPTED, Stage.EMBEDDED]), stage == Stage.TRIALLING],
        [g0 + weekly, g0 + weekly - dip],
        g0,
    )
    np.testing.assert_allclose(m.staff.pupil_gain, expected)


def test_outcomes_a_year_of_adoption_gives_beta_q():
    """39 weeks of adoption at constant q add effect_per_year * q."""
    m = make_model()
    set_stage(m, Stage.ADOPTED)
    m.staff.quality = np.full(m.staff.n, 0.5)
    for week in range(WEEKS_PER_YEAR):
        begin_week(m, week)
        proc(m, Outcomes).step(week)
    np.testing.assert_allclose(m.staff.pupil_gain, 0.5 * m.config.outcomes.effect_per_year)


def test_outcomes_stage_weeks_count_and_reset_on_stage_change():
    """Weeks in stage grow by one when the stage held all week and reset to 0 when it changed."""
    m = make_model()
    n = m.staff.n
    set_stage(m, Stage.AWARE)
    m.staff.stage_weeks = np.full(n, 5, dtype=np.int32)
    begin_week(m, 10)
    moved = np.arange(n) % 2 == 0
    m.staff.stage = np.where(moved, Stage.INTERESTED, Stage.AWARE).astype(np.int8)
    proc(m, Outcomes).step(10)
    assert np.all(m.staff.stage_weeks[moved] == 0)
    assert np.all(m.staff.stage_weeks[~moved] == 6)


def test_outcomes_record_totals_equal_direct_counts():
    """After a run, the per-school weekly totals equal counts taken from the staff arrays."""
    m = make_model(seed=2)
    snapshots = []
    for _ in range(60):
        m.step()
        s = m.staff
        snapshots.append(
            (
                s.stage.copy(),
                s.knowledge.copy(),
                s.quality.copy(),
                s.pupil_gain.copy(),
                s.participant.copy(),  # turnover at week 39 takes some participants away
                m.now.hours,
            )
        )
    rec = m.record
    assert rec.weeks_recorded == 60
    tot = rec.totals()
    school, pupils = m.staff.school, m.staff.pupils
    for week, (stage, k, q, gain, part, hours) in enumerate(snapshots):
        for sch in range(m.schools.n):
            here = school == sch
            counts = np.bincount(stage[here], minlength=len(Stage))
            assert np.array_equal(tot.stages[week, sch], counts)
            assert tot.knowledge[week, sch] == pytest.approx(k[here].sum())
            assert tot.quality[week, sch] == pytest.approx(q[here].sum())
            assert tot.participants[week, sch] == part[here].sum()
            assert tot.participant_knowledge[week, sch] == pytest.approx(k[here & part].sum())
            uses = here & USES[stage]
            assert tot.pupils_reached[week, sch] == pytest.approx(pupils[uses].sum())
            assert tot.pupil_gain[week, sch] == pytest.approx((gain * pupils)[here].sum())
            adopts = np.isin(stage, [Stage.ADOPTED, Stage.EMBEDDED]) & here & ~part
            assert tot.spread_users[week, sch] == adopts.sum()
        np.testing.assert_allclose(tot.hours[week], hours)
    assert tot.stages.sum() == 60 * m.staff.n
    assert tot.participants[-1].sum() < tot.participants[0].sum()  # turnover took some away
    assert tot.stages[-1, :, Stage.UNAWARE].sum() < m.staff.n  # the run did something
