"""Gymnasium environments for building DTW warping paths, and their TF-Agents adapter.

Importing ``envs`` registers ``dtwrl/SyntheticWarp-v0`` and ``dtwrl/GunPoint-v0``;
:func:`register_env` registers ids for your own sequences. ``gymnasium.make(id)``
returns a :class:`WarpingPathEnv`, ``gymnasium.make_vec(id, num_envs=N)`` its
natively batched twin :class:`WarpingPathVectorEnv`. The TF-Agents adapters
(``GymnasiumPyEnvironment``, ``VectorPyEnvironment``) load TensorFlow on first use.

>>> import gymnasium, envs
>>> env = gymnasium.make("dtwrl/GunPoint-v0", window=5)
>>> obs, info = env.reset(seed=0)
>>> sorted(obs)
['action_mask', 'lookahead', 'position', 'window']
"""

from importlib import import_module

from .core import WarpingBatch
from .observation import POSITION_FEATURES, WINDOW_PAD
from .registration import register_env
from .rendering import draw_alignment
from .vector import WarpingPathVectorEnv
from .warping_path_env import WarpingPathEnv, observation_space

_LAZY = {"GymnasiumPyEnvironment": ".tf_agents_adapter", "VectorPyEnvironment": ".tf_agents_adapter"}

__all__ = [
    "POSITION_FEATURES",
    "WINDOW_PAD",
    "GymnasiumPyEnvironment",
    "VectorPyEnvironment",
    "WarpingBatch",
    "WarpingPathEnv",
    "WarpingPathVectorEnv",
    "draw_alignment",
    "observation_space",
    "register_env",
]


def __getattr__(name):
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'envs' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
