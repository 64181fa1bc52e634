"""BG/NBD (Fader, Hardie & Lee 2005) with lifetimes, run in benchmarks/.venv-btyd.

Why a separate process and venv: lifetimes 0.11.3 needs pandas < 2 / numpy < 2, the project
needs pandas 3. ``benchmarks/btyd.py`` writes the per-(customer, cutoff) RFM summary as
Parquet and runs this file with the venv's python; it must import nothing from cxchurn.

Per cutoff, the model is fitted on every customer with a purchase before that cutoff
(frequency = repeat purchase days, recency and T in days, the lifetimes convention), then
scores the same rows:

* ``p_alive``: P(still alive at the cutoff | history), the usual BTYD churn score;
* ``p_no_purchase``: P(no purchase within the horizon | history)
  = (1 - p_alive) + p_alive * ((alpha + T) / (alpha + T + t)) ** (r + x): a customer alive
  at T with rate lambda (posterior Gamma(r + x, alpha + T)) makes no purchase in t days with
  probability exp(-lambda t), and can only die at a purchase. This is exactly the 90-day
  label, so it is the fair BG/NBD score for it;
* ``expected_purchases``: expected purchases in the horizon.

Usage: python btyd_runner.py --summary rfm.parquet --horizon-days 90 --out scores.parquet
Prints one JSON line per cutoff with the fitted parameters.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings

import numpy as np
import pandas as pd
from autograd import value_and_grad
from lifetimes import BetaGeoFitter
from lifetimes.utils import ConvergenceError
from scipy.optimize import minimize


def fit(group: pd.DataFrame, penalizer: float) -> tuple[BetaGeoFitter, bool]:
    """lifetimes' fit; when its optimiser reports no convergence (it raises even when the
    optimum sits on a boundary, e.g. dropout a -> 0 on a short history), minimise lifetimes'
    own BG/NBD likelihood with L-BFGS-B and keep the best point. Returns (fitter, converged)."""
    bgf = BetaGeoFitter(penalizer_coef=penalizer)
    x, rec, t_cal = (group[c].to_numpy(float) for c in ("frequency", "recency", "T"))
    try:
        bgf.fit(x, rec, t_cal)
        return bgf, True
    except ConvergenceError:
        pass
    scale = 10.0 / t_cal.max()
    args = (x.astype(int), rec * scale, t_cal * scale, np.ones_like(x), penalizer)
    result = minimize(value_and_grad(BetaGeoFitter._negative_log_likelihood), 0.1 * np.ones(4),
                      args=args, jac=True, method="L-BFGS-B", bounds=[(-20, 20)] * 4)
    params = pd.Series(np.exp(result.x), index=["r", "alpha", "a", "b"])
    params["alpha"] /= scale
    bgf.params_ = params
    return bgf, False


def score(group: pd.DataFrame, horizon: float, penalizer: float) -> tuple[pd.DataFrame, dict]:
    bgf, converged = fit(group, penalizer)
    r, alpha = bgf.params_["r"], bgf.params_["alpha"]
    x, t_cal = group["frequency"].to_numpy(float), group["T"].to_numpy(float)
    p_alive = np.asarray(bgf.conditional_probability_alive(x, group["recency"], t_cal), float)
    stay_quiet = ((alpha + t_cal) / (alpha + t_cal + horizon)) ** (r + x)
    out = group[["customer_id", "cutoff"]].copy()
    out["p_alive"] = p_alive
    out["p_no_purchase"] = (1 - p_alive) + p_alive * stay_quiet
    out["expected_purchases"] = np.asarray(
        bgf.conditional_expected_number_of_purchases_up_to_time(horizon, x, group["recency"],
                                                                t_cal), float)
    return out, {**{k: float(v) for k, v in bgf.params_.items()}, "lifetimes_converged": converged}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--summary", required=True)
    parser.add_argument("--horizon-days", type=float, required=True)
    parser.add_argument("--penalizer", type=float, default=0.0)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    summary = pd.read_parquet(args.summary)
    parts = []
    warnings.simplefilter("ignore")
    for cutoff, group in summary.groupby("cutoff", sort=True):
        scored, params = score(group.reset_index(drop=True), args.horizon_days, args.penalizer)
        parts.append(scored)
        print(json.dumps({"cutoff": str(cutoff), "customers": len(group), "params": params}),
              flush=True)
    pd.concat(parts, ignore_index=True).to_parquet(args.out, index=False)
    print(json.dumps({"lifetimes": __import__("lifetimes").__version__}), file=sys.stderr)


if __name__ == "__main__":
    main()
