"""Narrow interfaces the capabilities depend on; backends implement them."""
