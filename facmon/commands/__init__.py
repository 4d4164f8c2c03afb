"""The `facmon` subcommands, one module each; every module has ``register(commands)``."""

from __future__ import annotations

import argparse
import signal
import threading
from types import FrameType
from typing import TypeAlias


def wait_for_signal(timeout_s: float | None = None) -> None:
    """Block until SIGINT/SIGTERM (or ``timeout_s``)."""
    stop = threading.Event()

    def handle(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, handle)
    signal.signal(signal.SIGTERM, handle)
    stop.wait(timeout_s)


# argparse has no public name for the object that add_subparsers() returns.
Commands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"
