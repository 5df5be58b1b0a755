"""Versioned runbook pages, matched to errors. Depends on nothing else in the portal; triage calls it."""
