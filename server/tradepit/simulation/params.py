"""Per-instrument simulation settings: defaults from the listing, overridden by
`SYMBOL:key=value,...;SYMBOL:...` (TRADEPIT_MAKERS)."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

from tradepit.config import InstrumentSpec
from tradepit.simulation.fair_value import WalkParams


@dataclass(frozen=True, slots=True)
class MakerParams:
    """One instrument's maker. Prices are in ticks, quantities in shares."""

    spread: int       # ticks between the maker's best bid and best ask, before skew
    step: int         # ticks between its levels
    size: int         # shares per quote (a multiple of the lot)
    levels: int       # quotes per side
    refresh_ms: int   # how often it requotes
    skew: int         # ticks its quotes move per `size` of inventory away from the start
    inventory: int    # shares deposited at start
    cash: int         # cash deposited at start
    walk: WalkParams  # the fair value's random walk


INT_KEYS = ("spread", "step", "size", "levels", "refresh_ms", "skew", "inventory", "cash")
WALK_KEYS = tuple(f.name for f in fields(WalkParams))


def default_params(spec: InstrumentSpec) -> MakerParams:
    """About 10 bps wide, ten lots a quote, three levels, a hundred quotes' worth of
    shares and the same value in cash."""
    spread = max(2, spec.reference_price // 1_000 // spec.tick_size)
    size = 10 * spec.lot_size
    inventory = 100 * size
    return MakerParams(spread=spread, step=max(1, spread // 2), size=size, levels=3,
                       refresh_ms=500, skew=1, inventory=inventory,
                       cash=inventory * spec.reference_price, walk=WalkParams())


def parse_overrides(text: str) -> dict[str, dict[str, str]]:
    """`ACME:spread=4,size=10;GLOBEX:levels=2` -> {"ACME": {"spread": "4", ...}, ...}."""
    overrides: dict[str, dict[str, str]] = {}
    for item in filter(None, (part.strip() for part in text.split(";"))):
        symbol, sep, rest = item.partition(":")
        if not sep or not symbol.strip():
            raise ValueError(f"maker override {item!r} must look like SYMBOL:key=value,...")
        values = overrides.setdefault(symbol.strip(), {})
        for pair in filter(None, (p.strip() for p in rest.split(","))):
            key, sep, value = pair.partition("=")
            key = key.strip()
            if not sep or key not in INT_KEYS + WALK_KEYS:
                raise ValueError(f"maker override {pair!r} for {symbol}: use key=value with "
                                 f"a key among {', '.join(INT_KEYS + WALK_KEYS)}")
            values[key] = value.strip()
    return overrides


def maker_params(spec: InstrumentSpec, overrides: dict[str, str]) -> MakerParams:
    params = default_params(spec)
    ints = {k: int(v) for k, v in overrides.items() if k in INT_KEYS}
    walk = {k: float(v) for k, v in overrides.items() if k in WALK_KEYS}
    params = replace(params, walk=replace(params.walk, **walk), **ints)
    if "step" not in ints and "spread" in ints:
        params = replace(params, step=max(1, params.spread // 2))
    if "cash" not in ints and "inventory" in ints:
        params = replace(params, cash=params.inventory * spec.reference_price)
    problems = [f"{name} must be positive" for name in ("spread", "step", "size", "levels",
                                                        "refresh_ms")
                if getattr(params, name) <= 0]
    if params.size % spec.lot_size:
        problems.append(f"size {params.size} is not a multiple of the lot {spec.lot_size}")
    if params.inventory % spec.lot_size or params.inventory < 0 or params.cash < 0:
        problems.append("inventory (a multiple of the lot) and cash must not be negative")
    if problems:
        raise ValueError(f"makers for {spec.symbol}: " + "; ".join(problems))
    return params
