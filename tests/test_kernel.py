"""The fused kernel (sim.kernel) and the numpy reference path give identical results.

Both paths draw from the same counter-based generator (sim.rng): the kernel computes each draw
inline, the numpy path vectorised. Whole runs on small cases must end in bit-identical states.
"""

import numpy as np
import pytest

import sim
from sim import kernel
from sim.compose import build_config
from sim.rng import Streams, stream_id, stream_key, uniforms

FIELDS = (
    "stage",
    "knowledge",
    "quality",
    "stage_weeks",
    "pupil_gain",
    "resistant",
    "participant",
    "trust_in_leaders",
)

CASES = [
    (0, ()),
    (1, ("strategy.name=none",)),
    (2, ("schools.trust_climate=0.2", "decision.resistance_rate=1.0", "mode=champions")),
    (3, ("strategy=start_small", "mode=both", "turnover.rate=0.3", "years=4")),
    (4, ("scenario=secondary_trust", "decision.noise_enabled=true", "years=2")),
]


def test_inline_draws_equal_vectorised_draws():
    """uniform_at (compiled, one index) == rng.uniforms (numpy, many indices), bit for bit."""
    rng = np.random.default_rng(0)
    for seed, stream, week in [(0, 0, 0), (7, 123456789, 116), (2**40 + 3, 2**32 - 1, 5000)]:
        key = stream_key(seed, stream, week)
        index = np.concatenate([np.arange(50), rng.integers(0, 2**31 - 1, 50)])
        expected = uniforms(key, index)
        got = np.array([kernel.uniform_at(np.uint64(key), int(i)) for i in index])
        assert np.array_equal(got, expected)
        assert ((expected >= 0) & (expected < 1)).all()


def test_key_tables_equal_stream_keys():
    """Streams.keys (a block of weeks at once, numpy) == stream_key (one week, Python ints)."""
    streams = Streams(2**40 + 3)
    for name in ("decision.act", "practice.lapse"):
        table = streams.keys(name, 300)  # beyond the first block: the table grows
        assert len(table) > 300 and table.dtype == np.uint64
        for week in (0, 1, 116, 127, 128, 300):
            assert int(table[week]) == stream_key(streams.seed, stream_id(name), week)
            assert streams.key(name, week) == int(table[week])


def test_draws_look_uniform():
    """A sanity check of the generator: 200,000 draws, mean and a 20-bin chi-square."""
    u = Streams(3).uniform("decision.act", 4, 200_000)
    assert abs(u.mean() - 0.5) < 0.005  # sd of the mean: 0.00065
    counts = np.bincount((u * 20).astype(int), minlength=20)
    chi2 = ((counts - 10_000) ** 2 / 10_000).sum()
    assert chi2 < 45.3  # 99.9th percentile of chi-square with 19 degrees of freedom


@pytest.mark.parametrize(("seed", "overrides"), CASES)
def test_kernel_and_numpy_paths_agree_exactly(seed, overrides):
    cfg = build_config(seed=seed, overrides=overrides)
    with kernel.use("numba"):
        fast = sim.KnowledgeMobilisationModel(cfg).run()
    with kernel.use("numpy"):
        slow = sim.KnowledgeMobilisationModel(cfg).run()
    for field in FIELDS:
        assert np.array_equal(getattr(fast.staff, field), getattr(slow.staff, field)), field
    assert np.array_equal(fast.ties.trust, slow.ties.trust)
    assert np.array_equal(fast.control_taken, slow.control_taken)
    # Recorded totals: counts exactly; sums of floats to rounding (numpy's reduceat sums in
    # blocks, the compiled pass in slot order).
    fast_totals, slow_totals = fast.record.totals(), slow.record.totals()
    for field in vars(fast_totals):
        a, b = getattr(fast_totals, field), getattr(slow_totals, field)
        if a.dtype.kind == "f":
            assert np.allclose(a, b, rtol=1e-12, atol=1e-12), field
        else:
            assert np.array_equal(a, b), field


def test_readiness_falls_back_when_the_pass_is_stale():
    """Decision uses the kernel's sums only for the week (and state) they were computed for."""
    cfg = build_config(seed=2)
    model = sim.KnowledgeMobilisationModel(cfg)
    for _ in range(30):
        model.step()
    decision = next(p for p in model.processes if type(p).__name__ == "Decision")
    with kernel.use("numba"):
        fresh = decision.readiness()
        model.staff.quality = model.staff.quality + 0.1  # state changed since the pass
        assert kernel.readiness_sums(model, model.now.week) is None
        changed = decision.readiness()
    with kernel.use("numpy"):
        expected = decision.readiness()
    assert np.array_equal(changed, expected)
    assert not np.array_equal(fresh, changed)


def test_school_totals_equal_totals_of_the_slot_history():
    """record=schools (summed each week) gives what record=slots gives when aggregated."""
    by_school = sim.KnowledgeMobilisationModel(build_config(seed=3)).run()
    slots = sim.KnowledgeMobilisationModel(build_config(seed=3, overrides=["record=slots"])).run()
    a, b = by_school.record.totals(), slots.record.totals()
    for field in vars(a):
        assert np.allclose(getattr(a, field), getattr(b, field), rtol=1e-12, atol=1e-12), field
    assert a.stages.sum() == slots.staff.n * slots.horizon_weeks
