"""AdminService: instruments, trading status, balances, sessions and agents (admin token only)."""

from __future__ import annotations

from tradepit_client.v1 import admin_pb2, admin_pb2_grpc, common_pb2

from tradepit.exchange.commands import (
    AdjustBalance,
    CreateInstrument,
    EndSession,
    RemoveInstrument,
    SetTradingStatus,
)
from tradepit.exchange.model import Instrument
from tradepit.server import convert
from tradepit.server.account_service import page_bounds
from tradepit.server.context import Context
from tradepit.server.gateway import Gateway


class AdminService(admin_pb2_grpc.AdminServiceServicer):
    def __init__(self, gateway: Gateway) -> None:
        self._gateway = gateway

    async def CreateInstrument(self, request: admin_pb2.CreateInstrumentRequest,
                               context: Context) -> common_pb2.Instrument:
        return await self._gateway.execute(lambda now: CreateInstrument(
            request.symbol, request.tick_size, request.lot_size, request.reference_price,
            request.band_bps, now), convert.instrument)

    async def RemoveInstrument(self, request: admin_pb2.RemoveInstrumentRequest,
                               context: Context) -> admin_pb2.RemoveInstrumentResponse:
        def answer(result: tuple[Instrument, list[int]]) -> admin_pb2.RemoveInstrumentResponse:
            instrument, cancelled = result
            return admin_pb2.RemoveInstrumentResponse(
                instrument=convert.instrument(instrument), cancelled_order_ids=cancelled)

        return await self._gateway.execute(
            lambda now: RemoveInstrument(request.symbol, now), answer)

    async def SetTradingStatus(self, request: admin_pb2.SetTradingStatusRequest,
                               context: Context
                               ) -> admin_pb2.SetTradingStatusResponse:
        return await self._gateway.execute(
            lambda now: SetTradingStatus(request.symbol, request.status, now),
            lambda instruments: admin_pb2.SetTradingStatusResponse(
                instruments=[convert.instrument(i) for i in instruments]))

    async def AdjustBalance(self, request: admin_pb2.AdjustBalanceRequest,
                            context: Context) -> common_pb2.Account:
        return await self._gateway.execute(lambda now: AdjustBalance(
            request.account_id, request.amount, request.kind, now, request.symbol),
            convert.account)

    async def ListAccounts(self, request: admin_pb2.ListAccountsRequest,
                           context: Context) -> admin_pb2.ListAccountsResponse:
        await self._gateway.settled()
        accounts = self._gateway.exchange.accounts.values()
        return admin_pb2.ListAccountsResponse(accounts=[convert.account(a) for a in accounts])

    async def ListAgents(self, request: admin_pb2.ListAgentsRequest,
                         context: Context) -> admin_pb2.ListAgentsResponse:
        size, start = page_bounds(request.page_size, request.page_token)
        await self._gateway.settled()
        accounts = [a for a in self._gateway.exchange.accounts.values()
                    if request.include_system or not a.system]
        page = accounts[start:start + size]
        end = start + len(page)
        rejects = self._gateway.rejects
        return admin_pb2.ListAgentsResponse(
            agents=[convert.agent_activity(a, rejects.get(a.account_id, 0)) for a in page],
            next_page_token=str(end) if end < len(accounts) else "")

    async def EndSession(self, request: admin_pb2.EndSessionRequest,
                         context: Context) -> admin_pb2.EndSessionResponse:
        return await self._gateway.execute(
            lambda now: EndSession(request.symbol, now),
            lambda reports: admin_pb2.EndSessionResponse(
                expired_order_ids=[r.order_id for r in reports]))
