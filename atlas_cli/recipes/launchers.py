"""The multi-GPU setup a recipe's memory estimate assumed, as the files its launcher reads.

A plan estimated for several GPUs assumes a strategy: data parallel (every GPU holds the whole
model), ZeRO-2 (gradients and optimizer states sharded), ZeRO-3 (parameters too), possibly with
optimizer states or parameters offloaded to the CPU. A recipe that launched plain data parallel
under a ZeRO-3 estimate would run out of memory, so the recipe ships the launcher configuration
of exactly the strategy its header states:
- the Python recipe: an `accelerate launch` config, the form of TRL's own
  trl/accelerate_configs/{multi_gpu,zero2,zero3}.yaml, with DeepSpeed's ZeRO stage and offload
  (across nodes, with ZeRO++ hierarchical partitioning, which accelerate's keys cannot say: its
  deepspeed_config_file names the DeepSpeed JSON below);
- LLaMA-Factory and axolotl: a DeepSpeed JSON config with the Hugging Face "auto" values the
  trainers fill in, the form of LLaMA-Factory's examples/deepspeed/ds_z{2,3}[_offload]_config.json.
tests/test_recipes_validate.py loads both with accelerate's and DeepSpeed's own loaders.
"""

from __future__ import annotations

import json
from typing import Any

from atlas_cli.core.nodes import node_layout
from atlas_cli.core.plans import OFFLOADED, hours_text
from atlas_cli.i18n import N_, t
from atlas_cli.recipes.settings import Recipe, ulysses_attention

ACCELERATE_FILE = "accelerate.yaml"
MASTER_PORT = 29500  # torchrun's and accelerate's default rendezvous port
MIXED_PRECISION = {"bf16": "bf16", "pure-bf16": "bf16", "fp16": "fp16", "fp32": "no"}
ZERO_STAGE = {"zero2": 2, "zero3": 3}
# The multi-GPU strategies in the header's words.
STRATEGY_WORDS = {
    "ddp": N_("data parallel (every GPU holds the whole model)"),
    "zero2": N_("DeepSpeed ZeRO-2 (gradients and optimizer states sharded)"),
    "zero3": N_("DeepSpeed ZeRO-3 (parameters, gradients and optimizer states sharded)"),
}

SHARD_LOADED_WORDS = N_(
    "PyTorch FSDP1 full sharding (parameters, gradients and optimizer states sharded; the 4-bit base "
    "loaded shard by shard)"
)


def distributed(recipe: Recipe) -> bool:
    """Launched as one process per GPU by accelerate / torchrun: several GPUs, or DeepSpeed's
    offload on one (ZeRO-Offload and ZeRO-Infinity run under its launcher)."""
    return recipe.gpus > 1 or recipe.sharding in ZERO_STAGE


def beside_vllm_server(recipe: Recipe, run: str, serve: str) -> str:
    """The run line of a recipe that samples on a vLLM server: `serve` started in the background
    on the last GPUs, training on the others, and the server stopped after it, in a subshell of
    its own so that steps chained with && before it stay in the foreground; the trainer waits
    for the server to start (vllm_server_timeout; huggingface/trl docs/source/vllm_integration.md),
    and axolotl's docs put the server on the last GPUs (docs/rlhf.qmd)."""
    total = recipe.gpus + recipe.vllm_server_gpus
    serving = ",".join(str(i) for i in range(recipe.gpus, total))
    training = ",".join(str(i) for i in range(recipe.gpus))
    # The subshell ends with training's status, not kill's.
    return (
        f"(CUDA_VISIBLE_DEVICES={serving} {serve} & CUDA_VISIBLE_DEVICES={training} {run}; "
        "status=$?; kill $!; exit $status)"
    )


def multi_node_note(recipe: Recipe) -> str | None:
    """How to start a run that spans nodes, for the header; None on one node."""
    nodes, per_node = node_layout(recipe.gpus)
    if nodes == 1:
        return None
    uneven = (
        t(
            " {gpus} GPUs do not split evenly over {nodes} nodes: use {even} (--gpus {even}) or {fewer}.",
            gpus=recipe.gpus,
            nodes=nodes,
            even=nodes * per_node,
            fewer=nodes * (per_node - 1),
        )
        if nodes * per_node != recipe.gpus
        else ""
    )
    others = t("1 on the other") if nodes == 2 else t("1-{last} on the others", last=nodes - 1)
    return t(
        "{nodes} nodes of {per_node} GPUs: run the command on every node, after `export "
        "MASTER_ADDR=<the first node's address> NODE_RANK=<0 on that node, {others}>`; "
        "port {port} must be open between them.{uneven}{hierarchical}",
        nodes=nodes,
        per_node=per_node,
        others=others,
        port=MASTER_PORT,
        uneven=uneven,
        hierarchical=_hierarchical_note(recipe, per_node),
    )


def _hierarchical_note(recipe: Recipe, per_node: int) -> str:
    """ZeRO-3 over nodes gathers every weight across them, where the links, not the GPUs, set the
    pace (an expert's review: 70B LoRA on 32 H100s ran at 58 % of 8 GPUs' rate per GPU). ZeRO++'s
    hierarchical partitioning keeps a second copy of the 16-bit weights sharded within each node,
    so that gathers stay on NVLink (arXiv 2306.10209; accelerate docs/source/usage_guides/
    deepspeed.md: zero_hpz_partition_size "ideally the number of GPUs per node"), for that
    copy's memory. The recipe writes whichever layout estimates.py's _partition chose, and says
    what the other costs and saves, estimated the same way (Recipe.other_partitioning)."""
    if recipe.other_partitioning is None:
        return ""
    other = recipe.other_partitioning
    written = (recipe.estimates, recipe.timed)
    (layered, timed), (flat, flat_timed) = (written, other) if recipe.hierarchical else (other, written)
    memory = t(
        "{layered:.1f} GB per GPU instead of {flat:.1f} GB",
        layered=max(e.per_gpu_gb for e in layered.values()),
        flat=max(e.per_gpu_gb for e in flat.values()),
    )
    hours = [None if x is None or x.time is None else x.time.hours for x in (timed, flat_timed)]
    faster = (
        t("about {layered} instead of {flat}", layered=hours_text(hours[0]), flat=hours_text(hours[1]))
        if hours[0] is not None and hours[1] is not None
        else ""
    )
    if recipe.hierarchical:
        return t(
            " ZeRO-3 shards over all {gpus} GPUs, so every layer's weights would be gathered across "
            "nodes: {how}, {faster}. The memory and time above are for it; without the key, ZeRO-3 "
            "shards flat, for more memory to spare.",
            gpus=recipe.gpus,
            how=_partitioning(per_node, deepspeed_file(recipe), memory),
            faster=faster,
        )
    fits = all(e.fits for e in layered.values())
    if not fits:
        memory += (
            t(": past what fits (it would take {time})", time=faster) if faster else t(": past what fits")
        )
    elif faster:
        memory += f", {faster}"
    return t(
        " ZeRO-3 here shards over all {gpus} GPUs, so every layer's weights are gathered across "
        "nodes: {how}. The memory and time above are for flat sharding, as written.",
        gpus=recipe.gpus,
        how=_partitioning(per_node, deepspeed_file(recipe), memory),
    )


def _partitioning(per_node: int, where: str | None, memory: str) -> str:
    """What the key does and costs, as both layouts' notes say it."""
    return t(
        '"zero_hpz_partition_size": {per_node} in zero_optimization in {where} (ZeRO++ hierarchical '
        "partitioning) keeps the gathers within each node, and only the gradients cross the network, "
        "for a second copy of the 16-bit weights sharded over the node's {per_node}: {memory}",
        per_node=per_node,
        where=where,
        memory=memory,
    )


def deepspeed_file(recipe: Recipe) -> str | None:
    """The DeepSpeed config's file name, or None for data parallel (one GPU without offload)."""
    if recipe.sharding not in ZERO_STAGE:
        return None
    offload = "" if recipe.offload == "none" else "_offload"
    return f"ds_z{ZERO_STAGE[recipe.sharding]}{offload}_config.json"


def _offload_devices(recipe: Recipe) -> tuple[str, str]:
    """(optimizer, parameters): where each lives."""
    optimizer = "cpu" if recipe.offload in ("optimizer", "params") else "none"
    return optimizer, "cpu" if recipe.offload == "params" else "none"


def accelerate_config(recipe: Recipe) -> dict[str, Any]:
    """`accelerate launch --config_file accelerate.yaml`: one process per GPU, with DeepSpeed
    where the estimate shards anything."""
    config: dict[str, Any] = {"compute_environment": "LOCAL_MACHINE", "debug": False}
    precision: dict[str, Any] = {"mixed_precision": MIXED_PRECISION.get(str(recipe.value("precision")), "no")}
    if recipe.sharding in ZERO_STAGE:
        # The JSON beside it holds the whole DeepSpeed config: accelerate's own DeepSpeed keys
        # have no buckets (DeepSpeed's default reduce bucket is 5e8 elements, a 1 GB buffer in
        # bf16, where the estimate counts the "auto" hidden^2 the trainers fill in) and no ZeRO++
        # keys; accelerate refuses the keys that JSON owns (ZeRO stage, offload, mixed precision)
        # beside a deepspeed_config_file (DeepSpeedPlugin._deepspeed_config_checks).
        config.update(
            deepspeed_config={
                "deepspeed_config_file": deepspeed_file(recipe),
                "deepspeed_multinode_launcher": "standard",
                # ZeRO-3 builds the model already sharded (as TRL's zero3.yaml does).
                "zero3_init_flag": recipe.sharding == "zero3",
            },
            distributed_type="DEEPSPEED",
        )
        precision = {}
        if recipe.sequence_parallel > 1:
            config["parallelism_config"] = _sequence_parallelism(recipe)
    else:
        config.update(distributed_type="MULTI_GPU", gpu_ids="all")
    config.update(
        downcast_bf16="no",
        machine_rank=0,
        main_training_function="main",
        **precision,
        num_machines=node_layout(recipe.gpus)[0],
        num_processes=recipe.gpus,
        rdzv_backend="static",
        same_network=True,
        tpu_env=[],
        tpu_use_cluster=False,
        tpu_use_sudo=False,
        use_cpu=False,
    )
    return config


def _sequence_parallelism(recipe: Recipe) -> dict[str, Any]:
    """DeepSpeed Ulysses through accelerate (transformers docs deepspeed_alst.md): each sequence
    split over sp_size GPUs, the groups of them data parallel; FlashAttention 2 inside, which
    keeps packed examples apart."""
    return {
        "parallelism_config_sp_size": recipe.sequence_parallel,
        "parallelism_config_dp_replicate_size": recipe.gpus // recipe.sequence_parallel,
        "parallelism_config_sp_backend": "deepspeed",
        "parallelism_config_sp_seq_length_is_variable": True,
        "parallelism_config_sp_attn_implementation": ulysses_attention(recipe),
    }


def deepspeed_config(recipe: Recipe) -> dict[str, Any]:
    """A DeepSpeed config for LLaMA-Factory's and axolotl's `deepspeed:` key and the Python
    recipes' accelerate config; "auto" values are filled by transformers from the training
    arguments (batch, accumulation, precision) and the model (buckets of hidden^2)."""
    stage = ZERO_STAGE[recipe.sharding]
    zero: dict[str, Any] = {
        "stage": stage,
        "overlap_comm": False,
        "contiguous_gradients": True,
        "reduce_bucket_size": "auto",
    }
    if stage == 2:
        zero.update(allgather_partitions=True, allgather_bucket_size=5e8, reduce_scatter=True)
    else:
        zero.update(
            sub_group_size=1e9,
            stage3_prefetch_bucket_size="auto",
            stage3_param_persistence_threshold="auto",
            stage3_max_live_parameters=1e9,
            stage3_max_reuse_distance=1e9,
            stage3_gather_16bit_weights_on_model_save=True,
        )
    optimizer, params = _offload_devices(recipe)
    if optimizer == "cpu":
        zero["offload_optimizer"] = {"device": "cpu", "pin_memory": True}
    if params == "cpu":
        zero["offload_param"] = {"device": "cpu", "pin_memory": True}
    if recipe.hierarchical:
        zero["zero_hpz_partition_size"] = node_layout(recipe.gpus)[1]
    return {
        "train_batch_size": "auto",
        "train_micro_batch_size_per_gpu": "auto",
        "gradient_accumulation_steps": "auto",
        "gradient_clipping": "auto",
        "zero_allow_untested_optimizer": True,
        "fp16": {"enabled": "auto", "loss_scale": 0, "loss_scale_window": 1000, "initial_scale_power": 16},
        "bf16": {"enabled": "auto"},
        "zero_optimization": zero,
    }


def deepspeed_json(recipe: Recipe) -> str:
    return json.dumps(deepspeed_config(recipe), indent=2) + "\n"


def sharding_note(recipe: Recipe) -> str | None:
    """What the launcher files do, in words, for the header."""
    if not distributed(recipe):
        return None
    words = t(SHARD_LOADED_WORDS if recipe.sharded_loading else STRATEGY_WORDS[recipe.sharding])
    if recipe.offload == "optimizer":
        words += t(", optimizer states offloaded to CPU RAM")
    elif recipe.offload == "params":
        words += t(", parameters and optimizer states offloaded to CPU RAM")
    if recipe.sequence_parallel > 1:
        words += t(
            ", each sequence split over {gpus} GPUs (DeepSpeed Ulysses sequence parallelism, "
            "accelerate's parallelism_config; FlashAttention 2 inside: pip install flash-attn)",
            gpus=recipe.sequence_parallel,
        )
    gpus = t("{count} GPUs", count=recipe.gpus) if recipe.gpus > 1 else t("1 GPU")
    note = t("{gpus}: {words}, as the memory estimate assumes.", gpus=gpus, words=words)
    if recipe.offload in OFFLOADED and not recipe.sharded_loading:  # FSDP steps them on the CPU
        # accelerate's map_pytorch_optim_to_deepspeed (utils/deepspeed.py), which the HF Trainer
        # goes through, replaces a client optimizer when the optimizer states are offloaded.
        optim = recipe.value("optim") if recipe.has("optim") else t("the optimizer")
        note += t(
            " With the optimizer states in CPU RAM, accelerate swaps {optim} for DeepSpeed's CPU Adam "
            "(DeepSpeedCPUAdam), which DeepSpeed compiles on first use: it needs a C++ compiler "
            "(or DS_BUILD_CPU_ADAM=1 pip install deepspeed builds it ahead).",
            optim=optim,
        )
    nodes = multi_node_note(recipe)
    return note if nodes is None else f"{note} {nodes}"
