"""The `fourpi` command's entry point: the command line (fourpi.cli) imported inside
it, so that Ctrl-C in the second its imports take ends the command as Ctrl-C later
does (click's "Aborted!"), not with a traceback."""

import os
import signal
import sys
from types import FrameType


def main() -> None:
    pressed = signal.getsignal(signal.SIGINT)
    if pressed is signal.default_int_handler:
        signal.signal(signal.SIGINT, aborted_while_starting)
    from fourpi.cli import main as command_line

    signal.signal(signal.SIGINT, pressed)
    command_line()


def aborted_while_starting(signum: int, frame: FrameType | None) -> None:
    """Ctrl-C while the command line is imported: nothing is open yet, so it ends
    here. A KeyboardInterrupt raised instead could come out as another error (Python
    hands one raised while a class is made on as a RuntimeError) and a traceback."""
    sys.stderr.write("\nAborted!\n")
    sys.stderr.flush()
    os._exit(1)
