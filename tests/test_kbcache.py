"""The validated-KB cache: a hit skips validation, any change or doubt falls back to a full load."""

from __future__ import annotations

import gc
import os
import shutil
import signal
from pathlib import Path

import pytest

from atlas_cli.errors import KnowledgeBaseError
from atlas_cli.kb import cache as kbcache
from atlas_cli.kb import loading
from atlas_cli.kb.files import MAX_FILE_BYTES, MAX_KB_BYTES, KbFile, bundled_kb_path, read_kb
from atlas_cli.kb.heap import collector_paused
from atlas_cli.kb.schema import KnowledgeBase


@pytest.fixture
def kb(tmp_path: Path) -> Path:
    copy = tmp_path / "kb"
    shutil.copytree(bundled_kb_path(), copy)
    return copy


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "cache"
    monkeypatch.setenv(kbcache.CACHE_ENV, str(directory))
    monkeypatch.delenv(kbcache.NO_CACHE_ENV, raising=False)
    return directory


def _count_loads(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    loads: list[Path] = []
    real = loading.load_knowledge_base

    def counting(path: Path, files: list[KbFile] | None = None) -> KnowledgeBase:
        loads.append(path)
        return real(path, files)

    monkeypatch.setattr(loading, "load_knowledge_base", counting)
    return loads


def test_second_load_comes_from_the_cache(kb: Path, cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    loads = _count_loads(monkeypatch)
    first = kbcache.load_cached_catalog(kb)
    second = kbcache.load_cached_catalog(kb)
    assert len(loads) == 1
    assert second.kb == first.kb
    assert second.method("LoRA").id == "lora"
    assert len(list(cache.glob("kb-*.json"))) == 1


def test_changed_content_is_loaded_again(kb: Path, cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    loads = _count_loads(monkeypatch)
    kbcache.load_cached_catalog(kb)
    gpus = kb / "gpus.yaml"
    gpus.write_text(gpus.read_text(encoding="utf-8").replace("name: NVIDIA T4", "name: NVIDIA T4 (edited)"))
    catalog = kbcache.load_cached_catalog(kb)
    assert len(loads) == 2
    assert "(edited)" in catalog.gpus["t4"].name


def test_damaged_entry_is_ignored(kb: Path, cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    kbcache.load_cached_catalog(kb)
    (entry,) = cache.glob("kb-*.json")
    entry.write_bytes(b"not an entry")
    loads = _count_loads(monkeypatch)
    assert kbcache.load_cached_catalog(kb).gpus
    assert len(loads) == 1


def test_entry_writable_by_others_is_never_read(
    kb: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kbcache.load_cached_catalog(kb)
    (entry,) = cache.glob("kb-*.json")
    entry.chmod(0o666)
    loads = _count_loads(monkeypatch)
    kbcache.load_cached_catalog(kb)
    assert len(loads) == 1


def test_unwritable_cache_directory_still_works(
    kb: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    monkeypatch.setenv(kbcache.CACHE_ENV, str(blocker / "cache"))
    assert kbcache.load_cached_catalog(kb).method("qlora").id == "qlora"


def test_cache_can_be_switched_off(kb: Path, cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(kbcache.NO_CACHE_ENV, "1")
    kbcache.load_cached_catalog(kb)
    assert not cache.exists()


def test_default_directory_follows_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(kbcache.CACHE_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert kbcache.cache_dir() == tmp_path / "ft-atlas"


def test_relative_cache_directories_are_ignored(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A relative FT_ATLAS_CACHE_DIR or XDG_CACHE_HOME named a cache in every working directory
    (an attacker's review); the XDG specification says to ignore one."""
    monkeypatch.setenv(kbcache.CACHE_ENV, "relative-cache")
    monkeypatch.setenv("XDG_CACHE_HOME", "also-relative")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert kbcache.cache_dir() == tmp_path / ".cache" / "ft-atlas"


def test_a_named_cache_directory_is_made_but_not_its_parents(
    kb: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """FT_ATLAS_CACHE_DIR=/nonexistent/deep/dir created the whole path (an attacker's review): a
    mistyped directory is not made; the cache is simply not used."""
    monkeypatch.delenv(kbcache.NO_CACHE_ENV, raising=False)
    monkeypatch.setenv(kbcache.CACHE_ENV, str(tmp_path / "missing" / "deep" / "cache"))
    assert kbcache.load_cached_catalog(kb).method("LoRA").id == "lora"
    assert not (tmp_path / "missing").exists()
    monkeypatch.setenv(kbcache.CACHE_ENV, str(tmp_path / "cache"))
    kbcache.load_cached_catalog(kb)
    assert list((tmp_path / "cache").glob("kb-*.json"))


def test_oversized_file_is_not_cached_but_reported(tmp_path: Path, cache: Path) -> None:
    big = tmp_path / "big.yaml"
    with big.open("wb") as out:
        out.truncate(MAX_FILE_BYTES + 1)
    with pytest.raises(KnowledgeBaseError, match="larger than"):
        kbcache.load_cached_catalog(big)
    assert os.path.getsize(big) > MAX_FILE_BYTES
    assert not list(cache.glob("kb-*"))


def test_a_kb_whose_files_pass_the_total_limit_is_not_read_further(tmp_path: Path) -> None:
    """An attacker's review: 100 files just under the per-file limit took validate 11 s and 533 MB
    before it refused them."""
    kb = tmp_path / "kb"
    shutil.copytree(bundled_kb_path(), kb)
    for name in ("zz1", "zz2", "zz3", "zz4", "zz5"):
        (kb / f"{name}.yaml").write_bytes(b"#" * (MAX_FILE_BYTES - 10) + b"\n")
    read = read_kb(kb)
    assert read[-1].data is None and "pass 20000000 bytes" in read[-1].problem
    assert sum(len(f.data or b"") for f in read) <= MAX_KB_BYTES + MAX_FILE_BYTES
    with pytest.raises(KnowledgeBaseError, match="pass 20000000 bytes"):
        kbcache.load_cached_catalog(kb)


def test_paused_work_restores_the_collector() -> None:
    seen: list[bool] = []

    @collector_paused
    def build() -> int:
        seen.append(gc.isenabled())
        return 1

    @collector_paused
    def broken() -> None:
        raise ValueError("boom")

    assert build() == 1 and seen == [False] and gc.isenabled()
    with pytest.raises(ValueError):
        broken()
    assert gc.isenabled()
    gc.disable()
    try:
        build()
        assert not gc.isenabled()  # a caller's choice stands
    finally:
        gc.enable()


def test_ctrl_c_while_the_kb_validates_ends_as_an_interrupt_after_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """A review: Ctrl-C during validation exited 3 ("invalid knowledge base") or 1, because
    pydantic's Rust core swallows a KeyboardInterrupt raised in the Python it calls. It is held
    until the load ends, then raised (exit 130)."""
    real = KnowledgeBase.model_validate
    finished: list[bool] = []

    def interrupted(data: object) -> KnowledgeBase:
        os.kill(os.getpid(), signal.SIGINT)  # as if pressed while pydantic runs
        validated = real(data)
        finished.append(True)
        return validated

    monkeypatch.setattr(KnowledgeBase, "model_validate", interrupted)
    with pytest.raises(KeyboardInterrupt):
        loading.load_knowledge_base(bundled_kb_path())
    assert finished
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_an_ignored_ctrl_c_stays_ignored_while_the_kb_validates(monkeypatch: pytest.MonkeyPatch) -> None:
    """A review: deferring Ctrl-C replaced SIG_IGN (a background job) with a handler that raised
    at the end, so the job died with exit 130."""
    real = KnowledgeBase.model_validate

    def interrupted(data: object) -> KnowledgeBase:
        os.kill(os.getpid(), signal.SIGINT)
        return real(data)

    monkeypatch.setattr(KnowledgeBase, "model_validate", interrupted)
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        assert loading.load_knowledge_base(bundled_kb_path())
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, previous)


def test_the_default_cache_is_made_only_in_a_home_that_exists(
    kb: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """HOME=/nonexistent (the home of `nobody`) had /nonexistent/.cache/ft-atlas made, as root
    (an attacker's review): in a home that exists ~/.cache/ft-atlas is made, else nothing is."""
    monkeypatch.delenv(kbcache.NO_CACHE_ENV, raising=False)
    monkeypatch.delenv(kbcache.CACHE_ENV, raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "missing" / "home"))
    assert kbcache.load_cached_catalog(kb).method("LoRA").id == "lora"
    assert not (tmp_path / "missing").exists()
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    kbcache.load_cached_catalog(kb)
    assert list((home / ".cache" / "ft-atlas").glob("kb-*.json"))
    # $XDG_CACHE_HOME names where caches go, whatever the home (the XDG specification: made 0700)
    monkeypatch.setenv("HOME", str(tmp_path / "missing" / "home"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg" / "cache"))
    kbcache.load_cached_catalog(kb)
    assert list((tmp_path / "xdg" / "cache" / "ft-atlas").glob("kb-*.json"))
