"""The Python API: `sim.simulate`, RunResult, and Mesa agents as views of the state arrays."""

import numpy as np
import pandas as pd
import pytest

import sim
from sim.agents import Leader, OpinionFormer, Teacher
from sim.population import STAGE_NAMES


@pytest.fixture(scope="module")
def result():
    return sim.simulate()


def test_simulate_with_no_arguments_runs_new_forest_for_three_years(result):
    s = result.summary
    assert result.config.scenario == "new_forest" and result.config.seed == 0
    assert s["weeks"] == 117 and s["schools"] == 8 and s["participants"] == 21
    for key in (
        "uptake_final",
        "use_final",
        "spread_final",
        "participants_knowledge",
        "weeks_to_half_uptake",
        "pupils_reached",
        "teacher_hours",
        "uptake_year_1",
        "uptake_year_3",
    ):
        assert key in s
    assert 0 <= s["uptake_final"] <= s["use_final"] <= 1
    assert s["uptake_year_3"] == s["uptake_final"]
    assert s["participants_knowledge"] > 0.3  # four workshops teach something


def test_timeseries_has_a_row_per_week_and_a_column_per_stage(result):
    ts = result.timeseries
    assert isinstance(ts, pd.DataFrame) and len(ts) == 117
    assert list(ts["week"]) == list(range(1, 118))
    assert set(STAGE_NAMES) <= set(ts.columns)
    assert (ts[list(STAGE_NAMES)].sum(axis=1) == result.summary["staff"]).all()
    assert ts["uptake"].iloc[-1] == pytest.approx(result.summary["uptake_final"])


def test_schools_table_is_tidy_and_adds_up(result):
    sch = result.schools
    assert len(sch) == 8 * 117
    assert set(sch["school"]) == set(range(8))
    by_week = sch.groupby("week")[list(STAGE_NAMES)].sum()
    ts = result.timeseries.set_index("week")[list(STAGE_NAMES)]
    pd.testing.assert_frame_equal(by_week, ts, check_dtype=False)
    hours = sch.groupby("week")["teacher_hours"].sum().to_numpy()
    np.testing.assert_allclose(hours, result.timeseries["teacher_hours"].to_numpy())


def test_model_is_a_mesa_model_with_three_agent_types(result):
    model = result.model
    types = set(model.agent_types)
    assert types == {Leader, Teacher, OpinionFormer}
    assert len(model.agents) == result.summary["staff"]
    assert len(model.agents_by_type[Leader]) == 16  # two per school
    assert len(model.agents_by_type[OpinionFormer]) == 9
    roles = {a.role for a in model.agents_by_type[Teacher]}
    assert roles <= {"middle_leader", "teacher", "early_career"}
    assert {a.role for a in model.agents_by_type[Leader]} == {"senior_leader"}


def test_agents_are_views_of_the_arrays(result):
    model = result.model
    agent = model.agents_by_type[OpinionFormer].to_list()[0]
    assert agent.knowledge == model.staff.knowledge[agent.slot]
    assert agent.stage == STAGE_NAMES[model.staff.stage[agent.slot]]
    # AgentSet queries see the same state as the arrays.
    users = model.agents.select(lambda a: a.stage in ("adopted", "embedded"))
    assert len(users) == round(result.summary["uptake_final"] * result.summary["staff"])
    # Writing through an agent writes the array.
    fresh = sim.KnowledgeMobilisationModel()
    a = fresh.agent_at[5]
    a.knowledge = 0.5
    a.stage = "interested"
    assert fresh.staff.knowledge[5] == 0.5 and fresh.staff.stage[5] == 2
    assert all(adviser.school == a.school for adviser, _ in a.advisers)


def test_model_steps_one_week_at_a_time_and_stops_at_the_horizon():
    model = sim.KnowledgeMobilisationModel(sim.build_config(overrides=("years=1",)))
    model.step()
    assert model.week == 1 and model.running
    model.run()
    assert model.week == 39 and not model.running
    model.step()  # stepping past the horizon does nothing
    assert model.week == 39


def test_horizon_is_any_whole_number_of_years():
    r = sim.simulate(overrides=("years=5",))
    assert len(r.timeseries) == 5 * 39 and "uptake_year_5" in r.summary


def test_participants_follow_the_mixed_selection():
    model = sim.KnowledgeMobilisationModel()
    staff = model.staff
    part = staff.participant
    leaders = part & (staff.role == 0)
    assert leaders.sum() == 12 and (part & ~(staff.role == 0)).sum() == 9
    assert (part & staff.opinion_former).sum() == 9  # the nine places go to opinion formers
    random = sim.KnowledgeMobilisationModel(
        sim.build_config(overrides=("selection.policy=random",))
    )
    assert random.staff.participant.sum() == 21
    counts = np.bincount(random.staff.school[random.staff.participant], minlength=8)
    assert list(counts) == [3, 3, 3, 3, 2, 2, 2, 3]


def _state(model):
    staff = model.staff
    return [staff.stage, staff.knowledge, staff.quality, staff.pupil_gain, model.ties.trust]


def test_run_loops_the_weeks_and_moves_mesas_clock_as_run_for_would():
    """run() steps the weeks in a loop when nothing else is scheduled: same state, same clock."""
    cfg = sim.build_config(seed=3)
    looped = sim.KnowledgeMobilisationModel(cfg).run()
    by_mesa = sim.KnowledgeMobilisationModel(cfg)
    by_mesa.run_for(by_mesa.horizon_weeks)  # Mesa's own event loop, one event a week
    for a, b in zip(_state(looped), _state(by_mesa), strict=True):
        assert np.array_equal(a, b)
    assert looped.time == by_mesa.time == 117 and looped.steps == by_mesa.steps == 117
    assert looped._default_schedule.next_scheduled_time == 118
    looped.step()  # past the horizon: Mesa's weekly event still runs, nothing changes
    assert looped.steps == 118 and looped.week == 117 and not looped.running


def test_run_uses_mesas_event_loop_when_something_else_is_scheduled():
    """An event of the caller's own is run at its time, between the weeks."""
    cfg = sim.build_config(seed=3)
    model = sim.KnowledgeMobilisationModel(cfg)
    seen = []

    def note():
        seen.append(model.week)

    model.schedule_event(note, at=10.5)
    model.run()
    assert seen == [10] and model.week == 117 and model.time == 117
    plain = sim.KnowledgeMobilisationModel(cfg).run()
    for a, b in zip(_state(model), _state(plain), strict=True):
        assert np.array_equal(a, b)


def test_fused_compiled_calls_give_what_the_processes_give_one_by_one():
    """The weekly loop runs consecutive steps in one compiled call; stepping the processes one
    by one ends in the same state."""
    cfg = sim.build_config(seed=1, overrides=["mode=both", "turnover.rate=0.3"])
    fused = sim.KnowledgeMobilisationModel(cfg)
    assert len(fused.weekly_calls()) == len(fused.processes) - 3  # 6-7 and 8-10 fused
    fused.run()
    one_by_one = sim.KnowledgeMobilisationModel(cfg)
    for week in range(one_by_one.horizon_weeks):
        for process in one_by_one.processes:
            process.step(week)
        one_by_one.week = week + 1
    for a, b in zip(_state(fused), _state(one_by_one), strict=True):
        assert np.array_equal(a, b)
    assert np.array_equal(fused.staff.trust_in_leaders, one_by_one.staff.trust_in_leaders)
    assert np.array_equal(fused.control_taken, one_by_one.control_taken)
    assert np.array_equal(fused.record.totals().stages, one_by_one.record.totals().stages)
    with sim.kernel.use("numpy"):  # the reference path: every process's own step
        assert len(fused.weekly_calls()) == len(fused.processes)


def test_each_model_gets_its_own_copy_of_a_cached_configuration():
    cfg = sim.build_config()
    first = sim.KnowledgeMobilisationModel(cfg)
    first.config.decision.p_act = 0.99  # a caller changing its model's copy
    second = sim.KnowledgeMobilisationModel(cfg)
    assert second.config.decision.p_act == cfg.decision.p_act != 0.99
    assert second.config is not first.config and repr(second.config) != repr(first.config)
    bad = sim.build_config()
    bad.decision.p_act = 2.0
    for _ in range(2):  # an invalid configuration is never cached
        with pytest.raises(sim.ConfigError, match="decision.p_act"):
            sim.KnowledgeMobilisationModel(bad)


def test_configurations_differing_deep_inside_a_long_array_are_cached_apart():
    from sim.config import cached_copy

    first, second = sim.build_config(), sim.build_config()
    first.schools.teachers = np.full(5000, 10)  # numpy abbreviates arrays this long in a repr
    second.schools.teachers = first.schools.teachers.copy()
    second.schools.teachers[2500] = 11
    a = cached_copy("test-long-array", first, lambda c: c)
    b = cached_copy("test-long-array", second, lambda c: c)
    assert a.schools.teachers[2500] == 10 and b.schools.teachers[2500] == 11
