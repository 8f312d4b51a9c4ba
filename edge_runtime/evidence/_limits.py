"""The sandbox child's first lines (never imported by the runtime): lower its own rlimits.

Set here rather than in a preexec_fn: a preexec_fn stops subprocess from using vfork, which cost
a short run ~45 ms. Nothing of the candidate's has run yet, and a lowered hard limit cannot be raised
again without privileges the child does not have. `_RLIMITS` is set by the line sandbox.py prepends.
"""
import resource as _resource

for _limit, _value in _RLIMITS:  # noqa: F821 - defined by the line sandbox.py puts before this text
    _resource.setrlimit(_limit, _value)
del _resource, _limit, _value
