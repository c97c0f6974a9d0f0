"""GRPO sampling on a vLLM server of its own (--vllm-server-gpus, TRL vllm_mode='server'): the
training GPUs hold no engine, the server's GPUs must hold the weights, training runs on the GPUs
the server leaves, all of them are paid for, and the recipes start the server beside training."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from atlas_cli.core.engine import Engine
from atlas_cli.core.memory.search import Change
from atlas_cli.core.plans import change_text
from atlas_cli.core.profile import build_profile
from atlas_cli.core.resolve import resolve_hardware
from atlas_cli.core.throughput.plans import work_of
from atlas_cli.core.throughput.step import link_gbs, server_sync_seconds
from atlas_cli.kb.catalog import Catalog
from atlas_cli.recipes.writer import render_recipe, write_recipe
from tests.conftest import Runner, fails, ok

GPUS = ("--gpu", "h100-80gb", "--gpus", "8", "--model", "qwen2.5-7b")
GRPO = (*GPUS, "--objective", "grpo", "--method", "lora")
GOAL = ("--goal", "reasoning", "--data-kind", "reward-function", "--examples", "5k")


def estimate(run: Runner, *args: str) -> dict[str, Any]:
    data = ok(run("estimate", *GRPO, "--examples", "5k", *args, "--json")).json()
    assert isinstance(data, dict)
    return data


def test_the_training_gpus_hold_no_engine_and_the_server_its_weights(run: Runner) -> None:
    """A colocated engine holds 30 % or more of every GPU; a server's GPUs hold the 16-bit weights
    (15.2 GB for Qwen2.5-7B) and a prompt's group's cache, split over its tensor-parallel GPUs."""
    colocated = estimate(run, "--vllm")
    served = estimate(run, "--vllm-server-gpus", "1")
    assert served["per_gpu_gb"] < colocated["per_gpu_gb"] - 0.3 * 85
    a = served["assumptions"]
    assert a["vllm"] and a["gpus"] == 7 and a["vllm_server_gpus"] == 1
    assert 15.2 < a["vllm_server_gb"] < 17.5
    two = estimate(run, "--vllm-server-gpus", "2")["assumptions"]
    assert two["gpus"] == 6 and two["vllm_server_gb"] == pytest.approx(a["vllm_server_gb"] / 2, abs=0.5)
    assert colocated["assumptions"]["vllm_server_gpus"] == 0
    assert colocated["assumptions"]["vllm_server_gb"] is None


def test_a_server_that_cannot_start_does_not_fit_and_more_server_gpus_are_named(run: Runner) -> None:
    """vLLM refuses to start past its gpu_memory_utilization (0.9) of each GPU, whatever the
    training GPUs hold: Qwen2.5-72B's 145 GB of 16-bit weights need 4 H100s (on 2, 74.6 GB of the
    77 GB vLLM may use leaves no room for its activation peak and cache)."""
    args = ("--gpu", "h100-80gb", "--gpus", "8", "--model", "qwen2.5-72b", "--objective", "grpo")
    args += ("--method", "full-ft", "--offload", "optimizer", "--json")
    one = ok(run("estimate", *args, "--vllm-server-gpus", "1")).json()
    assert one["assumptions"]["vllm_server_gb"] > 85.5 and one["fit"] == "no"
    changes = [(c["change"], c["value"]) for c in one["to_fit"]]
    assert ("vllm_server_gpus", 4) in changes
    two = ok(run("estimate", *args, "--vllm-server-gpus", "2")).json()
    assert 0.9 * 0.9 * 85.52 < two["assumptions"]["vllm_server_gb"] < 0.9 * 85.52 and two["fit"] == "tight"
    assert ok(run("estimate", *args, "--vllm-server-gpus", "4")).json()["fit"] == "yes"


def test_a_colocated_engine_that_keeps_a_plan_from_fitting_names_a_server(run: Runner) -> None:
    """An expert's review: GRPO LoRA of Qwen3-30B-A3B on 8 H100s with --vllm did not fit (91.6 GB,
    the engine's share of every GPU and ZeRO-3's whole-model gather to sync it), and its changes
    named only sampling without vLLM; a server on one GPU of its own fits it (66.1 GB). Not on
    one GPU."""
    args = ("--gpu", "h100-80gb", "--gpus", "8", "--model", "qwen3-30b-a3b", *GOAL, "--vllm", "--top", "10")
    lora = next(
        p for p in ok(run("recommend", *args, "--json")).json()["recommendations"] if p["method"] == "lora"
    )
    assert lora["fit"] == "no"
    server = [c for c in lora["to_fit"] if c["change"] == "vllm_server_gpus"]
    assert [c["value"] for c in server] == [1] and server[0]["per_gpu_gb"] < 0.9 * 85.52
    sized = ("--gpu", "h100-80gb", "--gpus", "8", "--model", "qwen3-30b-a3b", "--objective", "grpo")
    said = " ".join(
        ok(run("estimate", *sized, "--method", "lora", "--vllm", "--examples", "5k")).stdout.split()
    )
    assert "to fit: vllm_server_gpus = 1" in said
    worded = change_text(Change(server[0]["change"], server[0]["value"], server[0]["per_gpu_gb"]))
    assert worded.startswith("--vllm-server-gpus 1: a vLLM server on GPUs of its own, the others training")
    one = ("--gpu", "h100-80gb", "--model", "qwen2.5-7b", "--objective", "grpo", "--method", "full-ft")
    one += ("--vllm",)
    assert all(
        c["change"] != "vllm_server_gpus" for c in ok(run("estimate", *one, "--json")).json()["to_fit"]
    )


def test_the_server_and_the_training_gpus_have_their_own_verdicts(run: Runner) -> None:
    """Only the server's GPU is short: the JSON says the server's verdict beside the plan's, and the
    table no longer says 'does not fit' beside 40 GB of headroom on the training GPUs."""
    args = ("--gpu", "h100-80gb", "--gpus", "8", "--model", "qwen2.5-72b", "--objective", "grpo")
    args += ("--method", "qlora", "--vllm-server-gpus", "1")
    data = ok(run("estimate", *args, "--json")).json()
    assert data["fit"] == "no" and data["headroom_gb"] > 30
    assert data["assumptions"]["vllm_server_fit"] == "no"
    table = ok(run("estimate", *args, env={"COLUMNS": "160"})).stdout
    assert re.search(r"usable GPU memory, training GPUs \(fits\)\s*│\s*85\.52", table), table
    assert re.search(r"vLLM server, per GPU \(does not fit\)\s*│\s*146\.2", table), table
    assert re.search(r"90 % of a GPU, which vLLM may use\s*│\s*76\.97", table), table
    colocated = ok(run("estimate", *args[:-2], "--json")).json()["assumptions"]
    assert colocated["vllm_server_fit"] is None


def test_every_gpu_is_paid_for_and_more_server_gpus_decode_faster(run: Runner) -> None:
    found = estimate(run, "--vllm-server-gpus", "1")
    served = found["time"]
    assert found["cost"]["gpu_hours"] == pytest.approx(served["hours"] * 8, rel=0.01)
    # Decoding is bound by memory bandwidth: a second server GPU reads half the weights a step.
    two = estimate(run, "--vllm-server-gpus", "2")["time"]
    assert two["generation_hours"] < served["generation_hours"]


def test_the_weights_sent_to_the_server_are_timed_over_the_gpu_link(catalog: Catalog) -> None:
    """TRL 1.11+ streams the model packed into NCCL broadcasts (huggingface/trl#6765): Qwen2.5-7B's
    15.2 GB in bf16 over an H100's NVLink; full fine-tuning sends its fp32 weights, twice that."""
    profile = {"gpu": "h100-80gb", "gpus": 8, "model": "qwen2.5-7b", "goal": "reasoning"}
    profile |= {"data_kind": "reward-function", "examples": "5k", "vllm_server_gpus": 1}
    rec = Engine(catalog).recommend(build_profile(profile))
    device = resolve_hardware(catalog, "h100-80gb", None, 8).device
    assert device is not None
    seconds = {}
    for method in ("lora", "full-ft"):
        plan = next(p for p in rec.plans if p.method == method)
        assert plan.estimate is not None
        seconds[method] = server_sync_seconds(work_of(plan.estimate), device)
    assert seconds["lora"] == pytest.approx(15.2e9 / (link_gbs(device, 8) * 1e9), rel=0.02)
    assert seconds["full-ft"] == pytest.approx(2 * seconds["lora"], rel=0.02)


def test_a_stage_that_does_not_sample_trains_on_every_gpu(run: Runner) -> None:
    sft = ok(run("estimate", *GPUS, "--method", "lora", "--vllm-server-gpus", "1", "--json"))
    assert sft.json()["assumptions"]["gpus"] == 8 and "--vllm-server-gpus: nothing here samples" in sft.stderr


def test_the_plan_runs_on_every_gpu_the_profile_has(catalog: Catalog) -> None:
    """The server's GPUs are the plan's too: not "fewer GPUs are enough for it"."""
    profile = {"gpu": "h100-80gb", "gpus": 8, "model": "qwen2.5-7b", "goal": "reasoning"}
    profile |= {"data_kind": "reward-function", "examples": "5k", "vllm_server_gpus": 2}
    rec = Engine(catalog).recommend(build_profile(profile))
    plan = next(p for p in rec.plans if p.method == "lora")
    assert plan.estimate is not None and plan.estimate.settings.gpus == 6 and plan.gpus == 8
    assert not plan.spare_gpus and not any("of your 8 GPUs" in r for r in plan.reasons)


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("--gpus", "2", "--vllm-server-gpus", "2"), "leaves no GPU to train on"),
        (("--gpus", "8", "--vllm-server-gpus", "3"), "28 query and 4 key/value heads do not split over 3"),
        (("--gpus", "8", "--vllm-server-gpus", "1", "--stack", "unsloth"), "unsloth"),
    ],
)
def test_an_impossible_server_is_refused(run: Runner, args: tuple[str, ...], said: str) -> None:
    base = ("--gpu", "h100-80gb", "--model", "qwen2.5-7b", "--objective", "grpo", "--method", "lora")
    fails(run("estimate", *base, *args), 2, said)


def _recipe(catalog: Catalog, fmt: str, gpus: int = 8, server: int = 1) -> tuple[str, Any]:
    profile = {"gpu": "h100-80gb", "gpus": gpus, "model": "qwen2.5-7b", "goal": "reasoning"}
    profile |= {"data_kind": "reward-function", "examples": "5k", "vllm_server_gpus": server}
    rec = Engine(catalog).recommend(build_profile(profile))
    rank = next(i for i, p in enumerate(rec.plans, 1) if p.method == "lora")
    return render_recipe(catalog, rec, rank, fmt), write_recipe(catalog, rec, rank, fmt)[0]


def _header(text: str) -> str:
    return " ".join(line.lstrip("#").strip() for line in text.splitlines() if line.startswith("#"))


def test_the_python_recipe_starts_trl_vllm_serve_on_the_last_gpus(catalog: Catalog) -> None:
    """TRL's documented layout: `trl vllm-serve` with CUDA_VISIBLE_DEVICES on its GPUs, accelerate
    on the others (docs/source/vllm_integration.md); the server's options on its command line, as
    GRPOConfig's vllm_gpu_memory_utilization and its kin configure a colocated engine only."""
    text, recipe = _recipe(catalog, "python", server=2)
    header = _header(text)
    assert (
        "Run: (CUDA_VISIBLE_DEVICES=6,7 trl vllm-serve --model Qwen/Qwen2.5-7B --tensor-parallel-size 2 "
        "--max-model-len 1024 & CUDA_VISIBLE_DEVICES=0,1,2,3,4,5 accelerate launch" in header
    )
    # The server stops with training, and the line ends with training's status.
    assert "--output-dir ft-atlas-output; status=$?; kill $!; exit $status)" in header
    # The server starts beside training: TRL's 240 s wait is too short for a large model.
    assert "'vllm_server_timeout': 900" in text
    # A --max-length past the server's context is refused before training, not by every request.
    assert "VLLM_SERVER_MAX_MODEL_LEN = 1024" in text and "start it with --max-model-len" in text
    assert "'use_vllm': True, 'vllm_mode': 'server'" in text and "vllm_gpu_memory_utilization'" not in text
    assert recipe.gpus == 6 and "on 8 GPUs at" in header and "of your 8 GPUs" not in header
    assert "num_processes: 6" in text


def test_the_axolotl_recipe_serves_from_its_own_config(catalog: Catalog) -> None:
    """`axolotl vllm-serve grpo.yaml` reads the server's options from the vllm: section (axolotl
    docs/rlhf.qmd: the server on the last GPUs, `axolotl train` on the others)."""
    text, _ = _recipe(catalog, "axolotl")
    (doc,) = [d for d in yaml.safe_load_all(text) if d]
    assert doc["trl"]["vllm_mode"] == "server" and doc["trl"]["use_vllm"] is True
    assert doc["vllm"] == {"tensor_parallel_size": 1, "max_model_len": 1024}
    header = _header(text)
    assert doc["trl"]["vllm_server_timeout"] == 900
    serve = "Run: (CUDA_VISIBLE_DEVICES=7 axolotl vllm-serve grpo.yaml & "
    assert serve + "CUDA_VISIBLE_DEVICES=0,1,2,3,4,5,6 axolotl train grpo.yaml" in header
    assert "--nproc_per_node 7; status=$?; kill $!; exit $status)" in header


def test_a_server_beside_training_is_written_on_one_node_only(run: Runner) -> None:
    args = ("--gpu", "h100-80gb", "--gpus", "16", "--model", "qwen2.5-7b", *GOAL, "--vllm-server-gpus", "2")
    fails(run("recipe", *args), 2, "on one node only")


def test_json_counts_the_servers_gpus_in_the_plans(run: Runner) -> None:
    """docs/json.md: a plan's `gpus` is how many GPUs it uses; its assumptions name those that train."""
    data = ok(run("recommend", *GPUS, *GOAL, "--vllm-server-gpus", "2", "--json")).json()
    plan = next(p for p in data["recommendations"] if p["method"] == "lora")
    assert plan["gpus"] == 8 and plan["assumptions"]["gpus"] == 6


def test_a_plan_that_fits_only_offloaded_still_ranks_with_a_server(run: Runner) -> None:
    """A review: the search for an Unsloth plan (which samples with its own vLLM) kept the server
    and refused the whole recommendation with an error about --stack unsloth, never given."""
    args = ("--model", "llama-3.1-70b", "--gpu", "a100-40gb", "--gpus", "8", "--vllm-server-gpus", "4")
    data = ok(run("recommend", *args, "--data-kind", "reward-function", "--json")).json()
    assert data["recommendations"]


def test_a_generation_batch_is_rounded_over_the_training_gpus(run: Runner) -> None:
    """TRL's generation batch is whole micro-batches on each training process: 3 of 4 GPUs here."""
    args = ("--gpu", "h100-80gb", "--gpus", "4", "--model", "llama-3.1-8b", "--objective", "grpo")
    args += ("--method", "lora", "--vllm-server-gpus", "1", "--generation-batch", "10", "--json")
    found = ok(run("estimate", *args))
    assert "24 at once" in found.stderr and "on each of 3 GPU(s)" in " ".join(found.stderr.split())


def test_a_server_with_vllm_turned_off_is_refused_in_batch(run: Runner, tmp_path: Path) -> None:
    """A review: {"vllm": false, "vllm_server_gpus": 1} silently turned vLLM on."""
    line = {"gpu": "h100-80gb", "gpus": 8, "model": "qwen2.5-7b", "vllm": False, "vllm_server_gpus": 1}
    batch = tmp_path / "batch.jsonl"
    batch.write_text(json.dumps(line) + "\n")
    found = run("recommend", "--batch", str(batch))
    answer = json.loads(found.stdout)
    assert found.exit_code == 2  # a batch with a refused line exits as bad input
    assert "vllm: false turns off" in answer["error"]["message"]


def test_recommend_offers_no_recipe_its_server_cannot_be_written_for(run: Runner) -> None:
    """A review: recommend printed a recipe line for a server beside training across nodes, which
    `recipe` then refused; it says why instead."""
    args = ("--gpu", "h100-80gb", "--gpus", "16", "--model", "llama-3.1-70b", *GOAL)
    text = " ".join(
        ok(run("recommend", *args, "--vllm-server-gpus", "8", env={"COLUMNS": "400"})).stdout.split()
    )
    assert "Recipe: none: a vLLM server beside training is written on one node only" in text
    assert "ft-atlas recipe" not in text.split("Recipe:")[1].split("•")[0]


def test_ask_checks_a_server_given_as_a_flag_against_the_gpus_answered(run: Runner) -> None:
    """`ask --vllm-server-gpus 2` was refused before the GPU count was asked (checked against the
    default of one); it is checked once the count is answered, and still refused without input."""
    flags = ("--vllm-server-gpus", "2", "--model", "qwen2.5-7b", *GOAL[:4], "--json")
    answers = "weights\nh100\n4\n" + "\n" * 20
    data = ok(run("ask", *flags, input=answers)).json()
    assert data["profile"]["gpus"] == 4 and data["profile"]["vllm_server_gpus"] == 2
    refused = fails(run("ask", *flags, input="weights\nh100\ntwo\n" + "\n" * 20), 2)
    assert "How many GPUs?" in refused.stderr and "leaves no GPU to train on (--gpus 2)" in refused.stderr
    assert "(--gpus 1)" in fails(run("ask", "--no-input", *flags), 2).stderr
    # The count's default taken with Enter, and a count said with the GPU, are checked at once too.
    for gpu_answers in ("h100\n\n", "2x h100\n"):
        refused = fails(run("ask", *flags, input="weights\n" + gpu_answers + "\n" * 20), 2).stderr
        assert "piped answer" in refused and "leaves no GPU to train on" in refused
        assert "Compute the plan?" not in refused
    # Flags that do not go together are refused before the first question.
    for together, why in (
        (("--vllm-server-gpus", "3", "--model", "qwen2.5-7b"), "do not split over 3"),
        (
            ("--vllm-server-gpus", "2", "--gpus", "8", "--stack", "unsloth"),
            "Unsloth samples with its own vLLM",
        ),
    ):
        refused = fails(run("ask", *together, input="weights\n"), 2, why).stderr
        assert "Can you access" not in refused


def test_qlora_sampled_with_vllm_is_refused_by_the_trl_recipes(run: Runner) -> None:
    """A review: --stack unsloth ranks QLoRA sampled by Unsloth's own vLLM, and `recipe` wrote it as
    a TRL script with use_vllm on a 4-bit base, which TRL cannot sample (trl#4973), without a word.
    The recipe refuses it and says why; recommend offers no recipe line for it."""
    args = ("--gpu", "t4", "--model", "llama-3.1-8b", "--goal", "reasoning", "--data-kind", "reward-function")
    args += ("--vllm", "--examples", "500", "--stack", "unsloth")
    steps = ok(run("recommend", *args, "--json")).json()["next_steps"]
    assert steps["method"] == "qlora" and steps["recipe"] is None
    assert "huggingface/trl#4973" in steps["recipe_note"]
    fails(run("recipe", *args, "--out", "-"), 2, "cannot yet sample a 4-bit (QLoRA) model with vLLM")


def test_prompting_beside_a_server_flag_holds_no_server_and_uses_every_gpu(run: Runner) -> None:
    """A review: `estimate --objective grpo --vllm-server-gpus 1 --method icl` sized a server for
    prompting (fit yes beside a server that does not fit) on the GPUs the server would leave."""
    args = ("--gpu", "4090", "--gpus", "4", "--model", "qwen2.5-14b", "--objective", "grpo")
    data = ok(run("estimate", *args, "--vllm-server-gpus", "1", "--method", "icl", "--json")).json()
    a = data["assumptions"]
    assert a["gpus"] == 4 and not a["vllm"] and a["vllm_server_gpus"] == 0
    assert a["vllm_server_gb"] is None and a["vllm_server_fit"] is None
