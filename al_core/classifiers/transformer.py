"""``transformer``: fine-tuning a pretrained encoder end to end (``AutoModelForSequenceClassification``).

The standard recipe of Devlin et al. (2019, BERT, section 4.1), here on the offline
all-MiniLM-L6-v2 by default (``model=<local folder>`` for any other BERT-like model with
safetensors weights): a classification head on the encoder, every weight trained with AdamW at
a small learning rate for a few epochs. Single-label uses softmax/cross-entropy; multi-label a
sigmoid per label with binary cross-entropy (``problem_type="multi_label_classification"``).
Training, precision, early stopping and the capabilities for query strategies live in
:class:`~al_core.classifiers.torch_base.TorchTextClassifier`; this module only builds the
model and runs its forward pass.

:meth:`TransformerClassifier.embed` returns the mean-pooled last hidden states (masked by the
attention mask), the representation sentence-transformers uses for MiniLM.

Defaults: 8 epochs (at least 160 steps), batch 16, learning rate 5e-5, max length 64 tokens,
class weights "balanced", early stopping on 10% of the labelled items from 40 items up.
``min_steps`` was 60: on 175-200 random TREC-6 questions MiniLM was still improving at the
last of its 80-96 steps (accuracy 0.586, 0.678, 0.774 on three draws); 160 steps gave 0.880,
0.876, 0.876 on the same draws, at about twice the time per fit below 2,560 items.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from al_core.classifiers.hf_models import (
    load_pretrained,
    load_tokenizer,
    model_from_saved_config,
    resolve_model_dir,
)
from al_core.classifiers.persistence import load_torch_module, save_torch_module
from al_core.classifiers.torch_base import TorchTextClassifier


class TransformerClassifier(TorchTextClassifier):
    """Fine-tuned transformer encoder with a classification head (CPU or CUDA)."""

    name = "transformer"
    description = (
        "Fine-tuned transformer (MiniLM by default, or a local model folder); GPU when present"
    )

    def __init__(
        self,
        num_classes: int,
        multi_label: bool = False,
        seed: int | None = None,
        model: str | os.PathLike[str] | None = None,
        epochs: int = 8,
        batch_size: int = 16,
        learning_rate: float = 5e-5,
        weight_decay: float = 0.01,
        max_length: int = 64,
        class_weight: str | None = "balanced",
        validation_fraction: float = 0.1,
        patience: int = 2,
        min_steps: int = 160,
        warm_start: bool = False,
        device: str | None = None,
        mixed_precision: bool = True,
        num_threads: int | None = None,
        inference_batch_size: int = 64,
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
        self.model = None if model is None else os.fspath(model)

    def _build(self) -> None:
        folder = resolve_model_dir(self.model)
        self._tokenizer = load_tokenizer(folder)
        problem = (
            "multi_label_classification" if self.multi_label else "single_label_classification"
        )
        self._module = load_pretrained(folder, num_labels=self.num_classes, problem_type=problem)

    def _forward(self, batch: dict[str, Any], inputs_embeds: Any = None) -> tuple[Any, Any]:
        mask = batch["attention_mask"]
        if inputs_embeds is None:
            out = self._module(
                input_ids=batch["input_ids"], attention_mask=mask, output_hidden_states=True
            )
        else:
            out = self._module(
                inputs_embeds=inputs_embeds, attention_mask=mask, output_hidden_states=True
            )
        hidden = out.hidden_states[-1]
        weights = mask.unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1.0)
        return out.logits, pooled

    def _functional_logits(self, params: dict[str, Any], batch: dict[str, Any]) -> Any:
        import torch
        from torch.func import functional_call

        # A 4-D additive mask: transformers' own mask helpers branch on the mask's values,
        # which vmap cannot trace.
        mask = batch["attention_mask"][None, None, None, :].float()
        additive = (1.0 - mask) * torch.finfo(torch.float32).min
        out = functional_call(
            self._module,
            params,
            (),
            {"input_ids": batch["input_ids"][None], "attention_mask": additive},
        )
        return out.logits[0]

    def gradient_norms(self, X, scope: str = "all"):  # noqa: D102 - see the base class
        # torch.func has no batching rule for the fused CPU attention kernel's backward and
        # falls back to a slow loop; plain ("eager") attention vectorises.
        if scope == "embedding-max-word" or self._module is None:
            return super().gradient_norms(X, scope)
        before = self._module.config._attn_implementation
        self._module.set_attn_implementation("eager")
        try:
            return super().gradient_norms(X, scope)
        finally:
            self._module.set_attn_implementation(before)

    def _input_embedding(self) -> Any:
        return self._module.get_input_embeddings()

    def _save_model(self, directory: Path) -> dict[str, Any]:
        self._tokenizer.save_pretrained(str(directory / "tokenizer"))
        (directory / "model").mkdir(parents=True, exist_ok=True)
        self._module.config.to_json_file(str(directory / "model" / "config.json"))
        save_torch_module(self._module, directory / "model" / "model.safetensors")
        return {"source": self.model or "packaged all-MiniLM-L6-v2"}

    def _load_model(self, directory: Path, facts: dict[str, Any]) -> None:
        self._tokenizer = load_tokenizer(directory / "tokenizer")
        module = model_from_saved_config(directory / "model", sequence_classification=True)
        self._module = load_torch_module(module, directory / "model" / "model.safetensors")
