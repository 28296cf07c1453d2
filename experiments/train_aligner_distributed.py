"""Train a PPO warping-path policy with distributed actors and a learner on Reverb.

With --role all (the default) it starts every role on this machine (Reverb
server on a free localhost port, --collectors collectors, the learner and an
evaluator) and stops them all when training is done or on Ctrl-C/SIGTERM:

    python experiments/train_aligner_distributed.py --collectors 4 --seed 1
    tensorboard --logdir results/aligner

Each role also runs on its own (e.g. on separate machines), with the same
training flags everywhere:

    python experiments/train_aligner_distributed.py --role server --port 8000 --run-name r1
    python experiments/train_aligner_distributed.py --role learner --reverb-address host:8000 --run-name r1
    python experiments/train_aligner_distributed.py --role collector --collector-id 0 \
        --reverb-address host:8000 --run-name r1
    python experiments/train_aligner_distributed.py --role evaluator --reverb-address host:8000 --run-name r1

The run folder is agents.train_aligner's (config.json, metrics.json, tb/,
checkpoints/, policy/, figures/) plus logs/, collectors/*.json,
evaluator.json and distributed.json (exit codes, reconciled trajectory
counts). Run the same command again with the same --run-name to resume from
the last checkpoint. Needs Linux and Python 3.11 (dm-reverb wheels).
"""

import experiments  # noqa: F401  (first: silences TensorFlow and gym start-up noise)

# isort: split
import dataclasses
import sys

from agents import AlignerConfig
from agents.distributed import DistributedOptions, run_role
from agents.distributed.launcher import python_command
from experiments.cli import config_error_line, parse_args


@dataclasses.dataclass
class Args(AlignerConfig, DistributedOptions):
    """Every AlignerConfig field plus the distributed layout (DistributedOptions); both are validated in main."""

    def __post_init__(self):  # each part is validated when it is built in main, with the flag named
        pass


def _split(args):
    config = {f.name: getattr(args, f.name) for f in dataclasses.fields(AlignerConfig)}
    options = {f.name: getattr(args, f.name) for f in dataclasses.fields(DistributedOptions)}
    return AlignerConfig(**config), DistributedOptions(**options)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parse_args(Args, argv, description=__doc__)
    try:
        config, options = _split(args)
        return run_role(config, options, command_for=python_command(__file__, argv))
    except (ValueError, TypeError) as err:
        print(config_error_line(err, [f.name for f in dataclasses.fields(Args)]), file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
