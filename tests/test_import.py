"""Importing a network from CSV files, its validation, and the whom-to-send study."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sim
from experiments import run as run_cli
from experiments import whom_to_send
from sim.config import ConfigError
from sim.model import KnowledgeMobilisationModel
from sim.network_import import (
    NetworkDataError,
    export_network,
    network_summary,
    read_network,
    staff_ids,
)
from sim.networks import SchoolNetwork, network_stats

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "network"


def files_overrides(folder: Path) -> list[str]:
    return [f"network.{k}={folder / (k + '.csv')}" for k in ("staff", "ties", "schools")]


def assert_same_run(a: sim.RunResult, b: sim.RunResult) -> None:
    assert a.summary == b.summary
    pd.testing.assert_frame_equal(a.timeseries, b.timeseries, check_exact=True)
    pd.testing.assert_frame_equal(a.schools, b.schools, check_exact=True)


# -- round trip ---------------------------------------------------------------------------------


@pytest.mark.parametrize("strength", [True, False])
@pytest.mark.parametrize("seed", [0, 7])
def test_round_trip_export_import_gives_bit_identical_runs(tmp_path, seed, strength):
    """A generated New Forest population, exported and imported, runs exactly as generated.

    With strengths the tie trust comes from the file (floats written exactly); without, it is
    drawn from the same stream as for the generated network.
    """
    generated = sim.simulate("new_forest", seed=seed)
    export_network(generated.config, tmp_path, strength=strength)
    imported = sim.simulate("new_forest", seed=seed, overrides=files_overrides(tmp_path))
    assert imported.config.network.staff
    assert_same_run(generated, imported)
    # The population itself is the same, slot by slot.
    g, i = generated.model, imported.model
    np.testing.assert_array_equal(g.ties.seeker, i.ties.seeker)
    np.testing.assert_array_equal(g.ties.initial_trust, i.ties.initial_trust)
    np.testing.assert_array_equal(g.staff.role, i.staff.role)
    np.testing.assert_array_equal(g.staff.opinion_former, i.staff.opinion_former)


def test_round_trip_of_another_scenario_with_levers(tmp_path):
    """Per-school levers travel in the schools file (secondary schools, varied levers)."""
    overrides = ("leadership.collab_hours_per_week=[0,1,2,1,0.5,1.5]", "leadership=full")
    generated = sim.simulate("secondary_trust", seed=3, overrides=overrides)
    export_network(generated.config, tmp_path)
    imported = sim.simulate("from_files", seed=3, overrides=files_overrides(tmp_path))
    # from_files has other defaults; the per-school values come from the file.
    assert imported.config.leadership.collab_hours_per_week == [0, 1, 2, 1, 0.5, 1.5]
    same = sim.simulate(
        "secondary_trust", seed=3, overrides=(*overrides, *files_overrides(tmp_path))
    )
    assert_same_run(generated, same)


def test_command_line_overrides_beat_the_schools_file():
    over = files_overrides(EXAMPLE)
    cfg = sim.build_config("from_files", overrides=over)
    assert cfg.leadership.collab_hours_per_week == [1.0, 0.5, 1.5]  # from the file
    assert cfg.schools.trust_climate == [0.7, 0.55, 0.6]  # blank: the scenario's 0.6
    cfg = sim.build_config("from_files", overrides=[*over, "leadership.collab_hours_per_week=2"])
    assert cfg.leadership.collab_hours_per_week == [2, 2, 2]


# -- the example network and its summary ---------------------------------------------------------


def test_example_network_reads_and_says_what_was_drawn():
    cfg = sim.build_config("from_files", overrides=files_overrides(EXAMPLE))
    s = network_summary(cfg)
    assert (s["schools"], s["staff"], s["listed"]) == (3, 38, 36)
    assert s["answered"] == 30  # two per school did not answer, and two are not listed
    drawn = " ".join(s["drawn"])
    for attribute in ("opinion_former", "strength", "pupils", "did not answer", "unlisted"):
        assert attribute in drawn
    # Statistics are the project's own network statistics, on the observed ties.
    data = read_network(*(EXAMPLE / f"{k}.csv" for k in ("staff", "ties", "schools")))
    lo, hi = 0, int(data.size[0])
    mask = data.seeker < hi
    net = SchoolNetwork(n=hi - lo, src=data.seeker[mask], dst=data.adviser[mask])
    expected = network_stats(net)
    assert s["per_school"][0]["density"] == pytest.approx(expected["density"])
    assert s["per_school"][0]["reciprocity"] == pytest.approx(expected["reciprocity"])
    assert s["per_school"][0]["in_centralisation"] == pytest.approx(expected["in_centralisation"])


def test_non_respondents_keep_the_ties_named_to_them():
    cfg = sim.build_config("from_files", seed=1, overrides=files_overrides(EXAMPLE))
    data = read_network(*(EXAMPLE / f"{k}.csv" for k in ("staff", "ties", "schools")))
    model = KnowledgeMobilisationModel(cfg)
    silent = np.flatnonzero(~data.responded & data.listed)
    assert len(silent) == 6
    for i in silent:
        named = set(data.seeker[data.adviser == i])
        assert named, "the example's non-respondents are named by colleagues"
        assert named <= set(model.ties.seeker[model.ties.adviser == i])
        # Their own advice-seeking is reconstructed only towards those who named them.
        assert set(model.ties.adviser[model.ties.seeker == i]) <= named


def test_run_command_writes_the_network_summary(tmp_path, capsys):
    out = tmp_path / "run"
    args = ["scenario=from_files", *files_overrides(EXAMPLE), "--out", str(out)]
    assert run_cli.main(args) == 0
    assert "3 schools, 38 staff" in capsys.readouterr().out
    text = (out / "network.md").read_text()
    assert "Drawn from the scenario's distributions" in text and "CedarVale" in text


# -- validation: one line per problem, naming file, row and column ------------------------------

STAFF = "id,school,role\nA1,A,senior_leader\nA2,A,teacher\nA3,A,teacher\n"
TIES = "seeker,adviser,strength\nA2,A1,0.5\nA3,A1,\nA1,A2,0.9\n"
SCHOOLS = "id,phase,size\nA,primary,3\n"


def write_files(folder: Path, staff=STAFF, ties=TIES, schools=SCHOOLS) -> list[str]:
    for name, text in (("staff", staff), ("ties", ties), ("schools", schools)):
        data = text if isinstance(text, bytes) else text.encode("utf-8")
        (folder / f"{name}.csv").write_bytes(data)
    return files_overrides(folder)


def test_a_valid_small_network_builds(tmp_path):
    cfg = sim.build_config("from_files", overrides=write_files(tmp_path))
    assert cfg.schools.teachers == [2] and cfg.schools.leaders == [1]


CASES = {
    "unknown school": (
        {"staff": STAFF + "A4,B,teacher\n", "schools": "id,phase,size\nA,primary,4\n"},
        "staff.csv row 5, column school: unknown school 'B' (schools.csv lists: A)",
    ),
    "duplicate id": (
        {"staff": STAFF + "A2,A,teacher\n", "schools": "id,phase,size\nA,primary,4\n"},
        "staff.csv row 5, column id: duplicate id 'A2' (also row 3)",
    ),
    "tie to unknown person": (
        {"ties": TIES + "A2,Z9,0.4\n"},
        "ties.csv row 5, column adviser: unknown person 'Z9' (not in staff.csv)",
    ),
    "self-tie": (
        {"ties": TIES + "A3,A3,0.4\n"},
        "ties.csv row 5, column adviser: a self-tie ('A3' names themself)",
    ),
    "empty file": ({"ties": ""}, "ties.csv: the file is empty"),
    "header only": ({"staff": "id,school,role\n"}, "staff.csv: the file has a header but no rows"),
    "wrong encoding": (
        {
            "staff": (STAFF + "A4,A,teacher\n").replace("A4", "Zo\u00eb").encode("latin-1"),
            "schools": "id,phase,size\nA,primary,4\n",
        },
        "staff.csv row 5: not UTF-8 text (byte 0xeb); save the file as 'CSV UTF-8'",
    ),
    "non-numeric strength": (
        {"ties": TIES + "A3,A2,often\n"},
        "ties.csv row 5, column strength: 'often' is not a number",
    ),
    "strength out of range": (
        {"ties": TIES + "A3,A2,4\n"},
        "ties.csv row 5, column strength: 4 is out of range; allowed: 0 to 1 (the tie's trust; "
        "divide a 1-5 rating by 5)",
    ),
    "unknown role": (
        {"staff": STAFF.replace("A3,A,teacher", "A3,A,dinosaur")},
        "staff.csv row 4, column role: 'dinosaur' is not allowed; choose one of: senior_leader, "
        "middle_leader, teacher, early_career (or leave it blank to draw it)",
    ),
    "unknown column": (
        {"staff": STAFF.replace("id,school,role", "id,school,role,shoe_size")},
        "staff.csv row 1, column shoe_size: unknown column; allowed: id, school, role, team, "
        "pupils, opinion_former, responded",
    ),
    "lever out of range": (
        {"schools": "id,phase,size,collab_hours_per_week\nA,primary,3,5\n"},
        "schools.csv row 2, column collab_hours_per_week: 5 is out of range; allowed: >= 0 and <= 2",
    ),
    "size below the staff listed": (
        {"schools": "id,phase,size\nA,primary,2\n"},
        "schools.csv row 2, column size: 2 but staff.csv lists 3 staff of school 'A'",
    ),
    "no senior leader": (
        {"staff": STAFF.replace("A1,A,senior_leader", "A1,A,teacher")},
        "schools.csv row 2, column id: school 'A' has no senior_leader in staff.csv (list the "
        "head at least)",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_every_data_error_is_one_line_naming_file_row_and_column(tmp_path, case):
    files, message = CASES[case]
    overrides = write_files(tmp_path, **files)
    with pytest.raises(NetworkDataError) as info:
        sim.build_config("from_files", overrides=overrides)
    assert isinstance(info.value, ConfigError)  # the API's error type
    assert str(info.value) == message
    assert "\n" not in str(info.value)


def test_several_problems_give_one_line_each(tmp_path):
    ties = TIES + "A3,A3,0.4\nA2,Z9,0.1\nA3,A2,often\n"
    overrides = write_files(tmp_path, ties=ties)
    with pytest.raises(NetworkDataError) as info:
        sim.build_config("from_files", overrides=overrides)
    lines = str(info.value).splitlines()
    assert [line.split(",")[0] for line in lines] == [
        "ties.csv row 5",
        "ties.csv row 6",
        "ties.csv row 7",
    ]


def test_data_error_on_the_command_line_exits_2_and_writes_nothing(tmp_path, capsys):
    overrides = write_files(tmp_path, ties=TIES + "A3,A3,0.4\n")
    out = tmp_path / "run"
    assert run_cli.main(["scenario=from_files", *overrides, "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "error: ties.csv row 5, column adviser: a self-tie ('A3' names themself)"
    assert not out.exists()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ([], "scenario=from_files needs network.staff, network.ties and network.schools"),
        (["network.staff=staff.csv"], "network.staff needs network.ties and network.schools too"),
        (
            ["selection.policy=listed", "scenario=new_forest"],
            "selection.policy=listed needs an imported network",
        ),
    ],
)
def test_configuration_errors(overrides, message):
    with pytest.raises(ConfigError, match=message):
        sim.build_config("from_files", overrides=overrides)


def test_listed_participants_must_be_staff():
    over = [
        *files_overrides(EXAMPLE),
        "selection.policy=listed",
        "selection.participants=[ASH01,XX99]",
    ]
    with pytest.raises(
        ConfigError, match="selection.participants: 'XX99' is not a member of staff"
    ):
        sim.build_config("from_files", overrides=over)


def test_listed_policy_sends_exactly_the_named_staff():
    over = [
        *files_overrides(EXAMPLE),
        "selection.policy=listed",
        "selection.participants=[ASH03,BEE05,BEE06]",
    ]
    cfg = sim.build_config("from_files", overrides=over)
    model = KnowledgeMobilisationModel(cfg)
    ids = staff_ids(cfg)
    assert sorted(ids[i] for i in np.flatnonzero(model.staff.participant)) == [
        "ASH03",
        "BEE05",
        "BEE06",
    ]


# -- whom to send ---------------------------------------------------------------------------------


def test_schools_do_not_interact():
    """The greedy search tries every school's candidates in the same runs; that needs this."""
    a = KnowledgeMobilisationModel(sim.build_config(seed=4)).run()
    cfg = sim.build_config(
        seed=4,
        overrides=(
            "selection.per_school=[1,3,3,3,2,2,2,3]",
            "selection.leaders_per_school=[1,2,2,2,1,1,1,1]",
        ),
    )
    b = KnowledgeMobilisationModel(cfg).run()
    sa, sb = a.record.totals().stages, b.record.totals().stages
    assert not np.array_equal(sa[:, 0], sb[:, 0])  # school 0 changed
    np.testing.assert_array_equal(sa[:, 1:], sb[:, 1:])  # no other school did


def star_files(folder: Path, centre: int = 6, n: int = 10) -> list[str]:
    ids = [f"P{k:02d}" for k in range(1, n + 1)]
    roles = ["senior_leader"] + ["teacher"] * (n - 1)
    staff = "id,school,role,responded\n" + "".join(
        f"{i},Star,{r},yes\n" for i, r in zip(ids, roles, strict=True)
    )
    hub = ids[centre - 1]
    ties = "seeker,adviser\n" + "".join(f"{i},{hub}\n" for i in ids if i != hub)
    schools = f"id,phase,size,participants\nStar,primary,{n},1\n"
    return write_files(folder, staff, ties, schools)


def test_greedy_choice_on_a_planted_star_picks_the_centre(tmp_path):
    """Everyone turns to P06 (a teacher listed sixth): sending P06 spreads the practice most."""
    cfg = sim.build_config("from_files", seed=0, overrides=star_files(tmp_path))
    chosen, steps = whom_to_send.greedy_participants(cfg, seeds=list(range(6)))
    assert chosen == ["P06"]
    assert steps.loc[0, "expected_spread"] > steps.loc[0, "runner_up_spread"]


def test_whom_to_send_report_renders_with_the_example_network(tmp_path):
    """The study runs end to end on the example; pseudonymised, real ids stay in the key."""
    args = ["seeds=3", "greedy_seeds=1", "n_jobs=1", "pseudonymise=true", f"out_dir={tmp_path}"]
    out, table = whom_to_send.run(whom_to_send.parse(args), progress=False, figures=False)
    page = (out / "whom_to_send.md").read_text()
    policies = [*whom_to_send.NETWORK_POLICIES, *whom_to_send.MODEL_POLICIES]
    assert sorted(table["arm"]) == sorted(policies)
    assert table["spread_low"].le(table["spread_mean"]).all()
    for policy in policies:
        assert f"| {policy} |" in page
    for school in ("S1", "S2", "S3"):  # pseudonyms of Ashdown, Beechwood, CedarVale
        assert (out / f"map_{school}.png").stat().st_size > 0
        assert f"### {school}" in page
    assert (out / "comparison" / "report.md").exists()
    # the ranking is said in words, in the table's order
    ranked = ", ".join(f"`{r.arm}` {r.spread_mean:.3f}" for r in table.itertuples())
    assert f"Ranked by expected spread, highest first: {ranked}." in page
    assert ("The optimised rule `greedy`" in page) == (table["arm"].iloc[0] != "greedy")
    cand = pd.read_csv(out / "candidates.csv")
    assert set(cand["policy"]) == set(policies)
    # Each school sends as many as its row of the schools file allows.
    sizes = cand[cand.policy == "greedy"].groupby("school").size().to_dict()
    assert sizes == {"S1": 2, "S2": 3, "S3": 3}
    real = set(pd.read_csv(EXAMPLE / "staff.csv")["id"]) | {"Ashdown", "Beechwood", "CedarVale"}
    key = out / "network" / "pseudonyms.csv"
    assert set(pd.read_csv(key)["original"]) == real
    for path in out.rglob("*"):
        if path.is_file() and path != key and path.suffix in (".md", ".csv", ".json", ".yaml"):
            text = path.read_text(errors="replace")
            leaked = [r for r in real if r in text]
            assert not leaked, f"{path.relative_to(out)} names {leaked[:3]}"
    # Rerun after the code changed: refused before the greedy search touches the folder.
    record = next((out / "comparison").rglob("batch.json"))
    data = json.loads(record.read_text())
    data["code"]["source_sha256"] = "0" * 64
    record.write_text(json.dumps(data))
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()}
    with pytest.raises(ConfigError, match="made with a different code"):
        whom_to_send.run(whom_to_send.parse(args), progress=False, figures=False)
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()} == before


def _policy_runs(effects: dict[str, float], n_seeds: int = 40) -> pd.DataFrame:
    """Runs of each policy on the same seeds: a shared seed effect plus the policy's effect."""
    rng = np.random.default_rng(3)
    seed_effect = rng.normal(0.06, 0.02, n_seeds)
    rows = [
        {"arm": arm, "seed": seed, "spread_final": seed_effect[seed] + effect + noise}
        for arm, effect in effects.items()
        for seed, noise in enumerate(rng.normal(0, 0.004, n_seeds))
    ]
    return pd.DataFrame(rows)


def _policy_table(runs: pd.DataFrame) -> pd.DataFrame:
    means = runs.groupby("arm", sort=False)["spread_final"].mean()
    table = pd.DataFrame({"arm": means.index, "spread_mean": means.to_numpy()})
    return table.sort_values("spread_mean", ascending=False, kind="stable")


def _steps(gaps: list[tuple[float, float]]) -> pd.DataFrame:
    """Greedy steps with the given (expected spread, runner-up spread) and near-tie flags."""
    return pd.DataFrame(
        [
            {
                "id": f"P{k}",
                "expected_spread": best,
                "runner_up_id": f"Q{k}",
                "runner_up_spread": runner,
                "near_tie": best - runner < 0.01,
            }
            for k, (best, runner) in enumerate(gaps)
        ]
    )


def test_ranking_text_says_when_greedy_falls_behind_a_simple_rule_and_why():
    from scipy import stats

    runs = _policy_runs({"greedy": 0.0, "opinion_formers": 0.010, "random": -0.02})
    table = _policy_table(runs)
    steps = _steps([(0.067, 0.067), (0.10, 0.05), (0.03, 0.025)])
    text = "\n\n".join(whom_to_send.ranking_text(table, runs, steps, greedy_seeds=10))
    assert text.startswith(
        "Ranked by expected spread, highest first: `opinion_formers` 0.0"
    ) and text.index("`greedy` 0.0") < text.index("`random` 0.0")
    assert (
        "`opinion_formers` (opinion formers first, then the most consulted teachers) ranks first"
        in text
    )
    # the gap greedy leaves, with its paired 95% CI, as scipy computes it
    pairs = runs.pivot(index="seed", columns="arm", values="spread_final")
    diff = (pairs["opinion_formers"] - pairs["greedy"]).to_numpy()
    ci = stats.ttest_1samp(diff, 0.0).confidence_interval()
    assert (
        "The optimised rule `greedy` (the set the greedy simulation search chose) ranks 2nd of 3, "
        "below the simpler rule `opinion_formers`" in text
    )
    assert f"`opinion_formers` {diff.mean():+.3f} (95% CI {ci.low:+.3f} to {ci.high:+.3f})" in text
    assert "The gap is statistically clear for `opinion_formers`." in text
    assert "In 2 of its 3 steps the pick was not clearly ahead" in text
    assert "in 1 the two were exactly tied" in text and "over its own 10 seeds" in text
    assert "`random` did clearly worse than `opinion_formers`" in text


def test_ranking_text_when_greedy_leads_or_the_gap_is_noise():
    runs = _policy_runs({"greedy": 0.02, "in_degree": 0.0})
    table = _policy_table(runs)
    paragraphs = whom_to_send.ranking_text(table, runs, _steps([(0.1, 0.05)]), greedy_seeds=30)
    assert paragraphs[1].startswith(
        "`greedy` (the set the greedy simulation search chose) ranks first"
    )
    assert not any("optimised rule" in p for p in paragraphs)  # nothing falls behind
    # a gap far inside the noise: said to be possibly chance, not a clear shortfall
    gaps = np.array([0.010, -0.008, 0.006, -0.004, 0.001])  # in_degree minus greedy, per seed
    runs = pd.DataFrame(
        {
            "arm": ["greedy"] * 5 + ["in_degree"] * 5,
            "seed": [*range(5), *range(5)],
            "spread_final": [*(0.05 + 0.01 * np.arange(5)), *(0.05 + 0.01 * np.arange(5) + gaps)],
        }
    )
    steps = _steps([(0.1, 0.095), (0.2, 0.2)])
    text = whom_to_send.ranking_text(_policy_table(runs), runs, steps, greedy_seeds=1)[-1]
    assert "ranks 2nd of 2, below the simpler rule `in_degree` (the staff most often named" in text
    assert "`in_degree` +0.001 (95% CI -0." in text
    assert "Every one of these intervals includes zero: the gap may be chance." in text
    assert "In all 2 of its steps the pick was not clearly ahead" in text
    assert "over its own 1 seed," in text
    # picks clearly ahead of their runners-up: the shortfall is not put down to near-ties
    text = whom_to_send.ranking_text(
        _policy_table(runs), runs, _steps([(0.1, 0.05)]), greedy_seeds=30
    )[-1]
    assert "Every pick (1 step) was clearly ahead of the runner-up on its 30 seeds" in text
    assert "not clearly ahead" not in text


def test_whom_to_send_rejects_bad_settings_before_writing(tmp_path, capsys):
    assert whom_to_send.main(["seeds=1", f"out_dir={tmp_path}"]) == 2
    overrides = write_files(tmp_path, ties=TIES + "A3,A3,0.4\n")
    args = [*overrides, f"out_dir={tmp_path / 'out'}", "seeds=2"]
    assert whom_to_send.main(args) == 2
    assert "self-tie" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_copy_of_config_is_independent():
    cfg = sim.build_config("from_files", overrides=files_overrides(EXAMPLE))
    other = copy.deepcopy(cfg)
    other.selection.participants.append("ASH01")
    assert cfg.selection.participants == []
