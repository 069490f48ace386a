"""The in-memory active learner used by experiments, simulations and notebooks."""

from al_core.learner.active_learner import ActiveLearner, LearnerStateError
from al_core.seeding import derive_seed, selection_seed

__all__ = ["ActiveLearner", "LearnerStateError", "derive_seed", "selection_seed"]
