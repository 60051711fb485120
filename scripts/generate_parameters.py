"""Generate docs/PARAMETERS.md, the parameter reference, from the configuration schema.

Every parameter is declared once, with ``param(...)``, in the module whose mechanism it drives;
the registry (:mod:`sim.registry`) assembles them into :class:`sim.config.Config`. This script
renders :func:`sim.config.iter_params` as one table per configuration section, with a short
header on how to set values and the Hydra config groups (the presets in ``configs/<group>/`` and
the registered strategies, modes and selection policies)::

    python scripts/generate_parameters.py            # (re)write docs/PARAMETERS.md
    python scripts/generate_parameters.py --check    # exit 1 if docs/PARAMETERS.md is stale

It also writes the table of documented maxima in docs/ODD.md, §8.2, between its ``BEGIN LIMITS``
and ``END LIMITS`` lines, from :data:`sim.limits.LIMITS` (``--check`` checks it too).

The output depends only on the registered modules, the files in ``configs/`` and
``sim/limits.py``, so it is the same on every machine. ``tests/test_docs.py`` checks that both are
up to date.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402

from sim import registry  # noqa: E402
from sim.compose import CONFIG_DIR, GROUPS, available_options  # noqa: E402
from sim.config import Config, iter_params  # noqa: E402
from sim.limits import limits_table  # noqa: E402

__all__ = ["OUTPUT", "ODD", "render", "render_odd", "main"]

#: The generated file.
OUTPUT = ROOT / "docs" / "PARAMETERS.md"
#: The model description, whose table of documented maxima (§8.2) is generated.
ODD = ROOT / "docs" / "ODD.md"
LIMITS_BLOCK = re.compile(r"(<!-- BEGIN LIMITS[^\n]*-->\n)(.*?)(<!-- END LIMITS -->)", re.S)


def render_odd(text: str) -> str:
    """ODD.md's text with its table of documented maxima regenerated from sim/limits.py."""
    if not LIMITS_BLOCK.search(text):
        raise SystemExit("docs/ODD.md has no BEGIN LIMITS ... END LIMITS block")
    return LIMITS_BLOCK.sub(lambda m: m.group(1) + limits_table() + m.group(3), text)


#: Where docs/ODD.md describes the mechanisms each section parameterises.
ODD_SECTIONS: dict[str, str] = {
    "": "§5 (horizon), §9 (seed)",
    "schools": "§2.1, §2.3, §5",
    "network": "§2.2",
    "pln": "§2.4, §7.3",
    "selection": "§7.11",
    "strategy": "§7.5",
    "mode": "§7.5",
    "leadership": "§2.3, §7.1, §7.4, §7.5, §7.9",
    "decision": "§7.7",
    "conversation": "§7.6",
    "practice": "§7.8",
    "trust": "§7.9",
    "turnover": "§7.2",
    "outcomes": "§7.10",
}

#: Section titles (the dataclass docstring's first line is used for sections not listed here).
TITLES: dict[str, str] = {"": "Run (top level)"}


def _fmt(value: Any) -> str:
    """A value as it would be written on the command line."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_fmt(v) for v in value) + "]"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return " ".join(str(text).split()).replace("|", "\\|")


def _kind(default: Any) -> str:
    """The kind of value a parameter takes, from its default."""
    scalar = default[0] if isinstance(default, list) and default else default
    if isinstance(scalar, bool):
        return "true / false"
    if isinstance(scalar, int):
        return "whole number"
    if isinstance(scalar, float):
        return "number"
    return "text"


def _allowed(key: str, default: Any, meta: Any) -> str:
    """Allowed values: the choices, or the kind of value and its range."""
    choices = meta.get("choices")
    if key == "scenario":
        choices = tuple(available_options("scenario"))
    if choices is not None:
        return ", ".join(f"`{_fmt(c)}`" for c in choices)
    text = _kind(default)
    low, high = meta.get("low"), meta.get("high")
    bounds = []
    if low is not None:
        bounds.append(f"> {low:g}" if meta.get("low_open") else f"≥ {low:g}")
    if high is not None:
        bounds.append(f"≤ {high:g}")
    if bounds:
        text += " " + " and ".join(bounds)
    if meta.get("plausible") is not None:
        lo, hi = meta["plausible"]
        text += f"; plausible {lo:g} to {hi:g}"
    if isinstance(default, list) and not meta.get("per_school"):
        text = "list, each a " + text
    return text


def _sections() -> list[tuple[str, list[tuple[str, Any, Any]]]]:
    """Parameters grouped by section, in schema order (top-level keys first)."""
    sections: dict[str, list[tuple[str, Any, Any]]] = {"": []}
    for key, default, meta in iter_params():
        section = key.rpartition(".")[0]
        sections.setdefault(section, []).append((key, default, meta))
    return list(sections.items())


def _title(section: str) -> str:
    if section in TITLES:
        return TITLES[section]
    doc = type(getattr(Config(), section)).__doc__ or section
    first = doc.strip().splitlines()[0].rstrip(".")
    # Drop cross-references such as "(ODD §4.2)": the column below points at docs/ODD.md.
    return re.sub(r"\s*\((?:ODD|MODEL\.md) [^)]*\)", "", first)


def _preset(group: str, option: str) -> dict[str, Any]:
    """The keys a preset sets (a registered module without a preset file sets its selector)."""
    path = CONFIG_DIR / group / f"{option}.yaml"
    if path.exists():
        return yaml.safe_load(path.read_text()) or {}
    return {registry.kind_base(group).selector: option}


def _group_lines() -> list[str]:
    """The Hydra config groups and their options, read from ``configs/<group>/*.yaml``."""
    lines = [
        "| group | options | sets |",
        "|---|---|---|",
    ]
    for group in GROUPS:
        options = available_options(group)
        if group == "scenario":
            sets = (
                "many keys at once (`@package _global_`): sizes, PLN calendar, selection, "
                "strategy, levers; see docs/ODD.md §5"
            )
        else:
            keys: list[str] = []
            for option in options:
                data = _preset(group, option)
                keys.extend(k for k in data if k not in keys)
            sets = ", ".join(f"`{group}.{k}`" for k in keys)
        opts = ", ".join(f"`{o}`" for o in options)
        lines.append(f"| `{group}` | {opts} | {sets} |")
    return lines


def _preset_lines(group: str) -> list[str]:
    """A table of the values each option of a multi-key group sets."""
    options = available_options(group)
    data = {o: _preset(group, o) for o in options}
    keys: list[str] = []
    for values in data.values():
        keys.extend(k for k in values if k not in keys)
    lines = [
        "| key | " + " | ".join(f"`{o}`" for o in options) + " |",
        "|---|" + "---|" * len(options),
    ]
    for k in keys:
        cells = " | ".join(_fmt(data[o][k]) if k in data[o] else "" for o in options)
        lines.append(f"| `{group}.{k}` | {cells} |")
    return lines


HEADER = """\
# Parameters

<!-- Generated by scripts/generate_parameters.py from the modules' parameters: do not edit by hand. -->

This file is **generated** from the configuration schema (`sim.config.iter_params()`): every
parameter is declared with `param(...)` in the module whose mechanism it drives (a process in
`sim/processes/`, a strategy, mode or selection policy, or the set-up of schools and networks), and
`sim.registry` assembles the modules' sections; the config groups come from the registered modules
and the files in `configs/`. Do not edit it by hand; regenerate it with

    python scripts/generate_parameters.py

(`python scripts/generate_parameters.py --check` exits 1 if it is out of date; `tests/test_docs.py`
checks the same). The mechanisms the parameters drive are described in `docs/ODD.md`.

## How to set values

* **Command line** (Hydra override grammar): `python -m experiments.run key=value ...`, e.g.
  `python -m experiments.run scenario=rlc_trial seed=3 pln.support_years=2`.
  From Python: `sim.simulate("rlc_trial", seed=3, overrides=("pln.support_years=2",))`.
  Unknown keys, wrong types, values out of range and invalid combinations are rejected with a
  one-line error naming the key and what is allowed.
* **Per-school parameters** (column "per school" = yes) take one value for every school or a list
  with one value per school, e.g. `leadership.collab_hours_per_week=[0,1,1,2,1,1,0,1]`; a
  one-element list is applied to every school. The number of schools is the length of
  `schools.teachers`.
* **Config groups** choose a preset file from `configs/<group>/` with `group=option`, e.g.
  `strategy=start_small mode=champions selection=opinion_formers leadership=full`. They are
  applied in this order, each overriding the previous: the schema defaults below (the New Forest
  values), the scenario, then `strategy`, `mode`, `selection`, `leadership`; plain `key=value`
  overrides are applied last.

"""

SOURCES = """\
Source tags: `[seed NNN]` a text of the project's seed collection (see docs/ODD.md), `[lit: …]`
the literature, `[assume]` an assumption exposed for sensitivity analysis, "calibrated" a value
fitted to a stated target. "Plausible lo to hi" in the allowed column is the documented plausible
range of an assumption, declared beside it (`param(..., plausible=(lo, hi))`): the range
`python -m experiments.sensitivity` screens and the prior of `python -m experiments.calibrate`
(see docs/ODD.md §8.1).
"""


def render() -> str:
    """The full text of docs/PARAMETERS.md."""
    parts = [HEADER, "## Config groups\n\n", "\n".join(_group_lines()), "\n\n"]
    parts += [
        "Values set by the `leadership` presets (per-school levers, applied to every school):\n\n",
        "\n".join(_preset_lines("leadership")),
        "\n\n",
        "Besides each value's range, `Config.validate()` checks the rules the modules declare\n"
        "(their `check`; a strategy's, mode's or selection policy's only when it is chosen):\n\n",
        "".join(f"* {who}: {rule}\n" for who, rule in registry.rules()),
        "\n",
        SOURCES,
    ]
    for section, params in _sections():
        heading = f"`{section}`: {_title(section)}" if section else _title(section)
        n = len(params)
        parts.append(f"\n## {heading}\n\n")
        parts.append(
            f"{n} parameter{'s' if n != 1 else ''}; mechanisms: docs/ODD.md "
            f"{ODD_SECTIONS.get(section, '§7')}.\n\n"
        )
        parts.append("| key | default | allowed | unit | per school | source | meaning |\n")
        parts.append("|---|---|---|---|---|---|---|\n")
        for key, default, meta in params:
            row = [
                f"`{key}`",
                f"`{_fmt(default)}`",
                _allowed(key, default, meta),
                meta.get("unit") or "",
                "yes" if meta.get("per_school") else "no",
                meta.get("source") or "",
                meta.get("help") or "",
            ]
            parts.append("| " + " | ".join(_cell(c) for c in row) + " |\n")
    return "".join(parts)


def main(argv: list[str] | None = None) -> int:
    """Write docs/PARAMETERS.md, or with ``--check`` report whether it is up to date."""
    parser = argparse.ArgumentParser(
        prog="python scripts/generate_parameters.py",
        description="Generate docs/PARAMETERS.md from the configuration schema.",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="do not write; exit 1 if docs/PARAMETERS.md differs from what would be generated",
    )
    args = parser.parse_args(argv)
    text = render()
    rel = OUTPUT.relative_to(ROOT)
    odd = ODD.read_text(encoding="utf-8")
    odd_text = render_odd(odd)
    if args.check:
        current = OUTPUT.read_text(encoding="utf-8") if OUTPUT.exists() else None
        if current != text:
            state = "missing" if current is None else "out of date"
            print(
                f"{rel} is {state}; regenerate it with: python scripts/generate_parameters.py",
                file=sys.stderr,
            )
            return 1
        if odd != odd_text:
            print(
                "docs/ODD.md's table of maxima (§8.2) is out of date; regenerate it with: "
                "python scripts/generate_parameters.py",
                file=sys.stderr,
            )
            return 1
        print(f"{rel} and the maxima of docs/ODD.md are up to date")
        return 0
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(text, encoding="utf-8")
    if odd != odd_text:
        ODD.write_text(odd_text, encoding="utf-8")
    print(f"wrote {rel} ({sum(len(p) for _, p in _sections())} parameters) and ODD.md §8.2")
    return 0


if __name__ == "__main__":
    sys.exit(main())
