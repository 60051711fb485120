"""Mesa agents: staff members as views of the model's state arrays.

Each agent owns a permanent ``slot``; its attributes read and write the arrays in
``model.staff`` (:class:`sim.population.Staff`), so ``AgentSet`` queries, notebooks and the
workshop page see real agents while every weekly process updates everyone at once. Setting an
attribute through an agent (``agent.trust_in_leaders = 0``) writes the array in place and bumps
its version (:mod:`sim.versioning`), so whatever the model derived from it is recomputed.

Three agent types, as users name them (MODEL.md §2):

* :class:`Leader`: senior leaders (head, deputy, assistant head);
* :class:`OpinionFormer`: a teacher without a senior role whom colleagues turn to for advice;
* :class:`Teacher`: everyone else, with ``role`` ``middle_leader``, ``teacher`` or ``early_career``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import mesa

from sim.population import ROLES, STAGE_NAMES, Stage

if TYPE_CHECKING:
    from sim.model import KnowledgeMobilisationModel

__all__ = ["StaffMember", "Teacher", "Leader", "OpinionFormer"]


class _StateView:
    """Descriptor exposing ``model.staff.<name>[slot]`` as an agent attribute."""

    def __init__(self, doc: str) -> None:
        self.__doc__ = doc

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, agent: StaffMember | None, owner: type | None = None) -> Any:
        if agent is None:
            return self
        return getattr(agent.model.staff, self.name)[agent.slot].item()

    def __set__(self, agent: StaffMember, value: Any) -> None:
        staff = agent.model.staff
        getattr(staff, self.name)[agent.slot] = value
        staff.touch(self.name)  # in place: bump the version so derived caches are recomputed


class StaffMember(mesa.Agent):
    """A member of staff: a view of one slot of the model's arrays.

    Args:
        model: The model whose arrays hold this member's state.
        slot: The permanent slot index.

    """

    model: KnowledgeMobilisationModel

    school = _StateView("index of the school")
    team = _StateView("team within the school (0 = senior leadership team)")
    participant = _StateView("member of the PLN")
    opinion_former = _StateView("an advice hub colleagues turn to")
    threshold = _StateView("persuasion needed before trying (drawn once)")
    capacity = _StateView("discretionary hours a week before any allocation")
    trust_in_leaders = _StateView("trust in the school's leadership, 0-1")
    pupils = _StateView("pupils taught")
    knowledge = _StateView("understanding of the innovation, 0-1")
    quality = _StateView("quality of classroom enactment, 0-1")
    resistant = _StateView("openly opposed for now")
    network_trust = _StateView("a participant's trust in the PLN, 0-1")
    pupil_gain = _StateView("cumulative learning gain of the class, SD")

    def __init__(self, model: KnowledgeMobilisationModel, slot: int) -> None:
        super().__init__(model)
        self.slot = int(slot)

    @property
    def stage(self) -> str:
        """Stage of engagement: one of ``sim.population.STAGE_NAMES``."""
        return STAGE_NAMES[self.model.staff.stage[self.slot]]

    @stage.setter
    def stage(self, value: str | int) -> None:
        code = Stage[value.upper()] if isinstance(value, str) else Stage(value)
        staff = self.model.staff
        staff.stage[self.slot] = code
        staff.touch("stage")

    @property
    def role(self) -> str:
        """Formal role: ``senior_leader``, ``middle_leader``, ``teacher`` or ``early_career``."""
        return ROLES[self.model.staff.role[self.slot]]

    @property
    def advisers(self) -> list[tuple[StaffMember, int]]:
        """The colleagues this person seeks advice from, with the index of each tie."""
        ties = self.model.ties
        lo, hi = self.model.tie_ptr[self.slot], self.model.tie_ptr[self.slot + 1]
        return [(self.model.agent_at[ties.adviser[e]], e) for e in range(lo, hi)]

    def tie_trust(self, tie: int) -> float:
        """Trust on one of this person's advice ties."""
        return float(self.model.ties.trust[tie])

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(slot={self.slot}, school={self.school}, role={self.role}, "
            f"stage={self.stage}, participant={self.participant})"
        )


class Teacher(StaffMember):
    """A teacher without a senior role: ``middle_leader``, ``teacher`` or ``early_career``."""


class Leader(StaffMember):
    """A senior leader (head, deputy, assistant head): formal authority, fewer pupils."""


class OpinionFormer(StaffMember):
    """A teacher without a senior role whom colleagues turn to for trusted advice."""
