"""Experiment: the bias–variance decomposition measured by Monte Carlo, and double descent on random features."""
