"""Peak memory of one training step at a long horizon: MSE, full soft-DTW and corridor soft-DTW at cell budgets.

The step of ``experiments/long_horizon.py`` (:func:`experiments.long_horizon.step_memory_mb`: the loss's value
and gradient with respect to the forecaster's weights on the first ``--batch-size`` training windows, measured
alone in a fresh process after a warm-up) for MSE, full soft-DTW (``--full``) and each corridor source
(``--sources``) at each cell budget (``--budgets``, calibrated on the batch's forecasts as long_horizon.py
does), on the same windows (its data flags). Each loss is measured ``--repeats`` times, the losses taking turns,
and the median is reported with:

- ``vs full``: the step's peak over full soft-DTW's;
- ``beyond MSE vs full``: ``(loss - MSE) / (full - MSE)``, the share of what full soft-DTW adds over the MSE
  step (model, batch and backward pass, which every loss pays) that the loss adds.

The process measures with glibc's mmap threshold fixed at 128 KiB (``--allocator fixed``), so that the peak follows
the memory the step holds; ``--allocator dynamic`` keeps glibc's default, under which blocks a corridor source
frees before the backward pass stay resident (:mod:`experiments.memory`).

The forecaster keeps its seeded initial weights: the memory of a step does not depend on their values (only the
corridors of path sources follow the forecasts).

    python -m experiments.long_horizon_memory --horizon 8192 --input-length 1024 --budgets 0.01 0.03 --repeats 5
"""

import experiments  # noqa: F401  (first: silences TensorFlow and gym start-up noise)

# isort: split
import dataclasses

import numpy as np

from dtwrl.forecasting.models import build_forecaster
from dtwrl.forecasting.training import predict
from dtwrl.losses import SoftDTWLoss
from dtwrl.validation import check_gamma
from experiments import long_horizon as lh
from experiments.cli import blame, fail, field, require_at_least, table_main
from experiments.memory import ALLOCATORS
from experiments.reporting import titled_table
from experiments.run_folders import seed_everything


@dataclasses.dataclass
class Args(lh.WindowArgs):
    horizon: int = field(8192, "forecast horizon H")
    max_train: int = field(8, "training windows at most (the step runs on the first --batch-size)")
    max_test: int = field(1, "validation and test windows at most (only the data split needs them)")
    model: str = field("mlp", f"forecaster: {', '.join(lh.MODELS)}")
    hidden_units: int = field(128, "hidden width")
    sources: tuple[str, ...] = field(("band",), "corridor sources among band, fastdtw, exact, random")
    budgets: tuple[float, ...] = field((0.01, 0.03), "corridor cell budgets, shares of the n m cells")
    full: bool = field(True, "also full soft-DTW (the reference of the ratios)")
    batch_size: int = field(8, "pairs in the measured step")
    repeats: int = field(3, "fresh-process measurements per loss (the losses take turns); the median is reported")
    seed: int = field(0, "seed of the windows and of the forecaster's weights")
    gamma: float = field(0.1, "soft-DTW γ")
    allocator: str = field(
        "fixed",
        "glibc's mmap threshold in the measuring processes: fixed (128 KiB: the peak follows the memory the step"
        " holds) or dynamic (glibc's default: freed heap blocks may stay resident)",
    )
    out: str = field("", "also write the table to this markdown file")


#: The columns of the table.
HEADER = ["loss", "budget", "corridor", "step peak MB (median)", "range", "vs full", "beyond MSE vs full"]


def validate(args):
    """Every flag, before any work (one line ``error: --flag: ...`` and exit 2 otherwise)."""
    lh.check_windows(args)
    if args.model not in lh.MODELS:
        fail("--model", f"must be among {', '.join(lh.MODELS)}; got {args.model!r}")
    if any(source.startswith("policy") for source in args.sources):
        fail("--sources", f"must be among band, fastdtw, exact, random; got {args.sources}")
    require_at_least(args, 1, "hidden_units", "batch_size", "repeats")
    require_at_least(args, 0, "seed")
    if args.allocator not in ALLOCATORS:
        fail("--allocator", f"must be one of {', '.join(ALLOCATORS)}; got {args.allocator!r}")
    with blame("--gamma"):
        check_gamma(args.gamma)
    return args


def losses(args, y_true, y_pred):
    """[(name, budget, spec, loss)]: MSE, full soft-DTW, then each source at each budget on these pairs."""
    rows = [("mse", None, None, "mse")]
    if args.full:
        rows.append(("soft_dtw", None, None, SoftDTWLoss(gamma=args.gamma)))
    for source in args.sources:
        for budget in args.budgets:
            spec = lh.calibrate(source, budget, y_true, y_pred, args)
            rows.append((f"corridor:{source}", budget, spec, SoftDTWLoss(gamma=args.gamma, corridor=spec)))
    return rows


def ratios(peak, mse, full):
    """(peak / full, (peak - mse) / (full - mse)): NaN without a full soft-DTW reference.

    >>> ratios(8.0, 5.0, 45.0)
    (0.17777777777777778, 0.075)
    """
    if full is None or not full > mse:
        return float("nan"), float("nan")
    return peak / full, (peak - mse) / (full - mse)


def run(args, log=print):
    """Measure every loss ``--repeats`` times; returns the table's markdown."""
    data = lh.prepare_data(args)
    X, Y = data["train"]
    batch = min(args.batch_size, len(X))
    x, y = X[:batch], Y[:batch]
    seed_everything(args.seed)
    model = build_forecaster(args.model, x.shape[1], y.shape[1], hidden_units=args.hidden_units)
    rows = losses(args, y.astype(np.float64), predict(model, x).astype(np.float64))
    peaks = [[] for _ in rows]
    weights = model.get_weights()
    for repeat in range(args.repeats):
        for (name, budget, _spec, loss), got in zip(rows, peaks):
            got.append(lh.step_memory_mb(args.model, weights, x, y, loss, args.hidden_units, args.allocator))
            label = name if budget is None else f"{name} {budget:.0%}"
            log(f"repeat {repeat + 1}/{args.repeats}: {label} {got[-1]:.2f} MB")
    medians = [float(np.median(got)) for got in peaks]
    full = medians[1] if args.full else None
    table = []
    for (name, budget, spec, _loss), median, got in zip(rows, medians, peaks):
        vs_full, beyond = ratios(median, medians[0], full)
        table.append([name, "-" if budget is None else f"{budget:.0%}", spec or "-", f"{median:.2f}",
                      f"{min(got):.2f}-{max(got):.2f}", f"{vs_full:.3f}", f"{beyond:.3f}"])  # fmt: skip
    title = (
        f"Step peak memory: {args.data}, {args.model}, L={args.input_length}, H={args.horizon}, B={batch},"
        f" γ = {args.gamma:g}, {args.repeats} fresh processes per loss, {args.allocator} mmap threshold"
    )
    return titled_table(title, HEADER, table, args.out)


#: Parse the flags, run, print the table (also returned).
main = table_main(Args, run, __doc__.splitlines()[0], validate)


if __name__ == "__main__":
    main()
