"""A folder-based annotation queue: batches go to ``outbox/``, label files come in ``inbox/``.

Layout under ``root``::

    outbox/<batch_id>.json   Label Studio tasks of each exported batch (never rewritten)
    inbox/                   annotators drop label files here (.json, .csv, .jsonl, .ndjson)
    inbox/imported/          files whose labels are stored, moved here under their own name
    label_config.xml         Label Studio labelling config, for loading batches by hand

It needs nothing but a shared folder, so it works for spreadsheets, scripts and a Label Studio
instance that alflow cannot reach.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any, ClassVar

from al_core.labels import LabelSet
from al_core.queues.base import AnnotationQueue, ExportBatch
from al_core.queues.labelstudio_format import label_config, to_ls_tasks
from al_core.storage.atomic import atomic_write_bytes, atomic_write_json, fsync_dir

_BATCH_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
# Files still being written by an editor, a browser download or a sync client.
_PARTIAL_SUFFIXES = (".partial", ".part", ".tmp", ".crdownload", ".download", ".swp")


class BatchConflictError(ValueError):
    """A batch id that was already exported with different content."""


def _is_waiting(path: Path) -> bool:
    name = path.name
    return (
        path.is_file()
        and not name.startswith((".", "~"))
        and not name.lower().endswith(_PARTIAL_SUFFIXES)
    )


def _files(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if _is_waiting(p)] if folder.is_dir() else []


class FileQueue(AnnotationQueue):
    """An :class:`AnnotationQueue` on a local or shared folder ``root`` (created if missing)."""

    name: ClassVar[str] = "file"
    description: ClassVar[str] = (
        "a folder: batches as Label Studio task JSON in outbox/, label files dropped in inbox/"
    )

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.outbox = self.root / "outbox"
        self.inbox = self.root / "inbox"
        self.imported_dir = self.inbox / "imported"
        for folder in (self.outbox, self.imported_dir):
            folder.mkdir(parents=True, exist_ok=True)

    def batch_path(self, batch_id: str) -> Path:
        """Where the batch ``batch_id`` is (or would be) exported."""
        if not _BATCH_ID.fullmatch(batch_id):
            raise ValueError(
                f"batch id {batch_id!r} cannot be a file name: use letters, digits, '.', '_' "
                "and '-', starting with a letter or digit"
            )
        return self.outbox / f"{batch_id}.json"

    def export_batch(self, batch: ExportBatch) -> str:
        """Write the batch's Label Studio tasks to ``outbox/<batch_id>.json``; return the path.

        Re-exporting identical content does nothing; different content raises
        :class:`BatchConflictError`, because annotators may already be working on the file.
        """
        path = self.batch_path(batch.batch_id)
        # Compare as JSON would read back, so float/int/tuple details cannot cause a conflict.
        tasks = json.loads(json.dumps(to_ls_tasks(batch), ensure_ascii=False))
        if path.exists():
            try:
                existing = json.loads(path.read_text(encoding="utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError):
                existing = None
            if existing == tasks:
                return str(path)
            raise BatchConflictError(
                f"batch {batch.batch_id!r} was already exported to {path} with different "
                "content; an exported batch never changes, so export under a new batch id"
            )
        atomic_write_json(path, tasks)
        return str(path)

    def pull_label_files(self) -> list[Path]:
        """Files in ``inbox/`` (not subfolders, hidden or partial files), oldest first."""
        files = _files(self.inbox)
        return sorted(files, key=lambda p: (p.stat().st_mtime_ns, p.name))

    def mark_imported(self, path: Path) -> Path:
        """Move ``path`` from ``inbox/`` to ``inbox/imported/``; return its new path.

        The name is kept; if taken, ``-1``, ``-2``, ... is added before the extension. An
        existing file is never overwritten.
        """
        path = Path(path)
        if path.parent.resolve() != self.inbox.resolve() or not path.is_file():
            raise ValueError(f"{path} is not a file in the inbox {self.inbox}")
        self.imported_dir.mkdir(parents=True, exist_ok=True)
        for n in range(10_000):
            name = path.name if n == 0 else f"{path.stem}-{n}{path.suffix}"
            target = self.imported_dir / name
            if _move_no_overwrite(path, target):
                fsync_dir(self.imported_dir)
                fsync_dir(self.inbox)
                return target
        raise FileExistsError(f"no free name for {path.name} in {self.imported_dir}")

    def write_label_studio_config(self, label_set: LabelSet) -> Path:
        """Write ``label_config.xml`` for loading the outbox batches into Label Studio by hand."""
        path = self.root / "label_config.xml"
        return atomic_write_bytes(path, label_config(label_set).encode("utf-8"))

    def state(self) -> dict[str, Any]:
        """Exported batch ids, label files waiting in the inbox, files already imported."""
        outbox = sorted(p.stem for p in _files(self.outbox) if p.suffix == ".json")
        return {
            "queue": self.name,
            "root": str(self.root),
            "outbox_batches": outbox,
            "inbox_waiting": len(self.pull_label_files()),
            "imported": len(_files(self.imported_dir)),
        }


def _move_no_overwrite(src: Path, dst: Path) -> bool:
    """Move ``src`` to ``dst`` unless ``dst`` exists; False when it does."""
    try:
        os.link(src, dst)  # fails atomically if dst exists
    except FileExistsError:
        return False
    except OSError:
        # No hard links here (some network/FUSE file systems): check, then rename.
        if dst.exists():
            return False
        os.rename(src, dst)
        return True
    os.unlink(src)
    return True
