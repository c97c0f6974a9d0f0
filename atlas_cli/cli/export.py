"""`ft-atlas export`: the atlas regenerated from the knowledge base, as Markdown pages or one
self-contained HTML page (atlas_cli/export/)."""

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from atlas_cli.cli.app import command, state
from atlas_cli.cli.options import one_of
from atlas_cli.errors import UsageError, echoed, printable, status
from atlas_cli.export.registry import format_names
from atlas_cli.i18n import t

# What names a file, not the directory of pages --out takes.
PAGE_SUFFIXES = frozenset({".html", ".htm", ".md", ".markdown", ".txt", ".json"})


@command("Knowledge base")
def export(
    fmt: Annotated[
        str,
        typer.Option(
            "--format", "-f", help=f"[{'|'.join(format_names())}]: Markdown pages or one HTML page."
        ),
    ] = "markdown",
    out: Annotated[
        Optional[str],
        typer.Option(
            "--out",
            help="Directory to write the pages to (created if missing); without it, one document on stdout.",
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Let --out replace existing files.")] = False,
) -> None:
    """The atlas as a document: the guide's sections, every method's card, the corrections,
    memory / time / cost on common GPUs, and references. --lang ru writes the guide's Russian.

    Examples: ft-atlas export --out atlas/ · ft-atlas export --format html --lang ru --out atlas/
    """
    from atlas_cli.export.content import build_atlas
    from atlas_cli.export.registry import export_formats
    from atlas_cli.files import make_output_dir, write_new_files

    chosen = export_formats()[str(one_of("--format", fmt.lower(), format_names()))]
    atlas = build_atlas(state.catalog(), state.lang)
    if out is not None and not out.strip():  # Path("") is the current directory
        raise UsageError(t("--out: empty path (give a directory, or - for stdout)"))
    if out is None or out == "-":
        # Knowledge-base text must not reach a terminal as control sequences (or sit in a file
        # that a `cat` later plays): escaped here as every other output is.
        sys.stdout.write(printable(chosen.document(atlas)))
        return
    folder = Path(out)
    if folder.suffix.lower() in PAGE_SUFFIXES and not folder.exists():
        # An attacker's review: --out page.html made a directory named page.html.
        raise UsageError(
            t(
                "--out {path}: export writes a directory of pages; give a directory (--out atlas/), or - "
                "for one document on stdout (ft-atlas export --format {format} > {path})",
                path=echoed(out),
                format=chosen.name,
            )
        )
    make_output_dir(folder)
    files = chosen.files(atlas)
    write_new_files({folder / name: printable(text) for name, text in files.items()}, force=force)
    written = ", ".join(str(folder / name) for name in files)
    status(t("wrote {path}", path=written))
