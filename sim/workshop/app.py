"""The workshop page: leadership choices playing out live, in a browser (``make workshop``).

Run with ``solara run sim/workshop/app.py --host 127.0.0.1 --production``. Every browser
session gets its own :class:`~sim.workshop.session.WorkshopSession` (created inside the page
component, never at module level), so people in a room do not share a model.

How Run works: no thread steps the model. The pictures component (``pictures.vue``) tells the
server when it has put a frame on screen; only then, after the delay the speed asks for, does
the server step the next week(s) (:class:`Runner`). A closed tab sends nothing more, so its run
stops; pressing Pause stops the next step; nothing outlives the browser session.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Callable
from typing import Any

import solara
import solara.server.settings

from sim.config import ConfigError
from sim.outcome_registry import for_series
from sim.workshop import debrief, svg
from sim.workshop.levers import LEVER_GROUPS, LEVERS, format_value, lever
from sim.workshop.many import DEFAULT_SEEDS, Band, run_band
from sim.workshop.session import CHOICES, Controls, WorkshopSession
from sim.workshop.stories import STORIES, narrate, story
from sim.workshop.words import (
    INFO_SECTIONS,
    OPTION_HELP,
    SOURCES,
    option_name,
)

# The "This website runs on Solara" banner covered the stages plot.
solara.server.settings.theme.show_banner = False

#: Speeds offered: (name, milliseconds to wait after a frame is on screen, weeks per frame).
SPEEDS: tuple[tuple[str, int, int], ...] = (
    ("1 week a second", 1000, 1),
    ("2 weeks a second", 500, 1),
    ("5 weeks a second", 200, 1),
    ("As fast as it draws", 0, 1),
    ("A month per picture", 0, 4),
)
DEFAULT_SPEED = 3

CSS = """
.workshop { font-size: 16px; color: #111; }
.workshop .controls { flex: 0 0 400px; max-width: 400px; padding: 8px 14px; background: #f6f6f6;
  border-right: 1px solid #ddd; overflow-y: auto; max-height: 100vh; }
.workshop .main { flex: 1 1 auto; min-width: 0; padding: 8px 16px; }
.workshop .v-input--switch label, .workshop .v-label { color: #111 !important; }
.workshop .explain { font-size: 15px; color: #222; line-height: 1.35; margin: 0 0 10px 0; }
.workshop .group-heading { font-weight: bold; font-size: 18px; margin: 14px 0 2px 0; }
.workshop .lever-row { display: flex; justify-content: space-between; font-size: 16px; }
.workshop .lever-value { font-weight: bold; }
.workshop .lever-ends { display: flex; justify-content: space-between; font-size: 14px;
  color: #333; margin-top: -14px; }
.workshop .headline-line { font-size: 22px; font-weight: bold; margin: 4px 0; }
.workshop .difference { font-size: 19px; margin: 2px 0 6px 0; }
.workshop table.monitors { border-collapse: collapse; font-size: 16px; margin: 4px 0; }
.workshop table.monitors td, .workshop table.monitors th { padding: 3px 10px;
  border-bottom: 1px solid #ddd; text-align: right; }
.workshop table.monitors th:first-child, .workshop table.monitors td:first-child { text-align: left; }
.workshop .runbar { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; margin: 4px 0; }
.workshop .pictures { display: grid; grid-template-columns: 11fr 10fr; gap: 10px 16px;
  align-items: start; }
.workshop .networks-col { grid-column: 1; min-width: 0; }
.workshop .main-chart { grid-column: 2; min-width: 0; }
.workshop .more-charts { grid-column: 1 / span 2; display: flex; gap: 12px; min-width: 0; }
.workshop .export-row { grid-column: 1 / span 2; }
.workshop .pic { flex: 1 1 0; min-width: 0; }
.workshop .pic-title { font-weight: bold; font-size: 17px; }
.workshop .pic-svg svg { width: 100%; height: auto; display: block; }
.workshop .pictures-two .network-pic .pic-svg svg { max-height: 30vh; }
.workshop .pic-legend { margin-top: 4px; }
.workshop .pic-key { font-size: 15px; margin: 4px 0; }
.workshop .narration { font-size: 19px; background: #fff8e1; border-left: 6px solid #e69f00;
  padding: 8px 12px; margin: 6px 0; }
.workshop .panel-text p { margin: 0 0 8px 0; font-size: 16px; }
.workshop.presenter { font-size: 24px; }
.workshop.presenter .headline-line { font-size: 34px; }
.workshop.presenter .difference { font-size: 28px; }
.workshop.presenter table.monitors { font-size: 24px; }
.workshop.presenter .v-btn { font-size: 24px !important; height: auto !important;
  padding: 6px 16px !important; }
.workshop.presenter .v-btn .v-btn__content { font-size: 24px; }
.workshop.presenter .pic-title, .workshop.presenter .pic-key { font-size: 24px; }
.workshop.presenter .narration { font-size: 28px; }
.workshop.presenter table.monitors { display: none; }
.workshop.presenter .pic-title, .workshop.presenter .monitor-week { font-size: 24px; }
"""


@solara.component_vue("pictures.vue")
def Pictures(
    networks: list,
    nodes: list,
    charts: list,
    legend: str,
    events_key: str,
    frame: int,
    running: bool,
    delay_ms: int,
    presenter: bool,
    caption: str,
    event_drawn: Callable[[int], None],
):
    """The pictures, drawn in the browser; reports each frame once it is on screen."""


class Runner:
    """Steps a session when the browser has drawn the previous frame (see the module docstring).

    Args:
        session: The browser session's models.

    """

    def __init__(self, session: WorkshopSession) -> None:
        self.session = session
        self.frame = solara.reactive(0)
        self.running = solara.reactive(False)
        self.target = solara.reactive(0)
        self.speed = solara.reactive(DEFAULT_SPEED)
        self.stopped_at_target = solara.reactive(0)

    def redraw(self) -> None:
        """Show the session's current state."""
        self.frame.value += 1

    def run(self, target: int | None = None) -> None:
        """Run to ``target`` (default: the end), one frame at a time."""
        s = self.session
        if s.error or not s.running_possible:
            return
        self.target.value = min(s.horizon if target is None else target, s.horizon)
        if self.target.value <= s.week:
            return
        self.running.value = True
        self.advance()

    def pause(self) -> None:
        """Stop before the next step."""
        self.running.value = False

    def step(self) -> None:
        """One week."""
        if self.running.value or self.session.error:
            return
        self.session.step(1)
        self.redraw()

    def advance(self) -> None:
        """Step the weeks of one frame and show them; stop at the target."""
        s = self.session
        weeks = SPEEDS[self.speed.value][2]
        n = min(weeks, self.target.value - s.week)
        if n > 0:
            s.step(n)
        if s.week >= self.target.value or not s.running_possible:
            self.running.value = False
            self.stopped_at_target.value = s.week
        self.redraw()

    def drawn(self, frame: int) -> None:
        """The browser has frame ``frame`` on screen: step again if still running."""
        if self.running.value and frame == self.frame.value:
            self.advance()


_STATIC: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _network_parts(model) -> tuple[Any, str, str]:
    """Positions, static layer and viewBox of a model's network (computed once per model)."""
    if model not in _STATIC:
        pos = svg.layout(model)
        _STATIC[model] = (pos, svg.network_static(model, pos), svg.network_viewbox(model))
    return _STATIC[model]


def pictures_props(
    session: WorkshopSession, band: Band | None = None, presenter: bool = False
) -> dict:
    """Everything the pictures component shows for the session's current week."""
    names = session.side_names()
    two = len(session.arms) == 2
    networks, nodes = [], []
    for i, model in enumerate(session.models):
        pos, static, viewbox = _network_parts(model)
        title = f"{'AB'[i] + ': ' if two else ''}{names[i]} · staff by school"
        networks.append({"title": title, "static": static, "viewbox": viewbox})
        nodes.append(svg.network_nodes(model, pos))
    horizon = session.horizon
    weekly = band.weekly if band is not None and band.controls == session.controls else {}
    big = 1.35 if presenter else 1.0
    series = [
        svg.Series(
            100 * session.uptake_series(i),
            names[i],
            i,
            tuple(session.events(i)),
            tuple(100 * v for v in weekly[i]) if i in weekly else None,
        )
        for i in range(len(session.arms))
    ]
    charts = [
        svg.line_chart(
            series,
            horizon,
            "Staff using it (adopted or embedded)",
            "% of all staff",
            percent=True,
            shade_gap=two,
            mark_events=True,
            big=big,
        )
    ]
    for i in range(len(session.arms)):
        title = f"Where staff are{': ' + names[i] if two else ''}"
        charts.append(svg.stages_chart(session.stage_shares(i), horizon, title, big=big))
    resist = [
        svg.Series(session.resistant_series(i).astype(float), names[i], i)
        for i in range(len(session.arms))
    ]
    pupils = [svg.Series(session.pupils_series(i), names[i], i) for i in range(len(session.arms))]
    charts.append(svg.line_chart(resist, horizon, "Staff resisting", "staff", floor=5, big=big))
    charts.append(
        svg.line_chart(
            pupils, horizon, "Pupils taught by staff using it", "pupils", floor=50, big=big
        )
    )
    return {
        "networks": networks,
        "nodes": nodes,
        "charts": charts,
        "legend": svg.legend_svg(columns=2 if presenter else 3),
        "events_key": "Marks on the curve: " + svg.events_key(),
        "caption": session.headline() if session.arms else "",
    }


# -- controls ------------------------------------------------------------------------------------


def Explain(text: str, classes: list[str] | None = None):
    """One plain-language line under a control."""
    return solara.Text(text, classes=["explain", *(classes or [])])


def ChoiceSelect(kind: str, label: str, value: str, on_value: Callable[[str], None]):
    """A select showing display names for the options of ``kind``."""
    items = [{"text": option_name(kind, v), "value": v} for v in CHOICES[kind]]
    return solara.v.Select(
        label=label,
        items=items,
        v_model=value,
        on_v_model=on_value,
        hide_details=True,
        class_=f"choice-{kind}",
    )


@solara.component
def SideChoices(controls: Controls, set_controls):
    """Strategy, way of working and whom to send: side A, and side B next to it."""
    sides = ["a", "b"] if controls.side_by_side else ["a"]
    for side in sides:
        current = controls.side_a if side == "a" else controls.side_b
        prefix = f"{side.upper()}: " if controls.side_by_side else ""
        with solara.Div(classes=[f"side-{side}"]):
            for kind, label in (
                ("strategy", "strategy back in school"),
                ("mode", "way of working"),
                ("selection", "whom to send"),
            ):

                def change(value, kind=kind, side=side):
                    set_controls(controls.with_side(side, **{kind: value}))

                ChoiceSelect(kind, prefix + label, getattr(current, kind), change)
                Explain(OPTION_HELP[kind][getattr(current, kind)])
    if controls.identical_sides:
        solara.Warning("A and B are the same choices: change one side to compare.")


@solara.component
def LeverControl(lv, controls: Controls, set_controls):
    """One lever: its name and value, the control, the meaning of its two ends, one line."""
    value, varies = controls.lever_value(lv.key)
    # A slider sits on its step grid and reports its snapped position when it is drawn: a
    # value off the grid (the mean of values drawn per school, say) would otherwise be set for
    # every school without anyone touching the slider.
    position = value
    if lv.kind in ("int", "float"):
        position = lv.low + round((value - lv.low) / lv.step) * lv.step

    def set_(v):
        snapped = lv.kind in ("int", "float") and (varies or position != value)
        if snapped and math.isclose(v, position, abs_tol=lv.step * 1e-6):
            return  # the slider reporting where it sits, not a choice
        set_controls(controls.with_lever(lv.key, v))

    if lv.kind == "switch":
        solara.Switch(label=lv.name, value=bool(value), on_value=set_)
    elif lv.kind == "choice":
        items = [
            {"text": option_name(lv.key.rpartition(".")[2], c), "value": c} for c in lv.choices
        ]
        solara.v.Select(
            label=lv.name, items=items, v_model=value, on_v_model=set_, hide_details=True
        )
    else:
        with solara.Div(classes=["lever-row"]):
            solara.Text(lv.name)
            shown = format_value(lv, value) + (" (varies by school)" if varies else "")
            solara.Text(shown, classes=["lever-value"])
        slider = solara.SliderInt if lv.kind == "int" else solara.SliderFloat
        slider(
            label="",
            value=position,
            min=lv.low,
            max=lv.high,
            step=lv.step,
            on_value=set_,
            thumb_label=False,
        )
        with solara.Div(classes=["lever-ends"]):
            solara.Text(lv.low_label)
            solara.Text(lv.high_label)
    Explain(lv.help)


@solara.component
def ControlPanel(controls: Controls, set_controls, session: WorkshopSession):
    """Scenario, seed, side by side, the choices and every lever."""
    ChoiceSelect(
        "scenario",
        "Schools",
        controls.scenario,
        lambda v: set_controls(controls.with_values(scenario=v)),
    )
    Explain(OPTION_HELP["scenario"][controls.scenario])
    solara.InputInt(
        label="Seed: which run of chance (0 or more)",
        value=controls.seed,
        on_value=lambda v: set_controls(controls.with_values(seed=v)),
        classes=["seed-input"],
    )
    solara.Switch(
        label="Side by side: compare two choices on the same schools and luck",
        value=controls.side_by_side,
        on_value=lambda v: set_controls(controls.with_values(side_by_side=v)),
    )
    SideChoices(controls, set_controls)
    for group in LEVER_GROUPS:
        solara.Text(group, classes=["group-heading"])
        for lv in LEVERS:
            if lv.group == group:
                LeverControl(lv, controls, set_controls)


# -- the live part ---------------------------------------------------------------------------------


#: The monitors: a weekly column of the outcome registry, and the page's words for it.
MONITOR_COLUMNS: tuple[tuple[str, str], ...] = (
    ("uptake", "using it"),
    ("use", "trying or using"),
    ("spread", "spread beyond those sent"),
    ("pupils_reached", "pupils reached"),
    ("teacher_hours", "teacher-hours"),
    ("resistant", "resisting"),
)


def _monitor_text(column: str, value: float) -> str:
    """A monitor's value as the outcome registry formats it (whole numbers on the page)."""
    outcome = for_series(column)
    number = outcome.scale.number(value, 0)
    return outcome.with_unit(number) if outcome.kind == "share" else number


@solara.component
def Monitors(session: WorkshopSession, frame: int):
    """One row per side: uptake, use, spread, pupils reached, teacher-hours, resisting.

    ``frame`` changes after every step, so the row is redrawn (the session object is the same).
    """
    names = session.side_names()
    rows = []
    for i, name in enumerate(names):
        m = session.monitors(i)
        values = {
            "uptake": m.uptake_pct / 100,
            "use": m.use_pct / 100,
            "spread": m.spread_pct / 100,
            "pupils_reached": m.pupils_reached,
            "teacher_hours": m.teacher_hours,
            "resistant": m.resistant,
        }
        side = f"{'AB'[i]}: " if len(names) == 2 else ""
        cells = "".join(
            f"<td class='monitor-{column}'>{_monitor_text(column, values[column])}</td>"
            for column, _ in MONITOR_COLUMNS
        )
        rows.append(f"<tr class='monitor-side-{i}'><td>{_escape(side + name)}</td>{cells}</tr>")
    head = "<tr><th></th>" + "".join(
        f"<th title='{_escape(for_series(column).description)}'>{words}</th>"
        for column, words in MONITOR_COLUMNS
    )
    head += "</tr>"
    solara.HTML(tag="table", unsafe_innerHTML=head + "".join(rows), classes=["monitors"])


@solara.component
def LiveView(session: WorkshopSession, runner: Runner, presenter: bool, band: Band | None):
    """Headline, monitors, difference and pictures: redrawn every frame."""
    frame = runner.frame.value
    running = runner.running.value
    speed = runner.speed.value
    if session.error:
        solara.Error(f"These choices do not make a valid model: {session.error}")
        return
    when = session.monitors(0).when
    if session.week == 0:
        when = f"Before the first of {session.horizon} weeks"
    solara.Text(f"{when} of {session.horizon}" if session.week else when, classes=["monitor-week"])
    solara.Text(session.headline(), classes=["headline-line"])
    diff = session.difference()
    if diff:
        solara.Text(diff, classes=["difference", "monitor-gap"])
    Monitors(session, frame)
    Pictures(
        **pictures_props(session, band, presenter),
        frame=frame,
        running=running,
        delay_ms=SPEEDS[speed][1],
        presenter=presenter,
        event_drawn=runner.drawn,
    )


@solara.component
def RunBar(session: WorkshopSession, runner: Runner, on_setup, presenter: bool, set_presenter):
    """Set up, Step, Run/Pause, to the end of this year, to the end, speed, presenter view."""
    running = runner.running.value
    _ = runner.frame.value  # redraw the buttons as the weeks go by
    blocked = bool(session.error)
    at_end = not session.running_possible
    with solara.Div(classes=["runbar"]):
        if not presenter:
            solara.Button("Set up", on_click=on_setup, color="primary", disabled=running)
            solara.Button("Step", on_click=runner.step, disabled=running or blocked or at_end)
        if running:
            solara.Button("Pause", on_click=runner.pause, color="warning")
        else:
            solara.Button("Run", on_click=lambda: runner.run(), disabled=blocked or at_end)
        solara.Button(
            "To the end of this year",
            on_click=lambda: runner.run(session.end_of_year()),
            disabled=running or blocked or at_end,
        )
        solara.Button(
            "To the end", on_click=lambda: runner.run(), disabled=running or blocked or at_end
        )
        if not presenter:
            solara.v.Select(
                label="Speed",
                items=[{"text": name, "value": k} for k, (name, _, _) in enumerate(SPEEDS)],
                v_model=runner.speed.value,
                on_v_model=lambda v: setattr(runner.speed, "value", int(v)),
                hide_details=True,
                style_="max-width: 220px",
                class_="speed-select",
            )
        solara.Button(
            "Leave presenter view" if presenter else "Presenter view",
            on_click=lambda: set_presenter(not presenter),
            outlined=True,
        )


@solara.component
def Panels(session: WorkshopSession, band: Band | None):
    """Info, Sources and Debrief, folded away until opened."""
    with (
        solara.Details("Info: what this is, what it assumes, what to try"),
        solara.Div(classes=["panel-text", "info-panel"]),
    ):
        for heading, paragraphs in INFO_SECTIONS:
            solara.Text(heading, classes=["group-heading"])
            for p in paragraphs:
                solara.HTML(tag="p", unsafe_innerHTML=_escape(p))
    with solara.Details("Sources"), solara.Div(classes=["panel-text", "sources-panel"]):
        for name, work, used in SOURCES:
            solara.HTML(
                tag="p",
                unsafe_innerHTML=f"<b>{_escape(name)}</b>: {_escape(work)} "
                f"<i>In the model:</i> {_escape(used)}",
            )
    with (
        solara.Details("Debrief: take the run away", expand=False),
        solara.Div(classes=["debrief-panel"]),
    ):
        solara.FileDownload(
            data=lambda: debrief.table_csv(session),
            filename="workshop-run.csv",
            label="The run's table (CSV)",
            mime_type="text/csv",
        )
        solara.FileDownload(
            data=lambda: debrief.summary_markdown(session, _band_text(session, band)),
            filename="workshop-summary.md",
            label="One-page summary (Markdown)",
            mime_type="text/markdown",
        )
        Explain("The pictures: 'Save the pictures (PNG)' under the charts.")


@solara.lab.task
def many_runs(controls: Controls, names: tuple[str, ...], n_seeds: int) -> Band:
    """Run the sides' choices over many seeds (a background task of this browser session)."""

    def progress(share: float) -> None:
        many_runs.progress = 100 * share

    return run_band(controls, names, n_seeds, progress=progress)


@solara.component
def ManyRuns(session: WorkshopSession, band: Band | None):
    """'Run 50 seeds': the band of outcomes for each choice, so the room sees what is chance."""
    current = band is not None and band.controls == session.controls
    with solara.Div(classes=["many-runs"]):
        solara.Button(
            f"Run {DEFAULT_SEEDS} seeds",
            on_click=lambda: many_runs(
                session.controls, tuple(session.side_names()), DEFAULT_SEEDS
            ),
            disabled=many_runs.pending or bool(session.error),
            outlined=True,
            classes=["run-many"],
        )
        if many_runs.pending:
            solara.ProgressLinear(many_runs.progress or True)
            Explain(f"Running each choice over {DEFAULT_SEEDS} seeds...")
        elif many_runs.error:
            solara.Error(f"The runs failed: {many_runs.exception}")
        if current:
            solara.Text(band.text(), classes=["band-text"])
            Explain(
                "The shaded band on the curve holds the middle 80% of runs; the dotted line "
                "is their median. Decisions made during this run are not in these runs."
            )
        elif not many_runs.pending:
            Explain(
                "One run is one roll of the dice: see the spread of outcomes for the same "
                "choices over many seeds, shown as a band on the curve."
            )


@solara.component
def StoryPanel(session: WorkshopSession, runner: Runner, load):
    """Guided stories: set up, run to each checkpoint, pause with a narration."""
    key, set_key = solara.use_state(STORIES[0].key)
    active, set_active = solara.use_state(None)
    _ = runner.frame.value
    running = runner.running.value
    with solara.Div(classes=["story-panel"]):
        with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"}):
            solara.v.Select(
                label="Story",
                items=[{"text": s.title, "value": s.key} for s in STORIES],
                v_model=key,
                on_v_model=set_key,
                hide_details=True,
                style_="max-width: 320px",
                class_="story-select",
            )

            def start():
                load(story(key).controls)
                set_active(key)

            solara.Button("Start the story", on_click=start, outlined=True, disabled=running)
        if active is None:
            return
        st = story(active)
        if session.controls != st.controls:
            return  # the controls were changed: the story is over
        week = session.week
        upcoming = [c for c in st.checkpoints if c.week > week]
        reached = [c for c in st.checkpoints if c.week == week]
        if week == 0:
            text = st.intro
        elif reached and not running:
            number = st.checkpoints.index(reached[0]) + 1
            text = f"Checkpoint {number} of {len(st.checkpoints)}: " + narrate(reached[0], session)
        elif running:
            text = f"Playing to week {runner.target.value}..."
        else:
            text = "Paused between checkpoints."
        solara.Text(text, classes=["narration"])
        if not running and upcoming:
            nxt = upcoming[0]
            label = "Play to the first checkpoint" if week == 0 else f"Continue to week {nxt.week}"
            solara.Button(
                label,
                on_click=lambda: runner.run(nxt.week),
                color="primary",
                classes=["story-continue"],
            )
        elif not running and not upcoming:
            solara.Text("The end of the story.", classes=["story-end"])


@solara.component
def DecisionPanel(session: WorkshopSession, runner: Runner):
    """Pause, change a lever for one school or all (one side or both), continue."""
    levers = [lv for lv in LEVERS if lv.mid_run]
    key, set_key = solara.use_state(levers[0].key)
    school, set_school = solara.use_state(-1)
    side, set_side = solara.use_state(-1)
    value, set_value = solara.use_state(None)
    message, set_message = solara.use_state("")
    _ = runner.frame.value
    if runner.running.value or session.week == 0 or session.error:
        Explain(
            "Pause the run to make a decision: change a lever for one school or all, then "
            "continue. The change is marked D on the curve."
        )
        return
    lv = lever(key)
    current = value if value is not None else session.controls.lever_value(key)[0]
    n = session.models[0].schools.n
    with solara.Div(classes=["decision-panel"]):
        solara.v.Select(
            label="Lever",
            items=[{"text": x.name, "value": x.key} for x in levers],
            v_model=key,
            on_v_model=lambda k: (set_key(k), set_value(None)),
            hide_details=True,
            class_="decision-lever",
        )
        solara.v.Select(
            label="In",
            items=[{"text": "every school", "value": -1}]
            + [{"text": f"School {s + 1}", "value": s} for s in range(n)],
            v_model=school,
            on_v_model=set_school,
            hide_details=True,
            class_="decision-school",
        )
        if len(session.arms) == 2:
            names = session.side_names()
            solara.v.Select(
                label="On",
                items=[{"text": "both sides", "value": -1}]
                + [{"text": f"{'AB'[i]}: {names[i]} only", "value": i} for i in range(2)],
                v_model=side,
                on_v_model=set_side,
                hide_details=True,
                class_="decision-side",
            )
        if lv.kind == "switch":
            solara.Switch(label=lv.name, value=bool(current), on_value=set_value)
        elif lv.kind == "choice":
            items = [
                {"text": option_name(key.rpartition(".")[2], c), "value": c} for c in lv.choices
            ]
            solara.v.Select(label=lv.name, items=items, v_model=current, on_v_model=set_value)
        else:
            slider = solara.SliderInt if lv.kind == "int" else solara.SliderFloat
            with solara.Div(classes=["lever-row"]):
                solara.Text(lv.name)
                solara.Text(format_value(lv, current), classes=["lever-value"])
            slider(
                label="", value=current, min=lv.low, max=lv.high, step=lv.step, on_value=set_value
            )

        Explain(lv.help)

        def apply():
            try:
                session.decide(
                    key, current, None if school < 0 else school, None if side < 0 else side
                )
            except ConfigError as exc:
                set_message(str(exc))
                return
            set_message(f"From next week: {session.decisions[-1].what()}")
            runner.redraw()

        solara.Button(
            "Apply from next week", on_click=apply, color="primary", classes=["decision-apply"]
        )
        if message:
            Explain(message, classes=["decision-message"])


def _band_text(session: WorkshopSession, band: Band | None) -> str:
    """The many-runs summary if it belongs to the choices on screen."""
    return band.text() if band is not None and band.controls == session.controls else ""


def _escape(text: str) -> str:
    from html import escape

    return escape(text)


@solara.component
def Page():
    """The page: controls on the left, the run on the right (or the run alone, for presenting)."""
    session = solara.use_memo(WorkshopSession, dependencies=[])  # one per browser session
    runner = solara.use_memo(lambda: Runner(session), dependencies=[])
    controls, set_controls_state = solara.use_state(session.controls)
    presenter, set_presenter = solara.use_state(False)
    band = many_runs.value if many_runs.finished else None  # this browser's latest runs

    def setup(new: Controls | None = None) -> None:
        runner.pause()
        session.setup(new or controls)
        runner.redraw()

    def load_story(new: Controls) -> None:
        setup(new)
        set_controls_state(new)

    def set_controls(new: Controls) -> None:
        if session.week == 0 and not runner.running.value:
            setup(new)  # nothing run yet: apply at once
        set_controls_state(new)

    solara.Title("PLN workshop: leadership choices")
    solara.Style(CSS)
    with solara.Row(classes=["workshop", *(["presenter"] if presenter else [])], gap="0px"):
        if not presenter:
            with solara.Div(classes=["controls"]):
                ControlPanel(controls, set_controls, session)
        with solara.Div(classes=["main"]):
            RunBar(session, runner, lambda: setup(), presenter, set_presenter)
            if controls != session.controls and not session.error:
                solara.Info("Choices changed: press Set up to start again with them.")
            if not presenter:
                StoryPanel(session, runner, load_story)
            LiveView(session, runner, presenter, band)
            if not presenter:
                with solara.Details("Decide during the run", expand=True):
                    DecisionPanel(session, runner)
                with solara.Details("Many runs: what is chance, what is the choice", expand=True):
                    ManyRuns(session, band)
                Panels(session, band)
