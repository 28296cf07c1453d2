"""How close is a corridor soft-DTW loss's training signal to full soft-DTW's, along training from the MSE start?

The long-horizon benchmark (``experiments/long_horizon.py``) starts every DTW loss from an MSE model. This
script takes that setting (same data, windows, MLP and budget calibration) and follows one training
trajectory: the MSE model (``--mse-epochs``), then ``--steps`` Adam steps under ``--follow`` (full soft-DTW
at ``--reference-gamma``, or one corridor loss ``source:budget:gamma``). Every ``--every`` steps, on a fixed
probe batch (the first ``--batch-size`` training windows), it compares with full soft-DTW at
``--reference-gamma``:

- ``param cos``: cosine similarity of the gradients with respect to the model's weights (what Adam sees);
- ``pred cos``: the same with respect to the forecasts;
- ``mass in``: the share of full soft-DTW's expected alignment (:func:`dtwrl.soft_dtw_alignment`) that lies
  inside the corridor (mean over pairs; 1 for full soft-DTW itself; ``--no-mass`` skips it: the dense
  alignment of one pair takes gigabytes at H = 8192);

for full soft-DTW at each ``--gammas`` value (the control: how much γ alone moves the gradient) and for each
corridor source at each budget and γ, the corridor recomputed from the current forecasts. ``probe DTW`` is
the exact DTW of the probe forecasts (mean over pairs).

    python experiments/corridor_gradients.py --horizon 2048 --input-length 512 --steps 10 --every 2
"""

import experiments  # noqa: F401  (first: silences TensorFlow and gym start-up noise)

# isort: split
import dataclasses
import math

import numpy as np
import tensorflow as tf

import dtwrl
from dtwrl import corridors
from dtwrl.forecasting.metrics import dtw_score
from dtwrl.forecasting.models import build_forecaster
from dtwrl.forecasting.training import ForecasterTrainer, predict
from dtwrl.losses import SoftDTWLoss
from dtwrl.validation import check_gamma
from experiments import long_horizon as lh
from experiments.cli import blame, fail, field, require_at_least, table_main
from experiments.reporting import titled_table
from experiments.run_folders import seed_everything


@dataclasses.dataclass
class Args(lh.WindowArgs):
    horizon: int = field(2048, "forecast horizon H")
    max_train: int = field(16, "training windows at most")
    max_test: int = field(4, "validation and test windows at most (only the data split needs them)")
    model: str = field("mlp", "forecaster: mlp or cnn")
    hidden_units: int = field(128, "hidden width")
    sources: tuple[str, ...] = field(("band", "exact", "random"), f"corridor sources among {lh.SOURCES}")
    budgets: tuple[float, ...] = field((0.01, 0.03), "corridor cell budgets, shares of the n m cells")
    gammas: tuple[float, ...] = field((1.0, 0.1, 0.01), "γ of the compared losses")
    reference_gamma: float = field(0.1, "γ of the full soft-DTW reference")
    follow: str = field("full", "trajectory: full (soft-DTW at --reference-gamma) or source:budget:gamma")
    seed: int = field(0, "seed")
    mse_epochs: int = field(10, "epochs of the MSE start")
    steps: int = field(6, "Adam steps after the MSE start")
    every: int = field(2, "compare on one step in this many")
    batch_size: int = field(8, "batch size (also the probe batch)")
    learning_rate: float = field(1e-3, "Adam step size")
    policy_samples: int = field(16, "paths sampled per pair by the policy_samples source")
    policy_temperature: float = field(8.0, "sampling temperature of the policy_samples source")
    mass: bool = field(True, "also the alignment mass inside each corridor (one dense n m alignment per pair)")
    out: str = field("", "also write the table to this markdown file")


def _parse_follow(text, args):
    """``"full"`` -> None; ``"source:budget:gamma"`` -> (source, budget, gamma)."""
    if text == "full":
        return None
    parts = text.split(":")
    if len(parts) != 3 or parts[0] not in args.sources:
        fail("--follow", f"must be full or source:budget:gamma with a source of --sources; got {text!r}")
    try:
        budget, gamma = float(parts[1]), float(parts[2])
    except ValueError:
        fail("--follow", f"budget and gamma must be numbers; got {text!r}")
    if not 0 < budget < 1:
        fail("--follow", f"budget must be in (0, 1); got {budget}")
    with blame("--follow"):
        check_gamma(gamma)
    return parts[0], budget, gamma


def validate(args):
    """Every flag, before any work (one line ``error: --flag: ...`` and exit 2 otherwise)."""
    if args.model not in lh.MODELS:
        fail("--model", f"must be among {', '.join(lh.MODELS)}; got {args.model!r}")
    require_at_least(args, 0, "seed", "steps")
    require_at_least(args, 1, "every")
    with blame("--reference-gamma"):
        check_gamma(args.reference_gamma)
    lh_args = lh.validate(
        lh.Args(**{f.name: getattr(args, f.name) for f in dataclasses.fields(lh.Args) if hasattr(args, f.name)})
    )
    args.input_length, args.stride = lh_args.input_length, lh_args.stride
    args.follow_loss = _parse_follow(args.follow, args)
    return args


def _cosine(a, b):
    a, b = np.ravel(a), np.ravel(b)
    return float(a @ b / max(np.linalg.norm(a) * np.linalg.norm(b), 1e-300))


def gradients(model, loss, x, y):
    """(gradient w.r.t. the flattened weights, gradient w.r.t. the forecasts) of ``loss(y, model(x))``."""
    weights = model.trainable_variables
    with tf.GradientTape(persistent=True) as tape:
        pred = model(x, training=False)
        value = loss(y, pred)
    by_weight = tape.gradient(value, weights)
    by_pred = tape.gradient(value, pred)
    del tape
    return np.concatenate([g.numpy().ravel() for g in by_weight]), by_pred.numpy()


def alignment_mass_inside(y_true, y_pred, corridors_by_key, gamma):
    """Share of full soft-DTW's expected alignment inside each corridor, mean over the pairs.

    ``y_true (B, n, d)``, ``y_pred (B, m, d)``; ``corridors_by_key`` maps keys to corridors ``(B, n, 2)``.
    One pair at a time (its dense alignment is n m numbers), computed once for every corridor.

    >>> a = np.array([[[0.0], [1.0]]])
    >>> alignment_mass_inside(a, a, {"all": np.array([[[0, 1], [0, 1]]])}, 0.1)
    {'all': 1.0}
    """
    shares = {key: [] for key in corridors_by_key}
    for b in range(len(y_true)):
        alignment = np.asarray(dtwrl.soft_dtw_alignment(y_true[b : b + 1], y_pred[b : b + 1], gamma=gamma))[0]
        total = np.sum(alignment)
        for key, corridor in corridors_by_key.items():
            mask = corridors.corridor_mask(corridor[b : b + 1], y_pred.shape[1])[0]
            shares[key].append(np.sum(alignment, where=mask) / total)
    return {key: float(np.mean(values)) for key, values in shares.items()}


def compare(model, x, y, specs, args):
    """One probe: rows (loss, budget, γ, param cos, pred cos, mass in) against full soft-DTW at the reference γ."""
    pred = predict(model, x).astype(np.float64)
    reference = gradients(model, SoftDTWLoss(gamma=args.reference_gamma), x, y)
    y64 = y.astype(np.float64)
    rows = []
    for gamma in args.gammas:
        got = gradients(model, SoftDTWLoss(gamma=gamma), x, y)
        rows.append(("soft_dtw", None, gamma, _cosine(got[0], reference[0]), _cosine(got[1], reference[1]), 1.0))
    by_key = {key: corridors.corridor_from_name(spec, y64, pred) for key, spec in specs.items()}
    masses = alignment_mass_inside(y64, pred, by_key, args.reference_gamma) if args.mass else {}
    for (source, budget), spec in specs.items():
        for gamma in args.gammas:
            got = gradients(model, SoftDTWLoss(gamma=gamma, corridor=spec), x, y)
            cosines = _cosine(got[0], reference[0]), _cosine(got[1], reference[1])
            rows.append((f"corridor:{source}", budget, gamma, *cosines, masses.get((source, budget), math.nan)))
    return rows, dtw_score(y, pred.astype(np.float32))


def run(args, log=print):
    """The MSE start, the followed trajectory and the probes; returns the table's markdown."""
    data = lh.prepare_data(args)
    X, Y = data["train"]
    seed_everything(args.seed)
    model = build_forecaster(args.model, X.shape[1], Y.shape[1], hidden_units=args.hidden_units)
    rng = np.random.default_rng(args.seed)
    steps_per_epoch = math.ceil(len(X) / args.batch_size)
    ForecasterTrainer(model, "mse", learning_rate=args.learning_rate).run_steps(
        X, Y, args.mse_epochs * steps_per_epoch, args.batch_size, rng
    )
    calibration = (Y[: lh.CALIBRATION_PAIRS].astype(np.float64), predict(model, X[: lh.CALIBRATION_PAIRS]))
    specs = {
        (source, budget): lh.calibrate(source, budget, calibration[0], calibration[1].astype(np.float64), args)
        for source in args.sources
        for budget in args.budgets
    }
    log("corridors: " + ", ".join(f"{s} {b:.0%} = {spec}" for (s, b), spec in specs.items()))
    if args.follow_loss is None:
        loss = SoftDTWLoss(gamma=args.reference_gamma)
    else:
        source, budget, gamma = args.follow_loss
        spec = specs.get((source, budget)) or lh.calibrate(source, budget, *calibration, args)
        loss = SoftDTWLoss(gamma=gamma, corridor=spec)
    trainer = ForecasterTrainer(model, loss, learning_rate=args.learning_rate)
    x, y = X[: args.batch_size], Y[: args.batch_size]
    table = []
    for step in range(args.steps + 1):
        if step % args.every == 0 or step == args.steps:
            rows, probe_dtw = compare(model, x, y, specs, args)
            log(f"step {step}: probe DTW {probe_dtw:.4g}")
            for loss_name, budget, gamma, param_cos, pred_cos, mass in rows:
                table.append([step, f"{probe_dtw:.4g}", loss_name, "-" if budget is None else f"{budget:.0%}",
                              f"{gamma:g}", f"{param_cos:.3f}", f"{pred_cos:.3f}", f"{mass:.3f}"])  # fmt: skip
        if step < args.steps:
            trainer.run_steps(X, Y, 1, args.batch_size, rng)
    header = ["step", "probe DTW", "loss", "budget", "γ", "param cos", "pred cos", "mass in"]
    title = (
        f"Corridor vs full soft-DTW gradients: {args.data}, L={args.input_length}, H={args.horizon},"
        f" following {args.follow}, reference γ = {args.reference_gamma:g}"
    )
    return titled_table(title, header, table, args.out)


#: Parse the flags, run, print the table (also returned).
main = table_main(Args, run, __doc__.splitlines()[0], validate)


if __name__ == "__main__":
    main()
