"""Settings of a comparison experiment: schema, Hydra composition and validation.

``configs/compare.yaml`` composes ``base_compare`` (the dataclasses below) with an experiment
from ``configs/experiment/``. Every arm is a list of model overrides on top of the scenario, in
the CLI's vocabulary; arms are validated as model configurations before anything runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hydra import compose, initialize_config_dir
from hydra.core.config_store import ConfigStore
from hydra.core.global_hydra import GlobalHydra
from omegaconf import OmegaConf

from experiments.executors import EXECUTORS, check_dask_address, check_executor_choice
from sim.compose import (
    CONFIG_DIR,
    GROUPS,
    _one_line,
    _reject_unknown_keys,
    available_options,
    build_config,
    check_overrides,
)
from sim.config import Config, ConfigError
from sim.limits import (
    MAX_SEED,
    MAX_SEEDS,
    MAX_WORKERS,
    MAX_YEARS,
    check_memory,
    check_seed,
)

ROOT = Path(__file__).resolve().parent.parent

__all__ = [
    "CompareSettings",
    "ExecutorSettings",
    "NetworkFiles",
    "build_settings",
    "arm_configs",
    "output_dir",
]


@dataclass
class ExecutorSettings:
    """Where seeds run."""

    name: str = "local"  # local (joblib processes) | dask (an existing cluster)
    address: str = ""  # dask: the scheduler, e.g. tcp://127.0.0.1:8786
    n_jobs: int = 2  # local: worker processes
    batch_size: int = 25  # seeds per task
    timeout: float = 10.0  # dask: seconds to wait for the scheduler to answer


@dataclass
class NetworkFiles:
    """An imported network (sim.network_import) every arm runs on; empty: generated networks."""

    staff: str = ""
    ties: str = ""
    schools: str = ""

    def overrides(self) -> list[str]:
        """The model overrides that name the files (none when no file is given)."""
        return [f"network.{k}={v}" for k, v in vars(self).items() if v]


@dataclass
class CompareSettings:
    """A paired comparison: named arms on one scenario, the same seeds in every arm."""

    experiment: str = "strategy_comparison"
    name: str = ""  # folder under out_dir; default: the experiment's name
    scenario: str = "new_forest"
    years: int = 3
    seeds: int = 200
    seed_start: int = 0
    baseline: str = ""  # the arm others are compared with; default: the first arm
    arms: list[str] = field(default_factory=list)  # arms to run; default: all defined
    arm_overrides: dict[str, list[str]] = field(default_factory=dict)
    factors: dict[str, dict[str, str]] = field(default_factory=dict)  # factorial designs
    executor: ExecutorSettings = field(default_factory=ExecutorSettings)
    network: NetworkFiles = field(default_factory=NetworkFiles)
    out_dir: str = "results/compare"  # under results/ unless allow_outside_results=true
    allow_outside_results: bool = False  # let out_dir be an absolute path anywhere
    resume: str = "auto"  # auto: reuse matching batches; never: start the folder afresh

    @property
    def seed_list(self) -> list[int]:
        """The seeds every arm runs."""
        return list(range(self.seed_start, self.seed_start + self.seeds))

    @property
    def run_name(self) -> str:
        """The output folder's name."""
        return self.name or self.experiment


ConfigStore.instance().store(name="base_compare", node=CompareSettings)


#: Model config groups that are not settings of a comparison (they belong in an arm).
_MODEL_GROUPS = tuple(g for g in GROUPS if g != "scenario")
#: Values of ``resume``.
RESUME = ("auto", "never")
#: Where relative ``out_dir`` values must stay.
RESULTS_ROOT = ROOT / "results"


def build_settings(overrides) -> CompareSettings:
    """Compose and validate the settings; raise ConfigError with a one-line message."""
    overrides = check_overrides(overrides, allow_hydra=False)
    scenario = None
    rest = []
    for ov in overrides:
        key, _, value = ov.partition("=")
        if key.lstrip("+") == "experiment" and value not in available_options("experiment"):
            raise ConfigError(
                f"experiment = {value!r} is not a known experiment; choose one of: "
                + ", ".join(available_options("experiment"))
            )
        if key.lstrip("+") in _MODEL_GROUPS:
            raise ConfigError(
                f"{key.lstrip('+')} is a setting of an arm, not of the comparison; e.g. "
                f"'+arm_overrides.mine=[\"{key.lstrip('+')}={value}\"]' arms=[whole_staff,mine]"
            )
        if key == "scenario":  # a value here, though configs/scenario/ is also a Hydra group
            if value not in available_options("scenario"):
                raise ConfigError(
                    f"scenario = {value!r} is not a known scenario; choose one of: "
                    + ", ".join(available_options("scenario"))
                )
            scenario = value
        else:
            rest.append(ov)
    try:
        if GlobalHydra.instance().is_initialized():
            cfg = compose(config_name="compare", overrides=rest)
        else:
            with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
                cfg = compose(config_name="compare", overrides=rest)
        _reject_unknown_keys(cfg, CompareSettings(), "")
        if scenario is not None:
            cfg.scenario = scenario
        settings = OmegaConf.to_object(cfg)
    except ConfigError:
        raise
    except Exception as exc:
        raise ConfigError(_one_line(exc)) from exc
    return validate(settings)


def validate(s: CompareSettings) -> CompareSettings:
    """Check the settings and every arm; fill in defaults (arms, baseline, name)."""
    if not s.arm_overrides:
        raise ConfigError("arm_overrides is empty: an experiment needs at least two arms")
    defined = list(s.arm_overrides)
    arms = list(s.arms) or defined
    unknown = [a for a in arms if a not in s.arm_overrides]
    if unknown:
        raise ConfigError(
            f"arms = {unknown[0]!r} is not an arm of experiment {s.experiment!r}; "
            f"choose from: {', '.join(defined)}"
        )
    if len(set(arms)) < 2:
        raise ConfigError(f"arms needs at least two different arms (got {arms})")
    s.arms = arms
    s.baseline = s.baseline or arms[0]
    if s.baseline not in arms:
        raise ConfigError(
            f"baseline = {s.baseline!r} must be one of the arms run: {', '.join(arms)}"
        )
    if s.seeds < 2:
        raise ConfigError(f"seeds = {s.seeds} is too few; a paired comparison needs at least 2")
    if s.seeds > MAX_SEEDS:
        raise ConfigError(f"seeds = {s.seeds} is out of range; allowed: 2 to {MAX_SEEDS:,}")
    check_seed("seed_start", s.seed_start)
    if s.seed_start + s.seeds - 1 > MAX_SEED:
        raise ConfigError(
            f"seed_start + seeds - 1 = {s.seed_start + s.seeds - 1} is out of range; the last "
            f"seed must be at most 2**63-1 ({MAX_SEED})"
        )
    if not 1 <= s.years <= MAX_YEARS:
        raise ConfigError(f"years = {s.years} is out of range; allowed: 1 to {MAX_YEARS}")
    if s.resume not in RESUME:
        raise ConfigError(f"resume = {s.resume!r} is not allowed; choose one of: auto, never")
    e = s.executor
    if e.name not in EXECUTORS:
        raise ConfigError(
            f"executor.name = {e.name!r} is not allowed; choose one of: {', '.join(EXECUTORS)}"
        )
    for key, value, high in (
        ("executor.n_jobs", e.n_jobs, MAX_WORKERS),
        ("executor.batch_size", e.batch_size, MAX_SEEDS),
    ):
        if not 1 <= value <= high:
            raise ConfigError(f"{key} = {value} is out of range; allowed: 1 to {high:,}")
    if not 0 < e.timeout <= 600:
        raise ConfigError(
            f"executor.timeout = {e.timeout:g} is out of range; allowed: > 0 to 600 s"
        )
    check_executor_choice(e.name, e.address)
    if e.name == "dask":
        check_dask_address(e.address)
    if (
        not s.run_name.replace("-", "").replace("_", "").isalnum()
        or not s.run_name.isascii()
        or len(s.run_name) > 100
    ):
        raise ConfigError(f"name = {s.run_name!r}: use up to 100 letters, digits, '-' and '_' only")
    output_dir(s)  # out_dir confined under results/ unless allowed
    for factor, levels in s.factors.items():
        missing = [a for a in levels if a not in s.arm_overrides]
        if missing:
            raise ConfigError(f"factors.{factor} names unknown arm {missing[0]!r}")
    configs = arm_configs(s)  # every arm must be a valid model configuration
    workers = 1 if e.name == "dask" else e.n_jobs  # Dask workers run on their own machines
    check_memory(configs.values(), s.seeds, workers, f"{s.seeds:,} seeds of {len(s.arms)} arms")
    return s


def arm_configs(s: CompareSettings) -> dict[str, Config]:
    """Each arm's resolved model configuration (seed set per run).

    The comparison's ``years`` is every arm's horizon unless the arm sets its own ``years=``
    (honoured, and shown in the report). The scenario is the comparison's: an arm that names
    another one is refused, since paired seeds compare arms on the same schools.
    """
    configs = {}
    for arm in s.arms:
        arm_ovs = s.arm_overrides[arm]
        if not isinstance(arm_ovs, list | tuple) or not all(isinstance(o, str) for o in arm_ovs):
            raise ConfigError(f"arm_overrides.{arm} must be a list of 'key=value' strings")
        for ov in arm_ovs:
            key, _, value = ov.partition("=")
            if key.lstrip("+") == "scenario" and value != s.scenario:
                raise ConfigError(
                    f"arm {arm!r}: scenario={value} differs from the comparison's scenario "
                    f"{s.scenario!r}; arms are paired on the same schools, so set scenario= "
                    "for the whole comparison (or run another comparison)"
                )
            if key.lstrip("+") == "seed":
                raise ConfigError(
                    f"arm {arm!r}: seed is set by seeds= and seed_start=, not per arm"
                )
        overrides = [*s.network.overrides(), f"years={s.years}", *arm_ovs]
        try:
            configs[arm] = build_config(scenario=s.scenario, overrides=overrides)
        except ConfigError as exc:
            raise ConfigError(f"arm {arm!r}: {exc}") from None
    return configs


def output_dir(s: CompareSettings) -> Path:
    """The comparison's folder: ``<out_dir>/<name>``, confined under ``results/``.

    A relative ``out_dir`` is taken from the project folder and must stay inside ``results/``;
    an absolute path anywhere needs ``allow_outside_results=true``.
    """
    if not s.out_dir.strip():
        raise ConfigError(
            "out_dir is empty; give a folder under results/ (default results/compare)"
        )
    base = Path(s.out_dir)
    if base.is_absolute():
        if not s.allow_outside_results:
            raise ConfigError(
                f"out_dir = {s.out_dir!r} is outside results/; add allow_outside_results=true "
                "to write there"
            )
        return base / s.run_name
    resolved = (ROOT / base).resolve()
    if not resolved.is_relative_to(RESULTS_ROOT.resolve()):
        raise ConfigError(
            f"out_dir = {s.out_dir!r} leaves results/; give a folder under results/ (or an "
            "absolute path with allow_outside_results=true)"
        )
    return ROOT / base / s.run_name


def settings_dict(s: CompareSettings) -> dict[str, Any]:
    """The settings as plain data (for meta.json)."""
    return OmegaConf.to_container(OmegaConf.structured(s))
