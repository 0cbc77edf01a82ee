"""Models: a NumPy char-RNN and its PyTorch twin, from-scratch recurrent cells, n-gram baselines."""
