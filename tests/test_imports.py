"""Start-up discipline: what a bare `--version`, `--help` and a cached `recommend --json` load.

Timing lives in benchmarks/run.py; these tests guard the causes of slow start-up instead.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

PROBE = """
import sys
from pathlib import Path
sys.argv = ["ft-atlas", *{args!r}]
from atlas_cli.launcher import main
try:
    main()
except SystemExit:
    pass
import ast
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
    assert "atlas_cli.render.contracts" not in modules  # 40 TypedDicts, for `schema` and mypy
    assert "atlas_cli.core.questionnaire" not in modules  # `ask`'s interview (~4 ms to import)


def test_a_batch_loads_neither_typer_nor_pydantic(tmp_path: Path) -> None:
    """Whatever a batch imports stays resident in each of its processes (typer with pydantic:
    ~14 MB apiece)."""
    profiles = tmp_path / "profiles.jsonl"
    profiles.write_text('{"gpu": "rtx-3090", "model_size": "7b"}\n', encoding="utf-8")
    loaded_modules("recommend", "--batch", str(profiles))  # fills the KB cache
    modules = loaded_modules("recommend", "--batch", str(profiles))
    assert "atlas_cli.batch.runner" in modules
    assert not {m for m in modules if m.split(".")[0] in ("typer", "click", "pydantic", "rich")}


def test_cached_recommend_builds_no_validator() -> None:
    """A cached run trusts the KB it validated: building one pydantic validator (a model made
    with validation, e.g. the shape of a bare size) costs ~25 ms and loads pydantic's plugin
    loader, which is how this test sees it."""
    for args in (
        ("recommend", "--gpu", "rtx-3090", "--model-size", "7b", "--goal", "chat", "--json"),
        ("recommend", "--gpu", "a100-80gb", "--model", "llama-3.1-8b", "--goal", "align", "--json"),
    ):
        loaded_modules(*args)  # fills the KB cache
        assert "pydantic.plugin._loader" not in loaded_modules(*args), args


MODEL_MACHINERY = {"atlas_cli.kb.schema", "pydantic.main", "pydantic._internal._model_construction"}


def test_cached_recommend_json_builds_no_model_class() -> None:
    """A cached KB is decoded into plain records (kb/records.py): defining the schema's pydantic
    models, and the model machinery that takes, cost a fresh process ~55 ms (docs/performance.md)."""
    for args in (
        ("recommend", "--gpu", "rtx-3090", "--model-size", "7b", "--goal", "chat", "--json"),
        ("recommend", "--gpu", "a100-80gb", "--model", "llama-3.1-8b", "--goal", "align", "--json"),
        ("recommend", "--gpu", "m3-max", "--model-size", "70b", "--explain", "--json"),
    ):
        loaded_modules(*args)  # fills the KB cache
        modules = loaded_modules(*args)
        assert "atlas_cli.kb.records" in modules, args
        assert not MODEL_MACHINERY & modules, args


def test_cached_batch_does_not_define_the_schema(tmp_path: Path) -> None:
    """Batch runs through the typer CLI, which imports pydantic itself; the KB's models stay out."""
    source = tmp_path / "profiles.jsonl"
    source.write_text('{"gpu": "rtx-3090", "model_size": "7b"}\n', encoding="utf-8")
    loaded_modules("recommend", "--batch", str(source))  # fills the KB cache
    modules = loaded_modules("recommend", "--batch", str(source))
    assert "atlas_cli.batch.runner" in modules
    assert "atlas_cli.kb.schema" not in modules


# --- the layers: cli -> batch / export -> recipes / render -> core -> kb -----------------------------------

# batch prints the JSON documents render defines, so it sits just above render; export reads the
# cards' content model from render, so it sits there too.
LAYER = {"kb": 0, "core": 1, "recipes": 2, "render": 2, "batch": 3, "export": 3, "cli": 4}
PACKAGE = Path(__file__).resolve().parent.parent / "atlas_cli"


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def _layer(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "atlas_cli" and parts[1] in LAYER else None


def test_imports_run_one_way() -> None:
    """No module imports a layer above its own (lazy imports inside functions count too), and
    the core never imports typer or rich."""
    wrong = []
    for path in sorted(PACKAGE.rglob("*.py")):
        own = _layer("atlas_cli." + ".".join(path.relative_to(PACKAGE).with_suffix("").parts))
        if own is None:
            continue
        for module in _imports(path):
            other = _layer(module)
            if other is not None and other != own and LAYER[other] >= LAYER[own]:
                wrong.append(f"{path.relative_to(PACKAGE)} imports {module}")
            if own in ("kb", "core") and module.split(".")[0] in ("typer", "rich"):
                wrong.append(f"{path.relative_to(PACKAGE)} imports {module}")
    assert not wrong, "\n".join(wrong)
