"""JSON shapes of the REST API, shared by the server and the HTTP backend.

One definition per shape keeps both sides from drifting; each model converts to
and from the domain type explicitly.
"""
