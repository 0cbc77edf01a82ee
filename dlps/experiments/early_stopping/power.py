"""Early stopping's power calculation: the pilot's spread of the saved fraction and of the accuracy change."""


def plans(pilot):
    saved = pilot.col("all", "epochs_saved_frac_p5")
    d = pilot.col("all", "test_acc_restored_p5") - pilot.col("all", "test_acc_full")
    return [
        {"finding": "saves_epochs", "rule": "one-sided t, saved fraction − 0.3", "test": "t",
         "sds": [pilot.sd(saved)], "effect": 0.05, "at": "true saving 35% (5 pp above the bar)",
         "sd": f"{100 * pilot.sd(saved):.1f} pp"},
        {"finding": "performance_maintained", "rule": "non-inferiority t, restored − full > −0.3 pp", "test": "t",
         "sds": [pilot.sd(d)], "effect": 0.003, "at": "true difference 0", "sd": f"{100 * pilot.sd(d):.2f} pp"},
    ]
