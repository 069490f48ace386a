"""``setfit``: contrastive fine-tuning of a sentence encoder plus a logistic-regression head.

The SetFit recipe of Tunstall et al. (2022), "Efficient Few-Shot Learning Without Prompts"
(arXiv:2209.11055), written here directly on transformers (no ``setfit`` package):

1. **pairs**: ``num_iterations`` times, every labelled text gets one positive partner (same
   class) and one negative partner (another class); multi-label: positive when the two share a
   label, negative when they share none (SetFit's multi-label variant). At most ``max_pairs``
   pairs are kept (a random subset), which bounds the cost as labels grow;
2. **body**: the sentence encoder (mean pooling, MiniLM by default) is trained for ``epochs``
   with the cosine-similarity loss, ``(cos(u, v) - target)^2`` with target 1 or 0;
3. **head**: a logistic regression (:class:`EmbeddingLogRegClassifier`) on the L2-normalised
   embeddings of the labelled texts.

Active learning refits every round, and a body fine-tune costs far more than a head fit, so
with ``warm_start=True`` (the default; the learner's ``reuse_model`` and the pipeline's warm
start keep the instance) a refit only fine-tunes the body again, from its current weights, once
the labelled set has grown by the factor ``body_refit_growth`` since the last fine-tune; in
between it re-fits the head on embeddings cached per text. With the defaults (25 labels + 25 per
round) the body trains at 25, 50, 100, 200 and 400 labels: 5 fine-tunes in 21 rounds.

Each fine-tune gives the body a new ``body_version_``. :meth:`SetFitClassifier.text_encoder`
exposes the current body as a cacheable embedder named after that version, so a workspace can
keep the body's vectors between processes (the pipeline stores them in its embedding cache and
hands them back with :meth:`SetFitClassifier.remember`): a round that only refits the head
then encodes no text it has seen before. A loaded model reads its body's weights (and imports
transformers) only when a text must be encoded or the body trained, and saves an unchanged
body by copying its files, so such a round does not load the body at all.
"""

from __future__ import annotations

import math
import os
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np

from al_core.classifiers.base import Classifier, NotFittedError
from al_core.classifiers.embedding_head import EmbeddingLogRegClassifier
from al_core.classifiers.hf_models import (
    load_pretrained,
    load_tokenizer,
    model_from_saved_config,
    resolve_model_dir,
)
from al_core.classifiers.linear import check_targets
from al_core.classifiers.persistence import load_torch_module, save_torch_module
from al_core.classifiers.torch_base import derive_seed
from al_core.device import autocast, autocast_dtype, pick_device, torch_threads
from al_core.embeddings.base import Embedder
from al_core.features import Features

#: Texts whose embeddings are kept between fits (a pool of this size costs ~150 MB at 384-d).
EMBEDDING_CACHE_LIMIT = 100_000


def contrastive_pairs(
    y: np.ndarray, num_iterations: int, rng: np.random.Generator, multi_label: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """SetFit's pairs: ``(left, right, target)`` index arrays into ``y``.

    Each iteration gives every item one positive partner (target 1) when one exists and one
    negative partner (target 0) when one exists. Single-label partners are drawn uniformly
    among the other items of the same class / the items of other classes.
    """
    n = len(y)
    if multi_label:
        overlap = (y.astype(np.int32) @ y.astype(np.int32).T) > 0  # labelled items only
        np.fill_diagonal(overlap, False)
        same = overlap
        diff = ~overlap
        np.fill_diagonal(diff, False)
        left, right, target = [], [], []
        for _ in range(num_iterations):
            for mask, value in ((same, 1.0), (diff, 0.0)):
                has = mask.any(axis=1)
                keys = np.where(mask, rng.random((n, n)), -1.0)
                partner = keys.argmax(axis=1)
                left.append(np.flatnonzero(has))
                right.append(partner[has])
                target.append(np.full(int(has.sum()), value))
        return np.concatenate(left), np.concatenate(right), np.concatenate(target)
    order = np.argsort(y, kind="stable")
    sorted_y = y[order]
    classes, starts, counts = np.unique(sorted_y, return_index=True, return_counts=True)
    slot = np.searchsorted(classes, y)
    start, count = starts[slot], counts[slot]
    position = np.empty(n, dtype=np.int64)
    position[order] = np.arange(n) - np.repeat(starts, counts)
    items = np.arange(n)
    left, right, target = [], [], []
    for _ in range(num_iterations):
        has_pos = count >= 2
        shift = 1 + rng.integers(0, np.maximum(count - 1, 1))
        pos = order[start + (position + shift) % count]
        left.append(items[has_pos])
        right.append(pos[has_pos])
        target.append(np.ones(int(has_pos.sum())))
        others = n - count
        has_neg = others >= 1
        r = rng.integers(0, np.maximum(others, 1))
        neg = order[np.where(has_neg, np.where(r < start, r, r + count), 0)]
        left.append(items[has_neg])
        right.append(neg[has_neg])
        target.append(np.zeros(int(has_neg.sum())))
    return np.concatenate(left), np.concatenate(right), np.concatenate(target)


class SetFitClassifier(Classifier):
    """SetFit: contrastively fine-tuned sentence encoder + logistic-regression head."""

    name = "setfit"
    description = "SetFit: contrastive fine-tuning of MiniLM plus a logistic-regression head"
    input_kind: ClassVar[str] = "texts"
    default_embedder: ClassVar[str | None] = None
    supports_multi_label: ClassVar[bool] = True
    supports_warm_start: ClassVar[bool] = True

    def __init__(
        self,
        num_classes: int,
        multi_label: bool = False,
        seed: int | None = None,
        model: str | os.PathLike[str] | None = None,
        num_iterations: int = 20,
        max_pairs: int = 1000,
        epochs: int = 1,
        batch_size: int = 16,
        learning_rate: float = 2e-5,
        max_length: int = 64,
        body_refit_growth: float = 2.0,
        warm_start: bool = True,
        head_C: float = 3.0,
        device: str | None = None,
        mixed_precision: bool = True,
        num_threads: int | None = None,
        inference_batch_size: int = 64,
    ) -> None:
        super().__init__(num_classes, multi_label=multi_label, seed=seed)
        if num_iterations < 1 or max_pairs < 2 or epochs < 1 or batch_size < 2:
            raise ValueError(
                "num_iterations and epochs must be >= 1, max_pairs and batch_size >= 2"
            )
        if body_refit_growth < 1.0:
            raise ValueError(f"body_refit_growth must be >= 1, got {body_refit_growth}")
        self.model = None if model is None else os.fspath(model)
        self.num_iterations = int(num_iterations)
        self.max_pairs = int(max_pairs)
        self.epochs = int(epochs)
        self.batch_size = int(batch_size)
        self.learning_rate = float(learning_rate)
        self.max_length = int(max_length)
        self.body_refit_growth = float(body_refit_growth)
        self.warm_start = bool(warm_start)
        self.head_C = float(head_C)
        self.device = device
        self.mixed_precision = bool(mixed_precision)
        self.num_threads = num_threads
        self.inference_batch_size = int(inference_batch_size)
        self._body: Any = None
        self._tokenizer: Any = None
        self._saved_body: Path | None = None  # a saved model's folder, loaded on first use
        self._device: str | None = None
        self._head: EmbeddingLogRegClassifier | None = None
        self._cache: dict[str, np.ndarray] = {}
        self.body_items_ = 0  # labelled items at the last body fine-tune (0: pretrained body)
        self.body_version_: str | None = None  # a new id per fine-tune; None: pretrained body
        self.fit_count_ = 0
        self._round = 0
        self.train_info_: dict[str, Any] = {}

    # -- protocol ---------------------------------------------------------------------------

    @property
    def is_fitted(self) -> bool:
        return self._head is not None

    def fit(self, X: Features, y: np.ndarray) -> Self:
        self.check_input(X)
        texts = [str(t) for t in X]
        y = check_targets(y, self.num_classes, self.multi_label, len(texts))
        started = time.perf_counter()
        fresh = not self._has_body() or not (self.warm_start and self.is_fitted)
        if fresh:
            self._load_pretrained()
            self.body_items_ = 0
        # A fresh fit draws the same pairs whatever ran before; a warm one moves on.
        self._round = 0 if fresh else self.fit_count_
        due = fresh or len(texts) >= self.body_refit_growth * max(1, self.body_items_)
        info: dict[str, Any] = {"body_trained": False}
        if due:
            steps = self._train_body(texts, y)
            if steps:
                self.body_items_ = len(texts)
                self.body_version_ = uuid.uuid4().hex
                self._cache.clear()
                info = {"body_trained": True, "body_steps": steps}
        head = EmbeddingLogRegClassifier(
            self.num_classes, multi_label=self.multi_label, seed=self.seed, C=self.head_C
        )
        self._head = head.fit(self._embed(texts), y)
        self.fit_count_ += 1
        self.train_info_ = {**info, "seconds": round(time.perf_counter() - started, 3)}
        return self

    def predict_proba(self, X: Features) -> np.ndarray:
        if self._head is None:
            raise NotFittedError("SetFitClassifier is not fitted: call fit(texts, y) first")
        self.check_input(X)
        return self._head.predict_proba(self._embed([str(t) for t in X]))

    def embed(self, X: Features) -> np.ndarray:
        """L2-normalised sentence embeddings from the current (fine-tuned) body."""
        if not self._has_body():
            raise NotFittedError("SetFitClassifier is not fitted: call fit(texts, y) first")
        self.check_input(X)
        return self._embed([str(t) for t in X])

    def text_encoder(self) -> BodyEncoder | None:
        """The fine-tuned body as a cacheable embedder whose ``model_id`` names this body's
        version (its vectors change with every fine-tune); None for a pretrained body."""
        if not self._has_body() or self.body_version_ is None:
            return None
        return BodyEncoder(self)

    def remember(self, texts: list[str], vectors: np.ndarray) -> None:
        """Take ``vectors`` as the current body's embeddings of ``texts`` (from a cache that
        :meth:`text_encoder` filled), so :meth:`predict_proba` and a head-only :meth:`fit` do
        not encode them again. A later body fine-tune forgets them."""
        if len(texts) != len(vectors):
            raise ValueError(f"got {len(texts)} texts but {len(vectors)} vectors")
        self._cache.update(zip(map(str, texts), np.asarray(vectors, dtype=np.float32), strict=True))

    # -- body -------------------------------------------------------------------------------

    def _has_body(self) -> bool:
        return self._body is not None or self._saved_body is not None

    def _ensure_body(self) -> None:
        """Load the body and tokenizer of a saved model, deferred until a text must be encoded
        or the body trained: a head-only refit, or predictions on texts whose vectors were
        handed over with :meth:`remember`, never import transformers or read the weights."""
        if self._body is not None or self._saved_body is None:
            return
        directory = self._saved_body
        if not (directory / "body" / "model.safetensors").is_file():
            raise FileNotFoundError(
                f"the SetFit body of this model was to be read from {directory}, which no "
                "longer holds it (the model folder was moved or pruned)"
            )
        self._tokenizer = load_tokenizer(directory / "tokenizer")
        body = model_from_saved_config(directory / "body", sequence_classification=False)
        self._body = load_torch_module(body, directory / "body" / "model.safetensors")
        self._body.to(self._pick_device()).eval()
        self._saved_body = None

    def _load_pretrained(self) -> None:
        folder = resolve_model_dir(self.model)
        self._tokenizer = load_tokenizer(folder)
        self._body = load_pretrained(folder).to(self._pick_device())
        self._body.eval()
        self._saved_body = None
        self.body_version_ = None
        self._cache.clear()

    def _train_body(self, texts: list[str], y: np.ndarray) -> int:
        """One contrastive fine-tune of the body on pairs of the labelled texts; returns steps."""
        import torch

        rng = np.random.default_rng(derive_seed(self.seed, self._round, 2))
        left, right, target = contrastive_pairs(y, self.num_iterations, rng, self.multi_label)
        if len(np.unique(target)) < 2:
            return 0  # one class only: nothing to contrast
        if len(left) > self.max_pairs:
            keep = rng.choice(len(left), size=self.max_pairs, replace=False)
            left, right, target = left[keep], right[keep], target[keep]
        self._ensure_body()
        body, device = self._body, self._pick_device()
        optimizer = torch.optim.AdamW(body.parameters(), lr=self.learning_rate, weight_decay=0.01)
        steps_per_epoch = math.ceil(len(left) / self.batch_size)
        total = self.epochs * steps_per_epoch
        warmup = max(1, int(0.1 * total))
        scheduler = torch.optim.lr_scheduler.LambdaLR(
            optimizer,
            lambda s: min((s + 1) / warmup, max(0.0, (total - s) / max(1, total - warmup))),
        )
        targets = torch.tensor(target, dtype=torch.float32, device=device)
        fp16 = (
            device.startswith("cuda") and self.mixed_precision and autocast_dtype() == torch.float16
        )
        scaler = torch.amp.GradScaler("cuda", enabled=fp16)  # bf16 and CPU need no scaling
        steps = 0
        with torch_threads(self.num_threads), self._rng(self._round):
            body.train()
            for _ in range(self.epochs):
                order = rng.permutation(len(left))
                for start in range(0, len(order), self.batch_size):
                    rows = order[start : start + self.batch_size]
                    batch = self._tokenize(
                        [texts[i] for i in left[rows]] + [texts[i] for i in right[rows]]
                    )
                    with autocast(device, self.mixed_precision):
                        pooled = self._pool(body(**batch).last_hidden_state, batch)
                    u, v = pooled.float().split(len(rows))
                    cos = torch.nn.functional.cosine_similarity(u, v)
                    loss = torch.nn.functional.mse_loss(cos, targets[rows])
                    optimizer.zero_grad(set_to_none=True)
                    scaler.scale(loss).backward()
                    scaler.unscale_(optimizer)
                    torch.nn.utils.clip_grad_norm_(body.parameters(), 1.0)
                    scaler.step(optimizer)
                    scaler.update()
                    scheduler.step()
                    steps += 1
            body.eval()
        return steps

    def _embed(self, texts: list[str]) -> np.ndarray:
        """Normalised embeddings; each distinct text is encoded once per body version."""
        missing = list(dict.fromkeys(t for t in texts if t not in self._cache))
        if missing:
            import torch

            self._ensure_body()
            missing.sort(key=len)
            with torch_threads(self.num_threads), torch.no_grad():
                for start in range(0, len(missing), self.inference_batch_size):
                    part = missing[start : start + self.inference_batch_size]
                    batch = self._tokenize(part)
                    with autocast(self._pick_device(), self.mixed_precision):
                        pooled = self._pool(self._body(**batch).last_hidden_state, batch)
                    vectors = torch.nn.functional.normalize(pooled.float(), dim=1).cpu().numpy()
                    self._cache.update(zip(part, vectors, strict=True))
        if texts:
            out = np.stack([self._cache[t] for t in texts])
        else:
            self._ensure_body()
            out = np.zeros((0, int(self._body.config.hidden_size)))
        if len(self._cache) > EMBEDDING_CACHE_LIMIT:
            self._cache.clear()
        return out.astype(np.float32)

    @staticmethod
    def _pool(hidden: Any, batch: dict[str, Any]) -> Any:
        weights = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        return (hidden * weights).sum(1) / weights.sum(1).clamp(min=1.0)

    def _tokenize(self, texts: list[str]) -> dict[str, Any]:
        enc = self._tokenizer(
            texts, padding=True, truncation=True, max_length=self.max_length, return_tensors="pt"
        )
        return {k: enc[k].to(self._pick_device()) for k in ("input_ids", "attention_mask")}

    def _pick_device(self) -> str:
        if self._device is None:
            self._device = pick_device(self.device)
        return self._device

    def _rng(self, counter: int) -> Any:
        import contextlib

        import torch

        devices = [torch.cuda.current_device()] if self._pick_device().startswith("cuda") else []

        @contextlib.contextmanager
        def ctx():
            with torch.random.fork_rng(devices=devices):
                torch.manual_seed(derive_seed(self.seed, counter))
                yield

        return ctx()

    # -- persistence ------------------------------------------------------------------------

    def _save_state(self, directory: Path) -> dict[str, Any]:
        if self._body is None and self._saved_body is not None:  # unchanged since loaded
            import shutil

            for part in ("tokenizer", "body"):
                shutil.copytree(self._saved_body / part, directory / part, dirs_exist_ok=True)
        else:
            self._tokenizer.save_pretrained(str(directory / "tokenizer"))
            (directory / "body").mkdir(parents=True, exist_ok=True)
            self._body.config.to_json_file(str(directory / "body" / "config.json"))
            save_torch_module(self._body, directory / "body" / "model.safetensors")
        self._head.save(directory / "head")
        return {
            "body_items": self.body_items_,
            "body_version": self.body_version_,
            "fit_count": self.fit_count_,
            "train_info": self.train_info_,
        }

    def _load_state(self, directory: Path, state: dict[str, Any]) -> None:
        self._body = self._tokenizer = None
        self._saved_body = Path(directory).resolve()  # read by _ensure_body when needed
        head = Classifier.load(directory / "head")
        if not isinstance(head, EmbeddingLogRegClassifier):
            raise TypeError(f"{directory / 'head'} does not hold an embedding-logreg head")
        self._head = head
        self.body_items_ = int(state.get("body_items", 0))
        self.body_version_ = state.get("body_version")  # absent in models saved before it
        self.fit_count_ = int(state.get("fit_count", 0))
        self.train_info_ = dict(state.get("train_info") or {})


def body_cache_id(body_version: str) -> str:
    """The embedding cache's model id for the vectors of the body fine-tune ``body_version``."""
    return f"{BodyEncoder.name}-{body_version}"


class BodyEncoder(Embedder):
    """A fine-tuned SetFit body seen as a cacheable embedder: the embedding cache keys vectors
    by ``model_id``, which names the body's version."""

    name: ClassVar[str] = "setfit-body"
    description: ClassVar[str] = "the body of a fine-tuned SetFit classifier"
    cacheable: ClassVar[bool] = True

    def __init__(self, classifier: SetFitClassifier) -> None:
        self.classifier = classifier
        self._model_id = body_cache_id(classifier.body_version_)

    @property
    def model_id(self) -> str:
        return self._model_id

    def transform(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        return self.classifier.embed(list(texts))
