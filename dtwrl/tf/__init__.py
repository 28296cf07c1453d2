"""The differentiable DTW family in TensorFlow: soft-DTW, relaxations and Keras losses.

Modules:

- :mod:`dtwrl.tf.cost`: batched local-cost matrices ``(B, n, m)``.
- :mod:`dtwrl.tf._wavefront`: the anti-diagonal dynamic programme shared by
  soft-DTW and smoothed-operator DTW (forward, backward, Hessian-vector).
- :mod:`dtwrl.tf.sdtw`: ``soft_dtw``, ``soft_dtw_alignment``, ``soft_dtw_divergence``.
- :mod:`dtwrl.tf.smoothed`: smoothed-operator DTW (entropy or squared L2).
- :mod:`dtwrl.tf.relaxations`: fixed-path DTW, ``path_cost_tf`` and DILATE.
- :mod:`dtwrl.tf.losses`: one Keras ``Loss`` per training signal and ``get_loss``
  (re-exported as :mod:`dtwrl.losses`).

The public functions are re-exported by :mod:`dtwrl` itself, which loads this
package on first use so that ``import dtwrl`` never imports TensorFlow.
"""
