"""Content hashes of texts: the key of the embedding cache and of pool deduplication.

A text's hash is the SHA-256 of its UTF-8 bytes, as 64 lowercase hex characters. The text is
hashed exactly as given (no normalisation), so two texts share a hash only if they are equal.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable


def content_hash(text: str) -> str:
    """SHA-256 hex digest of ``text`` encoded as UTF-8."""
    if not isinstance(text, str):
        raise TypeError(f"content_hash expects a str, got {type(text).__name__}")
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def content_hashes(texts: Iterable[str]) -> list[str]:
    """:func:`content_hash` of each text, in order."""
    return [content_hash(t) for t in texts]
