"""The learner: PPO on items sampled from the Reverb queue, publishing weights after every update.

:class:`ReverbLearner` is the single-process ``agents.training.trainer.AlignerTrainer``
with its batch source replaced (its ``make_collector`` hook returns a
:class:`ReverbBatches` instead of the local ``agents.training.collection.Collector``):
each iteration it publishes the current actor to the
variable table, then takes ``num_envs`` items from the trajectory queue through
TF-Agents' ``ReverbReplayBuffer`` (each item is one env's ``collect_steps + 1``
transitions, sampled exactly once) and stacks them into the same
``(num_envs, collect_steps + 1)`` batch the single-process trainer collects
itself. Everything else is the trainer's own code: the behavioural-cloning
warm start, the critic warm-up, the ``PPOClipAgent`` update, the DAgger anchor
(on the expert labels the collectors stored), evaluation against exact DTW and
FastDTW (``agents.training.policy_evaluation``), ``keep_best``, the ``Checkpointer``,
the ``PolicySaver`` policy and the TensorBoard tags (``agents.training.summaries``).
So at equal env steps the two trainers differ only in where the batch comes
from (and in its policy lag, logged as ``charts/policy_lag``).
"""

import os
import threading
import time
from collections import Counter, deque

import numpy as np
import reverb
import tensorflow as tf
from tf_agents.experimental.distributed import reverb_variable_container
from tf_agents.replay_buffers import reverb_replay_buffer
from tf_agents.specs import tensor_spec
from tf_agents.trajectories import time_step as ts

from dtwrl.runs import read_json

from ..training.collection import EpisodeStats
from ..training.config import AlignerConfig
from ..training.trainer import AlignerTrainer, run_training
from .signals import EXIT_SERVER_LOST
from .specs import EXTRA_KEY, EXTRA_SPEC, TRAJECTORY_TABLE, VARIABLE_TABLE, strip_extras, variable_values


class ServerLostError(RuntimeError):
    """The Reverb server stopped answering; the learner saved a checkpoint and the run can resume."""


class LearnerStopped(Exception):
    """SIGTERM/Ctrl-C arrived while the learner waited for trajectories."""


def _check_signature(client, expected, sequence_length):
    """ValueError unless the server's trajectory table holds items of ``expected`` (the learner's agent)."""
    signature = client.server_info(timeout=30)[TRAJECTORY_TABLE].signature
    want = tf.nest.map_structure(lambda s: (tuple([1, sequence_length, *s.shape]), s.dtype), expected)
    try:
        got = tf.nest.map_structure(lambda s: (tuple(s.shape), s.dtype), signature)
        tf.nest.assert_same_structure(want, got)
        same = tf.nest.flatten(want) == tf.nest.flatten(got)
    except (ValueError, TypeError):
        same = False
    if not same:
        raise ValueError(
            "the Reverb server's trajectory table does not hold this learner's items; start server, collectors and "
            "learner with the same env_id, num_envs, collect_steps, window, hidden and cost_floor"
        )


class ReverbBatches:
    """The learner's collection phase: batches of queued items, with the interface of the trainer's collection.

    ``run(steps)`` returns ``(experience, visited)`` exactly as the
    single-process ``agents.training.collection.Collector.run`` does;
    ``episodes.result()`` and ``train_ratios`` hold the collectors' finished
    episodes seen in the batches. Before each batch it calls ``before_batch()`` (the learner
    publishes its weights there).

    Parameters
    ----------
    address : str
        ``host:port`` of the Reverb server.
    data_spec : Trajectory spec
        The agent's ``collect_data_spec`` with the ``"dtwrl"`` extras (``specs.item_spec``).
    config : AlignerConfig
    stop : StopFlag
    stall_timeout_s : float
    label_expert_moves : bool
        Return the visited states and their expert labels (the DAgger anchor).
    before_batch : callable
    iteration : callable
        ``iteration() -> int``: the learner's iteration (for the policy lag).
    """

    def __init__(self, address, data_spec, config, stop, stall_timeout_s, label_expert_moves, before_batch, iteration):
        self.address, self.config, self.stop, self.stall_timeout_s = address, config, stop, stall_timeout_s
        self.label_expert_moves, self.before_batch, self.iteration = label_expert_moves, before_batch, iteration
        self.client = reverb.Client(address)
        _check_signature(self.client, data_spec, config.collect_steps + 1)
        self.replay = reverb_replay_buffer.ReverbReplayBuffer(  # items are length-1 sequences of whole segments
            tensor_spec.add_outer_dim(data_spec, config.collect_steps + 1),
            sequence_length=1,
            table_name=TRAJECTORY_TABLE,
            server_address=address,
            max_cycle_length=1,
            rate_limiter_timeout_ms=1000,
            dataset_buffer_size=1,
        )
        self._iterator = None
        self.episodes = EpisodeStats(config.num_envs, buffer=config.num_envs)
        self.train_ratios = deque(maxlen=config.num_envs)
        self.items_sampled = 0  # items taken off the queue by this process
        self.items_delivered = 0  # items in complete batches handed to the trainer
        self.consumed_by_collector = Counter()
        self.wait_s = 0.0
        self.policy_lag = 0.0
        self.waiting = False  # inside a blocking read of the queue (the learner's state is an iteration's end)

    def _next_item(self):
        waited = time.perf_counter()
        while True:
            if self.stop.is_set():
                raise LearnerStopped(self.stop.reason)
            if self._iterator is None:
                self._iterator = iter(self.replay.as_dataset(sample_batch_size=None))
            try:
                self.waiting = True
                item, _ = next(self._iterator)
                return item
            except (tf.errors.OutOfRangeError, tf.errors.DeadlineExceededError, StopIteration):
                self._iterator = None  # the 1 s rate-limiter timeout: nothing queued yet (or no server)
                self.raise_if_server_lost()
            except tf.errors.OpError as err:
                self._iterator = None
                self.raise_if_server_lost(err)
            finally:
                self.waiting = False
            if time.perf_counter() - waited > self.stall_timeout_s:
                raise RuntimeError(
                    f"no trajectory arrived for {self.stall_timeout_s:.0f} s (stall_timeout_s); are the "
                    f"collectors running against {self.address}? The last checkpoint is kept; restart to resume."
                )

    def server_lost(self):
        """A ``ServerLostError`` (saying what to do) when the server does not answer within 5 s, else None."""
        try:
            self.client.server_info(timeout=5)
        except Exception as lost:  # noqa: BLE001 - any failure to answer means the server is gone
            return ServerLostError(
                f"the Reverb server at {self.address} is gone ({type(lost).__name__}: {str(lost).splitlines()[0]}). "
                f"The learner saved a checkpoint at iteration {self.iteration()}; start a server and run the same "
                f"command again (same run_name) to resume."
            )
        return None

    def raise_if_server_lost(self, err=None):
        lost = self.server_lost()
        if lost is not None:
            raise lost from err

    def run(self, steps):
        """``num_envs`` queued items as ``(experience (N, steps + 1, ...) tensors, visited or None)``."""
        if steps != self.config.collect_steps:
            raise ValueError(f"steps must be the items' collect_steps ({self.config.collect_steps}); got {steps}")
        try:
            self.before_batch()
        except tf.errors.OpError as err:
            self.raise_if_server_lost(err)
            raise
        start = time.perf_counter()
        items = []
        for _ in range(self.config.num_envs):
            items.append(self._next_item())
            self.items_sampled += 1
        self.wait_s += time.perf_counter() - start
        batch = tf.nest.map_structure(lambda *parts: np.concatenate([p.numpy() for p in parts]), *items)
        experience, extras = strip_extras(batch)
        self._account(experience, extras)
        self.items_delivered += len(items)
        visited = None
        if self.label_expert_moves:
            keep = (experience.step_type[:, :-1] != ts.StepType.LAST).reshape(-1)
            visited = {
                key: value[:, :-1].reshape((-1,) + value.shape[2:])[keep]
                for key, value in experience.observation.items()
            }
            visited["expert_action"] = extras["expert_action"][:, :-1].reshape(-1)[keep]
        return tf.nest.map_structure(tf.convert_to_tensor, experience), visited

    def _account(self, experience, extras):
        """Per-collector counts, policy lag and the collectors' finished episodes (first T transitions only)."""
        for collector, count in zip(*np.unique(extras["collector"][:, 0], return_counts=True)):
            self.consumed_by_collector[int(collector)] += int(count)
        self.policy_lag = float(np.mean(self.iteration() - extras["policy_iteration"][:, 0]))
        ended = ((experience.next_step_type == ts.StepType.LAST) & (experience.step_type != ts.StepType.LAST))[:, :-1]
        self.episodes.done_returns.extend(extras["episode_return"][:, :-1][ended])
        self.episodes.done_lengths.extend(extras["episode_length"][:, :-1][ended])
        self.train_ratios.extend(extras["cost_ratio"][:, :-1][ended].astype(np.float64))

    def log(self, step):
        """TensorBoard: the policy lag and the items consumed per collector (call inside a writer)."""
        tf.summary.scalar("charts/policy_lag", self.policy_lag, step=step)
        for collector, count in sorted(self.consumed_by_collector.items()):
            tf.summary.scalar(f"charts/items_consumed/collector_{collector}", count, step=step)


class ReverbLearner(AlignerTrainer):
    """``AlignerTrainer`` whose batch source (:meth:`make_collector`) is :class:`ReverbBatches`.

    Parameters
    ----------
    config : AlignerConfig
        Resolved (``specs.resolve_run``); its run folder is created or resumed as the trainer's.
    options : DistributedOptions
        ``reverb_address`` and ``stall_timeout_s`` are used.
    stop : StopFlag

    Attributes
    ----------
    collector : ReverbBatches
    container : ReverbVariableContainer
        Where the actor is published.
    sessions : int
        Learner sessions of this run, this one included (a restart resumes and counts one more).

    Examples
    --------
    >>> learner = ReverbLearner(config, options, StopFlag())   # doctest: +SKIP
    >>> learner.train(); learner.save_policy(); learner.publish(finished=True)   # doctest: +SKIP
    """

    def __init__(self, config: AlignerConfig, options, stop):
        self.address = options.reverb_address
        self._options, self._stop = options, stop  # read by make_collector, which the trainer's __init__ calls
        self._published = None
        self.iteration_s = []  # wall time of each iteration of this session (waiting for items included)
        super().__init__(config)
        # after the trainer's set-up (and the replay buffer's Reverb client): made before it, the container's TF
        # client resource was gone at the first push (NotFoundError)
        self.container = reverb_variable_container.ReverbVariableContainer(self.address, table_names=[VARIABLE_TABLE])
        self._published_iteration = tf.Variable(0, dtype=tf.int64)
        self._finished = tf.Variable(False)
        previous = self.run_dir / "metrics.json"
        sessions = read_json(previous).get("final", {}).get("learner_sessions", 0) if previous.is_file() else 0
        self.sessions = (sessions if self.resumed else 0) + 1
        if self.completed is None:  # a finished run's metrics.json stays as it is
            self.write_metrics(status="running")  # the session count survives a SIGKILL before the first evaluation

    def make_collector(self) -> ReverbBatches:
        """Batches of ``num_envs`` items from the Reverb queue, the actor published before each one."""
        spec = self.agent.collect_data_spec
        spec = spec._replace(policy_info={**spec.policy_info, EXTRA_KEY: dict(EXTRA_SPEC)})
        return ReverbBatches(
            self.address,
            spec,
            self.config,
            self._stop,
            self._options.stall_timeout_s,
            label_expert_moves=self.dagger_steps > 0,
            before_batch=self._publish_live,
            iteration=lambda: self.iteration,
        )

    def publish(self, finished: bool = False) -> None:
        """Push the live actor, the iteration and ``finished`` to the variable table."""
        self._published_iteration.assign(self.iteration)
        self._finished.assign(bool(finished))
        self.container.push(variable_values(self.parts.actor_net, self._published_iteration, self._finished))
        self._published = (self.iteration, bool(finished))

    def _publish_live(self):
        if self._published != (self.iteration, False):
            self.publish()

    def _iterate(self) -> None:
        """The trainer's iteration (its batch from the queue), then the queue's own charts."""
        start = time.perf_counter()
        super()._iterate()
        self.iteration_s.append(time.perf_counter() - start)
        with self.summaries.writer.as_default():
            self.collector.log(self.env_steps)

    def write_metrics(self, status: str, error: str | None = None) -> None:
        """The trainer's ``metrics.json``, with this session's queue counts (:meth:`counts`) in ``final``."""
        self.last_metrics.update(self.counts())
        super().write_metrics(status, error=error)

    def save_checkpoint(self) -> None:
        """Checkpoint the last complete iteration (agent, optimizers, counters, best actor)."""
        self.checkpointer.save(global_step=self.env_steps)

    def counts(self) -> dict:
        """This learner session's counts (items are ``collect_steps`` env steps each)."""
        batches = self.collector
        return {
            "learner_sessions": self.sessions,
            "items_sampled": batches.items_sampled,
            "items_trained": batches.items_delivered,
            "trained_env_steps_this_session": batches.items_delivered * self.config.collect_steps,
            "items_consumed_by_collector": {str(k): v for k, v in sorted(batches.consumed_by_collector.items())},
            "queue_wait_s": batches.wait_s,
            "policy_lag": batches.policy_lag,
            # steady state: the first iteration also waits for the collectors to start
            "median_iteration_steps_per_second": (
                self.config.steps_per_iteration / float(np.median(self.iteration_s[1:]))
                if len(self.iteration_s) > 1
                else None
            ),
        }


def _watch_server(learner, lock, interval_s=5.0):
    """Daemon thread: end the process when the server is gone while the learner blocks on the queue.

    A read of the queue blocks for good once its server is dead (Reverb retries the connection), so the main
    thread cannot notice; it is then at the end of an iteration, a consistent state to checkpoint.
    """
    misses = 0
    while True:
        time.sleep(interval_s)
        lost = learner.collector.server_lost()
        misses = misses + 1 if lost is not None else 0
        if misses >= 2 and learner.collector.waiting and lock.acquire(blocking=False):
            _save_on_exit(learner, "server_lost", lost)
            print(f"error: {lost}", flush=True)
            os._exit(EXIT_SERVER_LOST)


def _save_on_exit(learner, status, error):
    learner.save_checkpoint()
    learner.write_metrics(status=status, error=str(error))


def run_learner(config, options, stop):
    """Train until the budget is spent; then save the policy and publish ``finished``.

    On SIGTERM/Ctrl-C, or when the server is lost, the learner checkpoints its
    last complete iteration and writes ``metrics.json`` with status
    ``stopped``/``server_lost``; running it again with the same ``run_name``
    resumes from there.

    Returns
    -------
    run_dir, metrics
    """
    learner = ReverbLearner(config, options, stop)
    if learner.resumed:
        print(
            f"learner: resumed from the checkpoint at iteration {learner.iteration} "
            f"({learner.env_steps} env steps), session {learner.sessions}",
            flush=True,
        )
    lock = threading.Lock()  # whoever handles a lost server first: the main thread or the watchdog
    threading.Thread(target=_watch_server, args=(learner, lock), daemon=True).start()
    try:
        run_dir, metrics = run_training(learner)  # train, save the policy, metrics.json "completed"
    except (LearnerStopped, ServerLostError) as err:
        lock.acquire()
        _save_on_exit(learner, "stopped" if isinstance(err, LearnerStopped) else "server_lost", err)
        raise
    try:
        learner.publish(finished=True)
    except Exception as err:  # noqa: BLE001 - the run is complete and saved; collectors then stop with the server
        print(f"warning: could not publish 'finished' to {learner.address}: {err}", flush=True)
    return run_dir, metrics
