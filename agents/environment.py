"""Registered warping environments as the agents package needs them.

Training steps a :class:`gymnasium.vector.VectorEnv` (``gymnasium.make_vec`` with
``vectorization_mode="vector_entry_point"``) through the batched TF-Agents
adapter ``envs.tf_agents_adapter.VectorPyEnvironment``. Evaluation, behavioural
cloning and :class:`agents.PolicyAligner` step an ``envs.core.WarpingBatch``
directly, built with the same keyword arguments as the registered environment,
so every consumer sees one observation implementation.

>>> import envs
>>> settings = env_settings("dtwrl/SyntheticWarp-v0")
>>> x, y = settings.pairs(np.random.default_rng(0))
>>> x.ndim, y.ndim
(2, 2)
"""
import dataclasses
import inspect
from typing import Any, Callable

import gymnasium
import numpy as np


@dataclasses.dataclass(frozen=True)
class EnvSettings:
    """What a registered id fixes: its pair source and the ``WarpingBatch`` arguments.

    Attributes
    ----------
    env_id : str
    pairs : callable
        ``pairs(rng) -> (x (n, d), y (m, d))``.
    core_kwargs : dict
        Every keyword argument of ``envs.core.WarpingBatch`` (``window``,
        ``metric``, ``band``, ``reward_scale``), registered values over the
        defaults; JSON-serialisable.
    """

    env_id: str
    pairs: Callable[[np.random.Generator], Any]
    core_kwargs: dict


def _warping_batch_class():
    import envs.core

    return envs.core.WarpingBatch


def core_defaults():
    """``{name: default}`` of the keyword arguments ``envs.core.WarpingBatch`` accepts."""
    params = inspect.signature(_warping_batch_class().__init__).parameters
    return {name: p.default for name, p in params.items() if name != "self"}


def _as_pair_source(pairs):
    try:
        from dtwrl.datasets import as_pair_source
    except ImportError:  # pragma: no cover - older dtwrl without pair sources
        if callable(pairs):
            return pairs
        raise
    return as_pair_source(pairs)


def env_settings(env_id, **overrides):
    """The pair source and ``WarpingBatch`` keyword arguments of a registered id.

    Parameters
    ----------
    env_id : str
        A registered id, e.g. ``"dtwrl/SyntheticWarp-v0"`` (import ``envs`` first).
    **overrides
        ``WarpingBatch`` arguments (``window``, ``reward_scale``, ...) that
        replace the registered ones; None values are ignored.

    Returns
    -------
    EnvSettings
    """
    import envs  # noqa: F401  (registers the built-in ids)

    if not isinstance(env_id, str):
        raise TypeError(f"env_id must be a registered environment id (str); got {type(env_id).__name__}")
    try:
        spec = gymnasium.spec(env_id)
    except gymnasium.error.Error as err:
        raise ValueError(f"env_id {env_id!r} is not registered: {err}") from None
    kwargs = dict(spec.kwargs)
    if "pairs" not in kwargs:
        raise ValueError(f"env_id {env_id!r} has no 'pairs' keyword; register it with envs.register_env")
    pairs = _as_pair_source(kwargs.pop("pairs"))
    core_kwargs = core_defaults()
    core_kwargs.update((key, value) for key, value in kwargs.items() if key in core_kwargs)
    for key, value in overrides.items():
        if key not in core_kwargs:
            raise ValueError(f"{key} is not an argument of envs.core.WarpingBatch ({sorted(core_kwargs)})")
        if value is not None:
            core_kwargs[key] = value
    return EnvSettings(env_id=env_id, pairs=pairs, core_kwargs=core_kwargs)


def make_core(core_kwargs):
    """A fresh ``envs.core.WarpingBatch(**core_kwargs)``."""
    return _warping_batch_class()(**core_kwargs)


def make_vector_py_env(env_id, num_envs, seed, pairs=None, **overrides):
    """The batched TF-Agents environment that training steps.

    Parameters
    ----------
    env_id : str
    num_envs : int
        Number of alignments stepped together.
    seed : int
        Seeds the vector env's first reset (and so its pair stream).
    pairs : pair source or None
        Replaces the registered pairs (``AlignerTrainer.set_pairs``).
    **overrides
        Environment arguments (``window``, ``reward_scale``, ...) that replace
        the registered ones; None values are ignored.

    Returns
    -------
    envs.tf_agents_adapter.VectorPyEnvironment
        ``batch_size == num_envs``; time steps carry (num_envs, ...) arrays.
    """
    import envs  # noqa: F401
    from envs.tf_agents_adapter import VectorPyEnvironment

    kwargs = {key: value for key, value in overrides.items() if value is not None}
    if pairs is not None:
        kwargs["pairs"] = pairs
    vector_env = gymnasium.make_vec(env_id, num_envs=num_envs, vectorization_mode="vector_entry_point", **kwargs)
    return _adapter(VectorPyEnvironment, vector_env, seed)


def _adapter(cls, vector_env, seed):
    params = inspect.signature(cls.__init__).parameters
    if "seed" in params:
        return cls(vector_env, seed=seed)
    py_env = cls(vector_env)
    vector_env.reset(seed=seed)
    return py_env
