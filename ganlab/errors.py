"""The one exception type for user mistakes: the CLI prints its message on one line, no traceback."""


class GanlabError(Exception):
    """A user-facing error: bad input, missing data, bad config. The message says what was expected."""


def environment_message(exc: OSError) -> str:
    """An OSError (unwritable folder, disk full, missing file) as one line naming the path."""
    import errno

    what = exc.strerror or type(exc).__name__
    if exc.errno == errno.ENOSPC:
        what = "no space left on device"
    where = f" ({exc.filename})" if exc.filename else ""
    return f"{what}{where}"


def guarded(prog: str, func, *args) -> int:
    """Run ``func(*args)`` the way every entry point does (``ganlab …``, ``generate.py``): a user mistake
    (GanlabError) or an environment failure (OSError) ends in one line on stderr and exit code 2, never a
    traceback; Ctrl-C in 130."""
    import sys

    try:
        func(*args)
    except GanlabError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"{prog}: error: {environment_message(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    return 0
