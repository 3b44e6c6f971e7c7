"""Implementations of the ports. Only :mod:`noria.backends.schemes` picks one."""
