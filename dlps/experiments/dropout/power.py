"""Dropout's power calculation: the pilot's spread of the paired differences its primaries test."""


def plans(pilot):
    acc = pilot.col("0.5", "test_acc") - pilot.col("0.0", "test_acc")
    acc_gap = pilot.col("0.5", "gap") - pilot.col("0.0", "gap")
    gap = pilot.col("0.5", "loss_gap") - pilot.col("0.0", "loss_gap")
    return [
        {"finding": "beats_baseline", "rule": "one-sided paired t, test accuracy p* − 0", "test": "t",
         "sds": [pilot.sd(acc)], "effect": 0.01, "at": "true gain 1 pp (min_gain)",
         "sd": f"{100 * pilot.sd(acc):.2f} pp"},
        {"finding": "narrows_accuracy_gap", "rule": "one-sided paired t, accuracy gap p* − 0", "test": "t",
         "sds": [pilot.sd(acc_gap)], "effect": 0.01, "at": "true change −1 pp (min_acc_gap_change)",
         "sd": f"{100 * pilot.sd(acc_gap):.2f} pp"},
        {"finding": "narrows_loss_gap", "rule": "one-sided paired t, loss gap p* − 0", "test": "t",
         "sds": [pilot.sd(gap)], "effect": 0.05, "at": "true change −0.05 nats (min_gap_change)",
         "sd": f"{pilot.sd(gap):.3f} nats"},
    ]
