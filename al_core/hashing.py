"""Content hashes: a text's identity for deduplication and the embedding cache."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable


def content_hash(text: str) -> str:
    """sha256 of the UTF-8 text, as 64 hex characters."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def content_hashes(texts: Iterable[str]) -> list[str]:
    return [content_hash(t) for t in texts]
