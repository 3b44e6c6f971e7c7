"""Models as self-describing directories: flavors, signatures and environments.

``noria.models.format.save_model`` writes a model directory (``noria-model.yaml``, the payload
in its library's native format, the input example and ``requirements.txt``);
``noria.models.format.load_model`` loads it back as a ``LoadedModel`` whose ``predict`` checks
requests against the signature. Importing this package loads nothing heavy.
"""
