"""Lifetime-value models (lib/bgnbd.py) against published results, an independent implementation and
hand-checkable limits. No database: plain pytest functions.

The oracle is the archived `lifetimes` package (0.11.3, test-only, with pandas): its own fit on the
CDNOW sample it ships, and its formulas evaluated on the same parameters as ours.
"""

import dataclasses
import warnings
from decimal import Decimal, localcontext

import numpy as np
import pytest
from scipy.special import hyp2f1

from odoo.addons.crm_lifecycle.lib.bgnbd import (
    BgNbd,
    GammaGamma,
    InsufficientData,
    bgnbd_log_likelihood,
    fit_bgnbd,
    fit_gamma_gamma,
    projected_value,
)

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # lifetimes' imports warn about pandas and autograd internals
    import pandas as pd
    from lifetimes import BetaGeoFitter, GammaGammaFitter
    from lifetimes.datasets import load_cdnow_summary, load_cdnow_summary_data_with_monetary_value


@pytest.fixture(scope="module")
def cdnow():
    """The CDNOW sample of the paper: 2,357 customers, weeks, (frequency, recency, T)."""
    data = load_cdnow_summary(index_col=[0])
    return data["frequency"].to_numpy(float), data["recency"].to_numpy(), data["T"].to_numpy()


@pytest.fixture(scope="module")
def cdnow_fit(cdnow):
    return fit_bgnbd(*cdnow)


def _lifetimes_bgnbd(model):
    """lifetimes' BG/NBD carrying our parameters, to evaluate its formulas on them."""
    fitter = BetaGeoFitter()
    fitter.params_ = pd.Series([model.r, model.alpha, model.a, model.b], index=["r", "alpha", "a", "b"])
    fitter.predict = fitter.conditional_expected_number_of_purchases_up_to_time  # as its fit() sets it
    return fitter


# ------------------------------------------------------------------------------------ BG/NBD, CDNOW
def test_cdnow_fit_reproduces_the_paper(cdnow_fit):
    """Fader, Hardie and Lee (2005): r = 0.243, alpha = 4.414, a = 0.793, b = 2.426, LL = -9582.4."""
    model = cdnow_fit.model
    assert (round(model.r, 3), round(model.alpha, 3), round(model.a, 3), round(model.b, 3)) == (
        0.243,
        4.414,
        0.793,
        2.426,
    )
    assert round(cdnow_fit.log_likelihood, 1) == -9582.4
    assert cdnow_fit.converged, cdnow_fit.message
    assert cdnow_fit.at_bound == ()
    assert cdnow_fit.n_customers == 2357


def test_cdnow_fit_equals_lifetimes_fit(cdnow, cdnow_fit):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = BetaGeoFitter().fit(*cdnow).params_
    ours = cdnow_fit.model
    np.testing.assert_allclose([ours.r, ours.alpha, ours.a, ours.b], theirs[["r", "alpha", "a", "b"]], rtol=1e-5)


def test_cdnow_predictions_equal_lifetimes(cdnow, cdnow_fit):
    """P(alive), E[Y(t) | x, t_x, T] and E[X(t)] for every customer and several horizons (weeks)."""
    model = cdnow_fit.model
    theirs = _lifetimes_bgnbd(model)
    x, t_x, T = cdnow
    np.testing.assert_allclose(
        model.probability_alive(x, t_x, T), theirs.conditional_probability_alive(x, t_x, T), rtol=1e-6
    )
    for t in (1, 10, 39, 52, 104):
        np.testing.assert_allclose(
            model.expected_purchases(t, x, t_x, T),
            theirs.conditional_expected_number_of_purchases_up_to_time(t, x, t_x, T),
            rtol=1e-6,
        )
        np.testing.assert_allclose(
            model.expected_purchases_new(t), theirs.expected_number_of_purchases_up_to_time(t), rtol=1e-6
        )


def test_cdnow_customer_one(cdnow_fit):
    """CDNOW customer 1 (2 repeat purchases, the last in week 30.43 of 38.86): 1.226 purchases expected
    in the next 39 weeks, 73% likely still active."""
    assert round(float(cdnow_fit.model.expected_purchases(39, 2, 30.43, 38.86)), 3) == 1.226
    assert round(float(cdnow_fit.model.probability_alive(2, 30.43, 38.86)), 2) == 0.73


def test_penalty_equals_lifetimes_penalizer(cdnow):
    """The L2 penalty is lifetimes' penalizer_coef (off by default): a strong one shrinks a and b."""
    fit = fit_bgnbd(*cdnow, penalty=0.1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = BetaGeoFitter(penalizer_coef=0.1).fit(*cdnow).params_
    ours = fit.model
    np.testing.assert_allclose([ours.r, ours.alpha, ours.a, ours.b], theirs[["r", "alpha", "a", "b"]], rtol=1e-4)
    assert ours.a < 0.2 and ours.b < 0.3  # unpenalized: 0.793 and 2.426


def test_log_likelihood_is_the_fit_optimum(cdnow, cdnow_fit):
    model = cdnow_fit.model
    assert bgnbd_log_likelihood(model, *cdnow).sum() == pytest.approx(cdnow_fit.log_likelihood)
    for name in ("r", "alpha", "a", "b"):
        moved = dataclasses.replace(model, **{name: getattr(model, name) * 1.01})
        assert bgnbd_log_likelihood(moved, *cdnow).sum() < cdnow_fit.log_likelihood


# --------------------------------------------------------------------------- BG/NBD, what limits say
MODEL = BgNbd(r=0.243, alpha=4.414, a=0.793, b=2.426)


def test_without_repeat_purchase_a_customer_is_alive():
    """Drop-outs happen just after a repeat purchase: with none, P(alive) = 1 whatever the age."""
    np.testing.assert_array_equal(MODEL.probability_alive([0, 0, 0], [0, 0, 0], [0.5, 40, 4000]), [1, 1, 1])


def test_alive_just_after_the_last_purchase():
    """Right after the x-th repeat purchase, alive means not having dropped out at it: b + x - 1 over
    a + b + x - 1 (Beta posterior); the longer the silence since, the less likely."""
    model = BgNbd(r=0.5, alpha=10.0, a=1.0, b=3.0)
    assert model.probability_alive(1, 20, 20) == pytest.approx(3 / 4)
    assert model.probability_alive(3, 20, 20) == pytest.approx(5 / 6)
    silence = model.probability_alive([3, 3, 3, 3], [20, 20, 20, 20], [20, 40, 200, 20000])
    assert np.all(np.diff(silence) < 0) and silence[-1] < 1e-9


def test_nothing_is_expected_in_no_time_and_the_rate_at_first():
    """E[Y(0)] = 0 and, for a short t, E[Y(t)] ~ P(alive) E[rate | alive] t = P(alive) (r + x) / (alpha + T) t."""
    x, t_x, T = np.array([0, 2, 7.0]), np.array([0, 30.43, 35.0]), np.array([38.86, 38.86, 38.86])
    np.testing.assert_array_equal(MODEL.expected_purchases(0.0, x, t_x, T), [0, 0, 0])
    slope = MODEL.probability_alive(x, t_x, T) * (MODEL.r + x) / (MODEL.alpha + T)
    np.testing.assert_allclose(MODEL.expected_purchases(1e-6, x, t_x, T) / 1e-6, slope, rtol=1e-7)
    assert MODEL.expected_purchases_new(1e-6) / 1e-6 == pytest.approx(MODEL.r / MODEL.alpha, rel=1e-6)


def test_a_new_customer_is_a_customer_of_age_zero():
    horizons = np.array([1.0, 13, 52, 520])
    np.testing.assert_allclose(
        MODEL.expected_purchases(horizons, 0, 0, 0), MODEL.expected_purchases_new(horizons), rtol=1e-12
    )
    assert np.all(np.diff(MODEL.expected_purchases_new(horizons)) > 0)


def test_without_drop_out_purchases_are_negative_binomial():
    """a = 1 (where the paper's formula is 0/0) and b huge: drop-out almost never happens, so a new
    customer expects r t / alpha purchases in t (Gamma mixture of Poisson rates)."""
    model = BgNbd(r=2.0, alpha=10.0, a=1.0, b=1e9)
    assert model.expected_purchases_new(5.0) == pytest.approx(1.0, rel=1e-6)
    assert model.expected_purchases(5.0, 4, 10, 10) == pytest.approx(5 * (2 + 4) / (10 + 10), rel=1e-6)


def _series_reference(model, t, x, t_x, T):
    """Eq. 10 as the paper writes it, its 2F1 summed term by term with 60 significant digits."""
    with localcontext() as ctx:
        ctx.prec = 60
        r, alpha, a, b, t, x, t_x, T = (Decimal(v) for v in (model.r, model.alpha, model.a, model.b, t, x, t_x, T))
        z = t / (alpha + T + t)
        A, B, C = r + x, b + x, a + b + x - 1
        term = total = Decimal(1)
        n = 0
        while n < 50 or abs(term) > abs(total) * Decimal(10) ** -40:
            term = term * (A + n) * (B + n) / ((C + n) * (n + 1)) * z
            total += term
            n += 1
        alive = C / (a - 1) * (1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * total)
        odds = a / (b + x - 1) * ((alpha + T) / (alpha + t_x)) ** (r + x) if x > 0 else 0
        return float(alive / (1 + odds))


@pytest.mark.parametrize(
    ("params", "t", "x", "t_x", "T"),
    [
        ((0.243, 4.414, 0.793, 2.426), 52, 300, 370, 380),  # large x
        ((0.243, 4.414, 0.793, 2.426), 520, 5000, 3649, 3650),  # large x and T
        ((0.243, 4.414, 0.793, 2.426), 1, 10000, 36000, 36500),  # very long silence: P(alive) ~ 1e-57
        ((0.243, 4.414, 0.793, 2.426), 520, 3, 0.5, 1),  # horizon 500 times the age
        ((0.5, 10.0, 1.000001, 2.0), 52, 3, 20, 40),  # a next to 1, where the paper's formula is 0/0
        ((2.0, 200.0, 1.5, 30.0), 0.001, 5, 30, 30),  # short horizon: 1 - 2F1(...) keeps few digits
        ((0.01, 0.02, 0.8, 1000.0), 730, 0, 0, 1),  # scipy's hyp2f1 returns NaN here
        ((0.001, 0.01, 0.9, 10000.0), 1, 0, 0, 40000),  # 1 - 2F1(...) keeps 9 digits of 16
        ((1000.0, 1e7, 0.01, 0.01), 1, 0, 0, 5000),  # scipy's two forms agree to 4e-10, both 1.6e-6 off
    ],
)
def test_expected_purchases_against_a_60_digit_series(params, t, x, t_x, T):
    model = BgNbd(*params)
    assert float(model.expected_purchases(t, x, t_x, T)) == pytest.approx(
        _series_reference(model, t, x, t_x, T), rel=1e-8
    )


def test_where_scipy_alone_fails_the_result_is_still_finite():
    """The last case above: both forms of 2F1 are NaN in scipy, the numerical integral takes over."""
    r, alpha, a, b, t, T = 0.01, 0.02, 0.8, 1000.0, 730.0, 1.0
    z = t / (alpha + T + t)
    with np.errstate(all="ignore"):
        assert np.isnan(hyp2f1(r, b, a + b - 1, z)) and np.isnan(hyp2f1(a + b - 1 - r, a - 1, a + b - 1, z))
    value = BgNbd(r, alpha, a, b).expected_purchases_new(t)
    assert np.isfinite(value) and 0 < value < r / alpha * t


# ---------------------------------------------------------------------------------- BG/NBD, recovery
def _draw_customers(model, n, seed, horizon):
    """(x, t_x, T) of n customers drawn from the BG/NBD model, and their purchases in the next
    `horizon`: drop-out just after each repeat purchase with probability p, so the number J of the
    last purchase is geometric; the x-th of N arrivals in (0, T] sits at T * Beta(x, N - x + 1)."""
    rng = np.random.default_rng(seed)
    T = rng.uniform(1, 1000, n).round()
    rate = rng.gamma(model.r, 1 / model.alpha, n)
    last = rng.geometric(rng.beta(model.a, model.b, n))
    arrivals = rng.poisson(rate * T)
    x = np.minimum(arrivals, last)
    t_x = np.where(x > 0, T * rng.beta(np.maximum(x, 1), arrivals - x + 1), 0.0)
    future = np.where(x < last, np.minimum(rng.poisson(rate * horizon), last - x), 0)
    return x.astype(float), t_x, T, future


def test_fit_recovers_the_parameters_and_predicts_the_next_year():
    true = BgNbd(r=0.6, alpha=72.0, a=0.8, b=2.4)
    x, t_x, T, future = _draw_customers(true, 20_000, seed=7, horizon=365)
    fit = fit_bgnbd(x, t_x, T)
    assert fit.converged and fit.at_bound == ()
    for name in ("r", "alpha", "a", "b"):
        assert getattr(fit.model, name) == pytest.approx(getattr(true, name), rel=0.1), name
    expected = fit.model.expected_purchases(365, x, t_x, T)
    assert expected.sum() == pytest.approx(future.sum(), rel=0.03)
    heavy = x >= 5
    assert expected[heavy].sum() == pytest.approx(future[heavy].sum(), rel=0.05)


# ------------------------------------------------------------------------------------ BG/NBD, refusals
def test_fit_refuses_data_that_cannot_identify_the_model():
    with pytest.raises(InsufficientData, match="at least 3"):
        fit_bgnbd([1, 0], [5, 0], [10, 10])
    with pytest.raises(InsufficientData, match="no customer bought twice"):
        fit_bgnbd([0, 0, 0, 0], [0, 0, 0, 0], [3, 10, 10, 20])
    assert issubclass(InsufficientData, ValueError)


def test_a_fit_stopped_at_a_bound_is_not_used(cdnow_fit):
    """Nine customers, all buying lately: nobody seems to drop out, the likelihood drives the dropout
    shapes to the bounds and every customer would show 100 % still active (seen on the demo)."""
    x = np.array([3, 5, 2, 4, 1, 6, 2, 3, 0.0])
    T = np.array([400, 500, 300, 450, 200, 600, 350, 420, 100.0])
    t_x = np.where(x > 0, T - np.array([10, 20, 30, 5, 90, 15, 25, 40, 0.0]), 0)
    fit = fit_bgnbd(x, t_x, T)
    assert fit.at_bound
    assert fit.model.probability_alive(x, t_x, T).min() > 0.999
    with pytest.raises(InsufficientData, match="did not settle"):
        fit.usable()
    assert cdnow_fit.usable() is cdnow_fit


@pytest.mark.parametrize(
    ("x", "t_x", "T", "message"),
    [
        ([1, -1, 0], [5, 2, 0], [10, 10, 10], r"frequency .* whole number >= 0 \(position 1"),
        ([1, 1.5, 0], [5, 2, 0], [10, 10, 10], "whole number"),
        ([1, 1, 0], [5, -2, 0], [10, 10, 10], "recency must be >= 0"),
        ([1, 1, 0], [5, 12, 0], [10, 10, 10], r"cannot exceed age .* \(position 1: frequency 1, recency 12, age 10\)"),
        ([1, 0, 0], [5, 3, 0], [10, 10, 10], "without repeat purchase has recency 0"),
        ([1, 1, 0], [5, 0, 0], [10, 10, 10], "recency must be > 0"),
        ([1, np.nan, 0], [5, 2, 0], [10, 10, 10], "frequency must be a finite number"),
        ([1, 1, 0], [5, 2, 0], [10, np.inf, 10], "age must be a finite number"),
        ([1, 1, 0], [5, 2], [10, 10, 10], "shape mismatch|broadcast"),
    ],
)
def test_fit_refuses_invalid_figures(x, t_x, T, message):
    with pytest.raises(ValueError, match=message):
        fit_bgnbd(x, t_x, T)


def test_predictions_refuse_invalid_figures():
    with pytest.raises(ValueError, match="cannot exceed age"):
        MODEL.probability_alive([2], [50], [40])
    with pytest.raises(ValueError, match="horizon must be >= 0"):
        MODEL.expected_purchases(-1, [2], [30], [40])
    with pytest.raises(ValueError, match="penalty"):
        fit_bgnbd([1, 0, 2], [5, 0, 6], [10, 10, 10], penalty=-1)


# -------------------------------------------------------------------------------------- Gamma-Gamma
@pytest.fixture(scope="module")
def cdnow_money():
    data = load_cdnow_summary_data_with_monetary_value()
    return data[data["frequency"] > 0]


def test_gamma_gamma_reproduces_the_note_and_lifetimes(cdnow_money):
    """Fader and Hardie's note: p = 6.25, q = 3.74, v = 15.44 on CDNOW's 946 repeat buyers. The maximum
    is at v = 15.4477 (lifetimes finds the same and prints 15.45): the note's 15.44 is 0.008 below."""
    x, m = cdnow_money["frequency"].to_numpy(float), cdnow_money["monetary_value"].to_numpy()
    fit = fit_gamma_gamma(x, m)
    ours = fit.model
    assert fit.converged and fit.n_customers == 946
    assert (round(ours.p, 2), round(ours.q, 2)) == (6.25, 3.74)
    assert ours.v == pytest.approx(15.44, abs=0.01)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = GammaGammaFitter().fit(cdnow_money["frequency"], cdnow_money["monetary_value"])
    np.testing.assert_allclose([ours.p, ours.q, ours.v], theirs.params_[["p", "q", "v"]], rtol=1e-5)
    theirs.params_ = pd.Series([ours.p, ours.q, ours.v], index=["p", "q", "v"])
    np.testing.assert_allclose(
        ours.expected_average_value(x, m), theirs.conditional_expected_average_profit(x, m), rtol=1e-12
    )


def test_expected_average_value_between_own_average_and_population_mean():
    model = GammaGamma(p=6.25, q=3.74, v=15.44)
    mean = model.mean_value
    assert mean == pytest.approx(6.25 * 15.44 / 2.74)
    assert model.expected_average_value(0, 500.0) == pytest.approx(mean)  # one-time buyer: no evidence
    values = model.expected_average_value([1, 10, 100, 10000], [100.0] * 4)
    assert np.all(np.diff(values) > 0) and mean < values[0] and values[-1] == pytest.approx(100, rel=1e-3)


def test_gamma_gamma_refuses_too_few_or_invalid_buyers():
    rng = np.random.default_rng(3)
    x, m = rng.integers(1, 6, 40).astype(float), rng.gamma(4, 10, 40)
    with pytest.raises(InsufficientData, match="9 repeat buyers: the value model needs at least 10"):
        fit_gamma_gamma(x[:9], m[:9])
    fit_gamma_gamma(x[:9], m[:9], min_customers=5)
    with pytest.raises(ValueError, match="repeat buyers only"):
        fit_gamma_gamma(np.r_[0.0, x], np.r_[10.0, m])
    with pytest.raises(ValueError, match=r"average values must be > 0 \(position 2"):
        fit_gamma_gamma(x, np.r_[m[:2], -5.0, m[3:]])


def test_gamma_gamma_refuses_values_too_dispersed_for_a_mean():
    """q <= 1: the population's mean value per purchase is infinite; the caller falls back."""
    rng = np.random.default_rng(11)
    x = rng.integers(1, 4, 3000).astype(float)
    nu = rng.gamma(0.6, 1 / 20.0, 3000)  # q = 0.6
    m = rng.gamma(3.0 * x, 1 / (nu * x))
    with pytest.raises(InsufficientData, match=r"q is 0\.\d+ <= 1"):
        fit_gamma_gamma(x, m)


# --------------------------------------------------------------------------------------- projection
def test_projection_equals_lifetimes_customer_lifetime_value(cdnow_fit):
    """12 months at 1% a month, in weeks of 4.345 per month as lifetimes counts them."""
    data = load_cdnow_summary_data_with_monetary_value()
    x, t_x, T = data["frequency"].to_numpy(float), data["recency"].to_numpy(), data["T"].to_numpy()
    gamma_gamma = GammaGamma(p=6.25, q=3.74, v=15.44)
    value = gamma_gamma.expected_average_value(x, data["monetary_value"].to_numpy())
    ours = projected_value(cdnow_fit.model, x, t_x, T, value, periods_per_month=4.345, monthly_discount=0.01)
    their_gg = GammaGammaFitter()
    their_gg.params_ = pd.Series([6.25, 3.74, 15.44], index=["p", "q", "v"])
    theirs = their_gg.customer_lifetime_value(
        _lifetimes_bgnbd(cdnow_fit.model),
        data["frequency"],
        data["recency"],
        data["T"],
        data["monetary_value"],
        time=12,
        discount_rate=0.01,
        freq="W",
    )
    np.testing.assert_allclose(ours, theirs.to_numpy(), rtol=1e-6)


def test_projection_without_discount_is_purchases_times_value(cdnow_fit):
    model = cdnow_fit.model
    x, t_x, T = np.array([0, 2, 7.0]), np.array([0, 30.43, 35.0]), np.array([38.86, 38.86, 38.86])
    value = np.array([30.0, 40.0, 50.0])
    plain = projected_value(model, x, t_x, T, value, periods_per_month=52.18 / 12)
    np.testing.assert_allclose(plain, model.expected_purchases(52.18, x, t_x, T) * value)
    discounted = projected_value(model, x, t_x, T, value, periods_per_month=52.18 / 12, monthly_discount=0.02)
    assert np.all(discounted < plain) and np.all(discounted > plain / 1.02**12)
    with pytest.raises(ValueError, match="periods per month"):
        projected_value(model, x, t_x, T, value, periods_per_month=0)
