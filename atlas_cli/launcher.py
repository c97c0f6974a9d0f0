"""The `ft-atlas` entry point. `--version` is answered before typer and the app are imported,
so scripts that probe the version pay only for the interpreter, and `recommend ... --json`
runs without typer (see fastpath.py)."""

from __future__ import annotations

import sys


def main() -> None:
    args = sys.argv[1:]
    if args == ["--version"]:
        from atlas_cli import __version__

        sys.exit(_print_version(f"ft-atlas {__version__}\n"))
    try:
        from atlas_cli.errors import prepare_streams

        prepare_streams()
        from atlas_cli.batch.fastpath import recommend_json

        code = recommend_json(args)
        if code is not None:
            sys.exit(code)
        from atlas_cli.cli import main as run
    except KeyboardInterrupt:  # Ctrl-C while the modules load: the commands handle it after
        # Imported again: an interrupt inside errors' own import leaves it out of sys.modules.
        from atlas_cli.errors import EXIT_INTERRUPTED, fail

        sys.exit(fail("Aborted.", EXIT_INTERRUPTED))
    run()


def _print_version(text: str) -> int:
    """errors.write_stdout's rules without importing it (and `re`): a reader that went away is
    exit 0, a full disk exit 1 with a message, never a traceback at exit."""
    import os

    if sys.stdout is None:  # started with stdout closed: the answer is lost (errors._ClosedOutput)
        if sys.stderr is not None:
            sys.stderr.write("ft-atlas: cannot write the output: standard output is closed\n")
        return 1
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
        return 0
    except OSError as error:
        full = not isinstance(error, BrokenPipeError)
        if full and sys.stderr is not None:
            sys.stderr.write(f"ft-atlas: cannot write the output: {error.strerror or error}\n")
        devnull = os.open(os.devnull, os.O_WRONLY)  # what is still buffered is dropped at exit
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return 1 if full else 0
