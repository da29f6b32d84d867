"""ROC AUC (lib/scoring.py) by hand and against scipy's Mann-Whitney U. No database."""

import numpy as np
import pytest
from scipy.stats import mannwhitneyu

from odoo.addons.crm_lifecycle.lib.scoring import midranks, roc_auc


def test_auc_by_hand():
    # positives 0.35 and 0.8 against negatives 0.1 and 0.4: 3 of the 4 pairs ordered right
    assert roc_auc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]) == 0.75
    # positives 2 and 3 against negatives 1 and 2: (2 > 1) + (2 = 2: half) + (3 > 1) + (3 > 2) = 3.5 of 4
    assert roc_auc([1, 2, 2, 3], [0, 1, 0, 1]) == 0.875
    assert roc_auc([3, 3, 3, 3], [True, False, True, False]) == 0.5
    assert roc_auc([1, 2, 3, 4], [0, 0, 1, 1]) == 1.0
    assert roc_auc([4, 3, 2, 1], [0, 0, 1, 1]) == 0.0


def test_midranks_share_ties():
    assert midranks([10, 20, 20, 5, 20]).tolist() == [2, 4, 4, 1, 4]


def test_auc_equals_mann_whitney_u():
    rng = np.random.default_rng(8)
    churned = rng.random(2000) < 0.3
    risk = rng.integers(0, 20, 2000) + 3 * churned  # a weakly informative score with many ties
    u = mannwhitneyu(risk[churned], risk[~churned]).statistic
    assert roc_auc(risk, churned) == pytest.approx(u / (churned.sum() * (~churned).sum()), rel=1e-12)


def test_refusals():
    with pytest.raises(ValueError, match="each outcome"):
        roc_auc([0.2, 0.5], [1, 1])
    with pytest.raises(ValueError, match="0/1"):
        roc_auc([0.2, 0.5], [1, 2])
    with pytest.raises(ValueError, match="finite"):
        roc_auc([0.2, np.nan], [1, 0])
    with pytest.raises(ValueError, match="one length"):
        roc_auc([0.2, 0.5, 0.1], [1, 0])
