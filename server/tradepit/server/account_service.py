"""AccountService: open an account; read money, positions, orders, fills and the leaderboard."""

from __future__ import annotations

import secrets

from tradepit_client.v1 import account_pb2, account_pb2_grpc, common_pb2

from tradepit.exchange.codes import BalanceChange, RejectCode
from tradepit.exchange.commands import AdjustBalance, CreateAccount
from tradepit.exchange.errors import Reject
from tradepit.exchange.portfolio import portfolio
from tradepit.leaderboard import board
from tradepit.leaderboard.sampler import EquitySampler
from tradepit.server import convert
from tradepit.server.context import Context
from tradepit.server.gateway import Gateway
from tradepit.server.history import History
from tradepit.server.interceptors import CURRENT_ACCOUNT, hash_key

DEFAULT_PAGE = 100
MAX_PAGE = 1_000


def page_bounds(page_size: int, page_token: str) -> tuple[int, int]:
    """(size, start) from a request: where the page starts, an index or the last key of
    the page before (see history.py). Tokens are opaque to clients."""
    if page_size < 0 or page_size > MAX_PAGE:
        raise Reject(RejectCode.INVALID_ARGUMENT, f"page_size must be within 0..{MAX_PAGE}")
    try:
        start = int(page_token) if page_token else 0
    except ValueError:
        raise Reject(RejectCode.INVALID_ARGUMENT,
                     "page_token must be a next_page_token from an earlier response") from None
    if start < 0:
        raise Reject(RejectCode.INVALID_ARGUMENT, "page_token is not valid")
    return page_size or DEFAULT_PAGE, start


class AccountService(account_pb2_grpc.AccountServiceServicer):
    def __init__(self, gateway: Gateway, starting_cash: int, sampler: EquitySampler,
                 history: History) -> None:
        self._gateway = gateway
        self._exchange = gateway.exchange
        self._history = history
        self._starting_cash = starting_cash
        self._sampler = sampler

    async def CreateAccount(self, request: account_pb2.CreateAccountRequest,
                            context: Context) -> account_pb2.CreateAccountResponse:
        api_key = "tp_" + secrets.token_urlsafe(24)
        account = self._gateway.apply(
            lambda now: CreateAccount(request.name, hash_key(api_key), now))
        if self._starting_cash:  # in the same commit: never an account without its cash
            self._gateway.apply(lambda now: AdjustBalance(
                account.account_id, self._starting_cash, BalanceChange.DEPOSIT, now),
                admit=False)
        response = account_pb2.CreateAccountResponse(account=convert.account(account),
                                                     api_key=api_key)
        await self._gateway.settled()
        return response

    async def GetPortfolio(self, request: account_pb2.GetPortfolioRequest,
                           context: Context) -> account_pb2.Portfolio:
        await self._gateway.settled()  # reads show only what is durable
        return convert.portfolio(portfolio(self._exchange, CURRENT_ACCOUNT.get()))

    async def ListOrders(self, request: account_pb2.ListOrdersRequest,
                         context: Context) -> account_pb2.ListOrdersResponse:
        size, after = page_bounds(request.page_size, request.page_token)
        await self._gateway.settled()
        if request.symbol:
            self._exchange.listing(request.symbol)
        orders = await self._history.orders(CURRENT_ACCOUNT.get(), request.symbol,
                                            request.open_only, after, size + 1)
        token = str(orders[size - 1].order_id) if len(orders) > size else ""
        return account_pb2.ListOrdersResponse(
            orders=[convert.order(o) for o in orders[:size]], next_page_token=token)

    async def GetOrder(self, request: account_pb2.GetOrderRequest,
                       context: Context) -> common_pb2.Order:
        ref = convert.order_ref(request)
        await self._gateway.settled()
        return convert.order(self._exchange.find_order(CURRENT_ACCOUNT.get(), ref))

    async def ListTrades(self, request: account_pb2.ListTradesRequest,
                         context: Context) -> account_pb2.ListTradesResponse:
        size, after = page_bounds(request.page_size, request.page_token)
        await self._gateway.settled()
        if request.symbol:
            self._exchange.listing(request.symbol)
        fills = await self._history.fills(CURRENT_ACCOUNT.get(), request.symbol, after,
                                          size + 1)
        token = str(fills[size - 1].trade_id) if len(fills) > size else ""
        return account_pb2.ListTradesResponse(
            fills=[convert.fill(f) for f in fills[:size]], next_page_token=token)

    async def GetLeaderboard(self, request: account_pb2.GetLeaderboardRequest,
                             context: Context) -> account_pb2.GetLeaderboardResponse:
        size, start = page_bounds(request.page_size, request.page_token)
        await self._gateway.settled()
        ranked = await self._history.standings(request.include_system, start, size + 1)
        page = ranked[:size]
        return account_pb2.GetLeaderboardResponse(
            entries=[convert.leaderboard_entry(board.entry(
                start + i + 1, standing, self._sampler.samples(standing.account.account_id)))
                for i, standing in enumerate(page)],
            next_page_token=str(start + size) if len(ranked) > size else "",
            as_of_ns=self._gateway.now())
