"""Start-up discipline: what a bare `--version`, `--help` and a cached `recommend --json` load.

Timing lives in benchmarks/run.py; these tests guard the causes of slow start-up instead.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

PROBE = """
import sys
sys.argv = ["ft-atlas", *{args!r}]
from atlas_cli.launcher import main
try:
    main()
except SystemExit:
    pass
import json
print(json.dumps(sorted(sys.modules)), file=sys.stderr)
"""
HEAVY_CORE = {
    "atlas_cli.core.engine",
    "atlas_cli.core.memory",
    "atlas_cli.kb.loading",
    "atlas_cli.kb.schema",
    "yaml",
}


def loaded_modules(*args: str) -> set[str]:
    env = {**os.environ, "NO_COLOR": "1"}
    result = subprocess.run(
        [sys.executable, "-c", PROBE.format(args=list(args))],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=True,
    )
    return set(json.loads(result.stderr.strip().splitlines()[-1]))


def test_version_loads_neither_typer_nor_the_core() -> None:
    modules = loaded_modules("--version")
    assert "typer" not in modules
    assert not HEAVY_CORE & modules


def test_help_does_not_load_the_core() -> None:
    modules = loaded_modules("--help")
    assert not HEAVY_CORE & modules
    assert "atlas_cli.render.plans" not in modules


def test_cached_recommend_json_loads_no_yaml_no_rich_and_no_typer() -> None:
    args = ("recommend", "--gpu", "rtx-3090", "--model-size", "7b", "--json")
    loaded_modules(*args)  # fills the KB cache
    modules = loaded_modules(*args)
    assert "atlas_cli.core.engine" in modules
    assert "yaml" not in modules and "atlas_cli.kb.yamlsafe" not in modules
    assert not {m for m in modules if m == "rich" or m.startswith("rich.")}
    assert not {m for m in modules if m == "typer" or m.startswith("typer.")}  # fastpath.py
