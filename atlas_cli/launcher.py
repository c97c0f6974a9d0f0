"""The `ft-atlas` entry point. `--version` is answered before typer and the app are imported,
so scripts that probe the version pay only for the interpreter, and `recommend ... --json`
runs without typer (see fastpath.py)."""

from __future__ import annotations

import sys


def main() -> None:
    args = sys.argv[1:]
    if args == ["--version"]:
        from atlas_cli import __version__
        from atlas_cli.errors import write_stdout

        sys.exit(write_stdout(f"ft-atlas {__version__}\n"))
    from atlas_cli.errors import EXIT_INTERRUPTED, fail, prepare_streams

    prepare_streams()
    try:
        from atlas_cli.batch.fastpath import recommend_json

        code = recommend_json(args)
        if code is not None:
            sys.exit(code)
        from atlas_cli.cli import main as run
    except KeyboardInterrupt:  # Ctrl-C while the modules load: the commands handle it after
        sys.exit(fail("Aborted.", EXIT_INTERRUPTED))
    run()
