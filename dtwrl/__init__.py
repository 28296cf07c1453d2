"""dtwrl: Dynamic Time Warping as a training signal in TensorFlow.

The NumPy/numba half (exact DTW, FastDTW oracle, bands, datasets) imports
quickly. The TensorFlow half (soft-DTW and its relaxations) is loaded on first
use, so ``import dtwrl`` stays cheap for environments and scripts that never
touch TensorFlow.

>>> import numpy as np, dtwrl
>>> dtwrl.dtw(np.array([0., 1., 2.]), np.array([0., 2.]))
1.0
"""

from ._lazy import lazy_exports

__version__ = "0.1.0"

# public name -> module (relative to this package) that defines it
_EXPORTS = {
    "cost_matrix": ".local_cost",
    "METRICS": ".local_cost",
    "band_mask": ".bands",
    "min_band": ".bands",
    "dtw": ".exact_dtw",
    "dtw_path": ".exact_dtw",
    "path_cost": ".exact_dtw",
    "cost_ratio": ".exact_dtw",
    "fastdtw_path": ".oracle",
    "soft_dtw": ".tf.sdtw",
    "soft_dtw_alignment": ".tf.sdtw",
    "soft_dtw_divergence": ".tf.sdtw",
    "smoothed_dtw": ".tf.smoothed",
    "smoothed_dtw_alignment": ".tf.smoothed",
    "fixed_path_dtw": ".tf.relaxations",
    "dilate": ".tf.relaxations",
    "path_cost_tf": ".tf.relaxations",
}

lazy_exports(__name__, _EXPORTS, globals())
