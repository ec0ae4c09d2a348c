//! The match loop and the FOK pre-check: a taker against the opposite side's levels.

use crate::event::Emitter;
use crate::side::BookSide;
use crate::store::{OrderStore, NIL};
use crate::types::{CancelReason, Order, OrderType, Side, StpMode};

/// Whether `taker` reaches a level at `price` on the opposite side.
#[inline]
fn crosses(taker: &Order, price: i64) -> bool {
    match (taker.order_type, taker.side) {
        (OrderType::Market, _) => true,
        (OrderType::Limit, Side::Buy) => price <= taker.price,
        (OrderType::Limit, Side::Sell) => price >= taker.price,
    }
}

/// The post-only test: whether `order` reaches the best opposite level (whoever owns it).
#[inline]
pub(crate) fn would_cross(order: &Order, opposite: &BookSide) -> bool {
    opposite
        .best()
        .is_some_and(|(best, _)| crosses(order, best))
}

/// How the match loop ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum MatchEnd {
    /// The taker is filled or no opposite level is within its limit.
    Exhausted,
    /// Self-trade prevention (CANCEL_NEWEST or CANCEL_BOTH) stopped it; the rest is cancelled.
    StoppedBySelfTrade,
}

/// Matches `taker` against `opposite` in price-time priority, trading at makers' prices and
/// applying the taker's self-trade prevention. Updates `taker.remaining` and removes makers
/// that are used up (and levels that empty).
pub(crate) fn match_order(
    taker: &mut Order,
    opposite: &mut BookSide,
    store: &mut OrderStore,
    emit: &mut Emitter<'_>,
) -> MatchEnd {
    while taker.remaining > 0 {
        let Some((price, mut entry)) = opposite.best_entry() else {
            break;
        };
        if !crosses(taker, price) {
            break;
        }
        let level = entry.get_mut();
        let mut end = MatchEnd::Exhausted;
        let mut cursor = level.head;
        while cursor != NIL && taker.remaining > 0 {
            let slot = cursor;
            cursor = store.next(slot);
            let maker = store.get_mut(slot);
            if maker.owner != taker.owner {
                let quantity = taker.remaining.min(maker.remaining);
                taker.remaining -= quantity;
                maker.remaining -= quantity;
                level.total -= quantity;
                emit.trade(taker, maker, quantity);
                if maker.remaining == 0 {
                    store.unlink(level, slot);
                    store.remove(slot);
                }
                continue;
            }
            match taker.stp {
                StpMode::CancelNewest => {
                    end = MatchEnd::StoppedBySelfTrade;
                    break;
                }
                StpMode::CancelOldest | StpMode::CancelBoth => {
                    store.unlink(level, slot);
                    let mut maker = store.remove(slot);
                    let open = maker.remaining;
                    maker.remaining = 0;
                    emit.cancelled(&maker, open, CancelReason::Stp);
                    if taker.stp == StpMode::CancelBoth {
                        end = MatchEnd::StoppedBySelfTrade;
                        break;
                    }
                }
                StpMode::DecrementAndCancel => {
                    let decrement = taker.remaining.min(maker.remaining);
                    maker.remaining -= decrement;
                    level.total -= decrement;
                    emit.cancelled(maker, decrement, CancelReason::Stp);
                    if maker.remaining == 0 {
                        store.unlink(level, slot);
                        store.remove(slot);
                    }
                    taker.remaining -= decrement;
                    emit.cancelled(taker, decrement, CancelReason::Stp);
                }
            }
        }
        if level.is_empty() {
            entry.remove();
        }
        if end == MatchEnd::StoppedBySelfTrade {
            return end;
        }
    }
    MatchEnd::Exhausted
}

/// Whether a FOK `taker` could be filled completely right now, walking the book exactly as
/// [`match_order`] would: same-owner makers are skipped under CANCEL_OLDEST (they would be
/// cancelled) and end the walk under every other mode (matching would stop or not trade).
pub(crate) fn fillable(taker: &Order, opposite: &BookSide, store: &OrderStore) -> bool {
    let mut available = 0;
    for (price, level) in opposite.levels() {
        if !crosses(taker, price) {
            return false;
        }
        for (_, maker) in store.queue(level) {
            if maker.owner == taker.owner {
                if taker.stp == StpMode::CancelOldest {
                    continue;
                }
                return false;
            }
            // Cannot overflow: we return as soon as the sum reaches the taker's quantity.
            available += maker.remaining;
            if available >= taker.remaining {
                return true;
            }
        }
    }
    false
}
