"""The general pretrained aligner: its mixed training corpus and its imitation (BC + DAgger) training.

Corpus (:class:`MixedCorpus`), one family drawn per batch of alignments:

- ``synthetic``: ``dtwrl.datasets.synthetic_warp_pair`` with random length
  (20 to 400), dimension (1 to 3), noise (0 to 0.3) and warp strength (0.2 to 2.5);
- ``synthetic-long``: the same at lengths 500 to 1200 (few alignments at a time);
- ``warped-real``: a real training series (GunPoint train, BasicMotions train),
  randomly cropped, resampled to 16 to 300 samples, and a randomly warped noisy
  copy of it;
- ``real-pairs``: two different real training series, cropped and resampled to
  independent lengths;
- with ``max_length`` above :data:`SHORT_MAX_LENGTH` (``--max-length``), also
  ``synthetic-longest``: synthetic warps of log-uniform length up to
  ``max_length``, and ``long-real``: the ``"train"`` split of the long
  recordings (``dtwrl.datasets.long_recordings``; never their ``"test"``
  split, which ``benchmark_aligner.py --long`` evaluates on), as a crop tiled
  to a log-uniform length up to ``max_length`` against a warped noisy copy, as
  halves of one recording, or as two different recordings; and ``unrelated-long``:
  two series with no warp between them (independent synthetic draws, or long-recording
  crops at independent starts), where the exact path follows no common shape.

ItalyPowerDemand, the GunPoint test split and the long recordings' test split
are never read: they measure transfer. Every series is z-normalised (as the
UCR archive stores them).

Training (:func:`imitate`): behavioural cloning of the exact DTW move
(``WarpingBatch.expert_actions``) on detoured expert rollouts, then DAgger
rounds: the current policy drives (with a few random detours), every visited
state is labelled with the expert move from it, and the actor is refitted on
the aggregate. ``expert="corridor"`` (the corridor observation only) labels
with the exact move only where it stays in the corridor, else with the
corridor's own optimal move (:func:`agents.training.imitation.corridor_labels`).
"""

import dataclasses
import time

import numpy as np
import tensorflow as tf
from tf_agents.specs import tensor_spec

from dtwrl.datasets import load_ucr
from dtwrl.datasets.long_recordings import load_long_recordings
from dtwrl.datasets.synthetic import random_monotone_warp, resample, synthetic_warp_pair

from ..policy.actor import NumpyActor
from ..policy.networks import build_networks
from ..policy.rollouts import make_core
from .config import AlignerConfig, check_int, check_real, field
from .imitation import EXPERTS, Cloner, labelled_rollouts

#: Real series the corpus may use: (dataset file under the data root, split).
#: Never ItalyPowerDemand, never GunPoint TEST.
REAL_SOURCES = (("GunPoint/GunPoint_TRAIN.ts", "train"), ("BasicMotions/BasicMotions_TRAIN.ts", "train"))
#: The longest series of the default corpus (``synthetic-long``); a larger ``max_length`` adds the long families.
SHORT_MAX_LENGTH = 1200
#: Pairs per batch of the long families (each is tens of thousands of states).
LONG_BATCH = 2


def _znorm(x):
    x = np.asarray(x, dtype=np.float64)
    std = x.std(axis=0)
    return (x - x.mean(axis=0)) / np.where(std > 1e-8, std, 1.0)


def _crop_resample(rng, x, low, high):
    """A random crop (>= 60% of x) resampled to a random length in [low, high]."""
    n = len(x)
    keep = int(rng.integers(max(2, int(0.6 * n)), n + 1))
    start = int(rng.integers(0, n - keep + 1))
    part = x[start : start + keep]
    length = int(rng.integers(low, high + 1))
    return resample(part, np.linspace(0.0, keep - 1.0, length))


class MixedCorpus:
    """Pair families of the pretraining corpus (see the module notes).

    Parameters
    ----------
    data_root : str or pathlib.Path
        Folder holding the UCR sets (``GunPoint/``, ``BasicMotions/``).
    max_length : int >= SHORT_MAX_LENGTH
        Longest series drawn; above :data:`SHORT_MAX_LENGTH` the long families join the corpus.
    long_root : str, pathlib.Path or None
        Folder of the long recordings (only their ``"train"`` split is read); None or
        a folder without recordings leaves ``long-real`` out.

    Attributes
    ----------
    families : dict
        ``name -> (draw(rng) -> (x, y), alignments per batch)``.
    """

    def __init__(self, data_root, max_length=SHORT_MAX_LENGTH, long_root=None):
        from pathlib import Path

        if isinstance(max_length, bool) or not isinstance(max_length, (int, np.integer)):
            raise TypeError(f"max_length must be an int; got {type(max_length).__name__}")
        if max_length < SHORT_MAX_LENGTH:
            raise ValueError(
                f"max_length must be >= {SHORT_MAX_LENGTH} (the default corpus' longest); got {max_length}"
            )
        self.max_length = int(max_length)
        root = Path(data_root)
        self.real = []
        for relative, _ in REAL_SOURCES:
            X, _labels = load_ucr(str(root / relative))
            series = [_znorm(x) for x in X]
            self.real.append(series)
        self.families = {
            "synthetic": (self._synthetic, 64),
            "synthetic-long": (self._synthetic_long, 6),
            "warped-real": (self._warped_real, 64),
            "real-pairs": (self._real_pairs, 64),
        }
        self.long = []
        if self.max_length > SHORT_MAX_LENGTH:
            self.families["synthetic-longest"] = (self._synthetic_longest, LONG_BATCH)
            self.families["unrelated-long"] = (self._unrelated_long, LONG_BATCH)
            if long_root is not None:
                self.long = [_znorm(x) for x in load_long_recordings(long_root, "train").values()]
            if self.long:
                self.families["long-real"] = (self._long_real, LONG_BATCH)

    @staticmethod
    def _synthetic_pair(rng, low, high):
        n = int(rng.integers(low, high + 1))
        m = n if rng.random() < 0.5 else int(np.clip(n * rng.uniform(0.7, 1.4), low, high))
        d = int(rng.integers(1, 4))
        x, y, _ = synthetic_warp_pair(
            rng, n, m, d, noise=float(rng.uniform(0.0, 0.3)), warp_strength=float(rng.uniform(0.2, 2.5))
        )
        return _znorm(x), _znorm(y)

    def _synthetic(self, rng):
        return self._synthetic_pair(rng, 20, 400)

    def _synthetic_long(self, rng):
        return self._synthetic_pair(rng, 500, 1200)

    def _long_length(self, rng):
        """A length log-uniform in [SHORT_MAX_LENGTH, max_length]."""
        return int(np.exp(rng.uniform(np.log(SHORT_MAX_LENGTH), np.log(self.max_length))))

    def _synthetic_longest(self, rng):
        n = self._long_length(rng)
        m = int(np.clip(n * rng.uniform(0.8, 1.25), SHORT_MAX_LENGTH, self.max_length))
        x, y, _ = synthetic_warp_pair(
            rng, n, m, 1, noise=float(rng.uniform(0.0, 0.3)), warp_strength=float(rng.uniform(0.2, 2.5))
        )
        return _znorm(x), _znorm(y)

    def _unrelated_long(self, rng):
        """Two series with no warp between them, of log-uniform lengths: independent synthetic draws, or crops of
        the long recordings at independent random starts (the same recording or two)."""
        n = self._long_length(rng)
        m = int(np.clip(n * rng.uniform(0.8, 1.25), SHORT_MAX_LENGTH, self.max_length))
        if not self.long or rng.random() < 0.5:
            x = synthetic_warp_pair(rng, n, n, 1, noise=float(rng.uniform(0.0, 0.3)))[1]
            y = synthetic_warp_pair(rng, m, m, 1, noise=float(rng.uniform(0.0, 0.3)))[1]
            return _znorm(x), _znorm(y)
        crops = []
        for length in (n, m):
            series = self.long[int(rng.integers(len(self.long)))]
            start = int(rng.integers(len(series)))
            crops.append(np.tile(series, (length // len(series) + 2, 1))[start : start + length])
        return _znorm(crops[0]), _znorm(crops[1])

    def _long_real(self, rng):
        """A train-split recording tiled from a random start to a long length against a warped noisy copy; halves
        of one recording; or two different recordings (when there are two)."""
        kind = int(rng.integers(3 if len(self.long) > 1 else 2))
        k = int(rng.integers(len(self.long)))
        series = self.long[k]
        if kind == 0:
            n = self._long_length(rng)
            start = int(rng.integers(len(series)))
            x = np.tile(series, (n // len(series) + 2, 1))[start : start + n]
            m = int(np.clip(n * rng.uniform(0.8, 1.25), SHORT_MAX_LENGTH, self.max_length))
            warp = random_monotone_warp(rng, n, m, strength=float(rng.uniform(0.2, 2.0)))
            y = resample(x, warp) + rng.normal(0.0, rng.uniform(0.0, 0.2), size=(m, 1))
            return _znorm(x), _znorm(y)
        if kind == 1:
            half = len(series) // 2
            return _znorm(series[:half]), _znorm(series[half:])
        other = (k + 1 + int(rng.integers(len(self.long) - 1))) % len(self.long)
        return series, self.long[other]

    def _pick(self, rng):
        series = self.real[int(rng.integers(len(self.real)))]
        return series, int(rng.integers(len(series)))

    def _warped_real(self, rng):
        series, k = self._pick(rng)
        x = _crop_resample(rng, series[k], 16, 300)
        m = int(np.clip(len(x) * rng.uniform(0.7, 1.4), 12, 360))
        warp = random_monotone_warp(rng, len(x), m, strength=float(rng.uniform(0.2, 2.0)))
        y = resample(x, warp) + rng.normal(0.0, rng.uniform(0.0, 0.2), size=(m, x.shape[1]))
        return _znorm(x), _znorm(y)

    def _real_pairs(self, rng):
        series, k = self._pick(rng)
        other = (k + 1 + int(rng.integers(len(series) - 1))) % len(series)
        low = int(rng.choice([16, 24, 60, 100]))
        high = low + int(rng.integers(8, 200))
        return _znorm(_crop_resample(rng, series[k], low, high)), _znorm(_crop_resample(rng, series[other], low, high))

    def pair_source(self, families=("synthetic", "warped-real", "real-pairs")):
        """A per-pair source ``rng -> (x, y)`` over ``families`` (equal odds), for a registered env (PPO)."""
        unknown = sorted(set(families) - set(self.families))
        if unknown:
            raise ValueError(f"families must be among {sorted(self.families)}; got {unknown}")
        draws = [self.families[name][0] for name in families]

        def draw(rng):
            return draws[int(rng.integers(len(draws)))](rng)

        return draw

    def batch(self, rng, weights=None):
        """A family name and a batch of its pairs (the family drawn with ``weights``, default equal)."""
        names = list(self.families)
        p = None if weights is None else np.asarray([weights[name] for name in names], dtype=np.float64)
        name = names[int(rng.choice(len(names), p=None if p is None else p / p.sum()))]
        draw, count = self.families[name]
        return name, [draw(rng) for _ in range(count)]


@dataclasses.dataclass
class ImitationConfig(AlignerConfig):
    """The imitation training of a general actor (:func:`imitate`): AlignerConfig's ``seed``, ``hidden`` and
    ``bc_*`` fields (behavioural cloning, validated as there), then DAgger rounds."""

    dagger_rounds: int = field(3, "DAgger rounds after behavioural cloning.")
    dagger_states: int = field(100_000, "States the policy visits (expert-labelled) in each DAgger round.")
    dagger_detour: float = field(0.05, "Probability of a random legal move in the DAgger rollouts, in [0, 1).")
    expert: str = field(
        "exact", "Labels: 'exact' (the exact DTW move) or 'corridor' (the exact move where it stays in the corridor)."
    )

    def __post_init__(self):
        super().__post_init__()
        for name in ("dagger_rounds", "dagger_states"):
            check_int(self, name, 0 if name == "dagger_rounds" else 1)
        check_real(self, "dagger_detour", 0.0, 1.0, high_open=True)
        if self.expert not in EXPERTS:
            raise ValueError(f"expert must be one of {EXPERTS}; got {self.expert!r}")


def build_actor(core_kwargs, hidden, seed):
    """A fresh masked actor network (``agents.policy.networks.build_networks``) for ``core_kwargs``' observation."""
    tf.random.set_seed(seed)
    spec = make_core(core_kwargs).observation_spec()
    obs_spec = {key: tf.TensorSpec(shape, tf.as_dtype(dtype)) for key, (shape, dtype, _, _) in spec.items()}
    act_spec = tensor_spec.BoundedTensorSpec((), tf.int64, 0, 2)
    actor_net, _ = build_networks(obs_spec, act_spec, hidden=hidden)
    return actor_net


def imitate(corpus, core_kwargs, config, weights=None, log=print):
    """BC on detoured expert rollouts, then DAgger rounds; returns ``(actor_net, history)``.

    Parameters
    ----------
    corpus : MixedCorpus
    core_kwargs : dict
        ``WarpingBatch`` arguments (the observation the actor reads).
    config : ImitationConfig
    weights : dict or None
        Family weights of the corpus.
    log : callable
        Receives one progress line per stage.

    Returns
    -------
    actor_net : MaskSplitterNetwork
    history : list of dict
        Per stage: ``stage``, ``states``, ``cross_entropy``, ``accuracy``, ``seconds``.
    """
    rng = np.random.default_rng(config.seed)
    actor_net = build_actor(core_kwargs, config.hidden, config.seed)
    cloner = Cloner(actor_net, config.bc_learning_rate)

    def next_pairs():
        return corpus.batch(rng, weights)[1]

    history = []
    data = None
    for stage in range(config.dagger_rounds + 1):
        start = time.perf_counter()
        if stage == 0:
            new = labelled_rollouts(
                next_pairs, rng, core_kwargs, config.bc_env_steps, config.bc_detour, expert=config.expert
            )
        else:
            act = NumpyActor.from_network(actor_net).act
            new = labelled_rollouts(
                next_pairs, rng, core_kwargs, config.dagger_states, config.dagger_detour, act, expert=config.expert
            )
        data = new if data is None else {key: np.concatenate([data[key], new[key]]) for key in data}
        for _ in range(config.bc_epochs):
            loss, accuracy = cloner.epoch(data, config.bc_batch_size, rng)
        row = {
            "stage": "bc" if stage == 0 else f"dagger{stage}",
            "states": int(len(data["expert_action"])),
            "cross_entropy": loss,
            "accuracy": accuracy,
            "seconds": time.perf_counter() - start,
        }
        history.append(row)
        log(
            f"{row['stage']}: {row['states']:,} states, cross-entropy {loss:.4f}, accuracy {accuracy:.4f}, "
            f"{row['seconds']:.0f} s"
        )
    return actor_net, history


def validation_ratios(actor_file, pair_sets, num_pairs, seed):
    """Mean greedy cost ratio vs exact DTW of an actor file on each named pair source.

    Parameters
    ----------
    actor_file : str or pathlib.Path
    pair_sets : dict
        ``name -> pair source``.
    num_pairs : int
    seed : int

    Returns
    -------
    dict
        ``name -> mean ratio``.
    """
    from ..evaluation import make_eval_set
    from ..policy.aligner import PolicyAligner
    from .environment import EnvSettings

    aligner = PolicyAligner(actor_file)
    core = {"metric": "sqeuclidean", "band": None}
    out = {}
    for name, source in pair_sets.items():
        eval_set = make_eval_set(EnvSettings(name, source, dict(core), dict(core)), num_pairs, seed)
        out[name] = float(np.mean(eval_set.ratios(aligner.align_pairs(eval_set.pairs))))
    return out


__all__ = ["ImitationConfig", "MixedCorpus", "build_actor", "imitate", "validation_ratios"]
