//! Scenario tests of the exchange state machine (`tradepit_engine::exchange`): escrow,
//! settlement, fees, amendments, idempotency, refusals and their exact texts, and a
//! seeded random stream that must conserve money and shares throughout.
//!
//! Expected values are worked out by hand from the rules in exchange.py / money.py
//! (fee = notional * bps // 10_000 per fill; a buy holds notional + its largest fee).

use tradepit_engine::exchange::{
    py_repr, Command, Exchange, ExchangeError, ExecType, Limits, Liquidity, MarketEvent, Money,
    OrderRef, OrderStatus, Outcome, Position, Reject, RejectCode, Report, TradingStatus,
};
use tradepit_engine::EventKind;

mod exchange_stream;

use exchange_stream::Rng;

const BUY: i64 = 1;
const SELL: i64 = 2;

/// A submit with the usual defaults (limit, GTC, no client id); adjust fields as needed.
#[derive(Clone)]
struct Order {
    account_id: i64,
    client_order_id: &'static str,
    symbol: &'static str,
    side: i64,
    order_type: i64,
    tif: i64,
    price: Money,
    quantity: Money,
    post_only: bool,
    stp: i64,
}

fn limit(account_id: i64, side: i64, price: Money, quantity: Money) -> Order {
    Order {
        account_id,
        client_order_id: "",
        symbol: "AAPL",
        side,
        order_type: 0,
        tif: 0,
        price,
        quantity,
        post_only: false,
        stp: 0,
    }
}

fn market(account_id: i64, side: i64, quantity: Money) -> Order {
    Order {
        order_type: 2,
        ..limit(account_id, side, 0, quantity)
    }
}

impl Order {
    fn cid(self, client_order_id: &'static str) -> Self {
        Order {
            client_order_id,
            ..self
        }
    }

    fn tif(self, tif: i64) -> Self {
        Order { tif, ..self }
    }

    fn on(self, symbol: &'static str) -> Self {
        Order { symbol, ..self }
    }

    fn command(&self, timestamp: i64) -> Command {
        Command::SubmitOrder {
            account_id: self.account_id,
            client_order_id: self.client_order_id.to_owned(),
            symbol: self.symbol.to_owned(),
            side: self.side,
            order_type: self.order_type,
            tif: self.tif,
            price: self.price,
            quantity: self.quantity,
            post_only: self.post_only,
            stp: self.stp,
            timestamp,
        }
    }
}

/// An exchange with a clock, and shorthands for the commands the scenarios use.
struct Market {
    x: Exchange,
    now: i64,
}

impl Market {
    fn new(limits: Limits) -> Self {
        let mut market = Market {
            x: Exchange::new(limits),
            now: 0,
        };
        // AAPL: tick 1, lot 1, reference 10_000, band 10%: prices 9_000..=11_000.
        market.list("AAPL", 1, 1, 10_000);
        market
    }

    fn run(&mut self, command: Command) -> Result<Outcome, ExchangeError> {
        self.now += 1;
        self.x.execute(&command)
    }

    fn ok(&mut self, command: Command) -> Outcome {
        match self.run(command.clone()) {
            Ok(outcome) => outcome,
            Err(error) => panic!("{command:?} failed: {error}"),
        }
    }

    fn refused(&mut self, command: Command) -> Reject {
        match self.run(command.clone()) {
            Err(ExchangeError::Reject(reject)) => reject,
            other => panic!("{command:?} was not refused: {other:?}"),
        }
    }

    fn list(&mut self, symbol: &str, tick_size: Money, lot_size: Money, reference_price: Money) {
        self.ok(Command::CreateInstrument {
            symbol: symbol.to_owned(),
            tick_size,
            lot_size,
            reference_price,
            band_bps: 0,
            timestamp: self.now,
        });
    }

    /// A new account holding `cash`.
    fn account(&mut self, cash: Money) -> i64 {
        let key = format!("key-{}", self.now);
        let Outcome::Account { account_id } = self.ok(Command::CreateAccount {
            name: format!("agent {}", self.now),
            key_hash: key,
            timestamp: self.now,
            system: false,
        }) else {
            panic!("not an account")
        };
        if cash != 0 {
            self.ok(cash_in(account_id, cash));
        }
        account_id
    }

    fn shares(&mut self, account_id: i64, symbol: &str, amount: Money) {
        self.ok(Command::AdjustBalance {
            account_id,
            amount,
            kind: 1,
            timestamp: self.now,
            symbol: symbol.to_owned(),
        });
    }

    /// Submits; returns the order id and the submitter's reports.
    fn submit(&mut self, order: &Order) -> (i64, Vec<Report>) {
        match self.ok(order.command(self.now)) {
            Outcome::Order { order_id, reports } => (order_id, reports.collect(self.x.reports())),
            other => panic!("{other:?}"),
        }
    }

    fn refuse_submit(&mut self, order: &Order) -> Reject {
        self.refused(order.command(self.now))
    }

    fn cancel(&mut self, account_id: i64, order_id: i64) -> Vec<Report> {
        match self.ok(cancel(account_id, order_id)) {
            Outcome::Order { reports, .. } => reports.collect(self.x.reports()),
            other => panic!("{other:?}"),
        }
    }

    fn amend(
        &mut self,
        account_id: i64,
        order_id: i64,
        price: Money,
        quantity: Money,
    ) -> Vec<Report> {
        match self.ok(amend(account_id, order_id, price, quantity)) {
            Outcome::Order { reports, .. } => reports.collect(self.x.reports()),
            other => panic!("{other:?}"),
        }
    }

    fn cash(&self, account_id: i64) -> (Money, Money) {
        let account = self.x.account(account_id).unwrap();
        (account.cash, account.reserved_cash)
    }

    fn position(&self, account_id: i64, symbol: &str) -> Position {
        *self
            .x
            .account(account_id)
            .unwrap()
            .positions
            .get(symbol)
            .unwrap()
    }

    fn status(&self, order_id: i64) -> OrderStatus {
        self.x.order(order_id).unwrap().status
    }

    fn assert_conserved(&self) {
        assert_eq!(self.x.audit(), Vec::<String>::new());
    }
}

fn cash_in(account_id: i64, amount: Money) -> Command {
    Command::AdjustBalance {
        account_id,
        amount,
        kind: 1,
        timestamp: 0,
        symbol: String::new(),
    }
}

fn cancel(account_id: i64, order_id: i64) -> Command {
    Command::CancelOrder {
        account_id,
        order: OrderRef {
            order_id,
            client_order_id: String::new(),
        },
        timestamp: 0,
    }
}

fn amend(account_id: i64, order_id: i64, price: Money, quantity: Money) -> Command {
    Command::AmendOrder {
        account_id,
        order: OrderRef {
            order_id,
            client_order_id: String::new(),
        },
        price,
        quantity,
        timestamp: 0,
    }
}

fn fees(maker_fee_bps: Money, taker_fee_bps: Money) -> Limits {
    Limits {
        maker_fee_bps,
        taker_fee_bps,
        ..Limits::default()
    }
}

/// Everything observable about the state, for "nothing changed" comparisons.
fn dump(x: &Exchange) -> String {
    let books: Vec<(String, String)> = x
        .instruments()
        .map(|i| {
            (
                i.symbol.to_string(),
                x.book(&i.symbol).unwrap().state_hash(),
            )
        })
        .collect();
    format!(
        "{:?}",
        (
            x.accounts().collect::<Vec<_>>(),
            x.orders().collect::<Vec<_>>(),
            x.instruments().collect::<Vec<_>>(),
            x.delisted().collect::<Vec<_>>(),
            books,
            (x.limits(), x.fee_rates(), x.fees_collected(), x.next_ids()),
        )
    )
}

fn kinds(reports: &[Report]) -> Vec<ExecType> {
    reports.iter().map(|r| r.exec_type).collect()
}

// ------------------------------------------------------------------ escrow and settlement

#[test]
fn a_resting_buy_reserves_its_notional_plus_the_largest_fee() {
    let mut m = Market::new(fees(10, 20));
    let buyer = m.account(1_000_000);
    let (order_id, reports) = m.submit(&limit(buyer, BUY, 10_000, 10));
    // 10 * 10_000 = 100_000, plus 20 bps (the larger of 10 and 20) = 200.
    assert_eq!(m.cash(buyer), (899_800, 100_200));
    let order = m.x.order(order_id).unwrap();
    assert_eq!((order.reserved_cash, order.leaves), (100_200, 10));
    assert_eq!((order.order_type, order.tif, order.stp), (1, 1, 1)); // the defaults
    assert_eq!(order.request.tif, 0); // as received
    assert_eq!(reports.len(), 1);
    let new = &reports[0];
    assert_eq!(
        (new.exec_type, new.order_status),
        (ExecType::New, OrderStatus::New)
    );
    assert_eq!(
        (new.sequence, new.leaves_quantity, new.cumulative_quantity),
        (1, 10, 0)
    );
    assert_eq!(new.average_price, "");
    assert_eq!(order.acknowledgement().as_ref(), Some(new));
    assert_eq!(m.x.take_reports(), reports);
    let events = m.x.take_market_events();
    let [MarketEvent::BookChange {
        symbol,
        events,
        trades,
        ..
    }] = &events[..]
    else {
        panic!("{events:?}")
    };
    assert_eq!(&**symbol, "AAPL");
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].kind, EventKind::Accepted);
    assert!(trades.is_empty());
    m.assert_conserved();
}

#[test]
fn a_cross_trades_at_the_makers_price_with_fees_per_fill_and_refunds_the_improvement() {
    let mut m = Market::new(fees(10, 20));
    let seller = m.account(0);
    m.shares(seller, "AAPL", 50); // cost basis 50 * 10_000 = 500_000
    let buyer = m.account(1_000_000);
    let (ask, _) = m.submit(&limit(seller, SELL, 9_990, 10));
    assert_eq!(m.position(seller, "AAPL").reserved, 10);

    let (bid, reports) = m.submit(&limit(buyer, BUY, 10_010, 10));
    // Held: 100_100 + 200 (200.2 rounded down). Traded: 10 at 9_990 = 99_900.
    // Taker fee 20 bps: 199 (199.8 down); maker fee 10 bps: 99 (99.9 down).
    assert_eq!(kinds(&reports), [ExecType::New, ExecType::Trade]); // the buyer's only
    let trade = &reports[1];
    assert_eq!(
        (trade.last_price, trade.last_quantity, trade.fee),
        (9_990, 10, 199)
    );
    assert_eq!(trade.liquidity, Some(Liquidity::Taker));
    assert_eq!(trade.order_status, OrderStatus::Filled);
    assert_eq!(trade.average_price, "9990");
    assert_eq!(trade.price, 10_010); // the order's own limit

    // The buyer paid 99_900 + 199; the 201 left of the escrow came back.
    assert_eq!(m.cash(buyer), (1_000_000 - 100_099, 0));
    let held = m.position(buyer, "AAPL");
    assert_eq!(
        (held.quantity, held.reserved, held.cost_basis),
        (10, 0, 100_099)
    );
    // The seller got 99_900 - 99 and sold 10 of 50 shares costing 500_000.
    assert_eq!(m.cash(seller), (99_801, 0));
    let sold = m.position(seller, "AAPL");
    assert_eq!(
        (sold.quantity, sold.reserved, sold.cost_basis),
        (40, 0, 400_000)
    );
    assert_eq!(sold.realised_pnl, 99_801 - 100_000);
    assert_eq!(m.x.fees_collected(), 298);
    assert_eq!(
        (m.status(ask), m.status(bid)),
        (OrderStatus::Filled, OrderStatus::Filled)
    );
    assert_eq!(m.x.instrument("AAPL").unwrap().reference_price, 9_990);

    let maker_fill = &m.x.account(seller).unwrap().fills[0];
    assert_eq!(
        (maker_fill.fee, maker_fill.liquidity, maker_fill.trade_id),
        (99, Liquidity::Maker, 1)
    );
    let all = m.x.take_reports();
    let seller_trade = all
        .iter()
        .find(|r| r.account_id == seller && r.exec_type == ExecType::Trade);
    assert_eq!(seller_trade.unwrap().sequence, 2); // NEW, then the fill
    let events = m.x.take_market_events();
    let Some(MarketEvent::BookChange { trades, .. }) = events.last() else {
        panic!("{events:?}")
    };
    assert_eq!(trades.len(), 1);
    assert_eq!(
        (
            trades[0].price,
            trades[0].quantity,
            trades[0].aggressor_side
        ),
        (9_990, 10, BUY)
    );
    m.assert_conserved();
}

#[test]
fn partial_fills_then_a_cancel_refund_exactly() {
    let mut m = Market::new(fees(5, 25));
    let seller = m.account(0);
    m.shares(seller, "AAPL", 100);
    let buyer = m.account(1_000_000);
    m.submit(&limit(seller, SELL, 10_000, 4));
    m.submit(&limit(seller, SELL, 10_001, 2));
    // Holds 10 * 10_001 = 100_010 plus 25 bps = 250 (250.025 down): 100_260.
    let (bid, reports) = m.submit(&limit(buyer, BUY, 10_001, 10));
    assert_eq!(
        kinds(&reports),
        [ExecType::New, ExecType::Trade, ExecType::Trade]
    );
    // Fills: 4 at 10_000 (fee 100), 2 at 10_001 (20_002, fee 50 = 50.005 down).
    assert_eq!(reports[1].fee, 100);
    assert_eq!(reports[2].fee, 50);
    assert_eq!(reports[2].order_status, OrderStatus::PartiallyFilled);
    assert_eq!(reports[2].average_price, "10000.333333"); // 60_002 / 6
                                                          // 4 left: 40_004 + 100 (100.01 down) held; the rest paid or returned.
    let order = m.x.order(bid).unwrap();
    assert_eq!((order.leaves, order.reserved_cash), (4, 40_104));
    let paid = 40_000 + 100 + 20_002 + 50;
    assert_eq!(m.cash(buyer), (1_000_000 - paid - 40_104, 40_104));

    let cancelled = m.cancel(buyer, bid);
    assert_eq!(kinds(&cancelled), [ExecType::Canceled]);
    assert_eq!(
        (cancelled[0].last_quantity, cancelled[0].leaves_quantity),
        (4, 0)
    );
    assert_eq!(m.cash(buyer), (1_000_000 - paid, 0));
    assert_eq!(m.status(bid), OrderStatus::Canceled);
    let again = m.refused(cancel(buyer, bid));
    assert_eq!(again.code, RejectCode::OrderNotOpen);
    assert_eq!(again.message, format!("order {bid} is already CANCELED"));
    m.assert_conserved();
}

#[test]
fn amending_a_buy_up_or_down_resizes_its_escrow() {
    let mut m = Market::new(Limits::default());
    let buyer = m.account(1_000_000);
    let (bid, _) = m.submit(&limit(buyer, BUY, 10_000, 10));
    assert_eq!(m.cash(buyer), (900_000, 100_000));

    let down = m.amend(buyer, bid, 10_000, 5);
    assert_eq!(kinds(&down), [ExecType::Replaced]);
    assert_eq!((down[0].quantity, down[0].leaves_quantity), (5, 5));
    assert_eq!(m.cash(buyer), (950_000, 50_000));

    m.amend(buyer, bid, 10_100, 8);
    assert_eq!(m.cash(buyer), (919_200, 80_800));
    let order = m.x.order(bid).unwrap();
    assert_eq!(
        (order.price, order.book_price, order.reserved_cash),
        (10_100, 10_100, 80_800)
    );

    // 200 at 10_000 needs 2_000_000, of which 80_800 is held: 1_919_200 more.
    let refused = m.refused(amend(buyer, bid, 10_000, 200));
    assert_eq!(refused.code, RejectCode::InsufficientBuyingPower);
    assert_eq!(
        refused.message,
        "this order needs 1919200 in free cash (notional plus the largest fee); \
         buying power is 919200"
    );
    m.assert_conserved();
}

#[test]
fn sells_reserve_shares_and_nobody_sells_short() {
    let mut m = Market::new(Limits::default());
    let seller = m.account(0);
    m.shares(seller, "AAPL", 30);
    let (ask, _) = m.submit(&limit(seller, SELL, 10_000, 20));
    let held = m.position(seller, "AAPL");
    assert_eq!(
        (held.quantity, held.reserved, held.available()),
        (30, 20, 10)
    );

    let short = m.refuse_submit(&limit(seller, SELL, 10_000, 11));
    assert_eq!(short.code, RejectCode::InsufficientShares);
    assert_eq!(
        short.message,
        "selling 11 AAPL needs that many free shares; you have 10 (no short selling)"
    );
    let raise = m.refused(amend(seller, ask, 10_000, 31));
    assert_eq!(
        raise.message,
        "raising this sell order by 11 needs 11 free shares; you have 10"
    );
    let withdraw = m.refused(Command::AdjustBalance {
        account_id: seller,
        amount: -11,
        kind: 2,
        timestamp: 0,
        symbol: "AAPL".into(),
    });
    assert_eq!(withdraw.message, "cannot remove 11 shares; 10 are free");

    let empty = m.account(1_000_000);
    let none = m.refuse_submit(&limit(empty, SELL, 10_000, 1));
    assert_eq!(
        none.message,
        "selling 1 AAPL needs that many free shares; you have 0 (no short selling)"
    );

    m.amend(seller, ask, 10_000, 5);
    assert_eq!(m.position(seller, "AAPL").reserved, 5);
    m.cancel(seller, ask);
    assert_eq!(m.position(seller, "AAPL").reserved, 0);
    m.assert_conserved();
}

#[test]
fn a_market_buy_reserves_at_the_band_edge_and_releases_the_rest() {
    let mut m = Market::new(fees(0, 10));
    let seller = m.account(0);
    m.shares(seller, "AAPL", 5);
    let buyer = m.account(1_000_000);
    m.submit(&limit(seller, SELL, 10_000, 5));
    let (bid, reports) = m.submit(&market(buyer, BUY, 10));
    // Held at the band's top, 11_000: 110_000 + 110. Traded 5 at 10_000, fee 50; the
    // other 5 found nothing and were cancelled, releasing everything left.
    assert_eq!(
        kinds(&reports),
        [ExecType::New, ExecType::Trade, ExecType::Canceled]
    );
    assert_eq!(reports[2].last_quantity, 5);
    let order = m.x.order(bid).unwrap();
    assert_eq!(
        (order.price, order.book_price, order.order_type),
        (0, 11_000, 2)
    );
    assert_eq!(
        (order.status, order.leaves, order.reserved_cash),
        (OrderStatus::Canceled, 0, 0)
    );
    assert_eq!(m.cash(buyer), (1_000_000 - 50_050, 0));
    assert_eq!(m.position(buyer, "AAPL").quantity, 5);

    // A market sell into an empty book: held shares come straight back.
    let (ask, _) = m.submit(&market(buyer, SELL, 5));
    assert_eq!(m.x.order(ask).unwrap().book_price, 9_000);
    assert_eq!(m.status(ask), OrderStatus::Canceled);
    assert_eq!(m.position(buyer, "AAPL").reserved, 0);
    m.assert_conserved();
}

// ------------------------------------------------------------------ idempotency

#[test]
fn an_identical_resubmission_returns_the_original_acknowledgement_and_creates_nothing() {
    let mut m = Market::new(Limits::default());
    let buyer = m.account(1_000_000);
    let first = limit(buyer, BUY, 10_000, 10).cid("abc");
    let (order_id, reports) = m.submit(&first);
    m.x.take_reports();
    m.x.take_market_events();
    let before = dump(&m.x);

    let (again, acknowledgement) = m.submit(&first); // later timestamp, same request
    assert_eq!(again, order_id);
    assert_eq!(acknowledgement, reports);
    assert_eq!(dump(&m.x), before);
    assert!(m.x.take_reports().is_empty());
    assert!(m.x.take_market_events().is_empty());

    // Still true once the order is gone.
    m.cancel(buyer, order_id);
    assert_eq!(m.submit(&first).1, reports);

    // The same client_order_id with other parameters is refused; tif 1 is not tif 0 as
    // received, even though both mean GTC.
    for other in [
        limit(buyer, BUY, 10_001, 10).cid("abc"),
        first.clone().tif(1),
    ] {
        let before = dump(&m.x);
        let refused = m.refuse_submit(&other);
        assert_eq!(refused.code, RejectCode::DuplicateClientOrderId);
        assert_eq!(
            refused.message,
            format!(
                "client_order_id 'abc' already names order {order_id} with other parameters; \
                 use a new client_order_id"
            )
        );
        assert_eq!(dump(&m.x), before);
    }
}

// ------------------------------------------------------------------ refusals

#[test]
fn every_refusal_leaves_the_state_unchanged() {
    let mut m = Market::new(Limits {
        max_order_notional: 5_000_000,
        ..Limits::default()
    });
    m.list("BBB", 5, 10, 1_000);
    let trader = m.account(100_000);
    m.shares(trader, "AAPL", 10);
    m.shares(trader, "BBB", 10);
    let (open, _) = m.submit(&limit(trader, BUY, 9_000, 1));
    let (done, _) = m.submit(&limit(trader, BUY, 9_000, 1));
    m.cancel(trader, done);
    m.x.take_reports();
    m.x.take_market_events();

    let key = m.x.account(trader).unwrap().key_hash.clone();
    let base = limit(trader, BUY, 10_000, 1);
    let bad = |order: Order| order.command(0);
    let commands = vec![
        bad(Order {
            account_id: 99,
            ..base.clone()
        }),
        bad(base
            .clone()
            .cid(&*Box::leak("x".repeat(65).into_boxed_str()))),
        bad(base.clone().on("ZZZ")),
        bad(Order {
            side: 3,
            ..base.clone()
        }),
        bad(Order {
            order_type: 3,
            ..base.clone()
        }),
        bad(base.clone().tif(5)),
        bad(Order {
            stp: 5,
            ..base.clone()
        }),
        bad(Order {
            quantity: 0,
            ..base.clone()
        }),
        bad(Order {
            quantity: 15,
            ..base.clone().on("BBB")
        }),
        bad(Order {
            quantity: 1_000_001,
            ..base.clone()
        }),
        bad(Order {
            price: 0,
            ..base.clone()
        }),
        bad(Order {
            price: 1_002,
            ..base.clone().on("BBB")
        }
        .clone()),
        bad(Order {
            price: 11_001,
            ..base.clone()
        }),
        bad(Order {
            quantity: 600,
            ..base.clone()
        }), // notional 6_000_000
        bad(Order {
            price: 5,
            ..market(trader, BUY, 1)
        }),
        bad(Order {
            post_only: true,
            ..market(trader, BUY, 1)
        }),
        bad(Order {
            quantity: 11,
            ..base.clone()
        }), // 110_000 > 91_000 free
        bad(limit(trader, SELL, 10_000, 11)),
        cancel(trader, 999),
        cancel(99, open),
        cancel(trader, done),
        Command::CancelOrder {
            account_id: trader,
            order: OrderRef {
                order_id: open,
                client_order_id: "nope".into(),
            },
            timestamp: 0,
        },
        amend(trader, open, 9_000, 0),
        amend(trader, open, 9_001, 100), // 900_100 > 91_000 + 9_000
        amend(trader, open, 12_000, 1),
        Command::CancelAll {
            account_id: trader,
            symbol: "ZZZ".into(),
            timestamp: 0,
        },
        Command::CancelAll {
            account_id: 42,
            symbol: String::new(),
            timestamp: 0,
        },
        Command::CreateAccount {
            name: "  ".into(),
            key_hash: "new".into(),
            timestamp: 0,
            system: false,
        },
        Command::CreateAccount {
            name: "x".repeat(65),
            key_hash: "new".into(),
            timestamp: 0,
            system: false,
        },
        Command::CreateAccount {
            name: "dup".into(),
            key_hash: key,
            timestamp: 0,
            system: false,
        },
        Command::AdjustBalance {
            account_id: trader,
            amount: 0,
            kind: 1,
            timestamp: 0,
            symbol: String::new(),
        },
        Command::AdjustBalance {
            account_id: trader,
            amount: 5,
            kind: 3,
            timestamp: 0,
            symbol: String::new(),
        },
        Command::AdjustBalance {
            account_id: trader,
            amount: -1_000_000,
            kind: 2,
            timestamp: 0,
            symbol: String::new(),
        },
        Command::AdjustBalance {
            account_id: trader,
            amount: 3,
            kind: 1,
            timestamp: 0,
            symbol: "BBB".into(),
        },
        Command::AdjustBalance {
            account_id: trader,
            amount: -11,
            kind: 2,
            timestamp: 0,
            symbol: "AAPL".into(),
        },
        Command::AdjustBalance {
            account_id: trader,
            amount: 10,
            kind: 1,
            timestamp: 0,
            symbol: "ZZZ".into(),
        },
        Command::AdjustBalance {
            account_id: 7,
            amount: 10,
            kind: 1,
            timestamp: 0,
            symbol: String::new(),
        },
        Command::CreateInstrument {
            symbol: "bad sym".into(),
            tick_size: 1,
            lot_size: 1,
            reference_price: 1,
            band_bps: 0,
            timestamp: 0,
        },
        Command::CreateInstrument {
            symbol: "AAPL".into(),
            tick_size: 1,
            lot_size: 1,
            reference_price: 1,
            band_bps: 0,
            timestamp: 0,
        },
        Command::CreateInstrument {
            symbol: "NEW".into(),
            tick_size: 0,
            lot_size: 1,
            reference_price: 1,
            band_bps: 0,
            timestamp: 0,
        },
        Command::CreateInstrument {
            symbol: "NEW".into(),
            tick_size: 2,
            lot_size: 1,
            reference_price: 3,
            band_bps: 0,
            timestamp: 0,
        },
        Command::CreateInstrument {
            symbol: "NEW".into(),
            tick_size: 1,
            lot_size: 1,
            reference_price: 3,
            band_bps: 10_001,
            timestamp: 0,
        },
        Command::SetTradingStatus {
            symbol: String::new(),
            status: 3,
            timestamp: 0,
        },
        Command::SetTradingStatus {
            symbol: "ZZZ".into(),
            status: 2,
            timestamp: 0,
        },
        Command::SetLimits {
            maker_fee_bps: 10_001,
            taker_fee_bps: 0,
            max_order_quantity: 1,
            max_order_notional: 1,
            timestamp: 0,
        },
        Command::SetLimits {
            maker_fee_bps: 0,
            taker_fee_bps: -1,
            max_order_quantity: 1,
            max_order_notional: 1,
            timestamp: 0,
        },
        Command::SetLimits {
            maker_fee_bps: 0,
            taker_fee_bps: 0,
            max_order_quantity: 0,
            max_order_notional: 1,
            timestamp: 0,
        },
        Command::RemoveInstrument {
            symbol: "ZZZ".into(),
            timestamp: 0,
        },
        Command::EndSession {
            symbol: "ZZZ".into(),
            timestamp: 0,
        },
    ];
    for command in commands {
        let before = dump(&m.x);
        m.refused(command.clone());
        assert_eq!(dump(&m.x), before, "{command:?} changed the state");
        assert!(m.x.take_reports().is_empty(), "{command:?}");
        assert!(m.x.take_market_events().is_empty(), "{command:?}");
    }

    // Halted: orders are refused, cancels still work.
    m.ok(Command::SetTradingStatus {
        symbol: "AAPL".into(),
        status: 2,
        timestamp: 0,
    });
    m.x.take_market_events();
    let before = dump(&m.x);
    let halted = m.refuse_submit(&base);
    assert_eq!(halted.code, RejectCode::TradingHalted);
    assert_eq!(
        halted.message,
        "trading in AAPL is halted; cancels still work"
    );
    assert_eq!(
        m.refused(amend(trader, open, 9_000, 1)).code,
        RejectCode::TradingHalted
    );
    assert_eq!(dump(&m.x), before);
    m.cancel(trader, open);
    m.assert_conserved();
}

#[test]
fn a_refused_order_leaves_the_empty_position_python_looks_up() {
    // exchange.py calls `account.position(symbol)` before the cash check, which creates
    // an empty position: the one trace a refusal leaves, mirrored for identical state.
    let mut m = Market::new(Limits::default());
    let poor = m.account(10);
    let refused = m.refuse_submit(&limit(poor, BUY, 10_000, 1));
    assert_eq!(refused.code, RejectCode::InsufficientBuyingPower);
    assert_eq!(
        refused.message,
        "this order needs 10000 in free cash (notional plus the largest fee); buying power is 10"
    );
    assert_eq!(m.position(poor, "AAPL"), Position::default());
    assert!(m.x.account(poor).unwrap().order_ids.is_empty());
}

#[test]
fn refusal_messages_match_the_python_text() {
    let mut m = Market::new(Limits {
        max_order_notional: 50_000,
        ..Limits::default()
    });
    m.list("ZZ", 5, 10, 1_000);
    let trader = m.account(1_000_000);
    let mut check = |command: Command, code: RejectCode, message: &str| {
        let refused = m.refused(command);
        assert_eq!((refused.code, refused.message.as_str()), (code, message));
    };
    // f"unknown symbol {symbol!r}; listed symbols: {known}", known sorted.
    check(
        limit(trader, BUY, 10_000, 1).on("MSFT").command(0),
        RejectCode::UnknownSymbol,
        "unknown symbol 'MSFT'; listed symbols: AAPL, ZZ",
    );
    check(
        limit(trader, BUY, 10_000, 1).on("it's").command(0),
        RejectCode::UnknownSymbol,
        "unknown symbol \"it's\"; listed symbols: AAPL, ZZ",
    );
    // f"{name} must be one of {allowed}; got {value}"
    check(
        Order {
            side: 3,
            ..limit(trader, BUY, 10_000, 1)
        }
        .command(0),
        RejectCode::InvalidArgument,
        "side must be one of BUY (1), SELL (2); got 3",
    );
    check(
        Order {
            stp: 9,
            ..limit(trader, BUY, 10_000, 1)
        }
        .command(0),
        RejectCode::InvalidArgument,
        "self-trade prevention must be one of CANCEL_NEWEST (1), CANCEL_OLDEST (2), \
         CANCEL_BOTH (3), DECREMENT_AND_CANCEL (4); got 9",
    );
    check(
        limit(trader, BUY, 10_000, 1).tif(-1).command(0),
        RejectCode::InvalidArgument,
        "time in force must be one of GTC (1), IOC (2), FOK (3), DAY (4); got -1",
    );
    check(
        limit(trader, BUY, 1_000, 15).on("ZZ").command(0),
        RejectCode::QuantityOffLot,
        "quantity 15 is not a multiple of ZZ's lot size 10",
    );
    check(
        limit(trader, BUY, 1_001, 10).on("ZZ").command(0),
        RejectCode::PriceOffTick,
        "price 1001 is not a multiple of ZZ's tick size 5",
    );
    check(
        limit(trader, BUY, 12_000, 1).command(0),
        RejectCode::PriceOutsideBand,
        "price 12000 is outside AAPL's band 9000..11000 around the reference price 10000",
    );
    check(
        limit(trader, BUY, 10_000, 10).command(0),
        RejectCode::NotionalTooLarge,
        "price * quantity = 100000 is above the maximum order notional 50000",
    );
    check(
        limit(trader, BUY, 10_000, 2_000_000).command(0),
        RejectCode::QuantityTooLarge,
        "quantity 2000000 is above the maximum order quantity 1000000",
    );
    check(
        Order {
            price: 7,
            ..market(trader, SELL, 1)
        }
        .command(0),
        RejectCode::InvalidArgument,
        "a market order takes no price (send 0), got 7",
    );
    check(
        Command::CancelOrder {
            account_id: trader,
            order: OrderRef {
                order_id: 0,
                client_order_id: "it's".into(),
            },
            timestamp: 0,
        },
        RejectCode::UnknownOrder,
        "client_order_id \"it's\" is not an order of this account",
    );
    check(
        cancel(trader, 5),
        RejectCode::UnknownOrder,
        "order 5 is not an order of this account",
    );
    check(
        cancel(77, 5),
        RejectCode::UnknownAccount,
        "account 77 does not exist",
    );
    check(
        Command::CreateInstrument {
            symbol: "bad sym".into(),
            tick_size: 1,
            lot_size: 1,
            reference_price: 1,
            band_bps: 0,
            timestamp: 0,
        },
        RejectCode::InvalidArgument,
        "symbol 'bad sym' must be 1 to 16 characters of A-Z, 0-9, '.', '-'",
    );
    check(
        Command::SetLimits {
            maker_fee_bps: 10_001,
            taker_fee_bps: 0,
            max_order_quantity: 1,
            max_order_notional: 1,
            timestamp: 0,
        },
        RejectCode::InvalidArgument,
        "maker_fee_bps must be 0..10000; got 10001",
    );
    check(
        Command::AdjustBalance {
            account_id: trader,
            amount: -2_000_000,
            kind: 2,
            timestamp: 0,
            symbol: String::new(),
        },
        RejectCode::InsufficientBuyingPower,
        "cannot remove 2000000; the account has 1000000 free cash",
    );
    check(
        Command::CreateAccount {
            name: " \t ".into(),
            key_hash: "k".into(),
            timestamp: 0,
            system: false,
        },
        RejectCode::InvalidArgument,
        "an account name needs 1 to 64 characters",
    );
}

// ------------------------------------------------------------------ operator commands

#[test]
fn removing_an_instrument_cancels_its_orders_and_keeps_positions() {
    let mut m = Market::new(Limits::default());
    m.list("BBB", 1, 1, 100);
    let trader = m.account(1_000_000);
    m.shares(trader, "AAPL", 10);
    let (sell, _) = m.submit(&limit(trader, SELL, 10_500, 10));
    let (buy, _) = m.submit(&limit(trader, BUY, 9_500, 10));
    let (other, _) = m.submit(&limit(trader, BUY, 100, 1).on("BBB"));
    m.x.take_reports();
    m.x.take_market_events();

    let outcome = m.ok(Command::RemoveInstrument {
        symbol: "AAPL".into(),
        timestamp: 0,
    });
    assert_eq!(
        outcome,
        Outcome::Removed {
            symbol: "AAPL".into(),
            order_ids: vec![sell, buy]
        }
    );
    assert_eq!(
        (m.status(sell), m.status(buy), m.status(other)),
        (
            OrderStatus::Canceled,
            OrderStatus::Canceled,
            OrderStatus::New
        )
    );
    assert_eq!(m.cash(trader), (1_000_000 - 100, 100));
    let position = m.position(trader, "AAPL");
    assert_eq!((position.quantity, position.reserved), (10, 0));
    let reports = m.x.take_reports();
    assert_eq!(kinds(&reports), [ExecType::Canceled, ExecType::Canceled]);
    let events = m.x.take_market_events();
    assert_eq!(events.len(), 2); // one book change, then the status change
    assert!(matches!(&events[0], MarketEvent::BookChange { events, .. } if events.len() == 2));
    assert!(matches!(
        &events[1],
        MarketEvent::StatusChange {
            status: TradingStatus::Delisted,
            ..
        }
    ));

    assert!(m.x.instrument("AAPL").is_none() && m.x.book("AAPL").is_none());
    assert_eq!(m.x.listing("AAPL").unwrap().status, TradingStatus::Delisted);
    assert_eq!(
        m.x.delisted().map(|i| &*i.symbol).collect::<Vec<_>>(),
        ["AAPL"]
    );
    assert_eq!(
        m.x.instruments().map(|i| &*i.symbol).collect::<Vec<_>>(),
        ["BBB"]
    );
    let refused = m.refuse_submit(&limit(trader, BUY, 10_000, 1));
    assert_eq!(
        refused.message,
        "AAPL was delisted and no longer trades; positions in it stay, marked at its last \
         price 10000; listed symbols: BBB"
    );
    let relist = m.refused(Command::CreateInstrument {
        symbol: "AAPL".into(),
        tick_size: 1,
        lot_size: 1,
        reference_price: 1,
        band_bps: 0,
        timestamp: 0,
    });
    assert_eq!(relist.code, RejectCode::AlreadyExists);
    m.assert_conserved();
}

#[test]
fn the_end_of_a_session_expires_day_orders_only() {
    let mut m = Market::new(Limits::default());
    m.list("BBB", 1, 1, 100);
    let trader = m.account(1_000_000);
    let (day, _) = m.submit(&limit(trader, BUY, 10_000, 10).tif(4));
    let (gtc, _) = m.submit(&limit(trader, BUY, 10_000, 10));
    let (other_day, _) = m.submit(&limit(trader, BUY, 100, 10).on("BBB").tif(4));
    m.x.take_reports();
    assert_eq!(m.cash(trader), (1_000_000 - 201_000, 201_000));

    let Outcome::Reports { start } = m.ok(Command::EndSession {
        symbol: String::new(),
        timestamp: 9,
    }) else {
        panic!()
    };
    let reports = m.x.reports()[start..].to_vec();
    assert_eq!(kinds(&reports), [ExecType::Expired, ExecType::Expired]);
    assert_eq!((reports[0].order_id, reports[1].order_id), (day, other_day));
    assert_eq!(reports[0].last_quantity, 10);
    assert_eq!(
        (m.status(day), m.status(gtc)),
        (OrderStatus::Expired, OrderStatus::New)
    );
    assert_eq!(m.x.order(day).unwrap().updated_ns, 9);
    assert_eq!(m.cash(trader), (900_000, 100_000));
    assert_eq!(m.x.take_reports(), reports);
    m.assert_conserved();
}

#[test]
fn new_limits_apply_to_new_orders_only() {
    let mut m = Market::new(Limits::default());
    let seller = m.account(0);
    m.shares(seller, "AAPL", 20);
    let buyer = m.account(1_000_000);
    let (old_ask, _) = m.submit(&limit(seller, SELL, 10_000, 10));
    let (old_bid, _) = m.submit(&limit(buyer, BUY, 9_000, 10));
    let outcome = m.ok(Command::SetLimits {
        maker_fee_bps: 10,
        taker_fee_bps: 20,
        max_order_quantity: 1_000,
        max_order_notional: 10_000_000,
        timestamp: 0,
    });
    assert_eq!(
        outcome,
        Outcome::Limits(fees(10, 20).clone_with(1_000, 10_000_000))
    );
    // The resting bid keeps its fee-free escrow.
    assert_eq!(m.x.order(old_bid).unwrap().reserved_cash, 90_000);
    assert_eq!(m.x.order(old_bid).unwrap().fee_rates.max_bps, 0);
    // A new bid pays the new fees: 100_000 + 20 bps = 100_200 held, taker fee 200,
    // while the old ask pays its old maker fee, 0.
    let (new_bid, reports) = m.submit(&limit(buyer, BUY, 10_000, 10));
    assert_eq!(m.x.order(new_bid).unwrap().fee_rates.max_bps, 20);
    assert_eq!(reports[1].fee, 200);
    assert_eq!(m.x.account(seller).unwrap().fills[0].fee, 0);
    assert_eq!(m.cash(seller), (100_000, 0));
    assert_eq!(m.status(old_ask), OrderStatus::Filled);
    assert_eq!(
        m.refuse_submit(&limit(buyer, BUY, 10_000, 1_001)).code,
        RejectCode::QuantityTooLarge
    );
    m.assert_conserved();
}

trait WithSizes {
    fn clone_with(self, max_order_quantity: Money, max_order_notional: Money) -> Limits;
}

impl WithSizes for Limits {
    fn clone_with(self, max_order_quantity: Money, max_order_notional: Money) -> Limits {
        Limits {
            max_order_quantity,
            max_order_notional,
            ..self
        }
    }
}

#[test]
fn py_repr_quotes_like_python() {
    assert_eq!(py_repr("ABC"), "'ABC'");
    assert_eq!(py_repr("it's"), "\"it's\"");
    assert_eq!(py_repr("it's \"q\""), "'it\\'s \"q\"'");
    assert_eq!(py_repr("a\\b\n\t\r"), "'a\\\\b\\n\\t\\r'");
    assert_eq!(py_repr("\u{1}\u{7f}"), "'\\x01\\x7f'");
    assert_eq!(py_repr("naïve €"), "'naïve €'");
}

// ------------------------------------------------------------------ conservation

#[test]
fn a_random_stream_conserves_money_and_shares() {
    const SYMBOLS: [(&str, Money, Money, Money); 3] = [
        ("AAPL", 1, 1, 10_000),
        ("BBB", 5, 10, 1_000),
        ("C.D-1", 2, 5, 50),
    ];
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut x = Exchange::new(fees(5, 25));
    let mut now = 0;
    for (symbol, tick_size, lot_size, reference_price) in SYMBOLS {
        x.execute(&Command::CreateInstrument {
            symbol: symbol.into(),
            tick_size,
            lot_size,
            reference_price,
            band_bps: 1_000,
            timestamp: now,
        })
        .unwrap();
    }
    for account in 1..=6 {
        x.execute(&Command::CreateAccount {
            name: format!("agent {account}"),
            key_hash: format!("key-{account}"),
            timestamp: now,
            system: false,
        })
        .unwrap();
        x.execute(&cash_in(account, 2_000_000)).unwrap();
        for (symbol, _, lot_size, _) in SYMBOLS {
            x.execute(&Command::AdjustBalance {
                account_id: account,
                amount: 100 * lot_size,
                kind: 1,
                timestamp: now,
                symbol: symbol.into(),
            })
            .unwrap();
        }
    }
    let (mut applied, mut refused, mut trades) = (0, 0, 0);
    let mut sequences = [0i64; 7];
    for step in 0..4_000 {
        now += 1 + rng.below(3);
        let account = 1 + rng.below(6);
        let (symbol, tick, lot, _) = SYMBOLS[rng.below(3) as usize];
        let reference = x.listing(symbol).unwrap().reference_price;
        let price = (reference + Money::from(rng.below(17) - 8) * tick).max(tick);
        let quantity = lot * Money::from(1 + rng.below(20));
        let newest = x.next_ids().1 - 1;
        let order = OrderRef {
            order_id: (newest - rng.below(20)).max(1),
            client_order_id: String::new(),
        };
        let roll = rng.below(100);
        let command = match roll {
            0..=54 => Command::SubmitOrder {
                account_id: account,
                client_order_id: if rng.below(4) == 0 {
                    format!("c{}", rng.below(300))
                } else {
                    String::new()
                },
                symbol: symbol.into(),
                side: rng.pick(&[1, 2]),
                order_type: rng.pick(&[0, 1, 1, 1, 2]),
                tif: rng.pick(&[0, 1, 2, 3, 4]),
                price,
                quantity,
                post_only: rng.below(10) == 0,
                stp: rng.pick(&[0, 1, 2, 3, 4]),
                timestamp: now,
            },
            55..=69 => Command::CancelOrder {
                account_id: account,
                order,
                timestamp: now,
            },
            70..=82 => Command::AmendOrder {
                account_id: account,
                order,
                price,
                quantity,
                timestamp: now,
            },
            83..=84 => Command::CancelAll {
                account_id: account,
                symbol: rng.pick(&["", "", symbol]).into(),
                timestamp: now,
            },
            85 => Command::EndSession {
                symbol: rng.pick(&["", symbol]).into(),
                timestamp: now,
            },
            86..=87 => Command::SetTradingStatus {
                symbol: symbol.into(),
                status: rng.pick(&[1, 1, 2]),
                timestamp: now,
            },
            88 => Command::SetLimits {
                maker_fee_bps: rng.pick(&[0, 5, 10]),
                taker_fee_bps: rng.pick(&[0, 25, 30]),
                max_order_quantity: 1_000_000,
                max_order_notional: 10_000_000_000,
                timestamp: now,
            },
            89..=93 => cash_in(account, rng.pick(&[50_000, -30_000, -5_000_000])).with_kind(2),
            94..=98 => Command::AdjustBalance {
                account_id: account,
                amount: lot * Money::from(rng.below(11) - 5),
                kind: 2,
                timestamp: now,
                symbol: symbol.into(),
            },
            _ if step > 3_800 => Command::RemoveInstrument {
                symbol: symbol.into(),
                timestamp: now,
            },
            _ => Command::EndSession {
                symbol: String::new(),
                timestamp: now,
            },
        };
        match x.execute(&command) {
            Ok(_) => applied += 1,
            Err(ExchangeError::Reject(_)) => refused += 1,
            Err(error) => panic!("{command:?}: {error}"),
        }
        for report in x.take_reports() {
            let last = &mut sequences[report.account_id as usize];
            assert_eq!(report.sequence, *last + 1, "gapless report sequence");
            *last = report.sequence;
            trades += i64::from(report.exec_type == ExecType::Trade);
        }
        x.take_market_events();
        if step % 100 == 0 {
            assert_eq!(x.audit(), Vec::<String>::new(), "after {command:?}");
        }
    }
    assert_eq!(x.audit(), Vec::<String>::new());
    assert_eq!(x.audit_mut(), Vec::<String>::new());
    // The stream exercised both outcomes and real trading.
    assert!(
        applied > 1_500 && refused > 300 && trades > 500,
        "{applied} {refused} {trades}"
    );
}

trait WithKind {
    fn with_kind(self, kind: i64) -> Command;
}

impl WithKind for Command {
    fn with_kind(self, new_kind: i64) -> Command {
        match self {
            Command::AdjustBalance {
                account_id,
                amount,
                timestamp,
                symbol,
                ..
            } => Command::AdjustBalance {
                account_id,
                amount,
                kind: new_kind,
                timestamp,
                symbol,
            },
            other => other,
        }
    }
}
