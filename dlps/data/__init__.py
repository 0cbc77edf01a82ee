"""Datasets: where each comes from, how it is fetched and verified, and how it is decoded once."""
