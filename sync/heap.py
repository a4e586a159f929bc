"""How Python's cyclic garbage collector runs in a goalsync process.

A command is a batch job: it imports its modules, loads the state, pulls, evaluates, publishes
and exits. Almost everything it allocates lives to the end (the modules, the loaded records,
the pulled records, the tables), and it makes few reference cycles. The collector's defaults
suit the opposite: a full pass is due whenever the long-lived objects grew by a quarter, and
walks every one of them. Measured at 8,000 items, an unchanged run spent about 0.12 s of its
0.9 s in the collector (a full 5,000 + 3,000 first run 0.3 s of 4.3 s); with the batch policy
below, 0.03 s, and peak memory stayed the same (no cycle-heavy garbage to wait for: with the
collector off altogether a 100,000-item run peaked at the same RSS).

`batch_collector` is the policy for the length of one CLI command; `keep_long_lived` moves what is
alive at a phase's end (the imported connectors, the loaded and pulled records) out of the
collector's passes. Objects are still freed when their last reference goes. A reference cycle
frozen with them, or one that was already garbage and not yet collected when they were frozen
(a retried request's traceback, say), waits for the command's end: a few objects per phase, not
the records, which hold no cycles. Outside a command (a test calling the engine, a library user)
both leave the collector alone, and so does a command run in a process that froze objects of its
own (a host that forks workers, say): its freeze is not ours to undo.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

# A young-generation pass every 50,000 allocations instead of 700, an older one every 20 of those,
# a full one every 10 older ones (and then only once the long-lived objects grew by a quarter).
BATCH_THRESHOLD = (50_000, 20, 10)

_active = False  # inside batch_collector
_freezing = False  # ... and the freezes are ours to undo: keep_long_lived freezes


@contextlib.contextmanager
def batch_collector() -> Iterator[None]:
    """One command's collector policy: what the command imported so far is frozen (it lives to
    the end), young passes are rarer; both undone on the way out. In a process that froze
    objects itself, only the passes are made rarer (unfreezing would undo its freeze too)."""
    global _active, _freezing
    if _active:  # nested (a command running another): the outer one owns the policy
        yield
        return
    before = gc.get_threshold()
    ours = gc.get_freeze_count() == 0
    try:
        _active, _freezing = True, ours
        gc.set_threshold(*BATCH_THRESHOLD)
        if ours:
            gc.freeze()
        yield
    finally:
        _active = _freezing = False
        gc.set_threshold(*before)
        if ours:
            gc.unfreeze()


def keep_long_lived() -> None:
    """Within a command: every object alive now is out of the collector's later passes (they
    would walk it again each time, and it lives to the end). Outside one, nothing."""
    if _freezing:
        gc.freeze()


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while an evaluation allocates its rows. With hundreds
    of thousands of live records, each generational pass walks all of them: about a third of
    an evaluation's time. The evaluation makes no reference cycles, so nothing waits for it."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
