"""The Noria HTTP server: platform REST API (and later the MLflow routes and the UI)."""

from noria.server.app import create_app

__all__ = ["create_app"]
