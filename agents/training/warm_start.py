"""The behavioural-cloning hook of the trainer: the warm start before PPO and the DAgger anchor during it.

Both use an :class:`agents.training.imitation.Cloner` on the live actor network.
:func:`behavioural_cloning` collects ``bc_env_steps`` expert-labelled states
from detoured expert rollouts (in chunks, so a progress bar can follow) and
fits the actor to them for ``bc_epochs``; :func:`dagger_update` takes a few
cloning minibatches on the states PPO's own policy visited.
"""

import time
from collections.abc import Callable

import numpy as np

from . import imitation
from .config import AlignerConfig
from .environment import EnvSettings

BC_COLLECT_CHUNKS = 10
"""The expert data is collected in this many chunks (a progress update after each)."""


def behavioural_cloning(
    cloner: imitation.Cloner,
    settings: EnvSettings,
    config: AlignerConfig,
    on_progress: Callable[[int], None] | None = None,
    on_epoch: Callable[[int, float, float], None] | None = None,
) -> dict:
    """Clone exact DTW moves into the actor: collect the data, then ``bc_epochs`` supervised passes.

    Parameters
    ----------
    cloner : agents.training.imitation.Cloner
    settings : EnvSettings
        The training pairs and ``WarpingBatch`` arguments.
    config : AlignerConfig
        ``seed``, ``bc_env_steps``, ``bc_detour``, ``bc_epochs``, ``bc_batch_size``.
    on_progress : callable or None
        ``on_progress(units)``: ``units`` more work done, out of
        ``bc_work_units(config)`` (labelled states collected, then states trained on).
    on_epoch : callable or None
        ``on_epoch(epoch, cross_entropy, accuracy)`` after each epoch.

    Returns
    -------
    dict
        ``bc_loss``, ``bc_accuracy`` (last epoch), ``bc_collect_s``, ``bc_s``.
    """
    start = time.perf_counter()
    rng = np.random.default_rng([config.seed, 1])
    chunk = -(-config.bc_env_steps // BC_COLLECT_CHUNKS)
    parts, collected = [], 0
    while collected < config.bc_env_steps:
        size = min(chunk, config.bc_env_steps - collected)
        parts.append(
            imitation.collect_expert_dataset(
                settings.pairs, rng, settings.core_kwargs, size, num_envs=128, detour=config.bc_detour
            )
        )
        collected += size
        if on_progress is not None:
            on_progress(size)
    data = {key: np.concatenate([part[key] for part in parts]) for key in parts[0]}
    collect_s = time.perf_counter() - start
    rng = np.random.default_rng([config.seed, 2])
    loss = accuracy = float("nan")
    for epoch in range(config.bc_epochs):
        loss, accuracy = cloner.epoch(data, config.bc_batch_size, rng)
        if on_epoch is not None:
            on_epoch(epoch, loss, accuracy)
        if on_progress is not None:
            on_progress(len(data["expert_action"]))
    return {"bc_loss": loss, "bc_accuracy": accuracy, "bc_collect_s": collect_s, "bc_s": time.perf_counter() - start}


def bc_work_units(config: AlignerConfig) -> int:
    """Total ``on_progress`` units of :func:`behavioural_cloning`: states collected plus states trained on."""
    return config.bc_env_steps * (1 + config.bc_epochs)


def dagger_update(
    cloner: imitation.Cloner, visited: dict, steps: int, batch_size: int, rng: np.random.Generator
) -> float:
    """``steps`` cloning minibatches on the visited states; returns the mean cross-entropy.

    Parameters
    ----------
    cloner : agents.training.imitation.Cloner
    visited : dict
        Observation arrays of the states the policy visited plus their
        ``"expert_action"`` (``agents.training.collection.Collector.run``).
    steps, batch_size : int
    rng : numpy.random.Generator
        Draws the minibatches.
    """
    n = len(visited["expert_action"])
    losses = []
    for _ in range(steps):
        idx = rng.choice(n, size=min(n, batch_size), replace=False)
        observation = {key: value[idx] for key, value in visited.items() if key != "expert_action"}
        losses.append(cloner.step(observation, visited["expert_action"][idx])[0])
    return float(np.mean(losses))
