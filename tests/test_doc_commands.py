"""The commands README.md and docs/ODD.md show (``python -m experiments...``) work.

Every such command is read from the two files and parsed by the command's own parser and
validation (a typo in a key or an option fails here). One command of each kind is then run for
real in a fresh process, with tiny settings (one year, two seeds) in a temporary results folder:
``experiments.run``, ``experiments.compare``, ``experiments.aggregate`` on its output, and
``experiments.patterns``. Commands that need a Dask scheduler are parsed only.
"""

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from experiments.run import parse_args as parse_run
from experiments.settings import build_settings
from experiments.sweep import _parse as parse_sweep
from sim import build_config

ROOT = Path(__file__).resolve().parent.parent
FENCED = re.compile(r"^```\w*\n(.*?)^```", re.M | re.S)
IN_BLOCK = re.compile(r"python -m (experiments\.\w+)([^#\n]*)")
INLINE = re.compile(r"`[^`]*?python -m (experiments\.\w+)([^`]*)`")


def documented_commands() -> list[tuple[str, list[str]]]:
    """(module, arguments) of every ``python -m experiments.*`` command in README and ODD:
    in code blocks (continued lines joined, comments dropped) and in inline code."""
    found = []
    for doc in ("README.md", "docs/ODD.md"):
        text = (ROOT / doc).read_text(encoding="utf-8")
        for block in FENCED.findall(text):
            found += IN_BLOCK.findall(block.replace("\\\n", " "))
        found += INLINE.findall(FENCED.sub("", text))
    return [(module, shlex.split(" ".join(rest.split()))) for module, rest in found]


COMMANDS = documented_commands()


def test_the_docs_show_commands_of_every_kind():
    modules = {m for m, _ in COMMANDS}
    assert {"experiments.run", "experiments.compare", "experiments.sweep"} <= modules
    assert {"experiments.patterns", "experiments.aggregate"} <= modules


def _overrides_compose(overrides: list[str]) -> None:
    """Compose a model configuration (the first value of any swept key)."""
    first = [o.split(",")[0] if "," in o and not set("[{") & set(o) else o for o in overrides]
    build_config(scenario=None, overrides=[o for o in first if not o.startswith("hydra.")])


@pytest.mark.parametrize(("module", "args"), COMMANDS, ids=[" ".join(a) or m for m, a in COMMANDS])
def test_every_documented_command_parses(module, args):
    if module == "experiments.run":
        _overrides_compose(parse_run(args).overrides)
    elif module == "experiments.compare" and any(a.startswith("uncertainty=") for a in args):
        from experiments.uncertainty import split_overrides

        _, rest = split_overrides([a for a in args if not a.startswith("--")])
        build_settings(rest)
    elif module == "experiments.compare":
        build_settings([a for a in args if not a.startswith("--")])
    elif module in ("experiments.sensitivity", "experiments.discover", "experiments.calibrate"):
        import importlib

        given = [a for a in args if not a.startswith("--")]
        if module == "experiments.calibrate" and not any(
            a.startswith("parameters=") for a in given
        ):
            # Without parameters= it fits those a sensitivity analysis found: name one here.
            given.append("parameters=[practice.quality_rate]")
        importlib.import_module(module).build_settings(given)
    elif module == "experiments.sweep":
        _, rest = parse_sweep(args)
        _overrides_compose([a for a in rest if a != "-m"])
    elif module == "experiments.patterns":
        seeds = ["--seeds", "40"] if args[:2] == ["--seeds", "40"] else []
        overrides = args[len(seeds) :]
        assert all("=" in a and not a.startswith("-") for a in overrides), args
        _overrides_compose(overrides)
    elif module == "experiments.aggregate":
        assert len([a for a in args if a != "--check"]) == 1, args  # a folder (placeholder)
    elif module == "experiments.national":
        _overrides_compose(["scenario=england", *[a for a in args if not a.startswith("--")]])
    elif module == "experiments.bench":
        assert args == [], args
    elif module == "experiments.whom_to_send":
        from experiments.whom_to_send import parse

        parse(args)
    else:
        pytest.fail(f"no check for {module}")


def run(args: list[str], cwd: Path, ok=(0,)) -> subprocess.CompletedProcess:
    env = {**os.environ, "MPLBACKEND": "Agg", "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-m", *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=600
    )
    assert proc.returncode in ok and "Traceback" not in proc.stderr, (args, proc.stderr[-3000:])
    return proc


def first(module: str) -> list[str]:
    return next(args for m, args in COMMANDS if m == module)


def test_one_command_of_each_kind_runs_with_tiny_settings(tmp_path):
    run(["experiments.run", *first("experiments.run"), "years=1", "--out", "one"], tmp_path)
    assert (tmp_path / "one" / "summary.json").is_file()
    compare = [a for a in first("experiments.compare") if "=" in a]
    run(
        ["experiments.compare", "--quiet", *compare, "seeds=2", "years=1", f"out_dir={tmp_path}"]
        + ["allow_outside_results=true", "name=c"],
        tmp_path,
    )
    assert (tmp_path / "c" / "paired.csv").is_file()
    (tmp_path / "c" / "report.md").unlink()
    run(["experiments.aggregate", str(tmp_path / "c")], tmp_path)
    assert (tmp_path / "c" / "report.md").is_file()
    # Exit status 1: with two seeds some patterns do not hold; every pattern is still reported.
    out = run(["experiments.patterns", "--seeds", "2"], tmp_path, ok=(0, 1)).stdout
    assert len(re.findall(r"^\s*\[[x ]\] ", out, flags=re.M)) >= 7, out
