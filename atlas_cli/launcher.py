"""The `ft-atlas` entry point. `--version` is answered before typer and the app are imported,
so scripts that probe the version pay only for the interpreter."""

from __future__ import annotations

import sys


def main() -> None:
    if sys.argv[1:] == ["--version"]:
        from atlas_cli import __version__

        sys.stdout.write(f"ft-atlas {__version__}\n")
        return
    from atlas_cli.cli import main as run

    run()
