"""Memory estimates: a horizontal bar chart with the GPU capacity marked, and a breakdown."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from atlas_cli.core.plans import band_text, hours_text
from atlas_cli.kb.vocabulary import FIT_MARGIN
from atlas_cli.render.documents import AssumptionsJson, EstimateJson
from atlas_cli.render.grid import Grid

BAR_WIDTH = 40


VERDICTS = {"yes": ("fits", "green"), "tight": ("tight", "yellow"), "no": ("does not fit", "red")}


def _verdict(e: EstimateJson) -> tuple[str, str]:
    fit = e.get("fit")
    return ("", "cyan") if fit is None else VERDICTS[fit]


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


MIN_BAR_WIDTH = 10
CHART_GAPS = 2  # one space of padding on each side of an inner column
TIME_WIDTH = 11  # "3.4-8.5 h", "120-300 h"


def bar_width(estimates: list[EstimateJson], terminal_width: int | None) -> int:
    """The widest bar that leaves the plan names whole beside it, between MIN_BAR_WIDTH and
    BAR_WIDTH."""
    if terminal_width is None:
        return BAR_WIDTH
    labels = max((len(e["label"]) for e in estimates), default=0)
    numbers = max((len(f"{e['per_gpu_gb']:.1f}") for e in estimates), default=0)
    verdicts = max((len(_verdict(e)[0]) for e in estimates), default=0)
    extra = len("largest batch") + CHART_GAPS if _max_key(estimates) else 0
    extra += TIME_WIDTH + CHART_GAPS if any(e.get("time") for e in estimates) else 0
    spare = terminal_width - labels - numbers - verdicts - extra - 3 * CHART_GAPS
    return max(MIN_BAR_WIDTH, min(BAR_WIDTH, spare))


NO_GPU_GIVEN = "No GPU given: pass --gpu or --vram to check the fit."


def estimate_chart(
    estimates: list[EstimateJson], title: str, width: int = BAR_WIDTH, no_capacity: str = NO_GPU_GIVEN
) -> RenderableType:
    capacity = estimates[0]["capacity_gb"] if estimates else None
    peak = max([e["per_gpu_gb"] for e in estimates] + [capacity or 0.0])
    scale = peak * 1.02 or 1.0
    table = Table(title=Text(title), show_header=True, box=None, pad_edge=False)
    longest_word = max((len(w) for e in estimates for w in e["label"].split()), default=1)
    table.add_column("plan", overflow="fold", min_width=longest_word)
    table.add_column("memory", no_wrap=True, width=width)
    table.add_column("GB", justify="right", no_wrap=True)
    table.add_column("", no_wrap=True)
    timed = any(e.get("time") for e in estimates)
    if timed:
        table.add_column("time", justify="right", no_wrap=True)
    most = _max_key(estimates)
    if most:
        table.add_column(most[1], justify="right", no_wrap=True)
    for e in estimates:
        verdict, style = _verdict(e)
        cells: list[Text | str] = [
            Text(e["label"]),
            _bar(e["per_gpu_gb"], capacity, scale, width, style),
            f"{e['per_gpu_gb']:.1f}",
            Text(verdict, style=style),
        ]
        if timed:
            time = e.get("time")
            cells.append("—" if time is None else band_text(time["hours_low"], time["hours_high"]))
        if most:
            cells.append(_largest(e, most[0]))
        table.add_row(*cells)
    legend = (
        f"│ = usable GPU memory {capacity:g} GB (10^9 bytes); tight = within it but past the "
        f"{round((1 - FIT_MARGIN) * 100)} % safety margin"
        if capacity is not None
        else no_capacity
    )
    return (
        Group(table, Text(legend, style="yellow"), Text(conditions(estimates[0]["assumptions"]), style="dim"))
        if estimates
        else table
    )


def _max_key(estimates: list[EstimateJson]) -> tuple[str, str] | None:
    if estimates and "max_seq_len" in estimates[0]:
        return "max_seq_len", "longest seq"
    if estimates and "max_batch_size" in estimates[0]:
        return "max_batch_size", "largest batch"
    return None


def _largest(e: EstimateJson, key: str) -> str:
    value = e.get(key)
    return "—" if value is None else str(value)


def conditions(a: AssumptionsJson, training: bool = True) -> str:
    """The conditions an estimate holds for, in one line (every figure carries them). An
    inference estimate (ICL, RAG) has no optimizer, checkpointing or loss to speak of."""
    if not training:
        return (
            f"Inference: sequences of {a['seq_len']} tokens, batch {a['batch_size']}, {a['precision']} "
            f"weights, {a['strategy']}; no gradients, optimizer states or training activations. "
            f"Attention: {a['attention']}."
        )
    return (
        f"Sized for sequences of {a['seq_len']} tokens, micro-batch {a['batch_size']}, {a['precision']}, "
        f"{a['optimizer']}, gradient checkpointing {'on' if a['gradient_checkpointing'] else 'off'}, "
        f"stack {a['stack']}, {a['strategy']}. Attention: {a['attention']}. Logits: {a['logits']}."
    )


def estimates_grid(estimates: list[EstimateJson], title: str) -> Grid:
    grid = Grid(
        title,
        [
            "plan",
            "per GPU GB",
            "weights",
            "grads",
            "optimizer",
            "activations",
            "logits",
            "buffers",
            "overhead",
            "fit",
        ],
        caption=("GB = 10^9 bytes. " + conditions(estimates[0]["assumptions"]))
        if estimates
        else "GB = 10^9 bytes.",
    )
    for e in estimates:
        b = e["breakdown"]
        verdict, _ = _verdict(e)
        grid.rows.append(
            [
                e["label"],
                f"{e['per_gpu_gb']:.1f}",
                *(f"{b[key]:.1f}" for key in BREAKDOWN_KEYS),  # type: ignore[literal-required]
                verdict or "—",
            ]
        )
    return grid


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
    model = f"{source['name']} ({source['source']}), " if source else ""
    training = e["trainable_params_b"] > 0
    adapter = f" LoRA rank {a['lora_rank']} ({a['lora_targets']})." if _low_rank(e) else ""
    grid = Grid(
        f"{e['label']} — {model}{e['model_params_b']:g}B parameters"
        + (f", objective {e['objective']}" if e["objective"] else ""),
        ["component", "GB per GPU"],
        caption=f"{conditions(e['assumptions'], training)}{adapter} GB = 10^9 bytes.",
    )
    for name, key in zip(COMPONENTS, BREAKDOWN_KEYS, strict=True):
        grid.rows.append([name, f"{b[key]:.2f}"])  # type: ignore[literal-required]
    grid.rows.append(["total per GPU", f"{e['per_gpu_gb']:.2f}"])
    if e["capacity_gb"] is not None:
        verdict, _ = _verdict(e)
        grid.rows.append([f"usable GPU memory ({verdict})", f"{e['capacity_gb']:.2f}"])
        grid.rows.append(["headroom", f"{e['headroom_gb']:.2f}"])
    host = e["host"]
    if host["offload_gb"]:
        grid.rows.append(["host RAM for offloaded states", f"{host['offload_gb']:.2f}"])
    for key in ("max_seq_len", "max_batch_size"):
        if key in e:
            value = e.get(key)
            grid.rows.append([key.replace("_", " ") + " that fits", "—" if value is None else str(value)])
    for change in e.get("to_fit", []):
        grid.rows.append([f"to fit: {change['change']} = {change['value']}", f"{change['per_gpu_gb']:.2f}"])
    grid.rows.extend(time_rows(e))
    return grid


def _low_rank(e: EstimateJson) -> bool:
    """A method whose memory depends on the LoRA rank (LoRA, QLoRA, DoRA, AdaLoRA)."""
    return e["trainable_params_b"] > 0 and any(name in e["method"] for name in ("lora", "dora"))


def time_rows(e: EstimateJson) -> list[list[str]]:
    """Training time and cost under the breakdown, or why they are missing."""
    time, cost = e.get("time"), e.get("cost")
    if time is None or cost is None:
        note = e.get("time_note")
        return [] if note is None else [["training time", note]]
    rows = [
        ["training tokens", f"{time['tokens']:,.0f}"],
        ["throughput, all GPUs", f"{time['tokens_per_second']:,.0f} tokens/s"],
        [
            "training time",
            f"{hours_text(time['hours'])} ({band_text(time['hours_low'], time['hours_high'])})",
        ],
        ["GPU-hours", f"{cost['gpu_hours']:.3g}"],
    ]
    if cost["usd"] is not None:
        rows.append(
            [
                "cost",
                f"${cost['usd']:,.2f} (${cost['usd_low']:,.2f} to ${cost['usd_high']:,.2f}) at "
                f"${cost['usd_per_gpu_hour']:g}/GPU-hour",
            ]
        )
    return rows


COMPONENTS = (
    "weights",
    "gradients",
    "optimizer states",
    "activations",
    "logits and loss",
    "buffers (gathered layers, buckets, generation)",
    "overhead (CUDA context, allocator)",
)
