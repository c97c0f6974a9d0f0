"""Memory estimates: a horizontal bar chart with the GPU capacity marked, and a breakdown."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from atlas_cli.render.documents import EstimateJson
from atlas_cli.render.grid import Grid

BAR_WIDTH = 40


def _verdict(e: EstimateJson) -> tuple[str, str]:
    if e["fits"] is None:
        return "", "cyan"
    return ("fits", "green") if e["fits"] else ("does not fit", "red")


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


def estimate_chart(estimates: list[EstimateJson], title: str, width: int = BAR_WIDTH) -> RenderableType:
    capacity = estimates[0]["capacity_gb"] if estimates else None
    peak = max([e["per_gpu_gb"] for e in estimates] + [capacity or 0.0])
    scale = peak * 1.02 or 1.0
    table = Table(title=Text(title), show_header=True, box=None, pad_edge=False)
    table.add_column("plan", overflow="fold")
    table.add_column("memory per GPU", no_wrap=True)
    table.add_column("GB", justify="right", no_wrap=True)
    table.add_column("", no_wrap=True)
    for e in estimates:
        verdict, style = _verdict(e)
        table.add_row(
            Text(e["label"]),
            _bar(e["per_gpu_gb"], capacity, scale, width, style),
            f"{e['per_gpu_gb']:.1f}",
            Text(verdict, style=style),
        )
    legend = (
        f"│ = GPU capacity {capacity:g} GB (10^9 bytes)"
        if capacity is not None
        else "No GPU given: pass --gpu or --vram to check the fit."
    )
    return Group(table, Text(legend, style="yellow"))


def estimates_grid(estimates: list[EstimateJson], title: str) -> Grid:
    grid = Grid(
        title,
        ["plan", "per GPU GB", "weights", "grads", "optimizer", "activations", "overhead", "fits"],
        caption="GB = 10^9 bytes.",
    )
    for e in estimates:
        b = e["breakdown"]
        verdict, _ = _verdict(e)
        grid.rows.append(
            [
                e["label"],
                f"{e['per_gpu_gb']:.1f}",
                f"{b['weights_gb']:.1f}",
                f"{b['gradients_gb']:.1f}",
                f"{b['optimizer_gb']:.1f}",
                f"{b['activations_gb']:.1f}",
                f"{b['overhead_gb']:.1f}",
                verdict or "—",
            ]
        )
    return grid


def breakdown_grid(e: EstimateJson) -> Grid:
    b = e["breakdown"]
    a = e["assumptions"]
    source = e.get("model_source")
    model = f"{source['name']} ({source['source']}), " if source else ""
    grid = Grid(
        f"{e['label']} — {model}{e['model_params_b']:g}B parameters"
        + (f", objective {e['objective']}" if e["objective"] else ""),
        ["component", "GB per GPU"],
        caption=(
            f"seq_len {a['seq_len']}, micro-batch {a['batch_size']}, {a['precision']}, "
            f"{a['optimizer']}, gradient checkpointing {'on' if a['gradient_checkpointing'] else 'off'}, "
            f"LoRA rank {a['lora_rank']}, {a['sharding']}. GB = 10^9 bytes."
        ),
    )
    for name, key in (
        ("weights", "weights_gb"),
        ("gradients", "gradients_gb"),
        ("optimizer states", "optimizer_gb"),
        ("activations", "activations_gb"),
        ("overhead (CUDA context, allocator)", "overhead_gb"),
    ):
        grid.rows.append([name, f"{b[key]:.2f}"])  # type: ignore[literal-required]
    grid.rows.append(["total per GPU", f"{e['per_gpu_gb']:.2f}"])
    if e["capacity_gb"] is not None:
        verdict, _ = _verdict(e)
        grid.rows.append([f"GPU capacity ({verdict})", f"{e['capacity_gb']:.2f}"])
    return grid
