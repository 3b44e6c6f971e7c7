"""Pipeline step executors, built by :func:`noria.backends.schemes.executor_for`."""
