"""The protocol's power calculation: seed counts that reach the power they claim, and rules whose n is exact."""

import math
import subprocess
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from dlps.tools import power


def test_the_seeds_found_reach_the_power_and_one_fewer_does_not():
    for sd, shift, alpha in ((0.0028, 0.01, 0.0125), (0.018, 0.01, 0.0125), (0.97, 1.0, 0.025)):
        n = power.n_t(sd, shift, alpha)
        assert power.power_t(sd, shift, alpha, n) >= power.POWER > power.power_t(sd, shift, alpha, n - 1)


def test_power_matches_a_simulation_of_the_one_sided_t_test():
    rng = np.random.default_rng(0)
    sd, shift, alpha, n = 1.0, 0.8, 0.025, 12
    d = rng.normal(shift, sd, (20_000, n))
    p = stats.ttest_1samp(d, 0.0, axis=1, alternative="greater").pvalue
    assert np.mean(p < alpha) == pytest.approx(power.power_t(sd, shift, alpha, n), abs=0.01)


def test_a_shared_variance_that_seeds_cannot_shrink_caps_the_power():
    assert power.power_t(0.004, 0.01, 0.0125, 50, extra_var=0.0) > power.power_t(0.004, 0.01, 0.0125, 50,
                                                                                 extra_var=0.006 ** 2)


def test_tost_and_sign_counts():
    assert power.n_sign(0.0125) == 7 and 0.5 ** 7 < 0.0125 <= 0.5 ** 6
    n = power.n_tost(0.1, 0.2, 0.0125)
    assert power.power_tost(0.1, 0.2, 0.0125, n) >= power.POWER and n >= 2
    assert math.isclose(power.power_tost(0.1, 0.2, 0.0125, 400), 1.0, abs_tol=1e-9)


def test_the_protocol_holds_the_table_the_tool_prints():
    """docs/protocol.md's power table is the tool's output for the pilot and the seeds in params.yaml."""
    root = Path(__file__).resolve().parents[1]
    if subprocess.run(["git", "cat-file", "-e", f"{power.PILOT}^{{commit}}"], cwd=root).returncode != 0:
        pytest.skip(f"the pilot's commit {power.PILOT} is not in this clone's history")
    assert power.table(power.PILOT) in (root / "docs/protocol.md").read_text()
