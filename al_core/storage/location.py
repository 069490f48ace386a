"""Where a workspace lives: a local folder or an object-store prefix (``s3://bucket/prefix``).

:class:`Location` is the one place that knows the difference. Everything else names files by
keys relative to the workspace root (``"models/iter-0001/meta.json"``) and reads or writes them
through it. Local writes are atomic (temporary file, fsync, rename); an object-store PUT is
atomic by itself. Delta tables get a URI (:meth:`Location.uri_of`) and the storage options the
``deltalake`` package needs.

Object stores are reached with pyarrow's file systems (S3 built in) and deltalake's own client;
both read the usual environment variables (``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``,
``AWS_REGION``, ``AWS_ENDPOINT_URL`` for S3-compatible servers such as MinIO or moto, and
``AWS_ALLOW_HTTP=true`` for a plain-HTTP endpoint).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from al_core.errors import WorkspaceError
from al_core.storage.atomic import atomic_write_bytes

REMOTE_SCHEMES = ("s3", "s3a", "gs", "gcs", "az", "abfs", "abfss")
# Characters Delta Lake's Rust layer cannot take in a local path, measured with deltalake 1.6.6:
# [ ] ^ | \ make it panic ("Invalid object store url": it builds a URL host from the path) and
# a % is decoded as a URL escape, so the table lands in another folder.
DELTA_UNSAFE_CHARS = "[]^|\\%"


def is_remote(uri: str | Path) -> bool:
    """True for an object-store URL (``s3://...``), False for a local path or ``file://``."""
    return isinstance(uri, str) and urlparse(uri).scheme.lower() in REMOTE_SCHEMES


class Location:
    """A workspace root: a local folder or an object-store prefix."""

    def __init__(self, uri: str | Path) -> None:
        text = str(uri)
        if text.startswith("file://"):
            text = urlparse(text).path
        self.remote = is_remote(text)
        if self.remote:
            parsed = urlparse(text)
            scheme = "s3" if parsed.scheme.lower() == "s3a" else parsed.scheme.lower()
            if not parsed.netloc:
                raise WorkspaceError(
                    f"{text}: an object-store URL needs a bucket ({scheme}://BUCKET/...)"
                )
            self.uri = f"{scheme}://{parsed.netloc}{parsed.path.rstrip('/')}"
            self.scheme = scheme
            self.local_path: Path | None = None
        else:
            self.local_path = Path(text).expanduser().absolute()
            self.uri = str(self.local_path)
            self.scheme = "file"

    def __repr__(self) -> str:
        return f"Location({self.uri!r})"

    def check_delta_safe(self) -> None:
        """Refuse a local path Delta Lake cannot store tables under, naming the character."""
        if self.local_path is None:
            return
        bad = sorted({c for c in str(self.local_path) if c in DELTA_UNSAFE_CHARS})
        if bad:
            chars = " ".join(repr(c) for c in bad)
            raise WorkspaceError(
                f"{self.uri}: the path contains {chars}; Delta Lake (the table format alflow "
                "stores workspaces in) cannot use paths with any of [ ] ^ | \\ %, so choose "
                "another folder name"
            )

    def __str__(self) -> str:
        return self.uri

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Location) and other.uri == self.uri

    def __hash__(self) -> int:
        return hash(self.uri)

    # -- naming ----------------------------------------------------------------------------------
    def child(self, *parts: str) -> Location:
        """The location of a sub-folder (e.g. ``location.child("queue")``)."""
        return Location(self.uri_of(*parts))

    def uri_of(self, *parts: str) -> str:
        key = "/".join(p.strip("/") for p in parts if p)
        if not key:
            return self.uri
        if self.remote:
            return f"{self.uri}/{key}"
        return str(self.local_path / key)

    def local(self, *parts: str) -> Path:
        """The local path of a key; only for local locations."""
        if self.local_path is None:
            raise WorkspaceError(f"{self.uri} is not a local folder")
        return self.local_path.joinpath(*parts)

    @property
    def storage_options(self) -> dict[str, str] | None:
        """Options for ``deltalake`` (None: it reads the environment itself)."""
        return None

    @cached_property
    def _fs(self) -> tuple[Any, str]:
        from pyarrow import fs

        try:
            filesystem, base = fs.FileSystem.from_uri(self.uri.replace("gcs://", "gs://"))
        except Exception as exc:  # pyarrow raises several types for bad URLs or credentials
            raise WorkspaceError(f"cannot reach {self.uri}: {exc}") from None
        return filesystem, base

    def _path(self, key: str) -> str:
        _, base = self._fs
        return f"{base}/{key.strip('/')}" if key else base

    def cache_dir(self) -> Path:
        """A local folder for copies of this location's files (the location itself if local)."""
        if self.local_path is not None:
            return self.local_path
        root = Path(os.environ.get("ALFLOW_CACHE_DIR", Path.home() / ".cache" / "alflow"))
        digest = hashlib.sha256(self.uri.encode()).hexdigest()[:16]
        return root / "remote" / digest

    # -- files -----------------------------------------------------------------------------------
    def exists(self, key: str = "") -> bool:
        if self.local_path is not None:
            return self.local(key).exists()
        from pyarrow import fs

        filesystem, _ = self._fs
        return filesystem.get_file_info(self._path(key)).type != fs.FileType.NotFound

    def is_file(self, key: str) -> bool:
        if self.local_path is not None:
            return self.local(key).is_file()
        from pyarrow import fs

        filesystem, _ = self._fs
        return filesystem.get_file_info(self._path(key)).type == fs.FileType.File

    def read_bytes(self, key: str) -> bytes:
        if self.local_path is not None:
            return self.local(key).read_bytes()
        filesystem, _ = self._fs
        try:
            with filesystem.open_input_stream(self._path(key)) as fh:
                return fh.read()
        except FileNotFoundError:
            raise FileNotFoundError(self.uri_of(key)) from None

    def read_text(self, key: str) -> str:
        return self.read_bytes(key).decode("utf-8")

    def read_json(self, key: str) -> Any:
        return json.loads(self.read_text(key))

    def write_bytes(self, key: str, data: bytes) -> str:
        """Write ``data`` at ``key`` atomically (readers see the old or the new file)."""
        if self.local_path is not None:
            return str(atomic_write_bytes(self.local(key), data))
        filesystem, _ = self._fs
        with filesystem.open_output_stream(self._path(key)) as fh:
            fh.write(data)
        return self.uri_of(key)

    def write_text(self, key: str, text: str) -> str:
        return self.write_bytes(key, text.encode("utf-8"))

    def write_json(self, key: str, obj: Any) -> str:
        text = json.dumps(obj, indent=2, ensure_ascii=False, default=str) + "\n"
        return self.write_text(key, text)

    def makedirs(self, key: str = "") -> None:
        if self.local_path is not None:
            self.local(key).mkdir(parents=True, exist_ok=True)
        # Object stores have no folders: a prefix exists once a file is under it.

    def list(self, key: str = "") -> list[str]:
        """Names of the files directly under ``key`` (not folders), sorted."""
        if self.local_path is not None:
            folder = self.local(key)
            if not folder.is_dir():
                return []
            return sorted(p.name for p in folder.iterdir() if p.is_file())
        from pyarrow import fs

        filesystem, _ = self._fs
        selector = fs.FileSelector(self._path(key), allow_not_found=True, recursive=False)
        return sorted(
            info.base_name
            for info in filesystem.get_file_info(selector)
            if info.type == fs.FileType.File
        )

    def list_dirs(self, key: str = "") -> list[str]:
        """Names of the sub-folders directly under ``key``, sorted."""
        if self.local_path is not None:
            folder = self.local(key)
            if not folder.is_dir():
                return []
            return sorted(p.name for p in folder.iterdir() if p.is_dir())
        from pyarrow import fs

        filesystem, _ = self._fs
        selector = fs.FileSelector(self._path(key), allow_not_found=True, recursive=False)
        return sorted(
            info.base_name
            for info in filesystem.get_file_info(selector)
            if info.type == fs.FileType.Directory
        )

    def is_empty(self) -> bool:
        """True when nothing is stored at this location (or it does not exist)."""
        if self.local_path is not None:
            return not self.local_path.exists() or not any(self.local_path.iterdir())
        return not self.list() and not self.list_dirs()

    def delete(self, key: str) -> None:
        """Remove the file at ``key`` (no error if it is gone)."""
        if self.local_path is not None:
            self.local(key).unlink(missing_ok=True)
            return
        filesystem, _ = self._fs
        try:
            filesystem.delete_file(self._path(key))
        except FileNotFoundError:
            pass

    def delete_dir(self, key: str) -> None:
        if self.local_path is not None:
            shutil.rmtree(self.local(key), ignore_errors=True)
            return
        filesystem, _ = self._fs
        try:
            filesystem.delete_dir(self._path(key))
        except FileNotFoundError:
            pass

    def move(self, src: str, dst: str) -> None:
        """Move a file; the target must not exist (object stores: copy, then delete)."""
        if self.exists(dst):
            raise FileExistsError(self.uri_of(dst))
        if self.local_path is not None:
            target = self.local(dst)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(self.local(src), target)
            return
        filesystem, _ = self._fs
        filesystem.copy_file(self._path(src), self._path(dst))
        filesystem.delete_file(self._path(src))

    def download(self, key: str, target: Path) -> Path:
        """Copy the file at ``key`` to the local ``target`` (atomically)."""
        return atomic_write_bytes(target, self.read_bytes(key))

    def upload_dir(self, local_dir: Path, key: str) -> None:
        """Copy every file under ``local_dir`` to ``key``; files are written one by one."""
        for path in sorted(Path(local_dir).rglob("*")):
            if path.is_file():
                rel = path.relative_to(local_dir).as_posix()
                self.write_bytes(f"{key}/{rel}", path.read_bytes())

    def download_dir(self, key: str, target: Path) -> Path:
        """Copy every file under ``key`` into the local folder ``target``."""
        from pyarrow import fs

        filesystem, _ = self._fs
        base = self._path(key)
        selector = fs.FileSelector(base, allow_not_found=True, recursive=True)
        for info in filesystem.get_file_info(selector):
            if info.type == fs.FileType.File:
                rel = info.path[len(base) :].lstrip("/")
                self.download(f"{key}/{rel}", Path(target) / rel)
        return Path(target)
