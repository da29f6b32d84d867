"""How well a score ranks a binary outcome: ROC AUC, numpy only (the churn-risk backtest uses it)."""

import numpy as np


def midranks(values):
    """Ranks 1..n of `values`, tied values sharing the mean of their ranks."""
    _unique, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    last = np.cumsum(counts)
    return (last - (counts - 1) / 2)[inverse]


def roc_auc(score, outcome):
    """The probability that a random positive (outcome true) scores higher than a random negative, ties
    counted half: the Mann-Whitney U of the positives, sum of their midranks - n1 (n1 + 1) / 2, divided
    by n1 * n0. 1 ranks every positive above every negative, 0.5 is chance."""
    score = np.asarray(score, dtype=float)
    outcome = np.asarray(outcome)
    if score.ndim != 1 or outcome.shape != score.shape:
        raise ValueError("score and outcome must be one-dimensional arrays of one length.")
    if not np.isfinite(score).all():
        raise ValueError("every score must be a finite number.")
    if not np.isin(outcome, (0, 1)).all():
        raise ValueError("the outcome must be 0/1 or False/True.")
    positive = outcome.astype(bool)
    n1 = int(positive.sum())
    n0 = positive.size - n1
    if not (n1 and n0):
        raise ValueError("the AUC needs at least one customer with each outcome.")
    u = midranks(score)[positive].sum() - n1 * (n1 + 1) / 2
    return float(u / (n1 * n0))
