"""Early stopping's power calculation: the pilot's spread of the saved fraction and of the accuracy change, on the
registered monitor (validation accuracy) at the default patience."""

from dlps.experiments.early_stopping.spec import col

MONITOR, PATIENCE = "val_acc", 5  # params.yaml's registered monitor and default_patience


def plans(pilot):
    saved = pilot.col("all", col("epochs_saved_frac", MONITOR, PATIENCE))
    d = pilot.col("all", col("test_acc_restored", MONITOR, PATIENCE)) - pilot.col("all", "test_acc_full")
    return [
        {"finding": "saves_epochs", "rule": "one-sided t, saved fraction (val_acc, patience 5) − 0.3", "test": "t",
         "sds": [pilot.sd(saved)], "effect": 0.05, "at": "true saving 35% (5 pp above the bar)",
         "sd": f"{100 * pilot.sd(saved):.1f} pp"},
        {"finding": "performance_maintained", "rule": "non-inferiority t, restored (val_acc, patience 5) − full > "
                                                      "−0.3 pp", "test": "t",
         "sds": [pilot.sd(d)], "effect": 0.003, "at": "true difference 0", "sd": f"{100 * pilot.sd(d):.2f} pp"},
    ]
