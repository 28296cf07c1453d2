"""A collector: steps its batch of warping-path envs with the latest published policy and writes to Reverb.

Each iteration it

1. pulls the learner's latest weights from the variable table (and stops once
   the learner has published ``finished``);
2. steps its ``E`` sub-environments ``collect_steps`` times with PPO's
   stochastic collect policy, one policy call per step for the whole batch
   (as the single-process trainer does);
3. hands each sub-environment's transitions to its own TF-Agents
   ``ReverbTrajectorySequenceObserver`` (the ``ReverbAddTrajectoryObserver``
   that does not cut items at episode ends), which writes one item of
   ``collect_steps + 1`` transitions every ``collect_steps`` steps, so the
   items are exactly the rows of the single-process trainer's batch;
4. flushes, waiting (with a timeout, so SIGTERM is honoured) while the queue
   is full.

Counts (``collected_env_steps``, ``items_created``, ``pending_steps``) go to
``<run>/collectors/collector-<id>.json`` after every iteration; they reconcile
exactly: ``collected_env_steps == items_created * collect_steps + pending_steps``.
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

from .. import imitation
from .specs import EXTRA_KEY, TRAJECTORY_TABLE, VARIABLE_TABLE, build_collect_policy, make_py_env, variable_values


class Collector:
    """One collector process's state: env, policy, observers and counts.

    Parameters
    ----------
    config : AlignerConfig
        The run's config (resolved, see ``specs.resolve_config``).
    options : DistributedOptions
        ``collector_id``, ``reverb_address`` and ``collector_envs`` are used.
    stop : StopFlag
    status_path : path-like or None
        Where the counts JSON goes (None: nowhere).
    """

    def __init__(self, config, options, stop, status_path=None):
        self.config = config
        self.id = int(options.collector_id)
        self.num_envs = options.envs_per_collector(config.num_envs)
        self.stop = stop
        self.status_path = status_path
        self.address = options.reverb_address
        tf.random.set_seed(config.seed * 7919 + self.id + 1)
        self.py_env = make_py_env(config, self.num_envs, seed=config.seed + self.id * self.num_envs)
        policy, self.actor_net = build_collect_policy(config, self.py_env)
        self.policy = py_tf_eager_policy.PyTFEagerPolicy(policy, use_tf_function=True)
        self.client = reverb.Client(self.address)
        self.container = reverb_variable_container.ReverbVariableContainer(self.address, table_names=[VARIABLE_TABLE])
        self._iteration = tf.Variable(0, dtype=tf.int64)
        self._finished = tf.Variable(False)
        self._variables = variable_values(self.actor_net, self._iteration, self._finished)
        steps = config.collect_steps
        self.observers = [
            reverb_utils.ReverbTrajectorySequenceObserver(
                self.client, TRAJECTORY_TABLE, sequence_length=steps + 1, stride_length=steps)
            for _ in range(self.num_envs)
        ]
        self.records = 0  # transitions per sub-env
        self.wait_s = 0.0
        self.collect_s = 0.0
        self.status = "starting"
        self._returns = np.zeros(self.num_envs)
        self._lengths = np.zeros(self.num_envs, dtype=np.int64)

    # ----------------------------------------------------------------- counts
    @property
    def items_created(self):
        """Items handed to the writers: one per ``collect_steps`` transitions after the first ``collect_steps + 1``."""
        return self.num_envs * max(0, (self.records - 1) // self.config.collect_steps)

    def counts(self):
        collected = self.records * self.num_envs
        inserted_steps = self.items_created * self.config.collect_steps
        return {
            "collector": self.id,
            "status": self.status,
            "envs": self.num_envs,
            "policy_iteration": int(self._iteration.numpy()),
            "collected_env_steps": collected,
            "items_created": self.items_created,
            "inserted_env_steps": inserted_steps,
            "pending_steps": collected - inserted_steps,
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

    def _extras(self, expert, next_step, info):
        """The ``"dtwrl"`` policy-info dict of one batch of transitions (after the step)."""
        ended = next_step.step_type == ts.StepType.LAST
        ratio = np.zeros(self.num_envs, dtype=np.float32)
        if "cost_ratio" in info:
            done = np.asarray(info.get("_cost_ratio", ended), dtype=bool)
            ratio = np.where(done, np.asarray(info["cost_ratio"], dtype=np.float32), 0.0).astype(np.float32)
        return {
            "expert_action": expert,
            "collector": np.full(self.num_envs, self.id, dtype=np.int32),
            "policy_iteration": np.full(self.num_envs, int(self._iteration.numpy()), dtype=np.int64),
            "episode_return": self._returns.astype(np.float32),
            "episode_length": self._lengths.astype(np.int32),
            "cost_ratio": ratio,
        }

    def _step(self, time_step):
        mask = time_step.observation["action_mask"]
        expert = imitation.legal_labels(self.py_env.gym_env.expert_actions(), mask)
        action_step = self.policy.action(time_step)
        next_step = self.py_env.step(action_step.action)
        live = time_step.step_type != ts.StepType.LAST
        self._returns = np.where(live, self._returns + next_step.reward, 0.0)
        self._lengths = np.where(live, self._lengths + 1, 0)
        info = {**action_step.info, EXTRA_KEY: self._extras(expert, next_step, self.py_env.get_info())}
        traj = trajectory.from_transition(time_step, action_step._replace(info=info), next_step)
        for k, observer in enumerate(self.observers):
            observer(tf.nest.map_structure(lambda array: array[k], traj))
        self.records += 1
        return next_step

    def _flush(self):
        """Wait until the server confirmed every item (the queue may be full); False when stopped meanwhile."""
        start = time.perf_counter()
        try:
            for observer in self.observers:
                while True:
                    try:
                        observer._get_writer().flush(timeout_ms=1000)
                        break
                    except reverb.errors.DeadlineExceededError:  # the queue is full
                        if self.stop.is_set() or (self._sync() and bool(self._finished.numpy())):
                            return False
        finally:
            self.wait_s += time.perf_counter() - start
        return True

    def run(self):
        """Collect until the learner publishes ``finished`` or ``stop`` is set; returns the counts."""
        self.status = "waiting for the first policy"
        self.write_status()
        while not self._sync():
            if self.stop.wait(0.5):
                return self._close("stopped")
        time_step = self.py_env.reset()
        self.status = "running"
        while not self.stop.is_set():
            if bool(self._finished.numpy()):
                return self._close("finished")
            start = time.perf_counter()
            for _ in range(self.config.collect_steps):
                time_step = self._step(time_step)
            self.collect_s += time.perf_counter() - start
            if not self._flush():
                break
            self.write_status()
            self._sync()
        return self._close("finished" if bool(self._finished.numpy()) else "stopped")

    def _close(self, status):
        self.status = status  # every created item was flushed at the end of its iteration
        self.write_status()
        return self.counts()
