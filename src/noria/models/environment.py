"""The environment a model was saved in, and how the one loading it differs.

A model records the Python version and the exact version of every distribution it needs: the
flavor's library (with what a pipeline's steps come from), NumPy, pandas and any extras the
caller declares. Loading it where a version differs warns once with every difference
(:class:`EnvironmentMismatch`), or raises when asked to be strict: a pickle from another
scikit-learn release may load and still predict differently.
"""

from __future__ import annotations

import platform
import warnings
from collections.abc import Iterable
from importlib import metadata

from pydantic import BaseModel, ConfigDict

from noria.errors import Conflict, InvalidArgument

ALWAYS_RECORDED = ("numpy", "pandas")


class EnvironmentMismatch(UserWarning):
    """The model was saved with other package or Python versions than those installed."""


class ModelEnvironment(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    python: str
    packages: dict[str, str]  # distribution name → exact version, sorted by name

    def requirements_txt(self) -> str:
        """Exact pins, one per line, for building an environment that can load the model."""
        return "".join(f"{name}=={version}\n" for name, version in self.packages.items())


def capture_environment(
    modules: Iterable[str], *, extra_packages: Iterable[str] = ()
) -> ModelEnvironment:
    """The running Python and the installed versions of what ``modules`` come from.

    ``modules`` are top-level import names (``sklearn`` is recorded as ``scikit-learn``); names
    that no installed distribution provides (the standard library, the caller's own code) are
    skipped. ``extra_packages`` are distribution names, and each must be installed.
    """
    providers = metadata.packages_distributions()
    packages: dict[str, str] = {}
    for module in (*ALWAYS_RECORDED, *modules):
        for distribution in providers.get(module, ()):
            packages[_canonical(distribution)] = metadata.version(distribution)
    for name in extra_packages:
        try:
            packages[_canonical(name)] = metadata.version(name)
        except metadata.PackageNotFoundError:
            raise InvalidArgument(
                f"extra package {name!r} is not installed here, so its version cannot be "
                "recorded; install it or leave it out"
            ) from None
    return ModelEnvironment(
        python=platform.python_version(), packages=dict(sorted(packages.items()))
    )


def environment_differences(saved: ModelEnvironment) -> list[str]:
    """One line per difference from the running environment, e.g.
    ``scikit-learn: saved 1.4.2, installed 1.5.0``. Python counts when its minor version
    differs (patch releases keep pickles and wheels compatible)."""
    differences = []
    if _minor(saved.python) != _minor(platform.python_version()):
        differences.append(f"python: saved {saved.python}, installed {platform.python_version()}")
    for name, version in saved.packages.items():
        installed = installed_version(name)
        if installed != version:
            differences.append(f"{name}: saved {version}, installed {installed or 'nothing'}")
    return differences


def check_environment(saved: ModelEnvironment, *, strict: bool, source: str) -> None:
    """Warn (or raise Conflict when ``strict``) if the running environment differs."""
    differences = environment_differences(saved)
    if not differences:
        return
    listing = "; ".join(differences)
    if strict:
        raise Conflict(
            f"{source} was saved in another environment ({listing}); install the versions in "
            "its requirements.txt, or load it with strict_environment=False"
        )
    warnings.warn(
        f"{source} was saved in another environment and may behave differently: {listing}",
        EnvironmentMismatch,
        stacklevel=3,
    )


def installed_version(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def _canonical(name: str) -> str:
    # PEP 503 normalisation, so that "Scikit_Learn" and "scikit-learn" are one entry.
    return "-".join(name.lower().replace("_", "-").replace(".", "-").split("-"))


def _minor(version: str) -> str:
    return ".".join(version.split(".")[:2])
