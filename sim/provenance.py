"""Provenance of results: package versions, git revision, seed and command."""

from __future__ import annotations

import datetime as _dt
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

__all__ = ["provenance", "git_revision"]

_PACKAGES = (
    "mesa",
    "numpy",
    "scipy",
    "pandas",
    "pyarrow",
    "hydra-core",
    "omegaconf",
    "networkx",
    "SALib",
    "pyabc",
    "ema-workbench",
)
_ROOT = Path(__file__).resolve().parent.parent


def git_revision() -> dict[str, Any]:
    """The project's git SHA and whether the work tree had uncommitted changes (if known)."""
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=_ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=_ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return {"git_sha": None, "git_dirty": None}
    return {"git_sha": sha, "git_dirty": bool(dirty)}


def provenance(seed: int | None = None, command: list[str] | None = None) -> dict[str, Any]:
    """Everything needed to say where a result came from."""
    from sim import __version__

    versions = {}
    for name in _PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "pln_sim": __version__,
        **git_revision(),
        "seed": seed,
        "command": command if command is not None else [sys.executable, *sys.argv],
        "python": platform.python_version(),
        "platform": platform.platform(),
        "packages": versions,
        "created_utc": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
    }
