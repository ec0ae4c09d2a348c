"""The exchange state machine: pre-trade checks, escrow, matching and settlement.

One writer applies one command at a time (`execute`). A command either raises `Reject`
having changed nothing, or applies completely. Every path that moves money is here:
reserve before the book sees an order, settle each trade, and release what an order
no longer needs whenever its open quantity changes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from tradepit.book import (
    MAX_PRICE,
    MAX_QUANTITY,
    Book,
    CancelReason,
    EventKind,
    OrderType,
    Side,
    StpMode,
    TimeInForce,
)
from tradepit.exchange.codes import (
    BalanceChange,
    ExecType,
    Liquidity,
    OrderStatus,
    RejectCode,
    TradingStatus,
)
from tradepit.exchange.commands import (
    AdjustBalance,
    AmendOrder,
    CancelAll,
    CancelOrder,
    Command,
    CreateAccount,
    CreateInstrument,
    EndSession,
    OrderRef,
    RemoveInstrument,
    SetLimits,
    SetTradingStatus,
    SubmitOrder,
)
from tradepit.exchange.errors import Reject
from tradepit.exchange.model import (
    Account,
    BookChange,
    ExecutionReport,
    FeeRates,
    Fill,
    Instrument,
    MarketEvent,
    OrderState,
    StatusChange,
    TradePrint,
    price_band,
)
from tradepit.exchange.money import BPS, buy_reservation, fee

BUY, SELL = int(Side.BUY), int(Side.SELL)
LIMIT, MARKET = int(OrderType.LIMIT), int(OrderType.MARKET)
GTC, IOC, FOK = int(TimeInForce.GTC), int(TimeInForce.IOC), int(TimeInForce.FOK)
CANCEL_NEWEST = int(StpMode.CANCEL_NEWEST)
TRADING = TradingStatus.TRADING
TAKER, MAKER = Liquidity.TAKER, Liquidity.MAKER
PARTIALLY_FILLED, FILLED = OrderStatus.PARTIALLY_FILLED, OrderStatus.FILLED
_ACCEPTED, _TRADE, _CANCELLED = int(EventKind.ACCEPTED), int(EventKind.TRADE), \
    int(EventKind.CANCELLED)
_AMENDED, _REJECTED = int(EventKind.AMENDED), int(EventKind.REJECTED)
# What a plain limit order may carry (0: the proto default, which means LIMIT).
_PLAIN_TYPES = frozenset({0, LIMIT})
_SIDES = frozenset(int(s) for s in Side)
_TIFS = frozenset(int(t) for t in TimeInForce)
_STPS = frozenset(int(m) for m in StpMode)
SYMBOL_PATTERN = re.compile(r"[A-Z0-9.\-]{1,16}")
MAX_NAME = 64
MAX_CLIENT_ORDER_ID = 64
DEFAULT_BAND_BPS = 1_000


@dataclass(frozen=True, slots=True)
class Limits:
    """Fees and order-size limits, from configuration."""

    maker_fee_bps: int = 0
    taker_fee_bps: int = 0
    max_order_quantity: int = 1_000_000
    max_order_notional: int = 10**13


@dataclass(slots=True)
class OrderResult:
    order: OrderState
    reports: list[ExecutionReport]  # the caller's reports caused by the command


class Queries:
    """Lookups by name, and the refusals that word a missing one: shared by this
    exchange and the native one (exchange/native.py), which present the same mappings."""

    accounts: Mapping[int, Account]
    orders: Mapping[int, OrderState]
    instruments: Mapping[str, Instrument]
    delisted: Mapping[str, Instrument]

    def account(self, account_id: int) -> Account:
        account = self.accounts.get(account_id)
        if account is None:
            raise Reject(RejectCode.UNKNOWN_ACCOUNT, f"account {account_id} does not exist")
        return account

    def instrument(self, symbol: str) -> Instrument:
        """A listed instrument: one that trades, or may again after a halt."""
        instrument = self.instruments.get(symbol)
        if instrument is None:
            known = ", ".join(sorted(self.instruments)) or "none"
            gone = self.delisted.get(symbol)
            if gone is not None:
                raise Reject(RejectCode.UNKNOWN_SYMBOL,
                             f"{symbol} was delisted and no longer trades; positions in it "
                             f"stay, marked at its last price {gone.reference_price}; "
                             f"listed symbols: {known}")
            raise Reject(RejectCode.UNKNOWN_SYMBOL,
                         f"unknown symbol {symbol!r}; listed symbols: {known}")
        return instrument

    def listing(self, symbol: str) -> Instrument:
        """A listed or a delisted instrument: what positions, orders and fills may name."""
        instrument = self.instruments.get(symbol) or self.delisted.get(symbol)
        return instrument if instrument is not None else self.instrument(symbol)

    def find_order(self, account_id: int, ref: OrderRef) -> OrderState:
        """The account's order named by id or client_order_id; other accounts' are invisible."""
        account = self.account(account_id)
        if ref.client_order_id:
            order_id = account.client_order_ids.get(ref.client_order_id, 0)
            name = f"client_order_id {ref.client_order_id!r}"
        else:
            order_id = ref.order_id
            name = f"order {ref.order_id}"
        order = self.orders.get(order_id)
        if order is None or order.account_id != account_id:
            raise Reject(RejectCode.UNKNOWN_ORDER, f"{name} is not an order of this account")
        return order


class Exchange(Queries):
    def __init__(self, limits: Limits | None = None,
                 book_factory: Callable[[int, int], Any] = Book) -> None:
        self.limits = limits or Limits()
        self.fee_rates = _fee_rates(self.limits)  # what newly accepted orders pay
        self._book_factory = book_factory
        self.instruments: dict[str, Instrument] = {}  # listed: these trade
        self.delisted: dict[str, Instrument] = {}  # removed: positions stay, nothing trades
        self.books: dict[str, Any] = {}
        self._by_book_id: dict[str, dict[int, OrderState]] = {}  # open orders only
        self.accounts: dict[int, Account] = {}
        self._accounts_by_key: dict[str, int] = {}
        self.orders: dict[int, OrderState] = {}
        self.fees_collected = 0
        self.outbox: list[ExecutionReport] = []
        self.market_outbox: list[MarketEvent] = []  # what market data publishes
        self._trades: list[TradePrint] = []  # trades of the book command being applied
        self._next_account_id = 1
        self._next_order_id = 1
        self._next_trade_id = 1

    # ------------------------------------------------------------------ entry

    def execute(self, command: Command) -> Any:
        """Apply one command; raise `Reject` (and change nothing) if it is refused."""
        match command:
            case SubmitOrder():
                return self._submit(command)
            case CancelOrder():
                return self._cancel(command)
            case AmendOrder():
                return self._amend(command)
            case CancelAll():
                return self._cancel_all(command)
            case CreateAccount():
                return self._create_account(command)
            case AdjustBalance():
                return self._adjust_balance(command)
            case CreateInstrument():
                return self._create_instrument(command)
            case SetTradingStatus():
                return self._set_trading_status(command)
            case EndSession():
                return self._end_session(command)
            case RemoveInstrument():
                return self._remove_instrument(command)
            case SetLimits():
                return self._set_limits(command)
        raise TypeError(f"not an exchange command: {command!r}")

    def take_market_events(self) -> list[MarketEvent]:
        """Hand over the book changes and status changes since the last call, in order."""
        events, self.market_outbox = self.market_outbox, []
        return events

    def take_reports(self) -> list[ExecutionReport]:
        """Hand over the reports produced since the last call, in order."""
        reports, self.outbox = self.outbox, []
        return reports

    # ---------------------------------------------------------------- queries

    def account_for_key(self, key_hash: str) -> Account | None:
        account_id = self._accounts_by_key.get(key_hash)
        return None if account_id is None else self.accounts[account_id]

    # ---------------------------------------------------------------- orders

    def _submit(self, c: SubmitOrder) -> OrderResult:
        """A new order. Most are plain limit orders that pass every check: the one
        condition below finds those. Anything else (market orders, resubmissions) and
        every refusal takes `_submit_checked`, whose checks are the authority and word
        the refusals; tests/server/test_submit_paths.py holds the two to the same
        decisions."""
        (account_id, client_order_id, symbol, side, order_type, tif, price, quantity,
         post_only, stp, _) = c
        account = self.accounts.get(account_id)
        instrument = self.instruments.get(symbol)
        if account is None or instrument is None or client_order_id in account.client_order_ids:
            return self._submit_checked(c)
        tif = tif or GTC
        stp = stp or CANCEL_NEWEST
        limits = self.limits
        reservation = 0
        if side == BUY:
            reservation = buy_reservation(price, quantity, self.fee_rates.max_bps)
            free = account.cash - reservation
        else:
            position = account.positions.get(symbol)
            free = (0 if position is None else position.available) - quantity
        low, high = price_band(instrument.reference_price, instrument.band_bps,
                               instrument.tick_size)
        if not (order_type in _PLAIN_TYPES and side in _SIDES and tif in _TIFS
                and stp in _STPS and len(client_order_id) <= MAX_CLIENT_ORDER_ID
                and 0 < quantity <= limits.max_order_quantity and quantity <= MAX_QUANTITY
                and not quantity % instrument.lot_size
                and low <= price <= high and price <= MAX_PRICE
                and not price % instrument.tick_size
                and price * quantity <= limits.max_order_notional
                and instrument.status == TRADING and free >= 0):
            return self._submit_checked(c)
        request = (symbol, side, order_type, c.tif, price, quantity, post_only, c.stp)
        return self._accept(account, instrument, c, LIMIT, tif, stp, price, reservation,
                            request)

    def _submit_checked(self, c: SubmitOrder) -> OrderResult:
        account = self.account(c.account_id)
        request = (c.symbol, c.side, c.order_type, c.tif, c.price, c.quantity, c.post_only, c.stp)
        if len(c.client_order_id) > MAX_CLIENT_ORDER_ID:
            raise Reject(RejectCode.INVALID_ARGUMENT,
                         f"client_order_id is longer than {MAX_CLIENT_ORDER_ID} characters")
        if c.client_order_id in account.client_order_ids:
            original = self.orders[account.client_order_ids[c.client_order_id]]
            if original.request != request or original.acknowledgement is None:
                raise Reject(
                    RejectCode.DUPLICATE_CLIENT_ORDER_ID,
                    f"client_order_id {c.client_order_id!r} already names order "
                    f"{original.order_id} with other parameters; use a new client_order_id",
                )
            return OrderResult(original, [original.acknowledgement])

        instrument = self.instrument(c.symbol)
        order_type = c.order_type or LIMIT
        tif = c.tif or int(TimeInForce.GTC)
        stp = c.stp or int(StpMode.CANCEL_NEWEST)
        _check_enum("side", c.side, Side)
        _check_enum("order type", order_type, OrderType)
        _check_enum("time in force", tif, TimeInForce)
        _check_enum("self-trade prevention", stp, StpMode)
        self._check_quantity(instrument, c.quantity)
        if order_type == MARKET:
            if c.price != 0:
                raise Reject(RejectCode.INVALID_ARGUMENT,
                             f"a market order takes no price (send 0), got {c.price}")
            if c.post_only:
                raise Reject(RejectCode.INVALID_ARGUMENT, "a market order cannot be post-only")
            low, high = instrument.band()
            book_price = high if c.side == BUY else low
            if book_price > MAX_PRICE:
                raise Reject(RejectCode.INVALID_ARGUMENT,
                             f"a market buy in {c.symbol} would be held at its band's top "
                             f"{book_price}, above the largest price the book takes, "
                             f"{MAX_PRICE}; send a limit order")
        else:
            book_price = c.price
            self._check_price(instrument, c.price)
        self._check_notional(book_price, c.quantity)
        self._check_trading(instrument)
        if order_type == LIMIT:
            self._check_band(instrument, c.price)
        position = account.position(c.symbol)
        reservation = 0
        if c.side == BUY:
            reservation = buy_reservation(book_price, c.quantity, self.fee_rates.max_bps)
            _check_cash(account, reservation)
        elif c.quantity > position.available:
            raise Reject(
                RejectCode.INSUFFICIENT_SHARES,
                f"selling {c.quantity} {c.symbol} needs that many free shares; "
                f"you have {position.available} (no short selling)",
            )

        return self._accept(account, instrument, c, order_type, tif, stp, book_price,
                            reservation, request)

    def _accept(self, account: Account, instrument: Instrument, c: SubmitOrder,
                order_type: int, tif: int, stp: int, book_price: int, reservation: int,
                request: tuple[object, ...]) -> OrderResult:
        """Take an order that passed every check: from here on it applies completely."""
        order_id = self._next_order_id
        self._next_order_id = order_id + 1
        symbol, now = c.symbol, c.timestamp
        # Positional: keywords cost three times as much here, once per order. The order
        # of OrderState's fields, up to `leaves`.
        order = OrderState(
            order_id, account.account_id, c.client_order_id, symbol, c.side, order_type, tif,
            c.price, book_price, c.quantity, c.post_only, stp, now, request, self.fee_rates,
            c.quantity,
        )
        order.updated_ns = now
        self.orders[order_id] = order
        account.order_ids.append(order_id)
        if c.client_order_id:
            account.client_order_ids[c.client_order_id] = order_id
        position = account.position(symbol)  # an accepted order lists its symbol
        if c.side == BUY:
            account.cash -= reservation
            account.reserved_cash += reservation
            order.reserved_cash = reservation
        else:
            position.reserved += c.quantity

        book = self.books[symbol]
        order.book_id = book_id = book.next_order_id
        self._by_book_id[symbol][book_id] = order
        # A market order goes to the book as a limit at its band edge, so the escrow
        # taken at that price always covers it.
        book_tif = tif if order_type == LIMIT or tif == FOK else IOC
        events = book.submit(account.account_id, c.side, book_price, c.quantity, LIMIT, book_tif,
                             c.post_only, stp, now)
        return self._result(order, self._apply_events(instrument, events, now))

    def _cancel(self, c: CancelOrder) -> OrderResult:
        order = self._open_order(c.account_id, c.ref)
        events = self.books[order.symbol].cancel(order.book_id, c.timestamp)
        return self._result(order, self._apply_events(self.instruments[order.symbol], events,
                                                      c.timestamp))

    def _amend(self, c: AmendOrder) -> OrderResult:
        order = self._open_order(c.account_id, c.ref)
        instrument = self.instruments[order.symbol]
        account = self.accounts[order.account_id]
        self._check_quantity(instrument, c.quantity)
        self._check_price(instrument, c.price)
        self._check_notional(c.price, c.quantity)
        self._check_trading(instrument)
        self._check_band(instrument, c.price)
        if order.side == BUY:
            needed = buy_reservation(c.price, c.quantity, order.fee_rates.max_bps)
            _check_cash(account, needed - order.reserved_cash)
        else:
            extra = c.quantity - order.leaves
            available = account.position(order.symbol).available
            if extra > available:
                raise Reject(RejectCode.INSUFFICIENT_SHARES,
                             f"raising this sell order by {extra} needs {extra} free shares; "
                             f"you have {available}")
        events = self.books[order.symbol].amend(order.book_id, c.price, c.quantity, c.timestamp)
        return self._result(order, self._apply_events(instrument, events, c.timestamp))

    def _cancel_all(self, c: CancelAll) -> list[int]:
        account = self.account(c.account_id)
        if c.symbol:
            self.instrument(c.symbol)
        cancelled = []
        for order_id in account.order_ids:
            order = self.orders[order_id]
            if order.is_open and (not c.symbol or order.symbol == c.symbol):
                events = self.books[order.symbol].cancel(order.book_id, c.timestamp)
                self._apply_events(self.instruments[order.symbol], events, c.timestamp)
                cancelled.append(order_id)
        return cancelled

    def _open_order(self, account_id: int, ref: OrderRef) -> OrderState:
        order = self.find_order(account_id, ref)
        if not order.is_open:
            raise Reject(RejectCode.ORDER_NOT_OPEN,
                         f"order {order.order_id} is already {order.status.name}")
        return order

    def _result(self, order: OrderState, reports: list[ExecutionReport]) -> OrderResult:
        return OrderResult(order, [r for r in reports if r.account_id == order.account_id])

    # ------------------------------------------------------------ settlement

    def _apply_events(self, instrument: Instrument, events: list[Any],
                      now: int) -> list[ExecutionReport]:
        """Turn book events into order state, money movements and execution reports."""
        start = len(self.outbox)
        self._trades = []
        orders = self._by_book_id[instrument.symbol]
        for e in events:
            kind = e.kind
            order = orders[e.order_id]
            if kind == _TRADE:
                self._settle(instrument, order, orders[e.maker_id], e, now)
            elif kind == _ACCEPTED:
                order.acknowledgement = self._report(order, ExecType.NEW, now)
            elif kind == _CANCELLED:
                expired = e.reason == CancelReason.SESSION_END
                self._set_leaves(order, e.remaining)
                if not e.remaining:
                    order.status = OrderStatus.EXPIRED if expired else OrderStatus.CANCELED
                    del orders[e.order_id]
                order.updated_ns = now
                self._report(order, ExecType.EXPIRED if expired else ExecType.CANCELED, now,
                             last_quantity=e.quantity)
            elif kind == _AMENDED:
                order.price = order.book_price = e.price
                order.quantity = e.quantity
                self._set_leaves(order, e.remaining)
                order.updated_ns = now
                self._report(order, ExecType.REPLACED, now)
            elif kind == _REJECTED:
                message = "post-only order would have taken liquidity"
                if order.acknowledgement is None:  # a new order, not an amendment
                    order.status = OrderStatus.REJECTED
                    order.reject_reason = RejectCode.POST_ONLY_WOULD_CROSS
                    self._set_leaves(order, 0)
                    del orders[e.order_id]
                    order.acknowledgement = self._report(
                        order, ExecType.REJECTED, now,
                        reject=RejectCode.POST_ONLY_WOULD_CROSS, message=message)
                else:
                    self._report(order, ExecType.REJECTED, now,
                                 reject=RejectCode.POST_ONLY_WOULD_CROSS,
                                 message="amendment refused: " + message)
        if events:
            self.market_outbox.append(BookChange(instrument.symbol, events, self._trades, now))
        return self.outbox[start:]

    def _settle(self, instrument: Instrument, taker: OrderState, maker: OrderState, e: Any,
                now: int) -> None:
        quantity, price = e.quantity, e.price
        trade_id = self._next_trade_id
        self._next_trade_id += 1
        instrument.reference_price = price
        self._trades.append(TradePrint(instrument.symbol, trade_id, price, quantity, taker.side,
                                       now, e.seq))
        self._fill(taker, TAKER, taker.fee_rates.taker_bps, e.remaining, trade_id, price,
                   quantity, now)
        self._fill(maker, MAKER, maker.fee_rates.maker_bps, e.maker_remaining, trade_id, price,
                   quantity, now)

    def _fill(self, order: OrderState, liquidity: Liquidity, bps: int, leaves: int,
              trade_id: int, price: int, quantity: int, now: int) -> None:
        """One side of a trade: move the money and shares, and report the fill."""
        notional = price * quantity
        charged = fee(notional, bps)
        account = self.accounts[order.account_id]
        position = account.position(order.symbol)
        if order.side == BUY:
            cost = notional + charged
            order.reserved_cash -= cost
            account.reserved_cash -= cost
            position.quantity += quantity
            position.cost_basis += cost
        else:
            cost_sold = position.cost_basis * quantity // position.quantity
            position.cost_basis -= cost_sold
            position.quantity -= quantity
            account.cash += notional - charged
            position.realised_pnl += notional - charged - cost_sold
        account.fees_paid += charged
        account.traded_quantity += quantity
        account.traded_notional += notional
        self.fees_collected += charged
        order.filled_quantity += quantity
        order.filled_notional += notional
        order.fees += charged
        order.updated_ns = now
        self._set_leaves(order, leaves)
        if leaves:
            order.status = PARTIALLY_FILLED
        else:
            order.status = FILLED
            del self._by_book_id[order.symbol][order.book_id]
        account.fills.append(Fill(trade_id, order.order_id, order.client_order_id,
                                  order.symbol, order.side, price, quantity, charged,
                                  liquidity, now))
        self._report(order, ExecType.TRADE, now, last_quantity=quantity, last_price=price,
                     fee=charged, liquidity=liquidity, trade_id=trade_id)

    def _set_leaves(self, order: OrderState, leaves: int) -> None:
        """Change an order's open quantity and hold exactly what the rest of it needs."""
        account = self.accounts[order.account_id]
        if order.side == SELL:
            account.position(order.symbol).reserved += leaves - order.leaves
        else:
            needed = buy_reservation(order.book_price, leaves, order.fee_rates.max_bps)
            change = needed - order.reserved_cash
            account.cash -= change
            account.reserved_cash += change
            order.reserved_cash = needed
        order.leaves = leaves

    def _report(self, order: OrderState, exec_type: ExecType, now: int, *,
                last_quantity: int = 0, last_price: int = 0, fee: int = 0,
                liquidity: Liquidity | None = None, trade_id: int = 0,
                reject: RejectCode | None = None, message: str = "") -> ExecutionReport:
        account = self.accounts[order.account_id]
        account.report_sequence = sequence = account.report_sequence + 1
        report = ExecutionReport(
            account.account_id, sequence, order.order_id, order.client_order_id,
            order.symbol, exec_type, order.status, order.side, order.price, order.quantity,
            last_quantity, last_price, order.filled_quantity, order.leaves, order.average_price,
            fee, liquidity, trade_id, reject, message, now,
        )
        self.outbox.append(report)
        return report

    # ------------------------------------------------------------ pre-trade checks

    def _check_quantity(self, instrument: Instrument, quantity: int) -> None:
        if quantity <= 0:
            raise Reject(RejectCode.INVALID_ARGUMENT, f"quantity must be positive, got {quantity}")
        if quantity % instrument.lot_size:
            raise Reject(RejectCode.QUANTITY_OFF_LOT,
                         f"quantity {quantity} is not a multiple of {instrument.symbol}'s lot "
                         f"size {instrument.lot_size}")
        if quantity > self.limits.max_order_quantity:
            raise Reject(RejectCode.QUANTITY_TOO_LARGE,
                         f"quantity {quantity} is above the maximum order quantity "
                         f"{self.limits.max_order_quantity}")
        if quantity > MAX_QUANTITY:
            raise Reject(RejectCode.QUANTITY_TOO_LARGE,
                         f"quantity {quantity} is above the largest the book takes, "
                         f"{MAX_QUANTITY}")

    def _check_price(self, instrument: Instrument, price: int) -> None:
        if price <= 0:
            raise Reject(RejectCode.INVALID_ARGUMENT,
                         f"a limit order needs a positive price, got {price}")
        if price % instrument.tick_size:
            raise Reject(RejectCode.PRICE_OFF_TICK,
                         f"price {price} is not a multiple of {instrument.symbol}'s tick size "
                         f"{instrument.tick_size}")

    def _check_notional(self, price: int, quantity: int) -> None:
        if price * quantity > self.limits.max_order_notional:
            raise Reject(RejectCode.NOTIONAL_TOO_LARGE,
                         f"price * quantity = {price * quantity} is above the maximum order "
                         f"notional {self.limits.max_order_notional}")

    @staticmethod
    def _check_trading(instrument: Instrument) -> None:
        if instrument.status != TradingStatus.TRADING:
            raise Reject(RejectCode.TRADING_HALTED,
                         f"trading in {instrument.symbol} is halted; cancels still work")

    @staticmethod
    def _check_band(instrument: Instrument, price: int) -> None:
        low, high = instrument.band()
        if not low <= price <= high:
            raise Reject(RejectCode.PRICE_OUTSIDE_BAND,
                         f"price {price} is outside {instrument.symbol}'s band {low}..{high} "
                         f"around the reference price {instrument.reference_price}")
        if price > MAX_PRICE:  # a band around a price near the book's limit reaches past it
            raise Reject(RejectCode.INVALID_ARGUMENT,
                         f"price {price} is above the largest price the book takes, {MAX_PRICE}")

    # ------------------------------------------------------------ admin

    def _create_account(self, c: CreateAccount) -> Account:
        name = c.name.strip()
        if not 1 <= len(name) <= MAX_NAME:
            raise Reject(RejectCode.INVALID_ARGUMENT,
                         f"an account name needs 1 to {MAX_NAME} characters")
        if c.key_hash in self._accounts_by_key:
            raise Reject(RejectCode.ALREADY_EXISTS, "that API key is already in use")
        account = Account(self._next_account_id, name, c.key_hash, system=c.system)
        self._next_account_id += 1
        self.accounts[account.account_id] = account
        self._accounts_by_key[c.key_hash] = account.account_id
        return account

    def _adjust_balance(self, c: AdjustBalance) -> Account:
        account = self.account(c.account_id)
        if c.kind not in (BalanceChange.DEPOSIT, BalanceChange.ADJUSTMENT):
            raise Reject(RejectCode.INVALID_ARGUMENT, "kind must be DEPOSIT or ADJUSTMENT")
        if c.kind == BalanceChange.DEPOSIT and c.amount <= 0:
            raise Reject(RejectCode.INVALID_ARGUMENT,
                         f"a deposit must be positive, got {c.amount}")
        if c.symbol:
            instrument = self.instrument(c.symbol)
            position = account.position(c.symbol)
            if c.amount % instrument.lot_size:
                raise Reject(RejectCode.QUANTITY_OFF_LOT,
                             f"{c.amount} shares is not a multiple of the lot size "
                             f"{instrument.lot_size}")
            if position.available + c.amount < 0:
                raise Reject(RejectCode.INSUFFICIENT_SHARES,
                             f"cannot remove {-c.amount} shares; {position.available} are free")
            if c.amount >= 0:
                position.cost_basis += c.amount * instrument.reference_price
            else:
                position.cost_basis -= position.cost_basis * -c.amount // position.quantity
            position.quantity += c.amount
            account.share_deposits[c.symbol] = account.share_deposits.get(c.symbol, 0) + c.amount
            account.deposited_value += c.amount * instrument.reference_price
            return account
        if account.cash + c.amount < 0:
            raise Reject(RejectCode.INSUFFICIENT_BUYING_POWER,
                         f"cannot remove {-c.amount}; the account has {account.cash} free cash")
        account.cash += c.amount
        account.deposits += c.amount
        account.deposited_value += c.amount
        return account

    def _create_instrument(self, c: CreateInstrument) -> Instrument:
        if not SYMBOL_PATTERN.fullmatch(c.symbol):
            raise Reject(RejectCode.INVALID_ARGUMENT,
                         f"symbol {c.symbol!r} must be 1 to 16 characters of A-Z, 0-9, '.', '-'")
        if c.symbol in self.instruments:
            raise Reject(RejectCode.ALREADY_EXISTS, f"{c.symbol} is already listed")
        if c.symbol in self.delisted:
            raise Reject(RejectCode.ALREADY_EXISTS,
                         f"{c.symbol} was delisted, and a symbol is never listed twice: "
                         "positions, orders and fills still name the old one; choose "
                         "another symbol")
        if c.tick_size <= 0 or c.lot_size <= 0:
            raise Reject(RejectCode.INVALID_ARGUMENT, "tick_size and lot_size must be positive")
        if c.reference_price <= 0 or c.reference_price % c.tick_size:
            raise Reject(RejectCode.INVALID_ARGUMENT,
                         "reference_price must be positive and a multiple of tick_size")
        band_bps = c.band_bps or DEFAULT_BAND_BPS
        if not 1 <= band_bps <= 10_000:
            raise Reject(RejectCode.INVALID_ARGUMENT, "band_bps must be within 1..10000")
        instrument = Instrument(c.symbol, c.tick_size, c.lot_size, c.reference_price, band_bps)
        self.instruments[c.symbol] = instrument
        self.books[c.symbol] = self._book_factory(c.tick_size, c.lot_size)
        self._by_book_id[c.symbol] = {}
        return instrument

    def _remove_instrument(self, c: RemoveInstrument) -> tuple[Instrument, list[int]]:
        """Cancel every resting order in the symbol (refunding its escrow, with the usual
        reports and one book change), then delist it. Positions stay in the accounts,
        marked at the last trade price; the symbol can be neither traded nor re-listed."""
        instrument = self.instrument(c.symbol)
        book = self.books[c.symbol]
        resting = sorted(self._by_book_id[c.symbol].values(), key=lambda o: o.order_id)
        events: list[Any] = []
        for order in resting:
            events += book.cancel(order.book_id, c.timestamp)
        self._apply_events(instrument, events, c.timestamp)
        instrument.status = TradingStatus.DELISTED
        del self.instruments[c.symbol], self.books[c.symbol], self._by_book_id[c.symbol]
        self.delisted[c.symbol] = instrument
        self.market_outbox.append(StatusChange(c.symbol, instrument.status, c.timestamp))
        return instrument, [o.order_id for o in resting]

    def _set_limits(self, c: SetLimits) -> Limits:
        for name in ("maker_fee_bps", "taker_fee_bps"):
            if not 0 <= getattr(c, name) <= BPS:
                raise Reject(RejectCode.INVALID_ARGUMENT,
                             f"{name} must be 0..{BPS}; got {getattr(c, name)}")
        for name in ("max_order_quantity", "max_order_notional"):
            if getattr(c, name) <= 0:
                raise Reject(RejectCode.INVALID_ARGUMENT,
                             f"{name} must be positive; got {getattr(c, name)}")
        self.limits = Limits(c.maker_fee_bps, c.taker_fee_bps, c.max_order_quantity,
                             c.max_order_notional)
        self.fee_rates = _fee_rates(self.limits)
        return self.limits

    def _set_trading_status(self, c: SetTradingStatus) -> list[Instrument]:
        if c.status not in (TradingStatus.TRADING, TradingStatus.HALTED):
            raise Reject(RejectCode.INVALID_ARGUMENT, "status must be TRADING or HALTED")
        targets = [self.instrument(c.symbol)] if c.symbol else list(self.instruments.values())
        for instrument in targets:
            instrument.status = TradingStatus(c.status)
            self.market_outbox.append(StatusChange(instrument.symbol, instrument.status,
                                                   c.timestamp))
        return targets

    def _end_session(self, c: EndSession) -> list[ExecutionReport]:
        targets = [self.instrument(c.symbol)] if c.symbol else list(self.instruments.values())
        reports = []
        for instrument in targets:
            events = self.books[instrument.symbol].end_session(c.timestamp)
            reports += self._apply_events(instrument, events, c.timestamp)
        return reports

    # ------------------------------------------------------------ audit

    def audit(self) -> list[str]:
        """Every broken money or escrow invariant, as text; empty when all hold."""
        problems = []
        held = sum(a.cash + a.reserved_cash for a in self.accounts.values())
        deposits = sum(a.deposits for a in self.accounts.values())
        if held + self.fees_collected != deposits:
            problems.append(f"cash {held} + fees {self.fees_collected} != deposits {deposits}")
        for symbol in (*self.instruments, *self.delisted):
            shares = sum(a.position(symbol).quantity for a in self.accounts.values())
            deposited = sum(a.share_deposits.get(symbol, 0) for a in self.accounts.values())
            if shares != deposited:
                problems.append(f"{symbol}: {shares} shares held != {deposited} deposited")
        for account in self.accounts.values():
            open_orders = [self.orders[i] for i in account.order_ids if self.orders[i].is_open]
            reserved = sum(o.reserved_cash for o in open_orders if o.side == BUY)
            if reserved != account.reserved_cash or account.cash < 0:
                problems.append(f"account {account.account_id}: reserved {account.reserved_cash}"
                                f" != {reserved} held by open buys, or cash < 0")
            for symbol, position in account.positions.items():
                selling = sum(o.leaves for o in open_orders
                              if o.side == SELL and o.symbol == symbol)
                if position.reserved != selling or position.available < 0:
                    problems.append(f"account {account.account_id} {symbol}: reserved "
                                    f"{position.reserved} != {selling} open to sell")
        for symbol, book in self.books.items():
            book.validate()
            resting = {o.order_id: o.remaining for side in book.orders() for o in side}
            tracked = {i: o.leaves for i, o in self._by_book_id[symbol].items()}
            if resting != tracked:
                problems.append(f"{symbol}: book and exchange disagree on open orders")
        return problems


def _fee_rates(limits: Limits) -> FeeRates:
    return FeeRates(limits.maker_fee_bps, limits.taker_fee_bps,
                    max(limits.maker_fee_bps, limits.taker_fee_bps))


def _check_enum(name: str, value: int, enum: Any) -> None:
    if value not in enum._value2member_map_:
        allowed = ", ".join(f"{m.name} ({m.value})" for m in enum)
        raise Reject(RejectCode.INVALID_ARGUMENT, f"{name} must be one of {allowed}; got {value}")


def _check_cash(account: Account, needed: int) -> None:
    if needed > account.cash:
        raise Reject(RejectCode.INSUFFICIENT_BUYING_POWER,
                     f"this order needs {needed} in free cash (notional plus the largest fee); "
                     f"buying power is {account.cash}")
