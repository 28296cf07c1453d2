"""TF-Agents ``PyEnvironment`` adapters for Gymnasium environments (single and vectorised).

tf-agents 0.19 wraps the old ``gym`` package only, so these small adapters
bridge Gymnasium 1.x. Both map

- ``reset`` to a ``FIRST`` time step (reward 0, discount 1);
- a step with ``terminated`` to ``LAST`` with discount 0, with ``truncated``
  (and not terminated) to ``LAST`` with discount 1, otherwise ``MID`` with
  discount 1;

and convert the Gymnasium spaces into specs: ``Box`` and ``MultiBinary`` into
``BoundedArraySpec`` of the same dtype (so ``"action_mask"`` stays int8 inside
the observation dict, ready for a splitter
``lambda obs: ({"window": obs["window"], "position": obs["position"]}, obs["action_mask"])``),
``Discrete(n)`` into an int64 ``BoundedArraySpec`` with bounds [0, n-1], and
``Dict`` into a dict of specs.
"""

import numbers

import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode
from tf_agents.environments import py_environment
from tf_agents.specs import array_spec
from tf_agents.trajectories import time_step as ts


def spec_from_space(space, name):
    """The TF-Agents array spec of a Gymnasium space.

    Parameters
    ----------
    space : gymnasium.spaces.Box, Discrete, MultiBinary or Dict
    name : str
        Spec name (a Dict's entries are named by their keys).

    Returns
    -------
    tf_agents.specs.BoundedArraySpec or dict of them

    Examples
    --------
    >>> spec_from_space(spaces.Discrete(3), "action")
    BoundedArraySpec(shape=(), dtype=dtype('int64'), name='action', minimum=0, maximum=2)
    """
    if isinstance(space, spaces.Dict):
        return {key: spec_from_space(sub, key) for key, sub in space.spaces.items()}
    if isinstance(space, spaces.Box):
        return array_spec.BoundedArraySpec(space.shape, space.dtype, _bound(space.low), _bound(space.high), name=name)
    if isinstance(space, spaces.Discrete):
        low = int(space.start)
        return array_spec.BoundedArraySpec((), np.int64, low, low + int(space.n) - 1, name=name)
    if isinstance(space, spaces.MultiBinary):
        return array_spec.BoundedArraySpec(space.shape, space.dtype, 0, 1, name=name)
    raise TypeError(f"space must be a Box, Discrete, MultiBinary or Dict space; got {type(space).__name__}")


def _bound(values):
    """A Box bound as a scalar when it is uniform (shorter specs), else the array."""
    return values.flat[0].item() if np.all(values == values.flat[0]) else values


def _cast(observation, spec):
    """The observation with every array in its spec's dtype."""
    if isinstance(spec, dict):
        return {key: _cast(observation[key], sub) for key, sub in spec.items()}
    return np.asarray(observation, dtype=spec.dtype)


def _check_seed(seed):
    if seed is not None and (isinstance(seed, (bool, np.bool_)) or not isinstance(seed, numbers.Integral)):
        raise TypeError(f"seed must be None or an int; got {seed!r}")
    return None if seed is None else int(seed)


class _GymnasiumAdapter(py_environment.PyEnvironment):
    """What both adapters share: the wrapped env, its specs, the seed of the next reset, the last info."""

    def __init__(self, env, observation_space, action_space, seed, handle_auto_reset):
        super().__init__(handle_auto_reset=handle_auto_reset)
        self._env = env
        self._seed = _check_seed(seed)
        self._observation_spec = spec_from_space(observation_space, "observation")
        self._action_spec = spec_from_space(action_space, "action")
        self._info = {}

    @property
    def gym_env(self):
        """The wrapped Gymnasium environment (single or vector)."""
        return self._env

    def set_pairs(self, pairs):
        """Draw the pairs of every later reset from ``pairs``: the wrapped env's ``set_pairs``.

        ``pairs`` is anything ``dtwrl.datasets.as_pair_source`` accepts; alignments in flight finish on their pairs.
        """
        self._env.unwrapped.set_pairs(pairs)

    def observation_spec(self):
        return self._observation_spec

    def action_spec(self):
        return self._action_spec

    def seed(self, seed):
        """Seed the next reset; the pair stream follows from it (a vector env's sub-environment k gets seed + k)."""
        self._seed = _check_seed(seed)

    def get_info(self):
        """The Gymnasium ``info`` of the last reset or step."""
        return self._info


class GymnasiumPyEnvironment(_GymnasiumAdapter):
    """A single Gymnasium environment as a TF-Agents ``PyEnvironment``.

    After a ``LAST`` time step, the next ``step`` resets the environment and
    returns ``FIRST`` (its action is ignored), as TF-Agents expects.

    Parameters
    ----------
    env : gymnasium.Env
        With a Box/Discrete/MultiBinary/Dict observation space and a
        Discrete action space (e.g. ``gymnasium.make("dtwrl/GunPoint-v0")``).
    seed : int or None
        Seed of the first reset; later resets continue the environment's
        generator. :meth:`seed` sets the seed of the next reset.

    Examples
    --------
    >>> import gymnasium, envs
    >>> py_env = GymnasiumPyEnvironment(gymnasium.make("dtwrl/GunPoint-v0", window=5), seed=0)
    >>> time_step = py_env.reset()
    >>> int(time_step.step_type), time_step.observation["action_mask"].dtype
    (0, dtype('int8'))
    """

    def __init__(self, env, seed=None):
        if not isinstance(env.action_space, spaces.Discrete):
            raise TypeError(f"env must have a Discrete action space; got {env.action_space}")
        super().__init__(env, env.observation_space, env.action_space, seed, handle_auto_reset=True)

    def _reset(self):
        observation, self._info = self._env.reset(seed=self._seed)
        self._seed = None
        return ts.TimeStep(
            ts.StepType.FIRST,
            np.asarray(0.0, dtype=np.float32),
            np.asarray(1.0, dtype=np.float32),
            _cast(observation, self._observation_spec),
        )

    def _step(self, action):
        observation, reward, terminated, truncated, self._info = self._env.step(int(np.asarray(action)))
        step_type = ts.StepType.LAST if terminated or truncated else ts.StepType.MID
        return ts.TimeStep(
            step_type,
            np.asarray(reward, dtype=np.float32),
            np.asarray(0.0 if terminated else 1.0, dtype=np.float32),
            _cast(observation, self._observation_spec),
        )

    def render(self, mode="rgb_array"):
        if mode != "rgb_array":
            raise ValueError(f"mode must be 'rgb_array'; got {mode!r}")
        return self._env.render()

    def close(self):
        self._env.close()


class VectorPyEnvironment(_GymnasiumAdapter):
    """A Gymnasium ``VectorEnv`` as a batched TF-Agents ``PyEnvironment`` (``batch_size = num_envs``).

    The vector environment must autoreset in ``NEXT_STEP`` mode (as
    ``WarpingPathVectorEnv`` and Gymnasium's ``SyncVectorEnv`` do by default):
    a sub-environment that returned ``LAST`` restarts on the next ``step``,
    which reports it as ``FIRST`` with reward 0 and ignores its action. The
    other sub-environments carry on, so one batch mixes FIRST, MID and LAST.

    Parameters
    ----------
    vector_env : gymnasium.vector.VectorEnv
        E.g. ``gymnasium.make_vec("dtwrl/GunPoint-v0", num_envs=64)``.
    seed : int or None
        Seed of the first reset (sub-environment k gets seed + k).

    Examples
    --------
    >>> import gymnasium, envs
    >>> py_env = VectorPyEnvironment(gymnasium.make_vec("dtwrl/GunPoint-v0", num_envs=4, window=5), seed=0)
    >>> time_step = py_env.reset()
    >>> py_env.batch_size, time_step.step_type.tolist(), time_step.observation["window"].shape
    (4, [0, 0, 0, 0], (4, 5, 5))
    """

    def __init__(self, vector_env, seed=None):
        mode = vector_env.metadata.get("autoreset_mode", AutoresetMode.NEXT_STEP)
        if mode != AutoresetMode.NEXT_STEP:
            raise ValueError(f"vector_env must autoreset in NEXT_STEP mode; its metadata says {mode}")
        if not isinstance(vector_env.single_action_space, spaces.Discrete):
            raise TypeError(f"vector_env must have Discrete single actions; got {vector_env.single_action_space}")
        super().__init__(
            vector_env,
            vector_env.single_observation_space,
            vector_env.single_action_space,
            seed,
            handle_auto_reset=False,
        )
        self._num = int(vector_env.num_envs)
        self._last = np.zeros(self._num, dtype=bool)

    @property
    def batched(self):
        return True

    @property
    def batch_size(self):
        return self._num

    def _reset(self):
        observation, self._info = self._env.reset(seed=self._seed)
        self._seed = None
        self._last[:] = False
        return ts.TimeStep(
            np.full(self._num, ts.StepType.FIRST, dtype=np.int32),
            np.zeros(self._num, dtype=np.float32),
            np.ones(self._num, dtype=np.float32),
            _cast(observation, self._observation_spec),
        )

    def _step(self, action):
        observation, reward, terminated, truncated, self._info = self._env.step(np.asarray(action))
        first = self._last
        last = (terminated | truncated) & ~first
        step_type = np.where(first, ts.StepType.FIRST, np.where(last, ts.StepType.LAST, ts.StepType.MID))
        self._last = last
        return ts.TimeStep(
            step_type.astype(np.int32),
            np.where(first, 0.0, reward).astype(np.float32),
            np.where(terminated & ~first, 0.0, 1.0).astype(np.float32),
            _cast(observation, self._observation_spec),
        )

    def render(self, mode="rgb_array"):
        if mode != "rgb_array":
            raise ValueError(f"mode must be 'rgb_array'; got {mode!r}")
        return np.stack(self._env.render())

    def close(self):
        self._env.close()
