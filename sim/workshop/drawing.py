"""Matplotlib pictures for the workshop page: the staff network by school, and the curves."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.collections import LineCollection  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402

from sim.model import KnowledgeMobilisationModel  # noqa: E402
from sim.palette import STAGE_COLOURS  # noqa: E402
from sim.population import STAGE_NAMES, Role  # noqa: E402
from sim.processes.calendar import WEEKS_PER_YEAR  # noqa: E402

__all__ = ["STAGE_COLOURS", "layout", "network_figure", "curves_figure"]


def layout(model: KnowledgeMobilisationModel) -> np.ndarray:
    """Node positions: schools on a grid, each school's staff on a circle, teams together."""
    sch = model.schools
    cols = math.ceil(math.sqrt(sch.n))
    pos = np.zeros((model.staff.n, 2))
    for s in range(sch.n):
        cx, cy = (s % cols) * 3.0, -(s // cols) * 3.0
        n = int(sch.size[s])
        angle = 2 * math.pi * np.arange(n) / n
        radius = 0.35 + 0.09 * math.sqrt(n)
        lo = int(sch.first_slot[s])
        pos[lo : lo + n, 0] = cx + radius * np.cos(angle)
        pos[lo : lo + n, 1] = cy + radius * np.sin(angle)
    return pos


def network_figure(model: KnowledgeMobilisationModel, pos: np.ndarray, title: str) -> Figure:
    """The staff network drawn by school, coloured by stage.

    Squares are senior leaders, triangles opinion formers, circles other teachers; a thick black
    ring marks PLN participants, a red cross resistant staff.
    """
    staff, ties = model.staff, model.ties
    fig, ax = plt.subplots(figsize=(6.4, 5.0), dpi=90)
    segments = np.stack([pos[ties.seeker], pos[ties.adviser]], axis=1)
    ax.add_collection(LineCollection(segments, colors="#bdbdbd", linewidths=0.4, alpha=0.5))
    colours = np.array([STAGE_COLOURS[STAGE_NAMES[s]] for s in staff.stage])
    leader = staff.role == Role.SENIOR_LEADER
    former = staff.opinion_former
    shapes = (("s", leader), ("^", former & ~leader), ("o", ~leader & ~former))
    for marker, mask in shapes:
        part = mask & staff.participant
        rest = mask & ~staff.participant
        for sub, edge, width in ((rest, "#737373", 0.5), (part, "black", 2.0)):
            if sub.any():
                ax.scatter(
                    pos[sub, 0],
                    pos[sub, 1],
                    s=60,
                    c=colours[sub],
                    marker=marker,
                    edgecolors=edge,
                    linewidths=width,
                    zorder=3,
                )
    if staff.resistant.any():
        r = staff.resistant
        ax.scatter(pos[r, 0], pos[r, 1], s=90, marker="x", c="#a50f15", linewidths=1.8, zorder=4)
    sch = model.schools
    cols = math.ceil(math.sqrt(sch.n))
    for s in range(sch.n):
        ax.text(
            (s % cols) * 3.0,
            -(s // cols) * 3.0,
            f"School {s + 1}",
            ha="center",
            va="center",
            fontsize=7,
            color="#525252",
        )
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(title, fontsize=10)
    handles = [
        Line2D([], [], marker="o", ls="", color=c, label=n) for n, c in STAGE_COLOURS.items()
    ]
    handles += [
        Line2D([], [], marker="s", ls="", mfc="white", mec="#737373", label="senior leader"),
        Line2D([], [], marker="^", ls="", mfc="white", mec="#737373", label="opinion former"),
        Line2D([], [], marker="o", ls="", mfc="white", mec="black", mew=2, label="PLN participant"),
        Line2D([], [], marker="x", ls="", color="#a50f15", label="resistant"),
    ]
    ax.legend(
        handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=7, frameon=False
    )
    fig.subplots_adjust(left=0.01, right=0.78, top=0.93, bottom=0.01)
    return fig


def curves_figure(
    uptake: list[np.ndarray], shares: list[np.ndarray], labels: list[str], horizon: int
) -> Figure:
    """Uptake over time for each side (with the gap shaded) and each side's stage composition."""
    n_sides = len(uptake)
    fig, axes = plt.subplots(1, 1 + n_sides, figsize=(4.2 * (1 + n_sides), 3.0), dpi=90)
    ax = axes[0]
    colours = ("#2c7fb8", "#d95f0e")
    for series, label, colour in zip(uptake, labels, colours, strict=False):
        ax.plot(np.arange(1, len(series) + 1), 100 * series, color=colour, lw=2, label=label)
    if n_sides == 2 and len(uptake[0]) and len(uptake[1]):
        w = np.arange(1, len(uptake[0]) + 1)
        ax.fill_between(
            w, 100 * uptake[0], 100 * uptake[1], color="#fdd49e", alpha=0.6, label="gap"
        )
    for year in range(WEEKS_PER_YEAR, horizon, WEEKS_PER_YEAR):
        ax.axvline(year, color="#bdbdbd", lw=0.8, ls=":")
    ax.set_xlim(0, horizon)
    ax.set_ylim(0, 100)
    ax.set_xlabel("teaching week")
    ax.set_ylabel("uptake (% of staff)")
    ax.set_title("Uptake over time", fontsize=10)
    ax.legend(fontsize=7, loc="upper left")
    for ax, share, label in zip(axes[1:], shares, labels, strict=False):
        if len(share):
            w = np.arange(1, len(share) + 1)
            order = [0, 1, 2, 6, 3, 4, 5]  # unaware, aware, interested, lapsed, trial, adopt, embed
            ax.stackplot(
                w,
                *(100 * share[:, i] for i in order[::-1]),
                colors=[STAGE_COLOURS[STAGE_NAMES[i]] for i in order[::-1]],
            )
        ax.set_xlim(0, horizon)
        ax.set_ylim(0, 100)
        ax.set_xlabel("teaching week")
        ax.set_title(f"Stages: {label}", fontsize=10)
    fig.subplots_adjust(left=0.09, right=0.98, bottom=0.17, top=0.89, wspace=0.3)
    return fig
