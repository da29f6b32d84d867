"""Benchmark of the lifetime-value models on synthetic customers: `bash tools/bench.sh bench/bgnbd_fit.py`.

No database: customers are drawn from the BG/NBD and Gamma-Gamma models themselves (numpy, fixed
seed), in days, with known parameters; the script times each step the nightly run will take per
company (BG/NBD fit, P(alive), expected purchases in 12 months, Gamma-Gamma fit on the repeat buyers,
expected margin per purchase, discounted 12-month projection) and prints the parameters recovered
next to the true ones, then a PASS/FAIL line for the target (everything within 60 s for 100,000
customers).

Options: --customers N (default 100000), --seed S (default 2005), --repeat K (fits timed K times,
the best time printed; default 3).
"""

import argparse
import importlib.util
import sys
import time
from pathlib import Path

import numpy as np

# crm_lifecycle/lib is pure Python: load the module from its file, without Odoo.
_spec = importlib.util.spec_from_file_location(
    "bgnbd", Path(__file__).resolve().parent.parent / "crm_lifecycle" / "lib" / "bgnbd.py"
)
bgnbd = sys.modules["bgnbd"] = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bgnbd)

TARGET_SECONDS = 60.0
DAYS_PER_MONTH = 365.25 / 12
# In days: a mean rate r / alpha of one repeat purchase every 120 days, a mean drop-out probability
# a / (a + b) of 0.25 after each repeat purchase; margins per order around 80.
TRUE_BGNBD = bgnbd.BgNbd(r=0.6, alpha=72.0, a=0.8, b=2.4)
TRUE_GG = bgnbd.GammaGamma(p=4.0, q=3.5, v=50.0)


def out(line=""):
    sys.stdout.write(f"{line}\n")


def synthetic_customers(n, seed):
    """(x, t_x, T, m) of n customers drawn from the two models, first purchases spread over 3 years.

    Repeat purchases arrive as a Poisson process of rate lambda; the customer drops out just after
    each repeat purchase with probability p, so J, the number of the last one, is geometric. Given N
    arrivals in (0, T], the k-th sits at T times the k-th of N sorted uniforms, Beta(k, N - k + 1).
    """
    rng = np.random.default_rng(seed)
    m = TRUE_BGNBD
    T = rng.uniform(1.0, 3 * 365.25, n).round()
    rate = rng.gamma(m.r, 1.0 / m.alpha, n)
    dropout = rng.beta(m.a, m.b, n)
    arrivals = rng.poisson(rate * T)
    last = rng.geometric(dropout)
    x = np.minimum(arrivals, last)
    t_x = np.where(x > 0, T * rng.beta(np.maximum(x, 1), np.maximum(arrivals - x + 1, 1)), 0.0)
    t_x = np.where(x > 0, np.clip(t_x, 1e-3, T), 0.0)
    # Gamma-Gamma: each customer's mean value per purchase p / nu, nu ~ Gamma(q, rate v); the mean of
    # x purchases of Gamma(p, rate nu) is Gamma(p x, rate nu x).
    g = TRUE_GG
    nu = rng.gamma(g.q, 1.0 / g.v, n)
    mean_value = np.where(x > 0, rng.gamma(g.p * np.maximum(x, 1), 1.0 / (nu * np.maximum(x, 1))), 0.0)
    # What the next 12 months bring, to check the predictions: an active customer (the last drawn
    # purchase not yet made) buys at rate lambda until the purchase after which they drop out.
    alive = x < last
    future = np.where(alive, np.minimum(rng.poisson(rate * 12 * DAYS_PER_MONTH), last - x), 0)
    return x.astype(float), t_x, T, mean_value, alive, future


def best_time(repeat, function):
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return min(times), result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=2005)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    start = time.perf_counter()
    x, t_x, T, m, alive, future = synthetic_customers(args.customers, args.seed)
    out(f"{args.customers:,} synthetic customers (seed {args.seed}) in {time.perf_counter() - start:.2f} s: ")
    out(f"  {int((x > 0).sum()):,} repeat buyers, {int(x.sum()):,} repeat purchases, max frequency {int(x.max())}")

    steps = {}
    steps["BG/NBD fit"], fit = best_time(args.repeat, lambda: bgnbd.fit_bgnbd(x, t_x, T))
    model = fit.model
    steps["P(alive)"], p_alive = best_time(args.repeat, lambda: model.probability_alive(x, t_x, T))
    horizon = 12 * DAYS_PER_MONTH
    steps["expected purchases, 12 months"], expected = best_time(
        args.repeat, lambda: model.expected_purchases(horizon, x, t_x, T)
    )
    repeat = x > 0
    steps["Gamma-Gamma fit"], gg_fit = best_time(args.repeat, lambda: bgnbd.fit_gamma_gamma(x[repeat], m[repeat]))
    steps["expected margin per purchase"], value = best_time(
        args.repeat, lambda: gg_fit.model.expected_average_value(x, m)
    )
    steps["12-month projection, 1%/month discount"], _projection = best_time(
        args.repeat,
        lambda: bgnbd.projected_value(model, x, t_x, T, value, periods_per_month=DAYS_PER_MONTH, monthly_discount=0.01),
    )

    out()
    out(f"BG/NBD fit: converged {fit.converged} ({fit.message}), {fit.iterations} iterations, at bound {fit.at_bound}")
    for name in ("r", "alpha", "a", "b"):
        true, got = getattr(TRUE_BGNBD, name), getattr(model, name)
        out(f"  {name:>5} true {true:9.4f}  fitted {got:9.4f}  ({(got / true - 1) * 100:+.2f}%)")
    out(f"Gamma-Gamma fit: converged {gg_fit.converged}, {gg_fit.n_customers:,} repeat buyers")
    for name in ("p", "q", "v"):
        true, got = getattr(TRUE_GG, name), getattr(gg_fit.model, name)
        out(f"  {name:>5} true {true:9.4f}  fitted {got:9.4f}  ({(got / true - 1) * 100:+.2f}%)")
    out(f"Active customers: {int(alive.sum()):,} drawn, {p_alive.sum():,.0f} expected (sum of P(alive))")
    out(f"Purchases in the next 12 months: {int(future.sum()):,} drawn, {expected.sum():,.0f} expected")
    for low, high in ((0, 0), (1, 2), (3, 9), (10, None)):
        group = (x >= low) & (x <= (high if high is not None else np.inf))
        label = f"frequency {low}-{high}" if high is not None else f"frequency {low}+"
        drawn, predicted = int(future[group].sum()), expected[group].sum()
        out(f"  {label:<16} {int(group.sum()):>7,} customers: {drawn:>7,} drawn, {predicted:>9,.0f} expected")

    out()
    total = sum(steps.values())
    for name, seconds in steps.items():
        out(f"  {name:<40} {seconds:7.3f} s")
    out(f"  {'total':<40} {total:7.3f} s")
    verdict = "PASS" if total <= TARGET_SECONDS and fit.converged and gg_fit.converged else "FAIL"
    out(f"{verdict}: {args.customers:,} customers in {total:.2f} s (target {TARGET_SECONDS:.0f} s)")
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
