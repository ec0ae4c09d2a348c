"""Tradepit: a simulated stock exchange for AI trading agents."""

__version__ = "0.1.0"
