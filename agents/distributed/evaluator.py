"""The evaluator: the published policy's greedy cost ratio vs exact DTW and FastDTW, while training runs.

Every ``eval_interval_s`` seconds it pulls the latest weights from the variable
table and, when they are new, aligns the run's fixed held-out set with the
greedy policy (the same set, seed and statistics as the trainer's own
evaluation, ``AlignerTrainer.evaluate``). It logs the trainer's ``alignment/*``
tags under ``<run>/tb/evaluator`` at the env step of those weights, appends a
row to ``<run>/evaluator.json``, and stops after evaluating the weights the
learner publishes as ``finished``.
"""
import types

import tensorflow as tf
from tf_agents.experimental.distributed import reverb_variable_container
from tf_agents.policies import greedy_policy

from dtwrl.runs import write_json

from ..environment import env_settings
from ..evaluation import make_eval_set
from ..policy_aligner import time_step_from_observation
from ..ppo import AlignerTrainer
from .specs import VARIABLE_TABLE, build_collect_policy, make_py_env, variable_values


def run_evaluator(config, options, stop, run_dir):
    """Evaluate published policies until ``finished`` or ``stop``; returns the evaluation rows."""
    import reverb

    settings = env_settings(config.env_id, window=config.window, reward_scale=config.reward_scale)
    py_env = make_py_env(config, num_envs=1, seed=0)
    policy, actor_net = build_collect_policy(config, py_env)
    py_env.close()
    greedy = tf.function(lambda obs: greedy_policy.GreedyPolicy(policy).action(time_step_from_observation(obs)).action)
    iteration, finished = tf.Variable(0, dtype=tf.int64), tf.Variable(False)
    variables = variable_values(actor_net, iteration, finished)
    client = reverb.Client(options.reverb_address)
    container = reverb_variable_container.ReverbVariableContainer(options.reverb_address, table_names=[VARIABLE_TABLE])
    view = types.SimpleNamespace(
        greedy_act=lambda observation: greedy(observation).numpy(),
        eval_set=make_eval_set(settings, config.eval_pairs, config.eval_seed),
        settings=settings,
        writer=tf.summary.create_file_writer(str(run_dir / "tb" / "evaluator")),
    )
    rows, last = [], None
    while True:
        if client.server_info(timeout=30)[VARIABLE_TABLE].current_size:
            container.update(variables)
            if int(iteration.numpy()) != last:
                last = int(iteration.numpy())
                metrics, paths = AlignerTrainer.evaluate(view)
                env_steps = last * config.steps_per_iteration
                rows.append({"iteration": last, "env_steps": env_steps, **metrics})
                AlignerTrainer._log_eval(view, metrics, paths, env_steps)
                view.writer.flush()
                write_json(run_dir / "evaluator.json", {"history": rows})
                print(f"evaluator: iteration {last}, cost ratio vs exact DTW {metrics['cost_ratio_vs_dtw']:.4f}, "
                      f"vs FastDTW {metrics['cost_ratio_vs_fastdtw']:.4f}", flush=True)
            if bool(finished.numpy()):
                return rows
        if stop.wait(options.eval_interval_s):
            return rows
