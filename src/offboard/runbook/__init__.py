"""The runbook: both deliveries of a migration as workflows, run, confirmed and journaled."""
