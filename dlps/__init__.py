"""dlps: a reproducible deep-learning practice study."""
