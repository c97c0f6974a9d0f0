"""Every `ft-atlas` command the README and docs/ show in a code block runs as shown (issue 21):
a command that stopped working, or a flag that was renamed, fails here. Commands inside generated
sections are real runs already (scripts/regenerate_docs.py); placeholders such as `[--plan RANK]`
are syntax, not commands."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parent.parent
PAGES = [REPO / "README.md", REPO / "CONTRIBUTING.md", *sorted((REPO / "docs").glob("*.md"))]
GENERATED = re.compile(r"<!-- generated: ([\w-]+) -->.*?<!-- end: \1 -->", re.S)
BLOCK = re.compile(r"```\w*\n(.*?)```", re.S)


def shown_commands() -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for page in PAGES:
        text = GENERATED.sub("", page.read_text(encoding="utf-8"))
        for block in BLOCK.findall(text):
            for line in block.replace("\\\n", " ").splitlines():
                command = line.strip().removeprefix("$ ").split(" #")[0].strip()
                if command.startswith("ft-atlas ") and "[" not in command.split(" | ")[0]:
                    found.append((page.name, command))
    return found


COMMANDS = shown_commands()


def test_the_docs_show_commands() -> None:
    assert len(COMMANDS) >= 8


@pytest.mark.parametrize(("page", "command"), COMMANDS, ids=[f"{p}: {c[:60]}" for p, c in COMMANDS])
def test_every_command_in_the_docs_runs(page: str, command: str, tmp_path: Path) -> None:
    ft_atlas, _, pipe = command.partition(" | ")
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "100", "PYTHONPATH": str(REPO)}
    result = subprocess.run(
        [sys.executable, "-m", "atlas_cli", *shlex.split(ft_atlas)[1:]],
        capture_output=True,
        text=True,
        cwd=tmp_path,  # --out writes here
        env=env,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, (page, command, result.stderr[-2000:])
    assert result.stdout or list(tmp_path.iterdir()), (page, command)
    if pipe.startswith("jq ") and shutil.which("jq"):  # the jq recipes of docs/json.md
        filtered = subprocess.run(
            ["jq", "-e", *shlex.split(pipe)[1:]],
            input=result.stdout,
            capture_output=True,
            text=True,
            check=False,
        )
        assert filtered.returncode == 0 and filtered.stdout.strip() not in ("", "null", "[]"), (
            command,
            filtered,
        )
