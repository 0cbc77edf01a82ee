"""The power calculation: simulation of each rule as the judge applies it, checked against the noncentral t, exact
numerical integration, the exact binomial and a seed-by-seed simulation through dlps.verdicts; its pilot source;
the planned power evaluate copies into each primary finding."""

import json
import math
import subprocess
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from dlps import verdicts
from dlps.jobs.evaluate import add_power
from dlps.tools import power

ROOT = Path(__file__).resolve().parents[1]
MC = 4 * math.sqrt(0.25 / power.REPS)  # four Monte Carlo standard errors at worst
SENTIMENT = dict(sd=0.0042, v=0.88 * 0.12 / 25_000, alpha=0.025 / 3, n=3, shift=0.01)  # the case


def plan(sd, shift, test="t", **extra):
    return {"finding": "f", "test": test, "sds": [sd] if np.isscalar(sd) else sd, "effect": shift, **extra}


@pytest.mark.parametrize("sd, shift, alpha, n", [(1.0, 0.8, 0.025, 12), (0.018, 0.01, 0.0125, 30),
                                                  (0.97, 0.5, 0.0125, 59), (0.3, 0.5, 0.025, 3)])
def test_simulated_power_of_a_plain_t_matches_the_noncentral_t(sd, shift, alpha, n):
    assert power.simulate(plan(sd, shift), alpha, n) == pytest.approx(power.nct_power_t(sd, shift, alpha, n), abs=MC)
    assert power.exact_power_t(sd, shift, alpha, n) == pytest.approx(power.nct_power_t(sd, shift, alpha, n), abs=1e-6)


def test_sentiment_rule_with_a_variance_floor_matches_exact_integration():
    """At df n − 1 = 2 the noncentral t (SE with the floor folded in) claims 17%; exact integration gives 0.4%, and
    the simulation agrees with the integral under both degrees-of-freedom rules."""
    s = SENTIMENT
    se = math.sqrt(s["sd"] ** 2 / s["n"] + s["v"])
    old = stats.nct.sf(stats.t.isf(s["alpha"], s["n"] - 1), s["n"] - 1, s["shift"] / se)
    exact = power.exact_power_t(s["sd"], s["shift"], s["alpha"], s["n"], s["v"])
    assert old == pytest.approx(0.17, abs=0.01) and exact == pytest.approx(0.004, abs=0.001)
    for extra_df in (None, 24_999):
        p = plan(s["sd"], s["shift"], extra_var=s["v"], extra_df=extra_df)
        assert power.simulate(p, s["alpha"], s["n"]) == pytest.approx(
            power.exact_power_t(s["sd"], s["shift"], s["alpha"], s["n"], s["v"], extra_df), abs=MC)


def test_the_simulation_is_the_judges_rule_seed_by_seed():
    """Drawing every seed and the shared test-set shift, then judging with dlps.verdicts.difference (Welch df),
    rejects as often as the simulation over mean and variance."""
    rng, s, reps = np.random.default_rng(1), SENTIMENT, 3000
    shared = rng.normal(0, math.sqrt(s["v"]), reps)
    seeds = rng.normal(s["shift"], s["sd"], (reps, s["n"])) + shared[:, None]
    hits = [verdicts.difference(x, expect="greater", alpha=s["alpha"], extra_var=s["v"], extra_df=24_999)["verdict"]
            == "shown" for x in seeds]
    p = plan(s["sd"], s["shift"], extra_var=s["v"], extra_df=24_999)
    assert np.mean(hits) == pytest.approx(power.simulate(p, s["alpha"], s["n"]), abs=4 * math.sqrt(0.25 / reps))


def test_welch_satterthwaite_df_spans_n_minus_1_to_the_floors():
    assert power.welch_df(np.array([1.0]), 3, 0.0, 100)[0] == pytest.approx(2)
    assert power.welch_df(np.array([0.0]), 3, 1.0, 100)[0] == pytest.approx(100)
    d = np.array([0.01, 0.012, 0.015])
    assert verdicts.t_df(d, 1e-6, 24_999) == pytest.approx(power.welch_df(np.array([d.var(ddof=1)]), 3, 1e-6,
                                                                          24_999)[0])
    assert verdicts.difference(d, expect="greater", alpha=0.025, extra_var=1e-6, extra_df=24_999)["df"] > 2


def test_all_parts_required_is_below_the_weakest_part():
    one, alpha, n = plan(1.0, 0.8), 0.025, 12
    both = plan([1.0, 1.0], 0.8)
    single = power.simulate(one, alpha, n)
    assert power.simulate(both, alpha, n) == pytest.approx(single ** 2, abs=MC) and single ** 2 < single


def test_tost_at_a_true_zero():
    p, alpha = plan(0.1, 0.2, test="tost"), 0.0125
    n = power.n_for(p, alpha)
    assert power.simulate(p, alpha, n) >= power.POWER > power.simulate(p, alpha, n - 1)
    assert power.simulate(p, alpha, 400) == pytest.approx(1.0)


def test_sign_test_power_is_the_exact_binomial():
    q, alpha, n = 0.8, 0.0125, 30
    k = next(k for k in range(n + 1) if stats.binom.sf(k - 1, n, 0.5) < alpha)
    p = {"finding": "f", "test": "sign", "sds": [1.0], "q": q}
    assert power.simulate(p, alpha, n) == pytest.approx(stats.binom.sf(k - 1, n, q), abs=MC)
    assert power.n_for({"finding": "f", "test": "sign", "at": "every pair"}, 0.0125) == 7  # 0.5^7 < 0.0125 <= 0.5^6


def test_seeds_for_80_reach_it_and_one_fewer_does_not():
    for sd, shift, alpha in ((0.0028, 0.01, 0.0125), (0.018, 0.01, 0.0125), (0.97, 1.0, 0.025)):
        p = plan(sd, shift)
        n = power.n_for(p, alpha)
        assert power.simulate(p, alpha, n) >= power.POWER > power.simulate(p, alpha, n - 1)


def test_a_shared_variance_that_seeds_cannot_shrink_caps_the_power():
    p = plan(0.004, 0.01, extra_var=0.006 ** 2)
    assert power.simulate(p, 0.0125, 400) < power.POWER and power.n_for(p, 0.0125) is None


def test_pilot_reads_pilot_v2_else_the_confirmatory_run(tmp_path):
    folder = tmp_path / "metrics/pilot_v2/x"
    folder.mkdir(parents=True)
    (folder / "a.json").write_text(json.dumps({"runs": [{"seed": 5000, "m": 1.0}, {"seed": 5001, "m": 3.0}]}))
    pilot = power.Pilot("x", root=tmp_path)
    assert list(pilot.col("a", "m")) == [1.0, 3.0] and pilot.sd(pilot.col("a", "m")) == pytest.approx(math.sqrt(2))
    assert pilot.used == {"a": "pilot_v2"} and not pilot.has("b")
    if subprocess.run(["git", "cat-file", "-e", f"{power.CONFIRMATORY}^{{commit}}"], cwd=ROOT).returncode:
        pytest.skip(f"the confirmatory commit {power.CONFIRMATORY} is not in this clone's history")
    real = power.Pilot("numpy_rnn")
    assert [r["seed"] for r in real.runs("rnn")] == [1000, 1001, 1002] and real.used == {"rnn": power.CONFIRMATORY}


class _Exp:
    name = "x"
    power = None


def test_evaluate_records_planned_power_and_null_without_an_entry(tmp_path):
    planned = tmp_path / "protocol-power.json"
    planned.write_text(json.dumps({"x": {"a": {"planned_power": 0.83, "n": 10}}}))
    found = [{"id": "a", "primary": True}, {"id": "b", "primary": True}, {"id": "c", "primary": False}]
    add_power(_Exp, {"seeds": [1, 2]}, {}, found, planned)
    assert (found[0]["planned_power"], found[0]["n_planned"]) == (0.83, 10)
    assert found[1]["planned_power"] is None and found[1]["power_at_effect_run_sd"] is None
    assert "planned_power" not in found[2]
    add_power(_Exp, {"seeds": [1, 2]}, {}, found[:1], tmp_path / "absent.json")
    assert found[0]["planned_power"] is None


def test_the_committed_plan_is_the_tools_output():
    """docs/protocol-power.json holds what `python -m dlps.tools.power` writes for params.yaml's seeds."""
    if subprocess.run(["git", "cat-file", "-e", f"{power.CONFIRMATORY}^{{commit}}"], cwd=ROOT).returncode:
        pytest.skip(f"the confirmatory commit {power.CONFIRMATORY} is not in this clone's history")
    rows = power.rows()
    committed = json.loads((ROOT / power.PLANNED).read_text())
    assert {(r["experiment"], r["finding"]): r["planned_power"] for r in rows} == {
        (e, f): v["planned_power"] for e, fs in committed.items() for f, v in fs.items()}
