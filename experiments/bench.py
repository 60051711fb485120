"""Speed benchmark (a script, not a test): prints figures and ratios measured in the same run.

    python -m experiments.bench [--repeats 30] [--staff 10000] [--weeks 8]

1. New Forest, 3-year run: median in-process time of building and running the model, and of
   ``sim.simulate`` end to end (tables and summary included). Goal: <= 20 ms.
2. Agent-steps per second at ``--staff`` staff (primary schools of 14 teachers and 2 leaders),
   whole weekly order.
3. The per-agent reference loop (``sim.reference``: idiomatic Mesa, agent by agent) against the
   array implementation of conversation and decision on the same case and the same states, with
   the ratio. Goal: >= 50x at 10,000 staff.
4. The main job end to end: two arms x 1,000 paired seeds on New Forest with tables, figures and
   report, on two local workers. Goal: <= 60 s on 2 cores.
"""

from __future__ import annotations

import argparse
import logging
import platform
import statistics
import time
from collections.abc import Callable

import numpy as np

import sim
from sim.config import Config
from sim.processes import Conversation, Decision
from sim.reference import ReferenceConversation, ReferenceDecision


def _times(fn: Callable[[], object], repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def large_config(staff: int, seed: int = 0) -> Config:
    """A system of primary schools (14 teachers, 2 leaders each) with about ``staff`` staff."""
    n_schools = max(1, round(staff / 16))
    cfg = Config(seed=seed)
    cfg.schools.teachers = [14] * n_schools
    cfg.schools.leaders = 2
    cfg.schools.opinion_formers = 1
    cfg.selection.per_school = 3
    cfg.selection.leaders_per_school = 2
    for key in ("trust_climate", "disadvantage"):
        setattr(cfg.schools, key, [getattr(Config().schools, key)])
    return cfg.validate()


def bench_new_forest(repeats: int) -> dict[str, float]:
    """Median times of a New Forest 3-year run."""
    cfg = sim.build_config()
    sim.KnowledgeMobilisationModel(cfg).run()  # warm caches and imports
    build_run = _times(lambda: sim.KnowledgeMobilisationModel(cfg).run(), repeats)
    end_to_end = _times(lambda: sim.simulate(config=cfg), repeats)
    return {
        "build_and_run_s": statistics.median(build_run),
        "build_and_run_min_s": min(build_run),
        "simulate_s": statistics.median(end_to_end),
    }


def bench_scale(staff: int, weeks: int) -> dict[str, float]:
    """Agent-steps per second, and array vs reference conversation + decision, at scale."""
    cfg = large_config(staff)
    start = time.perf_counter()
    model = sim.KnowledgeMobilisationModel(cfg)
    build_s = time.perf_counter() - start
    n = model.staff.n
    # Whole weekly order over the first year (launch, sessions, spread all happen).
    start = time.perf_counter()
    for _ in range(39):
        model.step()
    year_s = time.perf_counter() - start

    # Same states for both implementations: time each on copies of the week-39 state.
    fast = {"conversation": Conversation(model), "decision": Decision(model)}
    slow = {"conversation": ReferenceConversation(model), "decision": ReferenceDecision(model)}
    totals = {"array": 0.0, "reference": 0.0}
    for i in range(weeks):
        week = model.week
        model.processes[0].step(week)  # calendar: this week's context
        saved = _snapshot(model)
        for label, procs in (("array", fast), ("reference", slow)):
            _restore(model, saved)
            start = time.perf_counter()
            procs["conversation"].step(week)
            procs["decision"].step(week)
            totals[label] += time.perf_counter() - start
            if label == "array":
                after = _snapshot(model)
            elif i == 0 and not all(
                np.array_equal(after[k], v) for k, v in _snapshot(model).items()
            ):
                raise AssertionError("reference and array implementations disagree")
        _restore(model, saved)
        model.step()
    return {
        "staff": n,
        "ties": model.ties.n,
        "build_s": build_s,
        "step_s": year_s / 39,
        "agent_steps_per_s": n * 39 / year_s,
        "array_conv_decision_s": totals["array"] / weeks,
        "reference_conv_decision_s": totals["reference"] / weeks,
    }


def _snapshot(model) -> dict[str, np.ndarray]:
    s = model.staff
    return {"stage": s.stage.copy(), "knowledge": s.knowledge.copy()}


def _restore(model, saved: dict[str, np.ndarray]) -> None:
    model.staff.stage[:] = saved["stage"]
    model.staff.knowledge = saved["knowledge"].copy()


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(prog="python -m experiments.bench", description=__doc__)
    parser.add_argument("--repeats", type=int, default=30, help="New Forest repetitions")
    parser.add_argument("--staff", type=int, default=10_000, help="staff in the scale case")
    parser.add_argument("--weeks", type=int, default=5, help="weeks timed for the reference")
    parser.add_argument(
        "--compare-seeds",
        type=int,
        default=1000,
        help="paired seeds for the end-to-end comparison (0 skips it)",
    )
    args = parser.parse_args(argv)
    if args.repeats < 1 or args.staff < 16 or args.weeks < 1:
        parser.error("--repeats and --weeks must be >= 1 and --staff >= 16")
    logging.getLogger("MESA").setLevel(logging.WARNING)

    print(f"pln-sim {sim.__version__}, Python {platform.python_version()}, {platform.machine()}")
    nf = bench_new_forest(args.repeats)
    print(f"\nNew Forest, 3 years (117 weeks, 86 staff), median of {args.repeats}:")
    print(
        f"  build + run        {nf['build_and_run_s'] * 1e3:8.2f} ms   (goal <= 20 ms; fastest "
        f"{nf['build_and_run_min_s'] * 1e3:.2f} ms: a shared machine's load shows in the median)"
    )
    print(
        f"  sim.simulate()     {nf['simulate_s'] * 1e3:8.2f} ms   "
        "(adds the same-seed no-PLN run for the pupil effect, tables and summary)"
    )

    sc = bench_scale(args.staff, args.weeks)
    ratio = sc["reference_conv_decision_s"] / sc["array_conv_decision_s"]
    print(f"\nScale: {sc['staff']:,} staff, {sc['ties']:,} advice ties")
    print(f"  model build        {sc['build_s']:8.2f} s")
    print(f"  one week (all processes) {sc['step_s'] * 1e3:8.2f} ms")
    print(f"  agent-steps per second   {sc['agent_steps_per_s']:,.0f}")
    print(f"\nConversation + decision per week, same states, mean of {args.weeks} weeks:")
    print(f"  array implementation     {sc['array_conv_decision_s'] * 1e3:10.2f} ms")
    print(f"  per-agent Mesa reference {sc['reference_conv_decision_s'] * 1e3:10.2f} ms")
    print(f"  ratio (reference / array) {ratio:9.0f}x  (goal >= 50x)")
    if args.compare_seeds:
        seconds = bench_compare(args.compare_seeds)
        print(f"\nComparison, 2 arms x {args.compare_seeds} paired seeds, New Forest, 3 years,")
        print(f"end to end (runs, tables, figures, report), 2 local workers: {seconds:.1f} s")
        print("  (goal <= 60 s for 1,000 seeds on 2 cores)")
    return 0


def bench_compare(seeds: int) -> float:
    """Seconds for a whole default comparison into a temporary folder."""
    import tempfile

    from experiments.compare import run_comparison
    from experiments.settings import build_settings

    with tempfile.TemporaryDirectory() as tmp:
        settings = build_settings(
            [f"out_dir={tmp}", "allow_outside_results=true", f"seeds={seeds}", "executor.n_jobs=2"]
        )
        start = time.perf_counter()
        run_comparison(settings, progress=False)
        return time.perf_counter() - start


if __name__ == "__main__":
    raise SystemExit(main())
