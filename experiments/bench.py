"""Speed benchmark suite (a script, not a test): prints every figure in one run.

    python -m experiments.bench [--repeats 30] [--compare-seeds 1000] [--out results/bench]

1. New Forest, 3-year run (117 weeks, 86 staff): median and fastest in-process time of building
   and running the model, and of ``sim.simulate`` end to end. Goal: <= 10 ms.
2. Scaling: staff-weeks per second of the whole weekly order (117 weeks) at 10,000, 50,000 and
   450,000 staff (primaries of 14 teachers and 2 leaders), the log-log slope of run time against
   staff (goal <= 1.1) and a scaling plot (PNG).
3. ``scenario=england`` (about 20,200 schools, 420,000 staff), 3 years, in a fresh process: wall
   and CPU time, peak memory. Goals: <= 10 s on one core (not acceptable above 20 s), <= 4 GB.
4. The same 10,000-staff system, 117 weeks, in a plain idiomatic Mesa 3 model of the whole
   weekly loop (:mod:`experiments.idiomatic`) against the array model, warm-up excluded; the
   ratio. Goal: >= 100x.
5. The main job end to end: two arms x 1,000 paired seeds on New Forest with tables, figures and
   report, on two local workers. Goal: <= 60 s on 2 cores.
6. A guard measured in the same run: the compiled kernel against the numpy reference path
   (``SIM_KERNEL=numpy``) on the same 10,000-staff run. Ratios, not absolute times, are compared
   with their goals, so a shared machine's load does not mislead; the core count and the load
   average are printed before and after. Exit status 1 if a guard fails.

Timings are wall-clock (``time.perf_counter``) with CPU time (``time.process_time``) beside
them: on a loaded machine CPU time is the steadier of the two.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

import sim
from sim import kernel, results
from sim.config import Config
from sim.fileio import save_figure

ROOT = Path(__file__).resolve().parent.parent
SCALES = (10_000, 50_000, 450_000)
#: Guard thresholds: ratios measured in the same run.
GUARDS = {"kernel_vs_numpy": 1.5, "idiomatic_vs_array": 100.0}


def _times(fn: Callable[[], object], repeats: int) -> tuple[list[float], list[float]]:
    """Wall and CPU seconds of ``repeats`` calls."""
    wall, cpu = [], []
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return wall, cpu


def _timed(fn: Callable[[], object]) -> tuple[object, float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - wall, time.process_time() - cpu


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


def machine() -> str:
    """Core count and load average, one line."""
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return f"{os.cpu_count()} cores, load average {load} (1, 5, 15 min)"


def bench_new_forest(repeats: int) -> dict[str, float]:
    """Median and fastest times of a New Forest 3-year run."""
    cfg = sim.build_config()
    sim.KnowledgeMobilisationModel(cfg).run()  # warm caches, imports and the kernel
    build_run, build_run_cpu = _times(lambda: sim.KnowledgeMobilisationModel(cfg).run(), repeats)

    def simulate_afresh():  # the no-PLN run included every time (not shared across calls)
        results._COUNTERFACTUALS.clear()
        return sim.simulate(config=cfg)

    end_to_end, end_to_end_cpu = _times(simulate_afresh, repeats)
    return {
        "build_and_run_s": statistics.median(build_run),
        "build_and_run_min_s": min(build_run),
        "build_and_run_cpu_s": statistics.median(build_run_cpu),
        "simulate_s": statistics.median(end_to_end),
        "simulate_min_s": min(end_to_end),
        "simulate_cpu_s": statistics.median(end_to_end_cpu),
    }


def bench_scale(staff: int) -> dict[str, float]:
    """Build and a whole 117-week run at about ``staff`` staff."""
    cfg = large_config(staff)
    model, build_s, _ = _timed(lambda: sim.KnowledgeMobilisationModel(cfg, validated=True))
    _, run_s, run_cpu = _timed(model.run)
    weeks = model.horizon_weeks
    return {
        "staff": model.staff.n,
        "ties": model.ties.n,
        "build_s": build_s,
        "run_s": run_s,
        "run_cpu_s": run_cpu,
        "staff_weeks_per_s": model.staff.n * weeks / run_s,
        "staff_weeks_per_cpu_s": model.staff.n * weeks / run_cpu,
    }


def slope(rows: list[dict[str, float]], key: str) -> float:
    """Log-log slope of ``key`` (a time) against staff."""
    x = np.log([r["staff"] for r in rows])
    y = np.log([r[key] for r in rows])
    return float(np.polyfit(x, y, 1)[0])


def scaling_plot(rows: list[dict[str, float]], path: Path) -> Path:
    """Run time against staff, log-log, with the line of slope 1 through the smallest case."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    staff = np.array([r["staff"] for r in rows])
    fig, ax = plt.subplots(figsize=(5, 4))
    for key, label in (("run_s", "wall"), ("run_cpu_s", "CPU")):
        ax.loglog(staff, [r[key] for r in rows], "o-", label=f"{label} time, 117 weeks")
    ax.loglog(staff, rows[0]["run_cpu_s"] * staff / staff[0], ":", color="grey", label="slope 1")
    ax.set_xlabel("staff")
    ax.set_ylabel("seconds")
    ax.set_title("Run time against system size")
    ax.legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    save_figure(fig, path, dpi=120)
    return path


def england_child() -> int:
    """(In a fresh process) build and run scenario=england; print JSON figures."""
    wall, cpu = time.perf_counter(), time.process_time()
    cfg = sim.build_config("england")
    model = sim.KnowledgeMobilisationModel(cfg, validated=True)
    built_wall, built_cpu = time.perf_counter(), time.process_time()
    model.run()
    end_wall, end_cpu = time.perf_counter(), time.process_time()
    figures = {
        "schools": model.schools.n,
        "plns": int(model.school_table.n_plns),
        "staff": model.staff.n,
        "ties": model.ties.n,
        "build_wall_s": built_wall - wall,
        "build_cpu_s": built_cpu - cpu,
        "run_wall_s": end_wall - built_wall,
        "run_cpu_s": end_cpu - built_cpu,
        "total_wall_s": end_wall - wall,
        "total_cpu_s": end_cpu - cpu,
        "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "uptake": float(np.isin(model.staff.stage, (4, 5)).mean()),
    }
    print(json.dumps(figures))
    return 0


def bench_england() -> dict[str, float]:
    """scenario=england in a fresh process (imports and set-up included in the total)."""
    start = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-m", "experiments.bench", "--england-child"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    )
    figures = json.loads(out.stdout.strip().splitlines()[-1])
    figures["process_wall_s"] = time.perf_counter() - start
    return figures


def bench_idiomatic(staff: int) -> dict[str, float]:
    """Array model against the idiomatic Mesa model: the same system, 117 weeks each."""
    from experiments.idiomatic import IdiomaticModel

    cfg = large_config(staff)
    small = large_config(320)
    IdiomaticModel(small).run()  # warm-up
    sim.KnowledgeMobilisationModel(small).run()
    array = sim.KnowledgeMobilisationModel(cfg, validated=True)
    _, array_s, array_cpu = _timed(array.run)
    slow = IdiomaticModel(cfg)
    _, slow_s, slow_cpu = _timed(slow.run)
    return {
        "staff": array.staff.n,
        "array_s": array_s,
        "array_cpu_s": array_cpu,
        "idiomatic_s": slow_s,
        "idiomatic_cpu_s": slow_cpu,
        "array_uptake": float(np.isin(array.staff.stage, (4, 5)).mean()),
        "idiomatic_uptake": slow.uptake(),
    }


def bench_guard(staff: int) -> dict[str, float]:
    """The same 117-week run on the compiled kernel and on the numpy reference path."""
    cfg = large_config(staff)
    times = {}
    for name in ("numpy", "numba", "numpy", "numba"):  # interleaved: the faster of two each
        with kernel.use(name):
            model = sim.KnowledgeMobilisationModel(cfg, validated=True)
            _, _, cpu = _timed(model.run)
        times[name] = min(times.get(name, np.inf), cpu)
    return {"numpy_cpu_s": times["numpy"], "numba_cpu_s": times["numba"]}


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


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark suite and print the figures."""
    parser = argparse.ArgumentParser(prog="python -m experiments.bench", description=__doc__)
    parser.add_argument("--repeats", type=int, default=30, help="New Forest repetitions")
    parser.add_argument(
        "--compare-seeds",
        type=int,
        default=1000,
        help="paired seeds for the end-to-end comparison (0 skips it)",
    )
    parser.add_argument(
        "--scales",
        type=lambda s: tuple(int(x) for x in s.split(",")),
        default=SCALES,
        help="staff numbers of the scaling runs, comma-separated (default 10000,50000,450000)",
    )
    parser.add_argument("--no-england", action="store_true", help="skip the england run")
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "bench")
    parser.add_argument("--england-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    logging.getLogger("MESA").setLevel(logging.WARNING)
    if args.england_child:
        return england_child()
    if args.repeats < 1 or min(args.scales) < 16:
        parser.error("--repeats must be >= 1 and every scale >= 16 staff")

    print(f"pln-sim {sim.__version__}, Python {platform.python_version()}, {platform.machine()}")
    print(f"machine: {machine()}")

    nf = bench_new_forest(args.repeats)
    print(f"\n1. New Forest, 3 years (117 weeks, 86 staff), {args.repeats} runs:")
    print(
        f"  build + run     median {nf['build_and_run_s'] * 1e3:7.2f} ms, fastest "
        f"{nf['build_and_run_min_s'] * 1e3:7.2f} ms, median CPU "
        f"{nf['build_and_run_cpu_s'] * 1e3:7.2f} ms   (goal <= 10 ms)"
    )
    print(
        f"  sim.simulate()  median {nf['simulate_s'] * 1e3:7.2f} ms, fastest "
        f"{nf['simulate_min_s'] * 1e3:7.2f} ms, median CPU {nf['simulate_cpu_s'] * 1e3:7.2f} ms"
        "   (adds the no-PLN run, tables and summary)"
    )

    rows = [bench_scale(staff) for staff in sorted(args.scales)]
    print("\n2. Scaling, whole weekly order, 117 weeks (primaries of 16 staff):")
    print("  staff      ties        build s   run s (CPU s)     staff-weeks/s (per CPU s)")
    for r in rows:
        print(
            f"  {r['staff']:>8,} {r['ties']:>10,} {r['build_s']:9.2f} {r['run_s']:8.2f} "
            f"({r['run_cpu_s']:6.2f})   {r['staff_weeks_per_s']:12,.0f} "
            f"({r['staff_weeks_per_cpu_s']:,.0f})"
        )
    if len(rows) > 1:
        print(
            f"  log-log slope of run time against staff: wall {slope(rows, 'run_s'):.3f}, "
            f"CPU {slope(rows, 'run_cpu_s'):.3f}   (goal <= 1.1)"
        )
        print(f"  plot: {scaling_plot(rows, args.out / 'scaling.png')}")

    if not args.no_england:
        e = bench_england()
        print(
            f"\n3. scenario=england, 3 years, fresh process: {e['schools']:,} schools in "
            f"{e['plns']:,} PLNs, {e['staff']:,} staff, {e['ties']:,} ties"
        )
        print(
            f"  compose + build {e['build_wall_s']:6.2f} s (CPU {e['build_cpu_s']:.2f}); run "
            f"{e['run_wall_s']:6.2f} s (CPU {e['run_cpu_s']:.2f}); total {e['total_wall_s']:.2f} s "
            f"(CPU {e['total_cpu_s']:.2f}); with interpreter start {e['process_wall_s']:.2f} s"
        )
        print(
            f"  peak memory {e['peak_rss_bytes'] / 1e9:.2f} GB   (goals: <= 10 s on one core, "
            f"<= 4 GB); uptake {e['uptake']:.3f}"
        )

    ref_staff = min(args.scales)
    idio = bench_idiomatic(ref_staff)
    ratio_wall = idio["idiomatic_s"] / idio["array_s"]
    ratio_cpu = idio["idiomatic_cpu_s"] / idio["array_cpu_s"]
    print(f"\n4. Idiomatic Mesa 3 model of the whole loop, {idio['staff']:,} staff, 117 weeks:")
    print(
        f"  array model {idio['array_s']:8.2f} s (CPU {idio['array_cpu_s']:.2f}); idiomatic "
        f"{idio['idiomatic_s']:8.2f} s (CPU {idio['idiomatic_cpu_s']:.2f})"
    )
    print(
        f"  ratio {ratio_wall:.0f}x wall, {ratio_cpu:.0f}x CPU   (goal >= 100x); uptake "
        f"{idio['array_uptake']:.3f} vs {idio['idiomatic_uptake']:.3f} (same mechanisms)"
    )

    if args.compare_seeds:
        seconds = bench_compare(args.compare_seeds)
        print(f"\n5. Comparison, 2 arms x {args.compare_seeds} paired seeds, New Forest, 3 years,")
        print(f"  end to end (runs, tables, figures, report), 2 local workers: {seconds:.1f} s")
        print("  (goal <= 60 s for 1,000 seeds on 2 cores)")

    guard = bench_guard(ref_staff)
    kernel_ratio = guard["numpy_cpu_s"] / guard["numba_cpu_s"]
    checks = {"kernel_vs_numpy": kernel_ratio, "idiomatic_vs_array": ratio_cpu}
    print(f"\n6. Guard, ratios measured in this run ({ref_staff:,} staff, CPU time, best of 2):")
    print(
        f"  numpy reference path {guard['numpy_cpu_s']:.2f} s, compiled kernel "
        f"{guard['numba_cpu_s']:.2f} s: {kernel_ratio:.2f}x"
    )
    failed = [k for k, v in checks.items() if v < GUARDS[k]]
    for key, value in checks.items():
        verdict = "ok" if value >= GUARDS[key] else "FAILED"
        print(f"  {key:20s} {value:8.2f}x  (guard >= {GUARDS[key]:g}x)  {verdict}")
    print(f"\nmachine: {machine()}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
