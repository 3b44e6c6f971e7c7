"""Test kit: contract suites every backend must pass."""
