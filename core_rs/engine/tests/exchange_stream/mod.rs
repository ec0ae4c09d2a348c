//! Seeded exchange commands (`tradepit_engine::exchange`) for the tests that need a long,
//! varied history: the generator, and a stream of listings, funded accounts and shares,
//! then trading with now and then every other kind of command, many of them refused (the
//! restore tests' history; exchange.rs's conservation stream, which must trade more than
//! it is refused, draws its own commands).
#![allow(dead_code)] // each test file uses a different subset

use tradepit_engine::exchange::{Command, Exchange, Money, OrderRef};

pub const SYMBOLS: [(&str, Money, Money, Money); 3] = [
    ("AAA", 1, 1, 100),
    ("BBB", 5, 10, 1_000),
    ("C.D-1", 2, 5, 50),
];

/// xorshift64*: a tiny seeded generator.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub fn below(&mut self, n: u64) -> i64 {
        (self.next() % n) as i64
    }

    pub fn pick<T: Clone>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize].clone()
    }
}

/// Listings, funded accounts and shares.
pub fn setup() -> Vec<Command> {
    let mut commands = Vec::new();
    for (symbol, tick_size, lot_size, reference_price) in SYMBOLS {
        commands.push(Command::CreateInstrument {
            symbol: symbol.into(),
            tick_size,
            lot_size,
            reference_price,
            band_bps: 1_000,
            timestamp: 1,
        });
    }
    for account in 1..=5 {
        commands.push(Command::CreateAccount {
            name: format!("agent {account}"),
            key_hash: format!("key-{account}"),
            timestamp: 1,
            system: false,
        });
        commands.push(Command::AdjustBalance {
            account_id: account,
            amount: 5_000_000,
            kind: 1,
            timestamp: 1,
            symbol: String::new(),
        });
        for (symbol, _, lot_size, _) in SYMBOLS {
            commands.push(Command::AdjustBalance {
                account_id: account,
                amount: 500 * lot_size,
                kind: 1,
                timestamp: 1,
                symbol: symbol.into(),
            });
        }
    }
    commands
}

/// One seeded command; `x` is the exchange it will be applied to (for recent ids).
pub fn command(rng: &mut Rng, x: &Exchange, now: i64) -> Command {
    let account = 1 + rng.below(6); // now and then an unknown account
    let (symbol, tick, lot, _) = SYMBOLS[rng.below(3) as usize];
    let reference = x.listing(symbol).map_or(100, |i| i.reference_price);
    let price = (reference + Money::from(rng.below(17) - 8) * tick).max(tick);
    let quantity = lot * Money::from(1 + rng.below(20));
    let order = OrderRef {
        order_id: (x.next_ids().1 - 1 - rng.below(20)).max(1),
        client_order_id: if rng.below(5) == 0 {
            format!("c{}", rng.below(100))
        } else {
            String::new()
        },
    };
    match rng.below(100) {
        0..=54 => Command::SubmitOrder {
            account_id: account,
            client_order_id: if rng.below(3) == 0 {
                format!("c{}", rng.below(100))
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
            symbol: rng.pick(&["", symbol]).into(),
            status: rng.pick(&[1, 1, 2]),
            timestamp: now,
        },
        88 => Command::SetLimits {
            maker_fee_bps: rng.pick(&[0, 5, 25]),
            taker_fee_bps: rng.pick(&[0, 10, 30]),
            max_order_quantity: 1_000_000,
            max_order_notional: 10_000_000_000_000,
            timestamp: now,
        },
        89..=93 => Command::AdjustBalance {
            account_id: account,
            amount: rng.pick(&[10, 50, -20]) * lot,
            kind: rng.pick(&[1, 2]),
            timestamp: now,
            symbol: rng.pick(&["", symbol]).into(),
        },
        94 => Command::CreateAccount {
            name: "late".into(),
            key_hash: format!("key-{now}"),
            timestamp: now,
            system: rng.below(2) == 0,
        },
        95..=97 => Command::CreateInstrument {
            symbol: format!("L{}", rng.below(6)),
            tick_size: 1,
            lot_size: 1,
            reference_price: 100,
            band_bps: 500,
            timestamp: now,
        },
        _ => Command::RemoveInstrument {
            symbol: format!("L{}", rng.below(6)),
            timestamp: now,
        },
    }
}
