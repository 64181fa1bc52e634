"""Serving the churn model: the scoring API, the retention app and the reasons in plain words.

Sits above ``training``; imports nothing from ``uplift``. Subpackages: ``serving.api`` (the
BentoML service and its runtime), ``serving.retention`` (catalogue, policy, outcomes, page),
``serving.reasons`` (SHAP drivers as sentences); ``serving.auth`` is the API-key check both
apps share and ``serving.messages`` every English and Turkish string they show. Nothing is
imported here: the subpackages load BentoML, FastAPI or SQLAlchemy.
"""
