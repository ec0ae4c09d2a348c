"""The queryable store: accounts, positions, instruments, orders, fills, candles and
balance changes as SQL tables, written in the journal's own transactions.

`projection` turns what each journaled command changed into rows; the journal writes
them (`tradepit.journal.store`); `reader` answers the history queries (ListOrders,
ListTrades, GetCandles, the leaderboard) from them, so history outlives memory.
"""
