//! Plain decimals read exactly, in one pass: the fast path of both CSV readers (the PPML
//! panel in `estimate::data`, the one-sector panel in `gravity::data`). A cell such as `12`,
//! `-3.25` or `0.7215005768435767` is read straight from its bytes to the `f64` that
//! `str::parse::<f64>` gives it; any other text is declined (`None`) and the caller parses it
//! with the standard library as before, so both readers give the same bits and the same errors
//! with or without this path. Imports nothing.

/// Powers of ten up to 10^19, each exact in an `f64` (every one up to 10^22 is).
const POW10: [f64; 20] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19,
];

/// The value `str::parse::<f64>` gives a plain decimal (`12`, `-3.25`, `0.7215005768435767`:
/// an optional `-`, at least one digit before an optional `.`, at most 19 digits in all, nothing
/// else), read in one pass over the bytes; `None` for any other text (the caller then parses
/// it as before). The digits `m` (below 10^19 < 2^64) and the `k` after the point give the
/// value `m / 10^k` exactly; [`nearest_quotient`] rounds it as `str::parse` does.
#[inline]
pub(crate) fn plain_decimal(cell: &[u8]) -> Option<f64> {
    let (negative, body) = match cell.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, cell),
    };
    let (mut m, mut digits, mut point) = (0u64, 0usize, None);
    let mut at = 0;
    // (m wraps only past 19 digits, which are refused below)
    while let Some(&b) = body.get(at) {
        if let Some(w) = body.get(at..at + 8).and_then(eight_digits) {
            m = m.wrapping_mul(100_000_000).wrapping_add(w);
            (digits, at) = (digits + 8, at + 8);
            continue;
        }
        let d = b.wrapping_sub(b'0');
        if d < 10 {
            m = m.wrapping_mul(10).wrapping_add(u64::from(d));
            digits += 1;
        } else if b == b'.' && point.is_none() {
            point = Some(at);
        } else {
            return None;
        }
        at += 1;
    }
    if digits == 0 || digits > 19 || point == Some(0) {
        return None;
    }
    let k = point.map_or(0, |p| body.len() - p - 1);
    let v = nearest_quotient(m, k)?;
    Some(if negative { -v } else { v })
}

/// The value of eight ASCII digits (`None` if any byte is not a digit), all eight at once in a
/// word, as the standard library's float parser does: the digit test adds `0x46` and subtracts
/// `0x30` in every byte (the lowest byte that is not a digit sets its high bit either way, and
/// no carry reaches it from the digits below), then pairs, fours and eights are joined by
/// three multiplications.
#[inline]
fn eight_digits(bytes: &[u8]) -> Option<u64> {
    let w = u64::from_le_bytes(bytes.try_into().ok()?);
    let above = w.wrapping_add(0x4646_4646_4646_4646);
    let below = w.wrapping_sub(0x3030_3030_3030_3030);
    if (above | below) & 0x8080_8080_8080_8080 != 0 {
        return None;
    }
    const MASK: u64 = 0x0000_00ff_0000_00ff;
    const MUL1: u64 = 0x000f_4240_0000_0064; // 100 + (1_000_000 << 32)
    const MUL2: u64 = 0x0000_2710_0000_0001; // 1 + (10_000 << 32)
    let v = below.wrapping_mul(10).wrapping_add(below >> 8); // digit pairs
    Some(((v & MASK).wrapping_mul(MUL1)).wrapping_add(((v >> 16) & MASK).wrapping_mul(MUL2)) >> 32)
}

/// The `f64` nearest to `m / 10^k` (ties to the even significand) for `k <= 19`, the correctly
/// rounded value `str::parse` gives the decimal, or `None` when the check below does not fit in
/// 128 bits (values from 2^54 up).
///
/// With `m <= 2^53` both `m` and `10^k` are exact and one IEEE division rounds their quotient
/// correctly (Clinger 1990). Larger `m` (17 to 19 digits, as shortest round-trip forms often
/// have) start from the same division, which can be one unit in the last place (ulp) off, and
/// correct it with integers: a candidate `q = M·2^E` (`2^52 <= M < 2^53`) is the nearest iff
/// `x = m / 10^k` lies between the midpoints to its neighbours, `(4M − 2)·2^(E−2)` (or
/// `(4M − 1)·2^(E−2)` when `M = 2^52`, whose lower neighbour is half as far) and
/// `(4M + 2)·2^(E−2)`, that is iff `m·2^(2−E)` lies between those multiples times `10^k`; all
/// in `u128`, as `m < 2^64`, `2 − E <= 64` and `(4M + 2)·10^k < 2^119`. A tie takes the even `M`.
#[inline]
fn nearest_quotient(m: u64, k: usize) -> Option<f64> {
    if m <= 1 << 53 {
        // a whole number (most of a panel's cells: years, levels, dummies) needs no division
        return Some(if k == 0 {
            m as f64
        } else {
            m as f64 / POW10[k]
        });
    }
    let p = u128::from(10u64.pow(k as u32));
    let mut q = m as f64 / POW10[k];
    // at most one step each way is ever needed; the bound only keeps the loop finite
    for _ in 0..4 {
        let bits = q.to_bits(); // q >= 2^53 / 10^19 > 0: a normal positive number
        let significand = u128::from((bits & ((1 << 52) - 1)) | (1 << 52));
        let shift = 2 - (((bits >> 52) as i64) - 1075);
        if !(0..=64).contains(&shift) {
            return None;
        }
        let x = u128::from(m) << shift;
        let upper = (4 * significand + 2) * p;
        let below = if significand == 1 << 52 { 1 } else { 2 };
        let lower = (4 * significand - below) * p;
        if x > upper {
            q = f64::from_bits(bits + 1);
        } else if x < lower {
            q = f64::from_bits(bits - 1);
        } else if (x == upper || x == lower) && significand & 1 == 1 {
            return Some(f64::from_bits(if x == upper { bits + 1 } else { bits - 1 }));
        } else {
            return Some(q);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The one-pass plain-decimal path gives `str::parse`'s bits or declines, and takes most
    /// plain texts: random digit
    /// strings of 1 to 20 digits with the point anywhere, shortest round-trip forms, exact
    /// midpoints between neighbouring `f64`s (ties) and the decimals just beside them, and
    /// both sides of powers of two (where the lower neighbour is half as far).
    #[test]
    fn plain_decimals_read_as_str_parse() {
        let check = |t: &str| {
            let want: f64 = t.parse().unwrap();
            if let Some(v) = plain_decimal(t.as_bytes()) {
                assert_eq!(v.to_bits(), want.to_bits(), "{t}");
            }
        };
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut taken = 0;
        for _ in 0..300_000 {
            let r = next();
            let len = 1 + (r % 20) as usize;
            let mut t: String = (0..len)
                .map(|k| char::from(b'0' + ((r >> (k % 16 * 4)) ^ next()) as u8 % 10))
                .collect();
            let point = (next() % (len as u64 + 1)) as usize;
            if point > 0 && point < len {
                t.insert(point, '.');
            }
            if next() % 4 == 0 {
                t.insert(0, '-');
            }
            check(&t);
            let v = f64::from_bits(next() >> 2) % 1e7;
            check(&format!("{v}"));
            taken += usize::from(plain_decimal(t.as_bytes()).is_some());
        }
        assert!(taken > 200_000, "the fast path took only {taken}");
        // the word-wide digit test and value: every byte value in every position
        for pos in 0..8 {
            for b in 0..=255u8 {
                let mut w = *b"31415926";
                w[pos] = b;
                let naive = w.iter().try_fold(0u64, |a, &c| {
                    c.is_ascii_digit().then(|| a * 10 + u64::from(c - b'0'))
                });
                assert_eq!(eight_digits(&w), naive, "{w:?}");
            }
        }
        // midpoints (2M+1)·2^(E−1) written exactly: (2M+1)·5^t / 10^t, and the decimals one
        // unit of the last digit either side of them
        for t in 0..=3u32 {
            for j in 0..2_000u64 {
                for base in [1u64 << 53, (1 << 54) - 4_000, 1 << 54] {
                    let n = u128::from(base + 2 * j + 1) * 5u128.pow(t);
                    for d in [n - 1, n, n + 1] {
                        let digits = d.to_string();
                        if digits.len() > 20 {
                            continue;
                        }
                        let at = digits.len() - t as usize;
                        let text = if t == 0 {
                            digits.clone()
                        } else {
                            format!("{}.{}", &digits[..at], &digits[at..])
                        };
                        check(&text);
                    }
                }
            }
        }
        for t in [
            "9007199254740993",
            "9007199254740995",
            "18014398509481985",
            "18014398509481983",
            "4503599627370496.5",
            "4503599627370497.5",
            "0.0009007199254740993",
            "9999999999999999999",
            "999999999999999999.9",
            "1000000000000000000",
            "0.1000000000000000055511151231257827",
            "0.30000000000000004",
            "2.2258379440043257",
            "123456789012345678.9",
            "5.",
            "-0",
            "0000000000000000001",
        ] {
            check(t);
        }
    }
}
