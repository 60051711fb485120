"""The weekly processes of the model, one module each (MODEL.md §3).

The order in which they run is written down once, in :data:`sim.loop.WEEKLY_ORDER`.
"""

from sim.processes.background import Background
from sim.processes.base import Process, WeekContext
from sim.processes.calendar import Calendar
from sim.processes.conversation import Conversation
from sim.processes.decision import Decision
from sim.processes.leadership import LeadershipActions
from sim.processes.mobilisation import Mobilisation
from sim.processes.outcomes import Outcomes
from sim.processes.pln_learning import PLNLearning
from sim.processes.practice import Practice
from sim.processes.trust import TrustUpdate
from sim.processes.turnover import Turnover

__all__ = [
    "Process",
    "WeekContext",
    "Calendar",
    "Turnover",
    "Background",
    "PLNLearning",
    "LeadershipActions",
    "Mobilisation",
    "Conversation",
    "Decision",
    "Practice",
    "TrustUpdate",
    "Outcomes",
]
