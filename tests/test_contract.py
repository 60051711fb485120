"""The module contract (sim.module): what each module declares is what it does.

* every registered process, strategy, mode and selection policy has a name, a section, and
  parameters declared with ``param()`` (source and meaning);
* each process writes only the state it declares it owns (``owns``): over whole runs with each
  strategy and mode, the state before and after every process step is compared.
"""

import dataclasses

import numpy as np
import pytest

from sim import registry
from sim.compose import build_config
from sim.config import SECTIONS
from sim.loop import WEEKLY_ORDER
from sim.model import KnowledgeMobilisationModel

KINDS = ("process", "strategy", "mode", "selection")


def test_every_module_declares_its_name_section_and_parameters():
    for kind in KINDS:
        registered = registry.modules(kind)
        assert registered, kind
        for name, cls in registered.items():
            assert cls.name == name and cls.kind == kind
            if cls.Params is not None:
                assert cls.section in SECTIONS, (kind, name)
                for f in dataclasses.fields(cls.Params):
                    assert f.metadata.get("source") and f.metadata.get("help"), (name, f.name)
                    assert f.name in {g.name for g in dataclasses.fields(SECTIONS[cls.section])}
    assert set(registry.modules("process").values()) == set(WEEKLY_ORDER)


def test_selector_choices_are_the_registered_modules():
    for kind in ("strategy", "mode", "selection"):
        base = registry.kind_base(kind)
        field = {f.name: f for f in dataclasses.fields(SECTIONS[base.section])}[base.selector]
        assert field.metadata["choices"] == tuple(sorted(registry.modules(kind)))


def snapshot(m: KnowledgeMobilisationModel) -> dict[str, object]:
    state: dict[str, object] = {}
    for prefix, obj in (("staff", m.staff), ("ties", m.ties), ("now", m.now)):
        for f in dataclasses.fields(obj):
            state[f"{prefix}.{f.name}"] = np.array(getattr(obj, f.name), copy=True)
    for name in ("exposed", "in_sight", "out_of_sight", "pln_started", "control_taken"):
        state[f"model.{name}"] = getattr(m, name).copy()
    state["record"] = m.record.weeks_recorded
    return state


def changed(before: dict, after: dict) -> set[str]:
    return {
        k
        for k in before
        if not (
            np.array_equal(before[k], after[k])
            and np.asarray(before[k]).dtype == np.asarray(after[k]).dtype
        )
    }


@pytest.mark.parametrize(
    "overrides",
    [
        ("strategy=whole_staff", "mode=both", "turnover.rate=0.3"),
        ("strategy=start_small", "mode=champions", "leadership=minimal"),
        ("strategy=broadcast", "selection=random"),
        ("strategy=none", "mode=learning_conversations"),
    ],
)
def test_each_process_writes_only_the_state_it_owns(overrides):
    """Two school years (turnover, support ending, failures) of each configuration."""
    m = KnowledgeMobilisationModel(build_config(seed=2, overrides=("years=2", *overrides)))
    seen: dict[str, set[str]] = {p.name: set() for p in m.processes}
    for week in range(m.horizon_weeks):
        for process in m.processes:
            before = snapshot(m)
            process.step(week)
            written = changed(before, snapshot(m))
            seen[process.name] |= written
            extra = written - set(process.owns)
            assert not extra, f"{process.name} wrote {sorted(extra)} (owns {process.owns})"
        m.week = week + 1
    assert seen["conversation"] and seen["decision"] and seen["calendar"]  # the check ran
