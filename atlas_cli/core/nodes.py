"""How a run's GPUs sit in nodes: what groups that must share fast links (a split sequence, a
vLLM engine) can span, what a launcher starts on each node, and where collectives leave NVLink."""

from __future__ import annotations

# GPUs in one node (HGX/DGX H100 and A100 boards, and most cloud instances of them).
GPUS_PER_NODE = 8


def network_per_gpu(gbps: float) -> float:
    """GB/s per GPU, one way, as the time model reads a network (Device.network_gbs), of a node's
    network in Gb/s (its NICs together, --network-gbps)."""
    return gbps / 8 / GPUS_PER_NODE


def network_per_node(gbs: float) -> float:
    """A node's network in Gb/s, of the GB/s per GPU the time model reads (network_per_gpu)."""
    return gbs * 8 * GPUS_PER_NODE


def node_layout(gpus: int) -> tuple[int, int]:
    """(nodes, GPUs per node): up to GPUS_PER_NODE one node, past it nodes of equal size, as
    torchrun and accelerate start the same number of processes on each."""
    nodes = -(-gpus // GPUS_PER_NODE)
    return nodes, -(-gpus // nodes)
