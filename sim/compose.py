"""Compose a run's configuration from ``configs/`` with Hydra, exactly as the CLI does.

The dataclass schema of :mod:`sim.config` is registered in Hydra's ConfigStore as
``base_config``; ``configs/config.yaml`` puts it first in its defaults list, so Hydra itself rejects
typos, wrong types and unknown group options. This module adds what Hydra does not do:
keys appended with ``+key=value`` that the schema lacks are rejected (Hydra would keep them in the
config and they would then be silently dropped), ranges and combinations are checked, and every
failure becomes a one-line :class:`~sim.config.ConfigError`.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hydra import compose, initialize_config_dir
from hydra.core.config_store import ConfigStore
from hydra.core.global_hydra import GlobalHydra
from hydra.core.override_parser.overrides_parser import OverridesParser
from omegaconf import DictConfig, ListConfig, OmegaConf

from sim import registry
from sim.config import Config, ConfigError, cached_copy
from sim.limits import check_memory, check_seed
from sim.network_import import network_overrides

__all__ = [
    "CONFIG_DIR",
    "build_config",
    "check_overrides",
    "config_from_dictconfig",
    "available_options",
    "prepare_config",
]

#: The project's Hydra config tree.
CONFIG_DIR = Path(__file__).resolve().parent.parent / "configs"

ConfigStore.instance().store(name="base_config", node=Config)


def available_options(group: str) -> list[str]:
    """Names of the options of a config group.

    The YAML presets in ``configs/<group>/`` and, for strategies, modes and selection policies,
    every registered module.
    """
    names = {p.stem for p in (CONFIG_DIR / group).glob("*.yaml")}
    if group in registry.PLUGGABLE:
        names |= set(registry.modules(group))
    return sorted(names)


def build_config(
    scenario: str | None = "new_forest",
    seed: int | None = None,
    overrides: Sequence[str] = (),
) -> Config:
    """Compose, check and return the configuration for one run.

    Args:
        scenario: Scenario preset (a file in ``configs/scenario/``); ``None`` keeps the default.
        seed: Run seed; ``None`` keeps the configured one.
        overrides: Hydra overrides in the CLI's vocabulary, e.g. ``("pln.support_years=2",)``.

    Returns:
        A validated :class:`~sim.config.Config`.

    Raises:
        ConfigError: One line naming the key and what is allowed.

    """
    overrides = check_overrides(overrides)
    if scenario is not None and not isinstance(scenario, str):
        raise ConfigError(f"scenario must be a scenario name (text), got {scenario!r}")
    if seed is not None:
        check_seed("seed", seed)
    all_overrides = []
    if scenario is not None:
        all_overrides.append(f"scenario={scenario}")
    if seed is not None:
        all_overrides.append(f"seed={seed}")
    all_overrides.extend(overrides)
    # An imported network (network.staff/ties/schools): its files set schools, staff numbers and
    # levers, placed before the caller's overrides (sim.network_import).
    extra = network_overrides(_compose_cached(tuple(all_overrides)))
    # Composing costs tens of milliseconds; cache it, and hand each caller its own copy.
    return copy.deepcopy(_build_config_cached(tuple([*extra, *all_overrides])))


@functools.lru_cache(maxsize=256)
def _build_config_cached(overrides: tuple[str, ...]) -> Config:
    return config_from_dictconfig(_compose_cached(overrides))


@functools.lru_cache(maxsize=256)
def _compose_cached(overrides: tuple[str, ...]) -> DictConfig:
    return _compose(list(overrides))


def check_overrides(overrides: Any, allow_hydra: bool = False) -> list[str]:
    """Check a sequence of overrides before Hydra sees it; return it as a list.

    Refused, each with one line: anything but a list or tuple of strings; an item without
    ``key=value``; deleting a key (``~key``, the same everywhere: a setting is changed, never
    removed); an interpolation such as ``${now:...}`` (results must not depend on the clock or
    the environment); and ``hydra.*`` settings unless the caller runs Hydra's launcher
    (``allow_hydra``), since everywhere else they would be silently ignored.
    """
    if isinstance(overrides, str) or not isinstance(overrides, list | tuple):
        raise ConfigError(
            f"overrides must be a list of 'key=value' strings (got {type(overrides).__name__})"
        )
    for ov in overrides:
        if not isinstance(ov, str):
            raise ConfigError(f"overrides must be 'key=value' strings (got {ov!r})")
        key, eq, value = ov.partition("=")
        if key.startswith("~"):
            raise ConfigError(
                f"{ov!r}: deleting a key is not supported; set a value instead ({key[1:]}=...)"
            )
        if not eq or not key.strip():
            raise ConfigError(f"expected key=value, got {ov!r}")
        if "${" in ov:
            raise ConfigError(
                f"{key} = {value!r}: interpolations (${{...}}) are not allowed; give a literal "
                "value, so results do not depend on the clock or the environment"
            )
        if key.lstrip("+").split(".")[0].split("/")[0] == "hydra" and not allow_hydra:
            raise ConfigError(
                f"{key}: Hydra's own settings have no effect here; only experiments.sweep "
                "takes hydra.* (e.g. hydra.sweep.dir)"
            )
        if "\0" in ov:
            raise ConfigError(f"{key}: the value contains a NUL character")
    return list(overrides)


def check_override_syntax(overrides) -> None:
    """Reject anything that is not ``key=value`` with a one-line error (see check_overrides)."""
    check_overrides(overrides, allow_hydra=True)


def prepare_config(config: Any) -> Config:
    """A validated copy of a ready :class:`Config` within the documented limits (for the API)."""
    if not isinstance(config, Config):
        raise ConfigError(f"config must be a sim.Config (got {type(config).__name__})")
    # Validated once per distinct configuration (sim.config.cached_copy); memory every time.
    validated = cached_copy("validated", config, lambda copied: copied.validate())
    check_memory([validated])
    return validated


def _compose(overrides: list[str]) -> DictConfig:
    check_override_syntax(overrides)
    _check_groups(overrides)
    overrides, replacements = _split_per_school(overrides)
    try:
        if GlobalHydra.instance().is_initialized():  # inside a Hydra app: reuse its search path
            cfg = compose(config_name="config", overrides=overrides)
        else:
            with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
                cfg = compose(config_name="config", overrides=overrides)
        for key, value in replacements:
            OmegaConf.update(cfg, key, value, merge=False)
        return cfg
    except ConfigError:
        raise
    except Exception as exc:  # Hydra/OmegaConf errors: keep their words, on one line
        raise ConfigError(_one_line(exc)) from exc


def _per_school_keys() -> set[str]:
    return {
        f"{section.name}.{f.name}"
        for section in dataclasses.fields(Config)
        if dataclasses.is_dataclass(getattr(Config(), section.name))
        for f in dataclasses.fields(getattr(Config(), section.name))
        if f.metadata.get("per_school")
    }


def _split_per_school(overrides: list[str]) -> tuple[list[str], list[tuple[str, Any]]]:
    """Take ``key=value`` overrides of per-school keys out of Hydra's merge.

    A per-school value may be one value, a list or a distribution (a mapping); Hydra would try
    to *merge* a list into a mapping given by the scenario (or the reverse) and fail, so these
    overrides replace the scenario's value after composing instead (they still take precedence
    over every config file, as command-line overrides do).
    """
    keys = _per_school_keys()
    plain, replacements = [], []
    parser = OverridesParser.create()
    for ov in overrides:
        key = ov.partition("=")[0]
        if key not in keys:
            plain.append(ov)
            continue
        try:
            (parsed,) = parser.parse_overrides([ov])
        except Exception as exc:
            raise ConfigError(_one_line(exc)) from exc
        replacements.append((key, parsed.value()))
    return plain, replacements


#: Config groups: folders of ``configs/`` whose files are options (``group=option``).
GROUPS = ("scenario", "strategy", "mode", "selection", "leadership")


def _check_groups(overrides: list[str]) -> None:
    for ov in overrides:
        key, _, value = ov.partition("=")
        group = key.lstrip("+~")
        if group in GROUPS and value not in available_options(group):
            raise ConfigError(
                f"{group} = {value!r} is not a known {group} option; choose one of: "
                + ", ".join(available_options(group))
            )


def config_from_dictconfig(cfg: DictConfig) -> Config:
    """Turn a composed DictConfig into a validated :class:`Config`, rejecting unknown keys."""
    _reject_unknown_keys(cfg, Config(), "")
    try:
        config = OmegaConf.to_object(cfg)
    except Exception as exc:
        raise ConfigError(_one_line(exc)) from exc
    if not isinstance(config, Config):
        raise ConfigError("the composed configuration does not follow the schema")
    config.validate()  # maxima and memory included
    return config


def _reject_unknown_keys(node: Any, schema: Any, prefix: str) -> None:
    """Reject keys that exist in the composed config but not in the schema (``+key=value``)."""
    if not isinstance(node, DictConfig):
        return
    names = {f.name: f for f in dataclasses.fields(schema)}
    for key in node:
        path = f"{prefix}{key}"
        if key not in names:
            allowed = ", ".join(prefix + n for n in names)
            raise ConfigError(f"unknown key '{path}'; allowed keys here: {allowed}")
        child_schema = getattr(schema, key)
        if isinstance(child_schema, dict):
            continue  # free-form mapping (e.g. named arms): its keys are the user's
        if dataclasses.is_dataclass(child_schema):
            _reject_unknown_keys(node[key], child_schema, path + ".")
        elif isinstance(node[key], DictConfig) and names[key].metadata.get("per_school"):
            continue  # a distribution of per-school values (checked by Config.validate)
        elif isinstance(node[key], DictConfig):
            raise ConfigError(f"{path} takes a value, not a group of keys")
        elif isinstance(node[key], ListConfig) and any(
            isinstance(v, DictConfig | ListConfig) for v in node[key]
        ):
            raise ConfigError(f"{path} takes a list of plain values")


def _one_line(exc: BaseException) -> str:
    """Collapse an exception (and its cause) into one line, dropping Hydra's search-path dump."""
    parts = []
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        text = str(exc).split("Config search path:")[0]
        text = text.split("\n    full_key:")[0]
        text = " ".join(text.split())
        if text and text not in parts and "$VALUE" not in text:
            parts.append(text)
        exc = exc.__cause__ or exc.__context__
    return ": ".join(parts) or "invalid configuration"
