"""The GPU catalog: every figure sourced, capacity from what the driver reports, the listing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from atlas_cli.core.memory import gib_to_gb
from atlas_cli.core.resolve import resolve_hardware
from atlas_cli.kb.catalog import Catalog
from tests.conftest import Runner, fails
from tests.test_cli import ok
from tests.test_knowledge import bundled_sections, index_of, problems_of, write_kb

# The GPUs of issue 15's list (research notes, data/gpus.yaml's sources).
ISSUE_GPUS = {
    *("v100-16gb", "v100-32gb", "t4", "rtx-2080-ti", "a10g", "a10", "rtx-a6000", "a40", "a100-40gb"),
    *("a100-80gb", "rtx-3060-12gb", "rtx-3080-10gb", "rtx-3080-ti", "rtx-3090", "rtx-3090-ti", "l4"),
    *("rtx-4060-ti-16gb", "rtx-4070", "rtx-4070-ti", "rtx-4070-ti-super", "rtx-4080", "rtx-4080-super"),
    *("rtx-4090", "rtx-6000-ada", "l40", "l40s", "h100-80gb", "h100-pcie", "h100-nvl", "h200", "h200-nvl"),
    *("h20", "gh200", "gh200-hbm3e", "b200", "b300", "rtx-5080", "rtx-5090", "rtx-pro-6000-blackwell"),
    *("mi250x", "mi300x", "mi325x", "mi355x", "apple-m1-max", "apple-m1-ultra", "apple-m2-max"),
    *("apple-m2-ultra", "apple-m3-max", "apple-m3-ultra", "apple-m4-max", "apple-m4-pro"),
    *("a100-40gb-pcie", "a100-80gb-pcie"),  # PCIe servers: NVLink only between bridged pairs
    # A newcomer's laptop or desktop: the 8 GB RTX 4060 and Apple's base and Pro chips.
    *("rtx-4060", "apple-m1", "apple-m1-pro", "apple-m2", "apple-m2-pro", "apple-m3", "apple-m3-pro"),
    "apple-m4",
    "rtx-3080-12gb",  # a newcomer's review: "3080 12GB" was refused, and the card shipped in 2022
    # Common 6-16 GB desktop and workstation cards a newcomer names (--gpu 3070 was refused).
    *("rtx-2060", "rtx-3060-ti", "rtx-3070", "rtx-3070-ti", "rtx-4060-ti-8gb", "rtx-a4000", "rtx-a5000"),
    *("rtx-5060-ti-16gb", "rtx-5070", "rtx-5070-ti"),
    "rtx-5060-ti-8gb",  # a newcomer's "5060 ti 8gb" was refused; the same GB206 chip as the 16 GB card
}


def test_the_catalog_has_every_gpu_of_the_list(catalog: Catalog) -> None:
    assert set(catalog.gpus) == ISSUE_GPUS


def test_figures_are_given_with_their_sources(catalog: Catalog) -> None:
    for g in catalog.kb.gpus:
        assert g.memory_bandwidth_gbs is not None and g.interconnect is not None, g.id
        if g.vendor == "apple":
            assert g.tflops_bf16 is None and g.interconnect.kind == "unified", g.id
            assert g.notes is not None and "efficiency" in g.notes, g.id
        elif g.id != "a10g":  # AWS publishes no tensor figure for its A10G
            assert g.tflops_bf16 is not None, g.id
        assert not (g.fp8 and not g.bf16), g.id


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"memory_bandwidth_gbs": 900}, "sources.bandwidth"),
        ({"reported_memory_mib": 16000}, "sources.reported_memory"),
        ({"tflops_bf16": 71, "tflops_basis": "vendor"}, "sources.tflops"),
        ({"interconnect": {"kind": "nvlink", "gbs": 600}}, "sources.interconnect"),
        ({"interconnect": {"kind": "nvlink", "host_gbs": 300}}, "sources.host_link"),
        ({"tflops_bf16": 71, "sources": {"tflops": "a datasheet"}}, "go together"),
        ({"interconnect": {"kind": "infiniband"}}, "interconnect.kind"),
        ({"tflops_bf16_measured": 90}, "sources.tflops_measured"),
        ({"tflops_fp32": 48.7}, "sources.tflops_fp32"),
        ({"mfu_vs_a100": 0.8}, "sources.mfu_vs_a100"),
        (
            {
                "tflops_bf16": 71,
                "tflops_basis": "vendor",
                "tflops_bf16_measured": 107,
                "sources": {"tflops": "a datasheet", "tflops_measured": "a benchmark"},
            },
            "at most 1.5x of it",
        ),
        # an attacker's review: 100,000,000 MiB on a 16 GiB card fitted 70B full fine-tuning
        (
            {"reported_memory_mib": 100_000_000, "sources": {"reported_memory": "nvidia-smi"}},
            "at most memory_gib in MiB",
        ),
    ],
)
def test_a_figure_without_its_source_is_invalid(
    tmp_path: Path, change: dict[str, object], message: str
) -> None:
    data = bundled_sections()
    gpu = data["gpus"][index_of(data["gpus"], "rtx-4080")]
    for key in (
        "memory_bandwidth_gbs",
        "reported_memory_mib",
        "tflops_bf16",
        "tflops_basis",
        "tflops_fp32",
        "interconnect",
    ):
        gpu.pop(key, None)
    gpu["sources"] = {}
    gpu.update(change)
    problems = problems_of(write_kb(tmp_path, data))
    assert any(message in p for p in problems), problems


@pytest.mark.parametrize(
    ("gpu", "change", "message"),
    [
        (
            "apple-m3-pro",
            {"memory_sizes_gb": []},
            "Apple silicon (interconnect kind unified) lists its sizes",
        ),
        ("rtx-4080", {"memory_sizes_gb": [16]}, "Apple silicon (interconnect kind unified) lists its sizes"),
        ("apple-m3-pro", {"memory_sizes_gb": [18, 24]}, "rise, each size once, to memory_gib"),
        ("apple-m3-pro", {"memory_sizes_gb": [36, 18]}, "rise, each size once, to memory_gib"),
        ("apple-m3-pro", {"sources": {}}, "sources.memory_sizes"),
    ],
)
def test_an_apple_chip_lists_the_sizes_it_is_sold_with(
    tmp_path: Path, gpu: str, change: dict[str, object], message: str
) -> None:
    data = bundled_sections()
    entry = data["gpus"][index_of(data["gpus"], gpu)]
    if "sources" in change:  # keep the figures' own sources: only the sizes' goes
        change = {"sources": {k: v for k, v in entry["sources"].items() if k != "memory_sizes"}}
    entry.update(change)
    problems = problems_of(write_kb(tmp_path, data))
    assert any(message in p for p in problems), problems


@pytest.mark.parametrize(
    ("gpu", "source", "message"),
    [
        ("mi355x", "b300", "'b300' is no GPU with a measured matmul rate"),  # B300 has none
        ("mi355x", "no-such-gpu", "'no-such-gpu' is no GPU with a measured matmul rate"),
        ("mi300x", "mi325x", "has a measured matmul rate of its own"),
        ("h100-nvl", "mi325x", "another vendor's GPU"),
    ],
)
def test_a_borrowed_matmul_share_names_a_measured_card(
    tmp_path: Path, gpu: str, source: str, message: str
) -> None:
    data = bundled_sections()
    entry = data["gpus"][index_of(data["gpus"], gpu)]
    entry["matmul_share_from"] = source
    entry["sources"]["matmul_share"] = "a reason"
    problems = problems_of(write_kb(tmp_path, data))
    assert any(message in p for p in problems), problems
    del entry["sources"]["matmul_share"]
    assert any("sources.matmul_share" in p for p in problems_of(write_kb(tmp_path, data)))


def test_a_memory_size_apple_never_sold_is_refused(run: Runner) -> None:
    """ "M2 Max 16GB" and "M3 Pro 16GB" were taken: only sizes above the chip's largest were
    refused, so advice was given for Macs that were never made (a review). Apple's sizes: the
    14-inch 2023 MacBook Pro's and the Nov 2023 16-inch's tech specs (data/gpus.yaml)."""
    args = ("recommend", "--model", "qwen3-8b", "--goal", "chat")
    for gpu, sizes in (
        ("M2 Max 16GB", "32, 64 or 96 GB"),
        ("M3 Pro 16GB", "18 or 36 GB"),
        ("M3 Max 40GB", "36, 48, 64, 96 or 128 GB"),
        ("M3 Max 512GB", "36, 48, 64, 96 or 128 GB"),
    ):
        fails(run(*args, "--gpu", gpu), 2, f"comes with {sizes} of unified memory")
    fails(run(*args, "--gpu", "apple-m4-pro", "--vram", "32"), 2, "Apple M4 Pro comes with 24, 48 or 64 GB")
    # Said as given: "36 GB, but ... comes with 36" hid 36.0000001 behind {:g} (an attacker's review).
    fails(run(*args, "--gpu", "M3 Max", "--vram", "36.0000001"), 2, "36.0000001 GB, but the Apple M3 Max")
    for gpu in ("M3 Pro 18GB", "M3 Pro 36GB", "M2 Max 96GB", "M4 16GB"):
        ok(run(*args, "--gpu", gpu))
    # A newcomer's "Mac M3 36GB": the chips of its generation sold with that memory are named.
    said = fails(run(*args, "--gpu", "Mac M3 36GB"), 2, "comes with 8, 16 or 24 GB").stderr
    assert "36 GB is an Apple M3 Max or Apple M3 Pro: --gpu 'M3 Max 36GB'" in " ".join(said.split())
    assert "GB is an" not in fails(run(*args, "--gpu", "M3 Max 40GB"), 2, "comes with").stderr


@pytest.mark.parametrize(
    ("gpu", "vram", "described"),
    [
        ("M3 Max 36GB", None, "Apple M3 Max (30-core GPU, 300 GB/s), 36 GiB"),
        ("apple-m3-max", 48, "Apple M3 Max (40-core GPU, 400 GB/s), 48 GiB"),
        ("M3 Max 64GB", None, "Apple M3 Max (30- or 40-core GPU, 300 or 400 GB/s), 64 GiB"),  # not found
        ("M4 Max 36GB", None, "Apple M4 Max (32-core GPU, 410 GB/s), 36 GiB"),
        ("M4 Max 64GB", None, "Apple M4 Max (40-core GPU, 546 GB/s), 64 GiB"),
        ("M2 Max 32GB", None, "Apple M2 Max (30- or 38-core GPU, 400 GB/s), 32 GiB"),
        ("apple-m2-max", 96, "Apple M2 Max (38-core GPU, 400 GB/s), 96 GiB"),
        ("M3 Pro 18GB", None, "Apple M3 Pro, 18 GiB"),  # either GPU, one bandwidth: no figure to add
    ],
)
def test_an_apple_chip_is_described_as_the_size_given_makes_it(
    catalog: Catalog, gpu: str, vram: float | None, described: str
) -> None:
    """ "M3 Max 36GB" was described as "Apple M3 Max (128 GB unified, 40-core GPU), 36 GiB": the
    36 GB M3 Max is the 30-core, 300 GB/s chip (Apple's Nov 2023 16-inch MacBook Pro tech specs),
    not the 40-core, 400 GB/s one the catalog's name describes (a review)."""
    note = resolve_hardware(catalog, gpu, vram, 1).note
    assert note.startswith(described), note
    assert "unified, " not in note  # the largest configuration's name is not repeated


def test_the_header_says_where_a_macs_memory_size_came_from(catalog: Catalog, run: Runner) -> None:
    """ "--gpu 'M3 Pro 18GB'" was headed "...; --vram 18: the chip with that much unified memory"
    though no --vram was given (a review); "m3 max 128gb" was read as no size at all, and asked
    for one."""
    named = resolve_hardware(catalog, "M3 Pro 18GB", None, 1).note
    assert "--gpu 'M3 Pro 18GB': the chip with that much unified memory" in named and "--vram" not in named
    flag = resolve_hardware(catalog, "apple-m3-pro", 18, 1).note
    assert "--vram 18: the chip with that much unified memory" in flag and "--gpu" not in flag
    assumed = resolve_hardware(catalog, "m3 pro", None, 1).note
    assert (
        "the Apple M3 Pro comes with 18 or 36 GB: sized for the least, 18 GB; give yours with --vram N"
        in assumed
    )
    largest = ok(run("recommend", "--gpu", "m3 max 128gb", "--model", "qwen3-8b", "--json")).json()
    assert largest["profile"]["vram"] == 128
    assert "--gpu 'm3 max 128gb': the chip with that much unified memory" in largest["notes"][0]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"memory_sizes_gb": [24, 128]}, "are not all in memory_sizes_gb"),
        ({"memory_bandwidth_gbs": 999}, "has the entry's memory_bandwidth_gbs"),
        ({"name": "Apple M3 Max"}, "the name is the chip and its top configuration"),
    ],
)
def test_a_chip_configuration_must_fit_the_entry(
    tmp_path: Path, change: dict[str, object], message: str
) -> None:
    data = bundled_sections()
    entry = data["gpus"][index_of(data["gpus"], "apple-m3-max")]
    if "memory_sizes_gb" in change:
        entry["configurations"][0]["memory_sizes_gb"] = change.pop("memory_sizes_gb")
    entry.update(change)
    problems = problems_of(write_kb(tmp_path, data))
    assert any(message in p for p in problems), problems


def test_capacity_is_what_the_driver_reports(catalog: Catalog) -> None:
    l4 = resolve_hardware(catalog, "l4", None, 1)
    assert l4.memory_gib == 24  # as advertised
    assert l4.capacity_gb == gib_to_gb(23034 / 1024) == 24.15
    assert "22.49 GiB usable" in l4.note
    unknown = resolve_hardware(catalog, "rtx-4080", None, 1)  # no driver report found
    assert unknown.capacity_gb == gib_to_gb(16)
    assert "usable" not in unknown.note
    assert resolve_hardware(catalog, "rtx-3090", None, 1).note.endswith("24 GiB")
    # A Mac's GPU may use Metal's working set, not all of its unified memory.
    mac = resolve_hardware(catalog, "M3 Max 128GB", None, 1)
    assert mac.memory_gib == 128 and mac.capacity_gb == gib_to_gb(110100 / 1024)
    # Named without its memory, a Mac is sized at the least its chip is sold with, three
    # quarters of it for the GPU (Metal's recommendedMaxWorkingSetSize from 36 GB).
    least = resolve_hardware(catalog, "apple-m3-max", None, 1)
    assert least.memory_gib == 36 and least.capacity_gb == gib_to_gb(36 * 0.75)
    # 64, 96 and 192 GB Macs: three quarters (llama.cpp's Metal logs), not all of it.
    for gpu, gib in (("apple-m1-max", 64), ("apple-m2-max", 96), ("apple-m2-ultra", 192)):
        assert resolve_hardware(catalog, gpu, gib, 1).capacity_gb == gib_to_gb(0.75 * gib), gpu


@pytest.mark.parametrize(
    ("alias", "gpu_id"),
    [
        ("H100 PCIe", "h100-pcie"),
        ("h100", "h100-80gb"),
        ("4080 super", "rtx-4080-super"),
        ("4080", "rtx-4080"),
        ("H200 NVL", "h200-nvl"),
        ("a100", "a100-80gb"),
        ("A100 80GB PCIe", "a100-80gb-pcie"),
        ("A100-PCIE-40GB", "a100-40gb-pcie"),
        ("gh200 hbm3e", "gh200-hbm3e"),
    ],
)
def test_aliases_name_the_right_variant(catalog: Catalog, alias: str, gpu_id: str) -> None:
    assert catalog.gpu(alias).id == gpu_id


def test_gpus_listing(run: Runner) -> None:
    data = ok(run("gpus", "--json")).json()["gpus"]
    h100 = next(g for g in data if g["id"] == "h100-80gb")
    assert h100["reported_memory_mib"] == 81559 and h100["fp8"] is True
    assert h100["interconnect"]["kind"] == "nvlink" and h100["interconnect"]["gbs"] == 900
    assert h100["tflops_bf16"] == 989.4 and h100["sources"]["tflops"]
    narrow = ok(run("gpus", env={"COLUMNS": "80"})).stdout
    wide = ok(run("gpus", env={"COLUMNS": "160"})).stdout
    assert "989.4" in narrow and "85.52" in narrow  # usable GB of an H100
    assert "Hopper" in wide and "Hopper" not in narrow
    assert "25.5*" in narrow  # a derived figure is marked


def test_a_family_name_says_which_card_it_assumed(run: Runner) -> None:
    """'A100' is sold with 40 and 80 GB: the 80 GB card is assumed, and the note names the other."""
    note = ok(run("recommend", "--gpu", "A100", "--model-size", "7b", "--json")).json()["notes"][0]
    assert "A100 80GB" in note and "--gpu a100-40gb" in note
    exact = ok(run("recommend", "--gpu", "a100-80gb", "--model-size", "7b", "--json")).json()["notes"][0]
    assert "also names" not in exact


@pytest.mark.parametrize("query", ["3080", "RTX 3080", "rtx-3080"])
def test_a_card_named_without_its_memory_names_its_other_memory_not_another_card(
    run: Runner, query: str
) -> None:
    """'3080' is sold with 10 and 12 GB: the note names the 12 GB card (plain '3080' named none, its
    ids begin with 'rtx'), never the 3080 Ti, which is another card."""
    note = ok(run("recommend", "--gpu", query, "--model-size", "7b", "--json")).json()["notes"][0]
    assert "RTX 3080 10GB" in note and "--gpu rtx-3080-12gb" in note and "Ti" not in note


@pytest.mark.parametrize("query", ["NVIDIA GeForce RTX 3080", "geforce rtx 3080"])
def test_a_card_named_as_nvidia_smi_prints_it_names_its_other_memory(run: Runner, query: str) -> None:
    note = ok(run("recommend", "--gpu", query, "--model-size", "7b", "--json")).json()["notes"][0]
    assert "--gpu rtx-3080-12gb" in note


def test_a_card_named_with_its_memory_is_taken_without_naming_itself(run: Runner) -> None:
    """A review: --gpu 3080 --vram 12 told the user to pick the 12 GB card it had picked, and
    --gpu 4090 --vram 24 was refused as 'the catalog knows it with 24 GiB only'."""
    data = ok(run("recommend", "--gpu", "3080", "--vram", "12", "--model-size", "7b", "--json")).json()
    assert data["profile"]["gpu"] == "rtx-3080-12gb" and "also names" not in data["notes"][0]
    # The memory it has, given twice, is taken (it was refused as what --gpu alone says).
    same = ok(run("recommend", "--gpu", "4090", "--vram", "24", "--model-size", "7b", "--json")).json()
    assert (same["profile"]["gpu"], same["profile"]["vram"]) == ("rtx-4090", 24.0)


def test_a_profile_recommend_prints_can_be_fed_back_to_batch(run: Runner, tmp_path: Path) -> None:
    """`recommend --json` echoes model_size in billions and the GPU with its memory: fed back to
    --batch, that profile was refused ('7.0' needs a unit; --gpu and --vram both given)."""
    args = ("recommend", "--gpu", "h100", "--model-size", "7b", "--goal", "chat", "--examples", "5k")
    args += ("--json",)
    first = ok(run(*args)).json()
    lines = tmp_path / "profiles.jsonl"
    lines.write_text(json.dumps(first["profile"]) + "\n", encoding="utf-8")
    again = json.loads(ok(run("recommend", "--batch", str(lines))).stdout)
    assert again["line"] == 1 and again["profile"] == first["profile"]
    assert again["recommendations"] == first["recommendations"]


def test_ask_says_which_memory_a_card_named_without_it_was_taken_with(run: Runner) -> None:
    said = ok(run("ask", "--json", input="weights\n3080\n" + "\n" * 20)).stderr
    assert "Taken as NVIDIA GeForce RTX 3080 10GB; '3080' also names NVIDIA GeForce RTX 3080 12GB" in said


@pytest.mark.parametrize("query", ["rtx 3090", "rtx 4080", "L40", "Apple M3", "NVIDIA A100-SXM4-80GB"])
def test_another_tier_of_a_card_is_not_its_sibling(run: Runner, query: str) -> None:
    note = ok(run("recommend", "--gpu", query, "--model-size", "7b", "--json")).json()["notes"][0]
    assert "also names" not in note


@pytest.mark.parametrize("gpu", ["a100-80gb-pcie", "h100-pcie"])
def test_bridged_pcie_cards_cross_pcie_beyond_a_pair(catalog: Catalog, gpu: str) -> None:
    """An NVLink bridge joins two PCIe cards: a ring over four or eight of them crosses PCIe, so
    ZeRO-3 gathers run at PCIe speed there (the SXM boards keep NVLink throughout)."""
    pair, eight = (resolve_hardware(catalog, gpu, None, n).device for n in (2, 8))
    assert pair is not None and eight is not None
    assert pair.link_gbs == 300 and eight.link_gbs == eight.host_gbs < pair.link_gbs / 5
    assert "PCIe" in eight.link
    sxm = resolve_hardware(catalog, "a100-80gb", None, 8).device
    assert sxm is not None and sxm.link_gbs == 300


def test_the_gpus_table_says_a_bridge_joins_pairs_only(run: Runner, catalog: Catalog) -> None:
    """An expert's review: `ft-atlas gpus` called bridged PCIe cards "NVLink" (RTX 3090, A100
    PCIe, H100 PCIe), where beyond a pair they reach each other over PCIe; SXM boards keep NVLink.
    Two RTX 3090s are timed over PCIe either way (their bridge's rate is not given)."""
    table = ok(run("gpus", "--format", "markdown")).stdout
    rows = {line.split("|")[1].strip(): line for line in table.splitlines() if line.startswith("| ")}
    for gpu in ("rtx-3090", "rtx-a6000", "a100-80gb-pcie", "h100-pcie"):
        assert "PCIe (+ NVLink bridge of 2)" in rows[gpu], gpu
    assert "| NVLink |" in rows["a100-80gb"].replace("  ", " ")
    pair = resolve_hardware(catalog, "rtx-3090", None, 2).device
    assert pair is not None and "PCIe" in pair.link


@pytest.mark.parametrize(
    ("gpu", "gbs", "link"),
    [
        ("t4", 12.0, "PCIe 3.0 x16"),
        ("rtx-4090", 25.0, "PCIe 4.0 x16"),
        ("rtx-4060-ti-16gb", 12.5, "PCIe 4.0 x8"),
        ("rtx-5090", 44.0, "PCIe 5.0 x16"),
        ("b200", 44.0, "NVLink 5"),  # its Xeon hosts run PCIe 5.0
        ("b300", 25.0, "NVLink 5"),  # no host link given: PCIe 4.0 assumed
        ("gh200", 323.0, "NVLink-C2C"),  # its CPU over NVLink-C2C, measured (nvbandwidth#23)
    ],
)
def test_the_host_link_runs_at_its_pcie_generation(catalog: Catalog, gpu: str, gbs: float, link: str) -> None:
    """CPU offload, and collectives between cards without NVLink, cross each card's own PCIe link:
    a T4 (PCIe 3.0) at half a 4090's rate, an RTX 5090 (PCIe 5.0) well above it; a card whose
    generation is not known (B200) is taken as PCIe 4.0; a GH200 reaches its Grace CPU's memory
    over NVLink-C2C."""
    device = resolve_hardware(catalog, gpu, None, 2).device
    assert device is not None and device.host_gbs == gbs and device.link.startswith(link)


def test_a_four_way_bridge_keeps_four_h200_nvl_on_nvlink(catalog: Catalog) -> None:
    four, eight = (resolve_hardware(catalog, "h200-nvl", None, n).device for n in (4, 8))
    assert four is not None and eight is not None
    assert four.link_gbs == 450 and eight.link_gbs == 44.0
    # A40s and RTX 2080 Tis are bridged in pairs too: four of them ring over PCIe.
    for gpu, pair_gbs, pcie in (("a40", 56.25, 25.0), ("rtx-2080-ti", 50.0, 12.0)):
        pair, ring = (resolve_hardware(catalog, gpu, None, n).device for n in (2, 4))
        assert pair is not None and ring is not None
        assert (pair.link_gbs, ring.link_gbs) == (pair_gbs, pcie)


def test_an_apple_chip_is_one_gpu_and_offloads_nothing(run: Runner) -> None:
    """Its memory is the CPU's too: an offloaded plan 'fit' with 84 GB of CPU RAM on a 64 GB Mac,
    and --gpus 2 wrote a DeepSpeed launcher for two Macs (a fuzzer's finding)."""
    fails(run("recommend", "--gpu", "apple-m3-max", "--gpus", "2"), 2, "one GPU sharing its memory")
    args = ("recommend", "--gpu", "apple-m4-pro", "--model", "gpt-oss-20b", "--data-kind", "ratings")
    plans = ok(run(*args, "--batch-size", "8", "--json")).json()["recommendations"]
    assert all(p["assumptions"].get("offload", "none") == "none" for p in plans if p["assumptions"])


@pytest.mark.parametrize(
    ("printed", "gpu_id"),
    [
        ("NVIDIA GeForce RTX 4090", "rtx-4090"),
        ("NVIDIA A100-SXM4-80GB", "a100-80gb"),
        ("NVIDIA A100-SXM4-40GB", "a100-40gb"),
        ("NVIDIA H100 80GB HBM3", "h100-80gb"),
        ("NVIDIA A100 80GB PCIe", "a100-80gb-pcie"),
        ("Tesla V100-SXM2-16GB", "v100-16gb"),
        ("Tesla T4", "t4"),
        ("AMD Instinct MI300X", "mi300x"),
        ("nvidia 4090", "rtx-4090"),
    ],
)
def test_a_gpu_named_as_nvidia_smi_prints_it_is_found(catalog: Catalog, printed: str, gpu_id: str) -> None:
    """ask's help tells a newcomer to copy the name nvidia-smi prints, and the catalog refused it
    ("NVIDIA GeForce RTX 4090"), and "nvidia 4090" suggested the L40 first (a newcomer's review)."""
    assert catalog.gpu(printed).id == gpu_id


def test_a_cards_model_number_given_as_the_count_is_refused(run: Runner) -> None:
    """A newcomer's review: "How many GPUs? 4090" was sized over 4,090 GPUs without a word. The
    count that is a catalog card's model number is refused, naming the card; a large count that
    names no card is a count. A Mac's refusal of several GPUs names the memory given, not the
    chip's largest configuration."""
    fails(run("recommend", "--gpu", "rtx-4090", "--gpus", "4090", "--model-size", "7b"), 2, "--gpu rtx-4090")
    assert ok(run("recommend", "--gpu", "h100", "--gpus", "1024", "--model-size", "7b", "--json")).json()
    mac = fails(run("recommend", "--gpu", "apple-m2", "--vram", "8", "--gpus", "2", "--model-size", "7b"), 2)
    assert "24 GB" not in mac.stderr and "leave --gpus at 1" in mac.stderr


def test_a_mac_that_fits_nothing_is_not_told_to_add_gpus(run: Runner) -> None:
    """A newcomer's review: an 8 GB M2 was told "add GPUs (full FT and LoRA shard with
    ZeRO-3/FSDP)", which --gpus 2 then refuses for a Mac."""
    args = ("--gpu", "apple-m2", "--vram", "8", "--model", "llama-3-8b", "--goal", "chat")
    notes = " ".join(ok(run("recommend", *args, "--data-kind", "demonstrations", "--json")).json()["notes"])
    assert "Nothing fits this Mac" in notes and "add GPUs" not in notes


def test_a_mac_that_fits_nothing_is_told_the_mac_memory_that_would_do(run: Runner) -> None:
    """Not "a GPU with 17 GiB usable", which no Mac is sold as: the least unified memory whose GPU
    share (two thirds up to 32 GB) holds it - 24 GB gives 16 GiB, so 32 GB."""
    args = ("--gpu", "M3 Pro 18GB", "--model", "qwen2.5-14b", "--goal", "chat", "--examples", "2k")
    notes = " ".join(ok(run("recommend", *args, "--data-kind", "demonstrations", "--json")).json()["notes"])
    assert "QLoRA with a Mac with 32 GB of unified memory or more" in notes and "or more usable" not in notes


def test_estimate_tells_a_mac_the_mac_memory_that_would_do(run: Runner) -> None:
    """`estimate` told an 8 GB M3 'to fit: gpu_memory = 22' (usable GiB of a GPU no Mac is sold
    as); it names the least unified memory whose GPU share holds the plan, as recommend does."""
    args = ("--gpu", "M3", "--model", "llama-3.1-8b", "--method", "lora")
    changes = ok(run("estimate", *args, "--json")).json()["to_fit"]
    assert {"change": "mac_memory", "value": 36, "per_gpu_gb": 20.7} in changes
    assert "gpu_memory" not in {c["change"] for c in changes}
    assert "to fit: mac_memory = 36" in ok(run("estimate", *args, env={"COLUMNS": "160"})).stdout
    nvidia = ok(run("estimate", "--gpu", "rtx-4060", *args[2:], "--json")).json()["to_fit"]
    assert "gpu_memory" in {c["change"] for c in nvidia}


@pytest.mark.parametrize("named", [("3080 12GiB",), ("3080 12.0GB",), ("3080", "--vram", "12")])
def test_the_rtx_3080_12gb_is_found_however_its_memory_is_written(
    run: Runner, named: tuple[str, ...]
) -> None:
    """A review: the 10 GB card's name with 12 GiB, 12.0GB or --vram 12 was refused as "the catalog
    knows the RTX 3080 with 10 GiB only", once the catalog had the 12 GB card too."""
    profile = ok(run("recommend", "--gpu", *named, "--model-size", "7b", "--json")).json()["profile"]
    assert profile["gpu"] == "rtx-3080-12gb"


def test_estimate_says_which_memory_a_mac_is_sized_for(run: Runner) -> None:
    """A review: `estimate` shows no hardware line, so a 128 GB M3 Max was told "does not fit"
    without a word that 36 GB was assumed."""
    args = ("estimate", "--method", "lora", "--model-size", "14b", "--json")
    assumed = ok(run(*args, "--gpu", "M3 Max")).stderr
    assert "sized for the least unified memory this Mac's chip is sold with, 36 GB" in " ".join(
        assumed.split()
    )
    assert "least unified" not in ok(run(*args, "--gpu", "M3 Max 64GB")).stderr


def test_a_mac_without_a_measured_share_takes_its_nearest_measured_neighbours(run: Runner) -> None:
    """An expert's review: a 512 GB M3 Ultra was checked against all 512 GiB (432.7 GB "fits")
    while its 256 GB form got three quarters; Metal's default working set is a share of memory."""
    args = ("estimate", "--method", "qlora", "--model", "llama-3.1-405b", "--seq-len", "32k", "--json")
    largest = ok(run(*args, "--gpu", "M3 Ultra 512GB")).json()
    assert largest["capacity_gb"] == pytest.approx(512 * 0.75 * 2**30 / 1e9, rel=0.01)
    assert largest["fits"] is False
    listed = ok(run("gpus", "--format", "markdown")).stdout  # the catalog's listing says the same
    (row,) = [line for line in listed.splitlines() if line.startswith("| apple-m3-ultra ")]
    assert f"| {largest['capacity_gb']:g} |" in row.replace(",", "")


def test_a_cards_memory_said_twice_is_its_own_not_a_macs_share(run: Runner) -> None:
    """A self-review: "4090 24gb" with --vram 24 was given a Mac's Metal share, 16 of its 24 GiB."""
    args = ("estimate", "--method", "lora", "--model-size", "7b", "--json")
    plain = ok(run(*args, "--gpu", "rtx-4090")).json()
    twice = ok(run(*args, "--gpu", "4090 24gb", "--vram", "24")).json()
    assert twice["capacity_gb"] == plain["capacity_gb"]


def test_a_card_name_typed_with_a_unit_is_not_taken_for_its_memory(run: Runner) -> None:
    """A review: --gpu 3080gb was sized as a 3,080 GB GPU (usable 3,307 GB, 'fits')."""
    args = ("estimate", "--model", "llama-3.1-8b", "--method", "lora")
    fails(run(*args, "--gpu", "3080gb"), 2, "'3080 GB' is more memory than any GPU has")
    ok(run(*args, "--gpu", "1024gb"))  # large, but a GPU may yet have it
    fails(run(*args, "--vram", "3080gb"), 2, "not '--vram 3080gb'")  # and so for --vram
    ok(run(*args, "--vram", "1024"))
    huge = ok(run(*args[:2], "llama-3.1-405b", "--method", "full-ft", "--gpu", "h100", "--json")).json()
    assert all(c["value"] <= 1024 for c in huge["to_fit"] if c["change"] == "gpu_memory")


@pytest.mark.parametrize("value", [["mi325x"], {"id": "mi325x"}])
def test_a_borrowed_matmul_share_that_is_no_name_is_the_schemas_to_refuse(
    tmp_path: Path, value: object
) -> None:
    """A diff review: a list or mapping as matmul_share_from crashed validate (exit 1)."""
    data = bundled_sections()
    entry = data["gpus"][index_of(data["gpus"], "mi355x")]
    entry["matmul_share_from"] = value
    problems = problems_of(write_kb(tmp_path, data))
    assert any("matmul_share_from" in p for p in problems), problems
