"""Train the general pretrained aligner shipped as agents/pretrained_aligner.npz (seeded, reproducible).

Behavioural cloning of exact DTW moves on a mixed corpus (synthetic warps of
lengths 20 to 1200, uni- and multivariate; GunPoint-train and BasicMotions-train
series with random warps; pairs of different real series), then DAgger rounds
(agents.pretraining). ItalyPowerDemand and the GunPoint test split are never
read. The actor file records this command, the corpus and the training history.

    python experiments/pretrain_aligner.py                       # the shipped weights
    python experiments/pretrain_aligner.py --out /tmp/a.npz --bc-steps 20000 --dagger-rounds 1   # a quick try

Fine-tune it on your own pairs with PPO: python experiments/train_aligner.py --init-from pretrained --env-id ...
"""
import dataclasses
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from agents.pretraining import ImitationConfig, MixedCorpus, imitate
from agents.policy_aligner import PRETRAINED, NumpyActor
from envs.observation import DEFAULT_LOOKAHEAD
from experiments.common import field, parse_args

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "ucr"


@dataclasses.dataclass
class Args:
    out: str = field(str(PRETRAINED), "actor file (.npz) to write")
    data_root: str = field(os.environ.get("DTWRL_UCR_ROOT", str(DEFAULT_DATA)),
                           "folder with the UCR sets GunPoint/ and BasicMotions/ (train splits only are read)")
    seed: int = field(0, "seeds the corpus stream, the detours and the network initialisation")
    hidden: tuple[int, ...] = field((64, 64), "hidden layer sizes of the actor MLP")
    window: int = field(7, "observation window k")
    bc_steps: int = field(200_000, "expert-labelled states of the behavioural-cloning stage")
    dagger_rounds: int = field(3, "DAgger rounds after behavioural cloning")
    dagger_steps: int = field(100_000, "states collected by the policy in each DAgger round")
    epochs: int = field(4, "supervised epochs over the aggregate data after each stage")
    batch_size: int = field(512, "minibatch size")
    learning_rate: float = field(1e-3, "Adam learning rate")


def main(argv=None):
    args = parse_args(Args, argv, description=__doc__)
    if not args.out.endswith(".npz"):
        raise ValueError(f"out must end with .npz; got {args.out!r}")
    for name in ("bc_steps", "epochs", "batch_size", "window"):
        if getattr(args, name) < 1:
            raise ValueError(f"{name} must be >= 1; got {getattr(args, name)}")
    corpus = MixedCorpus(args.data_root)
    core_kwargs = {"window": args.window, "metric": "sqeuclidean", "band": None, "reward_scale": "pair",
                   "lookahead": [list(row) for row in DEFAULT_LOOKAHEAD]}
    config = ImitationConfig(seed=args.seed, hidden=tuple(args.hidden), bc_steps=args.bc_steps,
                             dagger_rounds=args.dagger_rounds, dagger_steps=args.dagger_steps, epochs=args.epochs,
                             batch_size=args.batch_size, learning_rate=args.learning_rate)
    actor_net, history = imitate(corpus, core_kwargs, config, log=lambda line: print(line, flush=True))
    info = {"command": "python experiments/pretrain_aligner.py " + " ".join(sys.argv[1:] if argv is None else argv),
            "config": dataclasses.asdict(config), "corpus": sorted(corpus.families), "history": history}
    NumpyActor.from_network(actor_net).save(args.out, core_kwargs, info)
    print(f"wrote {args.out}")
    return args.out


if __name__ == "__main__":
    main()
