"""How far to draft: the measured verify cost curve times each drafter's measured acceptance."""
from __future__ import annotations


FREE_DRAFT = 0.05  # a proposed token costing less than this share of a target step counts as free


def moving_average(old: float | None, new: float) -> float:
    """Recent timings weigh most: the machine's speed drifts while it decodes."""
    return new if old is None else 0.8 * old + 0.2 * new


class VerifyCost:
    """What a target forward of b tokens costs relative to a one-token step, measured while decoding.

    On a 2-core CPU a verify batch is far from free (1.5B Q4_K_M: 3 tokens cost 1.6 steps) and the
    curve differs between machines and weight layouts, so it is timed, not assumed. Until a size has
    been timed, each extra token is taken to cost `prior_slope` of a step.
    """

    def __init__(self, prior_slope: float = 0.33) -> None:
        self.prior_slope = prior_slope
        self._seconds: dict[int, float] = {}

    @classmethod
    def measured(cls, curve: dict[int, float], step_s: float) -> VerifyCost:
        """Costs known before the first step: a curve in one-token steps (tune's) and a step's seconds."""
        cost = cls()
        for size, steps in {1: 1.0, **curve}.items():  # one token costs one step, by the curve's definition
            cost.observe(int(size), steps * step_s)
        return cost

    def observe(self, size: int, seconds: float) -> None:
        self._seconds[size] = moving_average(self._seconds.get(size), seconds)

    def relative(self, size: int) -> float:
        one, this = self._seconds.get(1), self._seconds.get(size)
        if size == 1:
            return 1.0
        if one and this:
            return max(1.0, this / one)
        below = [s for s in self._seconds if 1 < s < size] if one else []
        if not below:
            return 1.0 + self.prior_slope * (size - 1)
        nearest = max(below)  # beyond it, each token costs what the timed sizes cost per token on average
        known = self.relative(nearest)
        return known + (known - 1.0) / (nearest - 1) * (size - nearest)

    def seconds_per_step(self) -> float | None:
        """A one-token step's seconds: measured, or derived from the narrowest batch timed so far
        (a drafter that always proposes leaves no one-token steps to time)."""
        if not self._seconds:
            return None
        size = min(self._seconds)
        return self._seconds[size] / self.relative(size) if size > 1 else self._seconds[1]


class Acceptance:
    """Per-token acceptance of drafts in one regime; old evidence decays so it follows the text."""

    DECAY = 0.9

    def __init__(self) -> None:
        self.hits, self.misses = 1.0, 1.0  # a uniform prior: alpha = 0.5 before any evidence

    def observe(self, drafted: int, accepted: int) -> None:
        self.hits = self.DECAY * self.hits + accepted
        self.misses = self.DECAY * self.misses + (accepted < drafted)

    @property
    def rate(self) -> float:
        return self.hits / (self.hits + self.misses)


def expected_tokens(alpha: float, length: int) -> float:
    """Tokens one verify step yields from a draft of `length` at per-token acceptance alpha
    (Leviathan et al. 2023): 1 + alpha + ... + alpha^length, in closed form (it runs every step)."""
    if alpha >= 1.0:
        return float(length + 1)
    return (1.0 - alpha ** (length + 1)) / (1.0 - alpha)


class DraftPolicy:
    """How many drafted tokens to verify: the length that maximises expected tokens per unit of
    verification cost, from the measured cost curve and the acceptance of the drafter that proposed.

    Acceptance is kept per drafter and per regime: right after a draft accepted whole (the text is
    copying its context, or the draft model is in step) acceptance runs far higher than after a
    miss. When no length pays, the step is plain, but after `probe_every` such steps one token is verified
    anyway, so that a regime that starts paying is noticed (each failed probe doubles the gap, up to
    `max_probe_gap`: on text that never copies, fixed probes cost about 1% of the reply on a 2-core CPU); a probe accepted whole is followed at
    once by one twice as long (1, 2, 4, ... up to what was proposed), since on a CPU where a batch of k
    costs nearly k steps only long drafts pay, and one-token probes every 8 steps would take hundreds of
    steps to learn that the text is copying. A failed probe ends the ramp and costs what it verified.
    A drafter whose proposals cost time (a model) is paused for `pause_steps` when drafting would not
    pay for itself, and probed when the pause ends; one that could not pay even if always right is
    retired for the generation.
    `min_draft` > 0 verifies at least that many proposed tokens regardless.

    Above the model sits a measured guard: tokens per second of the steps that drafted (their proposal
    included) against those of plain steps. Where the cost curve is flat (a GPU) the model's estimate
    can favour drafts that the realized rate does not; once `judge_after` drafting steps ran slower
    than plain, drafting rests for `pause_steps` (doubling while it keeps losing), then is tried again.
    """

    def __init__(self, max_draft: int = 4, min_draft: int = 0, *, probe_every: int = 8,
                 pause_steps: int = 16, judge_after: int = 6, max_probe_gap: int = 64,
                 cost: VerifyCost | None = None) -> None:
        self.max_draft, self.min_draft = max_draft, min_draft
        self.probe_every, self.pause_steps, self.judge_after = probe_every, pause_steps, judge_after
        self.max_probe_gap = max_probe_gap
        self._probe_gap = probe_every  # plain steps between probes: doubles while probes fail
        self._plain_rate: float | None = None  # tokens/s of steps that proposed nothing (moving average)
        self._spec_rate: float | None = None  # tokens/s of drafting steps since drafting last resumed
        self._spec_steps = 0
        self._losses = 0  # consecutive judgements that drafting was slower than plain
        self._proposal_s = 0.0  # the current step's proposal time
        self.cost = cost or VerifyCost()  # shared across generations by the decoder that owns it
        self._acceptance: dict[tuple[str, bool], Acceptance] = {}
        self._streak = False  # the last draft was accepted whole
        self._plain_steps = 0
        self._paused = 0
        self._probe_next = False
        self._ramp = 0  # the next probe's length after a probe accepted whole; 0: none under way
        self._probing = 0  # the length the current step verifies as a probe
        self._retired = False
        self._proposals = 0
        self._draft_seconds: float | None = None  # per proposed token, moving average

    def _regime(self, source: str) -> Acceptance:
        return self._acceptance.setdefault((source, self._streak), Acceptance())

    def proposal_length(self, remaining: int) -> int:
        """How far to let the drafter propose (it may stop earlier); 0 while paused."""
        if self._retired and not self.min_draft:
            return 0
        if self._paused > 0:
            self._paused -= 1
            self._probe_next = self._paused == 0
            return 0
        return max(0, min(self.max_draft, remaining))

    def _best(self, alpha: float, proposed: int, draft_cost: float, beside: int = 0) -> tuple[int, float]:
        """The verify length with the most expected tokens per step-equivalent, and that rate; `beside`
        other lanes' tokens share the batch, so a draft competes with tokens that are sure to be kept."""
        best, best_rate = 0, (beside + 1) / self.cost.relative(beside + 1)
        for length in range(1, proposed + 1):
            rate = (beside + expected_tokens(alpha, length)) / (self.cost.relative(beside + length + 1)
                                                                 + length * draft_cost)
            if rate > best_rate:
                best, best_rate = length, rate
        return best, best_rate

    def verify_length(self, source: str, proposed: int, beside: int = 0) -> int:
        """The number of proposed tokens worth verifying now, in a batch with `beside` other lanes' tokens."""
        if proposed == 0:
            return 0
        alpha = self._regime(source).rate
        best, _ = self._best(alpha, proposed, 0.0, beside)  # the proposal is paid for: verify what pays
        if not beside:  # beside other lanes a probe lengthens a batch they all wait on: probes wait too
            best = self._probe(best, proposed)
        draft_cost = self._draft_cost()
        if draft_cost > 0 and self._best(1.0, self.max_draft, draft_cost)[0] == 0:
            self._retired = True  # could not pay even if always right: plain decoding from here on
        elif draft_cost > 0 and self._best(alpha, self.max_draft, draft_cost)[0] == 0:
            self._rest()  # proposing would not pay for itself now: rest the drafter
        return max(best, min(self.min_draft, proposed))

    def _probe(self, best: int, proposed: int) -> int:
        """`best`, or a longer probe where one is due: after `_probe_gap` plain steps, to follow a probe
        accepted whole (the ramp), or on resuming from a rest."""
        if best == 0:
            self._plain_steps += 1
        if self._ramp > best or (best == 0 and self._plain_steps >= self._probe_gap):
            self._plain_steps = 0
            best = self._probing = min(proposed, max(self._ramp, 1))
        if self._probe_next:
            best, self._probe_next = max(best, 1), False
        return best

    def _draft_cost(self) -> float:
        """A proposed token's cost in target steps; 0 for a drafter whose proposals are practically free
        (an n-gram lookup: microseconds against a step of milliseconds). Resting or retiring is for
        drafters that spend time (a model): a free drafter rested on a cost curve still being learned
        stopped proposing, so it could never show that the text copies (an H200 run drafted 1 token)."""
        step = self.cost.seconds_per_step()
        cost = self._draft_seconds / step if self._draft_seconds is not None and step else 0.0
        return cost if cost >= FREE_DRAFT else 0.0

    def observe_proposal(self, proposed: int, seconds: float) -> None:
        self._proposal_s = seconds
        self._proposals += 1
        if proposed and self._proposals > 1:  # the first one includes the draft model's prompt prefill
            self._draft_seconds = moving_average(self._draft_seconds, seconds / proposed)

    def observe(self, source: str, drafted: int, accepted: int, seconds: float | None) -> None:
        """A verify step of `drafted` + 1 tokens took `seconds` (None: not its own, a batch shared with other
        lanes) and kept `accepted` drafted ones."""
        if seconds is not None:
            self.cost.observe(drafted + 1, seconds)
        if drafted:
            self._regime(source).observe(drafted, accepted)
            self._streak = accepted == drafted
        if self._probing:
            whole = drafted and accepted == drafted
            self._ramp = min(2 * drafted, self.max_draft) if whole else 0
            self._probe_gap = self.probe_every if whole else min(2 * self._probe_gap, self.max_probe_gap)
            self._probing = 0
        if seconds is not None:
            self._guard(drafted, accepted, seconds)

    def _guard(self, drafted: int, accepted: int, seconds: float) -> None:
        """Rest drafting while its measured tokens/s stay below plain decoding's (min_draft excepted)."""
        spent, proposal = seconds + self._proposal_s, self._proposal_s
        self._proposal_s = 0.0
        if not drafted and proposal <= 0.05 * seconds:  # a plain step (a free proposal that found nothing)
            self._plain_rate = moving_average(self._plain_rate, 1.0 / spent)
            return
        self._spec_rate = moving_average(self._spec_rate, (accepted + 1) / spent)
        self._spec_steps += 1
        plain = self._plain_rate or self._forward_rate()
        if plain is None or self._spec_steps < self.judge_after or self.min_draft:
            return
        if self._spec_rate < plain:
            self._rest()
        elif self._spec_steps >= 2 * self.judge_after:
            self._losses = 0

    def _forward_rate(self) -> float | None:
        """Plain decoding's tokens/s from the timed one-token forwards, when no step has been plain:
        a model drafter that proposes every step (often nothing, below its confidence floor) leaves
        none, and its cost must still be judged."""
        step = self.cost.seconds_per_step()
        return 1.0 / step if step else None

    def _rest(self) -> None:
        """Pause drafting; each rest in a row without a win between them is twice as long (at most 16x),
        except under `min_draft`, which asks for drafts regardless: there rests stay `pause_steps`."""
        self._paused = self.pause_steps * (1 if self.min_draft else 2 ** min(self._losses, 4))
        self._losses += 1
        self._spec_rate, self._spec_steps = None, 0
