"""What every PyTorch text classifier of alflow shares: training, inference, capabilities.

:class:`TorchTextClassifier` reads texts (``input_kind = "texts"``) and leaves three things to
its subclasses: building the network and tokenizer, the forward pass, and saving them. The base
owns the rest, once:

* **device and precision**: the device is picked once per instance
  (:func:`al_core.device.pick_device`); on CUDA the forward passes run under bf16 autocast
  (fp16 with a gradient scaler where the GPU lacks bf16); on CPU in float32. Same code path.
* **training**: AdamW (no decay on biases and LayerNorm weights), linear warm-up then decay,
  gradient clipping, class weights (``"balanced"``), at least ``min_steps`` optimiser steps
  (tiny labelled sets get more epochs), and early stopping on a held-out split of the labelled
  data (``validation_fraction``, used from 40 labelled items up): the weights of the epoch with
  the lowest validation loss are kept, among the epochs that end after ``min_steps`` steps.
  Counting earlier epochs let a noisy validation loss keep the first epoch's weights, barely
  moved from the pretrained ones: on 175 TREC-6 questions MiniLM stopped after 30 of 80 steps
  and predicted one class (22% accuracy). Mosbach et al. (2021, "On the stability of
  fine-tuning BERT") trace failed fine-tuning runs to too few optimisation steps.
* **label handling** as in :mod:`al_core.classifiers.linear`: one output column per class of
  the label set; a class absent from the labelled data gets probability 0 (its logit is
  masked), a single labelled class gets probability 1 without training; in multi-label mode a
  label that is constant in the labelled data gets that constant.
* **determinism**: every random draw (head initialisation, shuffling, dropout) comes from
  ``seed`` and the number of fits so far, inside :func:`torch.random.fork_rng`, so the global
  RNG is left as it was.
* **capabilities** for the query strategies (see BRIEF's protocol): :meth:`embed`,
  :meth:`predict_proba_mc` (MC dropout, Gal & Ghahramani 2016) and :meth:`gradient_norms`
  (per-example gradient norms under each hypothetical label, for EGL and BADGE).
* **warm start**: with ``warm_start=True`` a second ``fit`` continues from the current weights
  instead of the pretrained ones.
"""

from __future__ import annotations

import math
import time
from abc import abstractmethod
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np

from al_core.classifiers.base import Classifier, NotFittedError
from al_core.classifiers.linear import check_targets
from al_core.device import autocast, autocast_dtype, pick_device, torch_threads
from al_core.features import Features

#: Below this many labelled items every item trains; early stopping needs a validation split.
MIN_VALIDATION_ITEMS = 40
#: Memory budget (bytes) for the per-example gradients that :meth:`gradient_norms` holds.
GRADIENT_MEMORY_BUDGET = 256 * 2**20
_MASKED = -1e9


def derive_seed(seed: int | None, *parts: int) -> int:
    """A 31-bit seed mixed from ``seed`` and counters (``None`` seeds from 0)."""
    mixed = np.random.SeedSequence([0 if seed is None else int(seed), *map(int, parts)])
    return int(mixed.generate_state(1)[0] & 0x7FFFFFFF)


class TorchTextClassifier(Classifier):
    """Base of the PyTorch classifiers over raw texts; see the module docstring."""

    input_kind: ClassVar[str] = "texts"
    default_embedder: ClassVar[str | None] = None
    supports_multi_label: ClassVar[bool] = True
    supports_warm_start: ClassVar[bool] = True
    #: Shortest padded length the network accepts (a CNN needs its widest filter).
    min_length: ClassVar[int] = 1

    def __init__(
        self,
        num_classes: int,
        multi_label: bool = False,
        seed: int | None = None,
        *,
        epochs: int,
        batch_size: int,
        learning_rate: float,
        weight_decay: float,
        max_length: int,
        class_weight: str | None,
        validation_fraction: float,
        patience: int,
        min_steps: int,
        warm_start: bool,
        device: str | None,
        mixed_precision: bool,
        num_threads: int | None,
        inference_batch_size: int,
    ) -> None:
        super().__init__(num_classes, multi_label=multi_label, seed=seed)
        for name, value, low in (
            ("epochs", epochs, 1),
            ("batch_size", batch_size, 1),
            ("max_length", max_length, 2),
            ("patience", patience, 1),
            ("min_steps", min_steps, 0),
            ("inference_batch_size", inference_batch_size, 1),
        ):
            if int(value) < low:
                raise ValueError(f"{name} must be >= {low}, got {value}")
        if learning_rate <= 0:
            raise ValueError(f"learning_rate must be positive, got {learning_rate}")
        if not 0 <= validation_fraction < 0.5:
            raise ValueError(f"validation_fraction must lie in [0, 0.5), got {validation_fraction}")
        if class_weight not in (None, "balanced"):
            raise ValueError(f"class_weight must be None or 'balanced', got {class_weight!r}")
        self.epochs = int(epochs)
        self.batch_size = int(batch_size)
        self.learning_rate = float(learning_rate)
        self.weight_decay = float(weight_decay)
        self.max_length = int(max_length)
        self.class_weight = class_weight
        self.validation_fraction = float(validation_fraction)
        self.patience = int(patience)
        self.min_steps = int(min_steps)
        self.warm_start = bool(warm_start)
        self.device = device
        self.mixed_precision = bool(mixed_precision)
        self.num_threads = num_threads
        self.inference_batch_size = int(inference_batch_size)
        self._module: Any = None
        self._tokenizer: Any = None
        self._device: str | None = None
        self._active: np.ndarray | None = None  # classes (labels) the model predicts
        self._constants: np.ndarray | None = None  # multi-label: constant value, NaN if learned
        self.fit_count_ = 0
        self._round = 0
        self.train_info_: dict[str, Any] = {}

    # -- subclass hooks ---------------------------------------------------------------------

    @abstractmethod
    def _build(self) -> None:
        """Create ``self._tokenizer`` and ``self._module`` from the pretrained starting point."""

    @abstractmethod
    def _forward(self, batch: dict[str, Any], inputs_embeds: Any = None) -> tuple[Any, Any]:
        """``(logits, features)`` for a tokenized batch; ``inputs_embeds`` replaces the
        word-embedding lookup when given."""

    @abstractmethod
    def _functional_logits(self, params: dict[str, Any], batch: dict[str, Any]) -> Any:
        """Logits of ONE example (tensors without batch axis) with ``params`` swapped in
        (:func:`torch.func.functional_call`); used to vectorise per-example gradients."""

    @abstractmethod
    def _input_embedding(self) -> Any:
        """The ``nn.Embedding`` that maps token ids to input vectors."""

    @abstractmethod
    def _save_model(self, directory: Path) -> dict[str, Any]:
        """Write tokenizer and weights (safetensors) to ``directory``; return JSON facts."""

    @abstractmethod
    def _load_model(self, directory: Path, facts: dict[str, Any]) -> None:
        """Rebuild ``self._tokenizer`` and ``self._module`` from :meth:`_save_model`'s files."""

    # -- protocol ---------------------------------------------------------------------------

    @property
    def is_fitted(self) -> bool:
        return self._active is not None

    def fit(self, X: Features, y: np.ndarray) -> Self:
        self.check_input(X)
        texts = [str(t) for t in X]
        y = check_targets(y, self.num_classes, self.multi_label, len(texts))
        started = time.perf_counter()
        device = self._pick_device()
        continuing = self._module is not None and self.warm_start and self.is_fitted
        # A fresh fit draws the same numbers whatever ran before; a warm one moves on.
        self._round = self.fit_count_ if continuing else 0
        with torch_threads(self.num_threads), self._rng(self._round):
            if not continuing:
                self._build()
                self._module.to(device)
            self._set_active(y)
            trainable = self._active.sum() >= (1 if self.multi_label else 2)
            info = self._train(texts, y) if trainable else {"steps": 0, "note": "one class"}
        self.fit_count_ += 1
        self.train_info_ = {**info, "seconds": round(time.perf_counter() - started, 3)}
        return self

    def predict_proba(self, X: Features) -> np.ndarray:
        return self._proba_from_logits(self._infer(X, "logits"))

    def embed(self, X: Features) -> np.ndarray:
        """The network's representation of each text (``float32``), from the current weights."""
        return self._infer(X, "features").astype(np.float32)

    def predict_proba_mc(
        self, X: Features, n_samples: int = 10, seed: int | None = None
    ) -> np.ndarray:
        """``(n_samples, n, C)`` probabilities with dropout active (MC dropout).

        Each sample is a forward pass with a fresh dropout mask; the masks come from ``seed``
        (or the classifier's seed), so the result is reproducible.
        """
        if n_samples < 1:
            raise ValueError(f"n_samples must be >= 1, got {n_samples}")
        logits = self._infer(X, "logits", mc_samples=n_samples, mc_seed=seed)
        return self._proba_from_logits(logits.reshape(-1, logits.shape[-1])).reshape(logits.shape)

    def gradient_norms(self, X: Features, scope: str = "all") -> np.ndarray:
        """``(n, C)``: L2 norm of the gradient of item i's loss under hypothetical label c.

        ``scope``: ``"all"`` (every trainable parameter), ``"embedding-max-word"`` (the
        largest norm, over the item's tokens, of the gradient w.r.t. that token's input
        embedding; Zhang et al. 2017), or a parameter-name prefix (e.g. the output layer).
        The loss is the training loss (cross-entropy; in multi-label mode binary
        cross-entropy against the indicator of label c alone), computed without dropout.
        Columns of classes the model cannot predict (absent from the labelled data) are 0.
        """
        self._require_fitted()
        self.check_input(X)
        texts = [str(t) for t in X]
        out = np.zeros((len(texts), self.num_classes), dtype=np.float64)
        if not texts:
            return out
        with torch_threads(self.num_threads):
            self._module.eval()
            if scope == "embedding-max-word":
                self._word_gradient_norms(texts, out)
            else:
                params = self._scoped_parameters(scope)
                self._parameter_gradient_norms(texts, params, out)
        out[:, ~self._active] = 0.0
        return out

    # -- training ---------------------------------------------------------------------------

    def _train(self, texts: list[str], y: np.ndarray) -> dict[str, Any]:
        import torch

        rng = np.random.default_rng(derive_seed(self.seed, self._round, 1))
        train_idx, val_idx = self._split(y, rng)
        module = self._module
        device = self._device
        decay, no_decay = [], []
        for name, p in module.named_parameters():
            if p.requires_grad:
                (no_decay if p.ndim < 2 or "LayerNorm" in name else decay).append(p)
        optimizer = torch.optim.AdamW(
            [
                {"params": decay, "weight_decay": self.weight_decay},
                {"params": no_decay, "weight_decay": 0.0},
            ],
            lr=self.learning_rate,
        )
        steps_per_epoch = math.ceil(len(train_idx) / self.batch_size)
        epochs = max(self.epochs, math.ceil(self.min_steps / steps_per_epoch))
        total = epochs * steps_per_epoch
        warmup = max(1, int(0.1 * total))
        scheduler = torch.optim.lr_scheduler.LambdaLR(
            optimizer,
            lambda s: min((s + 1) / warmup, max(0.0, (total - s) / max(1, total - warmup))),
        )
        use_scaler = (
            device.startswith("cuda") and self.mixed_precision and autocast_dtype() == torch.float16
        )
        scaler = torch.amp.GradScaler("cuda", enabled=use_scaler)
        loss_fn = self._loss_function(y[train_idx])
        targets = torch.tensor(y, dtype=torch.float32 if self.multi_label else torch.long)
        best_loss, best_state, bad, steps, epoch, best_epoch = math.inf, None, 0, 0, 0, None
        for epoch in range(1, epochs + 1):  # noqa: B007 - reported below
            module.train()
            order = rng.permutation(train_idx)
            for start in range(0, len(order), self.batch_size):
                rows = order[start : start + self.batch_size]
                batch = self._tokenize([texts[i] for i in rows])
                with autocast(device, self.mixed_precision):
                    logits, _ = self._forward(batch)
                loss = loss_fn(logits.float(), targets[rows].to(device))
                optimizer.zero_grad(set_to_none=True)
                scaler.scale(loss).backward()
                scaler.unscale_(optimizer)
                torch.nn.utils.clip_grad_norm_(module.parameters(), 1.0)
                scaler.step(optimizer)
                scaler.update()
                scheduler.step()
                steps += 1
            if len(val_idx) and steps >= self.min_steps:
                val_loss = self._evaluate_loss(texts, val_idx, targets, loss_fn)
                if val_loss < best_loss - 1e-4:
                    best_loss, bad, best_epoch = val_loss, 0, epoch
                    best_state = {
                        k: v.detach().to("cpu", copy=True) for k, v in module.state_dict().items()
                    }
                else:
                    bad += 1
                    if bad >= self.patience:
                        break
        if best_state is not None:
            module.load_state_dict(best_state)
        module.eval()
        return {
            "steps": steps,
            "epochs_run": epoch,
            "train_items": len(train_idx),
            "validation_items": len(val_idx),
            "best_validation_loss": None if best_state is None else round(best_loss, 5),
            "best_epoch": best_epoch,
        }

    def _split(self, y: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Indices to train on and to validate on (empty below :data:`MIN_VALIDATION_ITEMS`).

        Single-label: only items of classes with at least two labelled items are held out, so
        every class keeps an example to learn from.
        """
        n = len(y)
        k = int(round(self.validation_fraction * n))
        if n < MIN_VALIDATION_ITEMS or k < 1:
            return np.arange(n), np.empty(0, dtype=np.int64)
        if self.multi_label:
            eligible = np.arange(n)
        else:
            counts = np.bincount(y, minlength=self.num_classes)
            eligible = np.flatnonzero(counts[y] >= 2)
        val = np.sort(rng.choice(eligible, size=min(k, len(eligible) - 1), replace=False))
        return np.setdiff1d(np.arange(n), val), val

    def _loss_function(self, y_train: np.ndarray) -> Any:
        import torch

        device = self._device
        active = torch.as_tensor(self._active, device=device)
        if self.multi_label:
            pos = y_train.sum(axis=0).astype(np.float64)
            neg = len(y_train) - pos
            weight = np.ones(self.num_classes)
            if self.class_weight == "balanced":
                weight = np.clip(neg / np.maximum(pos, 1.0), 1.0, 10.0)
            pos_weight = torch.as_tensor(weight, dtype=torch.float32, device=device)
            mask = active.float()

            def multi(logits, target):
                per = torch.nn.functional.binary_cross_entropy_with_logits(
                    logits, target, pos_weight=pos_weight, reduction="none"
                )
                return (per * mask).sum() / (mask.sum() * len(target))

            return multi
        weight = None
        if self.class_weight == "balanced":
            counts = np.bincount(y_train, minlength=self.num_classes).astype(np.float64)
            w = np.where(
                counts > 0, len(y_train) / (max(1, (counts > 0).sum()) * counts.clip(1)), 0
            )
            weight = torch.as_tensor(w, dtype=torch.float32, device=device)

        def single(logits, target):
            masked = logits.masked_fill(~active, _MASKED)
            return torch.nn.functional.cross_entropy(masked, target, weight=weight)

        return single

    def _evaluate_loss(self, texts, rows, targets, loss_fn) -> float:
        import torch

        self._module.eval()
        total = 0.0
        with torch.no_grad():
            for start in range(0, len(rows), self.inference_batch_size):
                part = rows[start : start + self.inference_batch_size]
                batch = self._tokenize([texts[i] for i in part])
                with autocast(self._device, self.mixed_precision):
                    logits, _ = self._forward(batch)
                total += float(loss_fn(logits.float(), targets[part].to(self._device))) * len(part)
        return total / len(rows)

    def _set_active(self, y: np.ndarray) -> None:
        if self.multi_label:
            pos = y.sum(axis=0)
            constant = (pos == 0) | (pos == len(y))
            self._active = ~constant
            self._constants = np.where(constant, (pos > 0).astype(np.float64), np.nan)
        else:
            self._active = np.bincount(y, minlength=self.num_classes) > 0
            self._constants = None

    # -- inference --------------------------------------------------------------------------

    def _infer(
        self,
        X: Features,
        what: str,
        mc_samples: int = 0,
        mc_seed: int | None = None,
    ) -> np.ndarray:
        """Logits or features of every text, batched by length, in input order.

        With ``mc_samples`` the result gains a leading axis of that many dropout samples.
        """
        self._require_fitted()
        self.check_input(X)
        texts = [str(t) for t in X]
        import torch

        lengths = np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts))
        order = np.argsort(lengths, kind="stable")
        parts: list[np.ndarray] = []
        rng_ctx = (
            self._rng(10_000 + self.fit_count_) if mc_seed is None else self._rng_seed(mc_seed)
        )
        with torch_threads(self.num_threads), torch.no_grad(), rng_ctx:
            self._module.train(mc_samples > 0)
            for start in range(0, len(order), self.inference_batch_size):
                rows = order[start : start + self.inference_batch_size]
                batch = self._tokenize([texts[i] for i in rows])
                outs = []
                for _ in range(max(1, mc_samples)):
                    with autocast(self._device, self.mixed_precision):
                        logits, features = self._forward(batch)
                    value = logits if what == "logits" else features
                    outs.append(value.float().cpu().numpy())
                parts.append(np.stack(outs) if mc_samples else outs[0])
            self._module.eval()
        width = self.num_classes if what == "logits" else None
        if not parts:
            shape = (0, width or 0)
            return np.zeros((mc_samples, *shape) if mc_samples else shape, dtype=np.float32)
        axis = 1 if mc_samples else 0
        result = np.concatenate(parts, axis=axis)
        inverse = np.empty_like(order)
        inverse[order] = np.arange(len(order))
        return np.take(result, inverse, axis=axis)

    def _proba_from_logits(self, logits: np.ndarray) -> np.ndarray:
        z = np.asarray(logits, dtype=np.float64)
        if self.multi_label:
            proba = 1.0 / (1.0 + np.exp(-z))
            constant = ~self._active
            proba[:, constant] = self._constants[constant]
            return proba
        z = np.where(self._active, z, -np.inf)
        z -= z.max(axis=1, keepdims=True)
        np.exp(z, out=z)
        return z / z.sum(axis=1, keepdims=True)

    def _tokenize(self, texts: list[str]) -> dict[str, Any]:
        enc = self._tokenizer(
            texts,
            padding=True,
            truncation=True,
            max_length=self.max_length,
            return_tensors="pt",
        )
        batch = {k: v for k, v in enc.items() if k in ("input_ids", "attention_mask")}
        short = self.min_length - batch["input_ids"].shape[1]
        if short > 0:
            import torch

            pad_id = self._tokenizer.pad_token_id or 0
            batch["input_ids"] = torch.nn.functional.pad(
                batch["input_ids"], (0, short), value=pad_id
            )
            batch["attention_mask"] = torch.nn.functional.pad(batch["attention_mask"], (0, short))
        return {k: v.to(self._device) for k, v in batch.items()}

    # -- gradients --------------------------------------------------------------------------

    def _hypothetical_loss(self, logits: Any, c: int) -> Any:
        """Per-example training loss (no class weights) of ``logits`` under label ``c``."""
        import torch

        logits = logits.float()
        if self.multi_label:
            target = torch.zeros_like(logits)
            target[..., c] = 1.0
            return torch.nn.functional.binary_cross_entropy_with_logits(
                logits, target, reduction="none"
            ).sum(-1)
        active = torch.as_tensor(self._active, device=logits.device)
        masked = logits.masked_fill(~active, _MASKED)
        return -torch.log_softmax(masked, dim=-1)[..., c]

    def _class_range(self) -> np.ndarray:
        return np.flatnonzero(self._active) if not self.multi_label else np.arange(self.num_classes)

    def _word_gradient_norms(self, texts: list[str], out: np.ndarray) -> None:
        import torch

        embedding = self._input_embedding()
        for start in range(0, len(texts), self.inference_batch_size):
            rows = np.arange(start, min(start + self.inference_batch_size, len(texts)))
            batch = self._tokenize([texts[i] for i in rows])
            mask = batch["attention_mask"].bool()
            embeds = embedding(batch["input_ids"]).detach().requires_grad_(True)
            for c in self._class_range():
                logits, _ = self._forward(batch, inputs_embeds=embeds)
                loss = self._hypothetical_loss(logits, int(c)).sum()
                (grad,) = torch.autograd.grad(loss, embeds)
                norms = grad.float().norm(dim=-1).masked_fill(~mask, 0.0)
                out[rows, c] = norms.max(dim=1).values.cpu().numpy()

    def _scoped_parameters(self, scope: str) -> dict[str, Any]:
        named = {n: p for n, p in self._module.named_parameters() if p.requires_grad}
        if scope == "all":
            return named
        chosen = {n: p for n, p in named.items() if n.startswith(scope)}
        if not chosen:
            tops = sorted({n.split(".")[0] for n in named})
            raise ValueError(
                f"gradient scope {scope!r} matches no trainable parameter of "
                f"{type(self).__name__}; use 'all', 'embedding-max-word' or a parameter-name "
                f"prefix such as {', '.join(map(repr, tops))}"
            )
        return chosen

    def _parameter_gradient_norms(
        self, texts: list[str], params: dict[str, Any], out: np.ndarray
    ) -> None:
        """Per-example gradients, vectorised over a chunk of items with :func:`torch.func.vmap`;
        the chunk is sized so the per-example gradients fit :data:`GRADIENT_MEMORY_BUDGET`."""
        import torch
        from torch.func import grad, vmap

        size = sum(p.numel() for p in params.values())
        chunk = int(max(1, min(self.inference_batch_size, GRADIENT_MEMORY_BUDGET // (4 * size))))
        detached = {n: p.detach() for n, p in params.items()}

        def item_loss(p, batch_one, c):
            return self._hypothetical_loss(self._functional_logits(p, batch_one), c).sum()

        for start in range(0, len(texts), chunk):
            rows = np.arange(start, min(start + chunk, len(texts)))
            batch = self._tokenize([texts[i] for i in rows])
            for c in self._class_range():
                grads = vmap(grad(item_loss), in_dims=(None, 0, None))(detached, batch, int(c))
                sq = sum(g.float().reshape(len(rows), -1).pow(2).sum(1) for g in grads.values())
                out[rows, c] = torch.sqrt(sq).detach().cpu().numpy()

    # -- persistence ------------------------------------------------------------------------

    def _save_state(self, directory: Path) -> dict[str, Any]:
        facts = self._save_model(directory)
        constants = None if self._constants is None else self._constants.tolist()
        return {
            "active": self._active.tolist(),
            "constants": [None if math.isnan(v) else v for v in constants] if constants else None,
            "fit_count": self.fit_count_,
            "train_info": self.train_info_,
            "model": facts,
        }

    def _load_state(self, directory: Path, state: dict[str, Any]) -> None:
        device = self._pick_device()
        with torch_threads(self.num_threads):
            self._load_model(directory, state["model"])
        self._module.to(device).eval()
        self._active = np.asarray(state["active"], dtype=bool)
        if state.get("constants") is not None:
            self._constants = np.array(
                [np.nan if v is None else v for v in state["constants"]], dtype=np.float64
            )
        self.fit_count_ = int(state.get("fit_count", 0))
        self.train_info_ = dict(state.get("train_info") or {})

    # -- helpers ----------------------------------------------------------------------------

    def _pick_device(self) -> str:
        if self._device is None:
            self._device = pick_device(self.device)
        return self._device

    def _rng(self, counter: int) -> Any:
        return self._rng_seed(derive_seed(self.seed, counter))

    def _rng_seed(self, seed: int) -> Any:
        """A context with torch's RNG seeded from ``seed``; the global state is restored."""
        import contextlib

        import torch

        devices = [torch.cuda.current_device()] if self._pick_device().startswith("cuda") else []

        @contextlib.contextmanager
        def ctx():
            with torch.random.fork_rng(devices=devices):
                torch.manual_seed(int(seed) & 0x7FFFFFFF)
                yield

        return ctx()

    def _require_fitted(self) -> None:
        if self._active is None or self._module is None:
            raise NotFittedError(f"{type(self).__name__} is not fitted: call fit(texts, y) first")
