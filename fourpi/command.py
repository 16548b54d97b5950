"""The `fourpi` command's entry point: the command line (fourpi.cli) imported inside
it, so that Ctrl-C in the second its imports take ends the command as Ctrl-C later
does (click's "Aborted!"), not with a traceback."""

import sys


def main() -> None:
    try:
        from fourpi.cli import main as command_line
    except KeyboardInterrupt:
        print("\nAborted!", file=sys.stderr)
        sys.exit(1)
    command_line()
