//! The exchange's state (model.py): instruments, accounts with positions, orders, fills,
//! execution reports and market events. Plain data with public fields, so a binding can
//! present it exactly as the Python classes are.

use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher};
use std::sync::Arc;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::codes::{ExecType, Liquidity, OrderStatus, RejectCode, TradingStatus};
use super::money::{decimal_text, price_band, Money};
use crate::Event;

/// Fees and order-size limits, from configuration (and `SetLimits`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    pub maker_fee_bps: Money,
    pub taker_fee_bps: Money,
    pub max_order_quantity: Money,
    pub max_order_notional: Money,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            maker_fee_bps: 0,
            taker_fee_bps: 0,
            max_order_quantity: 1_000_000,
            max_order_notional: 10_000_000_000_000,
        }
    }
}

/// The fees an order pays, fixed when it is accepted, and the largest of them (what a buy
/// order holds in escrow for fees).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct FeeRates {
    pub maker_bps: Money,
    pub taker_bps: Money,
    pub max_bps: Money,
}

impl FeeRates {
    /// What orders accepted under `limits` pay.
    pub fn of(limits: &Limits) -> Self {
        FeeRates {
            maker_bps: limits.maker_fee_bps,
            taker_bps: limits.taker_fee_bps,
            max_bps: limits.maker_fee_bps.max(limits.taker_fee_bps),
        }
    }
}

/// A fast hasher for symbols (the Fx hash: a rotate, xor and multiply per word). Symbol
/// keys are listed by the operator, never chosen by clients, so the collision resistance
/// of the default SipHash buys nothing on this path and costs a lookup's worth of time.
#[derive(Clone, Copy, Default)]
pub(crate) struct SymbolHasher(u64);

impl Hasher for SymbolHasher {
    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }

    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let word = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
            self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(SEED);
        }
        for &byte in chunks.remainder() {
            self.0 = (self.0.rotate_left(5) ^ u64::from(byte)).wrapping_mul(SEED);
        }
    }
}

/// A `HashMap` keyed by symbol.
pub(crate) type SymbolIndex<V> = HashMap<String, V, BuildHasherDefault<SymbolHasher>>;

/// Builds the hashers of an account's client_order_id index: [`ClientIdHasher`]s keyed
/// at random when the account is made.
#[derive(Clone, Copy, Debug)]
pub struct ClientIdState {
    seed: u64,
    key: u64,
}

impl Default for ClientIdState {
    fn default() -> Self {
        let random = RandomState::new();
        ClientIdState {
            seed: random.hash_one(1u64),
            key: random.hash_one(2u64) | 1,
        }
    }
}

impl BuildHasher for ClientIdState {
    type Hasher = ClientIdHasher;

    #[inline]
    fn build_hasher(&self) -> ClientIdHasher {
        ClientIdHasher {
            state: self.seed,
            key: self.key,
        }
    }
}

/// A fast keyed hash for client order ids: per 8 bytes, a folded multiply (the 128-bit
/// product's halves xored, as aHash's fallback and foldhash do) by a random key.
/// Client ids are chosen by clients, so an unkeyed fast hash (Fx) would let one pick ids
/// that collide and slow every lookup in its account; SipHash resists that too, but
/// costs several times as much on every submit. A random key per account leaves no
/// collisions to precompute.
#[derive(Clone, Copy)]
pub struct ClientIdHasher {
    state: u64,
    key: u64,
}

impl ClientIdHasher {
    #[inline]
    fn mix(&mut self, word: u64) {
        let product = u128::from(self.state ^ word) * u128::from(self.key);
        self.state = (product as u64) ^ ((product >> 64) as u64);
    }
}

impl Hasher for ClientIdHasher {
    #[inline]
    fn finish(&self) -> u64 {
        self.state
    }

    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            self.mix(u64::from_le_bytes(chunk.try_into().expect("8 bytes")));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            // The length in the (otherwise zero) top byte: "a" and "a\0" differ.
            self.mix(u64::from_le_bytes(word) ^ ((rest.len() as u64) << 56));
        }
    }
}

/// A map from symbol to value that iterates in first-insertion order, as a Python dict
/// does (positions and share deposits are listed in the order they first appeared).
/// Entries are never removed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SymbolMap<V> {
    entries: Vec<(String, V)>,
    index: SymbolIndex<usize>,
}

impl<V> Default for SymbolMap<V> {
    fn default() -> Self {
        SymbolMap {
            entries: Vec::new(),
            index: SymbolIndex::default(),
        }
    }
}

impl<V> SymbolMap<V> {
    /// A map holding `entries` in their order (for a restore); `Err(symbol)` names the
    /// first symbol that comes twice.
    pub fn from_entries(entries: impl IntoIterator<Item = (String, V)>) -> Result<Self, String> {
        let mut map = SymbolMap::default();
        for (symbol, value) in entries {
            if map.index.contains_key(&symbol) {
                return Err(symbol);
            }
            map.index.insert(symbol.clone(), map.entries.len());
            map.entries.push((symbol, value));
        }
        Ok(map)
    }

    pub fn get(&self, symbol: &str) -> Option<&V> {
        self.index.get(symbol).map(|&i| &self.entries[i].1)
    }

    pub fn contains(&self, symbol: &str) -> bool {
        self.index.contains_key(symbol)
    }

    /// `(symbol, value)` in first-insertion order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &V)> + '_ {
        self.entries
            .iter()
            .map(|(symbol, value)| (symbol.as_str(), value))
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The value for `symbol`, inserted as `V::default()` at the end if absent (Python's
    /// `dict.setdefault`).
    pub(crate) fn entry(&mut self, symbol: &str) -> &mut V
    where
        V: Default,
    {
        let i = self.entry_index(symbol);
        &mut self.entries[i].1
    }

    /// Like `entry`, but the entry's position, for `at_mut`.
    pub(crate) fn entry_index(&mut self, symbol: &str) -> usize
    where
        V: Default,
    {
        match self.index.get(symbol) {
            Some(&i) => i,
            None => {
                self.index.insert(symbol.to_owned(), self.entries.len());
                self.entries.push((symbol.to_owned(), V::default()));
                self.entries.len() - 1
            }
        }
    }

    /// The value at a position `entry_index` gave.
    #[inline]
    pub(crate) fn at_mut(&mut self, i: usize) -> &mut V {
        &mut self.entries[i].1
    }
}

/// Saved as its entries in order; loaded through `from_entries`, so a symbol that comes
/// twice is refused.
impl<V: Serialize> Serialize for SymbolMap<V> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.entries.serialize(serializer)
    }
}

impl<'de, V: Deserialize<'de>> Deserialize<'de> for SymbolMap<V> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let entries = Vec::<(String, V)>::deserialize(deserializer)?;
        SymbolMap::from_entries(entries)
            .map_err(|symbol| D::Error::custom(format!("{symbol} is in one map twice")))
    }
}

/// A listed (or delisted) instrument.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Instrument {
    /// Shared by every order, report, fill and market event that names it.
    pub symbol: Arc<str>,
    pub tick_size: Money,
    pub lot_size: Money,
    /// The last trade price; the listing price until the first trade.
    pub reference_price: Money,
    pub band_bps: Money,
    pub status: TradingStatus,
}

impl Instrument {
    /// The lowest and highest price an order may carry now, on the tick grid.
    pub fn band(&self) -> (Money, Money) {
        price_band(self.reference_price, self.band_bps, self.tick_size)
    }
}

/// Shares of one symbol held by one account.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Position {
    /// Shares held, reserved ones included.
    pub quantity: Money,
    /// Held for open sell orders.
    pub reserved: Money,
    /// Cash paid (fees included) for the shares still held.
    pub cost_basis: Money,
    pub realised_pnl: Money,
}

impl Position {
    /// Shares free to sell or withdraw.
    #[inline]
    pub fn available(&self) -> Money {
        self.quantity - self.reserved
    }
}

/// One side of one trade, as the account that traded sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fill {
    pub trade_id: i64,
    pub order_id: i64,
    pub client_order_id: Arc<str>,
    pub symbol: Arc<str>,
    pub side: i64,
    pub price: Money,
    pub quantity: Money,
    pub fee: Money,
    pub liquidity: Liquidity,
    pub timestamp_ns: i64,
}

/// A trading account: its money, positions, orders and fills.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub account_id: i64,
    pub name: String,
    pub key_hash: String,
    pub system: bool,
    /// Free cash.
    pub cash: Money,
    /// Held by open buy orders.
    pub reserved_cash: Money,
    pub fees_paid: Money,
    /// Net cash paid in from outside: deposits and adjustments.
    pub deposits: Money,
    pub share_deposits: SymbolMap<Money>,
    /// Net value paid in: cash as paid, shares at the instrument's reference price when
    /// they were paid in or taken out. The leaderboard's baseline for returns.
    pub deposited_value: Money,
    /// Activity figures: shares bought and sold over all fills, and their price * quantity.
    pub traded_quantity: Money,
    pub traded_notional: Money,
    pub positions: SymbolMap<Position>,
    pub report_sequence: i64,
    /// Every order of the account, in acceptance order.
    pub order_ids: Vec<i64>,
    /// client_order_id -> order id (the key is the order's own string, shared).
    pub client_order_ids: HashMap<Arc<str>, i64, ClientIdState>,
    pub fills: Vec<Fill>,
}

impl Account {
    pub(crate) fn new(account_id: i64, name: String, key_hash: String, system: bool) -> Self {
        Account {
            account_id,
            name,
            key_hash,
            system,
            cash: 0,
            reserved_cash: 0,
            fees_paid: 0,
            deposits: 0,
            share_deposits: SymbolMap::default(),
            deposited_value: 0,
            traded_quantity: 0,
            traded_notional: 0,
            positions: SymbolMap::default(),
            report_sequence: 0,
            order_ids: Vec::new(),
            client_order_ids: HashMap::default(),
            fills: Vec::new(),
        }
    }

    /// Python's `account.position(symbol)`: the position, created empty on first look (the
    /// set of positions is state, so callers look exactly where the Python exchange does).
    #[inline]
    pub(crate) fn position(&mut self, symbol: &str) -> &mut Position {
        self.positions.entry(symbol)
    }

    /// `(symbol, position)` in the order the positions were created.
    pub fn positions(&self) -> impl Iterator<Item = (&str, &Position)> + '_ {
        self.positions.iter()
    }

    /// `(symbol, net shares paid in)` in first-deposit order.
    pub fn share_deposits(&self) -> impl Iterator<Item = (&str, Money)> + '_ {
        self.share_deposits
            .iter()
            .map(|(symbol, &amount)| (symbol, amount))
    }
}

/// A submit request's parameters as received, compared to recognise an idempotent
/// resubmission (exchange.py's `request` tuple).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderRequest {
    pub symbol: Arc<str>,
    pub side: i64,
    pub order_type: i64,
    pub tif: i64,
    pub price: Money,
    pub quantity: Money,
    pub post_only: bool,
    pub stp: i64,
}

/// An order and everything that happened to it (model.py `OrderState`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    pub order_id: i64,
    pub account_id: i64,
    /// Shared with its reports, fills and the account's client_order_id index.
    pub client_order_id: Arc<str>,
    pub symbol: Arc<str>,
    pub side: i64,
    pub order_type: i64,
    pub tif: i64,
    /// As entered: 0 for a market order.
    pub price: Money,
    /// The limit the book sees (a market order's is its band edge).
    pub book_price: Money,
    pub quantity: Money,
    pub post_only: bool,
    pub stp: i64,
    pub created_ns: i64,
    pub request: OrderRequest,
    pub fee_rates: FeeRates,
    /// Open quantity.
    pub leaves: Money,
    pub filled_quantity: Money,
    pub filled_notional: Money,
    pub fees: Money,
    pub status: OrderStatus,
    pub updated_ns: i64,
    pub reject_reason: Option<RejectCode>,
    pub reserved_cash: Money,
    pub book_id: i64,
    /// The order's first report, kept compactly: see [`Order::acknowledgement`].
    pub acknowledged: Option<Acknowledgement>,
}

/// What an order's first report (NEW, or REJECTED for a post-only order that would
/// cross) said beyond what the order itself keeps. The report is rebuilt on demand
/// rather than stored: it is the first event of the submit, so every other field is
/// the request as received, the order's identity and its creation time. Keeping a
/// whole report in every order more than doubled its size.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Acknowledgement {
    /// The report's sequence number in the account.
    pub sequence: i64,
    /// `ExecType::New` or `ExecType::Rejected`.
    pub exec_type: ExecType,
}

/// The message of a new post-only order's refusal.
pub(crate) const POST_ONLY_REFUSED: &str = "post-only order would have taken liquidity";

impl Order {
    #[inline]
    pub fn is_open(&self) -> bool {
        self.status.is_open()
    }

    /// The order's first report (model.py's `acknowledgement`), as it was sent.
    pub fn acknowledgement(&self) -> Option<Report> {
        let Acknowledgement {
            sequence,
            exec_type,
        } = self.acknowledged?;
        let rejected = exec_type == ExecType::Rejected;
        Some(Report {
            account_id: self.account_id,
            sequence,
            order_id: self.order_id,
            client_order_id: self.client_order_id.clone(),
            symbol: self.symbol.clone(),
            exec_type,
            order_status: if rejected {
                OrderStatus::Rejected
            } else {
                OrderStatus::New
            },
            side: self.side,
            price: self.request.price,
            quantity: self.request.quantity,
            last_quantity: 0,
            last_price: 0,
            cumulative_quantity: 0,
            leaves_quantity: if rejected { 0 } else { self.request.quantity },
            average_price: String::new(),
            fee: 0,
            liquidity: None,
            trade_id: 0,
            reject_reason: rejected.then_some(RejectCode::PostOnlyWouldCross),
            reject_message: if rejected { POST_ONLY_REFUSED } else { "" },
            timestamp_ns: self.created_ns,
        })
    }

    /// Exact decimal text of the average fill price; empty until the first fill.
    pub fn average_price(&self) -> String {
        if self.filled_quantity != 0 {
            decimal_text(self.filled_notional, self.filled_quantity)
        } else {
            String::new()
        }
    }
}

/// What happened to an order (model.py `ExecutionReport`), fields in the same order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    pub account_id: i64,
    /// Per account, gapless from 1.
    pub sequence: i64,
    pub order_id: i64,
    pub client_order_id: Arc<str>,
    pub symbol: Arc<str>,
    pub exec_type: ExecType,
    pub order_status: OrderStatus,
    pub side: i64,
    pub price: Money,
    pub quantity: Money,
    pub last_quantity: Money,
    pub last_price: Money,
    pub cumulative_quantity: Money,
    pub leaves_quantity: Money,
    pub average_price: String,
    pub fee: Money,
    pub liquidity: Option<Liquidity>,
    pub trade_id: i64,
    pub reject_reason: Option<RejectCode>,
    /// Every message a report carries is fixed text.
    pub reject_message: &'static str,
    pub timestamp_ns: i64,
}

/// One trade as the market sees it: no owners.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TradePrint {
    pub symbol: Arc<str>,
    pub trade_id: i64,
    pub price: i64,
    pub quantity: i64,
    pub aggressor_side: i64,
    pub timestamp_ns: i64,
    /// The book sequence of the trade.
    pub sequence: i64,
}

/// What market data publishes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MarketEvent {
    /// What one command did to one book: its events in order, and the trades among them.
    BookChange {
        symbol: Arc<str>,
        events: Vec<Event>,
        trades: Vec<TradePrint>,
        timestamp_ns: i64,
    },
    StatusChange {
        symbol: Arc<str>,
        status: TradingStatus,
        timestamp_ns: i64,
    },
}
