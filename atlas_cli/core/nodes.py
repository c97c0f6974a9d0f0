"""How a run's GPUs sit in nodes: what groups that must share fast links (a split sequence, a
vLLM engine) can span, what a launcher starts on each node, and where collectives leave NVLink."""

from __future__ import annotations

# GPUs in one node (HGX/DGX H100 and A100 boards, and most cloud instances of them).
GPUS_PER_NODE = 8


def node_layout(gpus: int) -> tuple[int, int]:
    """(nodes, GPUs per node): up to GPUS_PER_NODE one node, past it nodes of equal size, as
    torchrun and accelerate start the same number of processes on each."""
    nodes = -(-gpus // GPUS_PER_NODE)
    return nodes, -(-gpus // nodes)
