"""The registry of modules, and the configuration schema assembled from them.

Modules (:class:`sim.module.Module`) register themselves with :func:`register`; the bases of the
pluggable kinds (strategy, mode, selection policy) with :func:`kind`; set-up code (schools,
networks) declares its sections with :func:`section`. :func:`discover` imports every module file
of the packages below, so a new file in one of them is found without an edit elsewhere.
:func:`sections` then assembles one configuration section per name, which
:class:`sim.config.Config` is made of; docs/PARAMETERS.md and the Hydra config groups are
generated from the same declarations.
"""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sim.module import Module
from sim.params import ConfigError, Section

__all__ = [
    "KIND_PACKAGES",
    "discover",
    "exporter",
    "get",
    "kind",
    "kind_base",
    "modules",
    "register",
    "rules",
    "section",
    "sections",
]

#: Each kind of module and the package whose files are its modules (one module per file).
KIND_PACKAGES: dict[str, str] = {
    "process": "sim.processes",
    "strategy": "sim.strategies",
    "mode": "sim.modes",
    "selection": "sim.selection",
}

#: The kinds a configuration chooses one module of (a Hydra config group each).
PLUGGABLE: tuple[str, ...] = ("strategy", "mode", "selection")

#: The Hydra config tree (presets of each group in ``configs/<group>/``).
CONFIG_DIR = Path(__file__).resolve().parent.parent / "configs"

#: Set-up modules that declare sections of their own (:func:`section`).
SETUP_MODULES: tuple[str, ...] = ("sim.population", "sim.networks")

#: The order of sections in the configuration (sections not listed follow, by name).
SECTION_ORDER: tuple[str, ...] = (
    "schools",
    "network",
    "pln",
    "selection",
    "strategy",
    "mode",
    "leadership",
    "decision",
    "conversation",
    "practice",
    "trust",
    "turnover",
    "outcomes",
)

_MODULES: dict[str, dict[str, type[Module]]] = {k: {} for k in KIND_PACKAGES}
_KINDS: dict[str, type[Module]] = {}
_SETUP: dict[str, type] = {}


def register(cls: type[Module]) -> type[Module]:
    """Class decorator: make a module known under its ``kind`` and ``name``."""
    if cls.kind not in _MODULES:
        raise ValueError(f"{cls.__name__}: kind {cls.kind!r} is not one of {sorted(_MODULES)}")
    if not cls.name:
        raise ValueError(f"{cls.__name__} has no name")
    registered = _MODULES[cls.kind]
    if registered.get(cls.name, cls) is not cls:
        raise ValueError(f"{cls.kind} {cls.name!r} is registered twice")
    registered[cls.name] = cls
    return cls


def kind(cls: type[Module]) -> type[Module]:
    """Class decorator for the base of a pluggable kind (its ``Params`` are shared by all)."""
    _KINDS[cls.kind] = cls
    return cls


def section(name: str):
    """Class decorator declaring the parameter section ``name`` of a set-up module."""

    def decorate(cls: type) -> type:
        _SETUP[name] = cls
        return cls

    return decorate


_discovered = False


def discover() -> None:
    """Import every module file of :data:`KIND_PACKAGES` and :data:`SETUP_MODULES` (once)."""
    global _discovered
    if _discovered:
        return
    _discovered = True
    for package in KIND_PACKAGES.values():
        pkg = importlib.import_module(package)
        for info in pkgutil.iter_modules(pkg.__path__):
            importlib.import_module(f"{package}.{info.name}")
    for name in SETUP_MODULES:
        importlib.import_module(name)
    for registered in _MODULES.values():  # in name order, whatever the order of imports
        ordered = sorted(registered.items())
        registered.clear()
        registered.update(ordered)


def kind_base(kind_: str) -> type[Module]:
    """The base class of a pluggable kind (``strategy``, ``mode``, ``selection``)."""
    discover()
    return _KINDS[kind_]


def modules(kind_: str) -> dict[str, type[Module]]:
    """The registered modules of a kind, by name (the registry's own, live mapping)."""
    return _MODULES[kind_]


def exporter(module: str, attribute: str, kind_: str) -> Callable[[str], Any]:
    """A module ``__getattr__`` serving the registered modules of a kind as ``attribute``.

    ``sim.strategies.STRATEGIES`` and the like are the registry's live mappings, filled on first
    use (discovery imports the package's files, which may not be imported while it loads).
    """

    def module_getattr(name: str) -> Any:
        if name == attribute:
            discover()
            return modules(kind_)
        raise AttributeError(f"module {module!r} has no attribute {name!r}")

    return module_getattr


def get(kind_: str, name: str) -> type[Module]:
    """The registered module ``name`` of a kind, or a :class:`ConfigError` naming the choices."""
    try:
        return _MODULES[kind_][name]
    except KeyError:
        base = _KINDS.get(kind_)
        key = f"{base.section}.{base.selector}" if base else kind_
        allowed = ", ".join(_MODULES[kind_])
        raise ConfigError(f"{key} = {name!r} is not allowed; choose one of: {allowed}") from None


def _copy(f: dataclasses.Field) -> dataclasses.Field:
    if f.default_factory is not dataclasses.MISSING:
        return dataclasses.field(default_factory=f.default_factory, metadata=f.metadata)
    return dataclasses.field(default=f.default, metadata=f.metadata)


def _fields(params: type) -> list[tuple[str, Any, dataclasses.Field]]:
    hints = typing.get_type_hints(params)
    return [(f.name, hints[f.name], _copy(f)) for f in dataclasses.fields(params)]


def _kind_section(base: type[Module]) -> type:
    """One section for a pluggable kind: its selector, shared parameters, each module's own."""
    names = tuple(sorted(_MODULES[base.kind]))
    selector = base.selector_param
    meta = {**selector.metadata, "choices": names}
    fields = [(base.selector, str, dataclasses.field(default=selector.default, metadata=meta))]
    contributions = [(base.__name__, base.Params)] + [
        (cls.__name__, cls.__dict__["Params"])
        for cls in _MODULES[base.kind].values()
        if cls.__dict__.get("Params") is not None
    ]
    owner = {base.selector: base.__name__}
    for who, params in contributions:
        for name, hint, f in _fields(params):
            if name in owner:
                raise ValueError(f"{base.section}.{name} is declared by {owner[name]} and {who}")
            owner[name] = who
            fields.append((name, hint, f))
    cls_name = base.section.title().replace("_", "") + "Config"
    return dataclasses.make_dataclass(
        cls_name,
        fields,
        bases=(Section,),
        namespace={"__doc__": base.Params.__doc__},
        module="sim.config",
    )


def rules() -> list[tuple[str, str]]:
    """Every rule across parameters: (who declares it, its docstring's first line)."""
    discover()
    found = [(name, cls.check) for name, cls in _SETUP.items() if hasattr(cls, "check")]
    for kind_, registered in _MODULES.items():
        for cls in [_KINDS.get(kind_), *registered.values()]:
            if cls is not None and "check" in cls.__dict__:
                label = f"{kind_} `{cls.name}`" if cls.name else f"every {kind_}"
                found.append((label, cls.check))
    return [(who, (fn.__doc__ or "").strip().splitlines()[0]) for who, fn in found]


def sections() -> dict[str, type]:
    """Every parameter section, assembled from the registered modules, in schema order."""
    discover()
    found: dict[str, type] = dict(_SETUP)
    for base in _KINDS.values():
        found[base.section] = _kind_section(base)
    for cls in _MODULES["process"].values():
        params = cls.__dict__.get("Params")
        if params is None:
            continue
        if cls.section in found:
            raise ValueError(f"section {cls.section!r} is declared twice ({cls.__name__})")
        found[cls.section] = params
    order = [s for s in SECTION_ORDER if s in found] + sorted(set(found) - set(SECTION_ORDER))
    return {name: found[name] for name in order}
