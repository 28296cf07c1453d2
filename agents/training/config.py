"""``AlignerConfig``: every setting of an aligner training run, each one checked when the config is built.

A field's metadata carries its ``help`` line, which ``experiments/train_aligner.py``
turns into a command-line option. Every field is validated (type and range, the
message naming the field) in ``__post_init__``, so a bad value is refused before
anything is built or written.

>>> AlignerConfig(total_env_steps=8192).num_iterations
2
>>> AlignerConfig(bc_detour=1.5)
Traceback (most recent call last):
...
agents.fields.FieldError: bc_detour must be in [0, 1); got 1.5
"""

import dataclasses
import math
import os
from datetime import datetime
from pathlib import Path

from ..fields import FieldError, FieldTypeError, check_int, check_real, field, field_of_error, is_int


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

    Every field has a ``help`` line in its metadata. Building the config checks
    every field's type and range (``TypeError``/``ValueError`` naming it);
    whether ``env_id``, ``pairs`` and ``init_from`` can be loaded is checked by
    ``AlignerTrainer`` before it creates the run folder.

    Examples
    --------
    >>> config = AlignerConfig(num_envs=8, collect_steps=16, total_env_steps=1000)
    >>> config.steps_per_iteration, config.num_iterations, config.evaluation_interval
    (128, 8, 1)
    """

    env_id: str = field(
        "dtwrl/SyntheticWarp-v0",
        "Registered environment id (see envs.register_env); with "
        "init_from, an id stored in that run folder needs no registration.",
    )
    pairs: str | None = field(
        None,
        "Train on your own series instead of the env's pairs: a UCR/UEA .ts/.tsv file "
        "or folder (train split), a .npy array (N, n[, d]) or a .csv with one series per row; "
        "the env's other settings (window, metric, band) are kept.",
    )
    seed: int = field(1, "Seeds TensorFlow, NumPy and the training env's pair stream (0 <= seed < 2**32).")
    num_envs: int = field(64, "Alignments stepped together (batch of each policy call).")
    total_env_steps: int = field(1_000_000, "PPO budget in env steps (rounded up to whole iterations); BC has its own.")
    collect_steps: int = field(
        64, "Steps per env per iteration (>= 2); an iteration collects num_envs * collect_steps transitions."
    )
    window: int | None = field(
        None,
        "Observation window k (k x k local costs, k >= 2: the three moves enter cells "
        "(1, 1), (1, 0) and (0, 1)); None keeps the env's registered value.",
    )
    reward_scale: str | float = field(
        "pair",
        "Env reward scale: 'pair' divides each pair's costs by its mean band "
        "cost (the scale the window is normalised by, so the critic can predict "
        "returns); a positive number multiplies them.",
    )
    learning_rate: float = field(3e-4, "Adam learning rate of PPO (> 0).")
    hidden: tuple[int, ...] = field((128, 128), "Hidden layer sizes of the actor and the critic MLPs.")
    cost_floor: float = field(1e-3, "Added to the window values before their log in the networks (> 0).")
    num_epochs: int = field(4, "PPO epochs (full-batch gradient steps) per iteration.")
    entropy: float = field(0.0, "Entropy regularisation coefficient (>= 0).")
    clip_ratio: float = field(0.2, "PPO importance-ratio clipping epsilon (> 0).")
    discount: float = field(
        0.95,
        "Discount factor in (0, 1]; < 1 keeps the critic local (a move mostly pays within "
        "a few cells), 1 makes the return exactly minus the path cost.",
    )
    gae_lambda: float = field(0.9, "GAE lambda in [0, 1].")
    normalize_rewards: bool = field(
        False,
        "Divide rewards by their running standard deviation; off by default "
        "because reward_scale='pair' already normalises.",
    )
    gradient_clipping: float = field(0.5, "Global-norm gradient clipping (>= 0; 0 disables it).")
    bc_warmstart: bool = field(
        True, "Warm-start the actor by behavioural cloning of exact DTW moves (False: PPO only)."
    )
    bc_env_steps: int = field(1_000_000, "BC budget: labelled states from detoured expert rollouts.")
    bc_detour: float = field(0.2, "Probability of a random legal move in the BC rollouts, in [0, 1).")
    bc_epochs: int = field(6, "Supervised epochs over the BC data.")
    bc_batch_size: int = field(1024, "BC minibatch size.")
    bc_learning_rate: float = field(1e-3, "Adam learning rate of BC (> 0).")
    dagger_steps: int = field(
        4,
        "With bc_warmstart: after each PPO update, this many cloning minibatches on the "
        "states the policy visited, labelled with the expert move (a DAgger-style anchor); "
        "0 leaves PPO alone.",
    )
    critic_warmup_iterations: int = field(
        10,
        "After BC (or init_from), the first PPO iterations train only the "
        "critic, so the cloned actor is not pushed around by a random value "
        "baseline.",
    )
    keep_best: bool = field(
        True, "Save the actor with the best validation (eval set) cost ratio seen rather than the last one."
    )
    eval_pairs: int = field(64, "Size of the fixed held-out evaluation set.")
    eval_seed: int = field(20261126, "Seed of the evaluation pairs (never used for training).")
    eval_interval: int | None = field(
        None,
        "Evaluate every this many iterations (and at the start and the end); None: often enough for 10 points per run.",
    )
    checkpoint_interval: int = field(20, "Checkpoint every this many iterations (and at the end).")
    out_dir: str = field("results/aligner", "Parent folder of run folders.")
    run_name: str | None = field(
        None, "Run folder name; None: {env}__{exp_name}__{seed}__{time}. Reuse a name to resume that run."
    )
    exp_name: str = field("ppo", "Experiment label in the run name.")
    init_from: str | None = field(
        None,
        "A previous run folder to start from (networks and reward normaliser), an "
        "actor .npz file, or 'pretrained' (the package's general aligner; the critic "
        "starts fresh); its window, hidden, cost_floor (and lookahead) are used. Ignored "
        "when this run resumes.",
    )

    def __post_init__(self) -> None:
        validate_config(self)

    @property
    def steps_per_iteration(self) -> int:
        """Env steps collected per PPO iteration."""
        return self.num_envs * self.collect_steps

    @property
    def num_iterations(self) -> int:
        """PPO iterations that cover ``total_env_steps``."""
        return math.ceil(self.total_env_steps / self.steps_per_iteration)

    @property
    def evaluation_interval(self) -> int:
        """``eval_interval``, or (None) the interval that gives about 10 evaluations over the run."""
        if self.eval_interval is not None:
            return self.eval_interval
        return max(1, self.num_iterations // 10)

    def to_dict(self) -> dict:
        """The fields as a dict (``config.json``)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> "AlignerConfig":
        """Build from a dict (e.g. config.json); unknown keys raise ValueError."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - names)
        if unknown:
            raise ValueError(f"unknown AlignerConfig fields: {unknown}")
        return cls(**values)


# ------------------------------------------------------------------ field checks
def _bool(config, name):
    value = getattr(config, name)
    if not isinstance(value, bool):
        raise FieldTypeError(name, f"must be True or False; got {value!r}")


def _text(config, name, optional=False, path=False):
    value = getattr(config, name)
    if value is None and optional:
        return
    if path and isinstance(value, os.PathLike):
        value = os.fspath(value)
    if not isinstance(value, str) or not value.strip():
        kind = "a path" if path else "a non-empty string"
        raise FieldTypeError(name, f"must be {kind}{' or None' if optional else ''}; got {value!r}")
    setattr(config, name, value)


def validate_config(config: AlignerConfig) -> AlignerConfig:
    """Check every field of ``config`` (type and range), normalising NumPy scalars to Python ones.

    Parameters
    ----------
    config : AlignerConfig

    Returns
    -------
    AlignerConfig
        ``config`` itself.

    Raises
    ------
    TypeError, ValueError
        Naming the first bad field.
    """
    for name in ("env_id", "exp_name"):
        _text(config, name)
    _text(config, "out_dir", path=True)
    for name in ("pairs", "init_from"):
        _text(config, name, optional=True, path=True)
    _text(config, "run_name", optional=True)
    if config.run_name is not None and (Path(config.run_name).name != config.run_name or config.run_name in ("..",)):
        raise FieldError("run_name", f"must be a folder name without separators; got {config.run_name!r}")
    for name in ("seed", "eval_seed"):
        check_int(config, name, 0, 2**32 - 1)
    for name in (
        "num_envs",
        "total_env_steps",
        "num_epochs",
        "bc_epochs",
        "bc_batch_size",
        "eval_pairs",
        "checkpoint_interval",
    ):
        check_int(config, name, 1)
    check_int(config, "collect_steps", 2)  # PPO bootstraps from the last step
    for name in ("dagger_steps", "critic_warmup_iterations"):
        check_int(config, name, 0)
    check_int(config, "bc_env_steps", 1 if config.bc_warmstart is True else 0)
    if config.eval_interval is not None:
        check_int(config, "eval_interval", 1)
    if config.window is not None:
        check_int(config, "window", 2)
    for name in ("normalize_rewards", "bc_warmstart", "keep_best"):
        _bool(config, name)
    for name in ("learning_rate", "bc_learning_rate", "clip_ratio", "cost_floor"):
        check_real(config, name, 0.0, low_open=True)
    for name in ("entropy", "gradient_clipping"):
        check_real(config, name, 0.0)
    check_real(config, "discount", 0.0, 1.0, low_open=True)
    check_real(config, "gae_lambda", 0.0, 1.0)
    check_real(config, "bc_detour", 0.0, 1.0, high_open=True)  # a detour of 1 would never follow the expert
    if isinstance(config.reward_scale, str):
        if config.reward_scale != "pair":
            raise FieldError("reward_scale", f"must be 'pair' or a positive number; got {config.reward_scale!r}")
    else:
        check_real(config, "reward_scale", 0.0, low_open=True)
    hidden = config.hidden
    if is_int(hidden):
        hidden = (hidden,)
    if not isinstance(hidden, (tuple, list)) or not hidden or not all(is_int(h) for h in hidden):
        raise FieldTypeError("hidden", f"must be a non-empty sequence of ints; got {config.hidden!r}")
    if min(hidden) < 1:
        raise FieldError("hidden", f"must be positive layer sizes; got {tuple(hidden)}")
    config.hidden = tuple(int(h) for h in hidden)
    return config


def run_name(source: str, exp_name: str, seed, when: datetime | None = None) -> str:
    """``{source}__{exp}__{seed}__{time}`` (cleanrl's run name), the one run-name scheme of every script;
    a namespaced id (``dtwrl/GunPoint-v0``) keeps its last part.

    >>> run_name("dtwrl/SyntheticWarp-v0", "ppo", 1, when=datetime(2026, 11, 26, 10, 30))
    'SyntheticWarp-v0__ppo__1__20261126-103000'
    """
    when = datetime.now() if when is None else when
    return f"{source.split('/')[-1]}__{exp_name}__{seed}__{when.strftime('%Y%m%d-%H%M%S')}"


def default_run_name(config: AlignerConfig, when: datetime | None = None) -> str:
    """:func:`run_name` of a training run: the env id's last part, or the ``pairs`` file's stem.

    >>> default_run_name(AlignerConfig(seed=3), when=datetime(2026, 11, 26, 10, 30))
    'SyntheticWarp-v0__ppo__3__20261126-103000'
    """
    source = Path(config.pairs).stem if config.pairs is not None else config.env_id
    return run_name(source, config.exp_name, config.seed, when)


def flag_of_error(error: Exception, names: list[str] | None = None) -> str | None:
    """The config field a validation error is about, or None: a :class:`~agents.fields.FieldError`'s own
    ``field``; for the errors raised elsewhere (env, pairs and ``init_from`` loaders, the run folder), the field
    name their message starts with.

    Scripts use it to print ``error: --field-name: message``.

    >>> flag_of_error(FieldError("bc_detour", "must be in [0, 1); got 1.5"))
    'bc_detour'
    >>> flag_of_error(ValueError("config differs from the run being resumed in ['seed']"))
    'run_name'
    """
    if field_of_error(error) is not None:
        return field_of_error(error)
    message = str(error)
    if message.startswith("config differs from the run being resumed"):
        return "run_name"
    names = [f.name for f in dataclasses.fields(AlignerConfig)] if names is None else names
    for name in sorted(names, key=len, reverse=True):
        if message.startswith(name) and message[len(name) : len(name) + 1] in (" ", ":", ""):
            return name
    return None
