"""Run results: the summary, tidy tables, and :func:`simulate`, the Python entry point."""

from __future__ import annotations

import dataclasses
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sim.config import Config, cached_copy
from sim.model import KnowledgeMobilisationModel
from sim.outcome_registry import check_summary
from sim.population import STAGE_NAMES, Stage
from sim.processes.calendar import WEEKS_PER_TERM, WEEKS_PER_YEAR

__all__ = [
    "RunResult",
    "no_pln_config",
    "schools_lapsed_share",
    "simulate",
    "summarise",
    "timeseries_frame",
    "schools_frame",
]


@dataclass
class RunResult:
    """What one run produced.

    Attributes:
        summary: Scalar outcomes, exactly those declared in :mod:`sim.outcome_registry` (label,
            unit and description of each there); ``None`` where undefined (e.g. weeks to half
            uptake when uptake never reached half).
        timeseries: One row per week, network-wide: a column per stage count, uptake, use, spread,
            mean knowledge and quality, pupils reached, teacher-hours.
        schools: The same per school and week (tidy: one row per school and week).
        config: The resolved configuration.
        model: The Mesa model, at the horizon.

    """

    summary: dict[str, Any]
    timeseries: pd.DataFrame
    schools: pd.DataFrame
    config: Config
    model: KnowledgeMobilisationModel

    @property
    def config_dict(self) -> dict[str, Any]:
        """The resolved configuration as plain data."""
        return dataclasses.asdict(self.config)


def simulate(
    scenario: str = "new_forest",
    seed: int = 0,
    overrides: Sequence[str] = (),
    *,
    config: Config | None = None,
    validated: bool = False,
) -> RunResult:
    """Run one simulation to its horizon.

    Args:
        scenario: Scenario preset, a file in ``configs/scenario/`` (same vocabulary as the CLI).
        seed: Run seed.
        overrides: Hydra-style ``"key=value"`` overrides, as on the command line.
        config: A ready configuration; if given, ``scenario``, ``seed`` and ``overrides`` are
            ignored.
        validated: ``config`` is already validated (a batch of seeds of one validated
            configuration): skip copying and validating it again.

    The no-PLN run the pupil effect is measured against is computed once per process for each
    distinct no-PLN configuration (:func:`counterfactual_gain`): every arm of a comparison that
    differs only in how the PLN works shares it.

    Returns:
        The run's :class:`RunResult`.

    Raises:
        sim.config.ConfigError: Invalid scenario, key or value (one-line message).

    """
    from sim.compose import build_config, prepare_config

    if config is None:
        config = build_config(scenario=scenario, seed=seed, overrides=overrides)
    elif not validated:
        config = prepare_config(config)
    model = KnowledgeMobilisationModel(config, validated=True).run()
    effect = _pupil_effect_by_school(model, counterfactual_gain(model.config))
    summary = summarise(model)
    pupils = model.staff.pupils
    by_school_pupils = np.add.reduceat(pupils, model.schools.first_slot)
    total = by_school_pupils.sum()
    summary["pupil_effect"] = float((effect[-1] * by_school_pupils).sum() / total) if total else 0.0
    check_summary(summary, complete_years=summary["weeks"] // WEEKS_PER_YEAR)
    schools = schools_frame(model)
    schools["pupil_effect"] = effect.T.ravel()
    return RunResult(
        summary=summary,
        timeseries=timeseries_frame(model),
        schools=schools,
        config=model.config,
        model=model,
    )


def no_pln_config(config: Config) -> Config:
    """The same run without the PLN: no participants, no workshops, no mobilisation.

    Same seed, so every random stream the PLN does not touch is shared (common random numbers);
    the difference in pupil outcomes between a run and this one is the PLN's effect
    (MODEL.md §4.6).
    """

    def without_pln(cf: Config) -> Config:
        cf.pln.support_years = 0
        cf.selection.per_school = [0] * cf.n_schools
        cf.selection.leaders_per_school = [0] * cf.n_schools
        cf.strategy.name = "none"
        cf.mode.name = "none"
        return cf.validate()

    return cached_copy("no_pln", config, without_pln)  # once per configuration


#: No-PLN runs' pupil gains per (week, school), by no-PLN configuration (most recent last).
_COUNTERFACTUALS: OrderedDict[str, np.ndarray] = OrderedDict()
#: How many no-PLN runs a process keeps (about 8 kB each for New Forest).
COUNTERFACTUAL_CACHE = 4096


def counterfactual_gain(config: Config) -> np.ndarray:
    """Pupil gain per (week, school) of the same run without the PLN (:func:`no_pln_config`).

    The no-PLN configuration of two arms that differ only in strategy, mode, selection or PLN
    settings is the same, and the same configuration always gives the same run, so it is run
    once per process and shared (read-only).
    """
    cf = no_pln_config(config)
    key = repr(cf)
    gain = _COUNTERFACTUALS.get(key)
    if gain is None:
        run = KnowledgeMobilisationModel(cf, validated=True).run()
        gain = run.record.totals().pupil_gain.copy()
        gain.flags.writeable = False
        _COUNTERFACTUALS[key] = gain
        while len(_COUNTERFACTUALS) > COUNTERFACTUAL_CACHE:
            _COUNTERFACTUALS.popitem(last=False)
    else:
        _COUNTERFACTUALS.move_to_end(key)
    return gain


def _pupil_effect_by_school(model: KnowledgeMobilisationModel, baseline: np.ndarray) -> np.ndarray:
    """Pupil-weighted effect per (week, school): gain with the PLN minus gain without it, SD."""
    pupils = np.add.reduceat(model.staff.pupils, model.schools.first_slot)
    gain = model.record.totals().pupil_gain - baseline
    return np.divide(gain, pupils, out=np.zeros_like(gain), where=pupils > 0)


def _first_week_at_least(series: np.ndarray, level: float) -> int | None:
    hit = np.flatnonzero(series >= level - 1e-12)
    return int(hit[0]) + 1 if len(hit) else None


def summarise(model: KnowledgeMobilisationModel) -> dict[str, Any]:
    """Scalar outcomes of a run at its horizon (MODEL.md §7), all but ``pupil_effect``.

    Every key is declared in :mod:`sim.outcome_registry` (:func:`simulate` checks it).
    ``uptake`` is the share of staff who adopted or embedded the practice; ``use`` adds those
    trialling; ``spread`` is uptake among non-participants. Weeks count from 1.
    """
    staff = model.staff
    t = model.record.weeks_recorded
    if t == 0:
        raise ValueError("the model has not been stepped")
    rec = model.record.totals()
    counts = rec.stages[:t].sum(axis=1)  # weeks x stages
    n_staff = staff.n
    n_part = model.participants_selected
    uptake = (counts[:, Stage.ADOPTED] + counts[:, Stage.EMBEDDED]) / n_staff
    use = uptake + counts[:, Stage.TRIALLING] / n_staff
    spread = rec.spread_users[:t].sum(axis=1) / np.maximum(
        n_staff - rec.participants[:t].sum(axis=1), 1
    )
    hours = float(rec.hours[:t].sum())
    adopters = int(round(uptake[-1] * n_staff))
    pupils = float(staff.pupils.sum())
    summary: dict[str, Any] = {
        "weeks": t,
        "staff": n_staff,
        "participants": n_part,
        "schools": model.schools.n,
        "pupils": pupils,
        "uptake_final": float(uptake[-1]),
        "use_final": float(use[-1]),
        "spread_final": float(spread[-1]),
        "participants_knowledge": float(
            rec.participant_knowledge[t - 1].sum() / max(rec.participants[t - 1].sum(), 1)
        ),
        "mean_knowledge": float(rec.knowledge[t - 1].sum() / n_staff),
        "mean_quality": float(rec.quality[t - 1].sum() / n_staff),
        "weeks_to_quarter_uptake": _first_week_at_least(uptake, 0.25),
        "weeks_to_half_uptake": _first_week_at_least(uptake, 0.5),
        "mean_spread": float(spread.mean()),
        "peak_uptake": float(uptake.max()),
        "resistant_final": int(rec.resistant[t - 1].sum()),
        "resistant_peak": int(rec.resistant[:t].sum(axis=1).max()),
        "embedded_final": int(counts[-1, Stage.EMBEDDED]),
        "lapsed_final": int(counts[-1, Stage.LAPSED]),
        "pupils_reached": float(rec.pupils_reached[t - 1].sum()),
        "pupil_gain": float(rec.pupil_gain[t - 1].sum() / pupils) if pupils else 0.0,
        "teacher_hours": hours,
        "hours_per_adopter": hours / adopters if adopters else None,
    }
    for year in range(1, t // WEEKS_PER_YEAR + 1):
        summary[f"uptake_year_{year}"] = float(uptake[year * WEEKS_PER_YEAR - 1])
        summary[f"spread_year_{year}"] = float(spread[year * WEEKS_PER_YEAR - 1])
    school_uptake = _school_uptake(model)[:t]
    summary["school_uptake_sd"] = float(school_uptake[-1].std())
    summary["schools_lapsed_share"] = schools_lapsed_share(school_uptake)
    summary["schools_implementing_share"] = float(
        (school_uptake[-1] >= IMPLEMENTING_LEVEL - 1e-12).mean()
    )
    return summary


#: Uptake (share of a school's staff adopted or embedded) at which a school counts as still
#: implementing at moderate-to-high intensity (MODEL.md §9b; Datnow 2005: 5 of 13 schools):
#: a quarter of the staff [assume]; the calibration's target is stated on this measure.
IMPLEMENTING_LEVEL = 1 / 4


def schools_lapsed_share(school_uptake: np.ndarray) -> float | None:
    """Share of schools whose uptake at the horizon is below half their peak.

    Among schools whose uptake ever rose above zero (``None`` if none did; Datnow 2005).
    """
    peak = school_uptake.max(axis=0)
    grew = peak > 0
    if not grew.any():
        return None
    return float((school_uptake[-1][grew] < 0.5 * peak[grew]).mean())


def _school_uptake(model: KnowledgeMobilisationModel) -> np.ndarray:
    st = model.record.totals().stages
    return (st[..., Stage.ADOPTED] + st[..., Stage.EMBEDDED]) / model.schools.size


def _calendar_columns(t: int) -> dict[str, np.ndarray]:
    week = np.arange(t)
    return {
        "week": week + 1,
        "year": week // WEEKS_PER_YEAR + 1,
        "term": (week % WEEKS_PER_YEAR) // WEEKS_PER_TERM + 1,
    }


def timeseries_frame(model: KnowledgeMobilisationModel) -> pd.DataFrame:
    """Network-wide weekly table: one row per week, a column per stage count."""
    staff = model.staff
    t = model.record.weeks_recorded
    rec = model.record.totals()
    counts = rec.stages[:t].sum(axis=1)
    n = staff.n
    cols = _calendar_columns(t)
    for i, name in enumerate(STAGE_NAMES):
        cols[name] = counts[:, i]
    cols["resistant"] = rec.resistant[:t].sum(axis=1)
    cols["uptake"] = (counts[:, Stage.ADOPTED] + counts[:, Stage.EMBEDDED]) / n
    cols["use"] = cols["uptake"] + counts[:, Stage.TRIALLING] / n
    cols["spread"] = rec.spread_users[:t].sum(axis=1) / np.maximum(
        n - rec.participants[:t].sum(axis=1), 1
    )
    cols["mean_knowledge"] = rec.knowledge[:t].sum(axis=1) / n
    cols["mean_quality"] = rec.quality[:t].sum(axis=1) / n
    cols["pupils_reached"] = rec.pupils_reached[:t].sum(axis=1)
    cols["teacher_hours"] = rec.hours[:t].sum(axis=1)
    return pd.DataFrame(cols)


def schools_frame(model: KnowledgeMobilisationModel) -> pd.DataFrame:
    """Per-school weekly table: one row per (school, week)."""
    sch = model.schools
    t = model.record.weeks_recorded
    rec = model.record.totals()
    s = sch.n
    cal = _calendar_columns(t)
    cols: dict[str, np.ndarray] = {
        "school": np.repeat(np.arange(s), t),
        **{k: np.tile(v, s) for k, v in cal.items()},
    }
    stages = rec.stages[:t].transpose(1, 0, 2).reshape(s * t, -1)
    for i, name in enumerate(STAGE_NAMES):
        cols[name] = stages[:, i]
    size = np.repeat(sch.size, t)
    cols["staff"] = size
    cols["resistant"] = rec.resistant[:t].T.ravel()
    cols["uptake"] = (stages[:, Stage.ADOPTED] + stages[:, Stage.EMBEDDED]) / size
    cols["use"] = cols["uptake"] + stages[:, Stage.TRIALLING] / size
    cols["mean_knowledge"] = rec.knowledge[:t].T.ravel() / size
    cols["mean_quality"] = rec.quality[:t].T.ravel() / size
    cols["pupils_reached"] = rec.pupils_reached[:t].T.ravel()
    cols["teacher_hours"] = rec.hours[:t].T.ravel()
    return pd.DataFrame(cols)
