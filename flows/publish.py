"""What the Prefect UI shows of the loop: run names, tags and one set of artifacts per workspace.

* The flow run is named ``<workspace>-iteration-<N>`` and tagged ``alflow``,
  ``workspace:<workspace>``, ``iteration:<N>`` and ``mode:<initial|train|skip>``, so the runs
  of one workspace can be filtered in the UI.
* Artifact keys start with the workspace's key (:func:`workspace_key`: its folder name and a
  hash of its full URI), so two workspaces on one server never overwrite each other's.
* Each run publishes ``<key>-learning-curve`` (a table: labels, accuracy and macro-F1 of every
  trained iteration so far), ``<key>-label-budget`` (a progress bar: labelled items against the
  budget ``batch_size x (max_iterations + 1)``, the most the loop asks for) and
  ``<key>-iteration`` (markdown: this run, then the last trained iteration's class balance,
  batch and each stopping criterion with its reason). All three are built from the workspace's
  tables, so a skipped or failed run shows the last trained iteration's figures instead of
  hiding them.
"""

from __future__ import annotations

from typing import Any

from al_core.pipeline.export import workspace_key
from al_core.storage import ActiveLearningSettings, Workspace


def label_flow_run(ws: Workspace, iteration: int, mode: str) -> None:
    """Rename the current flow run after its workspace and iteration, and tag it so."""
    from prefect import get_client
    from prefect.runtime import flow_run

    run_id = flow_run.get_id()
    if run_id is None:
        return
    key = workspace_key(ws.uri)
    tags = [
        *(
            t
            for t in flow_run.get_tags()
            if not t.startswith(("workspace:", "iteration:", "mode:"))
        ),
        "alflow",
        f"workspace:{key}",
        f"iteration:{iteration}",
        f"mode:{mode}",
    ]
    with get_client(sync_client=True) as client:
        client.update_flow_run(run_id, name=f"{key}-iteration-{iteration}", tags=sorted(set(tags)))


def learning_curve(ws: Workspace) -> list[dict[str, Any]]:
    """One row per trained iteration: labels, accuracy and macro-F1 (oldest first)."""
    df = ws.query(
        """SELECT iteration, n_labeled AS labels, accuracy, macro_f1, status, batch_id
        FROM iterations WHERE status IN ('completed', 'stopped') ORDER BY iteration"""
    )
    rows = []
    for r in df.itertuples():
        rows.append(
            {
                "iteration": int(r.iteration),
                "labels": int(r.labels),
                "accuracy": None if r.accuracy != r.accuracy else round(float(r.accuracy), 4),
                "macro_f1": None if r.macro_f1 != r.macro_f1 else round(float(r.macro_f1), 4),
                "status": r.status,
                "batch": r.batch_id,
            }
        )
    return rows


def label_budget(ws: Workspace, settings: ActiveLearningSettings) -> tuple[int, int]:
    """(labelled pool items, the budget: batch_size x (max_iterations + 1), at most the pool)."""
    labelled = int(
        ws.scalar(
            "SELECT count(*) FROM current_labels JOIN pool USING (id) WHERE pool.role = 'pool'"
        )
    )
    pool = int(ws.scalar("SELECT count(*) FROM pool WHERE role = 'pool'"))
    budget = min(settings.batch_size * (settings.max_iterations + 1), pool)
    return labelled, max(budget, 1)


def iteration_markdown(ws: Workspace, summary: dict[str, Any]) -> str:
    """This run in a few lines, then the last trained iteration's figures."""
    lines = [
        f"# {workspace_key(ws.uri)}: iteration {summary['iteration']} {summary['status']}",
        "",
        f"* workspace: `{ws.uri}`",
        f"* {summary['message']}",
    ]
    if summary.get("batch"):
        lines.append(f"* exported {summary['n_queried']} items to `{summary['batch']}`")
    for reason, ids in (summary.get("withdrawn") or {}).items():
        lines.append(f"* withdrew {len(ids)} unanswered items from the queue: {reason}")
    last = ws.query(
        """SELECT * FROM iterations WHERE status IN ('completed', 'stopped')
        ORDER BY iteration DESC LIMIT 1"""
    )
    if last.empty:
        lines += ["", "No model trained yet."]
        return "\n".join(lines) + "\n"
    it = last.iloc[0]
    lines += ["", f"## Last trained iteration: {int(it.iteration)} ({it.status})", ""]
    lines.append(f"* labelled items: {int(it.n_labeled)} ({int(it.n_new_labels)} new)")
    if it.accuracy == it.accuracy and it.accuracy is not None:
        lines.append(f"* accuracy {it.accuracy:.3f}, macro-F1 {it.macro_f1:.3f}")
    lines.append(f"* model: `{it.model_version}`")
    lines.append(f"* batch exported: {it.batch_id or 'none'}")
    balance = ws.query(
        """SELECT label, count(*) AS n FROM (
            SELECT unnest(c.labels) AS label FROM current_labels c JOIN pool p USING (id)
            WHERE p.role = 'pool') GROUP BY label ORDER BY label"""
    )
    total = int(balance.n.sum()) if len(balance) else 0
    lines += [
        "",
        "### Class balance (current labels)",
        "",
        "| label | items | share |",
        "|---|---:|---:|",
    ]
    for r in balance.itertuples():
        lines.append(f"| {r.label} | {int(r.n)} | {r.n / max(total, 1):.1%} |")
    stopping = ws.query(
        "SELECT criterion, value, stop, reason FROM stopping WHERE iteration = ? ORDER BY criterion",
        [int(it.iteration)],
    )
    lines += [
        "",
        "### Stopping criteria",
        "",
        "| criterion | value | stop | why |",
        "|---|---:|---|---|",
    ]
    for r in stopping.itertuples():
        value = "-" if r.value is None or r.value != r.value else f"{r.value:.4g}"
        lines.append(f"| {r.criterion} | {value} | {'yes' if r.stop else 'no'} | {r.reason} |")
    if stopping.empty:
        lines.append("| (none checked) | - | no | - |")
    return "\n".join(lines) + "\n"


def publish_iteration(
    ws: Workspace, summary: dict[str, Any], settings: ActiveLearningSettings
) -> dict[str, str]:
    """Create this run's three artifacts; returns their keys."""
    from prefect.artifacts import (
        create_markdown_artifact,
        create_progress_artifact,
        create_table_artifact,
    )

    key = workspace_key(ws.uri)
    keys = {
        "curve": f"{key}-learning-curve",
        "budget": f"{key}-label-budget",
        "iteration": f"{key}-iteration",
    }
    curve = learning_curve(ws)
    create_table_artifact(
        key=keys["curve"],
        table=curve or [{"iteration": None, "labels": 0, "accuracy": None, "macro_f1": None}],
        description=f"learning curve of {ws.uri}: every trained iteration so far",
    )
    labelled, budget = label_budget(ws, settings)
    create_progress_artifact(
        progress=round(min(100.0, 100.0 * labelled / budget), 1),
        key=keys["budget"],
        description=(
            f"{labelled} of {budget} labels (batch_size {settings.batch_size} x "
            f"(max_iterations {settings.max_iterations} + 1)) in {ws.uri}"
        ),
    )
    create_markdown_artifact(
        key=keys["iteration"],
        markdown=iteration_markdown(ws, summary),
        description=f"the latest alflow run on {ws.uri}",
    )
    return keys


def publish_failure(ws: Workspace, iteration: int | None, message: str) -> None:
    """The ``<key>-iteration`` markdown of a failed run (with the last trained figures)."""
    from prefect.artifacts import create_markdown_artifact

    summary = {"iteration": iteration or "-", "status": "failed", "message": message}
    create_markdown_artifact(
        key=f"{workspace_key(ws.uri)}-iteration",
        markdown=iteration_markdown(ws, summary),
        description=f"the latest alflow run on {ws.uri}",
    )
