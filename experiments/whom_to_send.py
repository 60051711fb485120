"""Whom should each school send to the PLN? Candidate participant sets, compared on your network.

    python -m experiments.whom_to_send [network.staff=staff.csv network.ties=ties.csv
        network.schools=schools.csv] [seeds=200] [greedy_seeds=30] [pseudonymise=true]
        [name=NAME] [n_jobs=2] [key=value ...]

Without files, the synthetic example network of ``examples/network/`` is used. For each school
it builds candidate sets of the size the network allows (``participants`` in the schools file,
else ``selection.per_school``):

* ``in_degree``: the most consulted staff (opinion formers; seed 000);
* ``betweenness``: the staff on most shortest advice paths (brokers; networkx);
* the model's own selection policies (``mixed``, ``opinion_formers``, ``senior_leaders``,
  ``middle_leaders``, ``early_career``, ``random``);
* ``greedy``: the set a simulation-based greedy search finds (influence maximisation, Kempe,
  Kleinberg & Tardos 2003): add, one at a time, the member of staff whose addition most raises
  the school's expected spread at the horizon, averaged over ``greedy_seeds`` paired seeds
  (every candidate runs the same seeds). Schools do not interact in the model, so every school's
  candidates are tried in the same runs.

The greedy search uses its own seeds (from ``greedy_seed_start``); the sets are then compared on
``seeds`` other paired seeds with the project's paired-comparison machinery (experiments.compare),
so the greedy set's expected spread is not flattered by the seeds it was chosen on.

Writes ``results/whom_to_send/<name>/``: ``network/`` (the files used, pseudonymised with
``pseudonymise=true``, with the key in ``network/pseudonyms.csv``), ``candidates.csv`` (who each
policy sends, with their in-degree and betweenness), ``greedy.csv`` (each greedy step),
``map_<school>.png`` (each school's advice map with every policy's choice), ``comparison/`` (the
paired comparison: report.md, tables, figures) and ``whom_to_send.md``. Imported ids are written
only in this folder; the console shows none. Invalid input: a one-line error per problem, exit
status 2, nothing written.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import logging
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from sim.compose import build_config
from sim.config import Config, ConfigError
from sim.fileio import atomic_dir, atomic_path, save_figure, write_text_atomic
from sim.network_import import NetworkData, describe, read_network
from sim.outcome_registry import counted, ordinal

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "network"
#: The model's own selection policies compared (configs/selection/).
MODEL_POLICIES = (
    "mixed",
    "opinion_formers",
    "senior_leaders",
    "middle_leaders",
    "early_career",
    "random",
)
NETWORK_POLICIES = ("in_degree", "betweenness", "greedy")
ROLE_LABELS = ("senior leader", "middle leader", "teacher", "early career")

__all__ = ["Settings", "parse", "greedy_participants", "candidate_sets", "main", "run"]


@dataclasses.dataclass
class Settings:
    """Settings of a whom-to-send study (``key=value`` on the command line)."""

    staff: str = str(EXAMPLE / "staff.csv")
    ties: str = str(EXAMPLE / "ties.csv")
    schools: str = str(EXAMPLE / "schools.csv")
    scenario: str = "from_files"
    years: int = 3
    seeds: int = 200
    seed_start: int = 0
    greedy_seeds: int = 30
    greedy_seed_start: int = 100_000
    pseudonymise: bool = False
    name: str = ""
    n_jobs: int = 2
    out_dir: str = "results/whom_to_send"
    model_overrides: list[str] = dataclasses.field(default_factory=list)

    @property
    def run_name(self) -> str:
        """The output folder's name."""
        if self.name:
            return self.name
        return "example" if Path(self.staff).resolve() == (EXAMPLE / "staff.csv") else "network"


_KEYS = {
    "network.staff": "staff",
    "network.ties": "ties",
    "network.schools": "schools",
    **{f.name: f.name for f in dataclasses.fields(Settings) if f.name != "model_overrides"},
}


def parse(argv: list[str]) -> Settings:
    """Settings from ``key=value`` arguments; other keys are model overrides for every arm."""
    s = Settings()
    for arg in argv:
        if "=" not in arg:
            raise ConfigError(f"expected key=value, got {arg!r}")
        key, _, value = arg.partition("=")
        if key not in _KEYS:
            s.model_overrides.append(arg)
            continue
        name = _KEYS[key]
        default = getattr(Settings(), name)
        if isinstance(default, bool):
            if value.lower() not in ("true", "false"):
                raise ConfigError(f"{key} must be true or false (got {value!r})")
            setattr(s, name, value.lower() == "true")
        elif isinstance(default, int):
            try:
                setattr(s, name, int(value))
            except ValueError:
                raise ConfigError(f"{key} must be a whole number (got {value!r})") from None
        else:
            setattr(s, name, value)
    if s.seeds < 2:
        raise ConfigError(f"seeds = {s.seeds} is too few; a paired comparison needs at least 2")
    if s.greedy_seeds < 1 or s.n_jobs < 1 or s.years < 1:
        raise ConfigError("greedy_seeds, n_jobs and years must be >= 1")
    if min(s.seed_start, s.greedy_seed_start) < 0:
        raise ConfigError("seed_start and greedy_seed_start must be >= 0")
    overlap = set(range(s.seed_start, s.seed_start + s.seeds)) & set(
        range(s.greedy_seed_start, s.greedy_seed_start + s.greedy_seeds)
    )
    if overlap:
        raise ConfigError(
            "greedy_seed_start: the greedy search's seeds overlap the comparison's seeds; "
            "keep them apart so the greedy set is judged on fresh seeds"
        )
    if not s.run_name.replace("-", "").replace("_", "").isalnum():
        raise ConfigError(f"name = {s.run_name!r}: use letters, digits, '-' and '_' only")
    return s


def _network_overrides(staff: str, ties: str, schools: str) -> list[str]:
    return [f"network.staff={staff}", f"network.ties={ties}", f"network.schools={schools}"]


# --------------------------------------------------------------------------------------------
# Pseudonymised copies of the files
# --------------------------------------------------------------------------------------------


def _copy_network(s: Settings, folder: Path) -> dict[str, Path]:
    """Copy (or pseudonymise) the three files into ``folder``; return their paths."""
    with atomic_dir(folder) as tmp:
        if not s.pseudonymise:
            for key in ("staff", "ties", "schools"):
                shutil.copyfile(getattr(s, key), tmp / f"{key}.csv")
        else:
            read = {
                k: pd.read_csv(
                    getattr(s, k), dtype=str, keep_default_na=False, encoding="utf-8-sig"
                )
                for k in ("staff", "ties", "schools")
            }
            schools, staff, ties = read["schools"], read["staff"], read["ties"]
            school_key = {sid: f"S{k + 1}" for k, sid in enumerate(schools["id"])}
            person_key: dict[str, str] = {}
            for sid in schools["id"]:
                mine = staff.loc[staff["school"] == sid, "id"]
                for k, pid in enumerate(mine):
                    person_key[pid] = f"{school_key[sid]}-{k + 1:02d}"
            schools["id"] = schools["id"].map(school_key)
            staff["id"] = staff["id"].map(person_key)
            staff["school"] = staff["school"].map(school_key)
            ties["seeker"] = ties["seeker"].map(person_key)
            ties["adviser"] = ties["adviser"].map(person_key)
            for key, frame in read.items():
                frame.to_csv(tmp / f"{key}.csv", index=False)
            pd.DataFrame(
                [("school", a, b) for a, b in school_key.items()]
                + [("staff", a, b) for a, b in person_key.items()],
                columns=["kind", "original", "pseudonym"],
            ).to_csv(tmp / "pseudonyms.csv", index=False)
    return {k: folder / f"{k}.csv" for k in ("staff", "ties", "schools")}


# --------------------------------------------------------------------------------------------
# Candidate sets
# --------------------------------------------------------------------------------------------


def _first_slots(data: NetworkData) -> np.ndarray:
    return np.concatenate([[0], np.cumsum(data.size)[:-1]]).astype(np.int64)


def centralities(data: NetworkData) -> pd.DataFrame:
    """Per member of staff: school, role, in-degree and betweenness in the observed network."""
    import networkx as nx

    first = _first_slots(data)
    indeg = np.bincount(data.adviser, minlength=len(data.ids))
    between = np.zeros(len(data.ids))
    for s in range(data.n_schools):
        lo, hi = int(first[s]), int(first[s] + data.size[s])
        g = nx.DiGraph()
        g.add_nodes_from(range(lo, hi))
        mask = (data.seeker >= lo) & (data.seeker < hi)
        g.add_edges_from(zip(data.seeker[mask].tolist(), data.adviser[mask].tolist(), strict=True))
        for node, value in nx.betweenness_centrality(g, normalized=True).items():
            between[node] = value
    return pd.DataFrame(
        {
            "id": data.ids,
            "school": [data.school_ids[s] for s in data.school],
            "school_index": data.school,
            "role": [ROLE_LABELS[r] if r >= 0 else "(drawn)" for r in data.role],
            "in_degree": indeg,
            "betweenness": between,
            "answered": data.responded,
        }
    )


def _top(scores: np.ndarray, data: NetworkData, places: list[int]) -> list[str]:
    """In each school, the ``places[s]`` highest scores (ties: the first listed)."""
    first = _first_slots(data)
    chosen = []
    for s in range(data.n_schools):
        lo = int(first[s])
        local = scores[lo : lo + int(data.size[s])]
        top = np.argsort(-local, kind="stable")[: places[s]]
        chosen += [data.ids[lo + k] for k in sorted(top)]
    return chosen


def _model_choice(config: Config, policy: str, seed: int) -> list[str]:
    """Whom a model policy sends for a seed (it may depend on the seed: random, drawn roles)."""
    from sim.model import KnowledgeMobilisationModel
    from sim.network_import import staff_ids

    cfg = copy.deepcopy(config)
    cfg.selection.policy = policy
    cfg.seed = seed
    model = KnowledgeMobilisationModel(cfg)
    ids = staff_ids(cfg)
    return [ids[i] for i in np.flatnonzero(model.staff.participant)]


def candidate_sets(
    config: Config, data: NetworkData, greedy: list[str], seed: int
) -> dict[str, list[str]]:
    """Each policy's participants (model policies: as chosen for ``seed``)."""
    places = list(config.selection.per_school)
    cent = centralities(data)
    sets = {
        "in_degree": _top(cent["in_degree"].to_numpy(float), data, places),
        "betweenness": _top(cent["betweenness"].to_numpy(float), data, places),
        "greedy": greedy,
    }
    for policy in MODEL_POLICIES:
        sets[policy] = _model_choice(config, policy, seed)
    return sets


# --------------------------------------------------------------------------------------------
# Simulation-based greedy choice
# --------------------------------------------------------------------------------------------


def _school_spreads(config: Config, seeds: list[int]) -> np.ndarray:
    """Spread at the horizon per seed and school (non-participants adopting/embedded)."""
    from sim.model import KnowledgeMobilisationModel

    logging.getLogger("MESA").setLevel(logging.WARNING)
    spreads = []
    for seed in seeds:
        cfg = dataclasses.replace(config, seed=int(seed))
        model = KnowledgeMobilisationModel(cfg, validated=True).run()
        rec = model.record.totals()
        t = model.record.weeks_recorded - 1
        spreads.append(
            rec.spread_users[t] / np.maximum(model.schools.size - rec.participants[t], 1)
        )
    return np.asarray(spreads, float)


def greedy_participants(
    config: Config, seeds: list[int], n_jobs: int = 1
) -> tuple[list[str], pd.DataFrame]:
    """Greedy influence maximisation per school under ``selection.per_school`` places.

    At each step every school adds the member of staff whose addition gives the highest mean
    spread at the horizon over ``seeds`` (the same seeds for every candidate: paired); ties go to
    the first listed. Every school's candidates run together (schools do not interact in the
    model; tests/test_import.py checks it).

    Each step records the runner-up and the paired 95% t interval, over ``seeds``, of the
    chosen candidate's spread minus the runner-up's: ``near_tie`` is true when that interval
    reaches zero (which of the two was added is then close to chance) or, with one seed, cannot
    be computed.

    Returns:
        The chosen ids (school by school, in the order chosen) and a table of every step.

    """
    from joblib import Parallel, delayed

    from experiments.analysis import mean_interval
    from sim.network_import import staff_ids

    base = copy.deepcopy(config)
    base.selection.policy = "listed"
    ids = staff_ids(base)
    sizes = (np.asarray(base.schools.leaders) + np.asarray(base.schools.teachers)).astype(int)
    first = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    places = list(base.selection.per_school)
    chosen: list[list[int]] = [[] for _ in sizes]
    steps = []
    for step in range(max(places, default=0)):
        active = [s for s in range(len(sizes)) if step < places[s]]
        pools = {
            s: [int(first[s]) + k for k in range(sizes[s]) if int(first[s]) + k not in chosen[s]]
            for s in active
        }
        width = max(len(p) for p in pools.values())
        trials = []
        for c in range(width):
            picks = [list(chosen[s]) for s in range(len(sizes))]
            for s in active:
                picks[s].append(pools[s][c % len(pools[s])])
            cfg = copy.deepcopy(base)
            cfg.selection.participants = [ids[i] for p in picks for i in p]
            cfg.selection.per_school = [len(p) for p in picks]
            trials.append(cfg.validate())
        per_seed = Parallel(n_jobs=n_jobs)(delayed(_school_spreads)(cfg, seeds) for cfg in trials)
        per_seed = np.asarray(per_seed)  # candidates x seeds x schools
        for s in active:
            pool = pools[s]
            v = per_seed[: len(pool), :, s].mean(axis=1)
            # best first; means equal but for rounding are ties, and go to the first listed
            order = np.lexsort((np.arange(len(pool)), -np.round(v, 12)))
            best = int(order[0])
            chosen[s].append(pool[best])
            row = {
                "school_index": s,
                "step": step + 1,
                "id": ids[pool[best]],
                "expected_spread": float(v[best]),
                "runner_up_id": "",
                "runner_up_spread": float("nan"),
                "gap_ci_low": float("nan"),
                "gap_ci_high": float("nan"),
                "near_tie": False,
                "candidates": len(pool),
            }
            if len(pool) > 1:
                runner = int(order[1])
                gap = per_seed[best, :, s] - per_seed[runner, :, s]
                low, high = mean_interval(gap, "t")
                row.update(
                    runner_up_id=ids[pool[runner]],
                    runner_up_spread=float(v[runner]),
                    gap_ci_low=low,
                    gap_ci_high=high,
                    near_tie=not low > 0,  # NaN (one seed): cannot tell, a near-tie
                )
            steps.append(row)
    return [ids[i] for picks in chosen for i in picks], pd.DataFrame(steps)


# --------------------------------------------------------------------------------------------
# Maps and page
# --------------------------------------------------------------------------------------------


def draw_maps(
    data: NetworkData, cent: pd.DataFrame, sets: dict[str, list[str]], folder: Path
) -> dict[str, Path]:
    """One figure per school: its advice map, a panel per policy, chosen staff ringed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import networkx as nx

    first = _first_slots(data)
    out = {}
    policies = list(sets)
    for s, sid in enumerate(data.school_ids):
        lo, hi = int(first[s]), int(first[s] + data.size[s])
        g = nx.DiGraph()
        g.add_nodes_from(range(lo, hi))
        mask = (data.seeker >= lo) & (data.seeker < hi)
        g.add_edges_from(zip(data.seeker[mask].tolist(), data.adviser[mask].tolist(), strict=True))
        pos = nx.spring_layout(g.to_undirected(), seed=1, k=1.5 / np.sqrt(max(hi - lo, 1)))
        cols = 3
        rows = -(-len(policies) // cols)
        fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 4.0 * rows))
        axes = np.atleast_1d(axes).ravel()
        indeg = cent["in_degree"].to_numpy()
        for ax, policy in zip(axes, policies, strict=False):
            picked = set(sets[policy])
            nodes = list(range(lo, hi))
            # Plain lines (arrow patches are slow to draw); most advice ties are mutual.
            nx.draw_networkx_edges(g, pos, ax=ax, alpha=0.25, width=0.6, arrows=False)
            sizes = 80 + 40 * indeg[lo:hi]
            colours = ["#d95f02" if data.ids[i] in picked else "#bdbdbd" for i in nodes]
            shapes = {"s": [], "o": []}
            for k, i in enumerate(nodes):
                shapes["s" if data.role[i] == 0 else "o"].append(k)
            for shape, ks in shapes.items():
                if not ks:
                    continue
                nx.draw_networkx_nodes(
                    g,
                    pos,
                    nodelist=[nodes[k] for k in ks],
                    node_size=[sizes[k] for k in ks],
                    node_color=[colours[k] for k in ks],
                    node_shape=shape,
                    edgecolors=["black" if data.ids[nodes[k]] in picked else "none" for k in ks],
                    linewidths=1.5,
                    ax=ax,
                )
            labels = {i: data.ids[i] for i in nodes}
            nx.draw_networkx_labels(g, pos, labels=labels, font_size=6, ax=ax)
            ax.set_title(
                f"{policy}: " + ", ".join(x for x in sets[policy] if x in set(labels.values())),
                fontsize=8,
            )
            ax.axis("off")
        for ax in axes[len(policies) :]:
            ax.axis("off")
        fig.suptitle(
            f"{sid}: advice map (line: an advice tie; size: times named as adviser; square: "
            "senior leader; orange: sent)",
            fontsize=9,
        )
        fig.subplots_adjust(left=0.02, right=0.98, bottom=0.02, top=0.92, hspace=0.15, wspace=0.05)
        safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in sid)
        path = folder / f"map_{safe}.png"
        save_figure(fig, path)
        out[sid] = path
    return out


PAGE = """\
# Whom to send: {{ title }}

{{ n_schools }} schools, {{ n_staff }} staff. Each school sends {{ places }}.
Candidate sets were compared on {{ seeds }} paired seeds (every set runs the same seeds: common
random numbers), {{ years }} school years; the greedy search chose its set on
{{ greedy_seeds }} other seeds. Time taken: {{ minutes }} (greedy search {{ greedy_minutes }}).
{% if pseudonymised %}Staff and schools are pseudonymised; the key is in `network/pseudonyms.csv`.{% endif %}

## Expected spread by policy

Spread: the share of staff other than the participants who adopted or embedded the practice
after {{ years }} years (mean and 95% interval over seeds); the difference is paired, against
`{{ baseline }}` (the model's default: senior leaders plus opinion formers).

| policy | expected spread (95% CI) | difference vs {{ baseline }} (95% CI) | uptake (95% CI) |
|---|---|---|---|
{% for r in rows -%}
| {{ r.arm }} | {{ r.spread }} | {{ r.diff }} | {{ r.uptake }} |
{% endfor %}

{% for paragraph in ranking %}{{ paragraph }}

{% endfor %}The full paired comparison (every outcome, Wilcoxon tests, replications, figures) is in
[comparison/report.md](comparison/report.md).

## Who each policy sends

{% for school in schools -%}
### {{ school.name }}

![advice map of {{ school.name }}]({{ school.map }})

| policy | sends (role, times named as adviser, betweenness) |
|---|---|
{% for p in school.policies -%}
| {{ p.policy }} | {{ p.people }} |
{% endfor %}
{% if school.greedy %}Greedy steps: {% for g in school.greedy %}{{ g.id }} (expected school spread {{ "%.3f" | format(g.expected_spread) }}{% if g.runner_up_id %}, next best {{ g.runner_up_id }} {{ "%.3f" | format(g.runner_up_spread) }}{% if g.near_tie %}: not clearly ahead{% endif %}{% endif %}){% if not loop.last %}; {% endif %}{% endfor %}.{% endif %}

{% endfor -%}
`random` varies with the seed (shown: seed {{ seed_start }}); model policies that draw
unknown roles may too. In-degree and betweenness are computed on the ties in the file.

## How the sets were made

- **in_degree**: the staff most often named as advisers (opinion formers, Brown & Flood's
  New Forest case study); **betweenness**: the staff on most shortest advice paths (networkx).
- **mixed, opinion_formers, senior_leaders, middle_leaders, early_career, random**: the model's
  own selection policies (docs/ODD.md).
- **greedy**: influence maximisation by simulation (Kempe, Kleinberg & Tardos 2003): staff are
  added one at a time, each time the one whose addition most raises the school's mean spread over
  the greedy seeds. It is a heuristic: with {{ greedy_seeds }} seeds, close candidates may swap.

{{ network }}
"""


#: What each policy sends, in a few words (the ranking text names the rules it compares).
POLICY_WORDS = {
    "in_degree": "the staff most often named as advisers",
    "betweenness": "the staff on most shortest advice paths",
    "greedy": "the set the greedy simulation search chose",
    "mixed": "senior leaders plus opinion formers",
    "opinion_formers": "opinion formers first, then the most consulted teachers",
    "senior_leaders": "senior leaders",
    "middle_leaders": "middle leaders",
    "early_career": "early-career teachers",
    "random": "staff drawn at random",
}
#: Rules that choose by searching over simulations rather than by a simple rule.
OPTIMISED = ("greedy",)


def _signed(x: float) -> str:
    """``+0.012``; a nonzero value that would print as 0.000 gets the digits that show its sign."""
    for decimals in (3, 4, 5, 6):
        text = f"{x:+.{decimals}f}"
        if x == 0 or float(text) != 0:
            return text
    return f"{x:+.1e}"


def _ci(low: float, high: float) -> str:
    if not np.isfinite([low, high]).all():
        return "no CI"
    return f"95% CI {_signed(low)} to {_signed(high)}"


def _gap_words(row: pd.Series, minuend: str, subtrahend: str) -> str:
    """``+0.010 (95% CI ...)`` for minuend minus subtrahend from a paired row."""
    return (
        f"`{minuend}` minus `{subtrahend}` {_signed(row['mean_diff'])} "
        f"({_ci(row['ci_low'], row['ci_high'])})"
    )


def _clear(row: pd.Series) -> bool:
    """Whether the paired 95% CI excludes zero."""
    return bool(np.isfinite(row["ci_low"]) and (row["ci_low"] > 0 or row["ci_high"] < 0))


def _names(arms: list[str], words: bool = False) -> str:
    """```a`, `b` and `c``, each followed by what it sends with ``words``."""
    items = [f"`{a}`" + (f" ({POLICY_WORDS.get(a, a)})" if words else "") for a in arms]
    return ", ".join(items[:-1]) + " and " + items[-1] if len(items) > 1 else "".join(items)


def ranking_text(
    table: pd.DataFrame, runs: pd.DataFrame, steps: pd.DataFrame, greedy_seeds: int
) -> list[str]:
    """The ranking the table shows, in words: paragraphs written from the results.

    Says which policy ranks first and which the seeds cannot tell apart from it (paired
    differences against the first, same seeds, 95% t interval); then, for every optimised rule
    (:data:`OPTIMISED`) that does not rank first, which simpler rules rank above it, by how
    much (paired difference and its 95% CI) and why its choice can fall short: its steps whose
    pick was not clearly ahead of the runner-up (``steps.near_tie``), its one-at-a-time
    choice, and the few seeds it chose on.

    Args:
        table: The policy table, best expected spread first (``arm``, ``spread_mean``).
        runs: The comparison's runs (``arm``, ``seed``, ``spread_final``).
        steps: The greedy search's steps (:func:`greedy_participants`).
        greedy_seeds: The seeds the greedy search chose on.

    """
    from experiments.analysis import paired_table

    order = list(table["arm"])
    n_seeds = int(runs["seed"].nunique())
    means = dict(zip(table["arm"], table["spread_mean"], strict=True))
    paragraphs = [
        "Ranked by expected spread, highest first: "
        + ", ".join(f"`{a}` {means[a]:.3f}" for a in order)
        + "."
    ]
    top = order[0]
    vs_top = paired_table(runs, baseline=top, outcomes=["spread_final"]).set_index("arm")
    behind = [a for a in order[1:] if a in vs_top.index]
    clear = [a for a in behind if _clear(vs_top.loc[a])]
    level = [a for a in behind if a not in clear]
    text = f"`{top}` ({POLICY_WORDS.get(top, top)}) ranks first."
    if level:
        text += (
            f" On these {n_seeds} paired seeds the data cannot tell {_names(level)} apart from "
            f"it (the 95% CI of {'each' if len(level) > 1 else 'the'} paired difference "
            "includes zero: "
            + "; ".join(_gap_words(vs_top.loc[a], a, top) for a in level)
            + f"), so the order {'among' if len(level) > 1 else 'between'} them may be chance."
        )
    if clear:
        text += (
            f" {_names(clear)} did clearly worse than `{top}` (95% CI excludes zero: "
            + "; ".join(_gap_words(vs_top.loc[a], a, top) for a in clear)
            + ")."
        )
    paragraphs.append(text)
    for rule in (r for r in OPTIMISED if r in order and r != top):
        rank = order.index(rule) + 1
        above = order[: rank - 1]
        vs_rule = paired_table(runs, baseline=rule, outcomes=["spread_final"]).set_index("arm")
        gaps = [
            f"`{a}` {_signed(vs_rule.loc[a, 'mean_diff'])} "
            f"({_ci(vs_rule.loc[a, 'ci_low'], vs_rule.loc[a, 'ci_high'])})"
            for a in above
            if a in vs_rule.index
        ]
        text = (
            f"The optimised rule `{rule}` ({POLICY_WORDS.get(rule, rule)}) ranks "
            f"{ordinal(rank)} of {len(order)}, below "
            + (f"{len(above)} simpler rules: " if len(above) > 1 else "the simpler rule ")
            + _names(above, words=True)
            + f". Each minus `{rule}`, paired on the same seeds: "
            + "; ".join(gaps)
            + "."
        )
        clear_above = [a for a in above if a in vs_rule.index and _clear(vs_rule.loc[a])]
        if clear_above:
            text += f" The gap is statistically clear for {_names(clear_above)}."
        else:
            text += " Every one of these intervals includes zero: the gap may be chance."
        text += " " + _greedy_why(steps, greedy_seeds, n_seeds)
        paragraphs.append(text)
    return paragraphs


def _greedy_why(steps: pd.DataFrame, greedy_seeds: int, n_seeds: int) -> str:
    """Why the greedy set can fall short, from its own steps."""
    seeds = counted(greedy_seeds, "seed")
    why = (
        f"Why: the greedy search adds one member of staff at a time, each time the candidate "
        f"with the highest mean spread over its own {seeds}, not the {n_seeds} compared here. "
        "That is not an optimum: a pick that looks best on a few seeds may not be on fresh "
        "ones, and adding one person at a time can miss the best set."
    )
    contested = steps[steps["runner_up_id"].astype(str) != ""] if len(steps) else steps
    if len(contested):
        ties = contested[contested["near_tie"].astype(bool)]
        exact = int(
            np.isclose(
                contested["expected_spread"], contested["runner_up_spread"], rtol=0, atol=1e-12
            ).sum()
        )
        if len(ties):
            if len(contested) == 1:
                share = "its only step"
            elif len(ties) == len(contested):
                share = f"all {len(ties)} of its steps"
            else:
                share = f"{len(ties)} of its {len(contested)} steps"
            why += (
                f" In {share} the pick was not clearly ahead "
                f"of the runner-up (the paired 95% CI of their difference over the {seeds} "
                "includes zero"
                + (
                    f"; in {exact} the two were exactly tied and the first listed was taken"
                    if exact
                    else ""
                )
                + "): those picks were close to chance among near-equals. More `greedy_seeds` "
                "would make each step surer."
            )
        else:
            why += (
                f" Every pick ({counted(len(contested), 'step')}) was clearly ahead of the "
                f"runner-up on its {seeds}, so the shortfall comes from choosing one at a time "
                "on those seeds, not from near-ties."
            )
    return why


def _fmt(mean: float, lo: float, hi: float, sign: bool = False) -> str:
    f = "{:+.3f}" if sign else "{:.3f}"
    return f"{f.format(mean)} ({f.format(lo)} to {f.format(hi)})"


def write_page(
    folder: Path,
    s: Settings,
    config: Config,
    data: NetworkData,
    cent: pd.DataFrame,
    sets: dict[str, list[str]],
    greedy: pd.DataFrame,
    maps: dict[str, Path],
    comparison: Path,
    times: dict[str, float],
) -> tuple[Path, pd.DataFrame]:
    """Write ``whom_to_send.md``; return its path and the policy table."""
    from jinja2 import Environment

    summary = pd.read_csv(comparison / "summary.csv")
    paired = pd.read_csv(comparison / "paired.csv")
    baseline = "mixed"
    table = []
    for arm in sets:
        sp = summary[(summary.arm == arm) & (summary.outcome == "spread_final")].iloc[0]
        up = summary[(summary.arm == arm) & (summary.outcome == "uptake_final")].iloc[0]
        d = paired[(paired.arm == arm) & (paired.outcome == "spread_final")]
        table.append(
            {
                "arm": arm,
                "spread_mean": sp["mean"],
                "spread_low": sp["ci_low"],
                "spread_high": sp["ci_high"],
                "diff_mean": d["mean_diff"].iloc[0] if len(d) else 0.0,
                "diff_low": d["ci_low"].iloc[0] if len(d) else 0.0,
                "diff_high": d["ci_high"].iloc[0] if len(d) else 0.0,
                "uptake_mean": up["mean"],
                "uptake_low": up["ci_low"],
                "uptake_high": up["ci_high"],
            }
        )
    table = pd.DataFrame(table).sort_values("spread_mean", ascending=False, kind="stable")
    rows = [
        {
            "arm": r.arm,
            "spread": _fmt(r.spread_mean, r.spread_low, r.spread_high),
            "diff": "(baseline)"
            if r.arm == baseline
            else _fmt(r.diff_mean, r.diff_low, r.diff_high, sign=True),
            "uptake": _fmt(r.uptake_mean, r.uptake_low, r.uptake_high),
        }
        for r in table.itertuples()
    ]
    info = cent.set_index("id")
    schools = []
    for sidx, sid in enumerate(data.school_ids):
        mine = set(cent.loc[cent.school_index == sidx, "id"])
        policies = []
        for policy, chosen in sets.items():
            people = [
                f"{pid} ({info.at[pid, 'role']}, {info.at[pid, 'in_degree']}, "
                f"{info.at[pid, 'betweenness']:.2f})"
                for pid in chosen
                if pid in mine
            ]
            policies.append({"policy": policy, "people": "; ".join(people) or "(nobody)"})
        steps = greedy[greedy.school_index == sidx].to_dict("records") if len(greedy) else []
        schools.append({"name": sid, "map": maps[sid].name, "policies": policies, "greedy": steps})
    places = ", ".join(
        f"{sid} {k}" for sid, k in zip(data.school_ids, config.selection.per_school, strict=True)
    )
    network = describe(config).replace("# Imported network", "## The network read")
    text = (
        Environment(autoescape=False, keep_trailing_newline=True)
        .from_string(PAGE)
        .render(
            title=s.run_name,
            n_schools=data.n_schools,
            n_staff=len(data.ids),
            places=places,
            seeds=s.seeds,
            years=s.years,
            greedy_seeds=s.greedy_seeds,
            minutes=f"{times['total'] / 60:.1f} min",
            greedy_minutes=f"{times['greedy'] / 60:.1f} min",
            pseudonymised=s.pseudonymise,
            baseline=baseline,
            rows=rows,
            ranking=ranking_text(
                table, pd.read_parquet(comparison / "runs.parquet"), greedy, s.greedy_seeds
            ),
            schools=schools,
            seed_start=s.seed_start,
            network=network,
        )
    )
    path = write_text_atomic(folder / "whom_to_send.md", text)
    return path, table


# --------------------------------------------------------------------------------------------
# The study
# --------------------------------------------------------------------------------------------


def _check_same_code(out: Path) -> None:
    """Refuse a study folder whose runs were made by other code or package versions.

    The comparison would refuse them too, but only after the greedy search had run and rewritten
    ``greedy.csv`` and ``candidates.csv``: checked first, nothing in the folder changes.
    """
    from experiments.ledger import Ledger, code_identity, differences, package_versions

    now = {"code": code_identity(), "packages": package_versions()}
    for cell in sorted(p.parent for p in (out / "comparison").rglob("batches") if p.is_dir()):
        for info in Ledger(cell).scan():
            if info.record is None:
                continue
            # the configuration may change with the greedy picks: compare code and packages only
            same_config = {k: info.record.get(k) for k in ("config_sha256", "config")}
            same_files = {"network_files": info.record.get("network_files")}
            diff = differences(info.record, {**now, **same_config, **same_files})
            if diff:
                raise ConfigError(
                    f"{out} holds runs made with a different {'; '.join(diff)}; choose another "
                    "name= to keep both"
                )


def run(s: Settings, progress: bool = True, figures: bool = True) -> tuple[Path, pd.DataFrame]:
    """Run a whom-to-send study; return its folder and the policy table."""
    from experiments.compare import run_comparison
    from experiments.settings import CompareSettings, ExecutorSettings, NetworkFiles, validate
    from sim.network_import import staff_ids

    t0 = time.perf_counter()
    # Check the files and the model overrides before anything is written.
    build_config(
        s.scenario,
        overrides=[*_network_overrides(s.staff, s.ties, s.schools), *s.model_overrides],
    )
    base_out = Path(s.out_dir)
    out = (base_out if base_out.is_absolute() else ROOT / base_out) / s.run_name
    settings_text = json.dumps(dataclasses.asdict(s), indent=2, sort_keys=True) + "\n"
    if out.exists():
        previous = out / "settings.json"
        if not previous.exists() or previous.read_text() != settings_text:
            raise ConfigError(f"{out} holds another study; choose another name=")
        _check_same_code(out)  # before the greedy search rewrites anything
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        with atomic_dir(out) as tmp:
            _copy_network(s, tmp / "network")
            (tmp / "settings.json").write_text(settings_text)
    files = {k: out / "network" / f"{k}.csv" for k in ("staff", "ties", "schools")}
    net_over = _network_overrides(*(str(files[k]) for k in ("staff", "ties", "schools")))
    config = build_config(
        s.scenario, seed=s.seed_start, overrides=[*net_over, *s.model_overrides, f"years={s.years}"]
    )
    data = read_network(files["staff"], files["ties"], files["schools"])

    t1 = time.perf_counter()
    greedy_seeds = list(range(s.greedy_seed_start, s.greedy_seed_start + s.greedy_seeds))
    greedy, steps = greedy_participants(config, greedy_seeds, n_jobs=s.n_jobs)
    t_greedy = time.perf_counter() - t1
    steps.insert(1, "school", [data.school_ids[i] for i in steps["school_index"]])
    with atomic_path(out / "greedy.csv") as tmp:
        steps.to_csv(tmp, index=False)

    sets = candidate_sets(config, data, greedy, s.seed_start)
    cent = centralities(data)
    rows = [
        {"policy": policy, **cent.set_index("id").loc[pid].to_dict(), "id": pid}
        for policy, chosen in sets.items()
        for pid in chosen
    ]
    with atomic_path(out / "candidates.csv") as tmp:
        pd.DataFrame(rows).to_csv(tmp, index=False)

    ids = set(staff_ids(config))
    assert all(p in ids for chosen in sets.values() for p in chosen)

    def listed(chosen: list[str]) -> list[str]:
        quoted = ",".join("'" + p.replace("\\", "\\\\").replace("'", "\\'") + "'" for p in chosen)
        return ["selection.policy=listed", f"selection.participants=[{quoted}]"]

    arm_overrides = {"mixed": [*s.model_overrides, "selection=mixed"]}
    for policy in sets:
        if policy in NETWORK_POLICIES:
            arm_overrides[policy] = [*s.model_overrides, *listed(sets[policy])]
        elif policy != "mixed":
            arm_overrides[policy] = [*s.model_overrides, f"selection={policy}"]
    cs = CompareSettings(
        experiment="whom_to_send",
        name="comparison",
        scenario=s.scenario,
        years=s.years,
        seeds=s.seeds,
        seed_start=s.seed_start,
        baseline="mixed",
        arms=list(arm_overrides),
        arm_overrides=arm_overrides,
        executor=ExecutorSettings(n_jobs=s.n_jobs),
        network=NetworkFiles(**{k: str(v) for k, v in files.items()}),
        out_dir=str(out),
        allow_outside_results=True,  # the study's own folder (under results/ by default)
    )
    comparison = run_comparison(validate(cs), progress=progress, figures=figures)
    maps = draw_maps(data, cent, sets, out)
    times = {"total": time.perf_counter() - t0, "greedy": t_greedy}
    _, table = write_page(out, s, config, data, cent, sets, steps, maps, comparison, times)
    return out, table


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    argv = sys.argv[1:] if argv is None else argv
    if any(a in ("-h", "--help") for a in argv):
        print(__doc__)
        return 0
    quiet = "--quiet" in argv
    argv = [a for a in argv if a != "--quiet"]
    logging.getLogger("MESA").setLevel(logging.WARNING)
    t0 = time.perf_counter()
    try:
        s = parse(argv)
        out, table = run(s, progress=not quiet)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"expected spread after {s.years} years over {s.seeds} paired seeds (95% CI):")
    for r in table.itertuples():
        print(f"  {r.arm:16s} {_fmt(r.spread_mean, r.spread_low, r.spread_high)}")
    print(f"took {time.perf_counter() - t0:.0f} s; page: {out / 'whom_to_send.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
