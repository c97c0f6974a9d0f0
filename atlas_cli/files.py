"""Writing output files (`recipe --out`): atomically, and never over an existing file unasked.

Each file is written to a temporary file in its own directory, flushed to disk, then renamed
into place, so a full disk or an interrupted run leaves the old file (or nothing) where the user
looks, never half a file. Without `force` an existing path is refused, and the final step is a
hard link, which fails rather than replace a file that appeared in the meantime. A symbolic link
in place of a file is never written through: without `force` it is refused, with `force` the
link itself is replaced. A directory reached through a link is written into only if the link is
the user's (or root's). Directories, devices and FIFOs are always refused (use `-` for stdout).

Failures map to the documented exit codes: a refusal is a UsageError (2), an I/O error a
WriteFailed (1), as a failed write to stdout is.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from collections.abc import Mapping
from pathlib import Path

from atlas_cli.errors import BAD_PATH_ERRORS, UsageError, WriteFailed
from atlas_cli.i18n import t

# Where hard links are not supported, the check for an existing file and the rename are two steps.
_NO_HARD_LINKS = {errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EXDEV, errno.EMLINK, errno.ENOSYS}


def write_new(path: Path, text: str, force: bool = False, what: str = "--out") -> None:
    """Write `text` (UTF-8) to `path` atomically; refuse to replace anything unless `force`."""
    write_new_files({path: text}, force, what)


def write_new_files(files: Mapping[Path, str], force: bool = False, what: str = "--out") -> None:
    """Write several files (a directory output) as a set: every target is checked, then every
    file is written to its temporary, and only then are they renamed into place, each file it
    replaces (--force) set aside first. A refusal, a full disk or a failed rename leaves the
    directory as it was (a config never sits there without the launcher file it names)."""
    for path in files:
        _check_target(path, force, what)
    staged: list[tuple[Path, Path]] = []
    created: list[Path] = []
    aside: list[tuple[Path, Path]] = []  # (a replaced file, where its old content waits)
    try:
        for path, text in files.items():
            staged.append((_staged(path, text, what), path))
        for temporary, path in staged:
            fresh = not os.path.lexists(path)
            if not fresh and force:
                aside.append((path, _set_aside(path, what)))
            _published(temporary, path, force, what)
            if fresh:  # only once it is ours: a file another process made meanwhile is never removed
                created.append(path)
        for _, old in aside:  # every file is in place: the old contents go
            with contextlib.suppress(OSError):
                os.unlink(old)
    except BaseException:
        for path in created:  # the set is all or nothing: the files this call made go again
            with contextlib.suppress(OSError):
                os.unlink(path)
        for path, old in aside:  # and the ones it replaced come back
            with contextlib.suppress(OSError):
                os.replace(old, path)
        raise
    finally:
        for temporary, _ in staged:
            with contextlib.suppress(OSError):
                os.unlink(temporary)  # gone already after a rename; a leftover after a failure
    for directory in dict.fromkeys(path.parent for path in files):
        _sync_directory(directory)


def _set_aside(path: Path, what: str) -> Path:
    """Move a file about to be replaced to a temporary name beside it, to restore on failure."""
    try:
        handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name[:64]}.", suffix=".old")
        os.close(handle)
        os.replace(path, name)
    except OSError as error:
        raise _cannot_write(path, what, error) from None
    return Path(name)


# A place the system has no such directory to make (under /proc): the path is the user's to change.
# One it will not let us make (permissions, a read-only system) is an output that could not be
# written, exit 1, as writing a file there is (an attacker's review: export said 2, recipe 1).
UNMAKEABLE_DIRECTORY_ERRORS = frozenset({errno.ENOENT})


def make_output_dir(out: Path, what: str = "--out") -> None:
    """The directory --out names, made if missing. A file where the directory should be, or a
    place the system has none to make, is the user's to change (exit 2, as --out naming a device
    is); anything else that stops it, permissions included, is an I/O error (exit 1, as a failed
    write to stdout or to a file in an unwritable directory)."""
    foreign = _foreign_link(out)
    if foreign is not None:
        raise _link_refused(foreign, what)
    if out.is_symlink() and not out.is_dir():
        raise _link_refused(out, what)
    blocking = next((p for p in (out, *out.parents) if p.exists() and not p.is_dir()), None)
    if blocking is not None:
        raise UsageError(t("{what}: {path} is a file, not a directory", what=what, path=blocking))
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        message = t(
            "{what}: cannot create {path}: {reason}", what=what, path=out, reason=error.strerror or error
        )
        # A path the system has no directory to make at (under /proc) is the user's to change;
        # permissions, a read-only system, a full disk or a failing device are I/O errors.
        refused = error.errno in BAD_PATH_ERRORS | UNMAKEABLE_DIRECTORY_ERRORS
        raise (UsageError(message) if refused else WriteFailed(message)) from None


def _foreign_link(path: Path) -> Path | None:
    """The first symbolic link another user made (root's aside, as macOS's /tmp) on the way to
    `path`, itself included: in a shared directory it would have the files written where that user
    points it, one directory down too (a diff review). The user's own links are followed, as the
    kernel's protected_symlinks does and as the cache's path is checked (kb/cache.py)."""
    if not hasattr(os, "getuid"):
        return None
    for step in reversed((path, *path.parents)):
        try:
            info = os.lstat(step)
        except OSError:
            return None  # from here on nothing exists to point anywhere
        if stat.S_ISLNK(info.st_mode) and info.st_uid not in (os.getuid(), 0):
            return step
    return None


def _link_refused(path: Path, what: str) -> UsageError:
    return UsageError(
        t(
            "{what}: {path} is a symbolic link to no directory, or one another user owns; ft-atlas "
            "writes only through the user's own links (give the directory it points to)",
            what=what,
            path=path,
        )
    )


# The system's own files are never replaced or written through: /dev/stdout is a link (to
# /proc/self/fd/1) that --force replaced with a file, as root in a container may (an attacker's
# review). A new name there fails as the system says (none can be made under /proc).
# /dev/shm is a plain shared-memory file system that files may be written to.
SYSTEM_DIRECTORIES = ("/dev", "/proc", "/sys")
WRITABLE_SYSTEM_DIRECTORIES = ("/dev/shm",)


def _in_system_directory(path: Path) -> bool:
    real = os.path.realpath(path.parent)

    def under(tops: tuple[str, ...]) -> bool:
        return any(real == top or real.startswith(top + "/") for top in tops)

    return under(SYSTEM_DIRECTORIES) and not under(WRITABLE_SYSTEM_DIRECTORIES)


def _check_target(path: Path, force: bool, what: str) -> None:
    foreign = _foreign_link(path.parent)
    if foreign is not None:
        raise _link_refused(foreign, what)
    if os.path.lexists(path) and _in_system_directory(path):
        raise UsageError(t("{what}: {path} is not a regular file; use - for stdout", what=what, path=path))
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        _check_directory_exists(path, what)
        return
    except OSError:
        return  # e.g. a parent that is a file: writing reports it as the I/O error it is
    if stat.S_ISLNK(info.st_mode):
        if not force:
            raise UsageError(
                t(
                    "{what}: {path} is a symbolic link; ft-atlas does not write through links "
                    "(--force replaces the link itself with the file)",
                    what=what,
                    path=path,
                )
            )
        try:
            target = os.stat(path)
        except OSError:
            return  # a dangling link: the link is replaced
        if not stat.S_ISREG(target.st_mode):
            raise UsageError(
                t(
                    "{what}: {path} links to something that is not a file; use - for stdout",
                    what=what,
                    path=path,
                )
            )
        return
    if not stat.S_ISREG(info.st_mode):
        raise UsageError(t("{what}: {path} is not a regular file; use - for stdout", what=what, path=path))
    if not force:
        raise UsageError(t("{what}: {path} already exists; pass --force to replace it", what=what, path=path))


def _check_directory_exists(path: Path, what: str) -> None:
    """A file is written into a directory that exists: a missing one is a mistyped path or a step
    not taken, the user's to fix (exit 2), not an I/O error. It is not made, so that a typo does
    not leave new directories behind; --out DIR/ asks for one (make_output_dir)."""
    if not os.path.exists(path.parent):  # missing, or a link to nothing (a file there is an I/O error)
        raise UsageError(
            t(
                "{what}: {path}: the directory {directory} does not exist; create it first",
                what=what,
                path=path,
                directory=path.parent,
            )
        )


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _cannot_write(path: Path, what: str, error: OSError) -> WriteFailed | UsageError:
    """Why `path` cannot be written: bad input when the path itself names no file the system can
    make (too long, a file where a directory should be, a loop of links, a place with no such
    directory, as under /proc), else an I/O error."""
    message = t("{what}: cannot write {path}: {reason}", what=what, path=path, reason=error.strerror or error)
    # As for a directory there (make_output_dir): /proc has none to make, a full disk is an I/O error.
    refused = error.errno in BAD_PATH_ERRORS | UNMAKEABLE_DIRECTORY_ERRORS
    return UsageError(message) if refused else WriteFailed(message)


def _staged(path: Path, text: str, what: str) -> Path:
    """`text` (UTF-8) in a temporary file next to `path`, flushed to disk."""
    try:
        # The name is cut so that a name near the 255-byte limit still leaves room for the rest.
        handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name[:64]}.", suffix=".tmp")
    except OSError as error:
        raise _cannot_write(path, what, error) from None
    temporary = Path(name)
    try:
        with os.fdopen(handle, "wb") as out:
            # A path that is not UTF-8 (its bytes kept as surrogates) is written escaped, so the
            # file stays valid UTF-8 (Python refuses a source file that is not).
            out.write(text.encode("utf-8", "backslashreplace"))
            out.flush()
            if hasattr(os, "fchmod"):  # mkstemp makes it 0600; a new file gets the usual mode
                os.fchmod(out.fileno(), 0o666 & ~_umask())
            os.fsync(out.fileno())
    except BaseException as error:  # Ctrl-C too: no temporary is left behind
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        if isinstance(error, OSError):
            raise _cannot_write(path, what, error) from None
        raise
    return temporary


def _published(temporary: Path, path: Path, force: bool, what: str) -> None:
    try:
        _publish(temporary, path, force, what)
    except OSError as error:
        raise _cannot_write(path, what, error) from None


def _publish(temporary: Path, path: Path, force: bool, what: str) -> None:
    if force:
        os.replace(temporary, path)
        return
    try:
        os.link(temporary, path)  # fails if the name was taken meanwhile: nothing is replaced
    except FileExistsError:
        raise UsageError(
            t("{what}: {path} already exists; pass --force to replace it", what=what, path=path)
        ) from None
    except OSError as error:
        if error.errno not in _NO_HARD_LINKS:
            raise
        if os.path.lexists(path):
            raise UsageError(
                t("{what}: {path} already exists; pass --force to replace it", what=what, path=path)
            ) from None
        os.replace(temporary, path)


def _sync_directory(directory: Path) -> None:
    """Make the rename itself durable; not every system can open a directory for that."""
    with contextlib.suppress(OSError):
        handle = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            os.fsync(handle)
        finally:
            os.close(handle)
