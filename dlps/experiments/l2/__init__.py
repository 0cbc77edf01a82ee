"""Experiment: explicit L2 regularisation strength λ for a small CNN on a CIFAR-10 subset."""
