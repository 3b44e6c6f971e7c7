"""The model registry: registered models, versions, aliases, approvals and their history."""
