"""Real time: events posted as they happen, scores that follow them, alerts that close the loop."""
