"""How every `python -m cifar_mlp.…` entry point fails: a line or two, no traceback.

An entry point ends with `cli.run(main)`. A bad parameter, missing or corrupted
data, a missing file or any error the library raises on purpose is printed as
its message (what was wrong, what to do) with the module's name, and the
process exits with the code of its kind. `--debug` on the command line, or
CIFAR_MLP_DEBUG=1, prints the traceback as well. Anything else is a bug and
keeps Python's own traceback.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable

DEBUG_FLAG = "--debug"
DEBUG_VARIABLE = "CIFAR_MLP_DEBUG"

# Exit code by error type, named as `qualified` names it; an error takes the entry of its
# nearest class. By name, so this module, which every entry point imports, imports none of them.
EXIT_CODES = {
    "cifar_mlp.config.ConfigError": 2,   # a bad parameter: the code argparse gives bad arguments
    "cifar_mlp.core.data.DataError": 3,  # CIFAR-10 missing, unreadable or not CIFAR-10
    "builtins.FileNotFoundError": 4,     # a path given, or a stored file, does not exist
    "builtins.OSError": 5,               # not readable or writable, disk full, ...
}
# Any other exception class of this package (sweep.TrainingForbidden, ...) is raised
# on purpose, with a message for the user.
LIBRARY_ERROR = 1
INTERRUPTED = 130  # the shell's code for Ctrl-C


def module_name(module: str) -> str:
    """A module's import name, also for the one `python -m` runs as __main__."""
    spec = getattr(sys.modules.get(module), "__spec__", None)
    return spec.name if spec else module


def qualified(cls: type) -> str:
    # By name, not identity: under `python -m cifar_mlp.core.data` the module that raises
    # is __main__, and its DataError is not the class cifar_mlp.core.data defines.
    return f"{module_name(cls.__module__)}.{cls.__qualname__}"


def exit_code(error: BaseException) -> int | None:
    """The exit code of an error meant for the user, or None for a bug."""
    for cls in type(error).__mro__:
        if qualified(cls) in EXIT_CODES:
            return EXIT_CODES[qualified(cls)]
    return LIBRARY_ERROR if qualified(type(error)).startswith("cifar_mlp.") else None


def message(error: BaseException) -> str:
    # OSError's own str() leads with "[Errno 2]" and quotes the path.
    if isinstance(error, OSError) and error.filename and error.strerror:
        return f"{error.strerror}: {error.filename}"
    return str(error) or type(error).__name__


def run(main: Callable, argv: list[str] | None = None) -> None:
    """Call `main(argv)` (default: the command line) and exit with its return code,
    or with the code of the error that stopped it."""
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = DEBUG_FLAG in argv or os.environ.get(DEBUG_VARIABLE, "") not in ("", "0")
    argv = [arg for arg in argv if arg != DEBUG_FLAG]
    try:
        code = main(argv)
    except KeyboardInterrupt:
        if debug:
            traceback.print_exc()
        print(f"{module_name(main.__module__)}: interrupted", file=sys.stderr)
        code = INTERRUPTED
    except Exception as error:
        code = exit_code(error)
        if code is None:
            raise
        if debug:
            traceback.print_exc()
        print(f"{module_name(main.__module__)}: {message(error)}", file=sys.stderr)
        if not debug:
            print(f"({DEBUG_FLAG} or {DEBUG_VARIABLE}=1 shows the traceback)", file=sys.stderr)
    sys.exit(code or 0)
