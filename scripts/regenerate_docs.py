"""Rewrite everything in the docs that is generated: the sections of docs/*.md and README.md
between markers (see atlas_cli/render/docs.py), the atlas in docs/atlas/ (`ft-atlas export`'s
English Markdown pages) and the pictures in docs/images/ (scripts/pictures.py). One command after
a change to the output: `python scripts/regenerate_docs.py`."""

from __future__ import annotations

import os
import sys
from functools import partial
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from atlas_cli.core.engine import Engine  # noqa: E402
from atlas_cli.core.profile import build_profile  # noqa: E402
from atlas_cli.export.content import build_atlas  # noqa: E402
from atlas_cli.export.registry import export_formats  # noqa: E402
from atlas_cli.recipes.writer import render_recipe  # noqa: E402
from atlas_cli.render.docs import Sections, regenerate  # noqa: E402
from benchmarks.published import load_catalog, report, throughput_table, wall_time_table  # noqa: E402

# docs/recipes.md's examples: one recipe per format, for a chat and a preference profile, and
# mlx-lm's QLoRA on a Mac.
RECIPE_EXAMPLES = {
    "python": {"gpu": "rtx-3090", "model": "llama-3.1-8b", "goal": "chat"},
    "llamafactory": {"gpu": "rtx-3090", "model": "llama-3.1-8b", "data_kind": "preferences"},
    "axolotl": {"gpu": "rtx-3090", "model": "llama-3.1-8b", "data_kind": "preferences"},
    "mlx": {
        "gpu": "M3 Max 64GB",
        "model": "gemma-3-27b-it",
        "goal": "chat",
        "data_kind": "demonstrations",
        "examples": "2k",
    },
}


def _recipe_block(fmt: str) -> str:
    catalog = load_catalog()
    rec = Engine(catalog).recommend(build_profile(RECIPE_EXAMPLES[fmt]))
    text = render_recipe(catalog, rec, 1, fmt)
    return f"```{'python' if fmt == 'python' else 'yaml'}\n{text.rstrip()}\n```"


# The README's text examples: real runs, 80 columns wide, cut after so many lines (None: whole).
README_EXAMPLES: dict[str, tuple[str, int | None]] = {
    "recommend-example": ("recommend --gpu rtx-3090 --model-size 7b --goal chat", 67),
    "estimate-example": ("estimate --method qlora --model llama-3.1-70b --gpu a100-80gb", None),
    "cost-example": (
        "recommend --gpu rtx-4090 --model llama-3.1-8b --goal chat --examples 10k --priority cost --top 2",
        21,
    ),
    "russian-example": (
        "--lang ru recommend --gpu rtx-4090 --model llama-3.1-8b --goal chat --examples 10k --top 3",
        21,
    ),
}


def _example(command: str, lines: int | None) -> str:
    """A README example: the command and what it prints, 80 columns wide, without colour."""
    import subprocess

    args = command.split()
    env = {**os.environ, "COLUMNS": "80", "NO_COLOR": "1", "FT_ATLAS_LANG": ""}
    run = subprocess.run(
        [sys.executable, "-m", "atlas_cli", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        check=True,
        encoding="utf-8",
    )
    printed = run.stdout.splitlines()
    cut = lines is not None and len(printed) > lines
    body = "\n".join(line.rstrip() for line in printed[:lines]) + ("\n..." if cut else "")
    return f"```text\n$ ft-atlas {command}\n{body}\n```"


def benchmark_sections() -> Sections:
    """Sections generated outside the package: benchmarks/' calibration tables and the recipes
    docs/recipes.md shows."""
    return {
        "memory-calibration": lambda: report(load_catalog()),
        "time-calibration": lambda: throughput_table(load_catalog()),
        "wall-time-calibration": lambda: wall_time_table(load_catalog()),
        **{name: partial(_example, *example) for name, example in README_EXAMPLES.items()},
        **{f"recipe-{fmt}": partial(_recipe_block, fmt) for fmt in RECIPE_EXAMPLES},
        "usage-commands": lambda: usage_commands(),
        "validate-example": lambda: validate_example(),
    }


ATLAS_DIR = REPO / "docs" / "atlas"


def atlas_pages() -> dict[Path, str]:
    """docs/atlas/: what `ft-atlas export --out docs/atlas` writes for the bundled KB in English."""
    atlas = build_atlas(load_catalog(), "en")
    return {ATLAS_DIR / name: text for name, text in export_formats()["markdown"].files(atlas).items()}


def write_if_changed(path: Path, text: str) -> None:
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(f"regenerated {path.relative_to(REPO)}")


def main() -> None:
    for path in [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]:
        text = path.read_text(encoding="utf-8")
        write_if_changed(path, regenerate(text, benchmark_sections()))
    pages = atlas_pages()
    for path, text in pages.items():
        write_if_changed(path, text)
    for old in sorted(ATLAS_DIR.glob("*.md")):
        if old not in pages:
            old.unlink()
            print(f"removed {old.relative_to(REPO)}")
    from scripts import pictures

    pictures.main()


# --- docs/usage.md: every command and flag, read from the typer app itself ----------------------


def _option_row(param: Any) -> str:
    """A flag's row: its names and help (the help states defaults where they matter)."""
    names = ", ".join(f"`{n}`" for n in [*param.opts, *param.secondary_opts])
    envvar = f" Environment: `{param.envvar}`." if getattr(param, "envvar", None) else ""
    text = " ".join((getattr(param, "help", None) or "").split()).replace("|", "\\|")
    return f"| {names} | {text}{envvar} |"


def usage_commands() -> str:
    """Each command: its summary, its example and its flags, from the click commands typer builds."""
    import typer.main

    from atlas_cli.cli import GROUP_ORDER, load_commands
    from atlas_cli.cli.app import app

    load_commands([])
    group = typer.main.get_command(app)
    commands = getattr(group, "commands", {})
    globals_ = {"--kb", "--no-color", "--lang", "--debug"}
    out = ["| global option | meaning |", "|---|---|"]
    out += [_option_row(p) for p in group.params if p.name != "version"]
    out.append("")
    assert GROUP_ORDER  # the commands are listed as --help lists them: by panel, then by name
    for name in sorted(commands, key=lambda n: (commands[n].rich_help_panel or "", n)):
        command = commands[name]
        summary = " ".join((command.help or "").split())
        params = [p for p in command.params if not p.hidden and not (set(p.opts) & globals_)]
        out += [f"### `ft-atlas {name}`", "", summary, ""]
        if params:
            out += ["| flag | meaning |", "|---|---|", *(_option_row(p) for p in params), ""]
    return "\n".join(out)


# A rule added to a copy of the bundled KB, with the mistakes people make: a misspelt fact, a
# value of the wrong type, an unknown method and a misspelt effect.
BAD_RULE = """  - id: my-first-rule
    methods: [lora, qlora, my-lora]
    when:
      all:
        - {fact: gpu_memroy_gb, op: ge, value: 40}
        - {fact: examples, op: ge, value: many}
    effect: {action: prefr, weight: 2}
    because: "Big cards and many examples: an adapter is enough."
    source: my notes

"""


def validate_example() -> str:
    """docs/knowledge-base.md: what `ft-atlas validate` prints for a KB with mistakes (a real run
    of the command, in a subprocess, on a copy of data/ with BAD_RULE added)."""
    import shutil
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory() as directory:
        kb = Path(directory) / "my-kb"
        shutil.copytree(REPO / "data", kb)
        rules = kb / "rules.yaml"
        rules.write_text(rules.read_text(encoding="utf-8").replace("rules:\n", "rules:\n" + BAD_RULE, 1))
        env = {**os.environ, "NO_COLOR": "1", "FT_ATLAS_NO_CACHE": "1", "COLUMNS": "100"}
        result = subprocess.run(
            [sys.executable, "-m", "atlas_cli", "validate", "my-kb"],
            capture_output=True,
            text=True,
            cwd=directory,
            env=env,
            check=False,
        )
    shown = (result.stdout + result.stderr).rstrip()
    return f"```text\n$ ft-atlas validate my-kb\n{shown}\n$ echo $?\n{result.returncode}\n```"


if __name__ == "__main__":
    main()
