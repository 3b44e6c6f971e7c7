"""Packaging a model as a container build context, and proving it works without Docker.

``build.build_package`` writes the context (Dockerfile, ``requirements.lock``, a wheel of
Noria, the model, a README); ``verify.verify_package`` installs it into a fresh virtual
environment and checks that the model predicts there as it does here. The command is
``noria models package <uri> --out DIR [--verify]`` (see docs/packaging.md).
"""
