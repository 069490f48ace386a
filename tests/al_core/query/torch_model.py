"""A tiny real torch classifier with every optional capability, for the gradient and MC-dropout
strategies (the project's own torch classifiers live on another branch).

Each of the ``d`` input features is a "word": its input embedding is ``x_j * E_j``; the item
representation is the mean of ``tanh`` of those, then a hidden layer with dropout and a linear
``classifier`` head. It implements ``predict_proba``, ``embed`` (the head's input),
``predict_proba_mc`` (dropout active, seeded) and ``gradient_norms`` for the scopes ``"all"``,
``"embedding-max-word"`` and a parameter-name prefix, with per-item gradients from
``torch.func`` (no loop over items).
"""

from __future__ import annotations

from typing import Self

import numpy as np


class TinyTorchClassifier:
    def __init__(self, num_classes: int, multi_label: bool = False, seed: int | None = 0) -> None:
        import torch

        self.num_classes, self.seed = int(num_classes), seed
        self.torch = torch
        self.model = None

    def _build(self, d: int):
        torch = self.torch
        nn = torch.nn

        class Net(nn.Module):
            def __init__(self, d: int, h: int, c: int) -> None:
                super().__init__()
                self.embedding = nn.Parameter(torch.randn(d, h))
                self.hidden = nn.Linear(h, h)
                self.dropout = nn.Dropout(0.3)
                self.classifier = nn.Linear(h, c)

            def words(self, x):
                return x[:, :, None] * self.embedding[None]  # (n, d, h) input embeddings

            def rep(self, words):
                return self.dropout(torch.relu(self.hidden(torch.tanh(words).mean(dim=1))))

            def forward(self, x):
                return self.classifier(self.rep(self.words(x)))

        torch.manual_seed(0 if self.seed is None else self.seed)
        return Net(d, 8, self.num_classes)

    def _tensor(self, X):
        return self.torch.as_tensor(np.array(X, dtype=np.float32) / self.scale)

    def fit(self, X: np.ndarray, y: np.ndarray) -> Self:
        torch = self.torch
        self.scale = float(np.abs(np.asarray(X)).max()) or 1.0
        x, t = self._tensor(X), torch.as_tensor(np.array(y, dtype=np.int64))
        self.model = self._build(x.shape[1])
        opt = torch.optim.Adam(self.model.parameters(), lr=0.02)
        self.model.train()
        for _ in range(25):
            opt.zero_grad()
            torch.nn.functional.cross_entropy(self.model(x), t).backward()
            opt.step()
        self.model.eval()
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        with self.torch.no_grad():
            return self.torch.softmax(self.model(self._tensor(X)), dim=1).double().numpy()

    def predict(self, X: np.ndarray) -> np.ndarray:
        return self.predict_proba(X).argmax(axis=1)

    def embed(self, X: np.ndarray) -> np.ndarray:
        with self.torch.no_grad():
            return self.model.rep(self.model.words(self._tensor(X))).numpy().astype(np.float32)

    def predict_proba_mc(self, X: np.ndarray, n_samples: int = 10, seed: int | None = None):
        torch = self.torch
        x = self._tensor(X)
        with torch.random.fork_rng(), torch.no_grad():
            torch.manual_seed(0 if seed is None else seed)
            self.model.train()
            try:
                out = torch.stack([torch.softmax(self.model(x), dim=1) for _ in range(n_samples)])
            finally:
                self.model.eval()
        return out.double().numpy()

    def gradient_norms(self, X: np.ndarray, scope: str = "all") -> np.ndarray:
        torch = self.torch
        from torch.func import functional_call, grad, vmap

        x = self._tensor(X)
        cols = []
        if scope == "embedding-max-word":
            words = self.model.words(x).detach().requires_grad_(True)
            for c in range(self.num_classes):
                target = torch.full((len(x),), c, dtype=torch.int64)
                logits = self.model.classifier(self.model.rep(words))
                loss = torch.nn.functional.cross_entropy(logits, target, reduction="sum")
                (g,) = torch.autograd.grad(loss, words)
                cols.append(g.norm(dim=2).max(dim=1).values)
            return torch.stack(cols, dim=1).double().numpy()
        params = {k: v.detach() for k, v in self.model.named_parameters()}
        chosen = [k for k in params if scope == "all" or k.startswith(scope)]
        if not chosen:
            raise ValueError(f"no parameter name starts with {scope!r}")

        def loss(p, xi, ci):
            logits = functional_call(self.model, p, (xi[None],))
            return torch.nn.functional.cross_entropy(logits, ci[None])

        per_item = vmap(grad(loss), in_dims=(None, 0, 0))
        for c in range(self.num_classes):
            g = per_item(params, x, torch.full((len(x),), c, dtype=torch.int64))
            sq = sum(g[k].reshape(len(x), -1).pow(2).sum(dim=1) for k in chosen)
            cols.append(sq.sqrt())
        return torch.stack(cols, dim=1).double().detach().numpy()
