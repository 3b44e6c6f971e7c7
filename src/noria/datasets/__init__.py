"""Datasets: versioned snapshots, schemas, validation, profiles, drift tests and reports."""
