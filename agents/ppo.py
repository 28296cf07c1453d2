"""PPO training of a warping-path policy: config, trainer and ``train_aligner``.

The loop, in the spirit of TF-Agents' ``train_eval``:

1. *optional* behavioural cloning (``bc_warmstart``): the actor imitates exact
   DTW moves on detoured expert rollouts (:mod:`agents.imitation`), with its
   own budget ``bc_env_steps``;
2. per iteration, ``num_envs`` alignments advance ``collect_steps`` steps in
   the vectorised env (``gymnasium.make_vec`` + the batched TF-Agents adapter),
   with one policy call per step for the whole batch;
3. ``PPOClipAgent.train`` on that ``(num_envs, collect_steps + 1)`` batch of
   trajectories (GAE, ``num_epochs`` full-batch epochs);
4. every ``eval_interval`` iterations the greedy policy aligns a fixed held-out
   set; cost ratios vs exact DTW and FastDTW go to TensorBoard;
5. every ``checkpoint_interval`` iterations a ``tf_agents`` ``Checkpointer``
   saves agent, optimizer and counters; a restart resumes from it.

At the end the greedy policy is saved with ``PolicySaver`` under ``policy/``.

Run folder ``results/aligner/<run-name>/``::

    config.json     the AlignerConfig
    metrics.json    final metrics and the evaluation history
    tb/             TensorBoard events
    checkpoints/    tf_agents Checkpointer
    policy/         PolicySaver output + dtwrl_env.json (WarpingBatch arguments)
    figures/        the final evaluation alignment

>>> from agents import AlignerConfig, train_aligner
>>> run_dir, metrics = train_aligner(AlignerConfig(total_env_steps=50_000))  # doctest: +SKIP
"""
import dataclasses
import json
import math
import os
import time
from collections import deque
from datetime import datetime
from pathlib import Path

import numpy as np
import tensorflow as tf
from tf_agents.agents.ppo import ppo_clip_agent
from tf_agents.policies import policy_saver
from tf_agents.specs import tensor_spec
from tf_agents.trajectories import time_step as ts
from tf_agents.trajectories import trajectory
from tf_agents.utils import common

from . import imitation
from .environment import env_settings, make_vector_py_env
from .evaluation import alignment_image, make_eval_set, ratio_stats, _safe_ratio
from .networks import build_networks
from .policy_aligner import ENV_FILE, PRETRAINED, NumpyActor, rollout_paths, time_step_from_observation


def _field(default, help, factory=False):
    """A dataclass field with a ``help`` line (read by ``experiments.common.parse_args``)."""
    if factory:
        return dataclasses.field(default_factory=lambda: default, metadata={"help": help})
    return dataclasses.field(default=default, metadata={"help": help})


class TrainingDivergedError(FloatingPointError):
    """Raised when a loss or a weight becomes NaN or inf; the last good checkpoint is kept."""


@dataclasses.dataclass
class AlignerConfig:
    """Everything that defines an aligner training run (written to ``config.json``).

    The defaults were tuned on ``dtwrl/SyntheticWarp-v0`` on 2 shared CPU cores:
    behavioural cloning on 1 M expert-labelled states (6 epochs), then 1 M PPO
    env steps (64 envs x 64 steps per iteration) whose first 10 iterations
    train only the critic, with 4 DAgger cloning steps after each PPO update,
    ``discount=0.95``, ``gae_lambda=0.9`` and per-pair reward scaling. The
    saved policy is the best one on the validation set (``keep_best``).
    ``bc_warmstart=False`` gives a pure PPO run with the same PPO settings.

    Every field has a ``help`` line in its metadata; ``experiments/train_aligner.py``
    turns them into command-line options.
    """

    env_id: str = _field("dtwrl/SyntheticWarp-v0", 'Registered environment id (see envs.register_env).')
    seed: int = _field(1, "Seeds TensorFlow, NumPy and the training env's pair stream.")
    num_envs: int = _field(64, 'Alignments stepped together (batch of each policy call).')
    total_env_steps: int = _field(1_000_000, 'PPO budget in env steps (rounded up to whole iterations); BC has its own.')
    collect_steps: int = _field(64, 'Steps per env per iteration; an iteration collects num_envs * collect_steps transitions.')
    window: int | None = _field(None, "Observation window k (k x k local costs); None keeps the env's registered value.")
    reward_scale: str | float = _field("pair", "Env reward scale: 'pair' divides each pair's costs by its mean band cost (the scale the window is normalised by, so the critic can predict returns); a number multiplies them.")
    learning_rate: float = _field(3e-4, 'Adam learning rate of PPO.')
    hidden: tuple[int, ...] = _field((128, 128), 'Hidden layer sizes of the actor and the critic MLPs.', factory=True)
    cost_floor: float = _field(1e-3, 'Added to the window values before their log in the networks.')
    num_epochs: int = _field(4, 'PPO epochs (full-batch gradient steps) per iteration.')
    entropy: float = _field(0.0, 'Entropy regularisation coefficient.')
    clip_ratio: float = _field(0.2, 'PPO importance-ratio clipping epsilon.')
    discount: float = _field(0.95, 'Discount factor; < 1 keeps the critic local (a move mostly pays within a few cells), 1 makes the return exactly minus the path cost.')
    gae_lambda: float = _field(0.9, 'GAE lambda.')
    normalize_rewards: bool = _field(False, "Divide rewards by their running standard deviation (TF-Agents' reward normaliser); off by default because reward_scale='pair' already normalises.")
    gradient_clipping: float = _field(0.5, 'Global-norm gradient clipping (0 disables it).')
    bc_warmstart: bool = _field(True, 'Warm-start the actor by behavioural cloning of exact DTW moves (False: PPO only).')
    bc_env_steps: int = _field(1_000_000, 'BC budget: labelled states from detoured expert rollouts.')
    bc_detour: float = _field(0.2, 'Probability of a random legal move in the BC rollouts.')
    bc_epochs: int = _field(6, 'Supervised epochs over the BC data.')
    bc_batch_size: int = _field(1024, 'BC minibatch size.')
    bc_learning_rate: float = _field(1e-3, 'Adam learning rate of BC.')
    dagger_steps: int = _field(4, 'With bc_warmstart: after each PPO update, this many cloning minibatches on the states the policy visited, labelled with the expert move (a DAgger-style anchor); 0 leaves PPO alone.')
    critic_warmup_iterations: int = _field(10, 'After BC (or init_from), the first PPO iterations train only the critic, so the cloned actor is not pushed around by a random value baseline.')
    keep_best: bool = _field(True, 'Save the actor with the best validation (eval set) cost ratio seen rather than the last one.')
    eval_pairs: int = _field(64, 'Size of the fixed held-out evaluation set.')
    eval_seed: int = _field(20261126, 'Seed of the evaluation pairs (never used for training).')
    eval_interval: int = _field(20, 'Evaluate every this many iterations (and at the end).')
    checkpoint_interval: int = _field(20, 'Checkpoint every this many iterations (and at the end).')
    out_dir: str = _field("results/aligner", 'Parent folder of run folders.')
    run_name: str | None = _field(None, 'Run folder name; None: {env}__{exp_name}__{seed}__{time}. Reuse a name to resume that run.')
    exp_name: str = _field("ppo", 'Experiment label in the run name.')
    init_from: str | None = _field(None, "A previous run folder to start from (networks and reward normaliser), an actor .npz file, or 'pretrained' (the package's general aligner; the critic starts fresh); its window, hidden, cost_floor (and lookahead) are used. Ignored when this run resumes.")

    def __post_init__(self):
        self.hidden = tuple(int(h) for h in (self.hidden if not isinstance(self.hidden, int) else (self.hidden,)))
        positive = ["num_envs", "total_env_steps", "collect_steps", "num_epochs", "eval_pairs", "eval_interval",
                    "checkpoint_interval", "bc_epochs", "bc_batch_size"]
        for name in positive:
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be >= 1; got {getattr(self, name)}")
        if int(self.dagger_steps) < 0:
            raise ValueError(f"dagger_steps must be >= 0; got {self.dagger_steps}")
        if int(self.critic_warmup_iterations) < 0:
            raise ValueError(f"critic_warmup_iterations must be >= 0; got {self.critic_warmup_iterations}")
        if self.collect_steps < 2:
            raise ValueError(f"collect_steps must be >= 2 (PPO bootstraps from the last step); got {self.collect_steps}")
        if self.window is not None and int(self.window) < 2:
            raise ValueError(f"window must be None or >= 2; got {self.window}")
        if not self.learning_rate > 0:
            raise ValueError(f"learning_rate must be > 0; got {self.learning_rate}")
        if not 0 < self.discount <= 1:
            raise ValueError(f"discount must be in (0, 1]; got {self.discount}")
        if not 0 <= self.gae_lambda <= 1:
            raise ValueError(f"gae_lambda must be in [0, 1]; got {self.gae_lambda}")
        if self.bc_warmstart and int(self.bc_env_steps) < 1:
            raise ValueError(f"bc_env_steps must be >= 1 when bc_warmstart is on; got {self.bc_env_steps}")
        if not self.hidden or min(self.hidden) < 1:
            raise ValueError(f"hidden must be positive layer sizes; got {self.hidden}")

    @property
    def steps_per_iteration(self):
        """Env steps collected per PPO iteration."""
        return self.num_envs * self.collect_steps

    @property
    def num_iterations(self):
        """PPO iterations that cover ``total_env_steps``."""
        return math.ceil(self.total_env_steps / self.steps_per_iteration)

    def to_dict(self):
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values):
        """Build from a dict (e.g. config.json); unknown keys raise ValueError."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - names)
        if unknown:
            raise ValueError(f"unknown AlignerConfig fields: {unknown}")
        return cls(**values)


def _actor_file(init_from):
    """The actor file ``init_from`` names ('pretrained' or a ``.npz`` path), or None for a run folder."""
    if str(init_from) == "pretrained":
        return PRETRAINED
    return Path(init_from) if str(init_from).endswith(".npz") else None


def default_run_name(env_id, exp_name, seed):
    """``{env}__{exp}__{seed}__{time}`` with the env id made path-safe (``dtwrl/X-v0`` -> ``X-v0``)."""
    env = env_id.split("/")[-1]
    return f"{env}__{exp_name}__{seed}__{datetime.now().strftime('%Y%m%d-%H%M%S')}"


class _EpisodeStats:
    """Average return and length of the last ``buffer`` finished episodes (like TF-Agents' metrics)."""

    def __init__(self, num_envs, buffer):
        self.returns = np.zeros(num_envs)
        self.lengths = np.zeros(num_envs, dtype=np.int64)
        self.done_returns = deque(maxlen=buffer)
        self.done_lengths = deque(maxlen=buffer)

    def update(self, step_type, reward, next_step_type):
        live = step_type != ts.StepType.LAST
        self.returns += np.where(live, reward, 0.0)
        self.lengths += live
        ended = next_step_type == ts.StepType.LAST
        if ended.any():
            self.done_returns.extend(self.returns[ended])
            self.done_lengths.extend(self.lengths[ended])
            self.returns[ended] = 0.0
            self.lengths[ended] = 0

    def result(self):
        if not self.done_returns:
            return None
        return float(np.mean(self.done_returns)), float(np.mean(self.done_lengths))


class AlignerTrainer:
    """Build once, then ``train()``: PPO (optionally BC-warm-started) on a registered env.

    Parameters
    ----------
    config : AlignerConfig

    Attributes
    ----------
    run_dir : pathlib.Path
    agent : PPOClipAgent
    env_steps : int
        PPO env steps done so far (restored on resume).
    history : list of dict
        Evaluation rows so far.

    Examples
    --------
    >>> trainer = AlignerTrainer(AlignerConfig(total_env_steps=100_000))  # doctest: +SKIP
    >>> trainer.train()                              # the whole budget      # doctest: +SKIP
    >>> trainer.set_pairs(model_prediction_pairs)    # new training pairs    # doctest: +SKIP
    >>> trainer.train(num_iterations=5)              # fine-tune             # doctest: +SKIP
    >>> trainer.save_policy()                                                # doctest: +SKIP
    """

    def __init__(self, config):
        if not isinstance(config, AlignerConfig):
            raise TypeError(f"config must be an AlignerConfig; got {type(config).__name__}")
        self.config = config
        self._lookahead = None  # set when init_from is an actor file: the observation it reads
        if config.run_name is None:
            config.run_name = default_run_name(config.env_id, config.exp_name, config.seed)
        self.run_dir = Path(config.out_dir) / config.run_name
        self.checkpoint_dir = self.run_dir / "checkpoints"
        resuming = self.checkpoint_dir.is_dir() and tf.train.latest_checkpoint(str(self.checkpoint_dir)) is not None
        if config.init_from is not None:
            self._adopt_network_settings(Path(config.init_from))
        self.run_dir.mkdir(parents=True, exist_ok=True)
        (self.run_dir / "figures").mkdir(exist_ok=True)
        self._write_config(resuming)

        tf.random.set_seed(config.seed)
        np.random.seed(config.seed)
        self._rng = np.random.default_rng(config.seed)
        self.settings = env_settings(config.env_id, **self._env_overrides())
        self.py_env = make_vector_py_env(config.env_id, config.num_envs, config.seed, **self._env_overrides())
        self._check_batch_size()
        self.agent = self._build_agent()
        self._env_steps = tf.Variable(0, dtype=tf.int64, name="env_steps")
        self._iteration = tf.Variable(0, dtype=tf.int64, name="iteration")
        self._bc_done = tf.Variable(False, name="bc_done")
        # the actor with the best validation ratio so far (keep_best)
        self._best_actor = self.agent._actor_net.copy(name="BestActor")
        self._best_actor.create_variables(self.agent.time_step_spec.observation)
        self._best_ratio = tf.Variable(np.inf, dtype=tf.float64, name="best_ratio")
        self._best_env_steps = tf.Variable(-1, dtype=tf.int64, name="best_env_steps")
        self.cloner = imitation.Cloner(self.agent._actor_net, config.bc_learning_rate) if config.bc_warmstart else None
        extra = {"bc_optimizer": self.cloner.optimizer} if self.cloner is not None else {}
        self.checkpointer = common.Checkpointer(
            ckpt_dir=str(self.checkpoint_dir),
            max_to_keep=2,
            agent=self.agent,
            env_steps=self._env_steps,
            iteration=self._iteration,
            bc_done=self._bc_done,
            best_actor=self._best_actor,
            best_ratio=self._best_ratio,
            best_env_steps=self._best_env_steps,
            **extra,
        )
        self.resumed = resuming
        if resuming:
            self.checkpointer.initialize_or_restore().assert_existing_objects_matched()
        elif config.init_from is not None:
            self._init_from(Path(config.init_from))
        self.writer = tf.summary.create_file_writer(str(self.run_dir / "tb"))
        self.history = self._load_history() if resuming else []
        self.eval_set = make_eval_set(self.settings, config.eval_pairs, config.eval_seed)
        self._collect = common.function(self._collect_fn)
        self._train = common.function(self._train_fn)
        self._train_critic = common.function(self._train_fn)  # traced with the actor frozen
        self._greedy = common.function(self._greedy_fn)
        self._time_step = None
        self._episodes = _EpisodeStats(config.num_envs, buffer=config.num_envs)
        self._train_ratios = deque(maxlen=config.num_envs)
        self.last_metrics = {}
        if not resuming:
            with self.writer.as_default():
                tf.summary.text("config", _config_markdown(config), step=0)

    # ----------------------------------------------------------------- set-up
    def _write_config(self, resuming):
        path = self.run_dir / "config.json"
        values = self.config.to_dict()
        if resuming and path.is_file():
            previous = json.loads(path.read_text())
            changed = {k for k in values if k not in ("run_name",) and previous.get(k) != _jsonable(values[k])}
            # a resumed run may raise its budget; everything else must match the checkpoint
            changed -= {"total_env_steps", "eval_interval", "checkpoint_interval"}
            if changed:
                raise ValueError(
                    f"config differs from the run being resumed in {sorted(changed)}; "
                    f"use another run_name or the same settings as {path}"
                )
        path.write_text(json.dumps(_jsonable(values), indent=2) + "\n")

    def _adopt_network_settings(self, init_dir):
        actor_file = _actor_file(init_dir)
        if actor_file is not None:
            actor, core_kwargs, _ = NumpyActor.load(actor_file)
            self.config.window = core_kwargs["window"]
            self.config.hidden = tuple(int(kernel.shape[1]) for kernel, _, _ in actor.dense)
            self.config.cost_floor = float(actor.cost_floor)
            self._lookahead = core_kwargs.get("lookahead", [])
            return
        config_path = init_dir / "config.json"
        if not config_path.is_file():
            raise ValueError(f"init_from {str(init_dir)!r} is not a run folder (no config.json)")
        pretrained = json.loads(config_path.read_text())
        for name in ("window", "hidden", "cost_floor"):
            value = pretrained.get(name)
            setattr(self.config, name, tuple(value) if name == "hidden" else value)
        if self.config.window is None:
            env_file = init_dir / "policy" / ENV_FILE
            if env_file.is_file():
                self.config.window = json.loads(env_file.read_text()).get("window")

    def _env_overrides(self):
        overrides = {"window": self.config.window, "reward_scale": self.config.reward_scale}
        if self._lookahead is not None:
            overrides["lookahead"] = self._lookahead
        return overrides

    def _check_batch_size(self):
        if not self.py_env.batched or self.py_env.batch_size != self.config.num_envs:
            raise ValueError(
                f"the vector env must be batched with batch_size == num_envs ({self.config.num_envs}); "
                f"got batched={self.py_env.batched}, batch_size={self.py_env.batch_size}"
            )

    def _build_agent(self):
        config = self.config
        time_step_spec = tensor_spec.from_spec(self.py_env.time_step_spec())
        action_spec = tensor_spec.from_spec(self.py_env.action_spec())
        actor_net, value_net = build_networks(
            time_step_spec.observation, action_spec, hidden=config.hidden, cost_floor=config.cost_floor
        )
        self.train_step = tf.Variable(0, dtype=tf.int64, name="train_step")
        optimizer = tf.keras.optimizers.Adam(learning_rate=config.learning_rate, epsilon=1e-5)
        # Slots for every weight now: the critic warm-up steps only the critic's.
        optimizer.build(actor_net.trainable_variables + value_net.trainable_variables)
        agent = ppo_clip_agent.PPOClipAgent(
            time_step_spec,
            action_spec,
            optimizer=optimizer,
            actor_net=actor_net,
            value_net=value_net,
            greedy_eval=True,
            importance_ratio_clipping=config.clip_ratio,
            lambda_value=config.gae_lambda,
            discount_factor=config.discount,
            entropy_regularization=config.entropy,
            num_epochs=config.num_epochs,
            use_gae=True,
            use_td_lambda_return=True,
            normalize_rewards=config.normalize_rewards,
            normalize_observations=False,  # the mask is part of the observation
            gradient_clipping=config.gradient_clipping or None,
            value_clipping=None,
            train_step_counter=self.train_step,
            compute_value_and_advantage_in_train=True,
        )
        agent.initialize()
        return agent

    def _init_from(self, init_dir):
        actor_file = _actor_file(init_dir)
        if actor_file is not None:
            NumpyActor.load(actor_file)[0].assign_to(self.agent._actor_net)
            self._bc_done.assign(True)  # the pretrained actor replaces the warm start
            return
        ckpt_dir = init_dir / "checkpoints"
        latest = tf.train.latest_checkpoint(str(ckpt_dir))
        if latest is None:
            raise ValueError(f"init_from {str(init_dir)!r} holds no checkpoint under checkpoints/")
        parts = {"_actor_net": self.agent._actor_net, "_value_net": self.agent._value_net}
        if self.agent._reward_normalizer is not None:
            parts["_reward_normalizer"] = self.agent._reward_normalizer
        tf.train.Checkpoint(agent=tf.train.Checkpoint(**parts)).read(latest).expect_partial()
        self._bc_done.assign(True)  # the pretrained actor replaces the warm start

    def _load_history(self):
        path = self.run_dir / "metrics.json"
        if not path.is_file():
            return []
        rows = json.loads(path.read_text()).get("history", [])
        return [row for row in rows if row["env_steps"] <= self.env_steps]

    # ------------------------------------------------------------- properties
    @property
    def env_steps(self):
        """PPO env steps done so far (critic warm-up included, BC excluded)."""
        return int(self._env_steps.numpy())

    @property
    def iteration(self):
        """PPO iterations done so far."""
        return int(self._iteration.numpy())

    # ------------------------------------------------------------ tf functions
    def _collect_fn(self, time_step):
        step = self.agent.collect_policy.action(time_step)
        return step.action, step.info["dist_params"]["logits"]

    def _train_fn(self, experience):
        loss_info = self.agent.train(experience)
        weights = self.agent._actor_net.trainable_variables + self.agent._value_net.trainable_variables
        finite = tf.reduce_all([tf.reduce_all(tf.math.is_finite(w)) for w in weights])
        return loss_info, tf.logical_and(finite, tf.math.is_finite(loss_info.loss))

    def _greedy_fn(self, observation):
        return self.agent.policy.action(time_step_from_observation(observation)).action

    def greedy_act(self, observation):
        """Greedy actions ``(N,)`` of the current policy for a NumPy observation dict."""
        return self._greedy(observation).numpy()

    # ----------------------------------------------------------------- pairs
    def set_pairs(self, pair_source):
        """Train on new pairs from now on; agent, optimizer and counters are kept.

        Parameters
        ----------
        pair_source : callable or anything ``dtwrl.datasets.as_pair_source`` accepts
            E.g. a list of ``(y_true, y_pred)`` pairs of model predictions.

        The vector env is rebuilt with ``pairs=pair_source`` (its other settings
        unchanged) and the next iteration starts fresh episodes. The fixed
        evaluation set is not changed.
        """
        from .environment import _as_pair_source

        source = _as_pair_source(pair_source)
        self.py_env.close()
        self.py_env = make_vector_py_env(
            self.config.env_id, self.config.num_envs, int(self._rng.integers(2**31)), pairs=source, **self._env_overrides()
        )
        self._check_batch_size()
        self._time_step = None
        self._episodes = _EpisodeStats(self.config.num_envs, buffer=self.config.num_envs)

    # ---------------------------------------------------------------- phases
    def warm_start(self):
        """Behavioural cloning of the actor (once per run; skipped when done or disabled)."""
        config = self.config
        if self.cloner is None or bool(self._bc_done.numpy()):
            return None
        start = time.perf_counter()
        data = imitation.collect_expert_dataset(
            self.settings.pairs, np.random.default_rng([config.seed, 1]), self.settings.core_kwargs,
            config.bc_env_steps, num_envs=128, detour=config.bc_detour,
        )
        collect_s = time.perf_counter() - start
        rng = np.random.default_rng([config.seed, 2])
        with self.writer.as_default():
            for epoch in range(config.bc_epochs):
                loss, accuracy = self.cloner.epoch(data, config.bc_batch_size, rng)
                tf.summary.scalar("Losses/bc_cross_entropy", loss, step=epoch)
                tf.summary.scalar("charts/bc_accuracy", accuracy, step=epoch)
        self._bc_done.assign(True)
        self.checkpointer.save(global_step=self._env_steps)
        result = {"bc_loss": loss, "bc_accuracy": accuracy, "bc_collect_s": collect_s,
                  "bc_s": time.perf_counter() - start}
        self.last_metrics.update(result)
        return result

    @property
    def dagger_steps(self):
        """Supervised steps per iteration on visited states (0 unless BC is on)."""
        return self.config.dagger_steps if self.cloner is not None else 0

    def _collect_iteration(self):
        """Step the vector env ``collect_steps`` times.

        Returns
        -------
        experience : Trajectory
            Tensors ``(N, T+1, ...)`` for ``PPOClipAgent.train``.
        visited : dict or None
            With the DAgger anchor on: the NumPy observations of the ``N * T``
            visited states that are not episode ends, and their
            ``"expert_action"`` labels.
        """
        config = self.config
        steps = config.collect_steps
        if self._time_step is None:
            self._time_step = self.py_env.reset()
        time_steps = [self._time_step]
        actions, logits, experts = [], [], []
        for _ in range(steps):
            if self.dagger_steps:
                mask = self._time_step.observation["action_mask"]
                experts.append(imitation.legal_labels(self.py_env.gym_env.expert_actions(), mask))
            action, logit = self._collect(self._time_step)
            action = action.numpy()
            actions.append(action)
            logits.append(logit.numpy())
            self._time_step = self.py_env.step(action)
            time_steps.append(self._time_step)
            self._record_episode_ratios()
            self._episodes.update(time_steps[-2].step_type, self._time_step.reward, self._time_step.step_type)
        # the last time step only bootstraps the value: its action slot is padding that PPO masks out
        actions.append(np.zeros_like(actions[-1]))
        logits.append(np.zeros_like(logits[-1]))

        step_type = np.stack([t.step_type for t in time_steps], axis=1).astype(np.int32)
        reward = np.stack([t.reward for t in time_steps], axis=1).astype(np.float32)
        discount = np.stack([t.discount for t in time_steps], axis=1).astype(np.float32)
        observation = {key: np.stack([t.observation[key] for t in time_steps], axis=1) for key in time_steps[0].observation}
        shift = lambda a: np.concatenate([a[:, 1:], a[:, -1:]], axis=1)  # noqa: E731
        experience = trajectory.Trajectory(
            step_type=tf.convert_to_tensor(step_type),
            observation={key: tf.convert_to_tensor(value) for key, value in observation.items()},
            action=tf.convert_to_tensor(np.stack(actions, axis=1)),
            policy_info={"dist_params": {"logits": tf.convert_to_tensor(np.stack(logits, axis=1))}},
            next_step_type=tf.convert_to_tensor(shift(step_type)),
            reward=tf.convert_to_tensor(shift(reward)),
            discount=tf.convert_to_tensor(shift(discount)),
        )
        visited = None
        if self.dagger_steps:
            keep = (step_type[:, :-1] != ts.StepType.LAST).reshape(-1)
            visited = {key: value[:, :-1].reshape((-1,) + value.shape[2:])[keep] for key, value in observation.items()}
            visited["expert_action"] = np.stack(experts, axis=1).reshape(-1)[keep]
        return experience, visited

    def _dagger(self, visited):
        """``dagger_steps`` cloning minibatches on the visited states; returns the mean cross-entropy."""
        n = len(visited["expert_action"])
        losses = []
        for _ in range(self.dagger_steps):
            idx = self._rng.choice(n, size=min(n, self.config.bc_batch_size), replace=False)
            observation = {key: value[idx] for key, value in visited.items() if key != "expert_action"}
            losses.append(self.cloner.step(observation, visited["expert_action"][idx])[0])
        return float(np.mean(losses))

    def _record_episode_ratios(self):
        """Keep the cost ratios the env reports for finished training episodes (``info["cost_ratio"]``)."""
        info = self.py_env.get_info() if hasattr(self.py_env, "get_info") else None
        if info and "cost_ratio" in info:
            done = np.asarray(info.get("_cost_ratio", np.ones(len(info["cost_ratio"]), bool)), dtype=bool)
            self._train_ratios.extend(np.asarray(info["cost_ratio"], dtype=np.float64)[done])

    def evaluate(self):
        """Greedy policy on the eval set: ``{"cost_ratio_vs_dtw", "cost_ratio_vs_fastdtw", ...}``."""
        paths = rollout_paths(self.greedy_act, self.eval_set.pairs, self.settings.core_kwargs)
        costs = self.eval_set.path_costs(paths)
        stats = ratio_stats(_safe_ratio(costs, self.eval_set.dtw_costs))
        vs_fastdtw = _safe_ratio(costs, self.eval_set.fastdtw_costs)
        return {
            "cost_ratio_vs_dtw": stats["mean"],
            "cost_ratio_vs_dtw_p90": stats["p90"],
            "frac_optimal": stats["frac_optimal"],
            "cost_ratio_vs_fastdtw": float(np.mean(vs_fastdtw)),
            "fastdtw_ratio_vs_dtw": float(np.mean(_safe_ratio(self.eval_set.fastdtw_costs, self.eval_set.dtw_costs))),
        }, paths

    def _log_eval(self, metrics, paths, step):
        with self.writer.as_default():
            tf.summary.scalar("alignment/cost_ratio_vs_dtw", metrics["cost_ratio_vs_dtw"], step=step)
            tf.summary.scalar("alignment/cost_ratio_vs_dtw_p90", metrics["cost_ratio_vs_dtw_p90"], step=step)
            tf.summary.scalar("alignment/cost_ratio_vs_fastdtw", metrics["cost_ratio_vs_fastdtw"], step=step)
            tf.summary.scalar("alignment/frac_optimal", metrics["frac_optimal"], step=step)
            image = alignment_image(
                self.eval_set, 0,
                {"policy": paths, "fastdtw r=1": self.eval_set.fastdtw_paths, "exact DTW": self.eval_set.exact_paths},
            )
            tf.summary.image("alignment/eval_pair_0", image[None], step=step)

    def _fail(self, reason):
        good = tf.train.latest_checkpoint(str(self.checkpoint_dir))
        message = (
            f"training diverged at iteration {self.iteration}, env step {self.env_steps}: {reason}. "
            f"Nothing was saved after the last good checkpoint ({good or 'none'}). "
            f"Lower learning_rate (now {self.config.learning_rate}) or gradient_clipping and resume or restart."
        )
        self._write_metrics(status="diverged", error=message)
        raise TrainingDivergedError(message)

    # ----------------------------------------------------------------- train
    def train(self, num_iterations=None, callback=None):
        """Run PPO iterations (BC warm start first if configured and not done).

        Parameters
        ----------
        num_iterations : int or None
            Iterations to run now; None runs until ``config.total_env_steps``
            (from wherever a resumed run stands).
        callback : callable or None
            ``callback(trainer, stats)`` after every iteration; ``stats`` holds
            ``env_steps``, ``steps_per_second`` and the latest ``cost_ratio_vs_dtw``.

        Returns
        -------
        dict
            The latest metrics (also written to ``metrics.json``).
        """
        config = self.config
        self.warm_start()
        if num_iterations is None:
            num_iterations = max(0, config.num_iterations - self.iteration)
        if int(num_iterations) < 0:
            raise ValueError(f"num_iterations must be >= 0; got {num_iterations}")
        if tf.train.latest_checkpoint(str(self.checkpoint_dir)) is None:
            self.checkpointer.save(global_step=self._env_steps)  # a good state to fall back to
        if not self.history or self.history[-1]["env_steps"] != self.env_steps:
            self._evaluate_and_log()
        last_saved = self.iteration
        loop_start, steps_before = time.perf_counter(), self.env_steps
        for _ in range(int(num_iterations)):
            start = time.perf_counter()
            experience, visited = self._collect_iteration()
            collect_s = time.perf_counter() - start
            loss_info, finite = self._train_step(experience)
            if not bool(finite.numpy()):
                self._fail(f"the PPO loss is {float(loss_info.loss.numpy())} or a weight is not finite")
            dagger_loss = None
            if visited is not None and self.iteration >= self.critic_warmup_iterations:
                dagger_loss = self._dagger(visited)
                if not np.isfinite(dagger_loss):
                    self._fail(f"the DAgger cross-entropy is {dagger_loss}")
            self._env_steps.assign_add(config.steps_per_iteration)
            self._iteration.assign_add(1)
            elapsed = time.perf_counter() - start
            self._log_iteration(loss_info, elapsed, collect_s, dagger_loss)
            if self.iteration % config.eval_interval == 0:
                self._evaluate_and_log()
            if self.iteration % config.checkpoint_interval == 0:
                self.checkpointer.save(global_step=self._env_steps)
                last_saved = self.iteration
            if callback is not None:
                callback(self, {"env_steps": self.env_steps, "steps_per_second": self.last_metrics["steps_per_second"],
                                "cost_ratio_vs_dtw": self.last_metrics.get("cost_ratio_vs_dtw")})
        if self.history[-1]["env_steps"] != self.env_steps:
            self._evaluate_and_log()
        if last_saved != self.iteration:
            self.checkpointer.save(global_step=self._env_steps)
        if self.env_steps > steps_before:
            wall = time.perf_counter() - loop_start
            self.last_metrics["ppo_wall_s"] = wall
            # everything included: collection, updates, evaluations, checkpoints
            self.last_metrics["end_to_end_steps_per_second"] = (self.env_steps - steps_before) / wall
        self.writer.flush()
        self._write_metrics(status="completed" if self.iteration >= config.num_iterations else "running")
        return dict(self.last_metrics)

    @property
    def critic_warmup_iterations(self):
        """Iterations at the start of PPO that train only the critic (0 unless the actor was pretrained)."""
        pretrained = self.config.bc_warmstart or self.config.init_from is not None
        return self.config.critic_warmup_iterations if pretrained else 0

    def _train_step(self, experience):
        if self.iteration >= self.critic_warmup_iterations:
            return self._train(experience)
        actor = self.agent._actor_net
        actor.trainable = False  # PPOClipAgent trains the trainable weights of actor and critic
        try:
            return self._train_critic(experience)
        finally:
            actor.trainable = True

    def _log_iteration(self, loss_info, elapsed, collect_s, dagger_loss):
        sps = self.config.steps_per_iteration / elapsed
        self.last_metrics["steps_per_second"] = sps
        step = self.env_steps
        with self.writer.as_default():
            tf.summary.scalar("charts/steps_per_second", sps, step=step)
            tf.summary.scalar("charts/collect_fraction", collect_s / elapsed, step=step)
            tf.summary.scalar("Losses/total_loss", loss_info.loss, step=step)
            if dagger_loss is not None:
                tf.summary.scalar("Losses/dagger_cross_entropy", dagger_loss, step=step)
            for name in ("policy_gradient_loss", "value_estimation_loss", "entropy_regularization_loss",
                         "kl_penalty_loss"):
                tf.summary.scalar(f"Losses/{name}", getattr(loss_info.extra, name), step=step)
            episodes = self._episodes.result()
            if episodes is not None:
                tf.summary.scalar("Metrics/AverageReturn", episodes[0], step=step)
                tf.summary.scalar("Metrics/AverageEpisodeLength", episodes[1], step=step)
                self.last_metrics["average_return"], self.last_metrics["average_episode_length"] = episodes
            if self._train_ratios:
                ratio = float(np.mean(self._train_ratios))
                tf.summary.scalar("alignment/train_cost_ratio", ratio, step=step)
                self.last_metrics["train_cost_ratio"] = ratio

    def _evaluate_and_log(self):
        metrics, paths = self.evaluate()
        metrics = {"env_steps": self.env_steps, "iteration": self.iteration, **metrics}
        self.history.append(metrics)
        if metrics["cost_ratio_vs_dtw"] < self._best_ratio.numpy():
            _copy_weights(self.agent._actor_net, self._best_actor)
            self._best_ratio.assign(metrics["cost_ratio_vs_dtw"])
            self._best_env_steps.assign(self.env_steps)
        self.last_metrics["best_cost_ratio_vs_dtw"] = float(self._best_ratio.numpy())
        self.last_metrics["best_env_steps"] = int(self._best_env_steps.numpy())
        self.last_metrics.update(metrics)
        self._log_eval(metrics, paths, self.env_steps)
        self._write_metrics(status="running")
        return metrics

    def _write_metrics(self, status, error=None):
        payload = {"status": status, "final": dict(self.last_metrics), "history": self.history}
        if error is not None:
            payload["error"] = error
        tmp = self.run_dir / "metrics.json.tmp"
        tmp.write_text(json.dumps(_jsonable(payload), indent=2) + "\n")
        os.replace(tmp, self.run_dir / "metrics.json")

    def save_policy(self):
        """Save the greedy policy with ``PolicySaver`` to ``<run>/policy`` (+ ``dtwrl_env.json``) and a figure.

        With ``config.keep_best`` the saved actor is the one with the best
        validation ratio seen (the live agent is left as it is).
        """
        policy_dir = self.run_dir / "policy"
        use_best = self.config.keep_best and self._best_env_steps.numpy() >= 0
        current = [w.numpy() for w in self.agent._actor_net.variables]
        if use_best:
            _copy_weights(self._best_actor, self.agent._actor_net)
        try:
            saver = policy_saver.PolicySaver(self.agent.policy, batch_size=None, train_step=self.train_step)
            saver.save(str(policy_dir))
            saved_metrics, paths = self.evaluate()
        finally:
            for variable, value in zip(self.agent._actor_net.variables, current):
                variable.assign(value)
        (policy_dir / ENV_FILE).write_text(json.dumps(_jsonable(self.settings.core_kwargs), indent=2) + "\n")
        self.last_metrics["policy_env_steps"] = int(self._best_env_steps.numpy()) if use_best else self.env_steps
        self.last_metrics["policy_cost_ratio_vs_dtw"] = saved_metrics["cost_ratio_vs_dtw"]
        image = alignment_image(
            self.eval_set, 0,
            {"policy": paths, "fastdtw r=1": self.eval_set.fastdtw_paths, "exact DTW": self.eval_set.exact_paths},
        )
        _save_png(image, self.run_dir / "figures" / "eval_alignment.png")
        return policy_dir


def _copy_weights(source, target):
    for src, dst in zip(source.variables, target.variables):
        dst.assign(src)


def _save_png(image, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.imsave(path, image)


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    return value


def _config_markdown(config):
    rows = "\n".join(f"| {key} | `{value}` |" for key, value in config.to_dict().items())
    return "| field | value |\n|---|---|\n" + rows


def train_aligner(config, callback=None):
    """Train an aligner policy and write its run folder.

    Parameters
    ----------
    config : AlignerConfig
        A run folder that already holds checkpoints (same ``out_dir`` and
        ``run_name``) is resumed from its last checkpoint.
    callback : callable or None
        ``callback(trainer, stats)`` after each iteration (progress bars).

    Returns
    -------
    run_dir : pathlib.Path
    metrics : dict
        Final metrics: ``cost_ratio_vs_dtw``, ``cost_ratio_vs_fastdtw``,
        ``steps_per_second``, ``env_steps``, ...

    Examples
    --------
    >>> run_dir, metrics = train_aligner(AlignerConfig(seed=3))    # doctest: +SKIP
    >>> metrics["cost_ratio_vs_dtw"] < 1.1                          # doctest: +SKIP
    True
    """
    trainer = AlignerTrainer(config)
    start = time.perf_counter()
    trainer.train(callback=callback)
    trainer.save_policy()
    trainer.last_metrics["train_seconds_this_session"] = time.perf_counter() - start
    trainer._write_metrics(status="completed")
    return trainer.run_dir, dict(trainer.last_metrics)
