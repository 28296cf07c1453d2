"""experiments/benchmark_env.py times the registered ids as users build them, on a shrunken config."""

import gymnasium
import numpy as np
import pytest

from envs.observation import DEFAULT_LOOKAHEAD, corridor_lookahead
from experiments import benchmark_env


def test_benchmark_times_the_registered_ids_and_sync(capsys):
    rows = benchmark_env.main(["--num-envs", "6", "--steps", "20", "--repeats", "3"])
    assert [(row["env_id"], row["observation"], row["implementation"]) for row in rows] == [
        ("dtwrl/SyntheticWarp-v0", "default", "native (make_vec)"),
        ("dtwrl/GunPoint-v0", "default", "native (make_vec)"),
        ("dtwrl/SyntheticWarp-v0", "window-only", "native (make_vec)"),
        ("dtwrl/GunPoint-v0", "window-only", "native (make_vec)"),
        ("dtwrl/SyntheticWarp-v0", "corridor", "native (make_vec)"),
        ("dtwrl/GunPoint-v0", "corridor", "native (make_vec)"),
        ("dtwrl/SyntheticWarp-v0", "default", "SyncVectorEnv"),
    ]
    registered_window = gymnasium.spec("dtwrl/SyntheticWarp-v0").kwargs.get("window", 7)
    assert rows[0]["window"] == registered_window  # the registered configuration, not a benchmark-only one
    assert rows[0]["lookahead"] == DEFAULT_LOOKAHEAD and rows[2]["lookahead"] == ()
    assert rows[4]["lookahead"] == corridor_lookahead()
    for row in rows:
        assert 0 < row["min_env_steps_per_s"] <= row["env_steps_per_s"] <= row["max_env_steps_per_s"]
    native, gunpoint, _, _, _, _, sync = rows
    assert sync["speedup_vs_sync"] == pytest.approx(1.0)
    assert native["speedup_vs_sync"] == pytest.approx(native["env_steps_per_s"] / sync["env_steps_per_s"])
    assert gunpoint["speedup_vs_sync"] is None  # the sync row times only the first id
    assert native["timed_env_steps"] == 20 * 3 * 6
    out = capsys.readouterr().out
    assert "| dtwrl/SyntheticWarp-v0 | default ((2, 16), (8, 16)) | native (make_vec) | 6 |" in out
    assert "over 3 repeats of 20 batch steps" in out


def test_benchmark_times_the_chosen_observation_only():
    rows = benchmark_env.main(
        ["--env-ids", "dtwrl/GunPoint-v0", "--observations", "window-only", "--no-sync", "--num-envs", "3"]
        + ["--steps", "5", "--repeats", "1"]
    )
    assert [(row["env_id"], row["observation"], row["lookahead"]) for row in rows] == [
        ("dtwrl/GunPoint-v0", "window-only", ())
    ]


def test_rates_are_medians_of_the_repeats(monkeypatch):
    ticks = iter(np.cumsum([0.0, 1.0, 0.0, 2.0, 0.0, 4.0]))  # repeats of 1 s, 2 s and 4 s
    monkeypatch.setitem(benchmark_env.CLOCKS, "fake", lambda: float(next(ticks)))
    venv = gymnasium.make_vec("dtwrl/SyntheticWarp-v0", num_envs=2, vectorization_mode="vector_entry_point")
    actions = np.zeros((1 + 3 * 10, 2), dtype=np.int64)
    rates = benchmark_env._rates(venv, actions, 1, 10, 3, benchmark_env.CLOCKS["fake"], 0)
    assert rates == [20.0, 10.0, 5.0]


def test_benchmark_help_and_bad_arguments(capsys):
    with pytest.raises(SystemExit) as exit_info:
        benchmark_env.main(["--help"])
    assert exit_info.value.code == 0
    assert "--quick" in capsys.readouterr().out
    for argv in (
        ["--num-envs", "0"],
        ["--repeats", "0"],
        ["--env-ids", "nope/Missing-v0"],
        ["--seed", "-1"],
        ["--observations", "deep"],
    ):
        with pytest.raises(SystemExit) as exit_info:
            benchmark_env.main(argv)
        assert exit_info.value.code == 2
        err = capsys.readouterr().err
        assert err.startswith(f"error: {argv[0]}: ") and err.count("\n") == 1, err  # one line, no usage block


def test_phases_break_an_env_step_down_and_unwrap_afterwards(capsys):
    rows = benchmark_env.main(
        ["--env-ids", "dtwrl/SyntheticWarp-v0", "--observations", "window-only", "--no-sync", "--num-envs", "4"]
        + ["--steps", "120", "--repeats", "1", "--phases"]  # short synthetic pairs: resets and final infos happen
    )
    phases = rows[0]["phases"]
    assert list(phases) == [name for name, _, _ in benchmark_env.PHASES] + ["other Python"]
    for name in ("step kernel", "pair source", "reset", "first observation", "final infos"):
        assert phases[name] > 0.0, name
    assert "| dtwrl/SyntheticWarp-v0 | window-only |" in capsys.readouterr().out.split("where an env-step")[1]
    venv = gymnasium.make_vec("dtwrl/SyntheticWarp-v0", num_envs=2, vectorization_mode="vector_entry_point")
    actions = np.zeros((12, 2), dtype=np.int64)
    benchmark_env.phase_times(venv, actions, 2, benchmark_env.CLOCKS["cpu"])
    assert "_step_observe" not in vars(venv.batch) and "_draw_pairs" not in vars(venv)  # the wrappers are gone
