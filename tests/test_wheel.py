"""The package as users get it: build the wheel, install it (not editable) into a fresh virtual
environment without the system's or this environment's site-packages, and run it from a directory
that is not the checkout, so the bundled knowledge base must come from inside the wheel.

Marked slow (it builds and installs; dependencies come from the pip cache or PyPI), but not
skipped: CI runs it.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
TIMEOUT = 300


def _env(**extra: str) -> dict[str, str]:
    drop = ("PYTHONPATH", "PYTHONHOME", "FT_ATLAS_KB", "NO_COLOR", "FORCE_COLOR", "COLUMNS", "VIRTUAL_ENV")
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update(extra)
    return env


def _run(args: list[str], cwd: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args,
        cwd=cwd,
        env=_env(**extra),
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=TIMEOUT,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def _checked(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert result.returncode == 0, (
        f"{result.args}\nstdout: {result.stdout[-2000:]}\nstderr: {result.stderr[-4000:]}"
    )
    return result


def build_wheel(out: Path) -> Path:
    """With `build` and the backend (hatchling) at hand, build without an isolated environment
    (no download); otherwise let pip build it in an isolated one."""
    have_backend = importlib.util.find_spec("build") and importlib.util.find_spec("hatchling")
    if have_backend:
        command = [
            sys.executable,
            "-m",
            "build",
            "--wheel",
            "--no-isolation",
            "--outdir",
            str(out),
            str(REPO),
        ]
    else:
        command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--wheel-dir", str(out), str(REPO)]
    _checked(_run(command, cwd=out))
    [wheel] = out.glob("ft_atlas-*.whl")
    return wheel


def install(wheel: Path, target: Path) -> Path:
    """A fresh venv (no system site-packages) with the wheel and its dependencies; returns its bin/."""
    venv.create(target, system_site_packages=False, with_pip=False, clear=True)
    scripts = target / ("Scripts" if os.name == "nt" else "bin")
    python = scripts / ("python.exe" if os.name == "nt" else "python")
    # This environment's pip installs into the new one (pip >= 22.3): faster than ensurepip.
    command = [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-input", str(wheel)]
    result = _run(command, cwd=target.parent, PIP_DISABLE_PIP_VERSION_CHECK="1")
    if result.returncode != 0 and "no such option: --python" in result.stderr:
        venv.create(target, system_site_packages=False, with_pip=True, clear=True)
        result = _run([str(python), "-m", "pip", "install", "--no-input", str(wheel)], cwd=target.parent)
    _checked(result)
    return scripts


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(bin directory of the fresh venv, the built wheel)."""
    base = tmp_path_factory.mktemp("wheel")
    dist = base / "dist"
    dist.mkdir()
    wheel = build_wheel(dist)
    return install(wheel, base / "venv"), wheel


@pytest.fixture
def elsewhere(tmp_path: Path) -> Path:
    """A working directory with no `data/` and no `atlas_cli/` in it."""
    path = tmp_path / "somewhere-else"
    path.mkdir()
    return path


@pytest.mark.slow
def test_wheel_contains_the_knowledge_base(installed: tuple[Path, Path]) -> None:
    _, wheel = installed
    names = zipfile.ZipFile(wheel).namelist()
    data = {n.removeprefix("atlas_cli/data/") for n in names if n.startswith("atlas_cli/data/")}
    # The KB and its Russian catalog (data/translations/ru/), every file of them.
    assert data == {p.relative_to(REPO / "data").as_posix() for p in (REPO / "data").rglob("*.yaml")}
    assert any(name.startswith("translations/ru/") for name in data)
    assert "atlas_cli/__main__.py" in names
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    assert "ft-atlas = atlas_cli.launcher:main" in zipfile.ZipFile(wheel).read(entry_points).decode()
    assert not any(n.startswith(("tests/", "data/")) for n in names)


@pytest.mark.slow
def test_installed_package_is_the_wheel_not_the_checkout(
    installed: tuple[Path, Path], elsewhere: Path
) -> None:
    scripts, _ = installed
    result = _checked(
        _run([str(scripts / "python"), "-c", "import atlas_cli; print(atlas_cli.__file__)"], cwd=elsewhere)
    )
    location = Path(result.stdout.strip()).resolve()
    assert "site-packages" in location.parts
    assert REPO not in location.parents
    site = location.parent.parent
    editable = [p for p in site.glob("*.pth") if str(REPO) in p.read_text(encoding="utf-8", errors="replace")]
    assert not editable


@pytest.mark.slow
def test_validate_finds_the_bundled_kb(installed: tuple[Path, Path], elsewhere: Path) -> None:
    scripts, _ = installed
    result = _checked(_run([str(scripts / "ft-atlas"), "validate"], cwd=elsewhere))
    assert "valid" in result.stdout
    kb = result.stdout.split(":")[0]
    assert Path(kb).parts[-2:] == ("atlas_cli", "data")
    assert "site-packages" in Path(kb).parts
    assert result.stderr == ""


@pytest.mark.slow
def test_recommend_json_from_the_wheel(installed: tuple[Path, Path], elsewhere: Path) -> None:
    scripts, _ = installed
    command = [
        str(scripts / "ft-atlas"),
        "recommend",
        "--gpu",
        "3090",
        "--model-size",
        "7b",
        "--goal",
        "chat",
    ]
    result = _checked(_run([*command, "--json"], cwd=elsewhere))
    data = json.loads(result.stdout)
    assert data["schema_version"] == 2
    assert data["profile"]["gpu"] == "rtx-3090"
    assert data["recommendations"][0]["method"] in ("lora", "qlora")
    assert result.stderr == ""


@pytest.mark.slow
@pytest.mark.parametrize(
    "args",
    [
        ["schema"],
        ["--lang", "ru", "guide"],
        ["show", "qlora", "--format", "markdown"],
        ["estimate", "--model", "llama-3.1-8b", "--gpu", "rtx-4090"],
        ["--version"],
    ],
    ids=" ".join,
)
def test_other_commands_from_the_wheel(
    installed: tuple[Path, Path], elsewhere: Path, args: list[str]
) -> None:
    """Every runtime dependency is declared (e.g. `schema` needs typing_extensions at run time)."""
    scripts, _ = installed
    result = _checked(_run([str(scripts / "ft-atlas"), *args], cwd=elsewhere, COLUMNS="80"))
    assert result.stdout.strip()
    assert result.stderr == ""


@pytest.mark.slow
def test_python_dash_m_from_the_wheel(installed: tuple[Path, Path], elsewhere: Path) -> None:
    scripts, _ = installed
    result = _checked(_run([str(scripts / "python"), "-m", "atlas_cli", "--help"], cwd=elsewhere))
    assert "Usage:" in result.stdout
    assert "recommend" in result.stdout


def test_python_dash_m_help(tmp_path: Path) -> None:
    """`python -m atlas_cli` in this environment, as a separate process."""
    result = _checked(_run([sys.executable, "-m", "atlas_cli", "--help"], cwd=tmp_path, COLUMNS="100"))
    assert "Usage:" in result.stdout
    for command in ("methods", "show", "compare", "recommend", "estimate", "validate", "schema"):
        assert command in result.stdout
    assert result.stderr == ""
    version = _checked(_run([sys.executable, "-m", "atlas_cli", "--version"], cwd=tmp_path))
    assert version.stdout.startswith("ft-atlas ")
    bad = _run([sys.executable, "-m", "atlas_cli", "show", "lorra"], cwd=tmp_path)
    assert bad.returncode == 2
    assert "did you mean" in bad.stderr
