"""The GPU memory estimator: pure functions, one per component, each naming its formula and
source. docs/memory.md explains the model for users.

- params.py: trainable parameters of each way of training;
- states.py: weights, gradients and optimizer states per parameter;
- activations.py: activations, logits and the KV cache, per software stack;
- parallel.py: sharding across GPUs, gather buffers and CPU offload;
- estimate.py: one estimate, its verdict against the GPU, and the host's share;
- search.py: the largest sequence length or batch that fits, and what would make a plan fit.
"""

from atlas_cli.core.memory.estimate import (
    GB,
    GIB,
    default_checkpointing,
    default_seq_len,
    estimate,
    gib_to_gb,
    verdict,
)
from atlas_cli.core.memory.params import trainable_params

__all__ = [
    "GB",
    "GIB",
    "default_checkpointing",
    "default_seq_len",
    "estimate",
    "gib_to_gb",
    "trainable_params",
    "verdict",
]
