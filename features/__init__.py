"""Data in, features out: the data contract, the synthetic world, and point-in-time features.

The bottom layer: it imports nothing from ``training``, ``serving`` or ``uplift``. Public
modules (importing this package loads none of them but ``schema``):

- ``schema``: column names and the events vocabulary; ``contract`` and ``load``: reading and
  checking customers, events and actions tables (``cxchurn validate``).
- ``spec`` and ``compile``: features declared as data and compiled to one SQL query;
  ``labels``: churn labels at a cutoff; ``pit``: the point-in-time rule;
  ``pipeline``: a feature build (``build_examples``, ``write_outputs``).
- ``simulate``: the synthetic world with known churn and action effects; ``families``: which
  family of causes a feature belongs to.
- ``spark_build`` and friends: the same build on Spark; ``adapters``: public data sets.
- ``commands``, ``sim_commands``, ``load_commands``: the CLI commands.
"""

from features.schema import CUSTOMER_ID, CUTOFF, LABEL

__all__ = ["CUSTOMER_ID", "CUTOFF", "LABEL"]
