"""Experiment: a character-level vanilla RNN written in NumPy (BPTT, clipping, Adam), checked against PyTorch."""
