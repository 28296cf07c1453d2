"""Forecasting with DTW-family losses: models, the fit loop, test metrics and loss comparisons.

- :mod:`dtwrl.forecasting.models`: MLP, CNN and GRU seq2seq forecasters (the GRU can mask padded inputs).
- :mod:`dtwrl.forecasting.training`: ``fit_forecaster`` / ``ForecasterTrainer``,
  ``predict`` and ``evaluate_forecaster``; all take per-series lengths.
- :mod:`dtwrl.forecasting.metrics`: MSE, DTW, √DTW, soft-DTW and TDI per series, at free lengths.
- :mod:`dtwrl.forecasting.preprocessing`: normalisation (train-split z-score, per-series z-score) and
  the layout of free-length series for a model (padding with lengths, or resampling).
- :mod:`dtwrl.forecasting.comparison`: one task, many losses: validation-chosen γ/α, test scores;
  ``compare_losses(..., init="mse")`` trains the MSE model of a seed first and starts every other
  loss from it (the default protocol).
- :mod:`dtwrl.forecasting.ranks`: mean ranks, wins against a baseline, Nemenyi critical difference.
"""
