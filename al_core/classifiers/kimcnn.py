"""``kimcnn``: the convolutional sentence classifier of Kim (2014), in PyTorch.

Kim, "Convolutional Neural Networks for Sentence Classification", EMNLP 2014: token embeddings
(trainable, the "non-static" variant) -> one 1-D convolution per filter width (3, 4, 5; 100
filters each) with ReLU -> max-over-time pooling (over the windows inside the text, so padding
never changes a text's features) -> dropout 0.5 -> a linear layer. The
concatenated pooled features are what :meth:`KimCNNClassifier.embed` returns.

Tokens come from a pretrained WordPiece tokenizer (MiniLM's by default, or the tokenizer of
``model=<local folder>``), and with ``pretrained_embeddings=True`` the embedding layer starts
from that model's input word embeddings (384-d for MiniLM), the analogue of Kim's word2vec
initialisation; with ``False`` it starts random at ``embedding_dim``. Kim trained with Adadelta;
Adam at 1e-3 reaches the same accuracy faster and is used here. Training, early stopping,
devices and the strategy capabilities are those of
:class:`~al_core.classifiers.torch_base.TorchTextClassifier`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from al_core.classifiers.hf_models import load_tokenizer, resolve_model_dir, word_embedding_matrix
from al_core.classifiers.persistence import load_torch_module, save_torch_module
from al_core.classifiers.torch_base import TorchTextClassifier


def build_kimcnn(
    vocab_size: int,
    embedding_dim: int,
    filter_sizes: tuple[int, ...],
    num_filters: int,
    dropout: float,
    num_classes: int,
    padding_idx: int,
) -> Any:
    """The network (an ``nn.Module``): ``forward(input_ids, inputs_embeds=None)`` returns
    ``(logits, pooled features)``."""
    import torch
    from torch import nn

    class KimCNN(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=padding_idx)
            self.convs = nn.ModuleList(
                nn.Conv1d(embedding_dim, num_filters, k) for k in filter_sizes
            )
            self.dropout = nn.Dropout(dropout)
            self.output = nn.Linear(num_filters * len(filter_sizes), num_classes)

        def forward(
            self, input_ids: Any = None, attention_mask: Any = None, inputs_embeds: Any = None
        ) -> tuple[Any, Any]:
            x = self.embedding(input_ids) if inputs_embeds is None else inputs_embeds
            n = x.shape[1]
            length = attention_mask.sum(-1, keepdim=True) if attention_mask is not None else n
            x = x.transpose(1, 2)  # (batch, dim, length) for Conv1d
            pooled = []
            for conv in self.convs:
                k = conv.kernel_size[0]
                out = torch.relu(conv(x))  # (batch, filters, positions)
                # Only windows inside the text (or the first one of a text shorter than k), so
                # a text's features do not depend on how far its batch pads it.
                start = torch.arange(out.shape[2], device=out.device)
                valid = start + k <= torch.clamp(torch.as_tensor(length, device=out.device), min=k)
                pooled.append(out.masked_fill(~valid.unsqueeze(1), 0.0).amax(dim=2))
            features = torch.cat(pooled, dim=1)
            return self.output(self.dropout(features)), features

    return KimCNN()


class KimCNNClassifier(TorchTextClassifier):
    """Kim's CNN over trainable token embeddings (single- and multi-label)."""

    name = "kimcnn"
    description = "Kim (2014) CNN over trainable token embeddings (initialised from MiniLM's)"

    def __init__(
        self,
        num_classes: int,
        multi_label: bool = False,
        seed: int | None = None,
        model: str | os.PathLike[str] | None = None,
        pretrained_embeddings: bool = True,
        embedding_dim: int = 300,
        filter_sizes: tuple[int, ...] = (3, 4, 5),
        num_filters: int = 100,
        dropout: float = 0.5,
        epochs: int = 15,
        batch_size: int = 32,
        learning_rate: float = 1e-3,
        weight_decay: float = 0.0,
        max_length: int = 64,
        class_weight: str | None = "balanced",
        validation_fraction: float = 0.1,
        patience: int = 3,
        min_steps: int = 60,
        warm_start: bool = False,
        device: str | None = None,
        mixed_precision: bool = True,
        num_threads: int | None = None,
        inference_batch_size: int = 256,
    ) -> None:
        super().__init__(
            num_classes,
            multi_label=multi_label,
            seed=seed,
            epochs=epochs,
            batch_size=batch_size,
            learning_rate=learning_rate,
            weight_decay=weight_decay,
            max_length=max_length,
            class_weight=class_weight,
            validation_fraction=validation_fraction,
            patience=patience,
            min_steps=min_steps,
            warm_start=warm_start,
            device=device,
            mixed_precision=mixed_precision,
            num_threads=num_threads,
            inference_batch_size=inference_batch_size,
        )
        sizes = tuple(int(k) for k in filter_sizes)
        if not sizes or min(sizes) < 1:
            raise ValueError(f"filter_sizes must be positive widths, got {filter_sizes}")
        if not 0 <= dropout < 1:
            raise ValueError(f"dropout must lie in [0, 1), got {dropout}")
        self.model = None if model is None else os.fspath(model)
        self.pretrained_embeddings = bool(pretrained_embeddings)
        self.embedding_dim = int(embedding_dim)
        self.filter_sizes = sizes
        self.num_filters = int(num_filters)
        self.dropout = float(dropout)
        self._facts: dict[str, Any] = {}

    @property
    def min_length(self) -> int:  # type: ignore[override]
        return max(self.filter_sizes)

    def _build(self) -> None:
        folder = resolve_model_dir(self.model)
        self._tokenizer = load_tokenizer(folder)
        vectors = word_embedding_matrix(folder) if self.pretrained_embeddings else None
        vocab = len(self._tokenizer) if vectors is None else max(len(self._tokenizer), len(vectors))
        dim = self.embedding_dim if vectors is None else int(vectors.shape[1])
        self._facts = {
            "vocab_size": int(vocab),
            "embedding_dim": dim,
            "padding_idx": int(self._tokenizer.pad_token_id or 0),
        }
        self._module = self._network()
        if vectors is not None:
            import torch

            with torch.no_grad():
                self._module.embedding.weight[: len(vectors)] = vectors

    def _network(self) -> Any:
        return build_kimcnn(
            self._facts["vocab_size"],
            self._facts["embedding_dim"],
            self.filter_sizes,
            self.num_filters,
            self.dropout,
            self.num_classes,
            self._facts["padding_idx"],
        )

    def _forward(self, batch: dict[str, Any], inputs_embeds: Any = None) -> tuple[Any, Any]:
        mask = batch["attention_mask"]
        if inputs_embeds is not None:
            return self._module(attention_mask=mask, inputs_embeds=inputs_embeds)
        return self._module(input_ids=batch["input_ids"], attention_mask=mask)

    def _functional_logits(self, params: dict[str, Any], batch: dict[str, Any]) -> Any:
        from torch.func import functional_call

        logits, _ = functional_call(
            self._module, params, (batch["input_ids"][None], batch["attention_mask"][None])
        )
        return logits[0]

    def _input_embedding(self) -> Any:
        return self._module.embedding

    def _save_model(self, directory: Path) -> dict[str, Any]:
        self._tokenizer.save_pretrained(str(directory / "tokenizer"))
        save_torch_module(self._module, directory / "model.safetensors")
        return dict(self._facts)

    def _load_model(self, directory: Path, facts: dict[str, Any]) -> None:
        self._tokenizer = load_tokenizer(directory / "tokenizer")
        self._facts = dict(facts)
        self._module = load_torch_module(self._network(), directory / "model.safetensors")
