"""The quickstart's credit-risk population, generated in code (seeded, no download).

Each customer has an age, an employment type, a region, an income, an account balance, an
account age, a debt ratio and a number of open loans, related the way lending data usually
is: income grows with age and depends on employment, savings follow income and age, debt
ratios are higher on lower incomes. Whether the customer defaults is drawn from a logistic
model of those: high debt, short account history, low income, youth, unemployment and a few
regions raise the risk.

``drift`` (0 to 1) moves the population the way a lender's book moves when it starts selling
through a new channel: younger customers, lower incomes, higher debt ratios, and a new
employment type (``gig``) that did not exist in the training data. The rules of default also
harden with it (debt weighs more, as when rates rise), so a model trained on the old
population both sees unfamiliar inputs and ranks them worse.

>>> frame = customers(1000, seed=7)                 # today's customers
>>> later = customers(1000, seed=8, drift=0.8)      # next quarter's
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

ID = "customer_id"
LABEL = "default"
FEATURES = (
    "age",
    "employment",
    "region",
    "income",
    "balance",
    "account_age_years",
    "debt_ratio",
    "open_loans",
)
CATEGORICAL = ("employment", "region")

EMPLOYMENT = ("salaried", "public_sector", "self_employed", "retired", "unemployed", "gig")
# Income multiplier and default-risk shift per employment type.
_EMPLOYMENT_INCOME = {
    "salaried": 1.0,
    "public_sector": 0.95,
    "self_employed": 1.15,
    "retired": 0.7,
    "unemployed": 0.35,
    "gig": 0.6,
}
_EMPLOYMENT_RISK = {
    "salaried": 0.0,
    "public_sector": -0.4,
    "self_employed": 0.3,
    "retired": -0.1,
    "unemployed": 1.2,
    "gig": 1.4,
}
REGIONS = ("capital", "north", "south", "east", "west")
_REGION_SHARE = (0.3, 0.2, 0.2, 0.15, 0.15)
_REGION_RISK = {"capital": -0.2, "north": 0.0, "south": 0.35, "east": 0.2, "west": -0.1}
# Where the new channel sells, the regions' risks reorder.
_DRIFTED_REGION_RISK = {"capital": 0.4, "north": -0.4, "south": -0.3, "east": 0.5, "west": 0.7}


def check_drift(drift: float) -> float:
    """``drift`` as a float in [0, 1], or one clear error."""
    from noria.errors import InvalidArgument

    if not 0.0 <= drift <= 1.0:
        raise InvalidArgument(f"drift={drift!r} is out of range; use a number from 0 to 1.")
    return float(drift)


def customers(rows: int, *, seed: int, drift: float = 0.0) -> pd.DataFrame:
    """``rows`` customers with their ``default`` label; the same seed gives the same rows."""
    import numpy as np
    import pandas as pd

    drift = check_drift(drift)
    rng = np.random.default_rng(seed)
    age = np.clip(rng.normal(44 - 12 * drift, 12, rows), 19, 80).round().astype(np.int64)
    employment = _employment(rng, age, drift)
    region = rng.choice(REGIONS, size=rows, p=_REGION_SHARE)
    income = _income(rng, age, employment, drift)
    balance = np.round(income * rng.lognormal(-1.2 + (age - 40) / 60, 0.8), 2)
    account_age = np.round(np.minimum(age - 18, rng.gamma(2.0, 3.0 + (age - 18) / 8)), 1)
    debt_ratio = _debt_ratio(rng, income, drift)
    open_loans = rng.poisson(0.5 + 3.0 * debt_ratio)
    frame = pd.DataFrame(
        {
            ID: [f"c-{seed}-{index:06d}" for index in range(rows)],
            "age": age,
            "employment": employment,
            "region": region,
            "income": income,
            "balance": balance,
            "account_age_years": account_age,
            "debt_ratio": debt_ratio,
            "open_loans": open_loans.astype(np.int64),
        }
    )
    frame[LABEL] = _defaults(rng, frame, drift)
    return frame


def _employment(rng: np.random.Generator, age: np.ndarray, drift: float) -> np.ndarray:
    import numpy as np

    working = rng.choice(
        EMPLOYMENT[:5], size=len(age), p=(0.55 - 0.05 * drift, 0.2, 0.12, 0.0, 0.13 + 0.05 * drift)
    )
    # The new channel brings gig workers, absent from the training population.
    gig = rng.random(len(age)) < 0.35 * drift
    retired = (age >= 63) & (rng.random(len(age)) < 0.8)
    return np.where(retired, "retired", np.where(gig, "gig", working))


def _income(
    rng: np.random.Generator, age: np.ndarray, employment: np.ndarray, drift: float
) -> np.ndarray:
    import numpy as np

    # Earnings rise until the early fifties, then ease off.
    career = 1.0 + 0.9 * np.clip(age - 20, 0, 32) / 32 - 0.3 * np.clip(age - 52, 0, 30) / 30
    multiplier = np.vectorize(_EMPLOYMENT_INCOME.__getitem__)(employment)
    base = 28_000 * (1 - 0.25 * drift)
    income: np.ndarray = np.round(base * career * multiplier * rng.lognormal(0, 0.35, len(age)), 2)
    return income


def _debt_ratio(rng: np.random.Generator, income: np.ndarray, drift: float) -> np.ndarray:
    import numpy as np

    pressure = np.clip(40_000 / np.maximum(income, 1.0), 0.3, 4.0)
    ratio = rng.beta(2.0 + 1.5 * drift, 5.0, len(income)) * (0.6 + 0.25 * pressure)
    debt: np.ndarray = np.round(np.clip(ratio + 0.05 * drift, 0.0, 2.5), 3)
    return debt


def _defaults(rng: np.random.Generator, frame: pd.DataFrame, drift: float) -> np.ndarray:
    import numpy as np

    employment = frame["employment"].map(_EMPLOYMENT_RISK).to_numpy(dtype=float)
    region = (1 - drift) * frame["region"].map(_REGION_RISK).to_numpy(dtype=float)
    region += drift * frame["region"].map(_DRIFTED_REGION_RISK).to_numpy(dtype=float)
    young = np.clip(30 - frame["age"].to_numpy(), 0, 12) / 12
    logit = (
        -2.2
        - 0.9 * drift
        + (2.6 + 1.0 * drift) * frame["debt_ratio"].to_numpy()
        - 0.9 * (1 - 0.6 * drift) * np.log(frame["income"].to_numpy() / 40_000)
        - 0.08 * frame["account_age_years"].to_numpy()
        - 0.25 * (1 - drift) * np.log1p(frame["balance"].to_numpy() / 5_000)
        + 0.25 * frame["open_loans"].to_numpy()
        + 0.8 * young
        + employment
        + region
    )
    defaulted: np.ndarray = (rng.random(len(frame)) < 1 / (1 + np.exp(-logit))).astype(np.int64)
    return defaulted
