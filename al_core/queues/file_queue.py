"""A folder-based annotation queue: batches go to ``outbox/``, label files come in ``inbox/``.

Layout under ``root``::

    outbox/<batch_id>.json   Label Studio tasks of each exported batch (never rewritten)
    outbox/withdrawn.json    items taken back (loop stopped, labelled elsewhere): skip them
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
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

from al_core.labels import LabelSet
from al_core.queues.base import AnnotationQueue, ExportBatch, LabelDelivery
from al_core.queues.labelstudio_format import label_config, to_ls_tasks
from al_core.storage.atomic import fsync_dir

_BATCH_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
# Files still being written by an editor, a browser download or a sync client.
_PARTIAL_SUFFIXES = (".partial", ".part", ".tmp", ".crdownload", ".download", ".swp")


class BatchConflictError(ValueError):
    """A batch id that was already exported with different content."""


def _is_waiting(path: Path) -> bool:
    return path.is_file() and _waiting_name(path.name)


def _files(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if _is_waiting(p)] if folder.is_dir() else []


class FileQueue(AnnotationQueue):
    """An :class:`AnnotationQueue` on a folder ``root`` (created if missing).

    ``root`` may also be an object-store prefix (a :class:`~al_core.storage.Location` or an
    ``s3://`` URL): batches are then written there, and label files dropped in its ``inbox/``
    are copied to a local cache folder for reading and moved to ``inbox/imported/`` there.
    """

    name: ClassVar[str] = "file"
    description: ClassVar[str] = (
        "a folder: batches as Label Studio task JSON in outbox/, label files dropped in inbox/"
    )

    def __init__(self, root: Any) -> None:
        from al_core.storage.location import Location

        self.location = root if isinstance(root, Location) else Location(root)
        self._remote_of: dict[Path, str] = {}  # local copy -> inbox key (object stores)
        if self.location.local_path is not None:
            for folder in (self.outbox, self.imported_dir):
                folder.mkdir(parents=True, exist_ok=True)

    @property
    def root(self) -> Path | str:
        return self.location.local_path or self.location.uri

    @property
    def outbox(self) -> Path:
        return self.location.local("outbox")

    @property
    def inbox(self) -> Path:
        return self.location.local("inbox")

    @property
    def imported_dir(self) -> Path:
        return self.location.local("inbox", "imported")

    def _batch_key(self, batch_id: str) -> str:
        if not _BATCH_ID.fullmatch(batch_id):
            raise ValueError(
                f"batch id {batch_id!r} cannot be a file name: use letters, digits, '.', '_' "
                "and '-', starting with a letter or digit"
            )
        return f"outbox/{batch_id}.json"

    def batch_path(self, batch_id: str) -> Path:
        """Where the batch ``batch_id`` is (or would be) exported (local queues)."""
        return self.location.local(self._batch_key(batch_id))

    def read_batch(self, batch_id: str) -> list[dict[str, Any]] | None:
        """The exported tasks of ``batch_id`` (None when it was not exported or is unreadable)."""
        key = self._batch_key(batch_id)
        if not self.location.is_file(key):
            return None
        try:
            return json.loads(self.location.read_text(key))
        except (UnicodeDecodeError, json.JSONDecodeError):
            return None

    def export_batch(self, batch: ExportBatch) -> str:
        """Write the batch's Label Studio tasks to ``outbox/<batch_id>.json``; return where.

        Re-exporting identical content does nothing; different content raises
        :class:`BatchConflictError`, because annotators may already be working on the file.
        """
        key = self._batch_key(batch.batch_id)
        # Compare as JSON would read back, so float/int/tuple details cannot cause a conflict.
        tasks = json.loads(json.dumps(to_ls_tasks(batch), ensure_ascii=False))
        if self.location.is_file(key):
            if self.read_batch(batch.batch_id) == tasks:
                return self.location.uri_of(key)
            raise BatchConflictError(
                f"batch {batch.batch_id!r} was already exported to {self.location.uri_of(key)} "
                "with different content; an exported batch never changes, so export under a "
                "new batch id"
            )
        return self.location.write_json(key, tasks)

    def pull_label_files(self) -> list[Path]:
        """Files in ``inbox/`` (not subfolders, hidden or partial files), oldest first.

        For an object-store queue these are local copies; :meth:`mark_imported` and
        :meth:`reject` act on the originals.
        """
        if self.location.local_path is not None:
            files = _files(self.inbox)
            return sorted(files, key=lambda p: (p.stat().st_mtime_ns, p.name))
        local = self.location.cache_dir() / "queue-inbox"
        copies = []
        for name in self.location.list("inbox"):
            if name.startswith((".", "~")) or name.lower().endswith(_PARTIAL_SUFFIXES):
                continue
            copy = self.location.download(f"inbox/{name}", local / name)
            self._remote_of[copy] = f"inbox/{name}"
            copies.append(copy)
        return copies

    def pull_labels(self) -> list[LabelDelivery]:
        """Each inbox file as a delivery (see :meth:`pull_label_files`)."""
        return [LabelDelivery(origin=str(p), path=p, receipt=p) for p in self.pull_label_files()]

    def confirm(self, delivery: LabelDelivery) -> None:
        self.mark_imported(delivery.receipt)

    def refuse(self, delivery: LabelDelivery, reason: str) -> None:
        self.reject(delivery.receipt, reason)

    def withdraw(self, ids: list[str], reason: str) -> list[str]:
        """Add ``ids`` to ``outbox/withdrawn.json`` (id -> reason), the list annotators skip.

        A file handed to people cannot be taken back; this list says which of its items are
        no longer wanted. Returns the ids not listed before.
        """
        key = "outbox/withdrawn.json"
        listed = self.location.read_json(key) if self.location.is_file(key) else {}
        new = [i for i in dict.fromkeys(ids) if i not in listed]
        if new:
            listed.update({i: reason for i in new})
            self.location.write_json(key, listed)
        return new

    def mark_imported(self, path: Path) -> Path | str:
        """Move ``path`` from ``inbox/`` to ``inbox/imported/``; return its new place.

        The name is kept; if taken, ``-1``, ``-2``, ... is added before the extension. An
        existing file is never overwritten.
        """
        return self._move_aside(Path(path), "imported")

    def reject(self, path: Path, reason: str) -> Path | str:
        """Move ``path`` to ``inbox/rejected/`` with ``<name>.reason.txt`` beside it."""
        target = self._move_aside(Path(path), "rejected")
        reason_key = f"inbox/rejected/{Path(str(target)).name}.reason.txt"
        self.location.write_text(reason_key, reason + "\n")
        return target

    def _move_aside(self, path: Path, folder: str) -> Path | str:
        if self.location.local_path is None:
            key = self._remote_of.pop(path, None)
            if key is None:
                raise ValueError(f"{path} is not a file pulled from the inbox {self.root}/inbox")
            taken = set(self.location.list(f"inbox/{folder}"))
            for name in _free_names(Path(key).name):
                if name not in taken:
                    self.location.move(key, f"inbox/{folder}/{name}")
                    path.unlink(missing_ok=True)
                    return self.location.uri_of(f"inbox/{folder}/{name}")
        if path.parent.resolve() != self.inbox.resolve() or not path.is_file():
            raise ValueError(f"{path} is not a file in the inbox {self.inbox}")
        target_dir = self.inbox / folder
        target_dir.mkdir(parents=True, exist_ok=True)
        for name in _free_names(path.name):
            target = target_dir / name
            if _move_no_overwrite(path, target):
                fsync_dir(target_dir)
                fsync_dir(self.inbox)
                return target
        raise FileExistsError(f"no free name for {path.name} in {target_dir}")

    def write_label_studio_config(self, label_set: LabelSet) -> Path | str:
        """Write ``label_config.xml`` for loading the outbox batches into Label Studio by hand."""
        where = self.location.write_text("label_config.xml", label_config(label_set))
        return Path(where) if self.location.local_path is not None else where

    def state(self) -> dict[str, Any]:
        """Exported batch ids, label files waiting in the inbox, files already imported."""
        outbox = sorted(
            n[: -len(".json")]
            for n in self.location.list("outbox")
            if _waiting_name(n) and n.endswith(".json") and n != "withdrawn.json"
        )
        return {
            "queue": self.name,
            "root": str(self.root),
            "outbox_batches": outbox,
            "inbox_waiting": sum(_waiting_name(n) for n in self.location.list("inbox")),
            "imported": sum(_waiting_name(n) for n in self.location.list("inbox/imported")),
        }


def _waiting_name(name: str) -> bool:
    return not name.startswith((".", "~")) and not name.lower().endswith(_PARTIAL_SUFFIXES)


def _free_names(name: str) -> Iterator[str]:
    path = Path(name)
    yield name
    for n in range(1, 10_000):
        yield f"{path.stem}-{n}{path.suffix}"


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
