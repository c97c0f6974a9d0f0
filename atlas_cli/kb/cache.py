"""Cache of the validated knowledge base, keyed by a hash of the exact bytes it was parsed from.

Parsing the YAML and building the pydantic validators costs more than the rest of a
`recommend`; a cached KB loads in a few milliseconds, without pydantic. The cache is an optimisation only: a
missing, read-only or foreign cache directory, or a damaged entry, falls back to a full load.

What it trusts, and why (docs/security.md has the threat model):
- An entry is JSON, data only: reading one can never run code, whoever wrote it (a pickle
  could). It is decoded into the KB's plain records (kb/records.py) without validation, since it
  was validated before it was written; a shape that does not match the records is a miss.
- It is read only from a directory that only the current user can change: the directory is
  ours and writable by nobody else, every directory on the way to it belongs to us or root and
  is writable by nobody else unless sticky (like /tmp), and every symbolic link on the way
  belongs to us or root. Otherwise another user could swap the directory or the entry between
  our check and our read.
- An entry is opened once, without following a symbolic link, and checked on the open file
  (ours, writable by nobody else, a regular file) before it is read.
- The key hashes the KB files' bytes as read, once: the same bytes are then parsed on a miss, so
  an edit between the two cannot store one KB under another's key. It also covers the
  ft-atlas version and the identity of its source files, whose records the entry is decoded into.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import stat
import sys
from functools import cache
from pathlib import Path
from typing import NoReturn

import atlas_cli
from atlas_cli.errors import interrupts_deferred
from atlas_cli.kb.behaviour import Mismatch
from atlas_cli.kb.catalog import Catalog
from atlas_cli.kb.files import KbFile, read_kb, replace_whole
from atlas_cli.kb.heap import collector_paused
from atlas_cli.kb.records import KnowledgeBase, decode_knowledge_base

CACHE_ENV = "FT_ATLAS_CACHE_DIR"
NO_CACHE_ENV = "FT_ATLAS_NO_CACHE"
ENTRY_FORMAT = 4  # 1 was a pickle; 2 had no checksum; 3 was decoded into the pydantic models
KEPT_ENTRIES = 8  # the bundled KB of a few versions and a few --kb copies
MAX_ENTRY_BYTES = 64 << 20  # a 1,000-method KB's entry is ~10 MB


def cache_dir() -> Path:
    """$FT_ATLAS_CACHE_DIR, else $XDG_CACHE_HOME/ft-atlas, else ~/.cache/ft-atlas. A relative
    value is ignored, as the XDG Base Directory specification says: it would name a different
    directory in every working directory."""
    explicit = _absolute(CACHE_ENV)
    if explicit is not None:
        return explicit
    return (_absolute("XDG_CACHE_HOME") or Path.home() / ".cache") / "ft-atlas"


def _home_exists() -> bool:
    try:
        return Path.home().is_dir()
    except (OSError, RuntimeError):  # no home to be found
        return False


def _absolute(variable: str) -> Path | None:
    value = os.environ.get(variable)
    return Path(value) if value and os.path.isabs(value) else None


# --- the key -------------------------------------------------------------------------------------


@cache
def source_identity() -> str:
    """Which ft-atlas code this is (see package_identity), once per run."""
    return package_identity(Path(atlas_cli.__file__).parent)


def package_identity(package: Path) -> str:
    """The path, size and modification time of every module in the package, hashed. An entry
    is decoded into this code's records, so any change to them (even without a new version
    number, as in an editable checkout) must change the key."""
    found: list[str] = []
    pending = [str(package)]
    while pending:
        directory = pending.pop()
        with os.scandir(directory) as entries:
            for entry in entries:
                if entry.name.endswith(".py"):
                    info = entry.stat()
                    found.append(f"{entry.path}\0{info.st_size}\0{info.st_mtime_ns}")
                elif entry.name != "__pycache__" and entry.is_dir(follow_symlinks=False):
                    pending.append(entry.path)
    return hashlib.sha256("\n".join(sorted(found)).encode()).hexdigest()


def cache_key(files: list[KbFile], version: str | None = None, identity: str | None = None) -> str:
    """The entry's key: the bytes of every KB file (with its name), the ft-atlas version and its
    source identity, and the Python version."""
    version = atlas_cli.__version__ if version is None else version
    identity = source_identity() if identity is None else identity
    digest = hashlib.sha256(f"ft-atlas {version}|{identity}|{sys.version}|{ENTRY_FORMAT}".encode())
    for file in files:
        data = file.data or b""
        digest.update(f"\0{file.path.name}\0{len(data)}\0".encode() + data)
    return digest.hexdigest()


def entry_name(key: str) -> str:
    return f"kb-{key[:32]}.json"


# What entry_name writes, and all that pruning may delete: the cache directory may be one the user
# shares with files of their own (FT_ATLAS_CACHE_DIR=~/.cache; an attacker's review: their own
# kb-export-*.json were pruned).
ENTRY_NAME = re.compile(r"kb-[0-9a-f]{32}\.json")


# --- where entries may be read and written -------------------------------------------------------


@cache
def _private_group(gid: int, uid: int) -> bool:
    """A user-private group (a group of one, named after the user, as Debian and Ubuntu make):
    a directory that only this group may write is as safe as one only the user may write."""
    try:
        import grp
        import pwd

        group = grp.getgrgid(gid)
        return not group.gr_mem and group.gr_name == pwd.getpwuid(uid).pw_name
    except (ImportError, KeyError, OSError):
        return False


def _writable_by_others(info: os.stat_result, uid: int) -> bool:
    if info.st_mode & stat.S_IWOTH:
        return True
    return bool(info.st_mode & stat.S_IWGRP) and not _private_group(info.st_gid, uid)


MAX_LINKS = 40  # as the kernel allows in one path


def trusted_directory(directory: Path) -> Path | None:
    """The cache directory with every symbolic link resolved, if no other user can change what
    it leads to; None when it is foreign or missing, or on a system without user ids or
    O_NOFOLLOW (where an entry could not be opened safely).

    The path is followed one name at a time, as the kernel would. Every directory passed through
    belongs to us or root and no other user can write it, unless it is sticky (like /tmp: then
    others can add names but not rename or remove ours); every symbolic link belongs to us or
    root (its directory was checked, so nobody else can replace it). The cache directory itself
    is ours and nobody else can write it. Checking only where the path ends up would miss a link
    in someone else's directory, which they could point elsewhere after the check."""
    if not hasattr(os, "getuid") or not hasattr(os, "O_NOFOLLOW"):
        return None
    uid = os.getuid()
    try:
        current = os.sep
        if not _safe_directory(os.lstat(current), uid):
            return None
        pending = os.path.join(os.getcwd(), directory).split(os.sep)
        links = 0
        while pending:
            name = pending.pop(0)
            if name in ("", "."):
                continue
            if name == "..":
                current = os.path.dirname(current)  # `current` holds no links: this is its parent
                continue
            candidate = os.path.join(current, name)
            info = os.lstat(candidate)
            if stat.S_ISLNK(info.st_mode):
                links += 1
                if info.st_uid not in (uid, 0) or links > MAX_LINKS:
                    return None
                target = os.readlink(candidate)
                current = os.sep if os.path.isabs(target) else current
                pending[:0] = target.split(os.sep)
                continue
            if not _safe_directory(info, uid):
                return None
            current = candidate
        final = os.lstat(current)
    except (OSError, ValueError):
        return None
    if final.st_uid != uid or _writable_by_others(final, uid):
        return None
    return Path(current)


def _safe_directory(info: os.stat_result, uid: int) -> bool:
    if not stat.S_ISDIR(info.st_mode) or info.st_uid not in (uid, 0):
        return False
    return not _writable_by_others(info, uid) or bool(info.st_mode & stat.S_ISVTX)


def _open_flags() -> int:
    return os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)


def _read_entry(directory: Path, name: str) -> bytes | None:
    """The entry's bytes, from one open of it that follows no link, checked on the open file."""
    try:
        handle = os.open(directory / name, _open_flags())
    except OSError:
        return None
    try:
        info = os.fstat(handle)
        if (
            not stat.S_ISREG(info.st_mode)
            or info.st_uid != os.getuid()
            or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
            or info.st_size > MAX_ENTRY_BYTES
        ):
            return None
        chunks: list[bytes] = []
        size = 0
        while size <= MAX_ENTRY_BYTES and (chunk := os.read(handle, 1 << 20)):
            chunks.append(chunk)
            size += len(chunk)
        return b"".join(chunks) if size <= MAX_ENTRY_BYTES else None
    except OSError:
        return None
    finally:
        os.close(handle)


def _prune(directory: Path) -> None:
    """Keep the KEPT_ENTRIES entries last used (a hit touches its entry): every edit of a KB, every
    upgrade and every --kb copy writes a new one, and none is ever read again once its files
    change (102 entries, 49 MB, on a developer's machine in one day)."""
    try:
        entries = sorted(
            (entry.stat().st_mtime, entry)
            for entry in directory.glob("kb-*.json")
            if ENTRY_NAME.fullmatch(entry.name) and entry.is_file() and not entry.is_symlink()
        )
    except OSError:
        return
    for _, entry in entries[:-KEPT_ENTRIES]:
        with contextlib.suppress(OSError):
            entry.unlink()


def _write_entry(directory: Path, name: str, payload: bytes) -> None:
    """Write atomically (readers never see half an entry); a full disk or any other failure
    leaves the cache as it was; then drop the oldest entries past KEPT_ENTRIES."""
    with contextlib.suppress(OSError):
        replace_whole(directory / name, payload)
    _prune(directory)


# --- entries: JSON, decoded into the KB's records without validation ----------------------------


def encode_entry(key: str, kb: KnowledgeBase) -> bytes:
    """A header line (format, key, the body's SHA-256), then the validated KB as JSON."""
    body = json.dumps(kb.model_dump(mode="json", by_alias=True), ensure_ascii=False, separators=(",", ":"))
    encoded = body.encode("utf-8")
    header = {"format": ENTRY_FORMAT, "key": key, "sha256": hashlib.sha256(encoded).hexdigest()}
    return json.dumps(header, separators=(",", ":")).encode("utf-8") + b"\n" + encoded


def decode_entry(key: str, payload: bytes) -> KnowledgeBase | None:
    """The KB in an entry, or None when it is not an entry for `key` of this format, its body is
    not the one written, or its data does not have the records' shape. Values are not validated
    again: an entry its owner rewrote with a new checksum may fail inside a command (nobody else
    can write it: trusted_directory); NaN and infinities, which JSON cannot hold, are a miss."""
    head, _, body = payload.partition(b"\n")
    try:
        header = json.loads(head)
        if type(header) is not dict or header.get("format") != ENTRY_FORMAT or header.get("key") != key:
            return None
        if header.get("sha256") != hashlib.sha256(body).hexdigest():
            return None
        return decode_knowledge_base(json.loads(body, parse_constant=_refused))
    except (ValueError, RecursionError, Mismatch, TypeError, KeyError):
        return None


def _refused(constant: str) -> NoReturn:
    raise ValueError(f"{constant} is not JSON")


# --- loading -------------------------------------------------------------------------------------


@collector_paused
def load_cached_catalog(path: Path) -> Catalog:
    """The validated catalog for the KB at `path`, from the cache when its content is known."""
    files = read_kb(path)
    if os.environ.get(NO_CACHE_ENV, "") not in ("", "0") or any(f.data is None for f in files):
        return _load(path, files)  # an unreadable file: the loader says why
    key = cache_key(files)
    name = entry_name(key)
    location = _location()
    directory = None if location is None else trusted_directory(location)
    if directory is not None:
        payload = _read_entry(directory, name)
        kb = None if payload is None else decode_entry(key, payload)
        if kb is not None:
            with contextlib.suppress(OSError, NotImplementedError):
                # Used now: pruning (by modification time) keeps the entries read, not only written.
                os.utime(directory / name, follow_symlinks=False)
            return Catalog(kb)
    catalog = _load(path, files)
    if directory is None and location is not None:
        with contextlib.suppress(OSError):
            # A directory the user named is made, not the path to it (a mistyped one stays unmade);
            # the default's missing parents are made under $XDG_CACHE_HOME, or in a home that exists
            # (an attacker's review: HOME=/nonexistent, the home of `nobody`, had
            # /nonexistent/.cache made as root).
            default = _absolute(CACHE_ENV) is None
            parents = default and (_absolute("XDG_CACHE_HOME") is not None or _home_exists())
            location.mkdir(mode=0o700, parents=parents, exist_ok=True)
        directory = trusted_directory(location)
    if directory is not None:
        with interrupts_deferred():  # pydantic's serializer swallows a KeyboardInterrupt too
            entry = encode_entry(key, catalog.kb)
        _write_entry(directory, name, entry)
    return catalog


def _location() -> Path | None:
    try:
        return cache_dir()
    except RuntimeError:  # no $HOME and no password entry to find one (some containers)
        return None


def _load(path: Path, files: list[KbFile]) -> Catalog:
    from atlas_cli.kb.loading import load_knowledge_base  # YAML and validators: only on a miss

    return Catalog(load_knowledge_base(path, files))
