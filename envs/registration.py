"""Gymnasium registration: the built-in ids and :func:`register_env` for your own sequences.

Every id gets both entry points, so ``gymnasium.make(id)`` builds a
:class:`envs.WarpingPathEnv` and ``gymnasium.make_vec(id, num_envs=N)`` builds
the natively batched :class:`envs.vector.WarpingPathVectorEnv`. No
``max_episode_steps`` is set: every episode terminates within n + m - 2 steps.
"""

import itertools

import gymnasium

from dtwrl.bands import check_band
from dtwrl.datasets import ArrayPairs, DatasetPairs, SyntheticPairs, as_pair_source, gunpoint_pairs

from .warping_path_env import WarpingPathEnv

ENTRY_POINT = "envs.warping_path_env:WarpingPathEnv"
VECTOR_ENTRY_POINT = "envs.vector:WarpingPathVectorEnv"


def register_env(env_id, pairs, **env_kwargs):
    """Register a warping-path environment id for a pair source.

    Parameters
    ----------
    env_id : str
        Gymnasium id, e.g. ``"my/Sensors-v0"`` (``TypeError`` for anything but a
        non-empty string; Gymnasium checks its form).
    pairs : object
        A pair source from ``dtwrl.datasets``; an array of series (N, n) or
        (N, n, d) or a list of series (pairs of distinct series are drawn);
        a list of (x, y) tuples; a UCR/UEA ``.ts``/``.tsv`` path or dataset
        name; or any callable ``rng -> (x, y)`` that draws all its randomness
        from ``rng``. Converted once, now, by ``dtwrl.datasets.as_pair_source``,
        so a bad file fails here.
    **env_kwargs
        Defaults for :class:`envs.WarpingPathEnv` (``window``, ``metric``,
        ``band``, ``reward_scale``, ``compute_fastdtw``, ...); ``make`` and
        ``make_vec`` keyword arguments override them. Checked now, ``band``
        included against every pair the source can draw when it knows them
        (a list of pairs; series drawn from a dataset, within each class for
        ``same_class``): a band too narrow for one of them is a ``ValueError``
        giving the smallest band that works. Generated pairs (synthetic, a
        callable), and datasets of more than ``MAX_BAND_CHECKS`` distinct
        length pairs, are checked at each reset.

    Returns
    -------
    gymnasium.envs.registration.EnvSpec
        The registered spec.

    Examples
    --------
    >>> import numpy as np, gymnasium
    >>> series = np.random.default_rng(0).standard_normal((10, 40))   # 10 series of length 40
    >>> spec = register_env("doc/MySeries-v0", pairs=series, window=5, band=8)
    >>> env = gymnasium.make("doc/MySeries-v0")
    >>> env.observation_space["window"].shape
    (5, 5)
    """
    if not isinstance(env_id, str) or not env_id.strip():
        raise TypeError(f"env_id must be a non-empty string like 'my/Sensors-v0'; got {env_id!r}")
    source = as_pair_source(pairs)
    WarpingPathEnv(pairs=source, **env_kwargs)  # fail now on bad arguments, not at make()
    _check_band_fits(source, env_kwargs.get("band"))
    gymnasium.register(
        id=env_id,
        entry_point=ENTRY_POINT,
        vector_entry_point=VECTOR_ENTRY_POINT,
        kwargs={"pairs": source, **env_kwargs},
    )
    return gymnasium.spec(env_id)


def _drawable_lengths(source):
    """{(n, m): where} for every length pair ``source`` can draw, when it knows them; {} otherwise."""
    if isinstance(source, ArrayPairs):
        return {(len(x), len(y)): f"pairs[{k}]" for k, (x, y) in reversed(list(enumerate(source.pairs)))}
    if isinstance(source, DatasetPairs):
        groups = source.groups if source.groups is not None else [range(len(source.series))]
        out = {}
        for group in groups:
            lengths = sorted({len(source.series[i]) for i in group})
            for n, m in itertools.permutations(lengths, 2):
                out.setdefault((n, m), "two of its series")
        return out
    return {}


MAX_BAND_CHECKS = 20_000
"""Length pairs ``register_env`` checks against ``band`` at most (about 40 us each); beyond, each reset checks."""


def _check_band_fits(source, band):
    """``ValueError`` naming ``band`` if no warping path fits in it for a pair ``source`` can draw.

    A band of at least ``|n - m|`` always fits (``dtwrl.min_band(n, m) <= |n - m|``), so only the
    other length pairs are checked, unless there are more than ``MAX_BAND_CHECKS`` of them.
    """
    if band is None:
        return
    tight = {
        lengths: where for lengths, where in _drawable_lengths(source).items() if abs(lengths[0] - lengths[1]) > band
    }
    if len(tight) > MAX_BAND_CHECKS:
        return
    for (n, m), where in tight.items():
        try:
            check_band(n, m, band)
        except ValueError as err:
            raise ValueError(f"{err} (lengths of {where})") from None


# The built-in ids: synthetic pairs with known warps, and the vendored UCR GunPoint train series.
register_env("dtwrl/SyntheticWarp-v0", pairs=SyntheticPairs())
register_env("dtwrl/GunPoint-v0", pairs=gunpoint_pairs("train"))
