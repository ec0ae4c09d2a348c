//! Integer money rules (money.py): fees, escrow, the price band and exact decimal text.
//!
//! Python ints are unbounded; `Money` is `i128`, which holds every product of two `i64`
//! values and every sum the exchange accumulates from them. Divisions use Python's floor
//! semantics (`//`) so results agree for any sign.

/// Cash, prices, quantities and their products.
pub type Money = i128;

/// Basis points in one: fees and bands are given in bps.
pub const BPS: Money = 10_000;

/// Python's `a // b`: the quotient rounded toward negative infinity. `b` must not be 0.
#[inline]
pub fn floor_div(a: Money, b: Money) -> Money {
    let quotient = a / b;
    if a % b != 0 && ((a < 0) != (b < 0)) {
        quotient - 1
    } else {
        quotient
    }
}

/// `notional * bps // BPS`, rounded down to a whole cash unit: the fee rule, computed per
/// fill. Rounding down per fill never charges more than the same rate on the whole order,
/// so the escrow taken for an order's largest fee always covers its fills.
#[inline]
pub fn fee(notional: Money, bps: Money) -> Money {
    match notional.checked_mul(bps) {
        Some(product) => floor_div(product, BPS),
        // Exact without the product when 0 <= bps <= BPS (every rate the exchange accepts).
        None => {
            let whole = floor_div(notional, BPS);
            let rest = notional - whole * BPS;
            whole.saturating_mul(bps) + floor_div(rest * bps, BPS)
        }
    }
}

/// Cash a buy order must hold: its notional at its limit price plus its largest fee.
/// Saturates instead of wrapping for amounts no `i64` order can reach.
#[inline]
pub fn buy_reservation(price: Money, quantity: Money, max_fee_bps: Money) -> Money {
    let notional = price.saturating_mul(quantity);
    notional.saturating_add(fee(notional, max_fee_bps))
}

/// The lowest and highest price an order may carry around `reference_price`, on the tick
/// grid: the low edge rounded up, the high edge down, and never below one tick.
pub fn price_band(reference_price: Money, band_bps: Money, tick_size: Money) -> (Money, Money) {
    let half_width = fee(reference_price, band_bps);
    let low = -floor_div(-(reference_price - half_width), tick_size) * tick_size;
    let high = floor_div(reference_price.saturating_add(half_width), tick_size) * tick_size;
    (low.max(tick_size), high)
}

/// `numerator / denominator` as decimal text truncated to six places, trailing zeros
/// stripped, without floats; empty when `denominator` is 0 (money.py `decimal_text`).
pub fn decimal_text(numerator: Money, denominator: Money) -> String {
    const PLACES: usize = 6;
    if denominator == 0 {
        return String::new();
    }
    let sign = if (numerator < 0) != (denominator < 0) && numerator != 0 {
        "-"
    } else {
        ""
    };
    let (numerator, denominator) = (numerator.unsigned_abs(), denominator.unsigned_abs());
    let (whole, mut rest) = (numerator / denominator, numerator % denominator);
    if rest == 0 {
        return format!("{sign}{whole}");
    }
    let mut fraction = String::with_capacity(PLACES);
    for _ in 0..PLACES {
        // Long division, one digit at a time: no `rest * 10**6` to overflow.
        rest *= 10;
        fraction.push(char::from(b'0' + (rest / denominator) as u8));
        rest %= denominator;
    }
    let fraction = fraction.trim_end_matches('0');
    if fraction.is_empty() {
        format!("{sign}{whole}")
    } else {
        format!("{sign}{whole}.{fraction}")
    }
}

/// The exact decimal text of `a * b`, even when the product does not fit in `i128`
/// (messages quote Python's unbounded product).
pub fn product_text(a: Money, b: Money) -> String {
    if let Some(product) = a.checked_mul(b) {
        return product.to_string();
    }
    let negative = (a < 0) != (b < 0);
    let limbs = wide_mul(a.unsigned_abs(), b.unsigned_abs());
    let digits = wide_to_decimal(limbs);
    if negative {
        format!("-{digits}")
    } else {
        digits
    }
}

/// The 256-bit product of two `u128`, as four little-endian 64-bit limbs.
fn wide_mul(a: u128, b: u128) -> [u64; 4] {
    let (a, b) = ([a as u64, (a >> 64) as u64], [b as u64, (b >> 64) as u64]);
    let mut out = [0u64; 4];
    for (i, &x) in a.iter().enumerate() {
        let mut carry = 0u128;
        for (j, &y) in b.iter().enumerate() {
            let cell = u128::from(out[i + j]) + u128::from(x) * u128::from(y) + carry;
            out[i + j] = cell as u64;
            carry = cell >> 64;
        }
        out[i + 2] = carry as u64;
    }
    out
}

fn wide_to_decimal(mut limbs: [u64; 4]) -> String {
    const CHUNK: u64 = 10_000_000_000_000_000_000; // 10^19, the largest power of ten in a u64
    let mut chunks = Vec::new();
    while limbs.iter().any(|&limb| limb != 0) {
        let mut remainder = 0u128;
        for limb in limbs.iter_mut().rev() {
            let value = (remainder << 64) | u128::from(*limb);
            *limb = (value / u128::from(CHUNK)) as u64;
            remainder = value % u128::from(CHUNK);
        }
        chunks.push(remainder as u64);
    }
    let mut text = chunks
        .pop()
        .map_or_else(|| "0".to_owned(), |c| c.to_string());
    for chunk in chunks.iter().rev() {
        text.push_str(&format!("{chunk:019}"));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floor_division_rounds_down() {
        assert_eq!(floor_div(7, 2), 3);
        assert_eq!(floor_div(-7, 2), -4);
        assert_eq!(floor_div(7, -2), -4);
        assert_eq!(floor_div(-7, -2), 3);
        assert_eq!(floor_div(-6, 2), -3);
    }

    #[test]
    fn fees_round_down_and_never_overflow() {
        assert_eq!(fee(10_000, 25), 25);
        assert_eq!(fee(9_999, 25), 24);
        assert_eq!(fee(0, 10_000), 0);
        let big = i128::MAX - 7;
        assert_eq!(fee(big, BPS), big);
        assert_eq!(fee(big, 5_000), big / 2);
        assert_eq!(buy_reservation(100, 10, 30), 1_000 + 3);
    }

    #[test]
    fn decimal_text_matches_python() {
        assert_eq!(decimal_text(10, 0), "");
        assert_eq!(decimal_text(10, 5), "2");
        assert_eq!(decimal_text(1, 3), "0.333333");
        assert_eq!(decimal_text(3, 2), "1.5");
        assert_eq!(decimal_text(-3, 2), "-1.5");
        assert_eq!(decimal_text(3, -2), "-1.5");
        assert_eq!(decimal_text(-3, -2), "1.5");
        assert_eq!(decimal_text(0, -2), "0");
        assert_eq!(decimal_text(-4, 2), "-2");
        assert_eq!(decimal_text(1, 10_000_000), "0");
        assert_eq!(decimal_text(-1, 10_000_000), "-0");
        assert_eq!(decimal_text(1_000_001, 1_000_000), "1.000001");
        assert_eq!(decimal_text(20_201, 200), "101.005");
    }

    #[test]
    fn price_band_on_the_tick_grid() {
        // 10% of 1000 = 100: 900..1100, on a grid of 30: 900..1080.
        assert_eq!(price_band(1_000, 1_000, 30), (900, 1_080));
        // The low edge rounds up: 905 -> 910 on a grid of 10.
        assert_eq!(price_band(1_000, 950, 10), (910, 1_090));
        // Never below one tick.
        assert_eq!(price_band(10, 10_000, 5), (5, 20));
    }

    #[test]
    fn products_beyond_i128_are_exact() {
        assert_eq!(product_text(6, -7), "-42");
        let two_64 = 1i128 << 64;
        // 2^128 = 340282366920938463463374607431768211456
        assert_eq!(
            product_text(two_64, two_64),
            "340282366920938463463374607431768211456"
        );
        assert_eq!(
            product_text(-two_64, two_64 + 1),
            "-340282366920938463481821351505477763072"
        );
        assert_eq!(
            product_text(i128::MAX, i128::MAX),
            "28948022309329048855892746252171976962977213799489202546401021394546514198529"
        );
    }
}
