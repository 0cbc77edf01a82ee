"""Experiment: patience-based early stopping of an MLP that overfits a small Fashion-MNIST subset."""
