"""A generated national system (scenario=england): schools drawn as arrays, PLNs, maxima."""

import numpy as np
import pytest

import sim
from experiments import run as run_cli
from sim import limits
from sim.compose import build_config
from sim.config import ConfigError
from sim.population import Role

SMALL = ("system.primaries=60", "system.secondaries=12", "years=1")


@pytest.fixture(scope="module")
def model():
    return sim.KnowledgeMobilisationModel(build_config("england", seed=4, overrides=SMALL)).run()


def test_generated_system_has_the_configured_schools_and_plns(model):
    table = model.school_table
    assert table.n == 72 and model.schools.n == 72
    assert (table.phase == 0).sum() == 60 and (table.phase == 1).sum() == 12
    members = np.bincount(table.pln)
    assert len(members) == table.n_plns == 9 and (members == 8).all()
    sizes = table.teachers + table.leaders
    assert 9 < sizes[table.phase == 0].mean() < 17  # mean 13, cv 0.3: sd of the mean ~0.5
    assert 50 < sizes[table.phase == 1].mean() < 70  # mean 60, cv 0.3: sd of the mean ~5.2
    assert (np.bincount(model.staff.school) == sizes).all()
    # Secondaries are organised in departments of about eight (plus the leadership team).
    secondary_staff = np.isin(model.staff.school, np.flatnonzero(table.phase == 1))
    teams = np.unique(
        model.staff.school[secondary_staff] * 1000 + model.staff.team[secondary_staff]
    )
    assert len(teams) < secondary_staff.sum() / 5
    # Every school sends one senior leader and one teacher (selection.*).
    sent = np.bincount(model.staff.school[model.staff.participant], minlength=72)
    lead = model.staff.participant & (model.staff.role == Role.SENIOR_LEADER)
    assert model.participants_selected == 144
    assert (sent <= 2).all() and lead.sum() == 72


def test_levers_and_context_are_drawn_per_school(model):
    levers = model.school_table.levers
    assert levers["in_improvement_plan"].dtype == bool
    assert 0 < levers["in_improvement_plan"].mean() < 1
    for name in ("involvement", "howto_support", "collab_hours_per_week"):
        assert np.unique(levers[name]).size == 72, name
    assert np.unique(model.schools.disadvantage).size == 72


def test_each_pln_holds_workshops_on_its_own_calendar():
    cfg = build_config("england", seed=5, overrides=(*SMALL, "system.pln_offset_weeks=4"))
    m = sim.KnowledgeMobilisationModel(cfg)
    offsets = m.school_table.pln_offset[m.school_table.pln]
    assert np.unique(offsets).size > 1
    attended_week = np.full(m.schools.n, -1)
    while m.week < 13:
        m.step()
        schools = np.unique(m.staff.school[m.now.attended_workshop])
        first = attended_week[schools] < 0
        attended_week[schools[first]] = m.week - 1
    held = attended_week >= 0
    assert held.sum() > 60
    assert (attended_week[held] == 4 + offsets[held]).all()


def test_same_seed_same_system_and_other_seed_another():
    a = sim.KnowledgeMobilisationModel(build_config("england", seed=1, overrides=SMALL))
    b = sim.KnowledgeMobilisationModel(build_config("england", seed=1, overrides=SMALL))
    c = sim.KnowledgeMobilisationModel(build_config("england", seed=2, overrides=SMALL))
    assert np.array_equal(a.ties.adviser, b.ties.adviser)
    assert np.array_equal(a.school_table.teachers, b.school_table.teachers)
    assert not np.array_equal(a.school_table.teachers, c.school_table.teachers)


def test_agents_are_created_on_first_access():
    m = sim.KnowledgeMobilisationModel(build_config(seed=0))
    assert len(m._all_agents) == 0
    m.step()
    assert len(m._all_agents) == 0
    assert len(m.agents) == m.staff.n
    assert m.agent_at[5].slot == 5


@pytest.mark.parametrize(
    ("overrides", "key"),
    [
        (("system.primaries=25001",), "system.primaries"),
        (("system.secondaries=-1",), "system.secondaries"),
        (("system.secondary_staff=251",), "system.secondary_staff"),
        (("selection.per_school=[1,2]",), "selection.per_school"),
        (("leadership.involvement=[0.1,0.2]",), "leadership.involvement"),
    ],
)
def test_beyond_the_maxima_is_a_one_line_error(overrides, key):
    with pytest.raises(ConfigError) as err:
        build_config("england", overrides=overrides)
    assert key in str(err.value) and "\n" not in str(err.value)


def test_a_system_too_big_for_the_machine_is_refused(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(limits, "machine_memory_bytes", lambda: 2**30)
    with pytest.raises(ConfigError, match="GiB"):
        build_config("england", seed=11)
    out = tmp_path / "run"
    status = run_cli.main(["scenario=england", "seed=12", f"--out={out}"])
    err = capsys.readouterr().err
    assert status == 2 and err.startswith("error: the run needs about") and err.count("\n") == 1
    assert "system.primaries" in err and "1.0 GiB" in err
    assert not out.exists()


def test_one_memory_estimate_for_runs_comparisons_and_sweeps(monkeypatch, tmp_path, capsys):
    """Listed and generated schools, one run or a request of many: one estimate, one refusal."""
    from experiments import sweep
    from experiments.settings import build_settings

    listed = build_config("new_forest", seed=21, overrides=("years=1",))
    generated = build_config("england", seed=21, overrides=SMALL)
    for config in (listed, generated):
        assert limits.request_bytes([config]) == limits.run_bytes(config) > 0
        assert limits.request_bytes([config], runs=10, workers=2) == 2 * limits.run_bytes(
            config
        ) + limits.tables_bytes(config, 10)
    # England's per-school tables are much larger than New Forest's eight schools'.
    assert limits.tables_bytes(generated, 1) > 5 * limits.tables_bytes(listed, 1)
    slots = build_config("new_forest", seed=21, overrides=("years=1", "record=slots"))
    assert limits.run_bytes(slots) > limits.run_bytes(listed)

    # Room for one run but not for the tables of 1,000 seeds: a run is accepted, and refused
    # requests name their size, for every entry point that checks memory.
    room = limits.run_bytes(listed) * 3
    monkeypatch.setattr(limits, "machine_memory_bytes", lambda: room)
    build_config("new_forest", seed=22, overrides=("years=1",))
    with pytest.raises(ConfigError, match=r"1,000 seeds of 2 arms needs about .* GiB"):
        build_settings(["seeds=1000", "years=1", "executor.n_jobs=1"])
    status = sweep_main(monkeypatch, sweep, ["--seeds", "1000", "--n-jobs", "1", "-m", "years=1"])
    err = capsys.readouterr().err
    assert status == 2 and "1 cell of 1,000 seeds needs about" in err and err.count("\n") == 1
    # No room for one run: the configuration itself is refused (the API and every command).
    monkeypatch.setattr(limits, "machine_memory_bytes", lambda: limits.run_bytes(listed) // 2)
    with pytest.raises(ConfigError, match="the run needs about .*schools.teachers"):
        build_config("new_forest", seed=23, overrides=("years=1",))


def sweep_main(monkeypatch, sweep, argv):
    monkeypatch.setattr("sys.argv", ["sweep", *argv])
    return sweep.main()


def test_national_outputs_per_school_pln_and_figure(tmp_path):
    from experiments import national

    out = tmp_path / "nat"
    status = national.main(
        ["system.primaries=24", "system.secondaries=8", "years=1", f"--out={out}"]
    )
    assert status == 0
    import pandas as pd

    schools = pd.read_csv(out / "schools.csv")
    plns = pd.read_parquet(out / "plns.parquet")
    system_series = pd.read_csv(out / "system.csv")
    assert len(schools) == 32 and set(schools["phase"]) == {"primary", "secondary"}
    assert set(schools["disadvantage_band"]) == set(national.BANDS)
    assert (
        len(plns) == 4 * 39
        and (plns.groupby("week")["staff"].sum() == schools["staff"].sum()).all()
    )
    assert len(system_series) == 39
    assert system_series["uptake"].iloc[-1] == pytest.approx(
        (schools["uptake"] * schools["staff"]).sum() / schools["staff"].sum()
    )
    assert (out / "summary.png").stat().st_size > 10_000
