"""Experiment: sentiment classification on IMDB: TF-IDF + logistic regression against LSTM, BiLSTM and GRU."""
