"""Where --model comes from (a path, the catalog, the Hugging Face cache, the Hub), that every
command accepts each form, and that the output says which source was used. No test reaches the
internet: the Hub is a local HTTP server (HF_ENDPOINT)."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from atlas_cli.core import models
from atlas_cli.core.engine import Engine
from atlas_cli.core.models import cached_config, find_model, hub_cache_dir
from atlas_cli.core.profile import build_profile
from atlas_cli.core.questionnaire import Interview
from atlas_cli.core.resolve import resolve_model
from atlas_cli.errors import UsageError
from atlas_cli.kb.catalog import Catalog
from tests.conftest import Runner
from tests.test_cli import fails, ok
from tests.test_questionnaire import ScriptedTerminal

FIXTURES = Path(__file__).parent / "fixtures" / "configs"
QWEN_MOE = FIXTURES / "Qwen--Qwen3-30B-A3B.json"
LLAMA = FIXTURES / "meta-llama--Llama-3.1-8B.json"
LLAMA_2 = FIXTURES / "meta-llama--Llama-2-7b-hf.json"
COMMIT = "0123456789abcdef0123456789abcdef01234567"


def model_dir(tmp_path: Path, config: Path = QWEN_MOE, name: str = "my-model", weights: bool = True) -> Path:
    """A model directory: its config.json and (`weights`) a weights file, as a download holds."""
    folder = tmp_path / name
    folder.mkdir()
    shutil.copyfile(config, folder / "config.json")
    if weights:
        (folder / "model.safetensors").write_bytes(b"")
    return folder


@pytest.fixture
def hf_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cache = tmp_path / "hf-cache"
    cache.mkdir()
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    return cache


def cache_model(cache: Path, repo: str, config: Path, refs_main: bool = True) -> Path:
    """A model as huggingface_hub caches it: models--org--name/snapshots/<commit>/config.json."""
    folder = cache / f"models--{repo.replace('/', '--')}"
    snapshot = folder / "snapshots" / COMMIT
    snapshot.mkdir(parents=True)
    shutil.copyfile(config, snapshot / "config.json")
    if refs_main:
        (folder / "refs").mkdir()
        (folder / "refs" / "main").write_text(COMMIT)
    return snapshot / "config.json"


# --- the order of sources -----------------------------------------------------------------------


def test_a_hub_id_alias_is_known_without_its_organisation(catalog: Catalog, run: Runner) -> None:
    """A newcomer's review: Meta-Llama-3.1-8B-Instruct, as people write it, was unknown, though
    meta-llama/Meta-Llama-3.1-8B-Instruct is an alias; the recipe loads the instruct checkpoint."""
    found = find_model(catalog, "Meta-Llama-3.1-8B-Instruct")
    assert (found.kind, found.model.id, found.variant) == ("catalog", "llama-3.1-8b", "instruct")
    recipe = ok(run("recipe", "--model", "Meta-Llama-3.1-8B-Instruct", "--gpu", "rtx-3090", "--out", "-"))
    assert "--model meta-llama/Llama-3.1-8B-Instruct" in recipe.stdout


def test_a_config_file_path(catalog: Catalog, tmp_path: Path) -> None:
    found = find_model(catalog, str(model_dir(tmp_path) / "config.json"))
    assert (found.kind, found.model.layers) == ("file", 48)
    assert found.where == str(tmp_path / "my-model" / "config.json")
    assert found.repo == str(tmp_path / "my-model")


def test_a_directory_without_weights_loads_the_hub_id_its_config_names(
    catalog: Catalog, run: Runner, tmp_path: Path
) -> None:
    """An expert's review: recommend asks offline for a model's config.json alone, and the recipe
    then pointed from_pretrained, the tokenizer and vLLM at a directory holding nothing else. It
    loads the Hub id the config names (_name_or_path), else a placeholder, and says so."""
    named = model_dir(tmp_path, LLAMA_2, "named", weights=False)
    found = find_model(catalog, str(named))
    assert found.repo == "meta-llama/Llama-2-7b-hf"
    assert any(
        "holds a config.json but no weights: the recipe loads meta-llama/Llama-2-7b-hf" in n
        for n in found.notes
    )
    args = ("--gpu", "a100-80gb", "--goal", "chat", "--data-kind", "demonstrations", "--out", "-")
    recipe = ok(run("recipe", "--model", str(named), *args)).stdout
    run_line = next(line for line in recipe.splitlines() if line.startswith("# Run:"))
    assert "--model meta-llama/Llama-2-7b-hf" in run_line and str(named) not in run_line
    assert "no weights: the recipe loads meta-llama/Llama-2-7b-hf" in " ".join(
        recipe.replace("#", "").split()
    )
    config = json.loads(QWEN_MOE.read_text())
    assert "_name_or_path" not in config
    unnamed = find_model(catalog, str(model_dir(tmp_path, QWEN_MOE, "unnamed", weights=False)))
    assert unnamed.repo is None and any("names no Hub id" in n for n in unnamed.notes)
    assert find_model(catalog, str(model_dir(tmp_path, LLAMA_2, "downloaded"))).repo == str(
        tmp_path / "downloaded"
    )
    # A cache snapshot names its own repository, where _name_or_path may name the model it was tuned
    # from; a link to a blob that is not there is no weights.
    snapshot = tmp_path / "models--myorg--my-ft" / "snapshots" / COMMIT
    snapshot.mkdir(parents=True)
    shutil.copyfile(LLAMA_2, snapshot / "config.json")
    (snapshot / "model.safetensors").symlink_to(tmp_path / "missing-blob")
    assert find_model(catalog, str(snapshot / "config.json")).repo == "myorg/my-ft"


def test_a_config_value_refused_is_named_by_its_config_key(run: Runner, tmp_path: Path) -> None:
    """An attacker's review: num_key_value_heads 0 was refused as "kv_heads", a name of ft-atlas's."""
    config = {"model_type": "llama", "hidden_size": 4096, "num_hidden_layers": 32, "vocab_size": 32000}
    config |= {"num_attention_heads": 32, "num_key_value_heads": 0, "intermediate_size": 11008}
    (tmp_path / "config.json").write_text(json.dumps(config), encoding="utf-8")
    said = fails(run("estimate", "--model", str(tmp_path), "--gpu", "h100"), 2).stderr
    assert "num_key_value_heads: Input should be greater than 0" in said and "kv_heads:" not in said


def test_a_tiny_test_model_is_not_shown_as_0b(run: Runner, tmp_path: Path) -> None:
    """An attacker's review: a config far below a million parameters (the tiny random models
    people test pipelines with) read "0B parameters" in tables and 0 in JSON."""
    config = {"model_type": "llama", "hidden_size": 16, "num_hidden_layers": 2, "num_attention_heads": 2}
    config |= {"num_key_value_heads": 2, "intermediate_size": 32, "vocab_size": 100}
    (tmp_path / "config.json").write_text(json.dumps(config), encoding="utf-8")
    table = ok(run("estimate", "--method", "lora", "--model", str(tmp_path), "--gpu", "rtx-4090")).stdout
    assert "8.4K parameters" in table and "0B" not in table
    document = ok(run("model", str(tmp_path), "--json")).json()
    assert document["params_b"] == pytest.approx(8.4e-06, rel=0.01)
    assert "8.4K" in ok(run("model", str(tmp_path))).stdout


def test_a_phi_2_config_keeps_bitfit(run: Runner, tmp_path: Path) -> None:
    """Phi-1/1.5/2 have biases on every linear layer: BitFit was left out, 'Phi sets bias=False'."""
    config = {"model_type": "phi", "hidden_size": 2560, "num_hidden_layers": 32, "num_attention_heads": 32}
    config |= {"intermediate_size": 10240, "vocab_size": 51200}
    (tmp_path / "config.json").write_text(json.dumps(config), encoding="utf-8")
    args = ("--model", str(tmp_path), "--gpu", "rtx-4090", "--goal", "classify", "--data-kind", "labeled")
    document = ok(run("recommend", *args, "--top", "30", "--json")).json()
    assert "bitfit" in [plan["method"] for plan in document["recommendations"]]


def test_a_model_directory(catalog: Catalog, tmp_path: Path) -> None:
    found = find_model(catalog, str(model_dir(tmp_path)))
    assert found.kind == "file" and found.model.name == "my-model" and found.variant == "base"


@pytest.mark.parametrize(
    ("beside", "text"),
    [
        ("tokenizer_config.json", json.dumps({"chat_template": "{{ messages }}"})),
        ("chat_template.jinja", "{{ messages }}"),
    ],
)
def test_a_chat_template_beside_the_config_marks_an_instruct_model(
    catalog: Catalog, tmp_path: Path, beside: str, text: str
) -> None:
    folder = model_dir(tmp_path)
    (folder / beside).write_text(text)
    assert find_model(catalog, str(folder)).variant == "instruct"


def test_a_tokenizer_config_without_a_template_says_nothing(catalog: Catalog, tmp_path: Path) -> None:
    folder = model_dir(tmp_path)
    (folder / "tokenizer_config.json").write_text(json.dumps({"model_max_length": 4096}))
    assert find_model(catalog, str(folder)).variant == "base"
    (folder / "tokenizer_config.json").write_text("{broken")
    assert find_model(catalog, str(folder)).variant == "base"


@pytest.mark.parametrize(
    ("write", "message"),
    [
        (None, "has no config.json"),
        ("not json", "is not JSON"),
        ("[1, 2]", "not a config.json"),
        ("\udcff", "is not JSON"),
    ],
)
def test_unreadable_paths_are_clear_errors(
    catalog: Catalog, tmp_path: Path, write: str | None, message: str
) -> None:
    folder = tmp_path / "model"
    folder.mkdir()
    if write is not None:
        (folder / "config.json").write_bytes(write.encode("utf-8", "surrogateescape"))
    with pytest.raises(UsageError, match=message):
        find_model(catalog, str(folder))


def test_a_config_that_is_a_fifo_is_named_for_what_it_is(catalog: Catalog, tmp_path: Path) -> None:
    """A FIFO named config.json was reported as missing ("has no config.json; download it")."""
    folder = tmp_path / "model"
    folder.mkdir()
    os.mkfifo(folder / "config.json")
    with pytest.raises(UsageError, match=r"config\.json is not a regular file"):
        find_model(catalog, str(folder))


def test_a_config_that_links_to_nothing_says_so(catalog: Catalog, tmp_path: Path) -> None:
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "config.json").symlink_to(tmp_path / "gone.json")
    with pytest.raises(UsageError, match=r"config\.json is a link to nothing"):
        find_model(catalog, str(folder))


def test_a_linked_config_in_a_cache_snapshot_is_read_in_its_snapshot(
    catalog: Catalog, tmp_path: Path
) -> None:
    """huggingface_hub's snapshots link each file to a blob named by its hash: the config's own
    link is not followed, so its chat template beside it makes it instruct and the source names
    the snapshot (an attacker's review: read as a bare blob, "base")."""
    blobs, snapshot = tmp_path / "blobs", tmp_path / "snapshots" / COMMIT
    blobs.mkdir()
    snapshot.mkdir(parents=True)
    shutil.copyfile(QWEN_MOE, blobs / "aaa")
    (blobs / "bbb").write_text("{{ messages }}")
    (snapshot / "config.json").symlink_to(blobs / "aaa")
    (snapshot / "chat_template.jinja").symlink_to(blobs / "bbb")
    (snapshot / "model.safetensors").symlink_to(blobs / "aaa")
    found = find_model(catalog, str(snapshot / "config.json"))
    assert (found.where, found.repo, found.variant) == (
        str(snapshot / "config.json"),
        str(snapshot),
        "instruct",
    )


@pytest.mark.parametrize(
    ("replace", "message"),
    [
        ('"hidden_size": NaN', "NaN is not a number"),
        ('"hidden_size": Infinity', "Infinity is not a number"),
        ('"nested": ' + "[" * 100_000 + "]" * 100_000, "nests deeper than any config.json"),
        ('"hidden_size": ' + "9" * 5000, "a number too long to read"),
        ('"hidden_size": -4096', "-4096, not a whole number of 0 or more"),
    ],
)
def test_json_that_no_size_comes_from_is_a_clear_error(
    catalog: Catalog, tmp_path: Path, replace: str, message: str
) -> None:
    folder = model_dir(tmp_path, LLAMA)
    text = (folder / "config.json").read_text()
    (folder / "config.json").write_text(text.replace('"hidden_size": 4096', replace, 1))
    assert replace.split(":")[0] in (folder / "config.json").read_text()
    with pytest.raises(UsageError, match=message):
        find_model(catalog, str(folder))


def test_a_byte_order_mark_and_a_deeply_nested_tokenizer_config_are_read(
    catalog: Catalog, tmp_path: Path
) -> None:
    folder = model_dir(tmp_path, LLAMA)
    (folder / "config.json").write_bytes(b"\xef\xbb\xbf" + (folder / "config.json").read_bytes())
    (folder / "tokenizer_config.json").write_text('{"a": ' + "[" * 100_000 + "]" * 100_000 + "}")
    assert find_model(catalog, str(folder)).variant == "base"


def test_a_path_that_does_not_exist(catalog: Catalog) -> None:
    for text in ("./no-such-model", "/no/such/config.json", "missing.json"):
        with pytest.raises(UsageError, match="no such file"):
            find_model(catalog, text)


def test_a_folder_named_like_a_catalog_model_without_a_config_is_the_catalog_model(
    catalog: Catalog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "gpt2").mkdir()
    monkeypatch.chdir(tmp_path)
    found = find_model(catalog, "gpt2")
    assert (found.kind, found.model.id) == ("catalog", "gpt2")


def test_a_folder_that_names_no_model_says_it_has_no_config(
    catalog: Catalog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A review: `--model mydir` said "unknown model 'mydir' (ft-atlas models lists them)" where
    `./mydir` said what was wrong: the folder has no config.json."""
    (tmp_path / "mydir").mkdir()
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UsageError, match=r"mydir has no config\.json"):
        find_model(catalog, "mydir")


def test_the_catalog_before_the_cache(catalog: Catalog, hf_cache: Path) -> None:
    cache_model(hf_cache, "meta-llama/Llama-3.1-8B", QWEN_MOE)
    found = find_model(catalog, "meta-llama/Llama-3.1-8B")
    assert (found.kind, found.model.id, found.where) == ("catalog", "llama-3.1-8b", "llama-3.1-8b")


def test_a_catalog_alias_typed_as_an_instruct_hub_id(catalog: Catalog) -> None:
    found = find_model(catalog, "meta-llama/Llama-3.1-8B-Instruct")
    assert (found.model.id, found.variant, found.repo) == (
        "llama-3.1-8b",
        "instruct",
        "meta-llama/Llama-3.1-8B-Instruct",
    )
    base = find_model(catalog, "llama-3.1-8b")
    assert (base.variant, base.repo) == ("base", "meta-llama/Llama-3.1-8B")
    assert find_model(catalog, "qwen3-8b").variant == "instruct"  # the entry's own variant


def test_the_hugging_face_cache(catalog: Catalog, hf_cache: Path) -> None:
    path = cache_model(hf_cache, "lab/Qwen3-MoE-Chat", QWEN_MOE)
    found = find_model(catalog, "lab/Qwen3-MoE-Chat")
    assert (found.kind, found.where, found.repo) == ("cache", str(path), "lab/Qwen3-MoE-Chat")
    assert found.variant == "instruct"  # -Chat
    assert found.model.moe is not None


def test_the_cache_without_refs_takes_the_newest_snapshot(catalog: Catalog, hf_cache: Path) -> None:
    cache_model(hf_cache, "lab/model", QWEN_MOE, refs_main=False)
    assert find_model(catalog, "lab/model").kind == "cache"
    assert cached_config("lab/other") is None


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")
def test_a_planted_ref_is_no_ref(catalog: Catalog, hf_cache: Path) -> None:
    """A FIFO at refs/main blocked forever; a link to /dev/zero ran out of memory (an attacker's
    review): refs/main is read as a small regular file or not at all."""
    cache_model(hf_cache, "lab/model", QWEN_MOE, refs_main=False)
    refs = hf_cache / "models--lab--model" / "refs"
    refs.mkdir()
    os.mkfifo(refs / "main")
    assert find_model(catalog, "lab/model").kind == "cache"  # the newest snapshot instead
    (refs / "main").unlink()
    (refs / "main").symlink_to("/dev/zero")
    assert find_model(catalog, "lab/model").kind == "cache"


def test_a_ref_is_a_commit_or_none(catalog: Catalog, hf_cache: Path) -> None:
    """A ref of 256 characters raised 'File name too long', and a ref that is a path chose a
    config outside the cache (an attacker's review): a ref is 40 hex digits or none, and each
    snapshot is tried alone (one that cannot be read hides no other)."""
    cache_model(hf_cache, "lab/model", QWEN_MOE)
    refs_main = hf_cache / "models--lab--model" / "refs" / "main"
    elsewhere = hf_cache.parent / "elsewhere"
    elsewhere.mkdir()
    shutil.copyfile(LLAMA, elsewhere / "config.json")
    for ref in ("a" * 256, str(elsewhere), "../../../elsewhere"):
        refs_main.write_text(ref)
        found = find_model(catalog, "lab/model")
        assert found.kind == "cache" and str(found.where).startswith(str(hf_cache)), ref


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")
def test_a_config_is_read_only_if_it_is_a_regular_file(catalog: Catalog, tmp_path: Path) -> None:
    """A FIFO swapped in for a cached config.json after the snapshots were listed blocked the
    open (an attacker's review): config.json is opened without blocking, as refs/main is."""
    folder = tmp_path / "fifo-model"
    folder.mkdir()
    os.mkfifo(folder / "config.json")
    # In a process of its own: a blocking open would hang this test run instead of failing it.
    code = "import sys; from pathlib import Path; from atlas_cli.core.models import read_config; "
    command = [sys.executable, "-c", code + "read_config(Path(sys.argv[1]))", str(folder / "config.json")]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and "not a regular file" in result.stderr


def test_a_cache_in_an_unknown_home_is_bad_input(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_CACHE", "~no-such-user-here")
    with pytest.raises(UsageError, match="HF_HUB_CACHE: no such home directory"):
        hub_cache_dir()


@pytest.mark.parametrize("endpoint", ["ftp://127.0.0.1", "file:///etc", "   ", "http://127.0.0.1:99999"])
def test_a_hub_endpoint_that_is_no_http_url_is_bad_input(
    catalog: Catalog, hf_cache: Path, monkeypatch: pytest.MonkeyPatch, endpoint: str
) -> None:
    """huggingface_hub failed on these with an internal error (UnsupportedProtocol, or a ValueError
    while it was imported)."""
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("HF_ENDPOINT", endpoint)
    with pytest.raises(UsageError, match="HF_ENDPOINT"):
        find_model(catalog, "lab/anything")


def test_where_the_cache_is(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HF_HUB_CACHE")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "home"))
    assert hub_cache_dir() == tmp_path / "home" / "hub"
    monkeypatch.delenv("HF_HOME")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert hub_cache_dir() == tmp_path / "xdg" / "huggingface" / "hub"


def test_not_cached_and_offline_says_how_to_get_the_config(catalog: Catalog, hf_cache: Path) -> None:
    with pytest.raises(UsageError) as caught:
        find_model(catalog, "meta-llama/Llama-3.1-8B-Typo")
    message = str(caught.value)
    assert "HF_HUB_OFFLINE=1" in message and "config.json" in message and "--model-size" in message
    assert "did you mean llama-3.1-8b" in message


def test_not_cached_without_the_hub_extra_says_how_to_get_the_config(
    catalog: Catalog, hf_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.setitem(sys.modules, "huggingface_hub", None)  # `import huggingface_hub` fails
    with pytest.raises(UsageError) as caught:
        find_model(catalog, "lab/unknown-model")
    assert "pip install 'ft-atlas[hub]'" in str(caught.value)
    assert "--model-size" in str(caught.value)


def test_an_unknown_name_suggests_catalog_names_and_the_other_forms(catalog: Catalog) -> None:
    with pytest.raises(UsageError) as caught:
        find_model(catalog, "qwen3-9b")
    message = str(caught.value)
    assert "did you mean" in message and "qwen3-8b" in message
    assert "config.json path" in message and "Hub id" in message and "--model-size" in message


def test_a_base_checkpoint_is_its_catalog_entry_as_base(
    catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    """google/gemma-3-4b-pt is the pre-trained checkpoint of catalog entry gemma-3-4b-it: the same
    config, so it is read from the catalog (offline too), as the base variant."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    found = find_model(catalog, "Google/Gemma-3-4b-PT")
    assert (found.kind, found.model.id, found.variant, found.repo) == (
        "catalog",
        "gemma-3-4b-it",
        "base",
        "google/gemma-3-4b-pt",
    )
    assert find_model(catalog, "gemma-3-4b-pt")[:3] == found[:3]
    assert models.named_variant(catalog, "Qwen/Qwen3-8B-Base") == "base"
    info = resolve_model(catalog, "Qwen/Qwen3-8B-Base", None)
    assert info.origin == "Qwen/Qwen3-8B-Base, the base checkpoint of catalog entry qwen3-8b"
    assert resolve_model(catalog, "qwen3-8b", None).origin == "catalog entry qwen3-8b"


def test_the_model_line_of_a_base_checkpoint_does_not_contradict_itself(run: Runner) -> None:
    """It read 'Gemma 3 4B (instruction-tuned), base (catalog entry gemma-3-4b-it, as its base
    checkpoint ...)': instruction-tuned beside base, and base twice (a review)."""
    notes = ok(run("recommend", "--model", "google/gemma-3-4b-pt", "--gpu", "rtx-4090", "--json")).json()
    line = next(n for n in notes["notes"] if n.startswith("Model: google"))
    assert line == "Model: google/gemma-3-4b-pt, the base checkpoint of catalog entry gemma-3-4b-it."


def test_an_estimate_names_the_checkpoint_it_loads(run: Runner) -> None:
    """`estimate --model google/gemma-3-4b-pt` was titled "Gemma 3 4B (instruction-tuned)": the
    catalog entry's name, not the base checkpoint asked for (a review)."""
    args = ("estimate", "--method", "lora", "--gpu", "rtx-4090", "--model")
    base = ok(run(*args, "google/gemma-3-4b-pt")).stdout
    assert "LoRA — google/gemma-3-4b-pt (catalog)" in base and "instruction-tuned" not in base
    source = ok(run(*args, "google/gemma-3-4b-pt", "--json")).json()["model_source"]
    assert (source["checkpoint"], source["variant"]) == ("google/gemma-3-4b-pt", "base")
    own = ok(run(*args, "gemma-3-4b-it", "--json")).json()["model_source"]
    assert own["checkpoint"] is None


# --- what the rest of ft-atlas sees -------------------------------------------------------------


def test_model_info_carries_source_variant_and_moe_facts(catalog: Catalog, tmp_path: Path) -> None:
    info = resolve_model(catalog, str(model_dir(tmp_path)), None)
    assert (info.source, info.model_id, info.variant, info.is_moe) == ("file", None, "base", True)
    assert info.active_params_b is not None and info.params_b is not None
    assert info.active_params_b < info.params_b / 5
    assert info.reference == str(tmp_path / "my-model")
    dense = resolve_model(catalog, "llama-3.1-8b", None)
    assert (dense.source, dense.is_moe, dense.active_params_b) == ("catalog", False, dense.params_b)
    bare = resolve_model(catalog, None, 7.0)
    assert (bare.source, bare.variant, bare.spec is not None) == ("bare size", None, True)


def test_an_api_model_is_named_not_resolved(catalog: Catalog) -> None:
    info = resolve_model(catalog, "some-provider/frontier-model-chat", None, api=True)
    assert (info.source, info.shape, info.params_b, info.variant) == ("api", None, None, "instruct")
    with pytest.raises(UsageError, match="API"):
        _ = info.sized


def test_rules_see_the_new_model_facts(catalog: Catalog, tmp_path: Path) -> None:
    engine = Engine(catalog)
    rec = engine.recommend(build_profile({"gpu": "h100", "model": str(model_dir(tmp_path))}))
    assert rec.facts["model_is_moe"] is True
    assert rec.facts["model_variant"] == "base"
    assert rec.facts["model_active_params_b"] == pytest.approx(3.35, rel=0.01)
    assert rec.facts["model"] is None  # not a catalog id
    assert any("config file" in note for note in rec.notes)
    catalog_rec = engine.recommend(build_profile({"gpu": "h100", "model": "google/gemma-2-9b-it"}))
    assert (catalog_rec.facts["model_variant"], catalog_rec.facts["model_is_moe"]) == ("instruct", False)


def test_ask_accepts_a_config_path(catalog: Catalog, tmp_path: Path) -> None:
    folder = str(model_dir(tmp_path))
    terminal = ScriptedTerminal(["", "none", folder] + [""] * 10)
    answers = Interview(catalog, terminal, {}).run(interactive=True)
    assert answers["model"] == folder
    # A Hub id the catalog knows is kept as typed, as --model keeps it (it may name the instruct
    # checkpoint of a catalog entry); a catalog name is stored as its id.
    terminal = ScriptedTerminal(["", "none", "Qwen/Qwen3-8B"] + [""] * 10)
    assert Interview(catalog, terminal, {}).run(interactive=True)["model"] == "Qwen/Qwen3-8B"
    terminal = ScriptedTerminal(["", "none", "Qwen3 8B"] + [""] * 10)
    assert Interview(catalog, terminal, {}).run(interactive=True)["model"] == "qwen3-8b"


# --- every command, every form ---------------------------------------------------------------


@pytest.fixture
def forms(tmp_path: Path, hf_cache: Path) -> dict[str, str]:
    """The same kind of model named each way --model takes."""
    folder = model_dir(tmp_path, LLAMA, "llama-copy")
    cache_model(hf_cache, "lab/cached-llama", LLAMA)
    return {
        "file": str(folder / "config.json"),
        "directory": str(folder),
        "catalog": "meta-llama/Llama-3.1-8B",
        "cache": "lab/cached-llama",
    }


SOURCES = {"file": "file", "directory": "file", "catalog": "catalog", "cache": "cache"}


@pytest.mark.parametrize("form", list(SOURCES))
def test_estimate_takes_each_form_and_says_its_source(run: Runner, forms: dict[str, str], form: str) -> None:
    data = ok(run("estimate", "--model", forms[form], "--gpu", "a100-80gb", "--json")).json()
    assert data["model_source"]["source"] == SOURCES[form]
    assert data["estimates"][0]["model_params_b"] == pytest.approx(8.03, rel=0.01)
    single = ok(run("estimate", "--model", forms[form], "--method", "lora", "--json")).json()
    assert single["model_source"]["source"] == SOURCES[form]
    assert single["model_params_b"] == pytest.approx(8.03, rel=0.01)
    table = ok(run("estimate", "--model", forms[form], "--gpu", "a100-80gb", env={"COLUMNS": "200"}))
    assert f"({SOURCES[form]})" in table.stdout


@pytest.mark.parametrize("form", list(SOURCES))
def test_recommend_takes_each_form_and_notes_its_source(
    run: Runner, forms: dict[str, str], form: str
) -> None:
    data = ok(run("recommend", "--model", forms[form], "--gpu", "a100-80gb", "--json")).json()
    words = {"file": "config file", "catalog": "catalog entry", "cache": "Hugging Face cache"}
    assert any(words[SOURCES[form]] in note for note in data["notes"]), data["notes"]
    assert data["profile"]["model"] == ("llama-3.1-8b" if form == "catalog" else forms[form])


@pytest.mark.parametrize("form", list(SOURCES))
def test_recipe_loads_each_form(run: Runner, forms: dict[str, str], form: str) -> None:
    script = ok(run("recipe", "--model", forms[form], "--gpu", "a100-80gb")).stdout
    expected = {"file": str(Path(forms["file"]).parent), "directory": forms["directory"]}
    assert expected.get(form, forms[form]) in script


@pytest.mark.parametrize("form", list(SOURCES))
def test_ask_and_batch_take_each_form(run: Runner, forms: dict[str, str], form: str, tmp_path: Path) -> None:
    data = ok(run("ask", "--no-input", "--model", forms[form], "--gpu", "a100-80gb", "--json")).json()
    assert data["profile"]["model_size"] == pytest.approx(8.03, rel=0.01)
    lines = tmp_path / "profiles.jsonl"
    lines.write_text(json.dumps({"model": forms[form], "gpu": "a100-80gb"}) + "\n")
    record = json.loads(ok(run("recommend", "--batch", str(lines))).stdout)
    assert record["profile"]["model_size"] == pytest.approx(8.03, rel=0.01)


def test_a_refused_config_fails_every_command_with_exit_2(run: Runner, tmp_path: Path) -> None:
    folder = model_dir(tmp_path, FIXTURES / "deepseek-ai--DeepSeek-V3.2.json")
    for args in (["estimate"], ["recommend"], ["model"]):
        flag = [] if args == ["model"] else ["--model"]
        fails(run(*args, *flag, str(folder)), 2, "does not model", "sparse attention")


def test_config_warnings_reach_estimate_stderr(run: Runner, tmp_path: Path) -> None:
    config = json.loads(LLAMA.read_text())
    config["model_type"] = "brand_new"
    folder = tmp_path / "new"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps(config))
    result = ok(run("estimate", "--model", str(folder), "--method", "lora", "--json"))
    # Named by its key, not echoed: a batch line may name any JSON file (a diff review).
    assert "config.json's model_type is not one ft-atlas knows" in " ".join(result.stderr.split())
    assert "model_type is not one ft-atlas knows" in result.json()["model_source"]["warnings"][0]


def test_api_access_takes_any_model_name(run: Runner) -> None:
    data = ok(run("recommend", "--model-access", "api", "--model", "gpt-5-whatever", "--json")).json()
    assert data["profile"]["model"] == "gpt-5-whatever"
    assert data["profile"]["model_size"] is None
    assert any("API" in note for note in data["notes"])
    assert all(p["kind"] == "no-training" or p["method"] == "hosted-ft" for p in data["recommendations"])


@pytest.mark.parametrize("gpu", ["24GB", "24 GB", "24gb", "24 GiB"])
def test_gpu_given_as_memory_means_vram(run: Runner, gpu: str, tmp_path: Path) -> None:
    data = ok(run("recommend", "--gpu", gpu, "--model-size", "7b", "--json")).json()
    assert (data["profile"]["gpu"], data["profile"]["vram"]) == (None, 24.0)
    lines = tmp_path / "p.jsonl"
    lines.write_text(json.dumps({"gpu": gpu, "model_size": "7b"}) + "\n")
    assert json.loads(ok(run("recommend", "--batch", str(lines))).stdout)["profile"]["vram"] == 24.0
    fails(run("recommend", "--gpu", gpu, "--vram", "24"), 2, "alternatives")
    fails(run("recommend", "--gpu", "rtx-4090", "--vram", "48"), 2, "with other memory")


def test_unknown_gpu_and_model_suggest_the_fallbacks(run: Runner) -> None:
    fails(run("recommend", "--gpu", "309x"), 2, "did you mean", "rtx-3090", "--vram N", "--gpu NGB")
    fails(run("recommend", "--gpu", "qqqqqqqq"), 2, "ft-atlas gpus", "--vram")
    fails(run("recommend", "--model", "lama-3.1-8b"), 2, "llama-3.1-8b", "config.json", "--model-size")


# --- `ft-atlas model` ---------------------------------------------------------------------------


def test_model_command_json(run: Runner, tmp_path: Path) -> None:
    data = ok(run("model", str(model_dir(tmp_path)), "--json")).json()
    assert data["params_b"] == pytest.approx(30.53, rel=0.01)
    assert data["active_params_b"] == pytest.approx(3.35, rel=0.01)
    assert data["experts"] == {
        "routed": 128,
        "active": 8,
        "shared": 0,
        "expert_intermediate_size": 768,
        "shared_intermediate_size": None,
        "moe_layers": 48,
        "dense_layers": 0,
        "beside_dense_mlp": False,
        "shared_expert_gate": False,
    }
    assert (data["head_dim"], data["kv_heads"], data["tied_embeddings"]) == (128, 4, False)
    assert data["global_attention"] is None
    assert data["model"]["source"] == "file" and data["published_params_b"] is None
    catalog = ok(run("model", "deepseek-v3", "--json")).json()
    assert catalog["latent_attention"]["kv_lora_rank"] == 512
    assert catalog["published_params_b"] == 671.03 and catalog["weights_dtype"] == "fp8"


def test_model_command_table_names_everything(run: Runner) -> None:
    table = ok(run("model", "gpt-oss-20b", env={"COLUMNS": "100"})).stdout
    words = ("catalog: gpt-oss-20b", "instruct", "active per token", "32 routed, 4 active", "mxfp4", "64")
    for word in words:
        assert word in table, word


def test_model_command_shows_no_dense_mlp_where_every_layer_routes(run: Runner) -> None:
    """Qwen3-30B-A3B showed "MLP gated, width 6144": its config's intermediate_size, which no layer
    uses (an expert's review); DeepSeek-V3's width is its three dense layers'."""
    mlp = {
        m: next(
            line for line in ok(run("model", m, env={"COLUMNS": "200"})).stdout.splitlines() if "MLP" in line
        )
        for m in ("qwen3-30b-a3b", "deepseek-v3", "llama-3.1-8b")
    }
    assert "in the experts only" in mlp["qwen3-30b-a3b"] and "6144, is unused" in mlp["qwen3-30b-a3b"]
    assert "width 18432 in the dense layers" in mlp["deepseek-v3"]
    assert "gated, width 14336 " in mlp["llama-3.1-8b"]


def test_model_command_errors_exit_2(run: Runner) -> None:
    fails(run("model", "no-such-model-at-all"), 2, "unknown model")
    fails(run("model", "./missing"), 2, "no such file")


def test_an_inconsistent_config_is_refused_in_plain_words(run: Runner, tmp_path: Path) -> None:
    """More key/value heads than heads read "(value: Value error, attention_heads must be ...)",
    pydantic's wording for a check over the whole model (a review)."""
    folder = tmp_path / "odd"
    folder.mkdir()
    config = {"model_type": "llama", "num_attention_heads": 32, "num_key_value_heads": 64}
    config |= {"hidden_size": 4096, "num_hidden_layers": 32, "intermediate_size": 14336, "vocab_size": 32000}
    (folder / "config.json").write_text(json.dumps(config), encoding="utf-8")
    refused = fails(run("model", str(folder)), 2, "(attention_heads must be a multiple of kv_heads").stderr
    assert "Value error" not in refused and "value:" not in refused


def test_a_config_with_headless_heads_or_a_key_twice_is_refused(run: Runner, tmp_path: Path) -> None:
    """A review: hidden_size 8 over 32 heads was sized as heads of 0 dimensions (0.0131B) and a
    recipe written; a key given twice was read as its last value, where the batch input and the
    knowledge base refuse a repeated key."""
    folder = tmp_path / "odd"
    folder.mkdir()
    shape = '"num_attention_heads": 32, "num_key_value_heads": 8, "num_hidden_layers": 32, '
    shape += '"intermediate_size": 14336, "vocab_size": 128256, "model_type": "llama"'
    (folder / "config.json").write_text(f'{{"hidden_size": 8, {shape}}}', encoding="utf-8")
    fails(run("model", str(folder)), 2, "hidden_size must be at least attention_heads")
    twice = f'{{"hidden_size": 4096, "hidden_size": 8, {shape}}}'
    (folder / "config.json").write_text(twice, encoding="utf-8")
    fails(run("model", str(folder)), 2, "gives the key 'hidden_size' twice")


def test_the_model_document_is_in_the_schema(run: Runner) -> None:
    outputs = ok(run("schema")).json()["outputs"]
    assert {"params_b", "active_params_b", "experts", "model"} <= set(outputs["model"]["properties"])
    assert "model_source" in outputs["estimate_all"]["properties"]


# --- fetching config.json from the Hub (a local server stands in for it) ----------------------


class FakeHub(BaseHTTPRequestHandler):
    """Serves /<org>/<name>/resolve/main/config.json as the Hub does (HEAD, then GET)."""

    files: ClassVar[dict[str, bytes]] = {}
    errors: ClassVar[dict[str, tuple[int, str]]] = {}  # repo -> (status, X-Error-Code)
    loops: ClassVar[set[str]] = set()  # repos that redirect to themselves for ever
    stalls: ClassVar[set[str]] = set()  # repos that answer only after STALL_SECONDS
    liars: ClassVar[set[str]] = set()  # repos whose HEAD gives no size and whose GET never ends
    moved: ClassVar[dict[str, str]] = {}  # repo -> where its GET (not its HEAD) redirects
    authorizations: ClassVar[list[tuple[str, str | None]]] = []  # (path, Authorization) of each GET
    requests: ClassVar[list[str]] = []

    def do_HEAD(self) -> None:
        self._answer(body=False)

    def do_GET(self) -> None:
        self._answer(body=True)

    def _answer(self, body: bool) -> None:
        self.requests.append(self.path)
        repo = "/".join(self.path.strip("/").split("/")[:2])
        if body:
            self.authorizations.append((self.path, self.headers.get("Authorization")))
        if body and repo in self.moved:
            self.send_response(302)
            self.send_header("Location", self.moved[repo])
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if repo in self.stalls:
            time.sleep(STALL_SECONDS)
        if repo in self.loops:
            self.send_response(302)
            self.send_header("Location", self.path)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if repo in self.liars:
            self.send_response(200)
            self.send_header("ETag", '"fake-etag"')
            self.send_header("X-Repo-Commit", COMMIT)
            self.end_headers()
            with contextlib.suppress(OSError):  # the client stops reading
                while body:
                    self.wfile.write(b" " * 65_536)
            return
        if repo in self.errors:
            status, code = self.errors[repo]
            self.send_response(status)
            self.send_header("X-Error-Code", code)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        content = self.files.get(self.path)
        if content is None:
            self.send_response(404)
            self.send_header("X-Error-Code", "EntryNotFound")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(content)))
        self.send_header("ETag", '"fake-etag"')
        self.send_header("X-Repo-Commit", COMMIT)
        self.end_headers()
        if body:
            self.wfile.write(content)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep the test output clean


@pytest.fixture
def fake_hub(hf_cache: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[type[FakeHub]]:
    constants = pytest.importorskip("huggingface_hub.constants")
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeHub)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{server.server_address[1]}")
    monkeypatch.delenv("HF_HUB_OFFLINE")
    # huggingface_hub reads HF_HUB_OFFLINE when first imported (the test run sets it).
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    FakeHub.files, FakeHub.errors, FakeHub.requests = {}, {}, []
    FakeHub.loops, FakeHub.stalls, FakeHub.liars = set(), set(), set()
    FakeHub.moved, FakeHub.authorizations = {}, []
    yield FakeHub
    server.shutdown()
    server.server_close()


@pytest.mark.slow
def test_fetches_only_config_json_into_the_cache(catalog: Catalog, fake_hub: type[FakeHub]) -> None:
    fake_hub.files["/lab/new-moe-Instruct/resolve/main/config.json"] = QWEN_MOE.read_bytes()
    found = find_model(catalog, "lab/new-moe-Instruct")
    assert (found.kind, found.variant) == ("hub", "instruct")
    # Named at the endpoint it came from, HF_ENDPOINT's mirror here (an attacker's review: it said
    # huggingface.co).
    assert found.where == f"{os.environ['HF_ENDPOINT']}/lab/new-moe-Instruct/blob/main/config.json"
    assert found.model.moe is not None
    assert {path.rsplit("/", 1)[-1] for path in fake_hub.requests} == {"config.json"}
    # Next time it comes from the cache, without asking the Hub.
    asked = len(fake_hub.requests)
    assert find_model(catalog, "lab/new-moe-Instruct").kind == "cache"
    assert len(fake_hub.requests) == asked


STALL_SECONDS = 1.5


@pytest.mark.slow
def test_a_hostile_hub_gets_a_clear_refusal_not_an_internal_error(
    catalog: Catalog, fake_hub: type[FakeHub], hf_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An attacker's review: a redirect loop ended in 'internal error: TooManyRedirects' (exit 1), a
    300 MB "config.json" was written whole into the cache before it was refused, and a server that
    never answers held the command for minutes."""
    fake_hub.loops.add("lab/loop")
    with pytest.raises(UsageError, match=r"could not fetch lab/loop's config\.json"):
        find_model(catalog, "lab/loop")
    fake_hub.files["/lab/huge/resolve/main/config.json"] = b"{" + b" " * 5_000_000 + b"}"
    with pytest.raises(UsageError, match=r"larger than any config\.json"):
        find_model(catalog, "lab/huge")
    assert not list(hf_cache.rglob("config.json"))
    # A size it does not give is not trusted either: the body is cut one byte past the limit, and
    # nothing is left in the cache (hf_hub_download streamed gigabytes into its blobs).
    fake_hub.liars.add("lab/endless")
    with pytest.raises(UsageError, match=r"larger than any config\.json"):
        find_model(catalog, "lab/endless")
    assert [p for p in hf_cache.rglob("*") if p.is_file()] == []
    fake_hub.stalls.add("lab/stall")
    monkeypatch.setattr(models, "FETCH_SECONDS", 0.3)
    with pytest.raises(UsageError, match=r"did not send lab/stall's config\.json within 0\.3 s"):
        find_model(catalog, "lab/stall")


@pytest.mark.slow
def test_a_fetched_body_is_kept_only_if_it_is_a_config_and_the_token_stays_home(
    catalog: Catalog, fake_hub: type[FakeHub], hf_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A body that is no JSON object was written to the cache and failed every later run, offline
    too; the Hub token followed a redirect to another host (a review of this round's fetch)."""
    fake_hub.files["/lab/html/resolve/main/config.json"] = b"<html>maintenance</html>"
    with pytest.raises(UsageError, match="is not a JSON object"):
        find_model(catalog, "lab/html")
    assert [p for p in hf_cache.rglob("*") if p.is_file()] == []
    monkeypatch.setenv("HF_TOKEN", "hf_secret")
    port = os.environ["HF_ENDPOINT"].rsplit(":", 1)[1]
    fake_hub.files["/lab/moved/resolve/main/config.json"] = QWEN_MOE.read_bytes()
    fake_hub.files["/elsewhere/config.json"] = QWEN_MOE.read_bytes()
    fake_hub.moved["lab/moved"] = f"http://localhost:{port}/elsewhere/config.json"
    assert find_model(catalog, "lab/moved").model.layers == 48
    sent = dict(fake_hub.authorizations)
    assert sent["/lab/moved/resolve/main/config.json"] == "Bearer hf_secret"
    assert sent["/elsewhere/config.json"] is None


@pytest.mark.slow
@pytest.mark.parametrize(
    ("status", "code", "message"),
    [
        (401, "GatedRepo", "HF_TOKEN"),
        (403, "GatedRepo", "gated"),
        (404, "RepoNotFound", "not on the Hub"),
    ],
)
def test_hub_refusals_say_what_to_do(
    catalog: Catalog, fake_hub: type[FakeHub], status: int, code: str, message: str
) -> None:
    fake_hub.errors["lab/locked"] = (status, code)
    with pytest.raises(UsageError, match=message):
        find_model(catalog, "lab/locked")


def test_a_hub_that_does_not_resolve_fails_at_once(
    catalog: Catalog, hf_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No DNS (offline): said at once, not after huggingface_hub's ~25 s of retries."""
    hub = pytest.importorskip("huggingface_hub")
    monkeypatch.setattr(pytest.importorskip("huggingface_hub.constants"), "HF_HUB_OFFLINE", False)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("HF_ENDPOINT", "https://hub.invalid")  # RFC 2606: never resolves

    def download(*args: object, **kwargs: object) -> str:
        raise AssertionError("the download was tried")

    monkeypatch.setattr(hub, "hf_hub_download", download)
    monkeypatch.setattr(hub, "get_hf_file_metadata", download)  # the size is asked first
    for name in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(UsageError, match="could not reach the Hub"):
        find_model(catalog, "lab/anything")
    # Behind a proxy, the proxy resolves the host: the download is tried.
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    with pytest.raises(AssertionError, match="the download was tried"):
        find_model(catalog, "lab/anything")


@pytest.mark.slow
def test_a_repository_without_config_json(catalog: Catalog, fake_hub: type[FakeHub]) -> None:
    with pytest.raises(UsageError, match=r"has no config\.json"):
        find_model(catalog, "lab/gguf-only")


def test_models_table_folds_less_important_columns_on_a_narrow_terminal(run: Runner) -> None:
    narrow = ok(run("models", env={"COLUMNS": "80"})).stdout
    wide = ok(run("models", env={"COLUMNS": "160"})).stdout
    assert "Llama 3.1 8B" in wide and "Llama 3.1 8B" not in narrow
    assert "qwen3-30b-a3b" in narrow and "(3.353B)" in narrow and "instruct" in narrow
    markdown = ok(run("models", "--format", "markdown", env={"COLUMNS": "80"})).stdout
    assert "| name |" in markdown and "Llama 3.1 8B" in markdown


def test_model_command_shows_the_shape_a_bare_size_assumes(run: Runner) -> None:
    data = ok(run("model", "7b", "--json")).json()
    assert (data["model"]["source"], data["params_b"], data["head_dim"]) == ("bare size", 7.0, 128)
    assert "interpolated" in data["model"]["where"]


@pytest.mark.parametrize("name", ["a" * 300, "./" + "a" * 300, "a\x00b"])
def test_names_no_file_system_takes_are_still_clear_errors(catalog: Catalog, name: str) -> None:
    with pytest.raises(UsageError):
        find_model(catalog, name)


def test_apple_silicon_takes_its_memory_size(run: Runner) -> None:
    """ "m3 max" silently sized the 128 GB Mac, and --gpu apple-m3-max --vram 64 was refused, so a
    64 GB M3 Max could not be described (an expert's review): the size is said, and --vram gives
    the chip's own, with the share of it Metal lets the GPU use."""
    args = ("recommend", "--model", "llama-3.1-70b", "--goal", "adapt", "--json")
    assumed = ok(run(*args, "--gpu", "m3 max")).json()
    assert "--vram N" in assumed["notes"][0]
    given = ok(run(*args, "--gpu", "m3 max", "--vram", "64")).json()
    assert (given["profile"]["gpu"], given["profile"]["vram"]) == ("apple-m3-max", 64.0)
    assert "48 GiB usable" in given["notes"][0]  # the share the catalog's 64 GB Macs record
    small = ok(run(*args, "--gpu", "m3 max", "--vram", "36")).json()
    assert "27 GiB usable" in small["notes"][0]  # three quarters, as a 36 GB Mac measured
    smaller = ok(run(*args, "--gpu", "M2 16GB")).json()
    assert (smaller["profile"]["gpu"], smaller["profile"]["vram"]) == ("apple-m2", 16.0)
    assert "10.67 GiB usable" in smaller["notes"][0]  # two thirds on a small Mac
    fails(run(*args, "--gpu", "m3 max", "--vram", "256"), 2, "comes with 36, 48, 64, 96 or 128 GB")
    fails(run(*args, "--gpu", "none", "--vram", "24"), 2, "no GPU memory")


def test_a_config_under_another_name_reads_nothing_beside_it(catalog: Catalog, tmp_path: Path) -> None:
    """An attacker's review: --model /tmp/x.json read /tmp's tokenizer_config.json (anyone can plant
    one there: the variant became instruct) and the recipe loaded /tmp as the model."""
    config = tmp_path / "x.json"
    config.write_bytes(LLAMA.read_bytes())
    (tmp_path / "tokenizer_config.json").write_text('{"chat_template": "x"}')
    found = find_model(catalog, str(config))
    assert (found.kind, found.variant, found.repo) == ("file", "base", "")
    beside = tmp_path / "model" / "config.json"
    beside.parent.mkdir()
    beside.write_bytes(LLAMA.read_bytes())
    (beside.parent / "tokenizer_config.json").write_text('{"chat_template": "x"}')
    (beside.parent / "model.safetensors").write_bytes(b"")
    found = find_model(catalog, str(beside))
    assert (found.variant, found.repo) == ("instruct", str(beside.parent.resolve()))
