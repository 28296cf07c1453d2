"""The vector env's compiled stepping (moves, window, position, mask, rewards, autoreset) against a plain reference.

The reference below re-implements the MDP documented in ``envs.core`` one
alignment at a time in Python floats: local costs by a double loop
(``tests.reference.local_costs``), the band by its formula, the pair's scale as
a row-major running sum over the band cells, the window ``c / (c + s)``, the
position features, the replacement of illegal moves, the rewards and
``NEXT_STEP`` autoreset. Several hundred steps of ``WarpingPathVectorEnv`` must
equal it bitwise (the shipped pretrained policy reads these values), with bands,
``reward_scale="pair"``, multivariate and unequal-length pairs and many
autoresets. The lookahead key has its own reference in ``test_envs_lookahead``.
"""

import numpy as np
import pytest

from dtwrl import dtw
from envs.core import MOVES
from envs.observation import WINDOW_PAD
from envs.vector import WarpingPathVectorEnv
from tests.reference import in_band, local_costs

PREFERENCE = ((0, 1, 2), (1, 0, 2), (2, 0, 1))  # an illegal action's replacements, in order


def _pairs(rng):
    """A pair source: unequal lengths 2..14, d = 2 (any band >= 6 fits them)."""
    n, m = int(rng.integers(2, 15)), int(rng.integers(2, 15))
    return rng.standard_normal((n, 2)), rng.standard_normal((m, 2))


def _close_pairs(rng):
    """Lengths 9..14: a band of 2 cells fits them, and cuts off many cells."""
    n, m = int(rng.integers(9, 15)), int(rng.integers(9, 15))
    return rng.standard_normal((n, 2)), rng.standard_normal((m, 2))


class ReferenceEpisode:
    """One alignment of the MDP, stepped cell by cell in Python floats."""

    def __init__(self, x, y, window, band, reward_scale):
        self.C = local_costs(x, y)
        self.n, self.m = self.C.shape
        self.allowed = in_band(self.n, self.m, band)
        total, count = 0.0, 0
        for i in range(self.n):  # a plain running sum, row-major, as the env documents
            for j in range(self.m):
                if self.allowed[i, j]:
                    total += float(self.C[i, j])
                    count += 1
        self.scale = total / count or 1.0
        self.factor = 1.0 / self.scale if reward_scale == "pair" else reward_scale
        self.radius = max(self.n, self.m) - 1 if band is None else band
        self.window, self.i, self.j, self.path_cost, self.first = window, 0, 0, 0.0, True
        self.dtw = dtw(x, y, band=band)

    def enterable(self, i, j):
        return i < self.n and j < self.m and bool(self.allowed[i, j])

    def observation(self):
        k, i, j = self.window, self.i, self.j
        window = np.full((k, k), WINDOW_PAD, dtype=np.float32)
        for a in range(k):
            for b in range(k):
                if self.enterable(i + a, j + b):
                    c = float(self.C[i + a, j + b])
                    window[a, b] = c / (c + self.scale)
        n1, m1 = self.n - 1, self.m - 1
        rows_left, cols_left = n1 - i, m1 - j
        row_progress = i / n1 if n1 > 0 else 1.0
        col_progress = j / m1 if m1 > 0 else 1.0
        den = self.radius * min(n1, m1)
        position = np.array(
            [
                row_progress,
                col_progress,
                col_progress - row_progress,
                (j * n1 - i * m1) / den if den > 0 else 0.0,
                (rows_left + cols_left) / (n1 + m1),
                rows_left / (rows_left + cols_left) if rows_left + cols_left > 0 else 0.5,
            ],
            dtype=np.float32,
        )
        mask = np.array([self.enterable(i + di, j + dj) for di, dj in MOVES], dtype=np.int8)
        return window, position, mask

    def step(self, action):
        """Move; return (reward, replaced, terminated)."""
        move = next(a for a in PREFERENCE[action] if self.enterable(self.i + MOVES[a, 0], self.j + MOVES[a, 1]))
        self.i, self.j = self.i + int(MOVES[move, 0]), self.j + int(MOVES[move, 1])
        cost = float(self.C[self.i, self.j]) + (float(self.C[0, 0]) if self.first else 0.0)
        self.first = False
        self.path_cost += cost
        return 0.0 - cost * self.factor, move != action, (self.i, self.j) == (self.n - 1, self.m - 1)


@pytest.mark.parametrize(("band", "reward_scale", "window"), [(None, 1.0, 7), (6, "pair", 4), (2, 0.5, 1)])
def test_vector_env_equals_the_reference_over_hundreds_of_steps(band, reward_scale, window):
    num, steps, seed = 6, 300, 11
    source = _close_pairs if band == 2 else _pairs
    venv = WarpingPathVectorEnv(num, pairs=source, window=window, band=band, reward_scale=reward_scale, lookahead=())
    obs, _ = venv.reset(seed=seed)
    rngs = [np.random.default_rng(seed + k) for k in range(num)]  # as the env seeds its sub-environments
    episodes = [ReferenceEpisode(*source(rng), window, band, reward_scale) for rng in rngs]
    pending = [False] * num
    finished = 0
    actions = np.random.default_rng(0).integers(0, 3, size=(steps, num))
    for t in range(steps):
        for k, episode in enumerate(episodes):
            window_ref, position_ref, mask_ref = episode.observation()
            np.testing.assert_array_equal(obs["window"][k], window_ref, err_msg=f"step {t}, env {k}")
            np.testing.assert_array_equal(obs["position"][k], position_ref, err_msg=f"step {t}, env {k}")
            np.testing.assert_array_equal(obs["action_mask"][k], mask_ref, err_msg=f"step {t}, env {k}")
        obs, rewards, terminated, truncated, infos = venv.step(actions[t])
        assert not truncated.any()
        for k in range(num):
            if pending[k]:  # NEXT_STEP autoreset: a new pair, reward 0
                episodes[k] = ReferenceEpisode(*source(rngs[k]), window, band, reward_scale)
                assert rewards[k] == 0.0 and not terminated[k]
                pending[k] = False
                continue
            reward, replaced, done = episodes[k].step(int(actions[t, k]))
            assert rewards[k] == reward and infos["action_replaced"][k] == replaced and terminated[k] == done
            assert infos["return_unscaled"][k] == 0.0 - episodes[k].path_cost
            if done:
                finished += 1
                pending[k] = True
                assert infos["_path_cost"][k] and infos["path_cost"][k] == episodes[k].path_cost
                assert infos["dtw_cost"][k] == episodes[k].dtw
                assert infos["path"][k][-1].tolist() == [episodes[k].n - 1, episodes[k].m - 1]
    assert finished >= 5 * num  # the comparison crossed many autoresets
