"""The locustfile: three kinds of user against one Tradepit server on 127.0.0.1.

    locust -f bench/load/locustfile.py --headless --host 127.0.0.1:PORT \\
        --admin-token TOKEN --summary out.json [--traders 8 ...] TradingAgent ...

Normally run by `python -m bench.load.run` (`make load`), which starts the server and
passes the plan (bench/load/plan.py) as the options below. How many users of each kind
come from the plan (locust's fixed_count); which kinds run, from the class names given.
When locust quits, what the users recorded is written to `--summary` as JSON.
"""

from __future__ import annotations

import gc
import json
from dataclasses import fields
from pathlib import Path
from typing import Any

from locust import events
from locust.argument_parser import LocustArgumentParser
from locust.env import Environment

from bench.load.flooder import Flooder
from bench.load.plan import Plan
from bench.load.reader import MarketDataReader
from bench.load.recorder import RECORDER
from bench.load.trader import TradingAgent

__all__ = ["Flooder", "MarketDataReader", "TradingAgent"]


@events.init_command_line_parser.add_listener
def _options(parser: LocustArgumentParser) -> None:
    for field in fields(Plan):
        default = getattr(Plan(), field.name)
        parser.add_argument(f"--{field.name.replace('_', '-')}", type=type(default),
                            default=default, help=f"the load plan's {field.name}")
    parser.add_argument("--admin-token", default="", help="the server's admin bearer token")
    parser.add_argument("--summary", default="", help="write what the users saw here (JSON)")


@events.init.add_listener
def _counts(environment: Environment, **_: Any) -> None:
    options = environment.parsed_options
    if options is not None:
        TradingAgent.fixed_count = options.traders
        MarketDataReader.fixed_count = options.readers
        Flooder.fixed_count = options.flooders


@events.test_start.add_listener
def _start(environment: Environment, **_: Any) -> None:
    # What exists now lives to the end: out of the collector's way, so that a full
    # collection of it does not pause the users and pass for the server's latency.
    gc.collect()
    gc.freeze()
    options = environment.parsed_options
    RECORDER.start(options.warmup if options is not None else 0.0)


@events.user_error.add_listener
def _unhandled(user_instance: Any, exception: Exception, tb: Any, **_: Any) -> None:
    """An exception no user handled (in on_start, say) is an error of that user's kind."""
    RECORDER.error(getattr(user_instance, "kind", "user"), f"unhandled: {exception!r}")


@events.quitting.add_listener
def _write_summary(environment: Environment, **_: Any) -> None:
    options = environment.parsed_options
    if options is not None and options.summary:
        Path(options.summary).write_text(json.dumps(RECORDER.summary()))
