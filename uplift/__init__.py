"""Learning what retention actions really do (uplift) from outcomes, with cross-fitted churn models.

It sits above training (it trains churn models) and the retention policy (it learns the
catalogue's effects), and writes a catalogue file the service reads back.
"""
