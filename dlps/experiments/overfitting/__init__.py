"""Experiment: under- and overfitting with polynomial regression on sparse noisy data."""
