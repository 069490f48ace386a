"""``alflow list KIND``: the registered plug-ins, as JSON or a table (in-process, CliRunner)."""

import json

import pytest
from typer.testing import CliRunner

from flows.cli import app

pytestmark = pytest.mark.e2e

runner = CliRunner()


def list_json(kind):
    result = runner.invoke(app, ["list", kind, "--json"])
    assert result.exit_code == 0, result.output
    return {row["name"]: row for row in json.loads(result.stdout)}


def test_strategies():
    rows = list_json("strategies")
    for name in ("random", "least-confidence", "prediction-entropy", "breaking-ties"):
        assert {"name", "description", "needs", "label_types"} <= set(rows[name])
        assert rows[name]["description"]
    assert rows["random"]["needs"] == []
    assert rows["least-confidence"]["needs"] == ["probabilities"]
    assert "single" in rows["least-confidence"]["label_types"]


def test_classifiers_embedders_stopping_initializers():
    classifiers = list_json("classifiers")
    assert {"logreg", "svm", "embedding-logreg"} <= set(classifiers)
    assert classifiers["embedding-logreg"]["default_embedder"] == "minilm"
    embedders = list_json("embedders")
    assert {"tfidf", "minilm"} <= set(embedders)
    assert embedders["minilm"]["cacheable"] is True and embedders["tfidf"]["cacheable"] is False
    assert {"max-iterations", "kappa-average"} <= set(list_json("stopping"))
    initializers = list_json("initializers")
    assert {"random", "stratified"} <= set(initializers)
    assert all("needs_labels" in row for row in initializers.values())
    assert list_json("queues")


def test_table_output_and_singular_alias():
    result = runner.invoke(app, ["list", "strategy"], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "alflow strategies" in result.stdout
    for name in ("random", "least-confidence", "prediction-entropy", "breaking-ties"):
        assert name in result.stdout


def test_unknown_kind_is_a_one_line_error():
    result = runner.invoke(app, ["list", "widgets"])
    assert result.exit_code == 1
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "unknown kind 'widgets'" in lines[0]
    assert "strategies, classifiers, embedders" in lines[0]
