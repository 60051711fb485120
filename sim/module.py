"""The module contract: a piece of the model declares its parameters, its state and its step.

Processes, strategies, modes and selection policies are all :class:`Module` subclasses. Each
declares, in one class:

* ``name``: how configurations and the weekly order call it;
* ``Params``: its parameter section, a dataclass of :func:`sim.params.param` fields. A process
  owns a section of its own (``section``, e.g. ``conversation``); strategies, modes and selection
  policies add their parameters to the shared section of their kind (``strategy``, ``mode``,
  ``selection``), whose selector key (``strategy.name``, ``mode.name``, ``selection.policy``)
  lists every registered one;
* ``owns`` and ``reads``: the state it writes and the state it reads (``staff.knowledge``,
  ``ties.trust``, ``model.in_sight``, ``now.pressured``, ``levers``, ...);
* :meth:`check`: rules across parameters that one value's range cannot express;
* its step (:meth:`Module.step` for processes and strategies; a mode's hooks; a policy's
  :meth:`select`).

:func:`sim.registry.register` makes a module known; :mod:`sim.registry` assembles
:class:`sim.config.Config`, the Hydra config groups and docs/PARAMETERS.md from what the modules
declare. Adding a strategy, mode or selection policy is one new file in ``sim/strategies/``,
``sim/modes/`` or ``sim/selection/`` plus one YAML preset in ``configs/<group>/``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from sim.config import Config
    from sim.model import KnowledgeMobilisationModel

__all__ = ["Module"]


class Module:
    """Base of every module of the model.

    Args:
        model: The model the module belongs to.

    """

    #: Kind of module: ``process``, ``strategy``, ``mode`` or ``selection``.
    kind: ClassVar[str] = ""
    #: Name under which the module is registered.
    name: ClassVar[str] = ""
    #: The configuration section its parameters live in.
    section: ClassVar[str] = ""
    #: Its parameters (a dataclass of ``param()`` fields), or ``None``.
    Params: ClassVar[type | None] = None
    #: State it writes.
    owns: ClassVar[tuple[str, ...]] = ()
    #: State it reads (besides its own parameters).
    reads: ClassVar[tuple[str, ...]] = ()
    #: For the base of a pluggable kind: the key choosing one module (``name``, ``policy``) and
    #: its declaration (``param(...)`` without choices: the registered names are the choices).
    selector: ClassVar[str] = ""
    selector_param: ClassVar[Any] = None

    def __init__(self, model: KnowledgeMobilisationModel) -> None:
        self.model = model

    @property
    def pars(self) -> Any:
        """The configuration section of this module."""
        return getattr(self.model.config, self.section)

    @classmethod
    def check(cls, config: Config) -> None:
        """Check rules across parameters; raise :class:`~sim.params.ConfigError` if broken."""

    def step(self, week: int) -> None:
        """Advance this module by one week (``week`` counts from 0)."""
        raise NotImplementedError
