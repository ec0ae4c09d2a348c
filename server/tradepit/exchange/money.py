"""Integer money rules: fees and exact decimal text for averages.

Fee rule (documented in the README): fee = notional * bps // 10_000, rounded down to
a whole cash unit, computed per fill. Rounding down per fill never charges more than
the same rate on the whole order, so the escrow taken for an order's largest possible
fee always covers what its fills are charged.
"""

from __future__ import annotations

BPS = 10_000


def fee(notional: int, bps: int) -> int:
    return notional * bps // BPS


def buy_reservation(price: int, quantity: int, max_fee_bps: int) -> int:
    """Cash a buy order must hold: its notional at its limit price plus its largest fee."""
    notional = price * quantity
    return notional + fee(notional, max_fee_bps)


def decimal_text(numerator: int, denominator: int, places: int = 6) -> str:
    """numerator / denominator as decimal text, truncated to `places`, without floats."""
    if denominator == 0:
        return ""
    sign = "-" if (numerator < 0) != (denominator < 0) and numerator != 0 else ""
    numerator, denominator = abs(numerator), abs(denominator)
    whole, rest = divmod(numerator, denominator)
    if rest == 0:
        return f"{sign}{whole}"
    digits = (rest * 10**places) // denominator
    fraction = f"{digits:0{places}d}".rstrip("0")
    return f"{sign}{whole}.{fraction}" if fraction else f"{sign}{whole}"
