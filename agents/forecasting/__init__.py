"""Forecasters trained on policy paths (the RL-returns loop), compared with DTW, FastDTW, soft-DTW and MSE."""
