"""Frozen types and pure rules. No I/O and no heavy imports here."""
