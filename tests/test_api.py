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
