"""The initialization protocol: which items to label before any model exists."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

import numpy as np


class Initializer(ABC):
    name: ClassVar[str]
    description: ClassVar[str]
    needs_labels: ClassVar[bool] = False  # True: only usable when gold labels are known

    @abstractmethod
    def select(
        self, n_pool: int, n: int, *, y: np.ndarray | None = None, seed: int | None = None
    ) -> np.ndarray:
        """Return ``min(n, n_pool)`` distinct pool indices in ``[0, n_pool)``."""
