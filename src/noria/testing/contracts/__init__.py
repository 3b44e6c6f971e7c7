"""One contract suite per port; subclass and provide the fixture."""
