"""Forecasting with DTW-family losses: models, the fit loop and test metrics.

- :mod:`dtwrl.forecasting.models`: MLP, CNN and GRU seq2seq forecasters.
- :mod:`dtwrl.forecasting.training`: ``fit_forecaster`` / ``ForecasterTrainer``,
  ``predict`` and ``evaluate_forecaster``.
- :mod:`dtwrl.forecasting.metrics`: MSE, DTW, soft-DTW and TDI per series.
"""
