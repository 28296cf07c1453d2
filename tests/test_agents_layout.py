"""The agents package layout: a quiet, TensorFlow-free ``import agents`` and the class paths saved configs hold."""

import subprocess
import sys

import numpy as np

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


def test_policy_path_loss_reaches_the_pretrained_aligner():
    from agents.policy.aligner import PolicyAligner
    from dtwrl.losses import get_loss

    loss = get_loss("policy_path")
    assert isinstance(loss.aligner, PolicyAligner)
