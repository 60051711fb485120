"""The documentation follows the code: docs/PARAMETERS.md and docs/ODD.md.

* docs/PARAMETERS.md is exactly what ``scripts/generate_parameters.py`` generates from the schema,
  and lists every parameter key;
* docs/ODD.md lists the weekly order of ``sim.loop.WEEKLY_ORDER`` (§3, names in order), every named
  random stream used in ``sim/`` and every key of the run summary.
"""

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

import sim
from sim.config import iter_params
from sim.loop import WEEKLY_ORDER

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
GENERATOR = ROOT / "scripts" / "generate_parameters.py"


def load_generator():
    spec = importlib.util.spec_from_file_location("generate_parameters", GENERATOR)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def generator():
    return load_generator()


@pytest.fixture(scope="module")
def parameters_md() -> str:
    return (DOCS / "PARAMETERS.md").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def odd() -> str:
    return (DOCS / "ODD.md").read_text(encoding="utf-8")


def odd_section(odd: str, number: int) -> str:
    """The text of a top-level section ``## <number>.`` of ODD.md."""
    match = re.search(rf"^## {number}\. .*?(?=^## |\Z)", odd, flags=re.M | re.S)
    assert match, f"docs/ODD.md has no section '## {number}.'"
    return match.group(0)


# -- PARAMETERS.md -----------------------------------------------------------------------------


def test_parameters_md_is_up_to_date(generator, parameters_md):
    assert parameters_md == generator.render(), (
        "docs/PARAMETERS.md is out of date; regenerate it with: "
        "python scripts/generate_parameters.py"
    )


def test_every_parameter_key_is_in_parameters_md(parameters_md):
    missing = [key for key, _, _ in iter_params() if f"| `{key}` |" not in parameters_md]
    assert not missing, f"keys missing from docs/PARAMETERS.md: {missing}"


def test_parameters_md_lists_every_config_group_option(generator, parameters_md):
    from sim.compose import GROUPS, available_options

    for group in GROUPS:
        for option in available_options(group):
            assert f"`{option}`" in parameters_md, (group, option)


def test_check_flag_reports_stale_file(generator, tmp_path, monkeypatch, capsys):
    stale = tmp_path / "PARAMETERS.md"
    stale.write_text("stale\n", encoding="utf-8")
    monkeypatch.setattr(generator, "OUTPUT", stale)
    monkeypatch.setattr(generator, "ROOT", tmp_path)
    assert generator.main(["--check"]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "out of date" in err
    assert generator.main([]) == 0  # regenerate ...
    assert generator.main(["--check"]) == 0  # ... and it is up to date


def test_check_flag_passes_on_the_committed_file():
    proc = subprocess.run(
        [sys.executable, str(GENERATOR), "--check"], capture_output=True, text=True, cwd=ROOT
    )
    assert proc.returncode == 0, proc.stderr


def test_odd_lists_every_documented_maximum_as_the_code_has_it(generator, odd):
    from sim import limits

    block = generator.LIMITS_BLOCK.search(odd)
    assert block, "docs/ODD.md has no table of documented maxima (BEGIN LIMITS ... END LIMITS)"
    assert block.group(2) == limits.limits_table(), (
        "docs/ODD.md §8.2 differs from sim/limits.py; regenerate it with: "
        "python scripts/generate_parameters.py"
    )
    for name in dir(limits):
        if name.startswith("MAX_"):
            value = getattr(limits, name)
            assert f"{value:,}" in block.group(2), f"{name} = {value} is not in docs/ODD.md §8.2"
    assert "8.2 Documented maxima" in odd_section(odd, 8)


def test_check_flag_reports_a_stale_table_of_maxima(generator, tmp_path, monkeypatch, capsys):
    odd = tmp_path / "ODD.md"
    text = (DOCS / "ODD.md").read_text(encoding="utf-8")
    odd.write_text(text.replace("| 1,000,000 |", "| 2,000,000 |", 1), encoding="utf-8")
    monkeypatch.setattr(generator, "ODD", odd)
    monkeypatch.setattr(generator, "OUTPUT", tmp_path / "PARAMETERS.md")
    monkeypatch.setattr(generator, "ROOT", tmp_path)
    assert generator.main([]) == 0
    odd.write_text(text.replace("| 1,000,000 |", "| 2,000,000 |", 1), encoding="utf-8")
    assert generator.main(["--check"]) == 1
    assert "ODD.md" in capsys.readouterr().err
    assert generator.main([]) == 0  # regenerate ...
    assert odd.read_text(encoding="utf-8") == text  # ... and the table is the code's again
    assert generator.main(["--check"]) == 0


def test_odd_sections_referenced_by_parameters_md_exist(generator, odd):
    headings = set(re.findall(r"^#{2,3} (\d+(?:\.\d+)?)\.? ", odd, flags=re.M))
    for section, refs in generator.ODD_SECTIONS.items():
        for ref in re.findall(r"§(\d+(?:\.\d+)?)", refs):
            assert ref in headings, f"PARAMETERS.md points '{section}' at missing ODD §{ref}"


# -- ODD.md ------------------------------------------------------------------------------------


def test_odd_weekly_order_matches_the_loop(odd):
    listing = re.findall(r"^(\d+)\. `(\w+)`", odd_section(odd, 3), flags=re.M)
    assert [int(n) for n, _ in listing] == list(range(1, len(listing) + 1))
    assert [name for _, name in listing] == [cls.__name__ for cls in WEEKLY_ORDER]


STREAM_CALL = re.compile(
    r"""streams\.(?:uniform|uniform_at|key|keys|setup|setup_table|setup_keys)\(\s*(f?)(["'])(.+?)\2"""
)


def stream_names_in_code() -> set[str]:
    """Literal stream names passed to ``streams.uniform``/``setup`` (and kin) in ``sim/``.

    In f-strings, ``{x}`` placeholders are written ``<x>``, as in ODD.md (``network:<s>``).
    """
    names = set()
    for path in sorted((ROOT / "sim").rglob("*.py")):
        for is_f, _, name in STREAM_CALL.findall(path.read_text(encoding="utf-8")):
            names.add(re.sub(r"\{(\w+)\}", r"<\1>", name) if is_f else name)
    return names


def test_every_stream_name_is_listed_in_odd(odd):
    names = stream_names_in_code()
    assert {"conversation.contact", "decision.act", "roles", "network"} <= names  # sanity
    missing = sorted(n for n in names if f"`{n}`" not in odd)
    assert not missing, f"stream names missing from docs/ODD.md: {missing}"


def test_every_summary_key_is_listed_in_odd(odd):
    summary = sim.simulate(seed=0).summary
    keys = {re.sub(r"_year_\d+$", "_year_<y>", key) for key in summary}
    missing = sorted(k for k in keys if f"`{k}`" not in odd_section(odd, 10))
    assert not missing, f"summary keys missing from docs/ODD.md §10: {missing}"
