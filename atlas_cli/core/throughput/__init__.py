"""How long training takes and what it costs: pure functions, each naming its formula and source.
docs/time.md explains the model for users.

- flops.py: floating-point operations per trained token, by way of training and objective;
- step.py: the seconds of one micro-step on one GPU (compute, memory traffic, kernel launches,
  communication between GPUs, CPU offload) and of sampling for online objectives;
- workload.py: the tokens a run trains on, from examples, length, epochs and packing;
- timing.py: a plan's stages, its hours (with a low-high band) and its cost.
"""
