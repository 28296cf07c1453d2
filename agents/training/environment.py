"""Warping environments as the agents package needs them: settings, storage in a run folder, construction.

An :class:`EnvSettings` is everything an environment id fixes: its pair source
and its keyword arguments. It comes from a registered id (:func:`env_settings`)
or from a run folder (:func:`load_env_settings`), so a policy trained on an id
registered in one process is evaluated and fine-tuned in another without
registering it again.

Training steps a natively batched ``envs.vector.WarpingPathVectorEnv`` through
the TF-Agents adapter ``envs.tf_agents_adapter.VectorPyEnvironment``
(:func:`make_vector_py_env`). Evaluation, behavioural cloning and
:class:`agents.PolicyAligner` step an ``envs.core.WarpingBatch`` directly
(``agents.policy.rollouts.make_core``), built with the same keyword arguments, so every consumer
sees one observation implementation.

>>> import envs
>>> settings = env_settings("dtwrl/SyntheticWarp-v0")
>>> x, y = settings.pairs(np.random.default_rng(0))
>>> x.ndim, y.ndim
(2, 2)
"""

import dataclasses
import inspect
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gymnasium
import numpy as np

from dtwrl.datasets import as_pair_source, load_pair_source, save_pair_source
from dtwrl.runs import read_json, write_json

ENV_SETTINGS_FILE = "env.json"
"""File of a stored :class:`EnvSettings` (beside the stored pair source)."""


@dataclasses.dataclass(frozen=True)
class EnvSettings:
    """What an environment id fixes: its pair source and its keyword arguments.

    Attributes
    ----------
    env_id : str
        The id the settings came from (a label once stored; it need not be registered).
    pairs : callable
        ``pairs(rng) -> (x (n, d), y (m, d))``.
    core_kwargs : dict
        Every keyword argument of ``envs.core.WarpingBatch`` (``window``,
        ``metric``, ``band``, ``reward_scale``, ...), registered values over
        the defaults; JSON-serialisable.
    env_kwargs : dict
        Every keyword argument of the environment except ``pairs``
        (``core_kwargs`` plus e.g. ``compute_fastdtw``).
    """

    env_id: str
    pairs: Callable[[np.random.Generator], Any]
    core_kwargs: dict
    env_kwargs: dict


def core_defaults() -> dict:
    """``{name: default}`` of the keyword arguments ``envs.core.WarpingBatch`` accepts."""
    from envs.core import WarpingBatch

    params = inspect.signature(WarpingBatch.__init__).parameters
    return {name: p.default for name, p in params.items() if name != "self"}


def _settings(env_id, pairs, kwargs, overrides):
    core_kwargs = core_defaults()
    core_kwargs.update((key, value) for key, value in kwargs.items() if key in core_kwargs)
    env_kwargs = dict(kwargs)
    for key, value in overrides.items():
        if key not in core_kwargs:
            raise ValueError(f"{key} is not an argument of envs.core.WarpingBatch ({sorted(core_kwargs)})")
        if value is not None:
            core_kwargs[key] = value
            env_kwargs[key] = value
    return EnvSettings(env_id=env_id, pairs=pairs, core_kwargs=core_kwargs, env_kwargs=env_kwargs)


def env_settings(env_id: str, pairs: Any = None, **overrides: Any) -> EnvSettings:
    """The pair source and keyword arguments of a registered id.

    Parameters
    ----------
    env_id : str
        A registered id, e.g. ``"dtwrl/SyntheticWarp-v0"`` (importing ``envs``
        registers the built-in ones).
    pairs : object or None
        Replaces the registered pair source: anything
        ``dtwrl.datasets.as_pair_source`` accepts (a ``.ts``/``.tsv``/``.npy``/
        ``.csv`` path, an array of series, ...).
    **overrides
        ``WarpingBatch`` arguments (``window``, ``reward_scale``, ...) that
        replace the registered ones; None values are ignored.

    Returns
    -------
    EnvSettings

    Raises
    ------
    ValueError
        ``env_id`` is not registered, or was not registered by ``envs.register_env``.
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
    registered = kwargs.pop("pairs")
    source = as_pair_source(registered if pairs is None else pairs)
    return _settings(env_id, source, kwargs, overrides)


def save_env_settings(settings: EnvSettings, folder: str | os.PathLike) -> Path:
    """Store ``settings`` (keyword arguments and pair source) in ``folder``; see :func:`load_env_settings`.

    Parameters
    ----------
    settings : EnvSettings
    folder : str or os.PathLike
        Created if needed; gets ``env.json`` and the files of
        ``dtwrl.datasets.save_pair_source``.

    Returns
    -------
    pathlib.Path
        The ``env.json`` written.

    Raises
    ------
    ValueError
        The pair source cannot be stored (an unpicklable callable).
    """
    folder = Path(folder)
    save_pair_source(settings.pairs, folder)
    return write_json(folder / ENV_SETTINGS_FILE, {"env_id": settings.env_id, "env_kwargs": settings.env_kwargs})


def load_env_settings(folder: str | os.PathLike, **overrides: Any) -> EnvSettings:
    """The :class:`EnvSettings` stored by :func:`save_env_settings`; no registration needed.

    Parameters
    ----------
    folder : str or os.PathLike
    **overrides
        As for :func:`env_settings`.

    Returns
    -------
    EnvSettings

    Raises
    ------
    ValueError
        ``folder`` holds no stored settings.

    Examples
    --------
    >>> import tempfile
    >>> folder = tempfile.mkdtemp()
    >>> _ = save_env_settings(env_settings("dtwrl/GunPoint-v0", window=5), folder)
    >>> settings = load_env_settings(folder)
    >>> settings.env_id, settings.core_kwargs["window"], len(settings.pairs)
    ('dtwrl/GunPoint-v0', 5, 50)
    """
    folder = Path(folder)
    path = folder / ENV_SETTINGS_FILE
    if not path.is_file():
        raise ValueError(f"{str(folder)!r} holds no stored environment ({ENV_SETTINGS_FILE})")
    stored = read_json(path)
    return _settings(stored["env_id"], load_pair_source(folder), stored["env_kwargs"], overrides)


def make_vector_py_env(settings: EnvSettings, num_envs: int, seed: int, pairs: Any = None):
    """The batched TF-Agents environment that training steps.

    Parameters
    ----------
    settings : EnvSettings
    num_envs : int
        Number of alignments stepped together.
    seed : int
        Seeds the vector env's first reset (and so its pair stream).
    pairs : pair source or None
        Replaces ``settings.pairs`` (``AlignerTrainer.set_pairs``).

    Returns
    -------
    envs.tf_agents_adapter.VectorPyEnvironment
        ``batch_size == num_envs``; time steps carry (num_envs, ...) arrays.
    """
    from envs.tf_agents_adapter import VectorPyEnvironment
    from envs.vector import WarpingPathVectorEnv

    source = settings.pairs if pairs is None else as_pair_source(pairs)
    vector_env = WarpingPathVectorEnv(num_envs, pairs=source, **settings.env_kwargs)
    return VectorPyEnvironment(vector_env, seed=seed)
