"""Full garbage collections while the responder is not typing, never in the middle of a burst of keys.

The dashboard freezes what it loaded at start-up (``gc.freeze``), so collections never walk the
database. That leaves CPython's oldest generation nearly empty, and its rule for a full
collection ("the objects promoted since the last one exceed a quarter of those it kept")
then fires every ten young collections: every few dozen keystrokes a full collection walked
every cache the panes had built since, a 10–20 ms pause inside a keystroke (half the slow
keys of the dev benchmark's ``select`` figure).

So once the data is on screen, a full collection runs only when the keyboard and the mouse
have been still for a while, and what survives the young collections waits for a quiet moment.
A session typing without pause for minutes still gets a full collection: once the middle
generation has been collected ``backstop`` times, as CPython would at its default threshold of
10 times that.

The young generation is collected when ``YOUNG`` more container objects are alive than at the
last collection (CPython's default is 700). One keystroke that paints a new incident holds a few
thousand such objects for a moment (its strips, segments and styles) and frees nearly all of
them by reference counting before the next key: at 700 the collector ran seven times inside
every such keystroke, walking objects about to be freed anyway (~1 ms of the keystroke's ~14).
At ``YOUNG`` a collection comes once every few dozen keystrokes, when what they left behind
has added up, and walks at most that many objects (about 2 ms).
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable

#: A full collection needs this long without a key or a click.
QUIET_FOR = 1.0
#: How often the collector looks (a timer: one callback, no frame).
LOOK_EVERY = 2.0
#: Young collections come once this many more container objects are alive than at the last one.
YOUNG = 10_000


class IdleCollector:
    """Takes the oldest generation off CPython's automatic schedule and collects it when quiet;
    young collections come once per ``YOUNG`` surviving objects instead of per 700.

    ``clock`` is monotonic seconds. :meth:`touched` is called on every key and click;
    :meth:`look` from a timer. :meth:`stop` gives the schedule back.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic, backstop: int = 100) -> None:
        self.clock = clock
        self.backstop = backstop
        self.last_input = clock()
        self.collections = 0  # full collections run here (for tests and the benchmark)
        self._thresholds: tuple[int, int, int] | None = None

    def start(self) -> None:
        if self._thresholds is None:
            self._thresholds = gc.get_threshold()
            young, middle, _ = self._thresholds
            gc.set_threshold(max(young, YOUNG), middle, self.backstop)

    def stop(self) -> None:
        if self._thresholds is not None:
            gc.set_threshold(*self._thresholds)
            self._thresholds = None

    def touched(self) -> None:
        self.last_input = self.clock()

    def look(self) -> bool:
        """Collect the oldest generation if anything reached it and input has been quiet; True if it ran."""
        if self._thresholds is None or not gc.isenabled():
            return False
        if gc.get_count()[2] == 0 or self.clock() - self.last_input < QUIET_FOR:
            return False
        gc.collect()
        self.collections += 1
        return True
