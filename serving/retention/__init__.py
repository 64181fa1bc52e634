"""Retention: the action catalogue, the policy that ranks who to contact, outcomes, the page.

- ``catalogue``: the actions YAML (``load_catalogue``); ``policy`` and ``targeting``: who to
  contact with which action under a budget; ``value``: what a customer is worth.
- ``at_risk``: the ranked list; ``history``: a customer's timeline; ``outcomes``: the store of
  recorded outcomes.
- ``app``: ``make_retention_app``, mounted by the service; ``state``: what it keeps between
  requests; ``web``, ``routes_api``, ``routes_page``, ``models``: its routes and bodies.
- ``commands``: ``cxchurn retention ...``.

Nothing is imported here (the modules load pandas, FastAPI or SQLAlchemy).
"""
