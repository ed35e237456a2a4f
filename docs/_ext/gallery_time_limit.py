"""A time limit for each gallery script: a script that hangs fails, naming itself and its line.

The pages have myst-nb's ``nb_execution_timeout``; the gallery scripts get this.
sphinx-gallery calls :func:`reset` before and after every script (its
``reset_modules`` hook, set in docs/conf.py), and tests/test_gallery.py calls
:func:`start` and :func:`stop` around each script it runs standalone.

When the limit passes, a SIGALRM handler raises :class:`ScriptTimeout` inside the
script, naming the script and the line it was on; the build (and the test) then
fail as for any other error in a script. Code stuck in C never returns to Python
for the exception to be raised: ``faulthandler`` is the backstop, dumping every
thread's stack (which names the line) and ending the process a little later.
"""

from __future__ import annotations

import faulthandler
import linecache
import os
import signal
import sys
from pathlib import Path
from types import FrameType
from typing import Any

# Seconds per script. The slowest script takes about ten on a loaded two-core
# machine: a limit twelve times that fails a hang in minutes, never a slow run.
SECONDS = float(os.environ.get("AUTODIFF_REF_GALLERY_TIME_LIMIT", "120"))
# How long after the limit faulthandler ends a process stuck outside Python.
BACKSTOP_SECONDS = 30.0


class ScriptTimeout(TimeoutError):
    """A gallery script ran past its time limit."""


def where(frame: FrameType | None, script: str) -> str | None:
    """``file, line n: source`` of the innermost frame running ``script`` (or None)."""
    name = Path(script).name
    while frame is not None:  # up the stack: finite
        if Path(frame.f_code.co_filename).name == name:
            source = linecache.getline(frame.f_code.co_filename, frame.f_lineno)
            return (
                f"{frame.f_code.co_filename}, line {frame.f_lineno}: {source.strip()}"
            )
        frame = frame.f_back
    return None


def start(
    script: str, seconds: float | None = None, what: str = "gallery script"
) -> None:
    """Arm a limit for ``script`` (a ``what``), about to run in this (main) thread.

    The default limit is :data:`SECONDS`, which AUTODIFF_REF_GALLERY_TIME_LIMIT sets.
    """
    setting = ""
    if seconds is None:
        seconds, setting = SECONDS, " (AUTODIFF_REF_GALLERY_TIME_LIMIT)"

    def on_alarm(signum: int, frame: FrameType | None) -> None:
        line = where(frame, script)
        if line is None:  # the script has already finished (or failed): not its hang
            stop()
            return
        raise ScriptTimeout(
            f"the {what} {Path(script).name} ran longer than its time limit of "
            f"{seconds:g} s{setting} and was stopped in {line}"
        )

    signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    # To the process's own stderr: the script's may be captured in a buffer.
    faulthandler.dump_traceback_later(
        seconds + BACKSTOP_SECONDS, exit=True, file=sys.__stderr__
    )


def stop() -> None:
    """Disarm the limit (the script has finished)."""
    signal.setitimer(signal.ITIMER_REAL, 0)
    signal.signal(signal.SIGALRM, signal.SIG_DFL)
    faulthandler.cancel_dump_traceback_later()


def reset(gallery_conf: Any, fname: Any, when: str) -> None:
    """sphinx-gallery's ``reset_modules`` hook: arm before a script, disarm after."""
    if when == "before" and fname is not None:
        start(str(fname))
    else:
        stop()
