"""A collector: steps its batch of warping-path envs with the latest published policy and writes to Reverb.

Each iteration it

1. pulls the learner's latest weights from the variable table (and stops once
   the learner has published ``finished``);
2. steps its ``E`` sub-environments ``collect_steps`` times with PPO's
   stochastic collect policy, one policy call per step for the whole batch
   (as the single-process trainer does);
3. writes one item per sub-environment: its ``collect_steps + 1`` transitions
   (the last one only bootstraps the value, its action slot is padding), i.e.
   exactly one row of the single-process trainer's batch. The item goes
   through TF-Agents' ``ReverbTrajectorySequenceObserver`` (the
   ``ReverbAddTrajectoryObserver`` that does not cut items at episode ends)
   as one step of a length-1 sequence: one Reverb append per item instead of
   one per transition, which made the writer, not the env, the collectors'
   bottleneck (0.3 ms per append and sub-environment);
4. flushes, waiting (with a timeout, so SIGTERM and ``finished`` are
   honoured) while the queue is full.

Counts go to ``<run>/collectors/collector-<id>.json`` after every iteration;
they reconcile exactly: ``collected_env_steps == items_created * collect_steps
+ pending_steps`` (pending: steps of an iteration cut short by a stop).
"""

import time

import numpy as np
import reverb
import tensorflow as tf
from tf_agents.experimental.distributed import reverb_variable_container
from tf_agents.policies import py_tf_eager_policy
from tf_agents.replay_buffers import reverb_utils
from tf_agents.trajectories import time_step as ts
from tf_agents.trajectories import trajectory

from dtwrl.runs import write_json

from ..training import imitation
from ..training.environment import make_vector_py_env
from .specs import EXTRA_KEY, TRAJECTORY_TABLE, VARIABLE_TABLE, build_collect_policy, variable_values


def _shift(array):
    """Values of the next transition along axis 1, the last one repeated (the trainer's convention)."""
    return np.concatenate([array[:, 1:], array[:, -1:]], axis=1)


class _WriterKeepingClient:
    """A ``reverb.Client`` that keeps the trajectory writer it hands out (the observer's).

    TF-Agents' observer flushes its writer without a timeout; the collector
    flushes that same writer with one, so SIGTERM and ``finished`` are honoured
    while the queue is full, without reaching into the observer.
    """

    def __init__(self, client):
        self.client = client
        self.writer = None

    def trajectory_writer(self, *args, **kwargs):
        self.writer = self.client.trajectory_writer(*args, **kwargs)
        return self.writer

    def server_info(self, *args, **kwargs):
        return self.client.server_info(*args, **kwargs)


class Collector:
    """One collector process's state: env, policy, observer and counts.

    Parameters
    ----------
    config : AlignerConfig
    settings : agents.training.environment.EnvSettings
        The run's config and environment (``specs.resolve_run``).
    options : DistributedOptions
        ``collector_id``, ``reverb_address`` and ``collector_envs`` are used.
    stop : StopFlag
    status_path : path-like or None
        Where the counts JSON goes (None: nowhere).
    """

    def __init__(self, config, settings, options, stop, status_path=None):
        self.config = config
        self.id = int(options.collector_id)
        self.num_envs = options.envs_per_collector(config.num_envs)
        self.stop = stop
        self.status_path = status_path
        self.address = options.reverb_address
        tf.random.set_seed(config.seed * 7919 + self.id + 1)
        self.py_env = make_vector_py_env(settings, self.num_envs, seed=config.seed + self.id * self.num_envs)
        policy, self.actor_net = build_collect_policy(config, self.py_env)
        self.policy = py_tf_eager_policy.PyTFEagerPolicy(policy, use_tf_function=True)
        self.client = reverb.Client(self.address)
        self.container = reverb_variable_container.ReverbVariableContainer(self.address, table_names=[VARIABLE_TABLE])
        self._iteration = tf.Variable(0, dtype=tf.int64)
        self._finished = tf.Variable(False)
        self._variables = variable_values(self.actor_net, self._iteration, self._finished)
        self._writer_client = _WriterKeepingClient(self.client)
        self.observer = reverb_utils.ReverbTrajectorySequenceObserver(
            self._writer_client, TRAJECTORY_TABLE, sequence_length=1, stride_length=1
        )
        self.items_created = 0
        self.pending_steps = 0
        self.wait_s = 0.0
        self.collect_s = 0.0
        self.status = "starting"
        self._returns = np.zeros(self.num_envs)
        self._lengths = np.zeros(self.num_envs, dtype=np.int64)

    # ----------------------------------------------------------------- counts
    def counts(self):
        collected = self.items_created * self.config.collect_steps + self.pending_steps
        return {
            "collector": self.id,
            "status": self.status,
            "envs": self.num_envs,
            "policy_iteration": int(self._iteration.numpy()),
            "collected_env_steps": collected,
            "items_created": self.items_created,
            "inserted_env_steps": self.items_created * self.config.collect_steps,
            "pending_steps": self.pending_steps,
            "collect_s": self.collect_s,
            "queue_wait_s": self.wait_s,
            "env_steps_per_second": collected / self.collect_s if self.collect_s else None,
        }

    def write_status(self):
        if self.status_path is not None:
            write_json(self.status_path, self.counts())

    # ------------------------------------------------------------------- loop
    def _sync(self):
        """Pull the published weights; returns False while none is there yet."""
        if self.client.server_info(timeout=30)[VARIABLE_TABLE].current_size == 0:
            return False
        self.container.update(self._variables)
        return True

    def _segment(self, time_step):
        """Step ``collect_steps`` times: ``(items (E, T + 1, ...) Trajectory of arrays, last time step)``."""
        steps = self.config.collect_steps
        time_steps, actions, logits = [time_step], [], []
        extras = {key: [] for key in ("expert_action", "episode_return", "episode_length", "cost_ratio")}
        for _ in range(steps):
            mask = time_step.observation["action_mask"]
            extras["expert_action"].append(imitation.legal_labels(self.py_env.gym_env.expert_actions(), mask))
            action_step = self.policy.action(time_step)
            next_step = self.py_env.step(action_step.action)
            live = time_step.step_type != ts.StepType.LAST
            self._returns = np.where(live, self._returns + next_step.reward, 0.0)
            self._lengths = np.where(live, self._lengths + 1, 0)
            ended = next_step.step_type == ts.StepType.LAST
            info = self.py_env.get_info()
            ratio = np.zeros(self.num_envs)
            if "cost_ratio" in info:
                done = np.asarray(info.get("_cost_ratio", ended), dtype=bool)
                ratio = np.where(done, np.asarray(info["cost_ratio"], dtype=np.float64), 0.0)
            extras["episode_return"].append(self._returns.copy())
            extras["episode_length"].append(self._lengths.copy())
            extras["cost_ratio"].append(ratio)
            actions.append(np.asarray(action_step.action))
            logits.append(np.asarray(action_step.info["dist_params"]["logits"]))
            time_steps.append(next_step)
            time_step = next_step
        # the last transition only bootstraps the value: its action slot is padding that PPO masks out
        actions.append(np.zeros_like(actions[-1]))
        logits.append(np.zeros_like(logits[-1]))
        for values in extras.values():
            values.append(np.zeros_like(values[-1]))
        stack = lambda values, dtype: np.stack(values, axis=1).astype(dtype)  # noqa: E731
        step_type = stack([t.step_type for t in time_steps], np.int32)
        dtwrl_info = {
            "expert_action": stack(extras["expert_action"], np.int64),
            "collector": np.full((self.num_envs, steps + 1), self.id, dtype=np.int32),
            "policy_iteration": np.full((self.num_envs, steps + 1), int(self._iteration.numpy()), dtype=np.int64),
            "episode_return": stack(extras["episode_return"], np.float32),
            "episode_length": stack(extras["episode_length"], np.int32),
            "cost_ratio": stack(extras["cost_ratio"], np.float32),
        }
        items = trajectory.Trajectory(
            step_type=step_type,
            observation={
                key: np.stack([t.observation[key] for t in time_steps], axis=1) for key in time_steps[0].observation
            },
            action=stack(actions, np.int64),
            policy_info={"dist_params": {"logits": stack(logits, np.float32)}, EXTRA_KEY: dtwrl_info},
            next_step_type=_shift(step_type),
            reward=_shift(stack([t.reward for t in time_steps], np.float32)),
            discount=_shift(stack([t.discount for t in time_steps], np.float32)),
        )
        return items, time_step

    def _flush(self):
        """Wait until the server confirmed every item (the queue may be full); False when stopped meanwhile."""
        start = time.perf_counter()
        try:
            while True:
                try:
                    self._writer_client.writer.flush(timeout_ms=1000)  # the observer's own flush has no timeout
                    return True
                except reverb.errors.DeadlineExceededError:  # the queue is full
                    if self.stop.is_set() or (self._sync() and bool(self._finished.numpy())):
                        return False
        finally:
            self.wait_s += time.perf_counter() - start

    def run(self):
        """Collect until the learner publishes ``finished`` or ``stop`` is set; returns the counts."""
        self.status = "waiting for the first policy"
        self.write_status()
        while not self._sync():
            if self.stop.wait(0.5):
                return self._close("stopped")
        time_step = self.py_env.reset()
        self.status = "running"
        while not self.stop.is_set() and not bool(self._finished.numpy()):
            start = time.perf_counter()
            items, time_step = self._segment(time_step)
            for k in range(self.num_envs):
                self.observer(tf.nest.map_structure(lambda array, k=k: array[k], items))
            self.items_created += self.num_envs
            self.collect_s += time.perf_counter() - start
            if not self._flush():
                break
            self.write_status()
            self._sync()
        return self._close("finished" if bool(self._finished.numpy()) else "stopped")

    def _close(self, status):
        self.status = status  # every created item was handed to the writer; unconfirmed ones show in the counts
        self.write_status()
        return self.counts()
