"""The fused weekly kernel: the per-tie work of a week in compiled loops (Numba).

The advice network is the model's largest state (about eight ties per member of staff) and the
per-tie work dominates a week at scale. Written with numpy, each process makes several
tie-length temporaries a week (draws, masks, gathers, products), so a large run is bound by
memory traffic on its own temporaries. Here the same arithmetic runs in two compiled passes over
the ties, which are stored seeker by seeker (``model.tie_ptr``, int32 adviser indices):

1. :func:`converse_pass` fuses, for every seeker ``i`` and each of i's ties ``i -> j``:

   * :class:`sim.processes.Conversation` (MODEL.md §3 step 6): the contact draw, computed
     inline from the counter-based generator of :mod:`sim.rng` (the same value the numpy path
     draws for that tie), the tie being active, i hearing of the innovation, i's know-how gain
     ``k_i += min(r_k c_i, 1) g_i / c_i``, and which ties were helpful;
   * the per-tie half of :meth:`sim.processes.Decision.readiness` (step 7): the trust-weighted
     sum of what i sees of the advisers' practice, ``sum_j w_ij shown_j``, and the trust total
     ``sum_j w_ij``. Conversation changes nothing these read (it only makes unaware staff aware
     and moves know-how), so computing them in the same pass gives exactly what Decision would
     compute after it.

2. :func:`trust_pass` is the per-tie half of :class:`sim.processes.TrustUpdate` (step 9): trust
   closes a share of its gap on helpful ties of staff who progressed, and falls on failed
   trialists' ties to those who encouraged them.

3. :func:`school_totals` adds up the week's per-school totals of the record
   (:class:`sim.processes.outcomes.SchoolRecord`) in one pass over the staff; counts are exact,
   float sums agree with numpy's to rounding (numpy's ``reduceat`` sums in blocks).

The processes call these through small hooks (:func:`conversation`, :func:`readiness_sums`,
:func:`trust_update`) when :func:`enabled` is true; otherwise they run their numpy code, which
stays the reference. Every sum is accumulated in the same order as ``numpy.bincount`` does
(ties in seeker order), in float64 (the state whose rounding the per-agent reference must match
bit for bit; the indices are int32), so both paths give bit-identical results
(``tests/test_kernel.py``). Functions are compiled on first use and cached on disk
(``cache=True``). The sums left for Decision are used only in the week they were computed
and only while the version stamps of what they read are unchanged (:mod:`sim.versioning`).

Select the path with :func:`use` (``"numba"``, the default, or ``"numpy"``) or the environment
variable ``SIM_KERNEL``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import numpy as np
from numba import njit

from sim import rng
from sim.rng import GOLDEN, MIX1, MIX2, TO_UNIT

if TYPE_CHECKING:
    from sim.model import KnowledgeMobilisationModel

__all__ = [
    "BACKENDS",
    "backend",
    "conversation",
    "converse_pass",
    "enabled",
    "readiness_sums",
    "school_totals",
    "trust_pass",
    "trust_update",
    "uniform_at",
    "uniforms_at",
    "use",
]

#: The available paths: the compiled kernel, or the numpy reference.
BACKENDS = ("numba", "numpy")
_backend = os.environ.get("SIM_KERNEL", "numba")
if _backend not in BACKENDS:
    raise ValueError(f"SIM_KERNEL={_backend!r}: allowed values are {', '.join(BACKENDS)}")

_GOLDEN = np.uint64(GOLDEN)
_MIX1 = np.uint64(MIX1)
_MIX2 = np.uint64(MIX2)
_ONE = np.uint64(1)
_S11, _S27, _S30, _S31 = np.uint64(11), np.uint64(27), np.uint64(30), np.uint64(31)
#: Guards 1 / c where nobody was learned from (as in the numpy path).
TINY = 1e-300


def backend() -> str:
    """The path in use: ``"numba"`` or ``"numpy"``."""
    return _backend


@contextmanager
def use(name: str) -> Iterator[None]:
    """Run the enclosed code with the given path (``"numba"`` or ``"numpy"``)."""
    global _backend
    if name not in BACKENDS:
        raise ValueError(f"kernel {name!r}: allowed values are {', '.join(BACKENDS)}")
    previous, _backend = _backend, name
    try:
        yield
    finally:
        _backend = previous


def enabled() -> bool:
    """Whether processes should call the compiled kernel."""
    return _backend == "numba"


@njit(cache=True, inline="always")
def uniform_at(key: np.uint64, index: np.int64) -> float:
    """The counter-based uniform for one index of a stream-week (see :func:`sim.rng.uniforms`)."""
    z = (np.uint64(index) + _ONE) * _GOLDEN + key
    z = (z ^ (z >> _S30)) * _MIX1
    z = (z ^ (z >> _S27)) * _MIX2
    z = z ^ (z >> _S31)
    return np.float64(z >> _S11) * TO_UNIT


@njit(cache=True, nogil=True)
def uniforms_at(key: np.uint64, index):
    """:func:`sim.rng.uniforms` compiled: the same values, without numpy's temporaries."""
    out = np.empty(len(index))
    for i in range(len(index)):
        out[i] = uniform_at(key, index[i])
    return out


@njit(cache=True, nogil=True)
def converse_pass(
    ptr,
    adviser,
    trust,
    contact_scale,
    key,
    stage,
    knowledge,
    resistant,
    talks,
    uses,
    quality,
    visibility,
    resistant_influence,
    rate,
    unaware,
    aware,
    active,
    helpful,
    seen,
    trust_total,
):
    """One pass over the ties: conversation, and the per-tie sums readiness needs.

    Writes ``active`` and ``helpful`` (per tie), ``seen`` and ``trust_total`` (per seeker); updates ``stage``
    (unaware -> aware for those who heard) and returns the new know-how array. All reads of
    colleagues' state use the state at the start of the pass (synchronous).
    """
    n = len(ptr) - 1
    new_knowledge = np.empty(n)
    heard = np.zeros(n, dtype=np.bool_)
    # Per person, once: what colleagues see of their practice, and whether they pass the
    # innovation on (gives: not resistant; talks: aware or further, not lapsed, and gives).
    shown = np.empty(n)
    gives = np.empty(n, dtype=np.bool_)
    talker = np.empty(n, dtype=np.bool_)
    for j in range(n):
        s = quality[j] * visibility[j] if uses[stage[j]] else 0.0
        shown[j] = s - resistant_influence * (1.0 if resistant[j] else 0.0)
        gives[j] = not resistant[j]
        talker[j] = talks[stage[j]] and not resistant[j]
    for i in range(n):
        k_i = knowledge[i]
        gain = 0.0
        weight = 0.0
        seen_i = 0.0
        total_i = 0.0
        hears = False
        for e in range(ptr[i], ptr[i + 1]):
            j = adviser[e]
            w = trust[e]
            total_i += w
            seen_i += w * shown[j]
            # Branch-free: the draw is 50:50 often enough that a branch would mispredict.
            # Adding 0.0 where a tie is not helpful leaves the sums bit-identical to numpy's.
            is_active = uniform_at(key, e) < min(contact_scale[e] * w, 1.0)
            hears |= is_active & talker[j]
            gap = knowledge[j] - k_i
            is_helpful = is_active & (gap > 0) & gives[j]
            w_helpful = w if is_helpful else 0.0
            gain += w_helpful * gap
            weight += w_helpful
            active[e] = is_active
            helpful[e] = is_helpful
        new_knowledge[i] = k_i + gain * min(rate, 1.0 / max(weight, TINY))
        seen[i] = seen_i
        trust_total[i] = total_i
        heard[i] = hears
    for i in range(n):
        if heard[i] and stage[i] == unaware:
            stage[i] = aware
    return new_knowledge


@njit(cache=True, nogil=True)
def trust_pass(ptr, adviser, trust, helpful, progressed, failed, encouraged, gain, loss):
    """Trust on every tie after this week's help and failures (a new array).

    Returns the new trust and whether any tie was helpful to someone who progressed (the
    numpy path keeps the old array only when no tie was and no trial failed).
    """
    n = len(ptr) - 1
    out = np.empty_like(trust)
    changed = False
    for i in range(n):
        up_i = progressed[i]
        down_i = failed[i]
        for e in range(ptr[i], ptr[i + 1]):
            w = trust[e]
            if up_i and helpful[e]:
                w = w + gain * (1 - w)
                changed = True
            if down_i and encouraged[adviser[e]]:
                w = w * (1 - loss)
            out[e] = w
    return out, changed


@njit(cache=True, nogil=True)
def school_totals(
    first_slot,
    stage,
    resistant,
    participant,
    knowledge,
    quality,
    pupils,
    pupil_gain,
    uses,
    adopts,
    stages_out,
    counts_out,
    sums_out,
):
    """One week's per-school totals (:class:`sim.processes.outcomes.SchoolRecord`), one pass.

    Writes ``stages_out[school, stage]``, ``counts_out[:, school]`` (resistant, participants,
    adopted or embedded non-participants, participants using the practice) and ``sums_out[:, school]`` (know-how, quality,
    participants' know-how, pupils reached, pupil gain x pupils).
    """
    n_schools = len(first_slot)
    n = len(stage)
    for s in range(n_schools):
        lo = first_slot[s]
        hi = first_slot[s + 1] if s + 1 < n_schools else n
        for k in range(stages_out.shape[1]):
            stages_out[s, k] = 0
        n_res = n_part = n_spread = n_part_using = 0
        k_sum = q_sum = pk_sum = reached = gain = 0.0
        for i in range(lo, hi):
            st = stage[i]
            stages_out[s, st] += 1
            n_res += resistant[i]
            n_part += participant[i]
            n_spread += adopts[st] and not participant[i]
            n_part_using += uses[st] and participant[i]
            k_sum += knowledge[i]
            q_sum += quality[i]
            pk_sum += knowledge[i] * participant[i]
            reached += uses[st] * pupils[i]
            gain += pupil_gain[i] * pupils[i]
        counts_out[0, s] = n_res
        counts_out[1, s] = n_part
        counts_out[2, s] = n_spread
        counts_out[3, s] = n_part_using
        sums_out[0, s] = k_sum
        sums_out[1, s] = q_sum
        sums_out[2, s] = pk_sum
        sums_out[3, s] = reached
        sums_out[4, s] = gain


# ------------------------------------------------------------------------------------------
# Hooks called by the processes
# ------------------------------------------------------------------------------------------


class _WeekSums:
    """Per-seeker sums left by this week's conversation pass for Decision to use."""

    def __init__(self, week: int, key: tuple, seen: np.ndarray) -> None:
        self.week = week
        self.key = key
        self.seen = seen


def _inputs_key(model: KnowledgeMobilisationModel) -> tuple:
    # The version stamps of what the readiness sums read (sim.versioning).
    return (model.ties.version("trust"), model.staff.version("quality", "resistant", "participant"))


def conversation(process, week: int, talks, uses, unaware: int, aware: int) -> None:
    """Hold the week's conversations, fused with the readiness sums.

    The compiled form of :class:`sim.processes.Conversation` plus the per-tie half of
    :meth:`sim.processes.Decision.readiness`.
    """
    m = process.model
    staff, ties = m.staff, m.ties
    m.streams.check_size("conversation.contact", ties.n)
    key = np.uint64(m.streams.key("conversation.contact", week))
    active = np.empty(ties.n, dtype=np.bool_)
    helpful = np.empty(ties.n, dtype=np.bool_)
    seen = np.empty(staff.n)
    total = np.empty(staff.n)
    decision = _decision(m)
    visibility = decision.visibility()
    staff.knowledge = converse_pass(
        m.tie_ptr,
        ties.adviser,
        ties.trust,
        process.contact_scale,
        key,
        staff.stage,
        staff.knowledge,
        staff.resistant,
        talks,
        uses,
        staff.quality,
        visibility,
        decision.d.resistant_influence,
        process.rate,
        np.int8(unaware),
        np.int8(aware),
        active,
        helpful,
        seen,
        total,
    )
    m.now.active_ties = active
    m.now.helpful_ties = helpful
    m.set_trust_total(total)
    m.kernel_sums = _WeekSums(week, _inputs_key(m), seen)


def _decision(model: KnowledgeMobilisationModel):
    for p in model.processes:
        if p.name == "decision":
            return p
    raise LookupError("the fused kernel needs the Decision process in the weekly order")


def readiness_sums(model: KnowledgeMobilisationModel, week: int) -> np.ndarray | None:
    """``sum_j w_ij shown_j`` from this week's conversation pass, if still valid (else None)."""
    sums = getattr(model, "kernel_sums", None)
    if sums is None or sums.week != week:
        return None
    if sums.key != _inputs_key(model):
        return None
    return sums.seen


def trust_update(model: KnowledgeMobilisationModel, progressed, failed, encouraged, cfg):
    """Tie trust after this week (:class:`sim.processes.TrustUpdate`); None if unchanged."""
    ties = model.ties
    new, changed = trust_pass(
        model.tie_ptr,
        ties.adviser,
        ties.trust,
        model.now.helpful_ties,
        progressed,
        failed,
        encouraged,
        cfg.gain,
        cfg.loss,
    )
    return new if changed or failed.any() else None


rng.use_compiled(uniforms_at, enabled)  # whole stream-weeks too, when the kernel is in use
