"""``alflow connect``, ``alflow serve`` and ``alflow disagreements`` (the production loop)."""

from __future__ import annotations

import dataclasses
from typing import Annotated

import typer

from flows.cli import app, err, out, print_json, user_errors

WORKSPACE_ARG = typer.Argument(help="An existing workspace (folder or URL).")


def _secret(name: str) -> str:
    """A Prefect Secret block's value (imports Prefect only when a block is really read)."""
    from tasks.common import prefect_secret

    return prefect_secret(name)


@app.command()
@user_errors
def connect(
    workspace: Annotated[str, WORKSPACE_ARG],
    label_studio: Annotated[
        str | None,
        typer.Option(help="Label Studio's URL, e.g. http://127.0.0.1:8080 (omit with --file)."),
    ] = None,
    project_id: Annotated[
        int | None, typer.Option(help="Use this existing project instead of creating one.")
    ] = None,
    title: Annotated[
        str | None, typer.Option(help="Title of the project to create (default: alflow: NAME).")
    ] = None,
    token_env: Annotated[
        str, typer.Option(help="Environment variable holding the API token.")
    ] = "LABEL_STUDIO_API_KEY",
    token_block: Annotated[
        str | None,
        typer.Option(help="Prefect Secret block with the token, used when the variable is unset."),
    ] = None,
    file: Annotated[
        bool, typer.Option("--file", help="Go back to the file queue (queue/inbox, outbox).")
    ] = False,
    check: Annotated[
        bool, typer.Option(help="Reach the server now and create or find the project.")
    ] = True,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for each request.")] = 30.0,
    retries: Annotated[
        int, typer.Option(help="Retries (with back-off) when the server is down or busy.")
    ] = 4,
) -> None:
    """Choose where batches go: a Label Studio server (through its API) or the file queue.

    The token itself is never stored: only the name of the variable or Secret block.
    """
    from al_core.pipeline import queue_for
    from al_core.storage import QueueSettings, Workspace

    ws = Workspace.open(workspace)
    if file == bool(label_studio):
        raise ValueError("give either --label-studio URL or --file")
    with ws.run_lock("connecting the annotation queue"):
        if file:
            ws.config.queue = QueueSettings()
            ws.save_config()
            out.print(f"{ws.uri}: batches go to the file queue ({ws.uri}/queue)", highlight=False)
            return
        ws.config.queue = QueueSettings(
            kind="label-studio",
            url=label_studio.rstrip("/"),
            project_id=project_id,
            project_title=title,
            token_env=token_env,
            token_block=token_block,
            timeout_s=timeout,
            retries=retries,
        )
        if check:
            queue = queue_for(ws, _secret)
            ws.config.queue = dataclasses.replace(
                ws.config.queue, project_id=queue.ensure_project()
            )
        ws.save_config()
    q = ws.config.queue
    where = f"project {q.project_id}" if q.project_id is not None else "a project (on first use)"
    out.print(
        f"{ws.uri}: batches go to Label Studio at {q.url}, {where}; token from ${q.token_env}"
        + (f" or the Prefect Secret block {q.token_block!r}" if q.token_block else ""),
        highlight=False,
    )


@app.command()
@user_errors
def serve(
    workspace: Annotated[str, WORKSPACE_ARG],
    cron: Annotated[
        str | None, typer.Option(help="Cron schedule of iterations (UTC), e.g. '*/30 * * * *'.")
    ] = None,
    interval: Annotated[float | None, typer.Option(help="Or: seconds between iterations.")] = None,
    watch: Annotated[
        str | None, typer.Option(help="Also ingest files dropped in this folder.")
    ] = None,
    watch_interval: Annotated[float, typer.Option(help="Seconds between folder checks.")] = 60.0,
    strategy: Annotated[str | None, typer.Option(help="Query strategy override.")] = None,
    classifier: Annotated[str | None, typer.Option(help="Classifier override.")] = None,
    batch_size: Annotated[int | None, typer.Option(help="Items per batch override.")] = None,
    min_new_labels: Annotated[int | None, typer.Option(help="Retrain threshold override.")] = None,
) -> None:
    """Run the workspace's iterations on a schedule from this process (until Ctrl-C).

    Registers a Prefect deployment per flow (named after the workspace, with its absolute
    path) on the server in PREFECT_API_URL and runs whatever is scheduled or triggered.
    """
    import os

    from flows.serve import serve_deployments

    params = {
        "strategy": strategy,
        "classifier": classifier,
        "batch_size": batch_size,
        "min_new_labels": min_new_labels,
    }
    deployments = serve_deployments(
        workspace,
        cron=cron,
        interval=interval,
        watch=watch,
        watch_interval=watch_interval,
        parameters=params,
    )
    if not os.environ.get("PREFECT_API_URL"):
        err.print(
            "note: PREFECT_API_URL is not set, so the runs go to a temporary Prefect server "
            "that ends with this process; start `prefect server start` to keep and watch them",
            highlight=False,
        )
    names = ", ".join(f"{d.flow_name}/{d.name}" for d in deployments)
    err.print(f"serving {names}; stop with Ctrl-C", highlight=False)
    from prefect import serve as prefect_serve

    prefect_serve(*deployments)


@app.command()
@user_errors
def disagreements(
    workspace: Annotated[str, WORKSPACE_ARG],
    review: Annotated[
        bool,
        typer.Option("--review", help="Send the disagreed items to the queue as a review batch."),
    ] = False,
    limit: Annotated[
        int | None, typer.Option(help="At most this many items in the review batch.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Items whose annotators differ, inter-annotator agreement and per-annotator counts."""
    from rich.table import Table

    from al_core.pipeline.review import disagreement_report, send_review_batch
    from al_core.storage import Workspace

    ws = Workspace.open(workspace)
    report = disagreement_report(ws)
    if review:
        from al_core.pipeline import queue_for

        with ws.run_lock("sending a review batch"):
            report["review"] = send_review_batch(ws, queue_for(ws, _secret), report, limit=limit)
    if as_json:
        print_json(report)
        return
    alpha = report["krippendorff_alpha"]
    fleiss = report["fleiss_kappa"]
    out.print(
        f"{report['items_shared']} items labelled by two or more annotators, "
        f"{report['items_disagreed']} with disagreements; Krippendorff's alpha "
        f"{'-' if alpha is None else f'{alpha:.3f}'}"
        + ("" if fleiss is None else f", Fleiss' kappa {fleiss:.3f}"),
        highlight=False,
    )
    people = Table(title="annotators")
    for col in ("annotator", "items", "shared items", "in disagreements"):
        people.add_column(col)
    for a in report["annotators"]:
        people.add_row(
            a["annotator"], str(a["items"]), str(a["shared_items"]), str(a["disagreements"])
        )
    out.print(people)
    if report["pairs"]:
        pairs = Table(title="pairs (Cohen's kappa on shared items)")
        for col in ("annotators", "items", "agreement", "kappa"):
            pairs.add_column(col)
        for p in report["pairs"]:
            kappa = "-" if p["cohen_kappa"] is None else f"{p['cohen_kappa']:.3f}"
            pairs.add_row(
                " / ".join(p["annotators"]), str(p["items"]), f"{p['agreement']:.2f}", kappa
            )
        out.print(pairs)
    if report["items"]:
        items = Table(
            title=f"disagreed items (current label by the {report['label_policy']} policy)"
        )
        for col in ("id", "current", "votes", "text"):
            items.add_column(col, overflow="fold")
        for it in report["items"]:
            votes = "; ".join(f"{v['annotator']}: {'|'.join(v['labels'])}" for v in it["votes"])
            current = "|".join(it["current"] or []) or "-"
            items.add_row(it["id"], current, votes, it["text"][:80])
        out.print(items)
    if review:
        r = report["review"]
        if r["batch"]:
            out.print(
                f"sent {r['items']} items for review as {r['batch']}: {r['where']}", highlight=False
            )
        else:
            out.print("no item to send for review", highlight=False)
        if r["sent_before"]:
            out.print(f"  ({r['sent_before']} were sent for review before)", highlight=False)
