"""Experiment: dropout rates in an MLP that overfits a small MNIST subset (dropout the only regulariser)."""
