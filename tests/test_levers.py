"""Levers that change mid-run, and state that cannot go stale.

* ``model.set_lever(school, name, value)`` changes a lever from the next week on: earlier weeks
  are untouched, later ones follow the new value, and setting a lever before the first week is
  the same run as configuring it;
* caches are invalidated by version stamps that every writer bumps, the Mesa agent views included;
* configuration sections reject keys they do not declare.
"""

import dataclasses

import numpy as np
import pytest
from model_helpers import make_model, proc

from sim import Config, ConfigError, KnowledgeMobilisationModel
from sim.levers import LEVER_NAMES
from sim.processes import Decision

WEEKS = 60


def record_of(model: KnowledgeMobilisationModel) -> dict[str, np.ndarray]:
    rec = model.record
    t = rec.weeks_recorded
    return {
        "stage": rec.stage[:t].copy(),
        "knowledge": rec.knowledge[:t].copy(),
        "quality": rec.quality[:t].copy(),
    }


def run_with_lever_change(week: int | None, school, name, value, weeks: int = WEEKS):
    m = make_model()
    for w in range(weeks):
        if w == week:
            m.set_lever(school, name, value)
        m.step()
    return m


@pytest.fixture(scope="module")
def baseline():
    return record_of(run_with_lever_change(None, None, "involvement", 0.5))


def test_a_lever_changed_mid_run_changes_the_trajectory_from_that_week_on(baseline):
    """Collaboration time doubled for every school from week 30: weeks 0-29 identical to the
    unchanged run, week 30 on differs (tie activity depends on allocated hours)."""
    changed = record_of(run_with_lever_change(30, None, "collab_hours_per_week", 2.0))
    for key in baseline:
        np.testing.assert_array_equal(changed[key][:30], baseline[key][:30], err_msg=key)
    assert not np.array_equal(changed["knowledge"][30], baseline["knowledge"][30])
    assert not np.array_equal(changed["knowledge"][30:], baseline["knowledge"][30:])


def test_a_lever_changed_for_one_school_changes_that_school_only(baseline):
    """The head of school 3 puts the work in the plan, targets and governors' agenda at week 20
    (the signal of school 3 rises): school 3's staff diverge; every other school is untouched
    (streams are drawn per slot, networks are within schools)."""
    m = make_model()
    for w in range(WEEKS):
        if w == 20:
            for lever in ("in_improvement_plan", "in_performance_targets", "governors_engaged"):
                m.set_lever(3, lever, True)
            m.set_lever(3, "involvement", 1.0)
        m.step()
    changed = record_of(m)
    in_3 = m.staff.school == 3
    for key in baseline:
        np.testing.assert_array_equal(changed[key][:20], baseline[key][:20], err_msg=key)
        np.testing.assert_array_equal(changed[key][:, ~in_3], baseline[key][:, ~in_3])
    assert not np.array_equal(changed["stage"][:, in_3], baseline["stage"][:, in_3])
    assert m.levers.involvement[3] == 1.0 and m.levers.involvement[2] == 0.5
    assert m.config.leadership.involvement[3] == 0.5  # the config keeps the starting values


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("collab_hours_per_week", [0.0, 1.0, 2.0, 0.5, 1.0, 1.5, 0.0, 2.0]),
        ("session_frequency", ["weekly", "termly"] * 4),
        ("research_lead", [True, False] * 4),
        ("distributed_leadership", [0.1, 0.9] * 4),
        ("release_for_workshops", [False, True] * 4),
        ("plan_priorities", [1, 6] * 4),
    ],
)
def test_setting_levers_before_the_first_week_is_the_configured_run(name, value):
    """Every process reads the levers each week: setting them before week 0 is bit-identical
    to configuring them, for levers read by each of the processes."""
    configured = make_model(lambda cfg: setattr(cfg.leadership, name, value))
    configured.run()
    m = make_model()
    for school, v in enumerate(value):
        m.set_lever(school, name, v)
    m.run()
    expected, got = record_of(configured), record_of(m)
    for key in expected:
        np.testing.assert_array_equal(got[key], expected[key], err_msg=key)


def test_set_lever_rejects_unknown_levers_schools_and_values():
    m = make_model()
    with pytest.raises(ConfigError, match="unknown lever 'involvment'.*involvement"):
        m.set_lever(0, "involvment", 0.5)
    with pytest.raises(ConfigError, match="unknown lever 'priority_dilution'"):
        m.set_lever(0, "priority_dilution", 0.5)  # one value for all schools, fixed for a run
    with pytest.raises(ConfigError, match=r"leadership.involvement = 2 is out of range"):
        m.set_lever(None, "involvement", 2)
    with pytest.raises(ConfigError, match="leadership.session_frequency = 'daily'"):
        m.set_lever(1, "session_frequency", "daily")
    with pytest.raises(ConfigError, match="leadership.research_lead must be true or false"):
        m.set_lever(1, "research_lead", 1)
    with pytest.raises(ConfigError, match="school = 8 is out of range"):
        m.set_lever(8, "involvement", 0.5)
    with pytest.raises(ConfigError, match="school must be a school index"):
        m.set_lever("3", "involvement", 0.5)
    assert m.levers.version == 0  # nothing was changed
    assert set(LEVER_NAMES) == {
        f.name for f in dataclasses.fields(Config().leadership) if f.metadata["per_school"]
    }


def test_setting_a_lever_in_many_schools_at_once_is_setting_it_school_by_school():
    one, many = make_model(), make_model()
    for s, v in ((1, "weekly"), (5, "termly"), (6, "weekly")):
        one.set_lever(s, "session_frequency", v)
    many.levers.set_many(np.array([1, 5, 6]), "session_frequency", ["weekly", "termly", "weekly"])
    assert many.levers.version == 1  # one change, derived values recomputed once
    np.testing.assert_array_equal(one.levers.session_period, many.levers.session_period)
    np.testing.assert_array_equal(
        one.levers.get("session_frequency"), many.levers.get("session_frequency")
    )
    with pytest.raises(ConfigError, match="2 values for 3 schools"):
        many.levers.set_many([0, 1, 2], "involvement", [0.1, 0.2])
    with pytest.raises(ConfigError, match="school = 9 is out of range"):
        many.levers.set_many([0, 9], "involvement", [0.1, 0.2])
    with pytest.raises(ConfigError, match=r"leadership.involvement = 2 is out of range"):
        many.levers.set_many([0, 1], "involvement", [0.1, 2])
    assert many.levers.version == 1  # refused changes change nothing


def test_levers_are_read_only_arrays():
    m = make_model()
    with pytest.raises(ValueError, match="read-only"):
        m.levers.involvement[0] = 1.0


def test_writing_through_an_agent_invalidates_readiness():
    """Setting ``agent.trust_in_leaders = 0`` through the Mesa agent view (in place) must change
    readiness at once: the cached formal term is keyed on the array's version."""
    m = make_model()
    for _ in range(10):
        m.step()
    decision = proc(m, Decision)
    before = decision.readiness().copy()
    signal = m.now.signal
    slot = int(np.flatnonzero(signal > 0)[0])
    m.agent_at[slot].trust_in_leaders = 0.0
    after = decision.readiness()
    fresh = Decision(m).readiness()  # no cache at all
    np.testing.assert_array_equal(after, fresh)
    assert after[slot] < before[slot]


def test_writing_capacity_through_an_agent_updates_free_hours():
    m = make_model()
    m.step()
    agent = m.agent_at[5]
    assert m.free_hours[5] != 7.0 + m.levers.collab_hours[agent.school]  # cached now
    agent.capacity = 7.0
    assert m.free_hours[5] == 7.0 + m.levers.collab_hours[agent.school]


def test_tie_trust_written_in_place_and_touched_updates_the_totals():
    m = make_model()
    total = m.trust_by_seeker().copy()
    m.ties.trust[0] += 0.1
    m.ties.touch("trust")
    assert m.trust_by_seeker()[m.ties.seeker[0]] == pytest.approx(total[m.ties.seeker[0]] + 0.1)


SECTIONS = [
    f.name for f in dataclasses.fields(Config) if dataclasses.is_dataclass(f.default_factory)
]


@pytest.mark.parametrize("section", SECTIONS)
def test_every_config_section_rejects_unknown_keys(section):
    cfg = Config()
    with pytest.raises(ConfigError, match=rf"unknown key '{section}\.typo'; allowed keys here: "):
        getattr(cfg, section).typo = 1


def test_config_rejects_the_misspelt_involvement_and_unknown_top_level_keys():
    cfg = Config()
    with pytest.raises(ConfigError) as err:
        cfg.leadership.involvment = 0.5
    assert "'leadership.involvment'" in str(err.value)
    assert "leadership.involvement" in str(err.value)
    with pytest.raises(ConfigError, match="unknown key 'sead'; allowed keys here: scenario, seed"):
        cfg.sead = 3
    cfg.leadership.involvement = 0.7  # declared keys are still assignable
    assert cfg.leadership.involvement == 0.7
