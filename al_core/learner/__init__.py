"""The in-memory active learner used by experiments, simulations and notebooks."""

from al_core.learner.active_learner import ActiveLearner, LearnerStateError, derive_seed

__all__ = ["ActiveLearner", "LearnerStateError", "derive_seed"]
