"""experiments/benchmark_env.py runs on a shrunken config and reports both implementations."""
import pytest

from experiments import benchmark_env


def test_benchmark_runs_and_reports_both_implementations(capsys):
    rows = benchmark_env.main(["--num-envs", "6", "--window", "3", "--length", "12", "--steps", "20", "--repeats", "1"])
    names = [row["implementation"] for row in rows]
    assert names == ["WarpingPathVectorEnv (native)", "SyncVectorEnv(WarpingPathEnv)"]
    assert all(row["env_steps_per_s"] > 0 for row in rows)
    assert rows[1]["speedup_vs_sync"] == 1.0
    assert rows[0]["speedup_vs_sync"] == rows[0]["env_steps_per_s"] / rows[1]["env_steps_per_s"]
    out = capsys.readouterr().out
    assert "| WarpingPathVectorEnv (native) | 6 | 3 | 12 |" in out


def test_benchmark_help_and_bad_arguments(capsys):
    with pytest.raises(SystemExit) as exit_info:
        benchmark_env.main(["--help"])
    assert exit_info.value.code == 0
    assert "--quick" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        benchmark_env.main(["--num-envs", "0"])
