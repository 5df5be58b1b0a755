"""Plumbing every app shares (redaction, logging). Apps import it; it imports none of them, nor Django."""
