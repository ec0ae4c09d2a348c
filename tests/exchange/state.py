"""The whole state of a Python `Exchange` as plain values, in the layout the native
exchange's `state()` gives: what the parity tests compare, field for field."""

from __future__ import annotations

from typing import Any

from tradepit.exchange.exchange import Exchange


def python_state(exchange: Exchange) -> dict[str, Any]:
    accounts = [
        (a.account_id, a.name, a.key_hash, a.system, a.cash, a.reserved_cash, a.fees_paid,
         a.deposits, list(a.share_deposits.items()), a.deposited_value, a.traded_quantity,
         a.traded_notional,
         [(s, p.quantity, p.reserved, p.cost_basis, p.realised_pnl)
          for s, p in a.positions.items()],
         a.report_sequence, list(a.order_ids), sorted(a.client_order_ids.items()),
         [(f.trade_id, f.order_id, f.client_order_id, f.symbol, f.side, f.price, f.quantity,
           f.fee, int(f.liquidity), f.timestamp_ns) for f in a.fills])
        for a in exchange.accounts.values()
    ]
    orders = [
        (o.order_id, o.account_id, o.client_order_id, o.symbol, o.side, o.order_type, o.tif,
         o.price, o.book_price, o.quantity, o.post_only, o.stp, o.created_ns, o.request,
         tuple(o.fee_rates), o.leaves, o.filled_quantity, o.filled_notional, o.fees,
         int(o.status), o.updated_ns,
         None if o.reject_reason is None else int(o.reject_reason), o.reserved_cash,
         o.book_id, o.acknowledgement)
        for o in exchange.orders.values()
    ]

    def instrument(i: Any) -> tuple[Any, ...]:
        return (i.symbol, i.tick_size, i.lot_size, i.reference_price, i.band_bps,
                int(i.status))

    limits = exchange.limits
    return {
        "accounts": accounts,
        "orders": orders,
        "instruments": [instrument(i) for i in exchange.instruments.values()],
        "delisted": [instrument(i) for i in exchange.delisted.values()],
        "books": [(symbol, book.state_hash()) for symbol, book in exchange.books.items()],
        "fees_collected": exchange.fees_collected,
        "next_ids": (exchange._next_account_id, exchange._next_order_id,
                     exchange._next_trade_id),
        "limits": (limits.maker_fee_bps, limits.taker_fee_bps, limits.max_order_quantity,
                   limits.max_order_notional),
    }
