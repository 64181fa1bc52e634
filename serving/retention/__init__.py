"""Retention: the action catalogue, the policy that ranks who to contact, outcomes, the page."""
