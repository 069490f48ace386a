import pytest

from al_core.errors import ConfigError
from al_core.registry import (
    KINDS,
    describe,
    make_classifier,
    make_embedder,
    make_stopping,
    make_strategy,
    resolve_embedder_name,
)


@pytest.mark.parametrize("kind", KINDS)
def test_every_entry_is_described(kind):
    rows = describe(kind)
    assert rows and all(r["name"] and r["description"] for r in rows)
    assert all(r["name"] == r["name"].lower() and " " not in r["name"] for r in rows)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: make_strategy("nope"), "unknown strategy 'nope'; choose one of random"),
        (lambda: make_classifier("nope", 2), "unknown classifier 'nope'"),
        (lambda: make_embedder("nope"), "unknown embedder 'nope'"),
        (lambda: make_stopping("nope", num_classes=2), "unknown stopping criterion 'nope'"),
        (lambda: describe("widgets"), "unknown kind 'widgets'"),
    ],
)
def test_unknown_names_say_what_exists(make, message):
    with pytest.raises(ConfigError, match=message):
        make()


def test_defaults_and_construction():
    assert resolve_embedder_name("embedding-logreg", None) == "minilm"
    assert resolve_embedder_name("logreg", None) == "tfidf"
    assert resolve_embedder_name("logreg", "minilm") == "minilm"
    clf = make_classifier("logreg", 3, multi_label=True, seed=1)
    assert (clf.num_classes, clf.multi_label, clf.seed) == (3, True, 1)
    assert make_stopping("max-iterations", num_classes=3, max_iterations=7).max_iterations == 7


def test_a_local_model_folder_is_a_sentence_embedder(tmp_path):
    emb = make_embedder(str(tmp_path))
    assert emb.cacheable and emb.model == str(tmp_path)
