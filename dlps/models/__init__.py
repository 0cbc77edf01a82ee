"""Models and how they learn: a NumPy char-RNN and its PyTorch twin, from-scratch cells, batched members, n-gram
baselines, the classifier training loop, the Monte Carlo simulations."""
