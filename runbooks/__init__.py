"""Versioned runbook pages (issue 3). Empty until then; triage depends on nothing here yet."""
