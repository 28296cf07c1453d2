"""Turn a trained alignment policy into an aligner: pairs in, warping paths out.

An aligner (docs/ARCHITECTURE.md) is a callable ``aligner(y_true, y_pred)`` that
takes NumPy batches ``(B, n, d)`` and ``(B, m, d)`` and returns ``B`` int64
paths ``(L_b, 2)`` from ``(0, 0)`` to ``(n-1, m-1)``, the first column indexing
``y_true``. :class:`PolicyAligner` builds them by rollouts of the policy,
batched over the pairs (:mod:`agents.policy.rollouts`): greedy (the policy's
most likely move, the whole rollout compiled), a beam search
(:mod:`agents.policy.decoding`), or with ``samples=K`` K paths per pair sampled
at a temperature, a group of paths in the sense of :mod:`dtwrl.aligners` whose
mean cost ``dtwrl.losses.PathLoss`` takes.

Which policy a value names is decided once, by :func:`resolve_policy`:
``"pretrained"`` or an actor ``.npz`` file (run by :class:`~agents.policy.actor.NumpyActor`,
no TensorFlow needed), a saved-policy folder, a run folder of
``agents.train_aligner``, or a live TF-Agents policy (both through
:class:`~agents.policy.tf_policy.TFPolicy`; the NumPy actor is checked against
the TF policy when the aligner is built, and a policy it cannot reproduce falls
back to TF-Agents calls with a warning).

>>> aligner = PolicyAligner.pretrained()                        # doctest: +SKIP
>>> aligner = PolicyAligner("results/aligner/my-run")          # doctest: +SKIP
>>> paths = aligner(y_true, y_pred)                            # doctest: +SKIP
>>> loss = dtwrl.losses.PathLoss(aligner)                      # doctest: +SKIP
"""

import dataclasses
import numbers
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from dtwrl.aligners import register_aligner
from dtwrl.validation import as_batch

from . import decoding
from .actor import NumpyActor, probe_observations
from .rollouts import (
    MAX_BATCH_CELLS,
    check_sampling,
    greedy_paths,
    make_core,
    rollout_paths,
    route_pairs,
    sampled_paths,
)

PRETRAINED = Path(__file__).with_name("pretrained_aligner.npz")
"""The general pretrained actor shipped with the package (``experiments/pretrain_aligner.py`` writes it);
``"pretrained"`` names it wherever a policy is given."""
PRETRAINED_LONG = Path(__file__).with_name("pretrained_aligner_long.npz")
"""The shipped actor trained on the corridor observation (``experiments/pretrain_aligner.py --max-length``):
``PolicyAligner.pretrained()`` aligns long pairs with it (see ``long_cells``)."""
DECODES = ("greedy", "beam")


@dataclasses.dataclass(frozen=True)
class PolicySource:
    """What a ``policy`` value names (:func:`resolve_policy`).

    Attributes
    ----------
    kind : {"actor_file", "saved_policy", "run_folder", "live"}
    path : pathlib.Path or None
        The actor file, the saved-policy folder or the run folder (None for a live policy).
    policy : object
        The live TF-Agents policy (None otherwise).
    """

    kind: str
    path: Path | None = None
    policy: Any = None

    @property
    def pretrained(self) -> bool:
        """Whether this is the actor shipped with the package (:data:`PRETRAINED`)."""
        return self.kind == "actor_file" and self.path == PRETRAINED

    @property
    def policy_dir(self) -> Path | None:
        """The saved-policy folder: the folder itself, or a run folder's ``policy/``."""
        return {"saved_policy": self.path, "run_folder": None if self.path is None else self.path / "policy"}.get(
            self.kind
        )

    @property
    def run_dir(self) -> Path | None:
        """The ``agents.train_aligner`` run folder holding the policy, when there is one."""
        if self.kind == "run_folder":
            return self.path
        if self.kind == "saved_policy" and (self.path.parent / "config.json").is_file():
            return self.path.parent
        return None

    def __str__(self):
        return "pretrained" if self.pretrained else str(self.path if self.path is not None else self.policy)


def resolve_policy(policy) -> PolicySource:
    """Which policy ``policy`` names: the one place that decides it.

    Parameters
    ----------
    policy : str, os.PathLike, PolicySource or tf_agents.policies.TFPolicy
        ``"pretrained"``; a path ending in ``.npz`` (an actor file); a folder
        holding ``saved_model.pb`` (a saved policy); any other path (a run
        folder of ``agents.train_aligner``, whose files its user checks); or a
        live policy (an object with ``action`` and ``time_step_spec``).

    Returns
    -------
    PolicySource

    Raises
    ------
    TypeError
        For any other value.

    Examples
    --------
    >>> resolve_policy("pretrained").pretrained
    True
    >>> resolve_policy("results/aligner/run").kind
    'run_folder'
    """
    if isinstance(policy, PolicySource):
        return policy
    if isinstance(policy, (str, os.PathLike)):
        if str(policy) == "pretrained":
            return PolicySource("actor_file", PRETRAINED)
        path = Path(policy)
        if str(policy).endswith(".npz"):
            return PolicySource("actor_file", path)
        if (path / "saved_model.pb").is_file():
            return PolicySource("saved_policy", path)
        return PolicySource("run_folder", path)
    if hasattr(policy, "action") and hasattr(policy, "time_step_spec"):
        return PolicySource("live", policy=policy)
    raise TypeError(
        "policy must be 'pretrained', an actor .npz file, a run folder, a saved-policy folder or a TF-Agents "
        f"policy; got {type(policy).__name__}"
    )


def _positive_int(value, name, least=1):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral) or value < least:
        raise ValueError(f"{name} must be an int >= {least}; got {value!r}")
    return int(value)


def _as_batch(values, name):
    if isinstance(values, (list, tuple)) and values and np.ndim(values[0]) in (1, 2):
        raise TypeError(f"{name} must be one array (B, n, d); for pairs of unequal lengths use align_pairs")
    return as_batch(values, name)


@register_aligner
class PolicyAligner:
    """An aligner that warps pairs with a trained policy (greedy rollouts or beam search).

    Parameters
    ----------
    policy : str, pathlib.Path or tf_agents.policies.TFPolicy
        ``"pretrained"`` (the general actor shipped with the package, see
        :meth:`pretrained`); an actor file (``.npz``, ``NumpyActor.save``); a
        run folder of ``agents.train_aligner`` (its ``policy/`` is loaded); a
        saved-policy folder itself; or a live policy (e.g. ``agent.policy``).
    core_kwargs : dict or None
        ``envs.core.WarpingBatch`` arguments the policy was trained with
        (window, metric, band, lookahead, ...). Read from the actor file or the
        saved policy's ``dtwrl_env.json`` when None; required for a live policy.
    batch_size : int
        Pairs rolled out together (one batched actor evaluation per step per chunk).
    decode : {"greedy", "beam"}
        ``"greedy"``: follow the policy's most likely move. ``"beam"``: keep the
        ``beam_width`` best partial paths per pair (``agents.policy.decoding.beam_paths``:
        compared at equal progress i + j, merged when they reach the same cell,
        ranked by cost so far plus the lookahead's cost-to-go estimate, expanded
        by the moves the policy gives at least ``min_prob``).
    beam_width : int >= 1
        Partial paths kept per pair and progress level (``decode="beam"``).
    min_prob : float in [0, 1)
        Beam expansion threshold: a move is tried when the policy gives it at
        least this probability (the policy's own choice always is).

    samples : int >= 1 or None
        None: one greedy path per pair. K: a group of K paths per pair, each
        rolled out by drawing every move from the policy's masked action
        distribution at ``temperature`` (:func:`sample_actions`); see
        :mod:`dtwrl.aligners` for groups of paths. Needs the NumPy actor.
    temperature : float > 0
        Sampling temperature (1: the policy's own distribution).
    seed : int, numpy.random.Generator or None
        Source of the sampling randomness: the same seed gives the same paths
        for the same calls; successive calls draw fresh paths.
    long_cells : int >= 0 or None
        Pairs of more than this many grid cells (``n * m``) are aligned on the
        linear corridor observation (``envs.observation.corridor_lookahead()``),
        in time and memory O((n + m) r) instead of O(n m): the policy's own
        observation would need the full cost matrix; 0 sends every pair there.
        The pretrained aligner on its saved ``core_kwargs`` reads it with a
        second network trained on it (:data:`PRETRAINED_LONG`, named by
        ``long_actor_file``, at the radius saved with it: 16), any other
        policy (or the pretrained one given other ``core_kwargs``) with its own
        network. Applies to greedy decoding, when the network reads the
        corridor's ``"lookahead"`` key (the shipped one does) and its own
        observation is not the corridor already; None keeps the policy's own
        observation for every pair. Beam search and sampling keep it too: the
        beam ranks by the lookahead's cost-to-go estimate, and sampled paths
        that leave the corridor find their way back poorly (on a 3,000-step synthetic pair:
        beam 1.94x exact DTW, samples at t=2 259x on the corridor, against
        1.002x and 5.3x on the policy's own observation). The default, 2**20
        (about 1,000 x 1,000), keeps short sets on the observation the policy
        was trained on; :meth:`pretrained` sends every pair to its corridor
        network (0).

    Examples
    --------
    >>> aligner = PolicyAligner.pretrained()
    >>> x = np.sin(np.linspace(0, 6, 40))[None, :, None]
    >>> paths = aligner(x, x[:, ::2])
    >>> paths[0][0].tolist(), paths[0][-1].tolist()
    ([0, 0], [39, 19])
    >>> sampler = PolicyAligner.pretrained(samples=8, temperature=0.5, seed=0)
    >>> [len(group) for group in sampler(np.zeros((2, 50, 1)), np.zeros((2, 60, 1)))]
    [8, 8]
    """

    def __init__(
        self,
        policy,
        core_kwargs=None,
        batch_size=64,
        decode="greedy",
        beam_width=4,
        min_prob=0.05,
        samples=None,
        temperature=1.0,
        seed=None,
        long_cells=2**20,
    ):
        self.batch_size = _positive_int(batch_size, "batch_size")
        self.long_cells = None if long_cells is None else _positive_int(long_cells, "long_cells", least=0)
        if decode not in DECODES:
            raise ValueError(f"decode must be one of {DECODES}; got {decode!r}")
        self.beam_width = _positive_int(beam_width, "beam_width")
        if isinstance(min_prob, (bool, np.bool_)) or not isinstance(min_prob, numbers.Real) or not 0 <= min_prob < 1:
            raise ValueError(f"min_prob must be a number in [0, 1); got {min_prob!r}")
        self.decode, self.min_prob = decode, float(min_prob)
        self.samples, self.temperature = check_sampling(samples, temperature)
        if self.samples is not None and decode != "greedy":
            raise ValueError(
                f"samples draws its own paths; it cannot be combined with decode={decode!r} (use 'greedy')"
            )
        if not (
            seed is None
            or isinstance(seed, np.random.Generator)
            or (isinstance(seed, numbers.Integral) and not isinstance(seed, bool) and seed >= 0)
        ):
            raise TypeError(f"seed must be None, an int >= 0 or a numpy.random.Generator; got {seed!r}")
        self.seed = seed
        self._rng = np.random.default_rng(seed)
        self.source = resolve_policy(policy)
        self.info = {}
        self._tf = None
        own_kwargs = core_kwargs is None
        if self.source.kind == "actor_file":
            actor, saved_kwargs, self.info = NumpyActor.load(self.source.path)
            own_kwargs = own_kwargs or core_kwargs == saved_kwargs
            self._set_core_kwargs(saved_kwargs if core_kwargs is None else core_kwargs)
            actor.features(probe_observations(self._window, self._lookahead, count=4))  # ValueError naming a mismatch
            self._numpy_actor = actor
        else:
            self._numpy_actor = self._tf_backed(core_kwargs)
        self.backend = "numpy" if self._numpy_actor is not None else "tf"
        greedy = self.decode == "greedy" and self.samples is None
        self.long_kwargs, self._long_actor = None, None
        if greedy and self.long_cells is not None:
            self.long_kwargs, self._long_actor = self._long_route(shipped=own_kwargs)
        self.long_actor_file = PRETRAINED_LONG if self._long_actor is not None else None
        if self.samples is not None and self._numpy_actor is None:
            raise ValueError("samples needs the policy's actor in NumPy (its logits), which this policy does not allow")

    def _set_core_kwargs(self, core_kwargs):
        if not isinstance(core_kwargs, dict):
            raise TypeError(f"core_kwargs must be a dict; got {type(core_kwargs).__name__}")
        self.core_kwargs = dict(core_kwargs)
        core = make_core(self.core_kwargs)  # names each bad argument
        self._window, self._lookahead = core.window, core.lookahead

    def _long_route(self, shipped):
        """``(core_kwargs, actor)`` of long pairs: :data:`PRETRAINED_LONG` for the shipped aligner on its saved
        ``core_kwargs`` (``shipped``), else the corridor observation read by this network (actor None: its own);
        ``(None, None)`` when the network cannot read it (or already does)."""
        from envs.observation import corridor_lookahead, is_corridor

        if is_corridor(self._lookahead) or self._numpy_actor is None:
            return None, None
        if shipped and self.source.pretrained and PRETRAINED_LONG.is_file():
            actor, kwargs, _ = NumpyActor.load(PRETRAINED_LONG)
            return kwargs, actor
        kwargs = {**self.core_kwargs, "lookahead": corridor_lookahead()}
        try:
            self._numpy_actor.features(probe_observations(self._window, kwargs["lookahead"], count=4))
        except ValueError:
            return None, None
        return kwargs, None

    def _tf_backed(self, core_kwargs):
        """Load the TF-Agents policy; its NumPy actor, or None (with a warning) when it cannot be run in NumPy."""
        from .tf_policy import TFPolicy

        if self.source.kind == "live":
            if core_kwargs is None:
                raise ValueError("core_kwargs is required when policy is a live TF-Agents policy")
            self._tf = TFPolicy(self.source.policy)
        else:
            policy_dir = self.source.policy_dir
            if not (policy_dir / "saved_model.pb").is_file():
                raise ValueError(
                    f"policy {str(self.source.path)!r} is neither a saved policy nor a run folder holding "
                    "policy/saved_model.pb"
                )
            self._tf = TFPolicy.load(policy_dir)
        self._set_core_kwargs(self._tf.saved_core_kwargs() if core_kwargs is None else core_kwargs)
        try:
            actor = self._tf.numpy_actor(self._window, self._lookahead)
            self._tf.check(actor, self._window, self._lookahead)
        except ValueError as error:
            if self.decode == "beam":
                raise ValueError(
                    f"decode='beam' needs the NumPy actor, which cannot run this policy: {error}"
                ) from error
            warnings.warn(
                f"PolicyAligner: the policy's actor cannot be run in NumPy ({error}); every rollout step calls the "
                "TF-Agents policy instead (slow)",
                RuntimeWarning,
                stacklevel=3,
            )
            return None
        return actor

    @property
    def policy_dir(self):
        """The saved policy's folder (None for an actor file or a live policy)."""
        return self.source.policy_dir

    @property
    def actor_file(self):
        """The actor ``.npz`` file (None for a TF-Agents policy)."""
        return self.source.path if self.source.kind == "actor_file" else None

    @classmethod
    def pretrained(cls, **kwargs):
        """The general pretrained aligner shipped with the package.

        Two networks, both trained by ``experiments/pretrain_aligner.py`` on
        synthetic warps, real UCR series with random warps and pairs of
        different real series, never on ItalyPowerDemand nor the GunPoint test
        split. Greedy decoding aligns every pair with :data:`PRETRAINED_LONG`
        on the linear corridor observation (``long_cells=0``; it adds long
        synthetic warps, unrelated long pairs and the train split of the long
        recordings to that corpus): on the short sets it beats the short-pair
        network on its own O(n m) observation (README, "The pretrained
        aligner"). Beam search and sampling use the short-pair network,
        :data:`PRETRAINED` (``agents/policy/pretrained_aligner.npz``), which
        is also what ``PolicyAligner("pretrained")`` names and PPO fine-tunes.
        Given ``core_kwargs``, ``long_cells`` keeps the constructor's default.
        ``kwargs`` go to the constructor (``batch_size``, ``decode``,
        ``beam_width``, ``long_cells``, ...).

        >>> aligner = PolicyAligner.pretrained()
        >>> aligner.long_cells, aligner.long_actor_file.name
        (0, 'pretrained_aligner_long.npz')
        """
        if "core_kwargs" not in kwargs:
            kwargs.setdefault("long_cells", 0)
        return cls("pretrained", **kwargs)

    def tf_act(self, observation):
        """Greedy actions ``(N,)`` of the TF-Agents policy itself (one TF call; the reference for :meth:`act`)."""
        if self._tf is None:
            raise ValueError("this PolicyAligner was loaded from an actor file and has no TF-Agents policy")
        return self._tf.act(observation)

    def numpy_actor(self):
        """The :class:`~agents.policy.actor.NumpyActor` with the policy's current weights (None on the TF fallback)."""
        if self._numpy_actor is not None and self.source.kind == "live":
            self._numpy_actor = self._tf.numpy_actor(self._window, self._lookahead)  # it may have trained since
        return self._numpy_actor

    def act(self, observation):
        """Greedy actions ``(N,)`` for a NumPy observation dict of ``(N, ...)`` arrays."""
        actor = self.numpy_actor()
        return actor.act(observation) if actor is not None else self.tf_act(observation)

    def save_actor(self, path, info=None):
        """Write the current actor and ``core_kwargs`` to an ``.npz`` actor file (see ``NumpyActor.save``)."""
        actor = self.numpy_actor()
        if actor is None:
            raise ValueError("this policy's actor cannot be run in NumPy, so it cannot be saved as an actor file")
        actor.save(path, self.core_kwargs, info)

    def align_pairs(self, pairs):
        """Paths for a sequence of ``(x (n, d), y (m, d))`` pairs, lengths free per pair.

        One greedy path per pair, or with ``samples=K`` a list of K sampled paths per pair. Pairs of more than
        ``long_cells`` grid cells are read on ``long_kwargs``'s observation with its own network, the others on
        ``core_kwargs``'s (``agents.policy.rollouts.route_pairs``, the rule ``HeuristicAligner.like`` follows too).

        >>> aligner = PolicyAligner.pretrained(long_cells=100)
        >>> pairs = [(np.zeros((5, 1)), np.zeros((5, 1))), (np.zeros((20, 1)), np.zeros((20, 1)))]
        >>> [path[-1].tolist() for path in aligner.align_pairs(pairs)]  # the second pair on the corridor
        [[4, 4], [19, 19]]
        """
        return route_pairs(
            pairs,
            None if self.long_kwargs is None else self.long_cells,
            lambda some: self._align(some, self.core_kwargs),
            lambda some: self._align(some, self.long_kwargs, self._long_actor),
            None if self.samples is None else lambda: [np.zeros((1, 2), dtype=np.int64) for _ in range(self.samples)],
        )

    def _align(self, pairs, core_kwargs, actor=None):
        """:meth:`align_pairs` on one observation (``actor``: the network for it; None: the policy's own)."""
        actor = self.numpy_actor() if actor is None else actor
        if self.samples is not None:
            return sampled_paths(actor, pairs, core_kwargs, self.samples, self.temperature, self._rng, self.batch_size)
        paths = []
        for chunk in self._chunks(pairs):
            if self.decode == "beam":
                paths.extend(decoding.beam_paths(actor, chunk, core_kwargs, self.beam_width, self.min_prob))
            elif actor is not None:
                paths.extend(greedy_paths(actor, chunk, core_kwargs))
            else:
                paths.extend(rollout_paths(self.tf_act, chunk, core_kwargs))
        return paths

    def _chunks(self, pairs, max_cells=None):
        """Runs of at most ``batch_size`` pairs whose padded slabs stay under ``max_cells`` cells (long pairs; None:
        :data:`agents.policy.rollouts.MAX_BATCH_CELLS`)."""
        max_cells = MAX_BATCH_CELLS if max_cells is None else max_cells
        start = 0
        while start < len(pairs):
            stop, rows, cols = start, 0, 0
            while stop < len(pairs) and stop - start < self.batch_size:
                rows, cols = max(rows, len(pairs[stop][0])), max(cols, len(pairs[stop][1]))
                if stop > start and (stop - start + 1) * rows * cols > max_cells:
                    break
                stop += 1
            yield pairs[start:stop]
            start = stop

    def __call__(self, y_true, y_pred):
        """Paths per pair: ``y_true (B, n, d)``, ``y_pred (B, m, d)`` -> list of B ``(L_b, 2)`` (or of B lists of K)."""
        y_true = _as_batch(y_true, "y_true")
        y_pred = _as_batch(y_pred, "y_pred")
        if len(y_true) != len(y_pred):
            raise ValueError(f"y_true and y_pred must hold as many series; got {len(y_true)} and {len(y_pred)}")
        if y_true.shape[2] != y_pred.shape[2]:
            raise ValueError(
                f"y_true and y_pred must have the same feature dimension; got {y_true.shape[2]} and {y_pred.shape[2]}"
            )
        return self.align_pairs(list(zip(y_true, y_pred)))

    def get_config(self):
        """``{"policy": <actor file or saved policy dir>, "core_kwargs", "batch_size", "decode", ...}``.

        Only for saved policies (a live one cannot be rebuilt).
        """
        if self.source.kind == "live":
            raise ValueError("a PolicyAligner around a live policy cannot be serialised; save the policy first")
        policy = str(self.source) if self.source.kind == "actor_file" else str(self.policy_dir)
        config = {
            "policy": policy,
            "core_kwargs": self.core_kwargs,
            "batch_size": self.batch_size,
            "decode": self.decode,
            "beam_width": self.beam_width,
            "min_prob": self.min_prob,
            "long_cells": self.long_cells,
        }
        if self.samples is not None:
            seed = self.seed if not isinstance(self.seed, np.random.Generator) else None
            config.update(samples=self.samples, temperature=self.temperature, seed=seed)
        return config

    @classmethod
    def from_config(cls, config):
        """Rebuild from :meth:`get_config`."""
        return cls(**config)

    def __repr__(self):
        if self.source.kind == "live":
            where = type(self.source.policy).__name__
        else:
            where = self.source if self.source.kind == "actor_file" else self.policy_dir
        sampling = f", samples={self.samples}, temperature={self.temperature:g}" if self.samples is not None else ""
        return (
            f"PolicyAligner({where}, window={self.core_kwargs.get('window')}, batch_size={self.batch_size}, "
            f"decode={self.decode!r}, backend={self.backend!r}{sampling})"
        )
