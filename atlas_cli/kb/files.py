"""Where the knowledge base (KB) lives.

A KB is either one YAML file holding every section, or a directory whose `*.yaml` files each hold
some of the sections (the bundled KB in `data/` is such a directory). `--kb PATH` or the
`FT_ATLAS_KB` environment variable choose another one.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path
from typing import NamedTuple

from atlas_cli.errors import KnowledgeBaseError, UsageError, echoed, one_line
from atlas_cli.i18n import t

KB_ENV = "FT_ATLAS_KB"
MAX_FILE_BYTES = 5_000_000  # a larger KB file is refused (the bundled KB is ~0.2 MB)
# All the files of a KB together: a hundred files just under the limit took validate 11 s and
# 533 MB before it refused them (an attacker's review); a 1,000-method KB is ~3 MB.
MAX_KB_BYTES = 4 * MAX_FILE_BYTES


def replace_whole(path: Path, data: bytes) -> None:
    """`data` as `path`, in one rename: a reader sees the old file or the new one, never half of
    one, and a failed write (OSError, raised) leaves no temporary file behind."""
    import tempfile  # only a cache write needs it (the KB's entry, a fetched config.json)

    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name[:64]}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, path)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(temporary)  # gone after the rename; what a failure left otherwise


def bundled_kb_path() -> Path:
    """The KB inside the wheel, or `data/` of a source checkout (editable installs)."""
    package = Path(__file__).resolve().parent.parent  # atlas_cli/
    packaged = package / "data"
    return packaged if packaged.is_dir() else package.parent / "data"


def given_kb_path(text: str, what: str = "--kb") -> Path:
    """A KB path the user typed. An empty one is refused: Path("") is the current directory, whose
    *.yaml files (or a FIFO among them) would be read instead."""
    if not text.strip():
        raise UsageError(t("{what}: the path is empty; give a KB file or directory", what=what))
    return Path(text)


def resolve_kb_path(option: Path | None) -> Path:
    if option is not None:
        return option
    env = os.environ.get(KB_ENV)
    # Named as typer names it (the variable fills --kb), so both command lines say the same.
    return given_kb_path(env) if env else bundled_kb_path()


def kb_files(path: Path) -> list[Path]:
    """The YAML files a KB path stands for: the file itself, or a directory's `*.yaml` files in
    name order. A directory without them is a located KnowledgeBaseError.
    Dot-files are skipped: editors' lock files (`.#methods.yaml`) and macOS AppleDouble files
    (`._methods.yaml`) are not part of a KB. A path that does not exist is bad usage (exit 2), as a
    mistyped --model path is, not an invalid KB (an attacker's review)."""
    if path.is_dir():
        files = sorted(p for p in path.glob("*.yaml") if not p.name.startswith("."))
        if not files:
            raise KnowledgeBaseError([one_line(f"{path}:1:1: no *.yaml files in this directory")])
        return files
    if not path.exists():
        raise UsageError(t("knowledge base {path}: no such file or directory", path=echoed(str(path))))
    return [path]


class KbFile(NamedTuple):
    """One KB file as read, once: the cache key is hashed from these bytes and the loader parses
    these same bytes, so an edit in between cannot pair one content with another's key."""

    path: Path
    data: bytes | None  # None when it could not be read
    problem: str = ""  # why, then


_READ_CHUNK = 1 << 16


def read_kb_file(path: Path, regular_only: bool = False) -> KbFile:
    """The file's bytes, read through one descriptor and bounded by MAX_FILE_BYTES whatever
    `stat` says. With `regular_only` (files found in a directory) anything but a regular file
    is refused: a FIFO there would block the run forever. A file named on purpose may be a pipe
    (`--kb <(generate-kb)`)."""
    # O_NONBLOCK: opening a FIFO would otherwise wait for a writer before fstat could refuse it.
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    if regular_only and _links_out_of(path):
        return KbFile(path, None, "cannot read: a symbolic link to a file outside the knowledge base")
    try:
        handle = os.open(path, flags)
    except OSError as error:
        return KbFile(path, None, f"cannot read: {error.strerror or type(error).__name__}")
    try:
        regular = stat.S_ISREG(os.fstat(handle).st_mode)
        if not regular:
            if regular_only:
                return KbFile(path, None, "cannot read: not a regular file")
            os.set_blocking(handle, True)
        chunks: list[bytes] = []
        size = 0
        while size <= MAX_FILE_BYTES and (chunk := os.read(handle, _READ_CHUNK)):
            chunks.append(chunk)
            size += len(chunk)
    except OSError as error:
        return KbFile(path, None, f"cannot read: {error.strerror or type(error).__name__}")
    finally:
        os.close(handle)
    if size > MAX_FILE_BYTES:
        # A device that never ends (/dev/zero) is not a file that grew too large (a review).
        kind = "file is larger than" if regular else "cannot read: not a regular file, and it gave more than"
        return KbFile(path, None, f"{kind} the {MAX_FILE_BYTES}-byte limit")
    if not regular and not size:
        # A FIFO that nothing writes to reads as empty at once: "file is empty" misled (a review).
        return KbFile(path, None, "cannot read: not a regular file, and nothing was written to it")
    return KbFile(path, b"".join(chunks))


def _links_out_of(path: Path) -> bool:
    """A directory's entry that is a symbolic link to a file outside that directory: a KB is
    untrusted (a cloned repository), and such a link would read, and its errors quote, any file
    the user can read (an attacker's review: a link to /etc/shadow printed its lines)."""
    if not path.is_symlink():
        return False
    try:
        target = path.resolve(strict=True)
    except (OSError, RuntimeError):
        return False  # a dangling or looping link: opening it says why
    return target.parent != path.parent.resolve()


def read_kb(path: Path) -> list[KbFile]:
    """Every file of the KB at `path`, each read once (see KbFile), until they pass MAX_KB_BYTES
    together: the rest are not read."""
    in_directory = path.is_dir()
    found, total = [], 0
    for file in kb_files(path):
        if total > MAX_KB_BYTES:
            found.append(
                KbFile(file, None, f"not read: the knowledge base's files pass {MAX_KB_BYTES} bytes")
            )
            continue
        read = read_kb_file(file, regular_only=in_directory)
        total += len(read.data or b"")
        found.append(read)
    return found
