"""alflow's active-learning library (no Prefect inside).

One subpackage per concept, each re-exporting its public names: ``storage`` (workspaces),
``labels``, ``ingest``, ``validation``, ``embeddings``, ``classifiers``, ``query``,
``stopping``, ``initialization``, ``queues``, ``learner``, ``simulation`` and ``pipeline`` (the
steps of one iteration on a workspace); ``registry`` maps configuration names to classes.
Importing this package is cheap: heavy dependencies load inside the functions that use them.
"""

__version__ = "0.1.0"
