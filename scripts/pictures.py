"""Pictures of real output for the README and docs/: terminal captures and plots, in docs/images/.

- Captures: each command runs in-process through the real entry point with colour forced and a
  100-column terminal; rich records the output (Console(record=True)) and saves it as SVG. The
  plain text of each capture is kept beside it (NAME.txt): tests/test_pictures.py runs the
  commands again and compares that text, not the SVG bytes, which change with rich releases.
- `ask` reads answers from a scripted terminal that echoes them, as a terminal would, so the
  picture is the transcript a user sees (prompts on stderr, then the plan on stdout).
- Plots are SVG written here from the estimator's own numbers (no plotting library): memory
  against sequence length for a model on a few GPUs, and the time and cost of each ranked plan.

Run `python scripts/pictures.py` after a change to the output; the test says when it is due.
"""

from __future__ import annotations

import io
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from html import escape
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from rich.console import Console  # noqa: E402
from rich.text import Text  # noqa: E402

from atlas_cli.core.plans import hours_text  # noqa: E402
from atlas_cli.kb.catalog import Catalog  # noqa: E402

IMAGES = REPO / "docs" / "images"
WIDTH = 100
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")


@dataclass(frozen=True, slots=True)
class Capture:
    name: str
    args: tuple[str, ...]
    answers: tuple[str, ...] | None = None  # `ask`: what the user types, one line per question
    max_lines: int | None = None  # long output (a recipe): its head is the picture

    @property
    def title(self) -> str:
        return "ft-atlas " + " ".join(self.args)


CAPTURES = (
    Capture(
        "recommend-explain",
        (
            *("recommend", "--gpu", "rtx-4090", "--model", "llama-3.1-8b", "--goal", "chat"),
            *("--examples", "10k", "--top", "3", "--explain"),
        ),
        max_lines=60,
    ),
    Capture("estimate", ("estimate", "--model", "llama-3.1-8b", "--gpu", "rtx-4090")),
    Capture(
        "estimate-method",
        (
            "estimate",
            "--method",
            "qlora",
            "--model",
            "llama-3.1-70b",
            "--gpu",
            "a100-80gb",
            "--examples",
            "10k",
        ),
    ),
    Capture("compare", ("compare",)),
    Capture(
        "recipe",
        (
            "recipe",
            "--gpu",
            "rtx-3090",
            "--model",
            "mistral-7b",
            "--data-kind",
            "preferences",
            "--examples",
            "5k",
        ),
        max_lines=45,
    ),
    Capture(
        "ask",
        ("ask", "--top", "3"),
        answers=("", "3090", "", "llama-3.1-8b", "chat", "", "10k", "", "", "", "", "", "", "y"),
        max_lines=60,
    ),
)


class ScriptedTerminal(io.StringIO):
    """stdin of a terminal on which the user types `answers`; each is echoed to stderr."""

    def __init__(self, answers: tuple[str, ...]) -> None:
        super().__init__("".join(f"{a}\n" for a in answers))

    def isatty(self) -> bool:
        return True

    def readline(self, size: int | None = -1) -> str:  # type: ignore[override]
        answer = super().readline()
        sys.stderr.write(answer)
        return answer


@contextmanager
def _terminal(answers: tuple[str, ...] | None) -> Iterator[io.StringIO]:
    """stdout and stderr as one stream, as they appear together on a terminal."""
    from typer.testing import CliRunner

    env = {"COLUMNS": str(WIDTH), "FORCE_COLOR": "1", "TERM": "xterm-256color", "NO_COLOR": None}
    with CliRunner().isolation(env=env):
        shared = io.StringIO()
        saved = sys.stdout, sys.stderr, sys.stdin
        sys.stdout = sys.stderr = shared
        if answers is not None:
            sys.stdin = ScriptedTerminal(answers)
        try:
            yield shared
        finally:
            sys.stdout, sys.stderr, sys.stdin = saved


def run_capture(capture: Capture) -> str:
    """The command's output with its colours (ANSI), cut to `max_lines`."""
    from atlas_cli.cli import main

    with _terminal(capture.answers) as shared:
        try:
            main(list(capture.args))
        except SystemExit as stop:
            if stop.code not in (0, None):
                raise RuntimeError(f"{capture.title} exited {stop.code}:\n{shared.getvalue()}") from None
        output = shared.getvalue()
    lines = output.rstrip("\n").split("\n")
    if capture.max_lines is not None and len(lines) > capture.max_lines:
        lines = [*lines[: capture.max_lines], "…"]
    return "\n".join(lines) + "\n"


def plain(ansi: str) -> str:
    """What the capture says, without colours and trailing spaces: the text the test compares."""
    return "\n".join(line.rstrip() for line in ANSI.sub("", ansi).split("\n"))


def capture_svg(capture: Capture, ansi: str) -> str:
    widest = max(len(line) for line in plain(ansi).split("\n"))
    console = Console(
        record=True,
        width=max(WIDTH, widest),
        force_terminal=True,
        color_system="truecolor",
        file=io.StringIO(),
    )
    console.print(Text("$ " + capture.title, style="bold"), soft_wrap=True)
    console.print(Text.from_ansi(ansi.rstrip("\n")), soft_wrap=True)
    return console.export_svg(title=capture.title)


# --- plots ---------------------------------------------------------------------------------------

PLOT_MODEL = "llama-3.1-8b"
PLOT_GPUS = ("l4", "rtx-4090", "a100-40gb", "a100-80gb")
PLOT_METHODS = ("full-ft", "lora", "qlora")
SEQ_LENS = (512, 1024, 2048, 4096, 8192, 16384, 32768)
PLAN_PROFILE = {"gpu": "rtx-4090", "model": "llama-3.1-8b", "goal": "chat", "examples": "10k"}
COLOURS = ("#0969da", "#1a7f37", "#bf3989", "#9a6700", "#8250df", "#cf222e")
FONT = 'font-family="system-ui, -apple-system, Segoe UI, sans-serif"'


def memory_curves(catalog: Catalog) -> tuple[dict[str, list[float]], dict[str, float]]:
    """GB per GPU of each method at each sequence length, and each GPU's usable memory."""
    from atlas_cli.core.profile import build_profile
    from atlas_cli.core.resolve import resolve_hardware
    from atlas_cli.core.sizing import EstimateOptions, run_estimate

    curves = {}
    for method in PLOT_METHODS:
        points = []
        for seq_len in SEQ_LENS:
            profile = build_profile({"gpu": "a100-80gb", "model": PLOT_MODEL, "seq_len": seq_len})
            report = run_estimate(catalog, profile, EstimateOptions(method=method))
            points.append(report.rows[0].estimate.per_gpu_gb)
        curves[catalog.methods[method].name] = points
    capacities = {}
    for gpu in PLOT_GPUS:
        hardware = resolve_hardware(catalog, gpu, None, 1)
        assert hardware.capacity_gb is not None
        capacities[gpu] = hardware.capacity_gb
    return curves, capacities


def _svg(width: int, height: int, body: list[str], title: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img">\n<title>{escape(title)}</title>\n'
        f'<rect width="{width}" height="{height}" fill="#ffffff"/>\n' + "\n".join(body) + "\n</svg>\n"
    )


def memory_plot(catalog: Catalog) -> str:
    curves, capacities = memory_curves(catalog)
    width, height, left, right, top, bottom = 760, 420, 70, 150, 50, 60
    plot_w, plot_h = width - left - right, height - top - bottom
    ceiling = 100.0  # GB shown; a curve beyond it is named at the top instead

    def x(i: int) -> float:
        return left + plot_w * i / (len(SEQ_LENS) - 1)

    def y(gb: float) -> float:
        return top + plot_h * (1 - min(gb, ceiling) / ceiling)

    title = f"Memory per GPU of {catalog.models[PLOT_MODEL].name} against sequence length (ft-atlas estimate)"
    body = [f'<text x="{left}" y="28" font-size="15" font-weight="600" {FONT}>{escape(title)}</text>']
    for gb in range(0, int(ceiling) + 1, 20):
        body.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{y(gb):.1f}" y2="{y(gb):.1f}" stroke="#eaeef2"/>'
        )
        body.append(
            f'<text x="{left - 8}" y="{y(gb) + 4:.1f}" font-size="11" text-anchor="end" {FONT}>{gb}</text>'
        )
    for i, seq_len in enumerate(SEQ_LENS):
        body.append(
            f'<text x="{x(i):.1f}" y="{top + plot_h + 18}" font-size="11" text-anchor="middle" {FONT}>'
            f"{seq_len}</text>"
        )
    body.append(
        f'<text x="{left + plot_w / 2:.0f}" y="{height - 18}" font-size="12" text-anchor="middle" {FONT}>'
        "sequence length, tokens (micro-batch 1, bf16, AdamW, gradient checkpointing)</text>"
    )
    body.append(
        f'<text x="18" y="{top + plot_h / 2:.0f}" font-size="12" text-anchor="middle" {FONT} '
        f'transform="rotate(-90 18 {top + plot_h / 2:.0f})">GB per GPU</text>'
    )
    label_y = float("inf")  # labels of close capacities are pushed apart, upwards
    for gpu, capacity in sorted(capacities.items(), key=lambda kv: kv[1]):
        body.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{y(capacity):.1f}" y2="{y(capacity):.1f}" '
            'stroke="#57606a" stroke-dasharray="5 4"/>'
        )
        label_y = min(y(capacity) + 4, label_y - 13)
        body.append(
            f'<text x="{left + plot_w + 6}" y="{label_y:.1f}" font-size="11" fill="#57606a" {FONT}>'
            f"{escape(gpu)} {capacity:.1f} GB</text>"
        )
    off_chart = 0
    for (name, points), colour in zip(curves.items(), COLOURS, strict=False):
        shown = [(i, gb) for i, gb in enumerate(points) if gb <= ceiling]
        if len(shown) < len(points):  # beyond the chart: said in words instead
            note = f"{name}: {min(points):.0f}-{max(points):.0f} GB, above this chart"
            body.append(
                f'<text x="{left + 10}" y="{top + 16 + 16 * off_chart}" font-size="12" fill="{colour}" '
                f'font-weight="600" {FONT}>{escape(note)}</text>'
            )
            off_chart += 1
        if not shown:
            continue
        path = " ".join(f"{x(i):.1f},{y(gb):.1f}" for i, gb in shown)
        body.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2.5"/>')
        for index, value in shown:
            body.append(f'<circle cx="{x(index):.1f}" cy="{y(value):.1f}" r="3" fill="{colour}"/>')
        last, value = shown[-1]
        body.append(
            f'<text x="{x(last) - 6:.1f}" y="{y(value) - 8:.1f}" font-size="12" fill="{colour}" '
            f'text-anchor="end" font-weight="600" {FONT}>{escape(name)}</text>'
        )
    return _svg(width, height, body, title)


def plan_times(catalog: Catalog) -> list[tuple[str, tuple[float, float, float], tuple[float, float, float]]]:
    """Each ranked training plan: (label, hours (low, estimate, high), USD (low, estimate, high))."""
    from atlas_cli.core.engine import Engine
    from atlas_cli.core.profile import build_profile

    rec = Engine(catalog).recommend(build_profile(PLAN_PROFILE))
    rows = []
    for plan in rec.shown(6):
        time, cost = plan.time, plan.cost
        if time is None or cost is None or not time.stages or cost.usd is None:
            continue
        label = f"{plan.name} ({'+'.join(plan.pipeline)})" if plan.pipeline else plan.name
        rows.append(
            (label, (*time.hours_band[:1], time.hours, time.hours_band[1]), (cost.low, cost.usd, cost.high))
        )
    return rows


def plan_plot(catalog: Catalog) -> str:
    rows = plan_times(catalog)
    width, left, bar_w, gap, top, row_h = 900, 300, 260, 40, 62, 34
    height = top + row_h * len(rows) + 46
    most_h = max(r[1][2] for r in rows)
    most_usd = max(r[2][2] for r in rows)
    gpu, model = PLAN_PROFILE["gpu"], PLAN_PROFILE["model"]
    title = f"Time and cost of each plan: {model} on one {gpu}, {PLAN_PROFILE['examples']} chat examples"
    body = [
        f'<text x="16" y="26" font-size="15" font-weight="600" {FONT}>{escape(title)}</text>',
        f'<text x="{left}" y="50" font-size="12" font-weight="600" {FONT}>training time, hours</text>',
        f'<text x="{left + bar_w + gap}" y="50" font-size="12" font-weight="600" {FONT}>cost, USD</text>',
    ]
    for i, (label, hours, usd) in enumerate(rows):
        y0 = top + i * row_h
        body.append(
            f'<text x="{left - 10}" y="{y0 + 16}" font-size="12" text-anchor="end" {FONT}>'
            f"{escape(label)}</text>"
        )
        for offset, (low, mid, high), most, unit, colour in (
            (left, hours, most_h, "h", COLOURS[0]),
            (left + bar_w + gap, usd, most_usd, "$", COLOURS[1]),
        ):
            scale = (bar_w - 70) / most
            body.append(
                f'<rect x="{offset}" y="{y0 + 4}" width="{mid * scale:.1f}" height="16" fill="{colour}" '
                'opacity="0.85"/>'
            )
            body.append(
                f'<line x1="{offset + low * scale:.1f}" x2="{offset + high * scale:.1f}" y1="{y0 + 12}" '
                f'y2="{y0 + 12}" stroke="#24292f" stroke-width="1.5"/>'
            )
            for end in (low, high):
                body.append(
                    f'<line x1="{offset + end * scale:.1f}" x2="{offset + end * scale:.1f}" y1="{y0 + 6}" '
                    f'y2="{y0 + 18}" stroke="#24292f" stroke-width="1.5"/>'
                )
            value = hours_text(mid) if unit == "h" else f"${mid:.2f}"
            body.append(
                f'<text x="{offset + high * scale + 6:.1f}" y="{y0 + 16}" font-size="11" {FONT}>'
                f"{value}</text>"
            )
    body.append(
        f'<text x="16" y="{height - 14}" font-size="11" fill="#57606a" {FONT}>'
        "Bars: the estimate; whiskers: the 0.6-1.5x band measured runs fell in (docs/time.md). "
        "Cost at the GPU's reference price (data/prices.yaml).</text>"
    )
    return _svg(width, height, body, title)


PLOTS = {"plot-memory-vs-seq-len": memory_plot, "plot-plan-time-cost": plan_plot}


def pictures() -> dict[Path, str]:
    """Every file of docs/images/: NAME.svg and NAME.txt for each capture, NAME.svg for each plot."""
    from atlas_cli.kb.cache import load_cached_catalog
    from atlas_cli.kb.files import bundled_kb_path

    files = {}
    for capture in CAPTURES:
        ansi = run_capture(capture)
        files[IMAGES / f"{capture.name}.svg"] = capture_svg(capture, ansi)
        files[IMAGES / f"{capture.name}.txt"] = plain(ansi)
    catalog = load_cached_catalog(bundled_kb_path())
    for name, plot in PLOTS.items():
        files[IMAGES / f"{name}.svg"] = plot(catalog)
    return files


def main() -> None:
    IMAGES.mkdir(parents=True, exist_ok=True)
    for path, text in pictures().items():
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path.relative_to(REPO)}")


if __name__ == "__main__":
    main()
