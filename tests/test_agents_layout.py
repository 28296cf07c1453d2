"""The agents package layout: a quiet, TensorFlow-free ``import agents`` and the class paths saved configs hold."""

import subprocess
import sys

import numpy as np
import pytest

from dtwrl.aligners import aligner_from_config, aligner_to_config


def _run(code):
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)


def test_import_agents_is_silent_and_loads_no_tensorflow():
    code = (
        "import sys, agents, agents.training.config, agents.policy, agents.forecasting\n"
        "heavy = sorted(m for m in ('tensorflow', 'tf_agents', 'gym', 'reverb') if m in sys.modules)\n"
        "print(heavy, agents.AlignerConfig().env_id)"
    )
    done = _run(code)
    assert done.stdout.strip() == "[] dtwrl/SyntheticWarp-v0"
    assert done.stderr == ""


def test_the_pretrained_aligner_runs_without_tensorflow():
    code = (
        "import sys, numpy as np\n"
        "from agents import PolicyAligner\n"
        "x = np.sin(np.linspace(0, 6, 40))[None, :, None]\n"
        "path = PolicyAligner.pretrained()(x, x[:, ::2])[0]\n"
        "print(path[-1].tolist(), 'tensorflow' in sys.modules)"
    )
    assert _run(code).stdout.strip() == "[39, 19] False"


def test_resolve_policy_names_each_kind_of_policy(tmp_path):
    from agents.policy.aligner import PRETRAINED, resolve_policy

    assert resolve_policy("pretrained").kind == "actor_file" and resolve_policy("pretrained").path == PRETRAINED
    assert str(resolve_policy("pretrained")) == "pretrained"
    own = resolve_policy(tmp_path / "mine.npz")
    assert own.kind == "actor_file" and not own.pretrained and own.run_dir is None
    run = tmp_path / "run"
    (run / "policy").mkdir(parents=True)
    (run / "config.json").write_text("{}")
    (run / "policy" / "saved_model.pb").write_bytes(b"")
    assert resolve_policy(run).kind == "run_folder" and resolve_policy(run).policy_dir == run / "policy"
    saved = resolve_policy(run / "policy")
    assert saved.kind == "saved_policy" and saved.policy_dir == run / "policy" and saved.run_dir == run
    assert resolve_policy(saved) is saved
    with pytest.raises(TypeError, match="policy must be"):
        resolve_policy(3)


def test_public_names_resolve_on_first_use():
    import agents

    assert set(agents.__all__) <= set(dir(agents))
    assert agents.PolicyAligner.__module__ == "agents.policy.aligner"
    assert agents.GreedyAligner.__module__ == "agents.policy.baselines"


def test_a_config_saved_with_the_old_class_path_still_loads():
    from agents.policy.aligner import PolicyAligner
    from agents.policy_aligner import PolicyAligner as Alias

    assert Alias is PolicyAligner
    old = {"class_name": "agents.policy_aligner.PolicyAligner", "config": {"policy": "pretrained", "batch_size": 7}}
    aligner = aligner_from_config(old)
    assert type(aligner) is PolicyAligner and aligner.batch_size == 7
    config = aligner_to_config(aligner)
    assert config["class_name"] == "agents.policy.aligner.PolicyAligner"
    again = aligner_from_config(config)
    x = np.sin(np.linspace(0, 6, 30))[None, :, None]
    assert np.array_equal(again(x, x[:, ::2])[0], aligner(x, x[:, ::2])[0])


def test_a_greedy_aligner_config_saved_with_the_old_class_path_still_loads():
    from agents.policy.baselines import GreedyAligner

    old = {"class_name": "agents.baselines.GreedyAligner", "config": {"band": 3}}
    aligner = aligner_from_config(old)
    assert type(aligner) is GreedyAligner
    assert aligner_to_config(aligner) == {
        "class_name": "agents.policy.baselines.GreedyAligner",
        "config": {"metric": "sqeuclidean", "band": 3},
    }


def test_policy_path_loss_reaches_the_pretrained_aligner():
    from agents.policy.aligner import PolicyAligner
    from dtwrl.losses import get_loss

    loss = get_loss("policy_path")
    assert isinstance(loss.aligner, PolicyAligner)
