"""Datasets: where each comes from, how it is fetched, verified and decoded once; synthetic tasks; text batching."""
