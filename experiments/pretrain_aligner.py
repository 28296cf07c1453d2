"""Train the general pretrained aligner shipped as agents/policy/pretrained_aligner.npz (seeded, reproducible).

Behavioural cloning of exact DTW moves on a mixed corpus (synthetic warps of
lengths 20 to 1200, uni- and multivariate; GunPoint-train and BasicMotions-train
series with random warps; pairs of different real series), then DAgger rounds
(agents.training.pretraining). With --ppo-steps N > 0, PPO then fine-tunes the cloned
actor on the true return (train_aligner with --init-from the BC actor, on the
corpus as a registered env), and the actor with the lower mean validation ratio
(synthetic held-out pairs, warped BasicMotions-test pairs) is written; both
figures are recorded. ItalyPowerDemand and the GunPoint test split are never
read. The actor file records this command, the corpus and the training history.

    python experiments/pretrain_aligner.py                       # the shipped weights (bitwise, about 16 min)
    # a quick try:
    python experiments/pretrain_aligner.py --out /tmp/a.npz --bc-steps 20000 --dagger-rounds 1 --ppo-steps 0
    # the long-pair network (agents/policy/pretrained_aligner_long.npz; see README "Long pairs in linear time"):
    python experiments/pretrain_aligner.py --out agents/policy/pretrained_aligner_long.npz --lookahead 0x8 \
        --max-length 20000 --expert corridor --ppo-steps 0 ...

--max-length N (> 1200) adds synthetic warps up to N and the "train" split of
the long recordings in --long-root (dtwrl.datasets.long_recordings: never the
"test" split that benchmark_aligner.py --long evaluates on).

Fine-tune it on your own pairs with PPO: python experiments/train_aligner.py --init-from pretrained --env-id ...
"""

import experiments  # noqa: F401  (first: silences TensorFlow and gym start-up noise)

# isort: split
import dataclasses
import os
import sys
from pathlib import Path

import numpy as np

from agents.policy.actor import NumpyActor
from agents.policy.aligner import PRETRAINED
from agents.training.imitation import EXPERTS
from agents.training.pretraining import (
    SHORT_MAX_LENGTH,
    ImitationConfig,
    MixedCorpus,
    imitate,
    validation_ratios,
)
from dtwrl.datasets import SyntheticPairs
from envs.observation import CORRIDOR, DEFAULT_LOOKAHEAD, check_lookahead, is_corridor
from experiments.cli import field, parse_args, run_script

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "ucr"
#: The longest series length ``--max-length`` accepts (a long pair's rollout is 2 N steps of labelled states).
MAX_LENGTH_LIMIT = 10**6


@dataclasses.dataclass
class Args:
    out: str = field(str(PRETRAINED), "actor file (.npz) to write")
    data_root: str = field(
        os.environ.get("DTWRL_UCR_ROOT", str(DEFAULT_DATA)),
        "folder with the UCR sets GunPoint/ and BasicMotions/ (train splits only are read)",
    )
    seed: int = field(0, "seeds the corpus stream, the detours and the network initialisation")
    hidden: tuple[int, ...] = field((128, 128), "hidden layer sizes of the actor MLP")
    window: int = field(7, "observation window k")
    lookahead: str = field(
        ",".join(f"{s}x{d}" for s, d in DEFAULT_LOOKAHEAD),
        "lookahead rows as scale x depth, comma-separated (e.g. 2x16,8x16); 0xR for the linear corridor of radius R; "
        "'none' for the window-only observation",
    )
    max_length: int = field(
        SHORT_MAX_LENGTH,
        f"longest training series; above {SHORT_MAX_LENGTH} adds long synthetic warps and the long recordings' "
        "train split",
    )
    long_root: str = field(
        str(DEFAULT_DATA.parent / "long"),
        "folder of the long recordings (*.csv; only their train split is read, with --max-length > 1200); "
        "'none': synthetic long pairs only",
    )
    expert: str = field("exact", "labels: exact (exact DTW moves) or corridor (exact moves that stay in the corridor)")
    bc_steps: int = field(200_000, "expert-labelled states of the behavioural-cloning stage")
    dagger_rounds: int = field(3, "DAgger rounds after behavioural cloning")
    dagger_steps: int = field(100_000, "states collected by the policy in each DAgger round")
    epochs: int = field(4, "supervised epochs over the aggregate data after each stage")
    batch_size: int = field(512, "minibatch size")
    learning_rate: float = field(1e-3, "Adam learning rate")
    ppo_steps: int = field(300_000, "PPO env steps after imitation (0: behavioural cloning + DAgger only)")
    validation_pairs: int = field(100, "pairs per validation set when choosing between BC and BC+PPO")
    run_dir: str = field("results/pretrain_aligner", "where the PPO run folder and the BC-only actor go")


def main(argv=None):
    args = parse_args(Args, argv, description=__doc__)
    if not args.out.endswith(".npz"):
        raise ValueError(f"--out: must end with .npz; got {args.out!r}")
    for name in ("bc_steps", "epochs", "batch_size", "window"):
        if getattr(args, name) < 1:
            raise ValueError(f"--{name.replace('_', '-')}: must be >= 1; got {getattr(args, name)}")
    if not SHORT_MAX_LENGTH <= args.max_length <= MAX_LENGTH_LIMIT:
        raise ValueError(f"--max-length: must be in [{SHORT_MAX_LENGTH}, {MAX_LENGTH_LIMIT}]; got {args.max_length}")
    lookahead = _parse_lookahead(args.lookahead)
    if args.expert not in EXPERTS:
        raise ValueError(f"--expert: must be one of {', '.join(EXPERTS)}; got {args.expert!r}")
    if args.expert == "corridor" and not is_corridor(lookahead):
        raise ValueError(f"--expert: corridor needs the corridor observation (--lookahead 0xR); got {args.lookahead!r}")
    long_root = None if args.long_root.strip().lower() == "none" else Path(args.long_root)
    if args.max_length > SHORT_MAX_LENGTH and long_root is not None and not any(long_root.glob("*.csv")):
        raise ValueError(f"--long-root: no long recordings (*.csv) in {str(long_root)!r}; 'none' trains without them")
    corpus = MixedCorpus(args.data_root, args.max_length, long_root)
    core_kwargs = {
        "window": args.window,
        "metric": "sqeuclidean",
        "band": None,
        "reward_scale": "pair",
        "lookahead": [list(row) for row in lookahead],
    }
    config = ImitationConfig(
        seed=args.seed,
        hidden=tuple(args.hidden),
        window=args.window,
        bc_env_steps=args.bc_steps,
        bc_epochs=args.epochs,
        bc_batch_size=args.batch_size,
        bc_learning_rate=args.learning_rate,
        dagger_rounds=args.dagger_rounds,
        dagger_states=args.dagger_steps,
        expert=args.expert,
    )
    actor_net, history = imitate(corpus, core_kwargs, config, log=lambda line: print(line, flush=True))
    info = {
        "command": "python experiments/pretrain_aligner.py " + " ".join(sys.argv[1:] if argv is None else argv),
        "config": dataclasses.asdict(config),
        "corpus": sorted(corpus.families),
        "history": history,
    }
    if args.ppo_steps <= 0:
        NumpyActor.from_network(actor_net).save(args.out, core_kwargs, info)
        print(f"wrote {args.out}")
        return args.out
    run_dir = Path(args.run_dir) / f"seed{args.seed}"
    bc_file = run_dir / "bc_actor.npz"
    NumpyActor.from_network(actor_net).save(bc_file, core_kwargs, info)
    ppo_file = run_dir / "ppo_actor.npz"
    _fine_tune(args, corpus, bc_file, ppo_file, run_dir)
    validation = {
        "synthetic held-out": SyntheticPairs(n=(20, 300), m=(20, 300)),
        "warped BasicMotions test": _warped(Path(args.data_root) / "BasicMotions" / "BasicMotions_TEST.ts"),
    }
    scores = {
        label: validation_ratios(path, validation, args.validation_pairs, seed=99_000 + args.seed)
        for label, path in (("bc", bc_file), ("bc+ppo", ppo_file))
    }
    for label, row in scores.items():
        print(f"validation {label}: " + ", ".join(f"{k} {v:.4f}" for k, v in row.items()), flush=True)
    best = min(scores, key=lambda label: np.mean(list(scores[label].values())))
    info["validation"] = scores
    info["chosen"] = best
    info["ppo_run"] = str(run_dir / "ppo")
    chosen, chosen_kwargs, _ = NumpyActor.load(bc_file if best == "bc" else ppo_file)
    chosen.save(args.out, chosen_kwargs, info)
    print(f"wrote {args.out} ({best})")
    return args.out


def _parse_lookahead(text):
    """``"2x16,8x16"`` -> ((2, 16), (8, 16)); ``"0x8"`` -> the corridor of radius 8; ``"none"`` -> ()."""
    if text.strip().lower() == "none":
        return ()
    try:
        rows = tuple(tuple(int(v) for v in item.split("x")) for item in text.split(","))
    except ValueError:
        rows = None
    if not rows or any(len(row) != 2 or min(row) < 1 for row in rows if row[:1] != (CORRIDOR,)):
        raise ValueError(
            f"--lookahead: lookahead must look like 2x16,8x16 (positive ints), 0x8 (the corridor of radius 8) or "
            f"'none'; got {text!r}"
        )
    return check_lookahead(rows, "--lookahead")


def _warped(path):
    """Real series of ``path`` against randomly warped noisy copies of themselves."""
    from agents.training.pretraining import _znorm
    from dtwrl.datasets import load_ucr
    from dtwrl.datasets.synthetic import random_monotone_warp, resample

    series = [_znorm(x) for x in load_ucr(str(path))[0]]

    def draw(rng):
        x = series[int(rng.integers(len(series)))]
        warp = random_monotone_warp(rng, len(x), len(x), strength=1.0)
        return x, _znorm(resample(x, warp) + rng.normal(0.0, 0.1, size=x.shape))

    return draw


def _fine_tune(args, corpus, bc_file, ppo_file, run_dir):
    """PPO from the cloned actor on the corpus (registered as an env), best validation actor to ``ppo_file``."""
    from agents import AlignerConfig, PolicyAligner, train_aligner
    from envs import register_env

    env_id = "dtwrl/PretrainCorpus-v0"
    register_env(env_id, pairs=corpus.pair_source(), lookahead=NumpyActor.load(bc_file)[1]["lookahead"])
    config = AlignerConfig(
        env_id=env_id,
        seed=args.seed,
        init_from=str(bc_file),
        total_env_steps=args.ppo_steps,
        bc_warmstart=True,
        out_dir=str(run_dir),
        run_name="ppo",
        eval_pairs=64,
        eval_interval=5,
        checkpoint_interval=10,
    )
    run, metrics = train_aligner(config)
    print(f"PPO: {metrics['env_steps']:,} env steps, eval ratio {metrics['cost_ratio_vs_dtw']:.4f}", flush=True)
    PolicyAligner(run).save_actor(ppo_file, {"ppo_run": str(run), "metrics": metrics})


if __name__ == "__main__":
    run_script(main)
