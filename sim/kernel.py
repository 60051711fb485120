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
     compute after it;
   * access to participants' how-to support (:func:`sim.access.support_access`): i's highest
     trust on a tie to a participant, kept as the ties go by, gives i's access and the support
     i can draw on in readiness (:func:`sim.processes.decision.support_heard`); both are left in
     the caches the numpy path derives them into, for Decision and Practice to read.

2. :func:`decision_pass` is :meth:`sim.processes.Decision.step` (step 7) per slot: readiness from
   its terms, resistance under pressure, persuasion, acting and trying anyway, each draw
   computed inline only where it can matter.

3. :func:`practice_pass` is :meth:`sim.processes.Practice.step` (step 8) per slot: the share of
   how-to support that reaches trialling staff, quality growth or decay, adoption, failed trials,
   embedding and lapse.

4. :func:`trust_pass` is the per-tie half of :class:`sim.processes.TrustUpdate` (step 9): trust
   closes a share of its gap on helpful ties of staff who progressed, and falls on failed
   trialists' ties to those who encouraged them.

5. :func:`outcomes_pass` and :func:`school_totals` are :class:`sim.processes.Outcomes` (step
   10): pupil gains and weeks in stage per slot, then the week's per-school totals of the record
   (:class:`sim.processes.outcomes.SchoolRecord`) in one pass over the staff; counts are exact,
   float sums agree with numpy's to rounding (numpy's ``reduceat`` sums in blocks).
   :func:`outcomes_week` runs both in one call when the record is per-school totals.

   In the default weekly order, :func:`late_week_pass` runs steps 8 to 10 (practice, trust,
   outcomes) in one call, and :func:`conversation_decision_pass` steps 6 and 7: the model's
   weekly loop calls them in place of those processes' steps
   (:meth:`sim.model.KnowledgeMobilisationModel.weekly_calls`).

6. Smaller passes of the same kind: :func:`perception_pass` (what each person perceives of the
   levers, :meth:`sim.model.KnowledgeMobilisationModel.refresh_perception`, step 1 and whenever
   the work goes in or out of sight), :func:`leadership_pass` (research leads' materials, then
   where the work goes out of sight or comes back, step 4), :func:`sessions_pass` (whole-staff
   sessions but their directive, step 5) and :func:`max_over_runs` (each person's highest trust
   on a tie to a participant, :func:`sim.access.trust_in_participants`, for sessions in the
   weeks that hold them).

The processes call these through small hooks (:func:`conversation`, :func:`readiness_sums`,
:func:`trust_update`) or directly (Decision, Practice) when :func:`enabled` is true; otherwise
they run their numpy code, which stays the reference. At New Forest's size (86 staff) a week is
a few microseconds of arithmetic and mostly Python overhead, so the passes also save the dozens
of small numpy calls per process; the random keys are passed as the stream's table of keys and
the week (:meth:`sim.rng.Streams.keys`), stage codes as Python ints: Numba's dispatcher takes
numpy scalars slowly (microseconds each). Every sum is accumulated in the same order as ``numpy.bincount`` does
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
    "conversation_decision_pass",
    "converse_pass",
    "decision_pass",
    "enabled",
    "late_week_pass",
    "leadership_pass",
    "max_over_runs",
    "outcomes_pass",
    "outcomes_week",
    "perception_pass",
    "practice_pass",
    "readiness_sums",
    "school_totals",
    "sessions_pass",
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


@njit(cache=True, inline="always")
def _ties_of(ptr, i):
    """The indices of seeker i's ties, ``ptr[i]:ptr[i+1]``.

    Unsigned, as the adviser indices are read (``np.uint32``): Numba then leaves out the
    negative-index wraparound of every array access in the per-tie loops (about 15% of the
    conversation pass).
    """
    return range(np.uint64(ptr[i]), np.uint64(ptr[i + 1]))


@njit(cache=True, nogil=True)
def uniforms_at(keys, week, index):
    """:func:`sim.rng.uniforms` compiled: the same values, without numpy's temporaries.

    ``keys`` is the stream's key table (:meth:`sim.rng.Streams.keys`), ``keys[week]`` the key.
    """
    key = keys[week]
    out = np.empty(len(index))
    for i in range(len(index)):
        out[i] = uniform_at(key, index[i])
    return out


@njit(cache=True, nogil=True)
def converse_pass(
    ptr,
    adviser,
    trust,
    contact_scale_of_seeker,
    keys,
    week,
    stage,
    knowledge,
    resistant,
    quality,
    visibility,
    active,
    helpful,
    seen,
    trust_total,
    new_knowledge,
    participant,
    support,
    access,
    support_heard,
    talks,
    uses,
    resistant_influence,
    rate,
    unaware,
    aware,
    reach_untied,
):
    """One pass over the ties: conversation, and the per-tie sums readiness needs.

    Writes ``active`` and ``helpful`` (per tie), ``seen``, ``trust_total`` and
    ``new_knowledge`` (per seeker); updates ``stage`` (unaware -> aware for those who heard).
    In the same pass, each person's access to a participant's how-to support
    (:func:`sim.access.support_access`: 1 for a participant, else ``f + (1 - f) t_i`` with
    ``t_i`` the highest trust on a tie to a participant and ``f = reach_untied``) into
    ``access``, and the support they can draw on in readiness, ``support * access``
    (:func:`sim.processes.decision.support_heard`), into ``support_heard``. All reads of
    colleagues' state use the state at the start of the pass (synchronous).
    """
    n = len(ptr) - 1
    key = keys[week]
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
        contact_i = contact_scale_of_seeker[i]  # a tie's contact scale is its seeker school's
        gain = 0.0
        weight = 0.0
        seen_i = 0.0
        total_i = 0.0
        best = 0.0  # highest trust on a tie to a participant (a maximum: exact in any order)
        hears = False
        for e in _ties_of(ptr, i):
            j = np.uint32(adviser[e])
            w = trust[e]
            total_i += w
            if participant[j] and w > best:
                best = w
            seen_i += w * shown[j]
            # Branch-free: the draw is 50:50 often enough that a branch would mispredict.
            # Adding 0.0 where a tie is not helpful leaves the sums bit-identical to numpy's.
            is_active = uniform_at(key, e) < min(contact_i * w, 1.0)
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
        a_i = 1.0 if participant[i] else reach_untied + (1.0 - reach_untied) * best
        access[i] = a_i
        support_heard[i] = support[i] * a_i
    for i in range(n):
        if heard[i] and stage[i] == unaware:
            stage[i] = aware


@njit(cache=True, nogil=True)
def conversation_decision_pass(conversation_args, decision_args):
    """Steps 6 and 7 of a week in one call: :func:`converse_pass`, then :func:`decision_pass`.

    The argument tuples share arrays: the decision pass reads the sums and the new know-how the
    conversation pass wrote. Returns whether anyone's resistance may have changed.
    """
    converse_pass(*conversation_args)
    return decision_pass(*decision_args)


@njit(cache=True, nogil=True)
def trust_pass(
    ptr,
    adviser,
    trust,
    helpful,
    stage,
    stage_at_start,
    participant,
    uses,
    lapsed,
    failed,
    gain,
    loss,
):
    """Trust on every tie after this week's help and failures, updated in place.

    Who progressed (changed stage this week other than by lapsing, or uses the practice) and who
    encouraged a failed trial (uses the practice or took part in the PLN) are read per slot in
    the same pass. Returns whether trust changed (the numpy path assigns a new array when a
    tie was helpful to someone who progressed or a trial failed; the caller then bumps the
    version of ``ties.trust``).
    """
    n = len(ptr) - 1
    changed = False
    for i in range(n):
        st = stage[i]
        up_i = uses[st] or (st != stage_at_start[i] and st != lapsed)
        down_i = failed[i]
        changed |= down_i
        if not (up_i or down_i):
            continue  # nothing changes on i's ties (most seekers, most weeks)
        for e in _ties_of(ptr, i):
            w = trust[e]
            if up_i and helpful[e]:
                w = w + gain * (1 - w)
                changed = True
            if down_i:
                j = np.uint32(adviser[e])
                if uses[stage[j]] or participant[j]:
                    w = w * (1 - loss)
            trust[e] = w
    return changed


@njit(cache=True, nogil=True)
def outcomes_pass(stage, stage_at_start, quality, pupil_gain, stage_weeks, uses, offset, rate):
    """The per-slot half of :meth:`sim.processes.Outcomes.step` (new arrays).

    Classes of users gain ``rate * q`` plus the stage's offset (the trial dip); weeks in stage
    count up, or restart at 0 for those whose stage changed this week.
    """
    n = len(stage)
    gain = np.empty(n)
    weeks = np.empty_like(stage_weeks)
    for i in range(n):
        st = stage[i]
        gain[i] = pupil_gain[i] + (rate * quality[i] + offset[st]) if uses[st] else pupil_gain[i]
        weeks[i] = stage_weeks[i] + 1 if st == stage_at_start[i] else 0
    return gain, weeks


@njit(cache=True, nogil=True)
def outcomes_week(
    stage,
    stage_at_start,
    quality,
    pupil_gain,
    stage_weeks,
    first_slot,
    resistant,
    participant,
    knowledge,
    pupils,
    stages_out,
    counts_out,
    sums_out,
    uses,
    adopts,
    offset,
    rate,
):
    """:func:`outcomes_pass` then :func:`school_totals` of the new state, one call (step 10)."""
    gain, weeks = outcomes_pass(
        stage, stage_at_start, quality, pupil_gain, stage_weeks, uses, offset, rate
    )
    school_totals(
        first_slot,
        stage,
        resistant,
        participant,
        knowledge,
        quality,
        pupils,
        gain,
        uses,
        adopts,
        stages_out,
        counts_out,
        sums_out,
    )
    return gain, weeks


@njit(cache=True, nogil=True)
def late_week_pass(
    practice_args,
    ptr,
    adviser,
    trust,
    helpful,
    trust_gain,
    trust_loss,
    pupil_gain,
    first_slot,
    resistant,
    pupils,
    stages_out,
    counts_out,
    sums_out,
    adopts,
    offset,
    rate,
):
    """Steps 8 to 10 of a week in one call, each on the state the one before left.

    :func:`practice_pass`, :func:`trust_pass`, then :func:`outcomes_week`; ``practice_args`` are :func:`practice_pass`'s arguments. Trust reads who failed a trial
    this week from the practice pass, the outcomes its new quality (where nobody practises,
    quality only decays: the same values the numpy path reads). Returns the practice pass's
    results, whether tie trust changed, and the new pupil gains and weeks in stage.
    """
    new_quality, any_user = practice_pass(*practice_args)
    # What the later passes read of practice_pass's arguments (by position).
    stage, stage_at_start, stage_weeks = practice_args[0], practice_args[1], practice_args[2]
    knowledge, participant, failed = practice_args[5], practice_args[10], practice_args[18]
    uses, lapsed = practice_args[19], practice_args[29]
    trust_changed = trust_pass(
        ptr,
        adviser,
        trust,
        helpful,
        stage,
        stage_at_start,
        participant,
        uses,
        lapsed,
        failed,
        trust_gain,
        trust_loss,
    )
    gain, weeks = outcomes_week(
        stage,
        stage_at_start,
        new_quality,
        pupil_gain,
        stage_weeks,
        first_slot,
        resistant,
        participant,
        knowledge,
        pupils,
        stages_out,
        counts_out,
        sums_out,
        uses,
        adopts,
        offset,
        rate,
    )
    return new_quality, any_user, trust_changed, gain, weeks


@njit(cache=True, nogil=True)
def max_over_runs(values, index, starts, owners, n):
    """Per owner, the largest of ``values[index]`` over the run of ``index`` that is theirs.

    Run ``r`` begins at ``starts[r]`` and belongs to ``owners[r]``; owners without a run get 0.
    The compiled form of ``out[owners] = np.maximum.reduceat(values[index], starts)`` (a maximum
    is exact, whatever the order) without the gathered copy:
    :func:`sim.access.trust_in_participants` reads each seeker's ties to participants this way
    whenever tie trust changes.
    """
    out = np.zeros(n)
    n_runs = len(starts)
    for r in range(n_runs):
        end = starts[r + 1] if r + 1 < n_runs else len(index)
        best = values[index[starts[r]]]
        for k in range(starts[r] + 1, end):
            v = values[index[k]]
            if v > best:
                best = v
        out[owners[r]] = best
    return out


@njit(cache=True, nogil=True)
def perception_pass(
    participant, exposed, out_of_sight, school, signal_of_staff, howto, facilitator
):
    """What each person perceives of the school's levers, in one pass.

    The arrays of :meth:`sim.model.KnowledgeMobilisationModel.refresh_perception` except the
    mode's depth. Returns ``reached`` (a participant, or exposed where the work is not out of sight), the
    school's ``signal`` where reached, and how-to ``support``: participants get the better of the
    school's and the facilitator's, others the school's where reached.
    """
    n = len(participant)
    reached = np.empty(n, dtype=np.bool_)
    signal = np.empty(n)
    support = np.empty(n)
    for i in range(n):
        r = participant[i] or (exposed[i] and not out_of_sight[school[i]])
        reached[i] = r
        signal[i] = signal_of_staff[i] if r else 0.0
        if participant[i]:
            support[i] = max(howto[i], facilitator)
        else:
            support[i] = howto[i] if r else 0.0
    return reached, signal, support


@njit(cache=True, nogil=True)
def sessions_pass(
    audience,
    participant,
    out_of_sight,
    school,
    n_schools,
    knowledge,
    stage,
    distributed,
    heed,
    keys_attend,
    week,
    attendance,
    learn_rate,
    unaware,
    aware,
):
    """Whole-staff sessions (:func:`sim.strategies.base.hold_sessions`) but the directive.

    Non-participants in ``audience`` whose school's work is in sight are invited; each attends
    with probability ``attendance`` (a draw per invited slot, inline), becomes aware and closes
    a share ``learn_rate (0.5 + 0.5 D_s) heed_i`` of the gap to the most knowledgeable
    participant of their school. Returns ``None`` when nobody is invited (nothing drawn, nothing
    changed); else the new know-how, who attended and how many attended per school (``stage``
    updated in place).
    """
    n = len(stage)
    invited = np.empty(n, dtype=np.bool_)
    anyone = False
    for i in range(n):
        invited[i] = audience[i] and not participant[i] and not out_of_sight[school[i]]
        anyone |= invited[i]
    if not anyone:
        return None
    lead_k = np.zeros(n_schools)  # the most knowledgeable participant's know-how (0 if none)
    for i in range(n):
        if participant[i] and knowledge[i] > lead_k[school[i]]:
            lead_k[school[i]] = knowledge[i]
    key = keys_attend[week]
    new_knowledge = np.empty(n)
    attended = np.zeros(n, dtype=np.bool_)
    count = np.zeros(n_schools, dtype=np.int64)
    for i in range(n):
        k = knowledge[i]
        if invited[i] and uniform_at(key, i) < attendance:
            s = school[i]
            rate = learn_rate * (0.5 + 0.5 * distributed[s]) * heed[i]
            k = k + rate * max(lead_k[s] - k, 0.0)
            attended[i] = True
            count[s] += 1
            if stage[i] == unaware:
                stage[i] = aware
        new_knowledge[i] = k
    return new_knowledge, attended, count


@njit(cache=True, nogil=True)
def leadership_pass(
    research_lead,
    in_sight,
    out_of_sight,
    school,
    stage,
    knowledge,
    lead_rate,
    trialling,
    h_out,
    p_back,
    keys_out,
    keys_back,
    week,
    workshop_week,
    attended,
):
    """:class:`sim.processes.LeadershipActions`' weekly work but new priorities, one call.

    1. Research leads: in schools with one where the work is in sight (and not out of sight),
       trialling staff close a share ``lead_rate`` of their knowledge gap.
    2. Sight, per school: in sight and not yet out, the work goes out with probability
       ``h_out``; out of sight, it comes back with probability ``p_back`` (a check-in) or when
       any of its participants attended a workshop this week (``workshop_week``, ``attended``
       per slot). Each draw is computed inline only where it can matter.

    Returns the new know-how, whether anyone gained, the new ``out_of_sight`` and whether it
    changed.
    """
    n_schools = len(in_sight)
    led = np.empty(n_schools, dtype=np.bool_)
    any_led = False
    for s in range(n_schools):
        led[s] = research_lead[s] and in_sight[s] and not out_of_sight[s]
        any_led |= led[s]
    new_knowledge = knowledge
    learned = False
    if any_led:
        new_knowledge = np.empty(len(stage))
        for i in range(len(stage)):
            k = knowledge[i]
            if led[school[i]] and stage[i] == trialling:
                k = k + lead_rate * (1.0 - k)
                learned = True
            new_knowledge[i] = k
    key_out, key_back = keys_out[week], keys_back[week]
    came = np.zeros(n_schools, dtype=np.bool_)
    if workshop_week:
        for i in range(len(school)):
            if attended[i]:
                came[school[i]] = True
    out = np.empty(n_schools, dtype=np.bool_)
    changed = False
    for s in range(n_schools):
        if out_of_sight[s]:
            back = came[s] or uniform_at(key_back, s) < p_back[s]
            out[s] = not back
            changed |= back
        else:
            goes = in_sight[s] and uniform_at(key_out, s) < h_out[s]
            out[s] = goes
            changed |= goes
    return new_knowledge, learned, out, changed


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


@njit(cache=True, nogil=True)
def decision_pass(
    stage,
    resistant,
    pressured,
    seen,
    trust_total,
    signal,
    support,
    knowledge,
    threshold,
    trust_in_leaders,
    has_time,
    keys_resist,
    keys_act,
    keys_noise,
    week,
    new_resistant,
    w_social,
    w_formal,
    w_support,
    may_move,
    may_interest,
    may_try_anyway,
    resistance_margin,
    resistance_rate,
    relapse_margin,
    resistance_exit,
    p_act,
    noise_enabled,
    noise_rate,
    interested,
    trialling,
    lapsed,
):
    """:meth:`sim.processes.Decision.step` for every slot, in one pass.

    Readiness ``R_i = w_social seen_i / trust_total_i + w_formal P_i tau_i + w_support H_i k_i``
    (``seen`` is ``sum_j w_ij shown_j``, ``trust_total`` ``sum_j w_ij``; ``signal`` and
    ``support`` as perceived this week), then resistance under pressure, persuasion, acting
    (``p_act``, or for certain when pressured) and trying anyway (noise), with each draw computed
    inline only where it can matter. Updates ``stage`` in
    place and writes ``new_resistant``; returns False (and changes nothing) when nobody is in a
    stage that may move, as the numpy path does.
    """
    n = len(stage)
    anyone = False
    for i in range(n):
        if may_move[stage[i]]:
            anyone = True
            break
    if not anyone:
        return False
    key_resist, key_act, key_noise = keys_resist[week], keys_act[week], keys_noise[week]
    for i in range(n):
        st = stage[i]
        if not may_move[st] and not resistant[i]:
            # Unaware or using the practice, not resistant: no transition can apply (each needs
            # aware, interested or lapsed, or resistance), so the stage stays and i is not
            # resistant; skipping i skips only draws that could not matter.
            new_resistant[i] = False
            continue
        # w_social E_i, E_i the trust-weighted mean of what i sees (0 without trusted ties).
        social_weight = w_social * (1.0 / trust_total[i] if trust_total[i] > 0 else 0.0)
        formal = w_formal * signal[i] * trust_in_leaders[i]
        ready = seen[i] * social_weight + formal + w_support * support[i] * knowledge[i]
        theta = threshold[i]
        resisting = resistant[i]
        if (
            not resisting
            and pressured[i]
            and may_move[st]
            and ready < theta - resistance_margin
            and uniform_at(key_resist, i) < resistance_rate * (1.0 - trust_in_leaders[i])
        ):
            resisting = True
        if resisting:
            need = theta + resistance_exit
        elif st == lapsed:
            need = theta + relapse_margin
        else:
            need = theta
        persuaded = ready >= need
        if persuaded and not pressured[i]:
            persuaded = uniform_at(key_act, i) < p_act
        can_try = has_time[i] and not resisting
        new = st
        if persuaded and (may_interest[st] or resisting):
            new = interested
        if (persuaded and can_try and st == interested) or (
            noise_enabled
            and can_try
            and may_try_anyway[st]
            and uniform_at(key_noise, i) < noise_rate  # drawn only where it can matter
        ):
            new = trialling
        stage[i] = new
        new_resistant[i] = resisting and not persuaded
    return True


@njit(cache=True, nogil=True)
def practice_pass(
    stage,
    stage_at_start,
    stage_weeks,
    quality,
    fit,
    knowledge,
    growth_base,
    depth,
    support,
    school,
    participant,
    capacity,
    reach,
    can_embed,
    h_user,
    h_embedded,
    keys,
    week,
    failed,
    uses,
    keep,
    q_adopt,
    q_embed,
    trial_weeks_max,
    embed_weeks,
    per_room,
    trialling,
    adopted,
    embedded,
    lapsed,
):
    """:meth:`sim.processes.Practice.step` for every slot, in two passes.

    First the demand for how-to support in each school (trialling non-participants), then per
    slot: the share of support that reaches them (:meth:`~sim.processes.Practice._coverage`),
    quality growth or decay, adoption, a failed trial, embedding and lapse (a draw for users
    only). Updates ``stage`` in place, writes ``failed``; returns the new quality and whether
    anyone uses the practice.
    """
    n = len(stage)
    key = keys[week]
    demand = np.zeros(len(capacity), dtype=np.int64)
    any_user = False
    for i in range(n):
        st = stage[i]
        any_user |= uses[st]
        if st == trialling and not participant[i]:
            demand[school[i]] += 1
    share = np.empty(len(capacity))
    for s in range(len(capacity)):
        share[s] = min(capacity[s] / max(demand[s], 1), 1.0)
    new_quality = np.empty(n)
    for i in range(n):
        st = stage[i]
        q = quality[i]
        if not uses[st]:
            new_quality[i] = q * keep
            failed[i] = False
            continue
        # Growth, paced by know-how, capped by fit; (0.5 H) * 1.0 == 0.5 H where not asking.
        coverage = share[school[i]] * reach[i] if st == trialling and not participant[i] else 1.0
        growth = growth_base[i] * depth[i] * (0.5 + 0.5 * support[i] * coverage) * knowledge[i]
        q = q + growth * max(fit[i] - q, 0.0)
        new_quality[i] = q
        weeks_in = stage_weeks[i] if st == stage_at_start[i] else 0
        to_adopt = st == trialling and q >= q_adopt
        fails = st == trialling and not to_adopt and weeks_in + 1 >= trial_weeks_max
        to_embed = st == adopted and can_embed[i] and q >= q_embed and weeks_in >= embed_weeks
        hazard = (h_embedded[i] if st == embedded else h_user[i]) * (1.0 - q) * per_room
        failed[i] = fails
        if fails or uniform_at(key, i) < hazard:
            stage[i] = lapsed
        elif to_adopt:
            stage[i] = adopted
        elif to_embed:
            stage[i] = embedded
    return new_quality, any_user


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


def conversation(
    process, week: int, talks, uses, unaware: int, aware: int, decide: bool = False
) -> None:
    """Hold the week's conversations, fused with the readiness sums.

    The compiled form of :class:`sim.processes.Conversation` plus the per-tie half of
    :meth:`sim.processes.Decision.readiness`. The arguments fixed for the run (look-ups,
    parameters, stage codes) are gathered in its first week and kept on ``process``; the
    stream's size is checked then (ties are permanent). With ``decide``, Decision's pass runs
    in the same call (:func:`conversation_decision_pass`), in place of its step.
    """
    m = process.model
    staff, ties = m.staff, m.ties
    decision = process.decision
    fixed = process.kernel_fixed
    if fixed is None:
        m.streams.check_size("conversation.contact", ties.n)
        fixed = process.kernel_fixed = (
            talks,
            uses,
            decision.d.resistant_influence,
            process.rate,
            int(unaware),
            int(aware),
            float(m.config.practice.support_reach_untied),
        )
    # The stamps of what access to participants' support is derived from (unchanged by the pass).
    access_key = access_stamps(m)
    active = np.empty(ties.n, dtype=np.bool_)
    helpful = np.empty(ties.n, dtype=np.bool_)
    seen = np.empty(staff.n)
    total = np.empty(staff.n)
    knowledge = np.empty(staff.n)
    reach = np.empty(staff.n)
    heard = np.empty(staff.n)
    args = (
        m.tie_ptr,
        ties.adviser,
        ties.trust,
        process.contact_scale_of_seeker,
        m.streams.keys("conversation.contact", week),
        week,
        staff.stage,
        staff.knowledge,
        staff.resistant,
        staff.quality,
        decision.visibility(),
        active,
        helpful,
        seen,
        total,
        knowledge,
        staff.participant,
        m.now.support,
        reach,
        heard,
        *fixed,
    )
    if decide:
        resistant = np.empty(staff.n, dtype=bool)
        moved = conversation_decision_pass(
            args, decision.compiled_args(week, seen, total, knowledge, resistant, heard)
        )
    else:
        converse_pass(*args)
    # Access and the support heard, as sim.access and Decision would derive them now.
    m.cache_derived("support_access", access_key, reach)
    decision.keep_support_heard(heard)
    staff.knowledge = knowledge
    now = m.now
    now.active_ties = active
    now.helpful_ties = helpful
    m.set_trust_total(total)
    m.kernel_sums = _WeekSums(week, _inputs_key(m), seen)
    if decide and moved:
        staff.resistant = resistant


def access_stamps(model: KnowledgeMobilisationModel) -> tuple:
    """The version stamps :func:`sim.access.support_access` is derived from."""
    return (model.staff.version("participant"), model.ties.version("trust"))


def readiness_sums(model: KnowledgeMobilisationModel, week: int) -> np.ndarray | None:
    """``sum_j w_ij shown_j`` from this week's conversation pass, if still valid (else None)."""
    sums = getattr(model, "kernel_sums", None)
    if sums is None or sums.week != week:
        return None
    if sums.key != _inputs_key(model):
        return None
    return sums.seen


def trust_update(model: KnowledgeMobilisationModel, uses, lapsed: int, cfg) -> None:
    """Tie trust after this week (:class:`sim.processes.TrustUpdate`), updated in place."""
    staff, ties, now = model.staff, model.ties, model.now
    if trust_pass(
        model.tie_ptr,
        ties.adviser,
        ties.trust,
        now.helpful_ties,
        staff.stage,
        now.stage_at_start,
        staff.participant,
        uses,
        lapsed,
        now.failed_trials,
        cfg.gain,
        cfg.loss,
    ):
        ties.touch("trust")


rng.use_compiled(uniforms_at, enabled)  # whole stream-weeks too, when the kernel is in use
