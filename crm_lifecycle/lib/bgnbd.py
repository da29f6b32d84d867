"""Customer-base models fitted by maximum likelihood: BG/NBD (how many more purchases) and Gamma-Gamma
(how much per purchase). numpy and scipy only, no database.

- BG/NBD: Fader, Hardie and Lee, "Counting your customers the easy way: an alternative to the
  Pareto/NBD model", Marketing Science 24(2), 2005 (the log-likelihood, E[X(t)] eq. 9, the conditional
  expectation eq. 10), and Fader, Hardie and Lee, "Computing P(alive) using the BG/NBD model" (note).
- Gamma-Gamma: Fader and Hardie, "The Gamma-Gamma model of monetary value" (note, 2013); Fader, Hardie
  and Lee, "RFM and CLV: using iso-value curves for customer base analysis", JMR 42(4), 2005.

A customer is described by three numbers, all times in one unit (days or weeks, the caller's choice;
the fitted alpha and every horizon t are in that unit):

- `x`, frequency: the number of repeat purchases, i.e. purchases after the first (0 for a one-time buyer);
- `t_x`, recency: the time from the first to the last purchase (0 when x is 0);
- `T`, age: the time from the first purchase to the end of the observation.

Purchases on one day count once (as lifetimes' summary_data_from_transaction_data counts them), so a
repeat buyer has t_x > 0; x = 0 with t_x > 0, or x > 0 with t_x = 0, is refused as inconsistent.

Errors in the input are `ValueError`; valid data that cannot support a fit (too few customers, no repeat
buyer, ...) raise `InsufficientData`, a `ValueError` the caller catches to fall back.
"""

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize
from scipy.special import betaln, digamma, expit, gammaln, hyp2f1, log_expit

# Fits run on log-parameters within these bounds (alpha in units of the oldest customer's age).
LOG_BOUNDS = (-16.0, 16.0)


class InsufficientData(ValueError):
    """The data are valid but cannot support the fit; the caller falls back to a simpler figure."""


@dataclass(frozen=True, slots=True)
class FitResult:
    """A fitted model and how the fit went."""

    model: "BgNbd | GammaGamma"
    log_likelihood: float  # at the optimum, summed over customers, without the penalty
    converged: bool  # the optimizer reported success
    at_bound: tuple  # names of the parameters stopped at a bound (the likelihood wanted them further)
    message: str
    iterations: int
    n_customers: int

    def usable(self):
        """The fit itself, if its figures may be shown; else InsufficientData. A fit stopped at a bound
        of its parameters (a small or uniform book where nobody ever seems to drop out) would tell every
        customer the same thing, such as 100 % still active. A fit that only did not converge is kept:
        on small books the optimizer stops on a flat ridge where a and b grow together (one dropout
        probability for all), whose predictions are sound."""
        if self.at_bound or not np.isfinite(self.log_likelihood):
            raise InsufficientData(f"the fit did not settle ({', '.join(self.at_bound) or self.message}).")
        return self


# --------------------------------------------------------------------------------------------- input
def _refuse_where(bad, what, columns):
    """Raise ValueError(`what`) naming the first position where `bad` is true and the `columns` there."""
    if np.any(bad):
        i = int(np.flatnonzero(np.ravel(bad))[0])
        shown = ", ".join(f"{name} {np.ravel(values)[i]:g}" for name, values in columns.items())
        raise ValueError(f"{what} (position {i}: {shown}).")


def _as_array(name, values):
    array = np.asarray(values, dtype=float)
    _refuse_where(~np.isfinite(array), f"{name} must be a finite number", {name: array})
    return array


def customer_arrays(x, t_x, T):
    """The three figures as float arrays of one shape, refused with a ValueError that names the first
    offending position when they are not numbers, negative or inconsistent with each other."""
    x, t_x, T = np.broadcast_arrays(_as_array("frequency", x), _as_array("recency", t_x), _as_array("age", T))
    columns = {"frequency": x, "recency": t_x, "age": T}
    _refuse_where((x < 0) | (x != np.floor(x)), "frequency (repeat purchases) must be a whole number >= 0", columns)
    _refuse_where(t_x < 0, "recency must be >= 0", columns)
    _refuse_where(t_x > T, "recency (first to last purchase) cannot exceed age (first purchase to now)", columns)
    _refuse_where((x == 0) & (t_x != 0), "a customer without repeat purchase has recency 0", columns)
    _refuse_where((x > 0) & (t_x == 0), "a repeat purchase comes after the first: recency must be > 0", columns)
    return x, t_x, T


def _horizon(t):
    t = _as_array("horizon", t)
    _refuse_where(t < 0, "the horizon must be >= 0", {"horizon": t})
    return t


def _minimize(objective, start, args, names):
    bounds = [LOG_BOUNDS] * len(start)
    result = minimize(
        objective,
        np.asarray(start, dtype=float),
        args=args,
        jac=True,
        method="L-BFGS-B",
        bounds=bounds,
        options={"maxiter": 1000, "ftol": 1e-13, "gtol": 1e-9},
    )
    at_bound = tuple(
        name
        for name, value in zip(names, result.x, strict=True)
        if min(value - LOG_BOUNDS[0], LOG_BOUNDS[1] - value) < 1e-6
    )
    message = result.message if isinstance(result.message, str) else result.message.decode()
    return result, at_bound, message


# -------------------------------------------------------------------------------------------- BG/NBD
@dataclass(frozen=True, slots=True)
class BgNbd:
    """BG/NBD parameters: purchase rates ~ Gamma(shape r, rate alpha); the probability of dropping out
    after each purchase ~ Beta(a, b)."""

    r: float
    alpha: float
    a: float
    b: float

    def probability_alive(self, x, t_x, T):
        """P(the customer is still active at T | x, t_x, T): 1 for a customer without repeat purchase, who
        by the model's definition cannot have dropped out yet (drop-outs happen just after a purchase)."""
        x, t_x, T = customer_arrays(x, t_x, T)
        r, alpha, a, b = self.r, self.alpha, self.a, self.b
        # log of the odds of having dropped out, in logs so that large x and T neither overflow nor underflow
        log_odds = np.log(a) - np.log(b + np.maximum(x, 1) - 1) + (r + x) * np.log((alpha + T) / (alpha + t_x))
        return np.where(x == 0, 1.0, expit(-log_odds))

    def expected_purchases(self, t, x, t_x, T):
        """E[purchases in (T, T + t] | x, t_x, T], eq. 10 of the paper; t broadcasts against the customers."""
        t = _horizon(t)
        x, t_x, T = customer_arrays(x, t_x, T)
        return self.probability_alive(x, t_x, T) * self._purchases_if_alive(t, x, T)

    def expected_purchases_new(self, t):
        """E[X(t)], eq. 9: the expected number of repeat purchases of a new customer within t of the first."""
        t = _horizon(t)
        return self._purchases_if_alive(t, np.zeros_like(t), np.zeros_like(t))

    def _purchases_if_alive(self, t, x, T):
        """E[purchases in (T, T + t] | alive at T, x], the numerator of eq. 10:
        (a+b+x-1)/(a-1) * (1 - ((alpha+T)/(alpha+T+t))^(r+x) 2F1(r+x, b+x; a+b+x-1; z)), z = t/(alpha+T+t).

        scipy's hyp2f1 is exact in most of the parameter space but returns NaN or wrong digits in parts
        of it (z near 1 with large parameters), and 1 - (...) cancels the digits away when the result is
        small next to (a+b+x-1)/|a-1| (short horizons, a near 1). So it is computed twice, as the paper
        writes it and after Euler's transformation, and kept where both agree and little cancels; the
        other entries are integrated numerically (_purchases_if_alive_quadrature).
        """
        r, alpha, a, b = self.r, self.alpha, self.a, self.b
        t, x, T = np.broadcast_arrays(t, x, T)
        c = a + b + x - 1
        z = t / (alpha + T + t)
        with np.errstate(all="ignore"):
            # the paper's product, and Euler's 2F1(A, B; C; z) = (1-z)^(C-A-B) 2F1(C-A, C-B; C; z) of it
            direct = c / (a - 1) * (1 - np.exp((r + x) * np.log1p(-z)) * hyp2f1(r + x, b + x, c, z))
            value = c / (a - 1) * (1 - np.exp((a - 1) * np.log1p(-z)) * hyp2f1(a + b - 1 - r, a - 1, c, z))
            kept = (
                np.isfinite(value)
                & (value > 0)
                & (np.abs(value - direct) <= 1e-10 * value)
                & (np.abs(c / (a - 1)) < 1e4 * value)  # at most 4 of the 16 digits lost to 1 - (...)
            )
            value = np.where(t == 0, 0.0, value)
            kept |= t == 0
        if kept.all():
            return value
        flat = np.where(kept, value, 0.0).ravel()
        t, x, T = t.ravel(), x.ravel(), T.ravel()
        redo = np.flatnonzero(~kept.ravel())
        for chunk in np.array_split(redo, -(-len(redo) // 4096)):  # bounded memory: 4096 x 281 nodes
            flat[chunk] = _purchases_if_alive_quadrature(r, alpha, a, b, t[chunk], x[chunk], T[chunk])
        return flat.reshape(value.shape)


# Nodes of the quadrature below: y = centre + width * sinh(u), u from -7 to 7 in steps of 0.05.
_SINH_U = np.arange(-140, 141) * 0.05


def _purchases_if_alive_quadrature(r, alpha, a, b, t, x, T):
    """The same expectation as an integral: given alive, the purchase rate is Gamma(r+x, alpha+T) and
    the drop-out probability p is Beta(a, b+x); integrating the rate out of E[purchases | rate, p] =
    (1 - exp(-rate p t)) / p leaves E_p[g(p)], g(p) = (1 - (1 + p s)^-(r+x)) / p with s = t/(alpha+T).

    It is integrated in y = logit(p), where the Beta density is smooth and log-concave, by the
    trapezoidal rule on a sinh grid centred at its mode and scaled by its width. Two terms of known
    expectation are taken out of g first so that what is integrated vanishes at both ends, whatever
    the tails of the Beta: A s (1-p)^K with K = max(A s, 1), which equals g at p = 0 and stays below
    g (no cancellation), and g(1) p. Against the paper's series summed with 60 digits, the result
    (hyp2f1 where kept, this elsewhere) was within 1.5e-8 relative on 1,300 random points of r, a up
    to 1000, b up to 1e5, x up to 3000, T up to 5000, t up to 730; within 2e-7 with parameters up to
    1e7, where betaln loses digits (tests/test_lib_bgnbd.py keeps the hard cases).
    """
    s = t / (alpha + T)
    A = r + x
    beta = b + x
    As = A * s
    g1 = -np.expm1(-A * np.log1p(s))
    K = np.maximum(As, 1.0)
    known = As * np.exp(betaln(a, beta + K) - betaln(a, beta)) + g1 * a / (a + beta)
    width = np.minimum(np.sqrt(1 / a + 1 / beta), 1.0)[:, None]
    y = np.log(a / beta)[:, None] + width * np.sinh(_SINH_U)
    log_p, log_q = log_expit(y), log_expit(-y)
    p = np.exp(log_p)
    density = np.exp(a * log_p + beta[:, None] * log_q - betaln(a, beta)[:, None])
    g = -np.expm1(-A[:, None] * np.log1p(p * s[:, None])) / p
    rest = g - As[:, None] * np.exp(K[:, None] * log_q) - g1[:, None] * p
    return known + np.sum(rest * density * width * np.cosh(_SINH_U), axis=1) * 0.05


class _BgNbdData:
    """The customers in the fit's units (times divided by the oldest age), with what does not depend on
    the parameters computed once. The special functions of x run on its distinct values only."""

    def __init__(self, x, t_x, T):
        self.scale = float(T.max())
        self.x = x
        self.t = t_x / self.scale
        self.T = T / self.scale
        self.repeat = x > 0
        self.x1 = np.maximum(x, 1) - 1  # b + x1 = b + x - 1 for repeat buyers, b otherwise (unused there)
        self.xu, self.inverse = np.unique(x, return_inverse=True)


def _bgnbd_objective(log_params, data, penalty):
    """Minus the mean log-likelihood plus the penalty, and its gradient in log-parameters."""
    params = np.exp(log_params)
    r, alpha, a, b = params
    x, xu, inv = data.x, data.xu, data.inverse
    log_aT = np.log(alpha + data.T)
    log_at = np.log(alpha + data.t)
    # ll = A1 + A2 + log(exp(A3) + [x > 0] exp(A4)) = A1 + A2 + A3 + log1p(exp(A4 - A3))
    a12_u = gammaln(r + xu) - gammaln(r) + gammaln(a + b) + gammaln(b + xu) - gammaln(b) - gammaln(a + b + xu)
    a3 = -(r + x) * log_aT
    a4_minus_a3 = np.where(data.repeat, np.log(a) - np.log(b + data.x1) - (r + x) * (log_at - log_aT), -np.inf)
    ll = a12_u[inv] + r * np.log(alpha) + a3 + np.logaddexp(0.0, a4_minus_a3)
    w = expit(a4_minus_a3)  # share of the "dropped out after the last purchase" branch; 0 when x = 0

    psi_u = {"r": digamma(r + xu), "b": digamma(b + xu), "ab": digamma(a + b + xu)}
    d_r = psi_u["r"][inv] - digamma(r) + np.log(alpha) - (1 - w) * log_aT - w * log_at
    d_alpha = r / alpha - (r + x) * ((1 - w) / (alpha + data.T) + w / (alpha + data.t))
    d_a = digamma(a + b) - psi_u["ab"][inv] + w / a
    d_b = digamma(a + b) + psi_u["b"][inv] - digamma(b) - psi_u["ab"][inv] - w / (b + data.x1)
    grad = np.array([d_r.mean(), d_alpha.mean(), d_a.mean(), d_b.mean()]) * params
    value = -ll.mean() + penalty * np.sum(params**2)
    return value, -grad + 2 * penalty * params**2


def fit_bgnbd(x, t_x, T, *, penalty=0.0, min_customers=3):
    """Fit r, alpha, a, b by maximum likelihood on the customers' (frequency, recency, age).

    `penalty` adds penalty * (r^2 + alpha^2 + a^2 + b^2) to minus the mean log-likelihood, alpha taken
    in units of the oldest customer's age so that the penalty does not depend on the unit of time (as in
    lifetimes' BetaGeoFitter, whose penalizer_coef it equals); off by default. Refuses invalid input
    with a ValueError, and data that cannot identify the model (fewer than `min_customers`, or no repeat
    buyer) with InsufficientData. Check `converged` and `at_bound` of the result before using it.
    """
    x, t_x, T = customer_arrays(x, t_x, T)
    if x.ndim != 1:
        raise ValueError("frequency, recency and age must be one-dimensional, one value per customer.")
    if len(x) < min_customers:
        raise InsufficientData(f"{len(x)} customers: the model needs at least {min_customers}.")
    if not (x > 0).any():
        raise InsufficientData("no customer bought twice: the model cannot tell how often customers buy again.")
    if penalty < 0 or not np.isfinite(penalty):
        raise ValueError(f"the penalty must be a finite number >= 0 (it is {penalty}).")
    data = _BgNbdData(x, t_x, T)
    # Start from unit shapes and the observed repeat rate, r / alpha = sum(x) / sum(T).
    rate = x.sum() / data.T.sum()
    start = np.log([1.0, 1.0 / rate, 1.0, 1.0])
    result, at_bound, message = _minimize(_bgnbd_objective, start, (data, penalty), ("r", "alpha", "a", "b"))
    r, alpha, a, b = np.exp(result.x)
    model = BgNbd(r=float(r), alpha=float(alpha * data.scale), a=float(a), b=float(b))
    return FitResult(
        model=model,
        log_likelihood=float(bgnbd_log_likelihood(model, x, t_x, T).sum()),
        converged=bool(result.success),
        at_bound=at_bound,
        message=message,
        iterations=int(result.nit),
        n_customers=len(x),
    )


def bgnbd_log_likelihood(model, x, t_x, T):
    """Each customer's log-likelihood under `model`, in the caller's unit of time."""
    x, t_x, T = customer_arrays(x, t_x, T)
    r, alpha, a, b = model.r, model.alpha, model.a, model.b
    a12 = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + gammaln(a + b) + gammaln(b + x) - gammaln(b)
    a12 -= gammaln(a + b + x)
    a3 = -(r + x) * np.log(alpha + T)
    a4 = np.log(a) - np.log(b + np.maximum(x, 1) - 1) - (r + x) * np.log(alpha + t_x)
    return a12 + np.where(x > 0, np.logaddexp(a3, a4), a3)


# --------------------------------------------------------------------------------------- Gamma-Gamma
@dataclass(frozen=True, slots=True)
class GammaGamma:
    """Gamma-Gamma parameters: the value of a customer's purchases ~ Gamma(p, nu), nu ~ Gamma(q, v)."""

    p: float
    q: float
    v: float

    @property
    def mean_value(self):
        """The population's mean value per purchase, p v / (q - 1)."""
        return self.p * self.v / (self.q - 1)

    def expected_average_value(self, x, m):
        """E[value per purchase | x repeat purchases averaging m] (eq. 5 of the note): a weighted mean of
        the customer's own average and the population mean, the more purchases the closer to their own.
        A customer with x = 0 gets the population mean."""
        x = _as_array("frequency", x)
        m = _as_array("average value", m)
        _refuse_where(x < 0, "frequency must be >= 0", {"frequency": x})
        p, q, v = self.p, self.q, self.v
        return (p * v + p * x * m) / (p * x + q - 1)


def _gamma_gamma_objective(log_params, x, m, log_x, log_m, penalty):
    params = np.exp(log_params)
    p, q, v = params
    px = p * x
    log_vxm = np.log(v + x * m)
    ll = gammaln(px + q) - gammaln(px) - gammaln(q) + q * np.log(v) + (px - 1) * log_m + px * log_x - (px + q) * log_vxm
    psi_pxq = digamma(px + q)
    d_p = x * (psi_pxq - digamma(px) + log_m + log_x - log_vxm)
    d_q = psi_pxq - digamma(q) + np.log(v) - log_vxm
    d_v = q / v - (px + q) / (v + x * m)
    grad = np.array([d_p.mean(), d_q.mean(), d_v.mean()]) * params
    return -ll.mean() + penalty * np.sum(params**2), -grad + 2 * penalty * params**2


def fit_gamma_gamma(x, m, *, penalty=0.0, min_customers=10):
    """Fit p, q, v on repeat buyers: `x` their repeat purchases (>= 1), `m` the average value of those
    purchases, the first one left out as in the note and CDNOW (> 0, e.g. margin per order; customers
    with a zero or negative average cannot be fitted and keep their own average).

    Raises InsufficientData, for the caller to fall back to each customer's own average, when there are
    fewer than `min_customers` repeat buyers or when the fitted q is <= 1 (the population's mean value
    per purchase is then infinite). `penalty` is as in fit_bgnbd, with v taken in units of the mean of m.
    """
    x = _as_array("frequency", x)
    m = _as_array("average value", m)
    if x.ndim != 1 or x.shape != m.shape:
        raise ValueError("frequency and average value must be one-dimensional arrays of the same length.")
    columns = {"frequency": x, "average value": m}
    what = "the value model takes repeat buyers only: frequency must be a whole number >= 1"
    _refuse_where((x < 1) | (x != np.floor(x)), what, columns)
    _refuse_where(m <= 0, "average values must be > 0", columns)
    if len(x) < min_customers:
        raise InsufficientData(f"{len(x)} repeat buyers: the value model needs at least {min_customers}.")
    if penalty < 0 or not np.isfinite(penalty):
        raise ValueError(f"the penalty must be a finite number >= 0 (it is {penalty}).")
    scale = float(m.mean())
    ms = m / scale
    start = np.log([2.0, 3.0, 1.0])  # a population mean p v / (q - 1) of 1, the scaled mean
    args = (x, ms, np.log(x), np.log(ms), penalty)
    result, at_bound, message = _minimize(_gamma_gamma_objective, start, args, ("p", "q", "v"))
    p, q, v = np.exp(result.x)
    model = GammaGamma(p=float(p), q=float(q), v=float(v * scale))
    if model.q <= 1:
        raise InsufficientData(
            f"the fitted q is {model.q:.3f} <= 1: average values are too dispersed for a population mean."
        )
    ll, _grad = _gamma_gamma_objective(np.log([model.p, model.q, model.v]), x, m, np.log(x), np.log(m), 0.0)
    return FitResult(
        model=model,
        log_likelihood=float(-ll * len(x)),
        converged=bool(result.success),
        at_bound=at_bound,
        message=message,
        iterations=int(result.nit),
        n_customers=len(x),
    )


# ------------------------------------------------------------------------------------------ projection
def projected_value(bgnbd, x, t_x, T, value_per_purchase, *, periods_per_month, months=12, monthly_discount=0.0):
    """The expected value of each customer's purchases over the next `months` months: the expected number
    of purchases in each month times `value_per_purchase` (e.g. GammaGamma.expected_average_value),
    month k divided by (1 + monthly_discount)^k. `periods_per_month` converts months to the unit of
    time of the fit (365.25 / 12 for days, 52.18 / 12 for weeks)."""
    if periods_per_month <= 0 or months < 0 or monthly_discount <= -1:
        raise ValueError("periods per month must be > 0, months >= 0 and the monthly discount rate > -1.")
    x, t_x, T = customer_arrays(x, t_x, T)
    value = _as_array("value per purchase", value_per_purchase)
    if monthly_discount == 0:
        purchases = bgnbd.expected_purchases(months * periods_per_month, x, t_x, T)
        return purchases * value
    horizons = np.arange(months + 1).reshape((-1,) + (1,) * x.ndim) * periods_per_month
    cumulative = bgnbd.expected_purchases(horizons, x, t_x, T)
    per_month = np.diff(cumulative, axis=0)
    discount = (1 + monthly_discount) ** -np.arange(1, months + 1)
    return np.tensordot(discount, per_month, axes=1) * value
