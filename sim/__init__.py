"""Knowledge mobilisation from a Professional Learning Network into schools: an agent-based model.

Quick start::

    import sim
    result = sim.simulate()                       # New Forest, seed 0, three years
    result.summary["uptake_final"]
    result.timeseries.plot(x="week", y="uptake")
    sim.simulate("new_forest", seed=3, overrides=("strategy.name=none",))
"""

from sim.compose import build_config
from sim.config import Config, ConfigError
from sim.model import KnowledgeMobilisationModel
from sim.results import RunResult, simulate

__version__ = "0.1.0"

__all__ = [
    "Config",
    "ConfigError",
    "KnowledgeMobilisationModel",
    "RunResult",
    "build_config",
    "simulate",
    "__version__",
]
