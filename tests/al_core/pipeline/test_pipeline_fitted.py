"""TF-IDF is fitted once per version of the pool, and the kept fit equals a refit."""

from __future__ import annotations

import numpy as np

from al_core.embeddings import TfidfEmbedder
from al_core.ingest import ingest_file
from al_core.pipeline.fitted import fitted_embedder


def test_fitted_once_per_pool_version(pool_ws, tmp_path, monkeypatch):
    calls = []
    real_fit = TfidfEmbedder.fit

    def counting_fit(self, texts):
        calls.append(len(texts))
        return real_fit(self, texts)

    monkeypatch.setattr(TfidfEmbedder, "fit", counting_fit)
    first = fitted_embedder(pool_ws, "tfidf")
    again = fitted_embedder(pool_ws, "tfidf")
    assert calls == [60]  # the 60 training-pool texts (never the 9 eval ones), fitted once
    texts = pool_ws.query("SELECT text FROM pool WHERE role = 'pool' ORDER BY id").text.tolist()
    fresh = real_fit(TfidfEmbedder(), texts)
    assert (again.transform(texts) != fresh.transform(texts)).nnz == 0
    assert np.array_equal(
        first.transform(texts[:3]).toarray(), fresh.transform(texts[:3]).toarray()
    )

    (tmp_path / "more.csv").write_text("id,text\nx1,an entirely new word zyzzyva\n")
    ingest_file(pool_ws, tmp_path / "more.csv")
    newer = fitted_embedder(pool_ws, "tfidf")
    assert calls == [60, 61]
    assert newer.transform(["zyzzyva"]).nnz == 1 and fresh.transform(["zyzzyva"]).nnz == 0
    kept = list((pool_ws.path / "models" / "fitted").glob("tfidf-pool-v*"))
    assert len(kept) == 1 and kept[0].is_dir()  # the older pool version's fit is gone
    assert not list(kept[0].rglob("*.pkl"))  # kept without pickle
