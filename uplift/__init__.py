"""Learning what retention actions really do (uplift) from outcomes, with cross-fitted churn models.

It sits above training (it trains churn models) and the retention policy (it learns the
catalogue's effects), and writes a catalogue file the service reads back. Modules:
``effects`` (the effect model), ``crossfit`` (out-of-fold churn scores), ``report`` (chart and
page) and ``commands`` (``cxchurn retention learn-effects``). Nothing is imported here (the
modules load SciPy and LightGBM).
"""
