"""A plan's training time, stage by stage, and what it costs."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import NamedTuple

from atlas_cli.core.memory.estimate import (
    completion_length,
    sampled_apart,
    sampled_at_once,
    served_by_vllm,
    vllm_waves,
)
from atlas_cli.core.throughput.step import (
    Device,
    Step,
    Work,
    decode_seconds,
    micro_step,
    server_sync_seconds,
    timed_stack,
)
from atlas_cli.core.throughput.workload import Workload, batches, completion_tokens, longest_share
from atlas_cli.kb.catalog import Objective
from atlas_cli.kb.vocabulary import MEMORY_MODELS

# Measured runs took between 0.6x and 1.5x the hours estimated for them (the public calibration
# rows, docs/time.md): the band around every estimate.
FAST_FACTOR, SLOW_FACTOR = 0.6, 1.5
HOUR = 3600.0


class StageTime(NamedTuple):
    objective: Objective
    tokens: float  # trained on, without padding, all epochs
    seconds: float  # wall clock, all of it
    generation_seconds: float  # of which sampling completions (online objectives)
    step: Step  # one micro-step's breakdown, for --explain
    workload: Workload
    micro_batch: int  # examples per GPU per micro-step, as the time assumes
    global_batch: int  # examples per optimizer step over all GPUs (micro-batch x replicas x accumulation)
    packed: bool = False  # examples packed into full sequences (workload.Batches.packed)
    # Completions each GPU samples at once (online objectives; 0 offline): the generation batch the
    # recipes write, which sets how many decode rounds sampling takes.
    sampled_at_once: int = 0

    @property
    def tokens_per_second(self) -> float:
        return self.tokens / self.seconds if self.seconds else 0.0


class PlanTime(NamedTuple):
    """A plan's time over its stages; made by PlanTime.of, which sums them."""

    stages: tuple[StageTime, ...]
    gpus: int
    device: Device
    stack: str  # the stack whose rate times it (throughput.step.timed_stack)
    # Over all stages, summed once (PlanTime.of): ranking reads them for every plan of every profile.
    tokens: float
    seconds: float

    @classmethod
    def of(cls, stages: tuple[StageTime, ...], gpus: int, device: Device, stack: str) -> PlanTime:
        return cls(stages, gpus, device, stack, sum(s.tokens for s in stages), sum(s.seconds for s in stages))

    @property
    def hours(self) -> float:
        return self.seconds / HOUR

    @property
    def hours_band(self) -> tuple[float, float]:
        return self.hours * FAST_FACTOR, self.hours * SLOW_FACTOR

    @property
    def tokens_per_second(self) -> float:
        return self.tokens / self.seconds if self.seconds else 0.0

    @property
    def vllm_would_sample(self) -> bool:
        """A stage samples with transformers' generate where its trainer could use vLLM instead."""
        return any(s.generation_seconds and s.objective.training.vllm for s in self.stages)


class Rate(NamedTuple):
    usd_per_gpu_hour: float
    source: str  # where the figure comes from, with its date


class PlanCost(NamedTuple):
    gpu_hours: float
    price: Rate | None  # None: no price known for this GPU (GPU-hours only)
    low: float  # GPU-hours or USD at the fast end of the band, likewise high
    high: float

    @property
    def usd(self) -> float | None:
        return None if self.price is None else self.gpu_hours * self.price.usd_per_gpu_hour


def batches_text(batches: Iterable[int]) -> str:
    """The stages' micro-batches as a time line names them: "4", or "4/2" when stages differ."""
    return "/".join(str(b) for b in dict.fromkeys(batches))


def stage_time(work: Work, device: Device, workload: Workload, objective: Objective) -> StageTime:
    """One stage: its micro-steps on each GPU (all GPUs run in parallel) and, for online
    objectives, sampling each prompt's group of completions first."""
    s = work.settings._replace(objective=objective)
    work = work._replace(settings=s)
    b = batches(objective, workload, s.seq_len, s.batch_size, s.replicas, s.sequence_parallel, prefix(work))
    step = micro_step(
        work,
        device,
        b.computed_tokens,
        b.attended,
        b.accumulation,
        _extra_forwards(work, objective),
        row=b.row,
    )
    # PPO trains a value model of the policy's size as well, num_ppo_epochs times over each batch.
    passes = objective.training.update_passes * (2 if objective.training.value_model else 1)
    training = b.micro_steps * step.seconds * passes
    generation, at_once = 0.0, 0
    if objective.online:
        length = min(workload.tokens_per_example, s.seq_len)
        completion = completion_tokens(objective, length, s.seq_len)
        at_once = sampled_at_once(s)
        # At least one round an epoch, however few prompts each GPU gets (as micro-steps).
        rounds = max(b.prompts_per_gpu * objective.samples_per_prompt / at_once, workload.epochs)
        # A batch of completions decodes until its longest is done: longer than the average as the
        # padded batches are (workload.PADDING_PER_DOUBLING), within the completion budget.
        longest = min(completion_length(s.seq_len), completion * longest_share(at_once))
        prompt = length - completion
        # A server decodes every training GPU's completions together, over its own GPUs.
        apart = sampled_apart(work.model, s)
        engine = at_once * s.gpus / s.vllm_server_gpus if apart else at_once
        waves = (
            vllm_waves(work.model, work.shape, s, engine, prompt + longest)
            if served_by_vllm(work.model, s)
            else 1
        )
        # vLLM admits a waiting completion as soon as one finishes (continuous batching): past the
        # first wave each slot decodes completions back to back, and only the last pays the tail
        # of the longest.
        steps = (waves - 1) * completion + longest
        generation = rounds * decode_seconds(work, device, engine / waves, prompt, longest) * steps / longest
        if apart:
            generation += rounds * server_sync_seconds(work, device)
    per_update = s.batch_size * s.replicas * b.accumulation
    return StageTime(
        objective,
        b.tokens,
        training + generation,
        generation,
        step,
        workload,
        s.batch_size,
        per_update,
        b.packed,
        at_once,
    )


def prefix(work: Work) -> int:
    """Positions prepended to every row: prompt tuning's virtual tokens run through every layer
    with it (as the memory estimate sizes them); 200 of them nearly double a 210-token example's
    work (huggingface/peft method_comparison: 4,467 tokens/s against LoRA's 7,062)."""
    return work.settings.virtual_tokens if MEMORY_MODELS[work.model].prepends_tokens else 0


def _extra_forwards(work: Work, objective: Objective) -> int:
    """Forward passes without gradients an objective adds (its card's training block: the
    reference model, a KL batch), and those sampling with vLLM adds (GRPO recomputes the sampled
    tokens' log-probabilities to correct vLLM's)."""
    training = objective.training
    with_vllm = training.vllm_forwards if served_by_vllm(work.model, work.settings) else 0
    return training.no_grad_forwards + with_vllm


def plan_time(
    work: Work, device: Device, workloads: Mapping[str, Workload], objectives: tuple[Objective, ...]
) -> PlanTime:
    stages = tuple(stage_time(work, device, workloads[o.id], o) for o in objectives)
    return PlanTime.of(stages, work.settings.all_gpus, device, timed_stack(work))


def plan_cost(time: PlanTime, price: Rate | None) -> PlanCost:
    gpu_hours = time.hours * time.gpus
    rate = 1.0 if price is None else price.usd_per_gpu_hour
    return PlanCost(gpu_hours, price, gpu_hours * FAST_FACTOR * rate, gpu_hours * SLOW_FACTOR * rate)
