"""``AlignerTrainer`` and ``train_aligner``: PPO (optionally warm-started by cloning) on a warping env.

The loop, in the spirit of TF-Agents' ``train_eval``:

1. *optional* behavioural cloning (``bc_warmstart``): the actor imitates exact
   DTW moves on detoured expert rollouts (:mod:`agents.training.warm_start`), with its
   own budget ``bc_env_steps``;
2. per iteration, ``num_envs`` alignments advance ``collect_steps`` steps in
   the vectorised env (:mod:`agents.training.collection`), one policy call per step for
   the whole batch;
3. the PPO learner step (:mod:`agents.training.ppo`) on that ``(num_envs,
   collect_steps + 1)`` batch of trajectories (GAE, ``num_epochs`` full-batch
   epochs), then optionally a few DAgger cloning minibatches;
4. at the start, every ``evaluation_interval`` iterations and at the end the
   greedy policy aligns a fixed held-out set (:mod:`agents.training.policy_evaluation`);
   the best actor so far is kept (:mod:`agents.training.best_actor`); everything goes to
   TensorBoard (:mod:`agents.training.summaries`);
5. every ``checkpoint_interval`` iterations a ``tf_agents`` ``Checkpointer``
   saves agent, optimizers and counters; a restart resumes from it.

At the end the greedy policy is saved with ``PolicySaver`` under ``policy/``.
The run folder is described in :mod:`agents.training.run_folder`.

>>> from agents import AlignerConfig, train_aligner
>>> run_dir, metrics = train_aligner(AlignerConfig(total_env_steps=50_000))  # doctest: +SKIP
"""

import contextlib
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf
from tf_agents.specs import tensor_spec
from tf_agents.utils import common

from dtwrl.progress import progress_bar

from ..evaluation import make_eval_set
from ..policy.actor import NumpyActor
from ..policy.tf_policy import save_policy, time_step_from_observation
from . import imitation
from .best_actor import BestActor
from .collection import Collector, SampledNumpyPolicy
from .config import AlignerConfig, default_run_name, validate_config
from .environment import (
    ENV_SETTINGS_FILE,
    EnvSettings,
    env_settings,
    load_env_settings,
    make_vector_py_env,
    save_env_settings,
)
from .policy_evaluation import eval_alignment_image, evaluate_policy
from .ppo import build_ppo_agent, make_learner_step
from .run_folder import RunFolder, completed_message, read_pretrained
from .summaries import TrainingSummaries
from .warm_start import bc_work_units, behavioural_cloning, dagger_update

PHASES = ("collect", "learn", "dagger", "evaluate", "checkpoint")
"""Phases of the PPO loop whose wall time ``train()`` reports in ``last_metrics["phase_seconds"]``."""


class TrainingDivergedError(FloatingPointError):
    """Raised when a loss or a weight becomes NaN or inf; the last good checkpoint is kept."""


def resolve_env_settings(config: AlignerConfig, stored: list[Path] = (), lookahead=None) -> EnvSettings:
    """The training environment of ``config``, from its registered id or from a run folder that stored it.

    Parameters
    ----------
    config : AlignerConfig
        ``env_id``, ``pairs`` (replaces the env's pair source), ``window`` and
        ``reward_scale`` (override the env's).
    stored : list of pathlib.Path
        ``env/`` folders of run folders to read the environment from, tried in
        order before the registry (a resumed run's own, then ``init_from``'s
        when it was trained on the same ``env_id``).
    lookahead : list or None
        The observation's look-ahead setting to impose (that of an actor file
        given as ``init_from``); None keeps the environment's.

    Returns
    -------
    EnvSettings

    Raises
    ------
    ValueError
        Naming ``env_id`` (not registered and stored nowhere) or ``pairs``
        (a file that cannot be read).
    """
    overrides = {"window": config.window, "reward_scale": config.reward_scale}
    if lookahead is not None:
        overrides["lookahead"] = lookahead
    pairs = None
    if config.pairs is not None:
        from dtwrl.datasets import as_pair_source

        try:
            pairs = as_pair_source(config.pairs)
        except (ValueError, TypeError) as error:
            message = str(error)
            raise ValueError(message if message.startswith("pairs") else f"pairs: {message}") from None
    for folder in stored:
        if (folder / ENV_SETTINGS_FILE).is_file():
            settings = load_env_settings(folder, **overrides)
            if pairs is not None:
                settings = EnvSettings(settings.env_id, pairs, settings.core_kwargs, settings.env_kwargs)
            return settings
    try:
        return env_settings(config.env_id, pairs=pairs, **overrides)
    except ValueError as error:
        raise ValueError(
            f"{error}. Register it with envs.register_env in this process, or pass init_from a run folder "
            "trained on it (run folders store their environment)"
        ) from None


class AlignerTrainer:
    """Build once, then ``train()``: PPO (optionally BC-warm-started) on a warping env.

    Every input is checked before the run folder is created: the config's
    fields, ``init_from``, the environment (a registered ``env_id``, or one
    stored in the resumed or ``init_from`` run folder) and ``pairs``.

    Parameters
    ----------
    config : AlignerConfig
    progress : bool
        Report on stdout: the run folder, "resuming from step N", the
        behavioural cloning and PPO progress (a bar on a terminal, a few lines
        otherwise).

    Attributes
    ----------
    run_dir : pathlib.Path
    folder : agents.training.run_folder.RunFolder
    settings : agents.training.environment.EnvSettings
        The training environment.
    parts : agents.training.ppo.PPOParts
        The agent and the networks built for it.
    agent : PPOClipAgent
    env_steps : int
        PPO env steps done so far (restored on resume).
    history : list of dict
        Evaluation rows so far.
    resumed : bool
        Whether the run continued from a checkpoint.
    collector : agents.training.collection.Collector
        Where each iteration's batch comes from. Another source (a replay
        queue fed by remote actors, say) replaces it with any object that has
        ``run(steps) -> (experience, visited)``, ``episodes.result()`` and
        ``train_ratios`` (override :meth:`make_collector`).

    Examples
    --------
    >>> trainer = AlignerTrainer(AlignerConfig(total_env_steps=100_000))  # doctest: +SKIP
    >>> trainer.train()                              # the whole budget      # doctest: +SKIP
    >>> trainer.set_pairs(model_prediction_pairs)    # new training pairs    # doctest: +SKIP
    >>> trainer.train(num_iterations=5)              # fine-tune             # doctest: +SKIP
    >>> trainer.save_policy()                                                # doctest: +SKIP
    """

    def __init__(self, config: AlignerConfig, progress: bool = False):
        if not isinstance(config, AlignerConfig):
            raise TypeError(f"config must be an AlignerConfig; got {type(config).__name__}")
        if not isinstance(progress, bool):
            raise TypeError(f"progress must be True or False; got {progress!r}")
        validate_config(config)  # again: fields may have been assigned since it was built
        self.config = config
        self.progress = progress
        if config.run_name is None:
            config.run_name = default_run_name(config)
        self.folder = RunFolder(Path(config.out_dir) / config.run_name)
        self.run_dir = self.folder.path
        resuming = self.folder.has_checkpoint()
        pretrained = None
        if config.init_from is not None:
            pretrained = read_pretrained(config.init_from)
            config.window = pretrained["window"]
            config.hidden = pretrained["hidden"]
            config.cost_floor = pretrained["cost_floor"]
        stored = [self.folder.env] if resuming else []
        if pretrained is not None and pretrained["folder"] is not None and pretrained["env_id"] == config.env_id:
            stored.append(pretrained["folder"].env)
        self.settings = resolve_env_settings(config, stored, pretrained and pretrained.get("lookahead"))

        tf.random.set_seed(config.seed)
        np.random.seed(config.seed)
        self._rng = np.random.default_rng(config.seed)
        self.py_env = make_vector_py_env(self.settings, config.num_envs, config.seed)
        self.parts = build_ppo_agent(self.py_env.time_step_spec(), self.py_env.action_spec(), config)
        self.agent = self.parts.agent
        self.train_step = self.parts.train_step
        self._env_steps = tf.Variable(0, dtype=tf.int64, name="env_steps")
        self._iteration = tf.Variable(0, dtype=tf.int64, name="iteration")
        self._bc_done = tf.Variable(False, name="bc_done")
        observation_spec = tensor_spec.from_spec(self.py_env.time_step_spec()).observation
        self.best = BestActor(self.parts.actor_net, observation_spec)
        self.cloner = imitation.Cloner(self.parts.actor_net, config.bc_learning_rate) if config.bc_warmstart else None
        self.eval_set = make_eval_set(self.settings, config.eval_pairs, config.eval_seed)

        # Every input is valid: only now does the run folder appear.
        self.folder.create()
        self.folder.write_config(config, resuming)
        if not (self.folder.env / ENV_SETTINGS_FILE).is_file():
            try:
                save_env_settings(self.settings, self.folder.env)
            except ValueError as error:
                warnings.warn(f"the run folder will not hold its pairs: {error}", RuntimeWarning, stacklevel=2)
        extra = {"bc_optimizer": self.cloner.optimizer} if self.cloner is not None else {}
        self.checkpointer = common.Checkpointer(
            ckpt_dir=str(self.folder.checkpoints),
            max_to_keep=2,
            env_steps=self._env_steps,
            iteration=self._iteration,
            bc_done=self._bc_done,
            **self.parts.checkpoint_objects(),
            **self.best.checkpoint_objects(),
            **extra,
        )
        self.resumed = resuming
        if resuming:
            self.checkpointer.initialize_or_restore().assert_existing_objects_matched()
        elif pretrained is not None:
            self._init_from(pretrained)
        self.summaries = TrainingSummaries(self.folder.tensorboard, config)
        self.history = self.folder.load_history(self.env_steps) if resuming else []
        self.completed = self.folder.completed(config) if resuming else None
        self.summaries.optimal_seen = any(row.get("frac_optimal", 0) > 0 for row in self.history)
        self._collect_policy = SampledNumpyPolicy(self.parts.actor_net, seed=[config.seed, 3])
        self._learn = make_learner_step(self.parts)
        self._learn_critic = make_learner_step(self.parts, train_actor=False)
        self._greedy = common.function(self._greedy_fn)
        self.collector = self.make_collector()
        self.last_metrics: dict[str, Any] = {}
        self._say(f"run folder: {self.run_dir}")
        if resuming:
            self._say(f"resuming from step {self.env_steps:,} (iteration {self.iteration})")
        else:
            self.summaries.run_start(config)

    # ----------------------------------------------------------------- set-up
    def _init_from(self, pretrained: dict) -> None:
        """Take over the networks (and reward normaliser) of a pretrained run's checkpoint.

        The actor is the one the pretrained run saved as its policy: its best
        actor when it kept one (``keep_best``), else its last one. An actor
        file (``init_from="pretrained"`` or a ``.npz``) gives the actor only;
        the critic starts fresh.
        """
        if pretrained.get("actor_file") is not None:
            NumpyActor.load(pretrained["actor_file"])[0].assign_to(self.parts.actor_net)
            self._bc_done.assign(True)  # the pretrained actor replaces the warm start
            return
        checkpoint = pretrained["checkpoint"]
        names = {name.split("/")[0] for name, _ in tf.train.list_variables(checkpoint)}
        objects = self.parts.network_objects()
        if "actor_net" not in names:  # run folders written before the networks were checkpointed by name
            objects = {"agent": tf.train.Checkpoint(_actor_net=self.parts.actor_net, _value_net=self.parts.value_net)}
        tf.train.Checkpoint(**objects).read(checkpoint).expect_partial()
        reader = tf.train.load_checkpoint(checkpoint)
        best_seen = (
            reader.has_tensor("best_env_steps/.ATTRIBUTES/VARIABLE_VALUE")
            and int(reader.get_tensor("best_env_steps/.ATTRIBUTES/VARIABLE_VALUE")) >= 0
        )
        if pretrained["keep_best"] and best_seen:
            tf.train.Checkpoint(best_actor=self.parts.actor_net).read(checkpoint).expect_partial()
        self._bc_done.assign(True)  # the pretrained actor replaces the warm start

    def _say(self, message: str) -> None:
        if self.progress:
            print(message, flush=True)

    # ------------------------------------------------------------- properties
    @property
    def env_steps(self) -> int:
        """PPO env steps done so far (critic warm-up included, BC excluded)."""
        return int(self._env_steps.numpy())

    @property
    def iteration(self) -> int:
        """PPO iterations done so far."""
        return int(self._iteration.numpy())

    @property
    def critic_warmup_iterations(self) -> int:
        """Iterations at the start of PPO that train only the critic (0 unless the actor was pretrained)."""
        pretrained = self.config.bc_warmstart or self.config.init_from is not None
        return self.config.critic_warmup_iterations if pretrained else 0

    @property
    def dagger_steps(self) -> int:
        """Supervised steps per iteration on visited states (0 unless BC is on)."""
        return self.config.dagger_steps if self.cloner is not None else 0

    # ------------------------------------------------------------------ policy
    def _greedy_fn(self, observation):
        return self.agent.policy.action(time_step_from_observation(observation)).action

    def greedy_act(self, observation: dict) -> np.ndarray:
        """Greedy actions ``(N,)`` of the current policy for a NumPy observation dict."""
        return self._greedy(observation).numpy()

    def make_collector(self) -> Collector:
        """The source of each iteration's batch: the local vector env stepped by the collect policy.

        The collect policy samples the actor's masked categorical in NumPy
        (:class:`agents.training.collection.SampledNumpyPolicy`, synced with the network
        before each collection), as TF-Agents' collect policy would.
        """
        return Collector(self.py_env, self._collect_policy, label_expert_moves=self.dagger_steps > 0)

    # ----------------------------------------------------------------- pairs
    def set_pairs(self, pair_source: Any) -> None:
        """Train on new pairs from now on; agent, optimizer, counters and episode statistics are kept.

        Parameters
        ----------
        pair_source : callable or anything ``dtwrl.datasets.as_pair_source`` accepts
            E.g. a list of ``(y_true, y_pred)`` pairs of model predictions.

        Every alignment that starts after this call draws its pair from
        ``pair_source``; alignments in flight finish on their pair, so
        episodes (and ``Metrics/AverageReturn``) run across rounds of
        ``set_pairs`` + ``train(num_iterations=k)`` even when one round is
        shorter than an episode. The fixed evaluation set is not changed.
        """
        self.py_env.set_pairs(pair_source)

    # ---------------------------------------------------------------- phases
    def warm_start(self) -> dict | None:
        """Behavioural cloning of the actor (once per run; skipped when done or disabled)."""
        config = self.config
        if self.cloner is None or bool(self._bc_done.numpy()):
            return None
        self._say(
            f"behavioural cloning warm start on {config.bc_env_steps:,} expert states ({config.bc_epochs} epochs) ..."
        )

        def on_epoch(epoch, loss, accuracy):
            self.summaries.bc_epoch((epoch + 1) * config.bc_env_steps, loss, accuracy)

        with progress_bar(bc_work_units(config), "behavioural cloning", unit="state", enabled=self.progress) as bar:
            result = behavioural_cloning(self.cloner, self.settings, config, on_progress=bar.update, on_epoch=on_epoch)
        self._bc_done.assign(True)
        self.checkpointer.save(global_step=self._env_steps)
        self.last_metrics.update(result)
        return result

    def evaluate(self) -> tuple[dict, list]:
        """Greedy policy on the eval set: ``({"cost_ratio_vs_dtw", "cost_ratio_vs_fastdtw", ...}, paths)``.

        The actor's current weights act as a :class:`agents.policy.aligner.NumpyActor`
        (the same float32 layers and greedy moves as the TF-Agents greedy
        policy, in one compiled pass per step, without a TensorFlow call).
        """
        act = NumpyActor.from_network(self.parts.actor_net).act
        return evaluate_policy(act, self.eval_set, self.settings.core_kwargs)

    def _evaluate_and_log(self) -> dict:
        metrics, paths = self.evaluate()
        metrics = {"env_steps": self.env_steps, "iteration": self.iteration, **metrics}
        self.history.append(metrics)
        self.best.offer(self.parts.actor_net, metrics["cost_ratio_vs_dtw"], self.env_steps)
        self.last_metrics["best_cost_ratio_vs_dtw"] = float(self.best.ratio.numpy())
        self.last_metrics["best_env_steps"] = int(self.best.env_steps.numpy())
        self.last_metrics.update(metrics)
        self.summaries.evaluation(
            self.env_steps, {**metrics, **self.last_metrics}, eval_alignment_image(self.eval_set, paths)
        )
        self.write_metrics(status="running")
        return metrics

    def _fail(self, reason: str) -> None:
        good = tf.train.latest_checkpoint(str(self.folder.checkpoints))
        message = (
            f"training diverged at iteration {self.iteration}, env step {self.env_steps}: {reason}. "
            f"Nothing was saved after the last good checkpoint ({good or 'none'}). "
            f"Lower learning_rate (now {self.config.learning_rate}) or gradient_clipping and resume or restart."
        )
        self.write_metrics(status="diverged", error=message)
        raise TrainingDivergedError(message)

    def write_metrics(self, status: str, error: str | None = None) -> None:
        """Write ``metrics.json`` with ``status`` (running, completed, diverged), the latest metrics and history."""
        self.folder.write_metrics(status, dict(self.last_metrics), self.history, error=error)

    # ----------------------------------------------------------------- train
    def train(self, num_iterations: int | None = None, callback: Callable | None = None) -> dict:
        """Run PPO iterations (BC warm start first if configured and not done), evaluating and checkpointing
        every ``config.evaluation_interval`` / ``config.checkpoint_interval`` iterations and at the end.

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
        return self._run(num_iterations, callback, config.evaluation_interval, config.checkpoint_interval)

    def fine_tune(self, num_iterations: int) -> dict:
        """The PPO loop for a caller that embeds the trainer round by round (``set_pairs``, then this): the same
        iterations as :meth:`train`, evaluated and checkpointed once, at the end of the call.

        Returns
        -------
        dict
            The latest metrics (also written to ``metrics.json``).
        """
        return self._run(num_iterations, None, None, None)

    def _run(self, num_iterations, callback, evaluate_every, checkpoint_every) -> dict:
        """The PPO loop core: iterations, with evaluations and checkpoints every so many (None: at the end only)."""
        config = self.config
        self.warm_start()
        if num_iterations is None:
            num_iterations = max(0, config.num_iterations - self.iteration)
        if isinstance(num_iterations, bool) or not isinstance(num_iterations, (int, np.integer)):
            raise TypeError(f"num_iterations must be an int or None; got {num_iterations!r}")
        if num_iterations < 0:
            raise ValueError(f"num_iterations must be >= 0; got {num_iterations}")
        if tf.train.latest_checkpoint(str(self.folder.checkpoints)) is None:
            self.checkpointer.save(global_step=self._env_steps)  # a good state to fall back to
        if not self.history or self.history[-1]["env_steps"] != self.env_steps:
            self._evaluate_and_log()
        last_saved = self.iteration
        loop_start, loop_cpu, steps_before = time.perf_counter(), time.process_time(), self.env_steps
        self.phase_seconds = dict.fromkeys(PHASES, 0.0)
        total = (self.iteration + int(num_iterations)) * config.steps_per_iteration
        with progress_bar(total, "PPO", initial=self.env_steps, unit="env step", enabled=self.progress) as bar:
            for _ in range(int(num_iterations)):
                self._iterate()
                if evaluate_every is not None and self.iteration % evaluate_every == 0:
                    with self._timed("evaluate"):
                        self._evaluate_and_log()
                if checkpoint_every is not None and self.iteration % checkpoint_every == 0:
                    with self._timed("checkpoint"):
                        self.checkpointer.save(global_step=self._env_steps)
                    last_saved = self.iteration
                end_to_end = (self.env_steps - steps_before) / (time.perf_counter() - loop_start)
                self.summaries.end_to_end(self.env_steps, end_to_end)
                ratio = self.last_metrics.get("cost_ratio_vs_dtw")
                bar.set_postfix(ratio=f"{ratio:.4f}" if ratio is not None else "-", refresh=False)
                bar.update(config.steps_per_iteration)
                if callback is not None:
                    callback(
                        self,
                        {
                            "env_steps": self.env_steps,
                            "steps_per_second": self.last_metrics["steps_per_second"],
                            "cost_ratio_vs_dtw": ratio,
                        },
                    )
        if self.history[-1]["env_steps"] != self.env_steps:
            with self._timed("evaluate"):
                self._evaluate_and_log()
        if last_saved != self.iteration:
            with self._timed("checkpoint"):
                self.checkpointer.save(global_step=self._env_steps)
        if self.env_steps > steps_before:
            wall = time.perf_counter() - loop_start
            self.last_metrics["ppo_wall_s"] = wall
            self.last_metrics["ppo_cpu_s"] = time.process_time() - loop_cpu  # every thread of the process
            # everything included: collection, updates, evaluations, checkpoints
            self.last_metrics["end_to_end_steps_per_second"] = (self.env_steps - steps_before) / wall
            self.last_metrics["phase_seconds"] = dict(self.phase_seconds)
            self._say(
                f"PPO: {self.env_steps - steps_before:,} env steps in {wall:.1f} s, "
                f"{self.last_metrics['end_to_end_steps_per_second']:,.0f} env steps/s end to end"
            )
        self.summaries.flush()
        self.write_metrics(status="completed" if self.iteration >= config.num_iterations else "running")
        return dict(self.last_metrics)

    @contextlib.contextmanager
    def _timed(self, phase: str):
        """Add the block's wall time to ``phase_seconds[phase]``."""
        start = time.perf_counter()
        try:
            yield
        finally:
            self.phase_seconds[phase] += time.perf_counter() - start

    def _iterate(self) -> None:
        """One PPO iteration: collect, learn (critic only during warm-up), DAgger, log."""
        config = self.config
        start = time.perf_counter()
        with self._timed("collect"):
            self._collect_policy.sync()  # the weights of the last update
            experience, visited = self.collector.run(config.collect_steps)
        collect_s = time.perf_counter() - start
        learn = self._learn if self.iteration >= self.critic_warmup_iterations else self._learn_critic
        with self._timed("learn"):
            loss_info, finite = learn(experience)
            finite = bool(finite.numpy())
        if not finite:
            self._fail(f"the PPO loss is {float(loss_info.loss.numpy())} or a weight is not finite")
        dagger_loss = None
        if visited is not None and self.iteration >= self.critic_warmup_iterations:
            with self._timed("dagger"):
                dagger_loss = dagger_update(self.cloner, visited, self.dagger_steps, config.bc_batch_size, self._rng)
            if not np.isfinite(dagger_loss):
                self._fail(f"the DAgger cross-entropy is {dagger_loss}")
        self._env_steps.assign_add(config.steps_per_iteration)
        self._iteration.assign_add(1)
        elapsed = time.perf_counter() - start
        sps = config.steps_per_iteration / elapsed
        self.last_metrics["steps_per_second"] = sps
        episodes = self.collector.episodes.result()
        if episodes is not None:
            self.last_metrics["average_return"], self.last_metrics["average_episode_length"] = episodes
        train_ratio = float(np.mean(self.collector.train_ratios)) if self.collector.train_ratios else None
        if train_ratio is not None:
            self.last_metrics["train_cost_ratio"] = train_ratio
        self.summaries.iteration(
            self.env_steps, loss_info, sps, collect_s / elapsed, dagger_loss, episodes, train_ratio
        )

    # ------------------------------------------------------------------ save
    def save_policy(self) -> Path:
        """Save the greedy policy with ``PolicySaver`` to ``<run>/policy`` (+ ``dtwrl_env.json``) and a figure.

        With ``config.keep_best`` the saved actor is the one with the best
        validation ratio seen (the live agent is left as it is).
        """
        policy_dir = self.folder.policy
        use_best = self.config.keep_best and self.best.seen

        def save():
            save_policy(self.agent.policy, policy_dir, self.settings.core_kwargs, train_step=self.train_step)
            return self.evaluate()

        if use_best:
            with self.best.swapped_into(self.parts.actor_net):
                saved_metrics, paths = save()
        else:
            saved_metrics, paths = save()
        self.last_metrics["policy_env_steps"] = int(self.best.env_steps.numpy()) if use_best else self.env_steps
        self.last_metrics["policy_cost_ratio_vs_dtw"] = saved_metrics["cost_ratio_vs_dtw"]
        self.folder.save_image(eval_alignment_image(self.eval_set, paths), "eval_alignment.png")
        return policy_dir


def run_training(trainer: AlignerTrainer, callback: Callable | None = None) -> tuple[Path, dict]:
    """Train a built trainer to its budget, save its policy and finish its run folder.

    Returns
    -------
    run_dir : pathlib.Path
    metrics : dict
        As :func:`train_aligner`.
    """
    if trainer.completed is not None:  # a rerun of a finished run: its folder stays as it is
        trainer._say(completed_message(trainer.run_dir, trainer.completed))
        return trainer.run_dir, dict(trainer.completed)
    start = time.perf_counter()
    trainer.train(callback=callback)
    trainer.save_policy()
    trainer.last_metrics["train_seconds_this_session"] = time.perf_counter() - start
    trainer.write_metrics(status="completed")
    return trainer.run_dir, dict(trainer.last_metrics)


def train_aligner(config: AlignerConfig, callback: Callable | None = None, progress: bool = False) -> tuple[Path, dict]:
    """Train an aligner policy and write its run folder.

    Parameters
    ----------
    config : AlignerConfig
        A run folder that already holds checkpoints (same ``out_dir`` and
        ``run_name``) is resumed from its last checkpoint.
    callback : callable or None
        ``callback(trainer, stats)`` after each iteration.
    progress : bool
        Report progress on stdout (see :class:`AlignerTrainer`).

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
    return run_training(AlignerTrainer(config, progress=progress), callback)
