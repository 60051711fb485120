"""Your own schools: import a network's staff, advice ties and schools from CSV files.

Three files describe a network (formats in ``docs/NETWORK_DATA.md``; a template and a synthetic
example are in ``examples/``):

* staff: ``id, school, role`` and optionally ``team, pupils, opinion_former, responded``;
* ties: ``seeker, adviser`` ("whom do you turn to for advice about teaching?") and optionally
  ``strength`` (the tie's initial trust, 0-1);
* schools: ``id, phase, size`` and optionally ``participants`` (places in the PLN),
  ``trust_climate``, ``disadvantage`` and any per-school ``leadership`` lever.

They are named by the configuration keys ``network.staff``, ``network.ties`` and
``network.schools`` (with any scenario; ``scenario=from_files`` has neutral defaults). Reading
happens in two places:

* :func:`network_overrides`, called while the configuration is composed, turns the files into
  configuration values (staff numbers per school, levers from the schools file, participants per
  school) placed *before* the user's overrides, so a lever given on the command line still wins;
* :func:`imported_structure`, called by :func:`sim.population.build_population`, gives the
  population its roles, teams, opinion formers and ties instead of generating them.

What the files leave blank is drawn from the scenario's distributions (roles of unlisted staff,
tie trust, pupils, teams, opinion formers), and :func:`describe` says which. Staff who did not
answer the survey keep the ties others name to them; their own advice-seeking is reconstructed by
returning each tie named to them with probability ``network.mutual_share`` (Stork & Richards
1992), drawn per seed.

Every problem in the files is a one-line message naming the file, row and column
(:class:`NetworkDataError`, a :class:`~sim.config.ConfigError`): nothing runs and nothing is
written. Ids stay in memory and in the results folder; nothing here logs them.
"""

from __future__ import annotations

import csv
import dataclasses
import functools
import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.params import ConfigError
from sim.population import SchoolsConfig
from sim.processes.leadership import LeadershipConfig

if TYPE_CHECKING:
    from sim.config import Config

__all__ = [
    "NEEDS_FILES",
    "NetworkDataError",
    "NetworkData",
    "STAFF_COLUMNS",
    "TIES_COLUMNS",
    "SCHOOLS_COLUMNS",
    "read_network",
    "network_overrides",
    "imported_structure",
    "staff_ids",
    "network_summary",
    "describe",
    "export_network",
]

#: Choices that need network files (the workshop page, which takes no files, leaves them out).
NEEDS_FILES = {"scenario": ("from_files",), "selection": ("listed",)}
ROLE_NAMES = ("senior_leader", "middle_leader", "teacher", "early_career")
#: Required and optional columns of each file.
STAFF_COLUMNS = {
    "required": ("id", "school", "role"),
    "optional": ("team", "pupils", "opinion_former", "responded"),
}
TIES_COLUMNS = {"required": ("seeker", "adviser"), "optional": ("strength",)}
#: Per-school configuration values a schools file may give (column -> configuration key).
SCHOOL_VALUE_KEYS: dict[str, str] = {
    "trust_climate": "schools.trust_climate",
    "disadvantage": "schools.disadvantage",
    **{
        f.name: f"leadership.{f.name}"
        for f in dataclasses.fields(LeadershipConfig)
        if f.metadata.get("per_school")
    },
}
SCHOOLS_COLUMNS = {
    "required": ("id", "phase", "size"),
    "optional": ("participants", *SCHOOL_VALUE_KEYS),
}
_TRUE = {"true", "yes", "y", "1"}
_FALSE = {"false", "no", "n", "0"}
#: Problems listed in one error at most (the rest are counted).
MAX_PROBLEMS = 20


class NetworkDataError(ConfigError):
    """Problems in network files: one line per problem, naming the file, row and column."""

    def __init__(self, problems: Sequence[str]):
        self.problems = list(problems)
        shown = self.problems[:MAX_PROBLEMS]
        more = len(self.problems) - len(shown)
        if more:
            shown.append(f"... and {more} more problems")
        super().__init__("\n".join(shown))


# --------------------------------------------------------------------------------------------
# Reading and checking the files
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NetworkData:
    """The validated contents of the three files, staff in slot order.

    Slot order: schools in the schools file's order; within a school, senior leaders first (the
    first listed is taken as the head), then the other listed staff in file order, then the
    staff the school's ``size`` counts but the staff file does not list (``unlisted``).
    """

    files: tuple[str, str, str]
    school_ids: tuple[str, ...]
    phase: tuple[str, ...]
    size: np.ndarray  # staff per school (listed + unlisted)
    school_values: Mapping[str, tuple[Any, ...]]  # column -> one value (or None) per school
    places: tuple[int | None, ...]  # participants column, per school
    ids: tuple[str, ...]  # per slot
    school: np.ndarray  # per slot
    role: np.ndarray  # per slot: Role code, -1 where blank or unlisted
    team: tuple[str | None, ...]  # per slot
    pupils: np.ndarray  # per slot, NaN where blank
    opinion_former: np.ndarray | None  # per slot, None when the column is absent
    responded: np.ndarray  # per slot
    listed: np.ndarray  # per slot: in the staff file
    seeker: np.ndarray  # observed ties, sorted by (seeker, adviser)
    adviser: np.ndarray
    strength: np.ndarray  # NaN where blank
    drawn: tuple[str, ...]  # which attributes are left to the scenario's distributions

    @property
    def n_schools(self) -> int:
        """Number of schools."""
        return len(self.school_ids)

    @property
    def leaders(self) -> np.ndarray:
        """Senior leaders per school."""
        return np.bincount(self.school[self.role == 0], minlength=self.n_schools)


def _read_rows(path: Path, label: str) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """Header and ``(row number, {column: text})`` rows of a UTF-8 CSV; row 1 is the header."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise NetworkDataError([f"{label}: no such file"]) from None
    except OSError as exc:
        raise NetworkDataError([f"{label}: cannot be read ({exc.strerror})"]) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        row = raw[: exc.start].count(b"\n") + 1
        raise NetworkDataError(
            [
                f"{label} row {row}: not UTF-8 text (byte 0x{raw[exc.start]:02x}); "
                "save the file as 'CSV UTF-8'"
            ]
        ) from None
    if not text.strip():
        raise NetworkDataError([f"{label}: the file is empty"])
    reader = csv.reader(io.StringIO(text, newline=""))
    header: list[str] | None = None
    rows: list[tuple[int, dict[str, str]]] = []
    problems = []
    for cells in reader:
        if not any(c.strip() for c in cells):
            continue
        if header is None:
            header = [c.strip().lower() for c in cells]
            continue
        row = reader.line_num
        if len(cells) > len(header):
            problems.append(f"{label} row {row}: {len(cells)} cells but {len(header)} columns")
            continue
        rows.append(
            (row, {h: (cells[i].strip() if i < len(cells) else "") for i, h in enumerate(header)})
        )
    if problems:
        raise NetworkDataError(problems)
    if header is None:
        raise NetworkDataError([f"{label}: the file is empty"])
    if not rows:
        raise NetworkDataError([f"{label}: the file has a header but no rows"])
    return header, rows


def _check_columns(label: str, header: list[str], spec: Mapping[str, Sequence[str]]) -> list[str]:
    problems = []
    allowed = (*spec["required"], *spec["optional"])
    seen = set()
    for i, col in enumerate(header, start=1):
        if col in seen:
            problems.append(f"{label} row 1, column {col}: the column appears twice")
        seen.add(col)
        if col not in allowed:
            problems.append(
                f"{label} row 1, column {col or f'#{i}'}: unknown column; allowed: "
                + ", ".join(allowed)
            )
    for col in spec["required"]:
        if col not in header:
            problems.append(
                f"{label} row 1: missing column {col} (required: {', '.join(spec['required'])})"
            )
    return problems


def _parse_bool(text: str) -> bool | None:
    t = text.lower()
    if t in _TRUE:
        return True
    if t in _FALSE:
        return False
    return None


def _parse_school_value(column: str, text: str) -> tuple[Any, str | None]:
    """A schools-file value parsed and checked against the parameter's declared range."""
    key = SCHOOL_VALUE_KEYS[column]
    section = SchoolsConfig if key.startswith("schools.") else LeadershipConfig
    f = next(f for f in dataclasses.fields(section) if f.name == column)
    default = f.default
    meta = f.metadata
    if isinstance(default, bool):
        value = _parse_bool(text)
        if value is None:
            return None, f"'{text}' is not true or false (yes/no also work)"
        return value, None
    if isinstance(default, str):
        choices = meta.get("choices") or ()
        if choices and text not in choices:
            return None, f"'{text}' is not allowed; choose one of: {', '.join(choices)}"
        return text, None
    try:
        value = float(text)
    except ValueError:
        return None, f"'{text}' is not a number"
    if not math.isfinite(value):
        return None, f"'{text}' is not a finite number"
    if isinstance(default, int):
        if value != int(value):
            return None, f"'{text}' is not a whole number"
        value = int(value)
    low, high = meta.get("low"), meta.get("high")
    if (low is not None and value < low) or (high is not None and value > high):
        allowed = " and ".join(
            x
            for x in (
                f">= {low:g}" if low is not None else "",
                f"<= {high:g}" if high is not None else "",
            )
            if x
        )
        return None, f"{text} is out of range; allowed: {allowed}"
    return value, None


def _parse_count(text: str, low: int) -> int | None:
    try:
        value = float(text)
    except ValueError:
        return None
    if not math.isfinite(value) or value != int(value) or value < low:
        return None
    return int(value)


def _stamp(path: Path) -> tuple[str, int, int]:
    try:
        st = path.stat()
    except OSError:
        return (str(path), -1, -1)
    return (str(path), st.st_mtime_ns, st.st_size)


def read_network(staff: str | Path, ties: str | Path, schools: str | Path) -> NetworkData:
    """Read and check the three files (cached while the files are unchanged).

    Raises:
        NetworkDataError: Every problem found, one line each, naming file, row and column.

    """
    paths = tuple(Path(p).resolve() for p in (staff, ties, schools))
    return _read_network_cached(tuple(_stamp(p) for p in paths))


@functools.lru_cache(maxsize=16)
def _read_network_cached(stamps: tuple[tuple[str, int, int], ...]) -> NetworkData:
    staff_path, ties_path, schools_path = (Path(s[0]) for s in stamps)
    return _read_network(staff_path, ties_path, schools_path)


def _read_network(staff_path: Path, ties_path: Path, schools_path: Path) -> NetworkData:
    s_label, t_label, c_label = staff_path.name, ties_path.name, schools_path.name
    if len({s_label, t_label, c_label}) < 3:  # same names in different folders: keep them apart
        s_label, t_label, c_label = (
            f"network.{k} ({p.name})"
            for k, p in zip(
                ("staff", "ties", "schools"), (staff_path, ties_path, schools_path), strict=True
            )
        )
    problems: list[str] = []

    # -- schools --------------------------------------------------------------------------
    c_header, c_rows = _read_rows(schools_path, c_label)
    problems += _check_columns(c_label, c_header, SCHOOLS_COLUMNS)
    if problems:
        raise NetworkDataError(problems)
    school_index: dict[str, int] = {}
    school_row: dict[str, int] = {}
    phase, size, places = [], [], []
    values: dict[str, list[Any]] = {c: [] for c in SCHOOL_VALUE_KEYS if c in c_header}
    for row, cells in c_rows:
        sid = cells["id"]
        if not sid:
            problems.append(f"{c_label} row {row}, column id: empty id")
        elif sid in school_index:
            problems.append(
                f"{c_label} row {row}, column id: duplicate id '{sid}' (also row {school_row[sid]})"
            )
        else:
            school_index[sid] = len(school_index)
            school_row[sid] = row
        ph = cells["phase"].lower()
        if ph not in ("primary", "secondary"):
            problems.append(
                f"{c_label} row {row}, column phase: '{cells['phase']}' is not allowed; "
                "choose primary or secondary"
            )
        phase.append(ph)
        n = _parse_count(cells["size"], 1)
        if n is None:
            problems.append(
                f"{c_label} row {row}, column size: '{cells['size']}' is not a whole number >= 1 "
                "(the school's staff, those who did not answer included)"
            )
        size.append(n or 0)
        if "participants" in c_header and cells["participants"]:
            k = _parse_count(cells["participants"], 0)
            if k is None:
                problems.append(
                    f"{c_label} row {row}, column participants: '{cells['participants']}' is "
                    "not a whole number >= 0"
                )
            places.append(k)
        else:
            places.append(None)
        for col, out in values.items():
            text = cells[col]
            if not text:
                out.append(None)
                continue
            value, problem = _parse_school_value(col, text)
            if problem:
                problems.append(f"{c_label} row {row}, column {col}: {problem}")
            out.append(value)

    # -- staff ----------------------------------------------------------------------------
    s_header, s_rows = _read_rows(staff_path, s_label)
    col_problems = _check_columns(s_label, s_header, STAFF_COLUMNS)
    if col_problems:
        raise NetworkDataError(problems + col_problems)
    person_row: dict[str, int] = {}
    listed: list[dict[str, Any]] = []
    for row, cells in s_rows:
        pid = cells["id"]
        if not pid:
            problems.append(f"{s_label} row {row}, column id: empty id")
            continue
        if pid in person_row:
            problems.append(
                f"{s_label} row {row}, column id: duplicate id '{pid}' (also row {person_row[pid]})"
            )
            continue
        person_row[pid] = row
        sch = cells["school"]
        if sch not in school_index:
            known = ", ".join(list(school_index)[:8]) + (", ..." if len(school_index) > 8 else "")
            problems.append(
                f"{s_label} row {row}, column school: unknown school '{sch}' "
                f"({c_label} lists: {known})"
            )
            continue
        role_text = cells["role"].lower().replace(" ", "_").replace("-", "_")
        if role_text and role_text not in ROLE_NAMES:
            problems.append(
                f"{s_label} row {row}, column role: '{cells['role']}' is not allowed; choose one "
                f"of: {', '.join(ROLE_NAMES)} (or leave it blank to draw it)"
            )
            continue
        pupils = math.nan
        if cells.get("pupils"):
            try:
                pupils = float(cells["pupils"])
            except ValueError:
                pupils = -1.0
            if not math.isfinite(pupils) or pupils < 0:
                problems.append(
                    f"{s_label} row {row}, column pupils: '{cells['pupils']}' is not a number >= 0"
                )
                continue
        flags = {}
        for col in ("opinion_former", "responded"):
            if cells.get(col):
                flag = _parse_bool(cells[col])
                if flag is None:
                    problems.append(
                        f"{s_label} row {row}, column {col}: '{cells[col]}' is not true or false "
                        "(yes/no also work)"
                    )
                flags[col] = flag
            else:
                flags[col] = None
        listed.append(
            {
                "id": pid,
                "school": school_index[sch],
                "role": ROLE_NAMES.index(role_text) if role_text else -1,
                "team": cells.get("team") or None,
                "pupils": pupils,
                **flags,
            }
        )
        if role_text == "senior_leader" and flags["opinion_former"]:
            problems.append(
                f"{s_label} row {row}, column opinion_former: senior leaders are not opinion "
                "formers in the model (opinion formers are teachers colleagues turn to)"
            )

    # Schools: sizes against the listed staff, a senior leader in each.
    per_school = np.bincount([p["school"] for p in listed], minlength=len(school_index))
    leaders = np.bincount(
        [p["school"] for p in listed if p["role"] == 0], minlength=len(school_index)
    )
    for sid, s in school_index.items():
        row = school_row[sid]
        if size[s] and per_school[s] > size[s]:
            problems.append(
                f"{c_label} row {row}, column size: {size[s]} but {s_label} lists "
                f"{per_school[s]} staff of school '{sid}'"
            )
        if leaders[s] == 0:
            problems.append(
                f"{c_label} row {row}, column id: school '{sid}' has no senior_leader in "
                f"{s_label} (list the head at least)"
            )
        if places[s] is not None and size[s] and places[s] > size[s]:
            problems.append(
                f"{c_label} row {row}, column participants: {places[s]} exceeds the school's "
                f"size {size[s]}"
            )
    if problems:
        raise NetworkDataError(problems)

    # Slot order: by school; senior leaders first, then the others, in file order; then unlisted.
    slots: list[dict[str, Any]] = []
    for sid, s in school_index.items():
        mine = [p for p in listed if p["school"] == s]
        mine = [p for p in mine if p["role"] == 0] + [p for p in mine if p["role"] != 0]
        slots += mine
        for k in range(size[s] - len(mine)):
            slots.append(
                {
                    "id": f"{sid}-unlisted-{k + 1}",
                    "school": s,
                    "role": -1,
                    "team": None,
                    "pupils": math.nan,
                    "opinion_former": False,
                    "responded": False,
                    "unlisted": True,
                }
            )
    slot_of = {p["id"]: i for i, p in enumerate(slots)}

    # -- ties -----------------------------------------------------------------------------
    t_header, t_rows = _read_rows(ties_path, t_label)
    col_problems = _check_columns(t_label, t_header, TIES_COLUMNS)
    if col_problems:
        raise NetworkDataError(col_problems)
    seen_tie: dict[tuple[int, int], int] = {}
    seeker, adviser, strength = [], [], []
    for row, cells in t_rows:
        ends = []
        for col in ("seeker", "adviser"):
            pid = cells[col]
            if pid not in person_row:
                what = "empty" if not pid else f"unknown person '{pid}'"
                problems.append(f"{t_label} row {row}, column {col}: {what} (not in {s_label})")
            ends.append(slot_of.get(pid))
        a, b = ends
        if a is None or b is None:
            continue
        if a == b:
            problems.append(
                f"{t_label} row {row}, column adviser: a self-tie ('{cells['seeker']}' names themself)"
            )
            continue
        if slots[a]["school"] != slots[b]["school"]:
            problems.append(
                f"{t_label} row {row}, column adviser: '{cells['adviser']}' works in another "
                f"school than '{cells['seeker']}' (advice networks are within schools)"
            )
            continue
        if (a, b) in seen_tie:
            problems.append(
                f"{t_label} row {row}: duplicate tie {cells['seeker']} -> {cells['adviser']} "
                f"(also row {seen_tie[(a, b)]})"
            )
            continue
        seen_tie[(a, b)] = row
        w = math.nan
        if cells.get("strength"):
            try:
                w = float(cells["strength"])
            except ValueError:
                problems.append(
                    f"{t_label} row {row}, column strength: '{cells['strength']}' is not a number"
                )
                continue
            if not (0.0 <= w <= 1.0):
                problems.append(
                    f"{t_label} row {row}, column strength: {cells['strength']} is out of range; "
                    "allowed: 0 to 1 (the tie's trust; divide a 1-5 rating by 5)"
                )
                continue
        seeker.append(a)
        adviser.append(b)
        strength.append(w)
    if problems:
        raise NetworkDataError(problems)

    seeker_a = np.asarray(seeker, dtype=np.int64)
    adviser_a = np.asarray(adviser, dtype=np.int64)
    strength_a = np.asarray(strength, dtype=float)
    order = np.lexsort((adviser_a, seeker_a))
    seeker_a, adviser_a, strength_a = seeker_a[order], adviser_a[order], strength_a[order]
    n = len(slots)
    names_someone = np.bincount(seeker_a, minlength=n) > 0
    responded = np.array(
        [
            (p["responded"] if p.get("responded") is not None else bool(names_someone[i]))
            for i, p in enumerate(slots)
        ],
        dtype=bool,
    )
    for i, p in enumerate(slots):
        if not responded[i] and names_someone[i] and not p.get("unlisted"):
            raise NetworkDataError(
                [
                    f"{s_label} row {person_row[p['id']]}, column responded: '{p['id']}' names "
                    f"advisers in {t_label} but is marked as not having answered"
                ]
            )
    has_of = "opinion_former" in s_header
    drawn = []
    roles = np.array([p["role"] for p in slots], dtype=np.int8)
    if (roles[[not p.get("unlisted") for p in slots]] < 0).any():
        drawn.append(
            "role (blank cells): drawn from schools.middle_leader_share and early_career_share"
        )
    if (roles < 0).any() and any(p.get("unlisted") for p in slots):
        drawn.append(
            "unlisted staff (size above the staff listed): roles drawn as for blank roles; no ties"
        )
    if "team" not in s_header or any(p["team"] is None for p in slots):
        drawn.append("team (blank or absent): consecutive groups of schools.team_size")
    if "pupils" not in s_header or any(math.isnan(p["pupils"]) for p in slots):
        drawn.append("pupils (blank or absent): schools.pupils_per_teacher / pupils_per_leader")
    if not has_of:
        drawn.append(
            "opinion_former (absent): the schools.opinion_formers most-consulted non-leaders"
        )
    if np.isnan(strength_a).any():
        drawn.append("strength (blank or absent): trust drawn around the school's trust climate")
    if (~responded).any():
        drawn.append(
            "advice-seeking of staff who did not answer: ties named to them returned with "
            "probability network.mutual_share"
        )
    for col in SCHOOL_VALUE_KEYS:
        if col in ("trust_climate",) and (col not in values or None in values[col]):
            drawn.append("trust_climate (blank or absent): the scenario's schools.trust_climate")
    return NetworkData(
        files=(str(staff_path), str(ties_path), str(schools_path)),
        school_ids=tuple(school_index),
        phase=tuple(phase),
        size=np.asarray(size, dtype=np.int64),
        school_values={k: tuple(v) for k, v in values.items()},
        places=tuple(places),
        ids=tuple(p["id"] for p in slots),
        school=np.array([p["school"] for p in slots], dtype=np.int64),
        role=roles,
        team=tuple(p["team"] for p in slots),
        pupils=np.array([p["pupils"] for p in slots], dtype=float),
        opinion_former=(
            np.array([bool(p.get("opinion_former")) for p in slots], dtype=bool) if has_of else None
        ),
        responded=responded,
        listed=np.array([not p.get("unlisted") for p in slots], dtype=bool),
        seeker=seeker_a,
        adviser=adviser_a,
        strength=strength_a,
        drawn=tuple(drawn),
    )


# --------------------------------------------------------------------------------------------
# From files to configuration values
# --------------------------------------------------------------------------------------------

NETWORK_KEYS = ("staff", "ties", "schools")


def _hydra_value(value: Any) -> str:
    """A value in Hydra's override grammar."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        return repr(float(value))
    if isinstance(value, list | tuple):
        return "[" + ",".join(_hydra_value(v) for v in value) + "]"
    text = str(value).replace("\\", "\\\\").replace("'", "\\'")
    return f"'{text}'"


def _per_school_value(value: Any, s: int, n: int) -> Any:
    if isinstance(value, list | tuple):
        if len(value) == n:
            return value[s]
        return value[0] if value else None
    return value


def network_overrides(composed: Any) -> list[str]:
    """Configuration overrides that the network files imply, given a composed DictConfig.

    Empty when no files are named. Blank per-school cells take the composed (scenario or
    command-line) value for that school.

    Raises:
        ConfigError: Files missing or incomplete; NetworkDataError for problems in the files.

    """
    from omegaconf import OmegaConf

    def get(key: str) -> Any:
        v = OmegaConf.select(composed, key, default=None)
        return OmegaConf.to_container(v) if OmegaConf.is_config(v) else v

    paths = {k: get(f"network.{k}") or "" for k in NETWORK_KEYS}
    given = [k for k, v in paths.items() if v]
    if not given:
        if get("scenario") == "from_files":
            raise ConfigError(
                "scenario=from_files needs network.staff, network.ties and network.schools "
                "(CSV files; formats in docs/NETWORK_DATA.md)"
            )
        if get("selection.policy") == "listed":
            raise ConfigError(
                "selection.policy=listed needs an imported network (network.staff, "
                "network.ties, network.schools)"
            )
        return []
    if len(given) < 3:
        missing = [f"network.{k}" for k in NETWORK_KEYS if not paths[k]]
        raise ConfigError(
            f"network.{given[0]} needs {' and '.join(missing)} too (all three files go together)"
        )
    resolved = {k: Path(v).expanduser().resolve() for k, v in paths.items()}
    for k, p in resolved.items():
        if not p.is_file():
            raise ConfigError(f"network.{k} = {paths[k]!r}: no such file")
    data = read_network(resolved["staff"], resolved["ties"], resolved["schools"])
    n = data.n_schools
    leaders = data.leaders
    teachers = data.size - leaders
    out = [f"network.{k}={_hydra_value(str(p))}" for k, p in resolved.items()]
    out.append(f"schools.teachers={_hydra_value(teachers.tolist())}")
    out.append(f"schools.leaders={_hydra_value(leaders.tolist())}")
    if len(set(data.phase)) == 1:
        out.append(f"schools.phase={data.phase[0]}")
    # Opinion formers: flagged in the file, or the scenario's number (at most the non-leaders).
    if data.opinion_former is not None:
        of = np.bincount(data.school[data.opinion_former], minlength=n)
    else:
        scen = get("schools.opinion_formers")
        of = np.array([min(int(_per_school_value(scen, s, n)), teachers[s]) for s in range(n)])
    out.append(f"schools.opinion_formers={_hydra_value(of.tolist())}")
    for col, values in data.school_values.items():
        key = SCHOOL_VALUE_KEYS[col]
        scen = get(key)
        filled = [
            v if v is not None else _per_school_value(scen, s, n) for s, v in enumerate(values)
        ]
        out.append(f"{key}={_hydra_value(filled)}")
    # Places in the PLN: the file's, else the scenario's, at most the school's staff.
    scen_places = get("selection.per_school")
    places = [
        min(int(p if p is not None else _per_school_value(scen_places, s, n)), int(data.size[s]))
        for s, p in enumerate(data.places)
    ]
    out.append(f"selection.per_school={_hydra_value(places)}")
    scen_lead = get("selection.leaders_per_school")
    lead = [
        min(int(_per_school_value(scen_lead, s, n)), int(leaders[s]), places[s]) for s in range(n)
    ]
    out.append(f"selection.leaders_per_school={_hydra_value(lead)}")
    listed_ids = get("selection.participants") or []
    known = set(data.ids)
    for pid in listed_ids:
        if str(pid) not in known:
            raise ConfigError(
                f"selection.participants: '{pid}' is not a member of staff in {Path(data.files[0]).name}"
            )
    return out


# --------------------------------------------------------------------------------------------
# From files to the population's structure
# --------------------------------------------------------------------------------------------


def _network_data(config: Config) -> NetworkData:
    net = config.network
    return read_network(net.staff, net.ties, net.schools)


def imported_structure(config: Config, streams) -> dict[str, np.ndarray]:
    """Roles, teams, opinion formers, ties, tie strengths and pupils of an imported network.

    Blank attributes are drawn from the scenario's distributions with the run's set-up streams
    (see the module docstring). ``strength`` and ``pupils`` are NaN where the population builder
    should draw or derive them as for a generated network.

    Raises:
        ConfigError: The configuration does not match the files (build it with
            :func:`sim.compose.build_config`, which reads them).

    """
    from sim.population import Role

    data = _network_data(config)
    sc = config.schools
    leaders = np.asarray(sc.leaders)
    teachers = np.asarray(sc.teachers)
    if (
        len(teachers) != data.n_schools
        or not np.array_equal(leaders, data.leaders)
        or not np.array_equal(leaders + teachers, data.size)
    ):
        raise ConfigError(
            "the configuration's schools.teachers/leaders do not match the network files; "
            "build the configuration with sim.build_config (it reads them)"
        )
    n = len(data.ids)
    role = data.role.copy()
    u_role = streams.setup("import.roles").random(n)
    blank = role < 0
    drawn_role = np.full(n, Role.TEACHER, dtype=np.int8)
    drawn_role[u_role < sc.middle_leader_share] = Role.MIDDLE_LEADER
    drawn_role[u_role > 1.0 - sc.early_career_share] = Role.EARLY_CAREER
    role[blank] = drawn_role[blank]

    team = np.zeros(n, dtype=np.int32)
    first = np.concatenate([[0], np.cumsum(data.size)[:-1]])
    for s in range(data.n_schools):
        lo, hi = first[s], first[s] + data.size[s]
        labels = data.team[lo:hi]
        n_lead = int(data.leaders[s])
        n_teach = int(data.size[s]) - n_lead
        n_teams = max(1, round(n_teach / sc.team_size))
        default = np.zeros(hi - lo, dtype=np.int32)
        default[n_lead:] = 1 + (np.arange(n_teach) * n_teams) // max(n_teach, 1)
        given = [lab for lab in labels if lab is not None]
        if all(lab.isdigit() for lab in given):
            mapping = {lab: int(lab) for lab in given}
        else:
            mapping = {}
            for lab in given:
                mapping.setdefault(lab, n_teams + 1 + len(mapping))
        team[lo:hi] = [
            mapping[lab] if lab is not None else default[k] for k, lab in enumerate(labels)
        ]

    seeker, adviser, strength = data.seeker, data.adviser, data.strength
    indeg = np.bincount(adviser, minlength=n)
    if data.opinion_former is not None:
        of = data.opinion_former.copy()
    else:
        of = np.zeros(n, dtype=bool)
        for s in range(data.n_schools):
            lo, hi = first[s], first[s] + data.size[s]
            cand = np.flatnonzero(role[lo:hi] != Role.SENIOR_LEADER)
            order = cand[np.argsort(-indeg[lo:hi][cand], kind="stable")]
            of[lo + order[: sc.opinion_formers[s]]] = True

    # Staff who did not answer: return each tie named to them with probability mutual_share.
    silent = ~data.responded
    if silent.any():
        named = np.flatnonzero(silent[adviser])
        u = streams.setup("import.reconstruct").random(len(seeker))[named]
        back = named[u < config.network.mutual_share]
        new_s, new_a = adviser[back], seeker[back]
        key = set(zip(seeker.tolist(), adviser.tolist(), strict=True))
        keep = np.array(
            [(a, b) not in key for a, b in zip(new_s.tolist(), new_a.tolist(), strict=True)],
            dtype=bool,
        )
        seeker = np.concatenate([seeker, new_s[keep]])
        adviser = np.concatenate([adviser, new_a[keep]])
        strength = np.concatenate([strength, np.full(int(keep.sum()), np.nan)])
        order = np.lexsort((adviser, seeker))
        seeker, adviser, strength = seeker[order], adviser[order], strength[order]
    return {
        "role": role,
        "team": team,
        "opinion_former": of,
        "seeker": seeker,
        "adviser": adviser,
        "strength": strength,
        "pupils": data.pupils,
    }


def staff_ids(config: Config, n_staff: int | None = None) -> tuple[str, ...]:
    """Each slot's staff id: the imported ids, or ``school<k>-<nn>`` for a generated network."""
    if config.network.staff:
        return _network_data(config).ids
    ids = []
    sizes = np.asarray(config.schools.leaders) + np.asarray(config.schools.teachers)
    for s, size in enumerate(sizes):
        ids += [f"school{s + 1}-{k + 1:02d}" for k in range(int(size))]
    return tuple(ids)


def school_names(config: Config) -> tuple[str, ...]:
    """Each school's id: the imported ids, or ``school<k>`` for generated schools."""
    if config.network.staff:
        return _network_data(config).school_ids
    return tuple(f"school{s + 1}" for s in range(config.n_schools))


def listed_participants(config: Config, schools, staff) -> np.ndarray:
    """Mask of the staff named in ``selection.participants`` (at most ``per_school`` a school)."""
    ids = staff_ids(config)
    wanted = {str(p) for p in config.selection.participants}
    chosen = np.array([i in wanted for i in ids], dtype=bool)
    cap = np.asarray(config.selection.per_school)
    for s in range(schools.n):
        lo = schools.first_slot[s]
        mine = np.flatnonzero(chosen[lo : lo + schools.size[s]])
        chosen[lo + mine[cap[s] :]] = False
    return chosen


# --------------------------------------------------------------------------------------------
# Summary of what was read
# --------------------------------------------------------------------------------------------


def network_summary(config: Config) -> dict[str, Any]:
    """What was read: counts, per-school statistics against the published ranges, and gaps."""
    from sim.networks import PUBLISHED_RANGES, SchoolNetwork, network_stats

    data = _network_data(config)
    first = np.concatenate([[0], np.cumsum(data.size)[:-1]])
    schools = []
    for s, sid in enumerate(data.school_ids):
        lo, hi = int(first[s]), int(first[s] + data.size[s])
        mask = (data.seeker >= lo) & (data.seeker < hi)
        net = SchoolNetwork(n=hi - lo, src=data.seeker[mask] - lo, dst=data.adviser[mask] - lo)
        stats = network_stats(net, leaders=(data.role[lo:hi] == 0))
        row = {
            "school": sid,
            "phase": data.phase[s],
            "staff": hi - lo,
            "listed": int(data.listed[lo:hi].sum()),
            "answered": int(data.responded[lo:hi].sum()),
            "ties": int(mask.sum()),
            **{k: float(v) for k, v in stats.items()},
        }
        for key, (low, high) in PUBLISHED_RANGES.items():
            row[f"{key}_in_range"] = bool(low <= stats[key] <= high)
        schools.append(row)
    return {
        "files": [Path(f).name for f in data.files],
        "schools": len(data.school_ids),
        "staff": len(data.ids),
        "listed": int(data.listed.sum()),
        "answered": int(data.responded.sum()),
        "ties": len(data.seeker),
        "ties_with_strength": int((~np.isnan(data.strength)).sum()),
        "published_ranges": {k: list(v) for k, v in PUBLISHED_RANGES.items()},
        "per_school": schools,
        "drawn": list(data.drawn),
        "from_schools_file": sorted(data.school_values)
        + (["participants"] if any(p is not None for p in data.places) else []),
    }


def describe(config: Config) -> str:
    """The summary as Markdown: what was read, per-school statistics, and what was drawn."""
    s = network_summary(config)
    ranges = s["published_ranges"]
    lines = [
        "# Imported network",
        "",
        f"Read {', '.join(s['files'])}: {s['schools']} schools, {s['staff']} staff "
        f"({s['listed']} listed, {s['answered']} answered the survey), {s['ties']} advice ties "
        f"({s['ties_with_strength']} with a strength).",
        "",
        "Per school, against the ranges published for school advice networks of 5-13 staff "
        "(de Jong et al. 2022; Spillane, Kim & Frank 2012): density "
        f"{ranges['density'][0]}-{ranges['density'][1]}, reciprocity "
        f"{ranges['reciprocity'][0]}-{ranges['reciprocity'][1]}, in-degree centralisation "
        f"{ranges['in_centralisation'][0]}-{ranges['in_centralisation'][1]} "
        "(observed ties only; staff who did not answer lower density and reciprocity).",
        "",
        "| school | phase | staff | answered | ties | density | reciprocity | in-degree centralisation |",
        "|---|---|--:|--:|--:|--:|--:|--:|",
    ]

    def mark(row: dict[str, Any], key: str) -> str:
        return f"{row[key]:.2f}" + ("" if row[f"{key}_in_range"] else " (outside)")

    for r in s["per_school"]:
        lines.append(
            f"| {r['school']} | {r['phase']} | {r['staff']} | {r['answered']} | {r['ties']} | "
            f"{mark(r, 'density')} | {mark(r, 'reciprocity')} | {mark(r, 'in_centralisation')} |"
        )
    lines += [
        "",
        "Taken from the schools file: "
        + (", ".join(s["from_schools_file"]) or "nothing beyond id, phase and size")
        + ".",
    ]
    lines += ["", "Drawn from the scenario's distributions (not in the files):", ""]
    lines += [f"- {d}" for d in s["drawn"]] or ["- nothing"]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------------
# Export (a generated scenario in the same formats)
# --------------------------------------------------------------------------------------------


def export_network(config: Config, folder: str | Path, *, strength: bool = True) -> dict[str, Path]:
    """Write a configuration's population (as built for its seed) in the import formats.

    Importing the files into the same scenario gives bit-identical runs (the round trip of
    ``tests/test_import.py``). Writes ``staff.csv``, ``ties.csv`` and ``schools.csv``.
    """
    import pandas as pd

    from sim.fileio import atomic_path
    from sim.population import build_population
    from sim.rng import Streams

    config = dataclasses.replace(config).validate()
    streams = Streams(config.seed)
    given = imported_structure(config, streams) if config.network.staff else None
    schools, staff, ties = build_population(config, streams, given)
    ids = staff_ids(config)
    names = school_names(config)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    staff_frame = pd.DataFrame(
        {
            "id": ids,
            "school": [names[s] for s in staff.school],
            "role": [ROLE_NAMES[r] for r in staff.role],
            "team": staff.team,
            "pupils": staff.pupils,
            "opinion_former": np.where(staff.opinion_former, "yes", "no"),
            "responded": "yes",
        }
    )
    ties_frame = pd.DataFrame(
        {"seeker": [ids[i] for i in ties.seeker], "adviser": [ids[j] for j in ties.adviser]}
    )
    if strength:
        ties_frame["strength"] = ties.initial_trust
    lv = config.leadership
    school_frame = pd.DataFrame(
        {
            "id": names,
            "phase": config.schools.phase,
            "size": schools.size,
            "participants": config.selection.per_school,
            "trust_climate": config.schools.trust_climate,
            "disadvantage": config.schools.disadvantage,
            **{
                col: getattr(lv, col)
                for col in SCHOOL_VALUE_KEYS
                if col not in ("trust_climate", "disadvantage")
            },
        }
    )
    out = {}
    for name, frame in (("staff", staff_frame), ("ties", ties_frame), ("schools", school_frame)):
        path = folder / f"{name}.csv"
        with atomic_path(path) as tmp:
            frame.to_csv(tmp, index=False)
        out[name] = path
    return out
