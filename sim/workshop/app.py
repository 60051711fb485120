"""The workshop page: leadership choices playing out live, in a browser (``make workshop``).

Run with ``solara run sim/workshop/app.py --host 127.0.0.1 --production``. Every browser
session gets its own :class:`~sim.workshop.session.WorkshopSession` (created inside the page
component, never at module level), so people in a room do not share a model.
"""

from __future__ import annotations

import threading
import time

import matplotlib.pyplot as plt
import solara

from sim.workshop.drawing import curves_figure, layout, network_figure
from sim.workshop.session import CHOICES, Controls, WorkshopSession

HELP = {
    "strategy": "How the school brings the practice home: launch it to the whole staff, start "
    "small with a pilot of trusted colleagues, only pass on materials, or do nothing "
    "(seeds/000_ff09143ac4248e5f.txt: 'start small and wait before sharing').",
    "mode": "Champions model the practice and encourage colleagues; learning conversations "
    "let staff test and refine it together (seeds/003_7297bad29f23f221.txt).",
    "selection": "Whom the school sends to the network. Opinion formers are the colleagues "
    "others turn to for advice; seeds/001_f872ae0e4622794d.txt warns against sending NQTs.",
    "formalise": "Put the work in the improvement plan, in performance targets, and in front of "
    "governors; a priority among many is no priority (seeds/000_ff09143ac4248e5f.txt, "
    "seeds/003_7297bad29f23f221.txt).",
    "time": "Release participants for workshops, give everyone collaboration time and hold "
    "sessions; time is necessary but not sufficient (seeds/002_72c1f6ea1a7e747c.txt).",
    "distributed": "Let participants lead; without it, leaders take control back after a "
    "visible failure (seeds/003_7297bad29f23f221.txt: leaders 'without ego').",
    "involvement": "Stay involved: check-ins and reminders keep the work from going 'out of "
    "sight' (seeds/001_f872ae0e4622794d.txt).",
    "howto": "Model and explain the practice to staff who did not attend "
    "(seeds/000_ff09143ac4248e5f.txt: 'how to' support).",
    "trust": "Trust makes risk-taking safe; with low trust a whole-staff launch breeds "
    "resistance (seeds/000_ff09143ac4248e5f.txt, seeds/004_85cdeec7aa4b569d.txt).",
}


def Heading(text: str):
    """A section heading.

    Plain text: Markdown would fetch KaTeX from a CDN, and the page must work offline.
    """
    return solara.Text(text, style={"font-weight": "bold", "margin-top": "8px"})


def Explain(key: str):
    """A short plain-language explanation beside a control."""
    return solara.Text(HELP[key], style={"font-size": "12px", "color": "#555"})


@solara.component
def SideControls(label: str, side: str, controls: Controls, set_controls):
    """Strategy, mode and selection of one side."""
    current = getattr(controls, side)

    def change(name):
        return lambda value: set_controls(controls.with_values(**{f"{side}_{name}": value}))

    solara.Select(
        label=f"{label}strategy",
        values=list(CHOICES["strategy"]),
        value=current.strategy,
        on_value=change("strategy"),
    )
    solara.Select(
        label=f"{label}mode",
        values=list(CHOICES["mode"]),
        value=current.mode,
        on_value=change("mode"),
    )
    solara.Select(
        label=f"{label}whom to send",
        values=list(CHOICES["selection"]),
        value=current.selection,
        on_value=change("selection"),
    )


@solara.component
def ControlPanel(controls: Controls, set_controls):
    """Every lever, with its explanation."""

    def set_(name):
        return lambda value: set_controls(controls.with_values(**{name: value}))

    solara.Select(
        label="scenario",
        values=list(CHOICES["scenario"]),
        value=controls.scenario,
        on_value=set_("scenario"),
    )
    solara.InputInt(label="seed", value=controls.seed, on_value=set_("seed"))
    solara.Switch(
        label="side by side (two choices, same seed)",
        value=controls.side_by_side,
        on_value=set_("side_by_side"),
    )
    SideControls("A: " if controls.side_by_side else "", "a", controls, set_controls)
    Explain("strategy")
    Explain("mode")
    Explain("selection")
    if controls.side_by_side:
        SideControls("B: ", "b", controls, set_controls)
    Heading("Formalise")
    solara.Switch(
        label="in the improvement plan",
        value=controls.in_improvement_plan,
        on_value=set_("in_improvement_plan"),
    )
    solara.Switch(
        label="in performance targets",
        value=controls.in_performance_targets,
        on_value=set_("in_performance_targets"),
    )
    solara.Switch(
        label="governors engaged",
        value=controls.governors_engaged,
        on_value=set_("governors_engaged"),
    )
    solara.SliderInt(
        label="plan priorities",
        value=controls.plan_priorities,
        min=1,
        max=8,
        on_value=set_("plan_priorities"),
    )
    Explain("formalise")
    Heading("Time")
    solara.Switch(
        label="release for workshops",
        value=controls.release_for_workshops,
        on_value=set_("release_for_workshops"),
    )
    solara.SliderFloat(
        label="collaboration hours a week",
        value=controls.collab_hours_per_week,
        min=0.0,
        max=2.0,
        step=0.25,
        on_value=set_("collab_hours_per_week"),
    )
    solara.Select(
        label="session frequency",
        values=list(CHOICES["session_frequency"]),
        value=controls.session_frequency,
        on_value=set_("session_frequency"),
    )
    Explain("time")
    Heading("Lead")
    solara.SliderFloat(
        label="distributed leadership",
        value=controls.distributed_leadership,
        min=0.0,
        max=1.0,
        step=0.1,
        on_value=set_("distributed_leadership"),
    )
    Explain("distributed")
    solara.SliderFloat(
        label="leader involvement",
        value=controls.involvement,
        min=0.0,
        max=1.0,
        step=0.1,
        on_value=set_("involvement"),
    )
    Explain("involvement")
    solara.SliderFloat(
        label="how-to support",
        value=controls.howto_support,
        min=0.0,
        max=1.0,
        step=0.1,
        on_value=set_("howto_support"),
    )
    Explain("howto")
    solara.SliderFloat(
        label="trust climate",
        value=controls.trust_climate,
        min=0.05,
        max=0.95,
        step=0.05,
        on_value=set_("trust_climate"),
    )
    Explain("trust")


@solara.component
def MonitorRow(session: WorkshopSession, side: int, label: str, tick: int):
    """Uptake, spread, pupils reached, teacher-hours, resistant staff, week and term.

    ``tick`` changes after every step, so the row is redrawn (the session object is the same).
    """
    m = session.monitors(side)
    with solara.Row(style={"flex-wrap": "wrap", "gap": "12px"}):
        solara.Text(f"{label}uptake {m.uptake_pct:.1f}%", classes=["monitor-uptake"])
        solara.Text(f"spread {m.spread_pct:.1f}%")
        solara.Text(f"pupils reached {m.pupils_reached:.0f}")
        solara.Text(f"teacher-hours {m.teacher_hours:.0f}")
        solara.Text(f"resistant {m.resistant}")
        solara.Text(m.when, classes=["monitor-week"])


@solara.component
def Page():
    """The page: controls on the left, pictures and monitors on the right."""
    session = solara.use_memo(WorkshopSession, dependencies=[])  # one per browser session
    controls, set_controls = solara.use_state(session.controls)
    tick, set_tick = solara.use_state(0)
    running, set_running = solara.use_state(False)
    speed, set_speed = solara.use_state(5)
    positions = solara.use_memo(
        lambda: [layout(m) for m in session.models], dependencies=[id(session.models)]
    )

    def refresh():
        set_tick(lambda t: t + 1)

    def do_setup():
        set_running(False)
        session.setup(controls)
        refresh()

    def do_step():
        session.step()
        refresh()

    def run_loop(cancel: threading.Event):
        # Never step faster than the page can draw: wait for the week just stepped to be drawn,
        # so updates never pile up (and a Pause click is handled at once).
        while running and not cancel.is_set() and session.running_possible:
            session.drawn.clear()
            session.step()
            refresh()
            session.drawn.wait(timeout=10)
            time.sleep(1.0 / speed)
        if running and not cancel.is_set():
            set_running(False)

    solara.use_thread(run_loop, dependencies=[running, speed])

    solara.Title("PLN workshop: leadership choices")
    with solara.Sidebar():
        with solara.Row():
            solara.Button("Set up", on_click=do_setup, color="primary")
            solara.Button("Step", on_click=do_step, disabled=running or bool(session.error))
            solara.Button(
                "Pause" if running else "Run",
                on_click=lambda: set_running(not running),
                disabled=bool(session.error),
            )
            solara.Button("Reset", on_click=do_setup)
        solara.SliderInt(
            label="speed (weeks a second)", value=speed, min=1, max=20, on_value=set_speed
        )
        ControlPanel(controls, set_controls)

    if session.error:
        solara.Error(f"These choices do not make a valid model: {session.error}")
        session.drawn.set()
        return
    if controls != session.controls:
        solara.Info("Controls changed: press Set up or Reset to apply them.")
    labels = ["A", "B"] if len(session.models) == 2 else [""]
    side_names = [
        f"{lab}{': ' if lab else ''}{side.strategy}, {side.mode}, {side.selection}"
        for lab, side in zip(labels, (session.controls.a, session.controls.b), strict=False)
    ]
    for i, name in enumerate(side_names):
        MonitorRow(session, i, f"{name} · ", tick)
    gap = session.gap()
    if gap is not None:
        solara.Text(f"gap (B - A): {gap:+.1f} points of uptake", classes=["monitor-gap"])
    started = time.perf_counter()
    with solara.Columns([1] * len(session.models)):
        for i, model in enumerate(session.models):
            fig = network_figure(model, positions[i], f"Staff network, {side_names[i]}")
            solara.FigureMatplotlib(fig, format="png")
            plt.close(fig)
    fig = curves_figure(
        [session.uptake_series(i) for i in range(len(session.models))],
        [session.stage_shares(i) for i in range(len(session.models))],
        side_names,
        session.models[0].horizon_weeks,
    )
    solara.FigureMatplotlib(fig, format="png")
    plt.close(fig)
    session.render_seconds = time.perf_counter() - started
    session.drawn.set()
