"""Cache of the validated knowledge base, keyed by a hash of its files' contents.

Parsing the YAML and building the pydantic validators costs more than the rest of a
`recommend`; a cached catalog loads in a few milliseconds. The cache is an optimisation only: a
missing, read-only or foreign cache directory, or a damaged entry, falls back to a full load.

Entries are pickles, so one is read only when it belongs to the current user and nobody else
can write it or its directory (the rule ssh applies to its keys).
"""

from __future__ import annotations

import hashlib
import os
import pickle
import stat
import sys
import tempfile
from pathlib import Path

from atlas_cli import __version__
from atlas_cli.kb.catalog import Catalog
from atlas_cli.kb.files import MAX_FILE_BYTES, kb_files

CACHE_ENV = "FT_ATLAS_CACHE_DIR"
NO_CACHE_ENV = "FT_ATLAS_NO_CACHE"


def cache_dir() -> Path:
    explicit = os.environ.get(CACHE_ENV)
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "ft-atlas"


def content_key(path: Path) -> str:
    """Hash of every KB file (name and bytes) plus the versions that shape the pickle."""
    digest = hashlib.sha256(f"{__version__}|{sys.version}".encode())
    for file in kb_files(path):
        if not file.is_file() or file.stat().st_size > MAX_FILE_BYTES:
            raise OSError(f"{file}: not a regular file within the size limit")  # loader explains
        digest.update(file.name.encode() + b"\0" + file.read_bytes() + b"\0")
    return digest.hexdigest()[:32]


def _trusted(path: Path) -> bool:
    """Owned by us and writable by nobody else, for the entry and its directory."""
    uid = os.getuid() if hasattr(os, "getuid") else None
    for item in (path, path.parent):
        info = item.stat()
        if (uid is not None and info.st_uid != uid) or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            return False
    return True


def _read(entry: Path) -> Catalog | None:
    try:
        if not entry.is_file() or not _trusted(entry):
            return None
        catalog = pickle.loads(entry.read_bytes())
    except Exception:  # noqa: BLE001 - any damaged entry means "not cached"
        return None
    return catalog if isinstance(catalog, Catalog) else None


def _write(entry: Path, catalog: Catalog) -> None:
    try:
        entry.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=entry.parent, prefix=".kb-")
        with os.fdopen(handle, "wb") as out:
            pickle.dump(catalog, out, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(temporary, entry)  # atomic: readers never see half an entry
    except OSError:
        return


def _load(path: Path) -> Catalog:
    from atlas_cli.kb.loading import load_knowledge_base  # YAML and validators: only on a miss

    return Catalog(load_knowledge_base(path))


def load_cached_catalog(path: Path) -> Catalog:
    """The validated catalog for the KB at `path`, from the cache when its content is known."""
    if os.environ.get(NO_CACHE_ENV, "") not in ("", "0"):
        return _load(path)
    try:
        entry = cache_dir() / f"kb-{content_key(path)}.pickle"
    except OSError:
        return _load(path)  # unreadable KB: let the loader explain
    cached = _read(entry)
    if cached is not None:
        return cached
    catalog = _load(path)
    _write(entry, catalog)
    return catalog
