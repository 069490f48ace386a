"""The torch classifiers' capabilities, checked against computations done by hand.

Gradient norms are compared with one backward pass per item and label (the definition) and,
for the output layer, with the closed form ``||p - e_c|| * sqrt(||h||^2 + 1)`` of a linear
softmax layer ``W h + b`` (gradient ``(p - e_c) h^T`` for ``W`` and ``p - e_c`` for ``b``).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from al_core.classifiers import KimCNNClassifier, TransformerClassifier

TEXTS = ["what is the capital of france", "who wrote hamlet", "how far is the moon ?"]


@pytest.fixture(scope="module")
def transformer(tiny_model_dir, trec_small):
    clf = TransformerClassifier(
        6,
        seed=0,
        model=str(tiny_model_dir),
        num_threads=1,
        epochs=2,
        min_steps=8,
        learning_rate=1e-3,
    )
    return clf.fit(trec_small["train_texts"], trec_small["train_y"])


@pytest.fixture(scope="module")
def kimcnn(tiny_model_dir, trec_small):
    clf = KimCNNClassifier(
        6, seed=0, model=str(tiny_model_dir), num_threads=1, epochs=2, min_steps=8, num_filters=8
    )
    return clf.fit(trec_small["train_texts"], trec_small["train_y"])


def per_item_gradient_norm(clf, text: str, c: int, prefix: str = "") -> float:
    """The definition: one backward pass of item ``text`` under label ``c``."""
    module = clf._module
    module.eval()
    module.zero_grad()
    batch = clf._tokenize([text])
    logits, _ = clf._forward(batch)
    loss = -torch.log_softmax(logits.float(), dim=-1)[0, c]
    loss.backward()
    sq = sum(
        float((p.grad**2).sum())
        for n, p in module.named_parameters()
        if p.grad is not None and n.startswith(prefix)
    )
    module.zero_grad()
    return float(np.sqrt(sq))


@pytest.mark.parametrize("name", ["transformer", "kimcnn"])
def test_gradient_norms_all_match_one_backward_pass_per_item(name, request):
    clf = request.getfixturevalue(name)
    got = clf.gradient_norms(TEXTS, scope="all")
    assert got.shape == (3, 6)
    expected = [[per_item_gradient_norm(clf, t, c) for c in range(6)] for t in TEXTS]
    np.testing.assert_allclose(got, expected, rtol=1e-4)


def test_output_layer_gradient_norm_matches_the_closed_form(transformer, kimcnn):
    for clf, prefix in ((transformer, "classifier"), (kimcnn, "output")):
        batch = clf._tokenize(TEXTS)
        with torch.no_grad():
            if clf is transformer:
                h = clf._module.bert(**batch).pooler_output.double().numpy()
            else:
                h = clf._forward(batch)[1].double().numpy()
        p = clf.predict_proba(TEXTS)
        expected = np.stack(
            [
                np.linalg.norm(p - np.eye(6)[c], axis=1) * np.sqrt((h**2).sum(axis=1) + 1)
                for c in range(6)
            ],
            axis=1,
        )
        np.testing.assert_allclose(clf.gradient_norms(TEXTS, scope=prefix), expected, rtol=1e-4)


def test_embedding_max_word_is_the_largest_token_gradient(transformer):
    got = transformer.gradient_norms(TEXTS, scope="embedding-max-word")
    module = transformer._module
    for i, text in enumerate(TEXTS):
        batch = transformer._tokenize([text])
        embeds = module.get_input_embeddings()(batch["input_ids"]).detach().requires_grad_(True)
        for c in range(6):
            logits, _ = transformer._forward(batch, inputs_embeds=embeds)
            loss = -torch.log_softmax(logits.float(), dim=-1)[0, c]
            (grad,) = torch.autograd.grad(loss, embeds)
            assert got[i, c] == pytest.approx(float(grad[0].norm(dim=-1).max()), rel=1e-4)


def test_an_unknown_gradient_scope_names_the_choices(transformer):
    with pytest.raises(ValueError, match="'bert', 'classifier'"):
        transformer.gradient_norms(TEXTS, scope="decoder")


def test_mc_dropout_samples_differ_and_repeat_under_a_seed(transformer):
    a = transformer.predict_proba_mc(TEXTS, n_samples=5, seed=1)
    assert a.shape == (5, 3, 6)
    np.testing.assert_allclose(a.sum(axis=2), 1.0)
    assert not np.allclose(a[0], a[1])  # dropout is active
    np.testing.assert_array_equal(a, transformer.predict_proba_mc(TEXTS, n_samples=5, seed=1))
    assert not np.allclose(a, transformer.predict_proba_mc(TEXTS, n_samples=5, seed=2))
    # Inference outside MC sampling stays deterministic (dropout off again).
    np.testing.assert_array_equal(
        transformer.predict_proba(TEXTS), transformer.predict_proba(TEXTS)
    )


def test_embed_is_the_masked_mean_of_the_last_hidden_states(transformer):
    batch = transformer._tokenize(TEXTS)
    with torch.no_grad():
        hidden = transformer._module.bert(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).float()
    expected = ((hidden * mask).sum(1) / mask.sum(1)).numpy()
    got = transformer.embed(TEXTS)
    assert got.dtype == np.float32 and got.shape == (3, 32)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_kimcnn_pads_texts_shorter_than_its_widest_filter(kimcnn):
    proba = kimcnn.predict_proba(["hi", "?"])
    assert proba.shape == (2, 6)
    assert kimcnn._tokenize(["hi"])["input_ids"].shape[1] >= 5


def test_warm_start_continues_from_the_fitted_weights(tiny_model_dir, trec_small):
    X, y = trec_small["train_texts"], trec_small["train_y"]

    def make(warm):
        return TransformerClassifier(
            6,
            seed=0,
            model=str(tiny_model_dir),
            num_threads=1,
            epochs=1,
            min_steps=4,
            learning_rate=1e-3,
            warm_start=warm,
        )

    once = make(False).fit(X, y).predict_proba(TEXTS)
    cold = make(False).fit(X, y)
    cold.fit(X, y)  # a cold refit starts again from the pretrained weights: same result
    np.testing.assert_allclose(cold.predict_proba(TEXTS), once, atol=1e-6)
    warm = make(True).fit(X, y)
    warm.fit(X, y)  # a warm refit trains on: different weights
    assert warm.fit_count_ == 2 and warm.wants_reuse and not cold.wants_reuse
    assert not np.allclose(warm.predict_proba(TEXTS), once, atol=1e-4)


def test_early_stopping_keeps_no_epoch_before_min_steps(tiny_model_dir, trec_small):
    # Shuffled labels: the validation loss rises from the first epoch on, so early stopping
    # that counted every epoch stopped after two and kept the first (an all-but-untrained model).
    X = trec_small["train_texts"]
    y = np.random.default_rng(0).permutation(trec_small["train_y"])
    clf = TransformerClassifier(
        6,
        seed=0,
        model=str(tiny_model_dir),
        num_threads=1,
        epochs=2,
        batch_size=16,
        min_steps=40,
        patience=1,
        learning_rate=1e-3,
    ).fit(X, y)
    info = clf.train_info_
    steps_per_epoch = -(-info["train_items"] // 16)
    assert info["validation_items"] == 12 and steps_per_epoch == 7
    assert info["steps"] >= 40
    assert info["best_epoch"] * steps_per_epoch >= 40
