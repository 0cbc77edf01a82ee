"""Vanishing and exploding gradients in RNN, LSTM and GRU, measured step by step on the adding problem."""
