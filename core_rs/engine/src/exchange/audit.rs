//! Conservation and escrow checks (exchange.py `audit`): every broken invariant as text.

use super::model::Position;
use super::money::Money;
use super::orders::{BUY, SELL};
use super::{slot, Exchange};

impl Exchange {
    /// Every broken money or escrow invariant, as text; empty when all hold.
    ///
    /// Python's `audit` also creates an empty position for every account and instrument as
    /// it looks (`account.position(symbol)`); those never change what it reports. This
    /// one changes nothing; [`Exchange::audit_mut`] reproduces the side effect too.
    pub fn audit(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let held: Money = self.accounts.iter().map(|a| a.cash + a.reserved_cash).sum();
        let deposits: Money = self.accounts.iter().map(|a| a.deposits).sum();
        if held + self.fees_collected != deposits {
            problems.push(format!(
                "cash {held} + fees {} != deposits {deposits}",
                self.fees_collected
            ));
        }
        for &market in self.listed.iter().chain(&self.delisted) {
            let symbol = &*self.markets[market].instrument.symbol;
            let shares: Money = self
                .accounts
                .iter()
                .map(|a| a.positions.get(symbol).map_or(0, |p| p.quantity))
                .sum();
            let deposited: Money = self
                .accounts
                .iter()
                .map(|a| a.share_deposits.get(symbol).copied().unwrap_or(0))
                .sum();
            if shares != deposited {
                problems.push(format!(
                    "{symbol}: {shares} shares held != {deposited} deposited"
                ));
            }
        }
        for account in &self.accounts {
            let open: Vec<_> = account
                .order_ids
                .iter()
                .map(|&id| &self.orders[slot(id).expect("recorded ids are valid")])
                .filter(|order| order.is_open())
                .collect();
            let reserved: Money = open
                .iter()
                .filter(|order| order.side == BUY)
                .map(|order| order.reserved_cash)
                .sum();
            if reserved != account.reserved_cash || account.cash < 0 {
                problems.push(format!(
                    "account {}: reserved {} != {reserved} held by open buys, or cash < 0",
                    account.account_id, account.reserved_cash
                ));
            }
            for (symbol, position) in account.positions() {
                let selling: Money = open
                    .iter()
                    .filter(|order| order.side == SELL && &*order.symbol == symbol)
                    .map(|order| order.leaves)
                    .sum();
                if position.reserved != selling || position.available() < 0 {
                    problems.push(format!(
                        "account {} {symbol}: reserved {} != {selling} open to sell",
                        account.account_id, position.reserved
                    ));
                }
            }
        }
        for &market in &self.listed {
            let listing = &self.markets[market];
            let symbol = &listing.instrument.symbol;
            let book = listing.book.as_ref().expect("a listed market has a book");
            // Python's `book.validate()` raises; here the broken invariant is reported.
            if let Err(error) = book.validate() {
                problems.push(format!("{symbol}: {error}"));
            }
            let mut resting: Vec<(i64, Money)> = book
                .side_orders(crate::Side::Buy)
                .chain(book.side_orders(crate::Side::Sell))
                .map(|order| (order.order_id, Money::from(order.remaining)))
                .collect();
            let mut tracked: Vec<(i64, Money)> = listing
                .open
                .iter()
                .map(|(&book_id, &index)| (book_id, self.orders[index].leaves))
                .collect();
            resting.sort_unstable();
            tracked.sort_unstable();
            if resting != tracked {
                problems.push(format!(
                    "{symbol}: book and exchange disagree on open orders"
                ));
            }
        }
        problems
    }

    /// [`Exchange::audit`], plus Python's side effect: an empty position for every account
    /// and every listed or delisted symbol it has none in (what `audit` looks at), so the
    /// state afterwards is exactly the Python exchange's after its `audit()`.
    pub fn audit_mut(&mut self) -> Vec<String> {
        for &market in self.listed.iter().chain(&self.delisted) {
            let symbol = &self.markets[market].instrument.symbol;
            for account in &mut self.accounts {
                let _: &mut Position = account.position(symbol);
            }
        }
        self.audit()
    }
}
