"""Dataset adapters: everything specific to one public data set lives here and nowhere else.

``registry.DATASETS`` names each data set under the shared data folder and says how it is
read: a snapshot table (file, id, label, churn value, its own split if it ships one) or an
event log with an adapter module that maps it into the events contract. The CLI
(``cxchurn features adapt``), ``cxchurn train --table`` and ``benchmarks/public.py`` read
that registry, so adding a data set is one entry (plus an adapter for an event log).
"""
