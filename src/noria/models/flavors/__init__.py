"""One flavor per model library; ``noria.models.flavors.base`` holds the protocol and registry."""
