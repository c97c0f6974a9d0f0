"""Memory estimates: a horizontal bar chart with the GPU capacity marked, and a breakdown."""

from __future__ import annotations

from typing import NamedTuple

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from atlas_cli.core.memory.estimate import VLLM_SERVER_SHARE, VLLM_SHARE
from atlas_cli.core.memory.estimate import verdict as training_verdict
from atlas_cli.core.plans import band_text, hours_text
from atlas_cli.core.throughput.timing import batches_text
from atlas_cli.i18n import N_, grouped, nt, number, parameters, pt, significant, t, translated
from atlas_cli.kb.vocabulary import FIT_MARGIN
from atlas_cli.render.contracts import AssumptionsJson, EstimateJson
from atlas_cli.render.grid import Grid

BAR_WIDTH = 40


VERDICTS = {"yes": (N_("fits"), "green"), "tight": (N_("tight"), "yellow"), "no": (N_("does not fit"), "red")}


def _verdict(e: EstimateJson) -> tuple[str, str]:
    fit = e.get("fit")
    if fit is None:
        return "", "cyan"
    words, style = VERDICTS[fit]
    return t(words), style


def _bar(value: float, capacity: float | None, scale: float, width: int, style: str) -> Text:
    filled = round(value / scale * width) if scale else 0
    mark = None if capacity is None else min(round(capacity / scale * width), width - 1)
    bar = Text()
    for i in range(width):
        if i == mark:
            bar.append("│", style="bold yellow")
        elif i < filled:
            bar.append("█", style=style)
        else:
            bar.append(" ")
    return bar


MIN_BAR_WIDTH = 6  # its header, "memory" ("память"), whole
CHART_GAPS = 2  # one space of padding on each side of an inner column


class ChartColumns(NamedTuple):
    """What the chart shows at a terminal's width: the bar's width (0: no bar), the time column,
    the largest-value column."""

    bar: int
    time: bool
    most: bool


def chart_columns(estimates: list[EstimateJson], terminal_width: int | None) -> ChartColumns:
    """The plan names folded to their longest word, the memory and the verdict always whole; then
    the time, the largest value and the bar, each where it fits (at 40 columns the plan names had
    gone, then the verdicts were cut to "does no")."""
    most = _max_key(estimates)
    timed = any(e.get("time") for e in estimates)
    if terminal_width is None:
        return ChartColumns(BAR_WIDTH, timed, most is not None)
    labels = max((len(w) for e in estimates for w in translated(e["label"]).split()), default=0)
    numbers = max((len(number(e["per_gpu_gb"], ".1f")) for e in estimates), default=0)
    verdicts = max((len(_verdict(e)[0]) for e in estimates), default=0)
    room = terminal_width - labels - numbers - verdicts - 2 * CHART_GAPS
    times = max((len(_time_cell(e)) for e in estimates), default=0) if timed else 0
    time = timed and room >= max(times, len(t("time"))) + CHART_GAPS
    room -= max(times, len(t("time"))) + CHART_GAPS if time else 0
    values = max((len(_largest(e, most[0])) for e in estimates), default=0) if most else 0
    needed = max(values, len(most[1])) + CHART_GAPS if most else 0
    largest = most is not None and room >= needed
    room -= needed if largest else 0
    # Whole plan names where the least bar still fits beside them, folded ones where it does not.
    whole = max((len(translated(e["label"])) for e in estimates), default=0) - labels
    spare = room - CHART_GAPS - (whole if room - CHART_GAPS - whole >= MIN_BAR_WIDTH else 0)
    return ChartColumns(min(BAR_WIDTH, spare) if spare >= MIN_BAR_WIDTH else 0, time, largest)


NO_GPU_GIVEN = N_("No GPU given: pass --gpu or --vram to check the fit.")


def estimate_chart(
    estimates: list[EstimateJson],
    title: str,
    terminal_width: int | None = None,
    no_capacity: str = NO_GPU_GIVEN,
) -> RenderableType:
    shown = chart_columns(estimates, terminal_width)
    width, time_shown, most_shown = shown
    capacity = estimates[0]["capacity_gb"] if estimates else None
    peak = max([e["per_gpu_gb"] for e in estimates] + [capacity or 0.0])
    scale = peak * 1.02 or 1.0
    # The title is its own line, wrapped at the terminal's width: as the table's, it wrapped at the
    # table's least width and was cut at 40 columns (a newcomer's review).
    heading = Text(title, style="table.title")
    table = Table(show_header=True, box=None, pad_edge=False)
    longest_word = max((len(w) for e in estimates for w in e["label"].split()), default=1)
    table.add_column(t("plan"), overflow="fold", min_width=longest_word)
    if width:
        table.add_column(t("memory"), no_wrap=True, width=width)
    table.add_column(t("GB"), justify="right", no_wrap=True)
    # Whole, as the bar shrinks first: at 40 columns "does not fit" was cut to "does no".
    table.add_column("", no_wrap=True, min_width=max((len(_verdict(e)[0]) for e in estimates), default=0))
    if time_shown:
        table.add_column(t("time"), justify="right", no_wrap=True)
    most = _max_key(estimates) if most_shown else None
    if most:
        table.add_column(most[1], justify="right", no_wrap=True)
    for e in estimates:
        verdict, style = _verdict(e)
        cells: list[Text | str] = [Text(translated(e["label"]))]
        cells += [_bar(e["per_gpu_gb"], capacity, scale, width, style)] if width else []
        cells += [number(e["per_gpu_gb"], ".1f"), Text(verdict, style=style)]
        if time_shown:
            cells.append(_time_cell(e))
        if most:
            cells.append(_largest(e, most[0]))
        table.add_row(*cells)
    legend = (
        t(
            "│ = usable GPU memory {capacity:g} GB (10^9 bytes); tight = within it but past the {margin} % "
            "safety margin",
            capacity=capacity,
            margin=round((1 - FIT_MARGIN) * 100),
        )
        if capacity is not None
        else t(no_capacity)
    )
    if not estimates:
        return Group(heading, table)
    hidden = [] if width else [t("memory")]
    hidden += [t("time")] if any(e.get("time") for e in estimates) and not time_shown else []
    key = _max_key(estimates)
    hidden += [key[1]] if key is not None and not most_shown else []
    conditions = sweep_conditions(estimates)
    if hidden:
        # Its markdown table has no time or largest-value column: --json has every figure.
        conditions += " " + t(
            "Not shown at this width: {columns} (--json has every figure).", columns=", ".join(hidden)
        )
    return Group(heading, table, Text(legend, style="yellow"), Text(conditions, style="dim"))


def _time_cell(e: EstimateJson) -> str:
    time = e.get("time")
    if time is None:
        return "—"
    if not e.get("stages"):  # nothing trains (ICL)
        return pt("time", "none")
    return band_text(time["hours_low"], time["hours_high"])


def _max_key(estimates: list[EstimateJson]) -> tuple[str, str] | None:
    if estimates and "max_seq_len" in estimates[0]:
        return "max_seq_len", t("longest seq")
    if estimates and "max_batch_size" in estimates[0]:
        return "max_batch_size", t("largest batch")
    return None


def _largest(e: EstimateJson, key: str) -> str:
    """The largest value within the margin; when none is, the largest within capacity, as tight."""
    value, tight = e.get(key), e.get(f"{key}_tight")
    if value is not None:
        return str(value)
    return "—" if tight is None else t("— ({value} tight)", value=tight)


def conditions(a: AssumptionsJson, training: bool = True, checkpointing: str | None = None) -> str:
    """The conditions an estimate holds for, in one line (every figure carries them). An
    inference estimate (ICL, RAG) has no optimizer, checkpointing or loss to speak of.
    `checkpointing`: how plans that differ in it use gradient checkpointing, in words."""
    if not training:
        return nt(
            "Inference: sequences of {seq} token, batch {batch}, {precision} weights, {strategy}; no "
            "gradients, optimizer states or training activations. Attention: {attention}.",
            "Inference: sequences of {seq} tokens, batch {batch}, {precision} weights, {strategy}; no "
            "gradients, optimizer states or training activations. Attention: {attention}.",
            a["seq_len"],
            seq=a["seq_len"],
            batch=a["batch_size"],
            precision=a["weights"],
            strategy=a["strategy"],
            attention=a["attention"],
        )
    sized = nt(
        "Sized for sequences of {seq} token, micro-batch {batch}, {precision}, {optimizer}, gradient "
        "checkpointing {checkpointing}, stack {stack}, {strategy}. Attention: {attention}. Logits: {logits}.",
        "Sized for sequences of {seq} tokens, micro-batch {batch}, {precision}, {optimizer}, gradient "
        "checkpointing {checkpointing}, stack {stack}, {strategy}. Attention: {attention}. Logits: {logits}.",
        a["seq_len"],
        seq=a["seq_len"],
        batch=a["batch_size"],
        precision=a["precision"],
        optimizer=a["optimizer"],
        checkpointing=checkpointing or (t("on") if a["gradient_checkpointing"] else t("off")),
        stack=a["stack"],
        strategy=a["strategy"],
        attention=a["attention"],
        logits=a["logits"],
    )
    if a["activation_offloading"]:
        sized += " " + t("Activations: the checkpoints wait in CPU RAM (activation offloading).")
    if a["tiled_mlp"]:
        sized += " " + t("MLP: tiled, a tile of tokens at a time (Unsloth's unsloth_tiled_mlp=True).")
    if a["reference_precomputed"]:
        sized += " " + t(
            "Reference: no copy loaded, its log-probabilities computed before training "
            "(TRL's precompute_ref_log_probs=True)."
        )
    if not a["vllm"]:
        return sized
    if a["vllm_server_gpus"]:
        return f"{sized} " + t(
            "Sampling: a vLLM server on {server} GPU(s) of its own (TRL vllm_mode='server'), each needing "
            "{gb:g} GB to start within the {share} % of it vLLM may use; the {gpus} GPU(s) above train.",
            server=a["vllm_server_gpus"],
            gb=a["vllm_server_gb"],
            share=round(VLLM_SERVER_SHARE * 100),
            gpus=a["gpus"],
        )
    return f"{sized} " + t(
        "Sampling: a colocated vLLM engine holding at least {share} % of each GPU.",
        share=round(VLLM_SHARE * 100),
    )


def shared_conditions(assumptions: list[AssumptionsJson]) -> str:
    """The conditions under a table of several plans: the first one's, except the multi-GPU
    strategy when the plans differ in it (`auto` chose, an 8-bit base could not shard, a long
    sequence is split over GPUs for some); a sampling stage's vLLM engine is named when any plan
    has one (an 8-bit base that vLLM cannot load samples without, and says so)."""
    first = next((a for a in assumptions if a["vllm"]), assumptions[0])
    # Prompt methods never checkpoint; --priority cost or speed turns it off where that is faster.
    checkpointing = (
        t("on or off as each plan runs (--json names it)")
        if len({a["gradient_checkpointing"] for a in assumptions}) > 1
        else None
    )
    if len({a["strategy"] for a in assumptions}) == 1:
        return conditions(first, checkpointing=checkpointing)
    each = t("each plan's own multi-GPU strategy (--json names it)")
    return conditions({**first, "strategy": each}, checkpointing=checkpointing)


def sweep_conditions(estimates: list[EstimateJson]) -> str:
    """The conditions under a table of every method's estimate: the training plans' (a prompt
    served by ICL or RAG is longer than a training sequence), then the served prompt's length."""
    trained = [e["assumptions"] for e in estimates if e["trainable_params_b"] > 0]
    served = next((e["assumptions"] for e in estimates if e["trainable_params_b"] == 0), None)
    parts = [shared_conditions(trained)] if trained else []
    if served is not None:
        parts.append(served_prompt_text(served["seq_len"]))
    return " ".join(parts)


def served_prompt_text(tokens: int) -> str:
    # They serve a prompt of many examples or passages, longer than one training example.
    return t("Prompting and retrieval: sized to serve prompts of {tokens} tokens.", tokens=tokens)


def estimates_grid(estimates: list[EstimateJson], title: str) -> Grid:
    grid = Grid(
        title,
        [
            t("plan"),
            t("RAM GB") if estimates and estimates[0]["assumptions"]["on_cpu"] else t("per GPU GB"),
            t("weights"),
            t("grads"),
            t("optimizer"),
            t("activations"),
            t("logits"),
            t("buffers"),
            t("overhead"),
            t("fit"),
        ],
        caption=(t("GB = 10^9 bytes.") + " " + sweep_conditions(estimates))
        if estimates
        else t("GB = 10^9 bytes."),
    )
    for e in estimates:
        b = e["breakdown"]
        verdict, _ = _verdict(e)
        grid.rows.append(
            [
                translated(e["label"]),
                number(e["per_gpu_gb"], ".1f"),
                *(number(b[key], ".1f") for key in BREAKDOWN_KEYS),  # type: ignore[literal-required]
                verdict or "—",
            ]
        )
    return grid


def _experts_note(quantized: bool | None) -> str:
    if quantized is None:
        return ""
    if quantized:
        return t(" Routed experts: 4-bit.")
    return t(
        " Routed experts: 16-bit (bitsandbytes quantizes nn.Linear layers only, not fused experts; "
        "--quantize-experts sizes them 4-bit, as axolotl's quantize_moe_experts and Unsloth load them)."
    )


BREAKDOWN_KEYS = (
    "weights_gb",
    "gradients_gb",
    "optimizer_gb",
    "activations_gb",
    "logits_gb",
    "buffers_gb",
    "overhead_gb",
)


def breakdown_grid(e: EstimateJson) -> Grid:
    b = e["breakdown"]
    a = e["assumptions"]
    source = e.get("model_source")
    model = (
        f"{source['checkpoint'] or source['name']} ({pt('model source', source['source'])}), "
        if source
        else ""
    )
    training = e["trainable_params_b"] > 0
    adapter = (
        t(" LoRA rank {rank} ({targets}).", rank=a["lora_rank"], targets=_adapted(a)) if _low_rank(e) else ""
    )
    if adapter and a["lora_dropout"]:
        adapter += t(" Dropout {p:g}: each adapted layer keeps a copy of its input.", p=a["lora_dropout"])
    adapter += _experts_note(a["quantized_experts"])
    grid = Grid(
        t(
            "{label} — {model}{params} parameters",
            label=translated(e["label"]),
            model=model,
            params=parameters(e["model_params_b"]),
        )
        + (t(", objective {objective}", objective=e["objective"]) if e["objective"] else ""),
        [t("component"), t("GB of RAM") if a["on_cpu"] else t("GB per GPU")],
        caption=f"{conditions(e['assumptions'], training)}{adapter} {t('GB = 10^9 bytes.')}",
    )
    for name, key in zip(COMPONENTS, BREAKDOWN_KEYS, strict=True):
        shown = CPU_OVERHEAD if a["on_cpu"] and key == "overhead_gb" else name
        grid.rows.append([t(shown), number(b[key], ".2f")])  # type: ignore[literal-required]
    grid.rows.append([t("total RAM") if a["on_cpu"] else t("total per GPU"), number(e["per_gpu_gb"], ".2f")])
    if e["capacity_gb"] is not None and e["headroom_gb"] is not None:
        grid.rows.extend(_capacity_rows(e, e["capacity_gb"], e["headroom_gb"]))
    host = e["host"]
    if host["offload_gb"]:
        grid.rows.append(
            [t("host RAM for offloaded states or activations"), number(host["offload_gb"], ".2f")]
        )
    ram = e["ram_gb"]
    if ram is not None and ram != host["offload_gb"]:
        # An expert's review: the offloaded states alone understated a 70B FSDP-QLoRA's RAM by half
        # (its base loads shard by shard beside them), where recommend's "+N GB RAM" had the sum.
        grid.rows.append([t("host RAM at its peak, loading the model included"), number(ram, ".2f")])
    if host["paged_gb"]:
        grid.rows.append([t("optimizer states paged to host RAM"), number(host["paged_gb"], ".2f")])
    for key, label in (
        ("max_seq_len", N_("max seq len that fits")),
        ("max_batch_size", N_("max batch size that fits")),
    ):
        if key in e:
            grid.rows.append([t(label), _largest(e, key)])
    for change in e.get("to_fit", []):
        grid.rows.append(
            [
                t("to fit: {change} = {value}", change=change["change"], value=change["value"]),
                number(change["per_gpu_gb"], ".2f"),
            ]
        )
    grid.rows.extend(time_rows(e))
    return grid


def _capacity_rows(e: EstimateJson, capacity: float, headroom: float) -> list[list[str]]:
    """The GPU's usable memory with the verdict, and the headroom; with a vLLM server, the training
    GPUs' own verdict and the server's apart (a review: 'does not fit' beside 40 GB of headroom,
    where only the server's GPU was short)."""
    server_gb, server_fit = e["assumptions"]["vllm_server_gb"], e["assumptions"]["vllm_server_fit"]
    if server_gb is None or server_fit is None:
        words, _ = _verdict(e)
        return [
            [t("usable GPU memory ({verdict})", verdict=words), number(capacity, ".2f")],
            [t("headroom"), number(headroom, ".2f")],
        ]
    training = training_verdict(e["per_gpu_gb"], capacity)
    assert training is not None
    share = round(VLLM_SERVER_SHARE * 100)
    return [
        [
            t("usable GPU memory, training GPUs ({verdict})", verdict=t(VERDICTS[training][0])),
            number(capacity, ".2f"),
        ],
        [t("headroom"), number(headroom, ".2f")],
        [
            t("vLLM server, per GPU ({verdict})", verdict=t(VERDICTS[server_fit][0])),
            number(server_gb, ".2f"),
        ],
        [
            t("{share} % of a GPU, which vLLM may use", share=share),
            number(VLLM_SERVER_SHARE * capacity, ".2f"),
        ],
    ]


def _adapted(a: AssumptionsJson) -> str:
    """The layers LoRA adapts, the routed experts named where it adapts them too."""
    if a["lora_experts"]:
        return t("{targets} and the routed experts", targets=a["lora_targets"])
    return a["lora_targets"]


def _low_rank(e: EstimateJson) -> bool:
    """A method whose memory depends on the LoRA rank (LoRA, QLoRA, DoRA, AdaLoRA)."""
    return e["trainable_params_b"] > 0 and any(name in e["method"] for name in ("lora", "dora"))


def time_rows(e: EstimateJson) -> list[list[str]]:
    """Training time and cost under the breakdown, or why they are missing."""
    time, cost = e.get("time"), e.get("cost")
    if time is None or cost is None:
        note = e.get("time_note")
        return [] if note is None else [[t("training time"), note]]
    rows = [
        [t("training tokens"), grouped(time["tokens"])],
        [
            t("throughput, all GPUs"),
            t(
                "{rate:,.0f} tokens/s at micro-batch {batch}",
                rate=time["tokens_per_second"],
                batch=batches_text(s["micro_batch"] for s in e.get("stages", [])),
            ),
        ],
        [
            t("training time"),
            f"{hours_text(time['hours'])} ({band_text(time['hours_low'], time['hours_high'])})",
        ],
        [t("GPU-hours"), significant(cost["gpu_hours"])],
    ]
    if cost["usd"] is not None:
        rows.append(
            [
                t("cost"),
                t(
                    "${usd:,.2f} (${low:,.2f} to ${high:,.2f}) at ${rate:,.12g}/GPU-hour",
                    usd=cost["usd"],
                    low=cost["usd_low"],
                    high=cost["usd_high"],
                    rate=cost["usd_per_gpu_hour"],
                ),
            ]
        )
    return rows


COMPONENTS = (
    N_("weights"),
    N_("gradients"),
    N_("optimizer states"),
    N_("activations"),
    N_("logits and loss"),
    N_("buffers (gathered layers, buckets, generation)"),
    N_("overhead (CUDA context, allocator)"),
)
CPU_OVERHEAD = N_("overhead (PyTorch and its libraries, allocator)")
