"""ft-atlas: advice on how to adapt a large language model, and whether the plan fits the GPU."""

__version__ = "0.1.0"
