"""Atomic writes: a file or a folder appears complete under its final name, or not at all.

Every writer of results goes through these helpers, so a run killed at any moment leaves either
the previous file or the new one, never a truncated one. Temporary files and folders sit beside
their target (same file system, so the final rename is atomic) with a leading dot, and are
created with the permissions the user's umask gives (``tempfile`` alone would make them private,
so a team sharing ``results/`` could not read them).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = [
    "atomic_path",
    "atomic_dir",
    "write_text_atomic",
    "write_json_atomic",
    "save_figure",
    "current_umask",
]


def current_umask() -> int:
    """The process's umask, read without changing it where the platform allows."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o022)  # no read-only query elsewhere: set and restore at once
    os.umask(mask)
    return mask


def _apply_umask(path: Path, is_dir: bool) -> None:
    base = 0o777 if is_dir else 0o666
    os.chmod(path, base & ~current_umask())


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success rename it to ``path``.

    The caller writes the whole file to the yielded path (with any library: pandas, pyarrow,
    matplotlib). If the block raises, the temporary file is removed and ``path`` is untouched.
    """
    final = Path(path)
    final.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{final.name}.", suffix=".tmp", dir=final.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        _apply_umask(tmp, is_dir=False)
        os.replace(tmp, final)
    finally:
        tmp.unlink(missing_ok=True)


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary folder beside ``path``; on success rename it to ``path``.

    ``path`` must not exist yet (a folder of results is never overwritten). If the block raises,
    the temporary folder and everything in it are removed.

    Raises:
        FileExistsError: ``path`` already exists.

    """
    final = Path(path)
    if final.exists():
        raise FileExistsError(f"{final} already exists; refusing to overwrite results")
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", dir=final.parent))
    try:
        yield tmp
        _apply_umask(tmp, is_dir=True)
        os.rename(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def write_text_atomic(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically and return the path."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def write_json_atomic(path: str | os.PathLike[str], data: Any) -> Path:
    """Write ``data`` as indented JSON to ``path`` atomically and return the path."""
    return write_text_atomic(path, json.dumps(data, indent=2, default=str) + "\n")


def save_figure(fig: Any, path: str | os.PathLike[str], dpi: int = 110, **savefig: Any) -> Path:
    """Save a matplotlib figure as a PNG atomically, then close it (also when saving fails)."""
    import matplotlib.pyplot as plt

    try:
        with atomic_path(path) as tmp:
            fig.savefig(tmp, dpi=dpi, format="png", **savefig)
    finally:
        plt.close(fig)
    return Path(path)
