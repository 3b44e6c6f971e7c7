"""The Dockerfile and ``.dockerignore`` of a packaged model.

The image is the slim official Python image of the minor version the model was saved with
(patch releases load each other's pickles and wheels, and the minor tag keeps receiving
security fixes). Noria is installed from the wheel in ``wheels/`` with no index, so a package
on an index with the same name can never stand in for it; everything else comes from the
index at the versions in ``requirements.lock``. The model is owned by root and only readable
by the unprivileged user the server runs as.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from noria.errors import InvalidArgument

PORT = 8080
APP_DIR = "/app"
MODEL_DIR = f"{APP_DIR}/model"
HOME_DIR = "/var/lib/noria"  # NORIA_HOME: the prediction log's folder, writable by USER
USER = "noria"

_MINOR = re.compile(r"^(\d+)\.(\d+)")


@dataclass(frozen=True, slots=True)
class ImageSpec:
    python_version: str  # the full version the model was saved with, e.g. 3.11.7
    noria_version: str
    model_uri: str
    flavor: str

    @property
    def base_image(self) -> str:
        return f"python:{python_minor(self.python_version)}-slim"


def python_minor(version: str) -> str:
    """``3.11.7`` → ``3.11``."""
    match = _MINOR.match(version)
    if match is None:
        raise InvalidArgument(
            f"the model records Python {version!r}, which is not a version like 3.11.7; "
            "fix environment.python in its noria-model.yaml"
        )
    return f"{match[1]}.{match[2]}"


def dockerfile_text(spec: ImageSpec) -> str:
    # The health check uses Python's urllib: the slim image has no curl or wget.
    health = f"http://127.0.0.1:{PORT}/health/ready"
    probe = (
        "import sys, urllib.request; "
        f"sys.exit(urllib.request.urlopen('{health}', timeout=4).status != 200)"
    )
    return f"""\
# syntax=docker/dockerfile:1
# Serves {spec.model_uri} ({spec.flavor} model) with Noria {spec.noria_version}.
# Written by `noria models package`. Build and run:
#   docker build -t my-model . && docker run --rm -p {PORT}:{PORT} my-model
# The model was saved with Python {spec.python_version}.
FROM {spec.base_image}

ENV PYTHONDONTWRITEBYTECODE=1 \\
    PYTHONUNBUFFERED=1 \\
    PIP_NO_CACHE_DIR=1 \\
    PIP_DISABLE_PIP_VERSION_CHECK=1 \\
    NORIA_HOME={HOME_DIR}

RUN groupadd --system {USER} \\
 && useradd --system --gid {USER} --home-dir /nonexistent --no-create-home {USER} \\
 && install -d -o {USER} -g {USER} {HOME_DIR}

WORKDIR {APP_DIR}
COPY requirements.lock {APP_DIR}/requirements.lock
COPY wheels/ /tmp/wheels/
# Noria from the wheel shipped here (no index), then the rest of the lock from the index.
RUN pip install --no-index --find-links /tmp/wheels --no-deps noria=={spec.noria_version} \\
 && pip install -r {APP_DIR}/requirements.lock \\
 && rm -rf /tmp/wheels

COPY model/ {MODEL_DIR}/

USER {USER}
EXPOSE {PORT}
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \\
  CMD ["python", "-c", "{probe}"]
ENTRYPOINT ["noria", "serve", "{MODEL_DIR}"]
CMD ["--host", "0.0.0.0", "--port", "{PORT}"]
"""


def dockerignore_text() -> str:
    # Send the daemon only what the Dockerfile copies: nothing stray from the folder.
    return """\
*
!requirements.lock
!wheels/
!model/
**/__pycache__
**/*.pyc
"""
