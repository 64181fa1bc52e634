"""Which experiences move NPS and CSAT: a relative-weights analysis of survey answers.

Each answer (``survey_nps`` 0-10, ``survey_csat`` 1-5) is paired with the customer's
experience features as of just before it, built by the feature pipeline itself
(``features.pipeline.build_feature_table``, the same specs the churn model reads) with the
answer's time, floored to ``resolution_hours``, as the cutoff. Point in time: a cutoff sees
events strictly before it, and the floored cutoff is never after the answer, so nothing at or
after the answer (the answer itself included) reaches its features. Flooring bounds the
number of distinct cutoffs by the calendar rather than by the number of answers (the
compiler's cost grows with distinct cutoffs); events inside the last slot before the answer
are not seen.

Only experience families enter (``EXPERIENCE``: delivery, customer service, price,
payments): what the company does to the customer. Earlier survey answers, feedback and
engagement are other readings of the same satisfaction (they would "explain" an answer by
the customer's mood, not by a cause), and contract or profile are not experiences. A feature
with no data (e.g. the mean delay when there was no delivery) is imputed by its mean and gets
a "no data" indicator in the same family.

``training.relative_weights`` splits the answer's explained variance (R²) across the
correlated features, less what each feature would get by chance (``adjusted_weights``: else a
family with many features would look strong in a small sample just by having more of them);
a family's weight is the sum of its features' weights, and its ``share`` the part of the
(adjusted) R² it carries. Intervals come from a bootstrap over *customers* (a customer's
answers move together), ``n_resamples`` times. ``direction`` says whether more of the
family's strongest measured feature goes with a lower or a higher score.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from cxchurn.errors import ConfigError
from features import pit, schema
from features.default_specs import DEFAULT_SPECS
from features.families import family_map
from features.pipeline import build_feature_table
from features.spec import FeatureSpec
from training.relative_weights import adjusted_weights, relative_weights

SURVEYS = {"nps": "survey_nps", "csat": "survey_csat"}
EXPERIENCE = ("delivery", "service", "price", "billing")
DEFAULT_RESOLUTION_HOURS = 6
DEFAULT_RESAMPLES = 200
MISSING_SUFFIX = " (no data)"
MIN_ANSWERS = 50
ANSWER = "answer_time"


def experience_specs(specs: Sequence[FeatureSpec] = DEFAULT_SPECS,
                     families: Sequence[str] = EXPERIENCE) -> list[FeatureSpec]:
    """The specs of the experience families, with the inputs their composites read."""
    fam = family_map([s.name for s in specs], specs)
    keep = {s.name for s in specs if fam[s.name] in families}
    by_name = {s.name: s for s in specs}
    for spec in specs:
        if spec.name in keep:
            keep.update(getattr(spec, "inputs", ()) or ())
    return [by_name[n] for n in by_name if n in keep]


def survey_answers(events: pit.Source, survey: str, start: str | None = None,
                   end: str | None = None) -> pd.DataFrame:
    """(customer_id, answer_time, score) of one survey, answers in months start..end."""
    if survey not in SURVEYS:
        raise ConfigError(f"survey must be one of {list(SURVEYS)}; got {survey!r}")
    con = pit.connect()
    pit.require(pit.register(con, "cx_events", events), (*schema.EVENT_REQUIRED, "score"),
                "events")
    frame = con.sql(
        "SELECT customer_id, event_time AS answer_time, CAST(score AS DOUBLE) AS score "
        "FROM cx_events WHERE event_type = $survey AND score IS NOT NULL "
        "ORDER BY customer_id, event_time", params={"survey": SURVEYS[survey]}
    ).to_arrow_table().to_pandas()
    frame[ANSWER] = pd.to_datetime(frame[ANSWER], utc=True)
    months = frame[ANSWER].dt.tz_localize(None).dt.to_period("M")
    keep = np.ones(len(frame), dtype=bool)
    for name, value, pick in (("start", start, months.__ge__), ("end", end, months.__le__)):
        if value:
            try:
                month = pd.Period(value, freq="M")
            except ValueError:
                raise ConfigError(f"{name} must be a month such as 2025-01; got "
                                  f"{str(value)[:40]!r}") from None
            keep &= pick(month).to_numpy()
    return frame[keep].reset_index(drop=True)


def answer_features(customers: pit.Source, events: pit.Source, answers: pd.DataFrame,
                    specs: Sequence[FeatureSpec],
                    resolution_hours: int = DEFAULT_RESOLUTION_HOURS) -> pd.DataFrame:
    """The answers with each one's features as of its floored time (see the module doc)."""
    if not 1 <= resolution_hours <= 24 or 24 % resolution_hours:
        raise ConfigError(f"resolution_hours must divide a day (1, 2, 3, 4, 6, 8, 12, 24); "
                          f"got {resolution_hours!r}")
    cut = answers[ANSWER].dt.floor(f"{resolution_hours}h")
    keys = pd.DataFrame({schema.CUSTOMER_ID: answers[schema.CUSTOMER_ID], schema.CUTOFF: cut})
    if not len(keys):
        return answers.assign(**{s.name: pd.Series(dtype=float) for s in specs})
    table = build_feature_table(customers, events, keys.drop_duplicates(), specs)
    names = [s.name for s in specs]
    merged = keys.merge(table[[schema.CUSTOMER_ID, schema.CUTOFF, *names]],
                        on=[schema.CUSTOMER_ID, schema.CUTOFF], how="left")
    return pd.concat([answers.reset_index(drop=True), merged[names]], axis=1)


def design(frame: pd.DataFrame, features: Sequence[str], families: dict[str, str]
           ) -> tuple[np.ndarray, list[str], list[str]]:
    """(complete matrix, column names, column families): mean-imputed, "no data" flags added."""
    columns, names, fams = [], [], []
    for feature in features:
        values = pd.to_numeric(frame[feature], errors="coerce").to_numpy(dtype=float)
        missing = ~np.isfinite(values)
        if missing.all():
            continue
        fill = float(values[~missing].mean())
        columns.append(np.where(missing, fill, values))
        names.append(feature)
        fams.append(families[feature])
        if missing.any():
            columns.append(missing.astype(float))
            names.append(feature + MISSING_SUFFIX)
            fams.append(families[feature])
    x = np.column_stack(columns) if columns else np.zeros((len(frame), 0))
    return x, names, fams


@dataclass
class SurveyDrivers:
    """One survey's driver analysis: per family and per feature, with its sample sizes."""

    survey: str
    n_answers: int
    n_customers: int
    r2: float
    r2_ci: tuple[float, float]
    families: pd.DataFrame
    features: pd.DataFrame = field(repr=False)

    def to_dict(self) -> dict[str, object]:
        return {"survey": self.survey, "n_answers": self.n_answers,
                "n_customers": self.n_customers, "r2": self.r2,
                "r2_ci_low": self.r2_ci[0], "r2_ci_high": self.r2_ci[1],
                "families": self.families.to_dict(orient="records"),
                "top_features": self.features.head(10).to_dict(orient="records")}


def analyse(x: np.ndarray, y: np.ndarray, customers: np.ndarray, names: Sequence[str],
            fams: Sequence[str], survey: str, n_resamples: int = DEFAULT_RESAMPLES,
            seed: int = 0) -> SurveyDrivers:
    """Relative weights per feature and family, with a customer bootstrap of the shares."""
    y = np.asarray(y, dtype=float)
    if len(y) < MIN_ANSWERS:
        raise ConfigError(f"{survey}: {len(y)} answers in the period; a driver analysis needs "
                          f"at least {MIN_ANSWERS}: widen the period (--start/--end)")
    order = list(dict.fromkeys(fams))
    member = np.array([[f == g for g in order] for f in fams], dtype=float)
    raw = relative_weights(x, y)
    fam_raw = adjusted_weights(raw, len(y), member)
    r2 = float(fam_raw.sum())
    codes, uniques = pd.factorize(pd.Series(customers))
    rng = np.random.default_rng(seed)
    shares, r2s = [], []
    for _ in range(n_resamples):
        draw = rng.multinomial(len(uniques), np.full(len(uniques), 1.0 / len(uniques)))
        weights = draw[codes].astype(float)
        # a row drawn twice adds no information, so chance is judged on the distinct rows
        distinct = float((weights > 0).sum())
        boot = adjusted_weights(relative_weights(x, y, weights), distinct, member)
        total = boot.sum()
        r2s.append(total)
        shares.append(boot / total if total > 0 else np.full(len(order), np.nan))
    draws = np.array(shares) if shares else np.full((1, len(order)), np.nan)
    low, high = np.nanpercentile(draws, [2.5, 97.5], axis=0) if shares else (draws[0], draws[0])
    corr = np.array([_corr(x[:, j], y) for j in range(x.shape[1])])
    features = pd.DataFrame({"feature": list(names), "family": list(fams), "weight": raw,
                             "correlation": corr,
                             "direction": np.where(corr < 0, "lowers", "raises")})
    features = features.sort_values("weight", ascending=False, kind="stable")
    # A family's strongest signal is a measured feature ("no data" flags only when the family
    # has nothing else): "more late deliveries, lower score", not "no ticket data, higher".
    flagged = features["feature"].str.endswith(MISSING_SUFFIX)
    top = pd.concat([features[~flagged], features[flagged]]).drop_duplicates(
        "family").set_index("family")
    table = pd.DataFrame({"family": order, "weight": fam_raw,
                          "share": fam_raw / r2 if r2 > 0 else np.nan,
                          "share_ci_low": low, "share_ci_high": high})
    table["top_feature"] = table["family"].map(top["feature"])
    table["direction"] = table["family"].map(top["direction"])
    table = table.sort_values("weight", ascending=False, kind="stable").reset_index(drop=True)
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    r2_ci = ((float(np.percentile(r2s, 2.5)), float(np.percentile(r2s, 97.5))) if r2s
             else (float("nan"), float("nan")))
    return SurveyDrivers(survey=survey, n_answers=len(y), n_customers=len(uniques), r2=r2,
                         r2_ci=r2_ci, families=table, features=features.reset_index(drop=True))


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    if a.std() == 0 or b.std() == 0:
        return 0.0
    return float(np.corrcoef(a, b)[0, 1])


def survey_drivers(customers: pit.Source, events: pit.Source,
                   surveys: Sequence[str] = tuple(SURVEYS), *, start: str | None = None,
                   end: str | None = None, specs: Sequence[FeatureSpec] = DEFAULT_SPECS,
                   resolution_hours: int = DEFAULT_RESOLUTION_HOURS,
                   n_resamples: int = DEFAULT_RESAMPLES, seed: int = 0) -> list[SurveyDrivers]:
    """The driver analysis of each survey over answers in months ``start``..``end``."""
    chosen = experience_specs(specs)
    names = [s.name for s in chosen]
    families = family_map(names, specs)
    out = []
    for survey in surveys:
        answers = survey_answers(events, survey, start, end)
        if len(answers) < MIN_ANSWERS:
            raise ConfigError(f"{survey}: {len(answers)} answers in the period; a driver "
                              f"analysis needs at least {MIN_ANSWERS}: widen the period "
                              "(--start/--end) or check that the events hold "
                              f"{SURVEYS[survey]} rows with scores")
        frame = answer_features(customers, events, answers, chosen, resolution_hours)
        x, cols, fams = design(frame, [n for n in names if families[n] in EXPERIENCE],
                               families)
        out.append(analyse(x, frame["score"].to_numpy(), frame[schema.CUSTOMER_ID].to_numpy(),
                           cols, fams, survey, n_resamples, seed))
    return out
