"""``noria quickstart``: the whole lifecycle of a credit-risk model, generated, run and narrated.

:func:`noria.quickstart.run.run_quickstart` runs the stages on a client's stores; the
scenario is :func:`noria.quickstart.scenario.customers`, the training pipeline
``noria.quickstart.flows:training``. See docs/quickstart.md.
"""
