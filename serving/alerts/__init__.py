"""Alerts that close the loop: rules over score changes, a durable inbox, a signed webhook.

``rules`` turns one ``serving.live.change.ScoreChange`` into alerts (pure); ``store`` keeps
them with their state and webhook delivery in the outcome database; ``webhook`` delivers new
alerts off the request path; ``desk`` wires the three for the service and the ingest side.
"""
