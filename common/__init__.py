"""Plumbing every app shares (redaction, logging, leases, notifiers, task options, safe links, medians).
Apps import it; it imports none of them."""
