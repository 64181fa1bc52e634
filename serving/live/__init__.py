"""Real time: events posted as they happen, scores that follow them, alerts that close the loop.

- ``event_store``: the durable, idempotent store of posted events (SQLite / PostgreSQL) and of
  the live-updated online rows; ``sources``: where a live update's history comes from;
- ``validate``: posted events checked by the data contract, one answer per event;
- ``compute``: the batch compiler's query prepared per cutoff over the history;
- ``feed``: ``LiveFeed``, an ingest end to end; ``routes``: ``POST /events``; ``words``: what
  changed, in EN/TR; ``bus``: subscribers of ``change.ScoreChange`` (the alert rules);
- ``replay`` and ``commands``: ``cxchurn replay``.

Nothing is imported here (the modules load DuckDB, SQLAlchemy or FastAPI).
"""
