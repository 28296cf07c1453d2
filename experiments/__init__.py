"""Runnable experiment scripts (``python experiments/<name>.py --help``).

Importing this package quiets the start of every script: TensorFlow's C++
registration noise and the legacy ``gym`` banner that tf-agents triggers are
silenced before either is imported (see :mod:`experiments.quiet`). Library
users who import :mod:`dtwrl`, :mod:`envs` or :mod:`agents` directly keep their
own logging configuration.
"""

from experiments.quiet import quiet_start

quiet_start()
