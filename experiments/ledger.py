"""A results folder is a ledger: every batch of runs says what produced it, and is checked.

Each batch folder (``<cell>/batches/<first>-<last>/``) holds its tables and ``batch.json``: the
seeds it ran, the code that ran them (git SHA, whether the work tree had uncommitted changes, and
a hash of the model's source files), the resolved arm configuration and its hash, the package
versions, a SHA-256 checksum of each imported network file (``network.staff``, ``network.ties``,
``network.schools``: the configuration holds only their paths, and a file can change under the
same path), and a SHA-256 checksum and row count of each of its files. A resume

- reuses a batch only if its record matches the current request exactly (code, configuration,
  packages), whatever the new seed range or batch size: reuse is keyed by seed, never by batch
  boundaries, and a seed is never counted twice;
- refuses, in one line naming what differs, when a folder holds runs of another code version,
  configuration, network file content or package set, and names the two ways forward (a new ``name``, or starting the
  folder afresh with ``resume=never`` / ``--fresh``);
- reruns a batch whose files do not match their checksums (a truncated, short or altered batch),
  or which has no record, with a one-line notice.

One writer per folder: :func:`writer_lock` takes an advisory lock (``filelock``) on the folder, so
a second run with the same name refuses at once with one line instead of racing the first.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import subprocess
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from sim.config import ConfigError

__all__ = [
    "RECORD_FILE",
    "LOCK_FILE",
    "TABLES",
    "BatchInfo",
    "Ledger",
    "code_identity",
    "config_hash",
    "request_identity",
    "network_files",
    "file_checksum",
    "make_record",
    "writer_lock",
    "WAYS_FORWARD",
]

RECORD_FILE = "batch.json"
LOCK_FILE = ".lock"
TABLES = ("runs", "timeseries", "schools")
#: The packages whose versions are part of a batch's identity.
PACKAGES = ("mesa", "numpy", "scipy", "pandas", "pyarrow", "hydra-core", "omegaconf", "networkx")
#: Where the model's source lives (hashed into the code identity).
CODE_ROOT = Path(__file__).resolve().parent.parent
WAYS_FORWARD = "choose a new name= to keep both, or add resume=never to start this folder afresh"
SWEEP_WAYS_FORWARD = (
    "choose another hydra.sweep.dir= to keep both, or add --fresh to start its cells afresh"
)


@functools.lru_cache(maxsize=8)
def code_identity(root: Path = CODE_ROOT) -> dict[str, Any]:
    """The code that produces results: git SHA, dirty flag and a hash of the model's sources.

    The source hash covers every ``.py`` file of the ``sim`` package (the model), so uncommitted
    changes to the model are caught even when the SHA is the same.
    """
    digest = hashlib.sha256()
    for path in sorted((root / "sim").rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    sha, dirty = None, None
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = bool(
            subprocess.run(
                ["git", "status", "--porcelain", "--untracked-files=no"],
                cwd=root,
                capture_output=True,
                text=True,
                check=True,
            ).stdout.strip()
        )
    except (OSError, subprocess.CalledProcessError):
        pass
    return {"git_sha": sha, "git_dirty": dirty, "source_sha256": digest.hexdigest()}


def _config_data(config: Any) -> dict[str, Any]:
    data = json.loads(json.dumps(dataclasses.asdict(config), default=str))
    data.pop("seed", None)  # set per run
    return data


def config_hash(config: Any) -> str:
    """SHA-256 of the resolved configuration (without its seed), as canonical JSON."""
    text = json.dumps(_config_data(config), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


@functools.lru_cache(maxsize=1)
def package_versions() -> dict[str, str | None]:
    """Versions of the packages results depend on (and Python's)."""
    from sim import __version__

    versions: dict[str, str | None] = {"pln_sim": __version__, "python": sys.version.split()[0]}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


#: The configuration keys that name an imported network's files.
NETWORK_FILES = ("staff", "ties", "schools")


def network_files(config: Any) -> dict[str, dict[str, str]]:
    """``{"network.<key>": {"file": name, "sha256": checksum}}`` of each imported network file.

    A configuration records the files' paths only; their content is what the runs used.
    """
    network = getattr(config, "network", None)
    out = {}
    for key in NETWORK_FILES:
        path = getattr(network, key, "") if network is not None else ""
        if path:
            out[f"network.{key}"] = {"file": Path(path).name, "sha256": file_checksum(Path(path))}
    return out


def request_identity(config: Any, code_root: Path | None = None) -> dict[str, Any]:
    """What a batch must have been produced by to be reused for ``config`` now."""
    return {
        "code": code_identity(code_root or CODE_ROOT),
        "config_sha256": config_hash(config),
        "config": _config_data(config),
        "network_files": network_files(config),
        "packages": package_versions(),
    }


def file_checksum(path: Path) -> str:
    """SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def make_record(
    seeds: Sequence[int], identity: dict[str, Any], folder: Path, rows: dict[str, int]
) -> dict[str, Any]:
    """The record of a batch whose table files are already in ``folder``."""
    files = {
        f"{name}.parquet": {
            "sha256": file_checksum(folder / f"{name}.parquet"),
            "rows": int(rows[name]),
        }
        for name in TABLES
    }
    return {"format": 1, "seeds": [int(s) for s in seeds], **identity, "files": files}


@dataclass
class BatchInfo:
    """A batch folder and what its record says (``problem`` is why it cannot be used)."""

    path: Path
    record: dict[str, Any] | None = None
    problem: str | None = None
    seeds: list[int] = field(default_factory=list)


def _check_files(path: Path, record: dict[str, Any]) -> str | None:
    files = record.get("files") or {}
    for name in TABLES:
        entry = files.get(f"{name}.parquet")
        file = path / f"{name}.parquet"
        if entry is None:
            return f"{name}.parquet is not in its record"
        if not file.is_file():
            return f"{name}.parquet is missing"
        if file_checksum(file) != entry.get("sha256"):
            return f"{name}.parquet does not match its checksum (truncated or altered)"
    return None


def read_batch(path: Path) -> BatchInfo:
    """Read a batch's record and verify its files' checksums."""
    record_path = path / RECORD_FILE
    if not record_path.is_file():
        return BatchInfo(path, problem="it has no record (written by an older version)")
    try:
        record = json.loads(record_path.read_text())
        seeds = [int(s) for s in record["seeds"]]
    except (OSError, ValueError, KeyError, TypeError):
        return BatchInfo(path, problem="its record is unreadable")
    if not seeds or len(set(seeds)) != len(seeds):
        return BatchInfo(path, record, problem="its record lists no seeds or a seed twice")
    problem = _check_files(path, record)
    return BatchInfo(path, record, problem=problem, seeds=seeds)


def differences(record: dict[str, Any], identity: dict[str, Any]) -> list[str]:
    """What differs between a batch's record and the current request, in words."""
    out = []
    old_code, new_code = record.get("code") or {}, identity["code"]
    if old_code.get("source_sha256") != new_code["source_sha256"] or old_code.get(
        "git_sha"
    ) != new_code.get("git_sha"):
        out.append(f"code (git {_short(old_code)} vs now {_short(new_code)})")
    if record.get("config_sha256") != identity["config_sha256"]:
        keys = _config_diff(record.get("config") or {}, identity["config"])
        shown = ", ".join(keys[:3]) + (f" and {len(keys) - 3} more" if len(keys) > 3 else "")
        out.append(f"configuration ({shown or 'resolved values'})")
    old_nf, new_nf = record.get("network_files") or {}, identity.get("network_files") or {}
    for key in sorted(set(old_nf) | set(new_nf)):
        old_sum, new_sum = (
            (old_nf.get(key) or {}).get("sha256"),
            (new_nf.get(key) or {}).get("sha256"),
        )
        if old_sum != new_sum:
            name = (new_nf.get(key) or old_nf.get(key) or {}).get("file", "?")
            what = "its content changed" if old_sum and new_sum else "no checksum recorded"
            out.append(f"{key} file ({name}: {what} since those runs)")
    old_pk, new_pk = record.get("packages") or {}, identity["packages"]
    changed = [f"{k} {old_pk.get(k)} vs {v}" for k, v in new_pk.items() if old_pk.get(k) != v]
    if changed:
        out.append(f"package versions ({', '.join(changed[:3])})")
    return out


def _short(code: dict[str, Any]) -> str:
    sha = code.get("git_sha")
    text = sha[:10] if sha else "unknown"
    if code.get("git_dirty"):
        text += "+uncommitted changes"
    return text


def _config_diff(old: Any, new: Any, prefix: str = "") -> list[str]:
    if isinstance(old, dict) and isinstance(new, dict):
        keys = []
        for k in sorted(set(old) | set(new)):
            keys += _config_diff(old.get(k), new.get(k), f"{prefix}{k}.")
        return keys
    if old != new:
        return [f"{prefix[:-1]} {_brief(old)} vs {_brief(new)}"]
    return []


def _brief(value: Any) -> str:
    text = json.dumps(value)
    return text if len(text) <= 24 else text[:21] + "..."


class Ledger:
    """The batches of one cell (an arm of a comparison, or one cell of a sweep)."""

    def __init__(self, cell: Path) -> None:
        self.cell = Path(cell)
        self.batches_dir = self.cell / "batches"

    def scan(self) -> list[BatchInfo]:
        """Every batch folder, read and checked, in name order."""
        if not self.batches_dir.is_dir():
            return []
        return [
            read_batch(p)
            for p in sorted(self.batches_dir.iterdir())
            if p.is_dir() and not p.name.startswith(".")
        ]

    def usable(
        self,
        identity: dict[str, Any] | None,
        label: str,
        notify=None,
        remove: bool = False,
        ways: str = WAYS_FORWARD,
    ) -> dict[int, Path]:
        """Map each finished seed to the one batch that holds it.

        Args:
            identity: The current request (:func:`request_identity`); ``None`` accepts any
                record, but every usable batch must then share one identity.
            label: How to name the cell in messages (e.g. ``"arm 'start_small'"``).
            notify: Called with a one-line notice for each unusable (corrupt) batch.
            remove: Delete unusable batches (a writer holding the lock, before rerunning them).
            ways: The ways forward named in a refusal.

        Raises:
            ConfigError: A batch was produced by other code, configuration or packages.

        """
        seen: dict[int, Path] = {}
        reference = identity
        if remove and self.batches_dir.is_dir():  # temporary folders of killed writers
            import shutil

            for stale in self.batches_dir.glob(".*"):
                shutil.rmtree(stale, ignore_errors=True)
        for info in self.scan():
            if info.problem is not None:
                if notify is not None:
                    action = "rerunning its seeds" if remove else "leaving its seeds out"
                    notify(
                        f"note: {label}: batch {info.path.name} is unusable: {info.problem}; {action}"
                    )
                if remove:
                    import shutil

                    shutil.rmtree(info.path, ignore_errors=True)
                continue
            if reference is None:
                reference = info.record
            diff = differences(info.record, reference)
            if diff:
                raise ConfigError(
                    f"{self.cell} ({label}) holds runs made with a different {'; '.join(diff)}; "
                    + ways
                )
            for seed in info.seeds:
                seen.setdefault(seed, info.path)  # never count a seed twice
        return seen

    def new_batch_path(self, seeds: Sequence[int]) -> Path:
        """A fresh folder name for a batch of these seeds."""
        base = f"{seeds[0]:06d}-{seeds[-1]:06d}"
        path, n = self.batches_dir / base, 1
        while path.exists():
            n += 1
            path = self.batches_dir / f"{base}.{n}"
        return path


def load_batches(seed_map: dict[int, Path], seeds: Iterable[int] | None = None) -> dict[str, Any]:
    """Read the tables of the given seeds (all mapped seeds if ``None``), each seed once."""
    import pandas as pd

    wanted = set(seed_map) if seeds is None else set(seeds) & set(seed_map)
    by_batch: dict[Path, list[int]] = {}
    for seed in sorted(wanted):
        by_batch.setdefault(seed_map[seed], []).append(seed)
    parts: dict[str, list[Any]] = {name: [] for name in TABLES}
    for batch, batch_seeds in sorted(by_batch.items()):
        keep = set(batch_seeds)
        for name in TABLES:
            frame = pd.read_parquet(batch / f"{name}.parquet")
            parts[name].append(frame[frame["seed"].isin(keep)])
    return {
        name: (pd.concat(frames, ignore_index=True) if frames else pd.DataFrame())
        for name, frames in parts.items()
    }


def writer_lock(folder: Path, what: str, elsewhere: str = "choose another name="):
    """Take the folder's advisory lock, or refuse at once in one line (a context manager).

    ``elsewhere`` is the way to write somewhere else instead, named in the refusal.
    """
    import contextlib

    from filelock import FileLock, Timeout

    @contextlib.contextmanager
    def held():
        folder.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(folder / LOCK_FILE))
        try:
            lock.acquire(timeout=0)
        except Timeout:
            raise ConfigError(
                f"another {what} is writing {folder} now; wait for it to finish or {elsewhere}"
            ) from None
        try:
            yield
        finally:
            lock.release()

    return held()
