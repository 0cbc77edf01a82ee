"""The generic stage jobs every experiment shares: train one variant, evaluate, plot."""
