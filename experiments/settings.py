"""Settings of a comparison experiment: schema, Hydra composition and validation.

``configs/compare.yaml`` composes ``base_compare`` (the dataclasses below) with an experiment
from ``configs/experiment/``. Every arm is a list of model overrides on top of the scenario, in
the CLI's vocabulary; arms are validated as model configurations before anything runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hydra import compose, initialize_config_dir
from hydra.core.config_store import ConfigStore
from hydra.core.global_hydra import GlobalHydra
from omegaconf import OmegaConf

from experiments.executors import EXECUTORS
from sim.compose import (
    CONFIG_DIR,
    _one_line,
    _reject_unknown_keys,
    available_options,
    build_config,
    check_override_syntax,
)
from sim.config import Config, ConfigError

__all__ = ["CompareSettings", "ExecutorSettings", "NetworkFiles", "build_settings", "arm_configs"]


@dataclass
class ExecutorSettings:
    """Where seeds run."""

    name: str = "local"  # local (joblib processes) | dask (an existing cluster)
    address: str = ""  # dask: the scheduler, e.g. tcp://127.0.0.1:8786
    n_jobs: int = 2  # local: worker processes
    batch_size: int = 25  # seeds per task


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
    out_dir: str = "results/compare"

    @property
    def seed_list(self) -> list[int]:
        """The seeds every arm runs."""
        return list(range(self.seed_start, self.seed_start + self.seeds))

    @property
    def run_name(self) -> str:
        """The output folder's name."""
        return self.name or self.experiment


ConfigStore.instance().store(name="base_compare", node=CompareSettings)


def build_settings(overrides: list[str]) -> CompareSettings:
    """Compose and validate the settings; raise ConfigError with a one-line message."""
    check_override_syntax(overrides)
    for ov in overrides:
        key, _, value = ov.partition("=")
        if key.lstrip("+~") == "experiment" and value not in available_options("experiment"):
            raise ConfigError(
                f"experiment = {value!r} is not a known experiment; choose one of: "
                + ", ".join(available_options("experiment"))
            )
    try:
        if GlobalHydra.instance().is_initialized():
            cfg = compose(config_name="compare", overrides=overrides)
        else:
            with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
                cfg = compose(config_name="compare", overrides=overrides)
        _reject_unknown_keys(cfg, CompareSettings(), "")
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
    if s.seed_start < 0:
        raise ConfigError(f"seed_start = {s.seed_start} must be >= 0")
    if s.years < 1:
        raise ConfigError(f"years = {s.years} must be >= 1")
    e = s.executor
    if e.name not in EXECUTORS:
        raise ConfigError(
            f"executor.name = {e.name!r} is not allowed; choose one of: {', '.join(EXECUTORS)}"
        )
    if e.n_jobs < 1 or e.batch_size < 1:
        raise ConfigError("executor.n_jobs and executor.batch_size must be >= 1")
    if e.name == "dask" and not e.address:
        raise ConfigError("executor.address is required with executor.name=dask (tcp://host:port)")
    if not s.run_name.replace("-", "").replace("_", "").isalnum():
        raise ConfigError(f"name = {s.run_name!r}: use letters, digits, '-' and '_' only")
    for factor, levels in s.factors.items():
        missing = [a for a in levels if a not in s.arm_overrides]
        if missing:
            raise ConfigError(f"factors.{factor} names unknown arm {missing[0]!r}")
    arm_configs(s)  # every arm must be a valid model configuration
    return s


def arm_configs(s: CompareSettings) -> dict[str, Config]:
    """Each arm's resolved model configuration (seed set per run)."""
    configs = {}
    for arm in s.arms:
        overrides = [*s.network.overrides(), *s.arm_overrides[arm], f"years={s.years}"]
        try:
            configs[arm] = build_config(scenario=s.scenario, overrides=overrides)
        except ConfigError as exc:
            raise ConfigError(f"arm {arm!r}: {exc}") from None
    return configs


def settings_dict(s: CompareSettings) -> dict[str, Any]:
    """The settings as plain data (for meta.json)."""
    return OmegaConf.to_container(OmegaConf.structured(s))
