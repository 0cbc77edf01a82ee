"""RNN vs LSTM vs GRU, and LSTM/GRU gate ablations, on the adding problem at increasing lags."""
