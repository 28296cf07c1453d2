"""Using a trained policy: the NumPy actor, rollouts, decoding, ``PolicyAligner``, baselines, shipped weights."""
