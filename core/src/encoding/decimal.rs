//! Integers in decimal for the `small` build: no 64-bit division, so a 32-bit core links
//! neither `__aeabi_uldivmod` nor itoa's tables (about 1.3 KB on thumbv7m). Digits come out of
//! 32-bit divisions only: while the value has more than 32 bits, each digit is taken from its two
//! halves.
//!
//! Other builds use itoa, which is faster where 64-bit division is native, and
//! [`int_line_end`], which writes a whole line end for the label-block lines.

#[cfg(any(feature = "small", test))]
/// Room for any `i64` or `u64`: a sign and 20 digits.
pub(crate) const DEC_BUF: usize = 21;

#[cfg(any(feature = "small", test))]
/// `n` in decimal, at the end of `buf`; returns where it starts.
fn unsigned_at(mut n: u64, buf: &mut [u8; DEC_BUF]) -> usize {
    let mut at = DEC_BUF;
    while n > u64::from(u32::MAX) {
        // n = hi * 2^32 + lo, and 2^32 = 10 * 429_496_729 + 6: with r = hi % 10, the low half of
        // n / 10 is r * 429_496_729 + lo / 10 + t / 10 and the digit is t % 10, t = lo % 10 + 6r.
        let (hi, lo) = ((n >> 32) as u32, n as u32);
        let r = hi % 10;
        let t = lo % 10 + 6 * r;
        at -= 1;
        buf[at] = b'0' + (t % 10) as u8;
        n = u64::from(hi / 10) << 32 | u64::from(r * 429_496_729 + lo / 10 + t / 10);
    }
    let mut m = n as u32;
    loop {
        at -= 1;
        buf[at] = b'0' + (m % 10) as u8;
        m /= 10;
        if m == 0 {
            return at;
        }
    }
}

#[cfg(any(feature = "small", test))]
/// `n` in decimal.
pub(crate) fn unsigned(n: u64, buf: &mut [u8; DEC_BUF]) -> &[u8] {
    let at = unsigned_at(n, buf);
    &buf[at..]
}

#[cfg(any(feature = "small", test))]
/// `n` in decimal, with a `-` when negative.
pub(crate) fn signed(n: i64, buf: &mut [u8; DEC_BUF]) -> &[u8] {
    let mut at = unsigned_at(n.unsigned_abs(), buf);
    if n < 0 {
        at -= 1;
        buf[at] = b'-';
    }
    &buf[at..]
}

/// `"00"`, `"01"`, ..., `"99"`: two digits per division.
#[cfg_attr(feature = "small", allow(dead_code))]
const PAIRS: [u8; 200] = {
    let mut t = [0u8; 200];
    let mut i = 0;
    while i < 100 {
        t[2 * i] = b'0' + (i / 10) as u8;
        t[2 * i + 1] = b'0' + (i % 10) as u8;
        i += 1;
    }
    t
};

/// [`PAIRS`] as little-endian words: `PAIRS16[i]`'s bytes are `i`'s two digits.
#[cfg_attr(feature = "small", allow(dead_code))]
const PAIRS16: [u16; 100] = {
    let mut t = [0u16; 100];
    let mut i = 0;
    while i < 100 {
        t[i] = u16::from_le_bytes([PAIRS[2 * i], PAIRS[2 * i + 1]]);
        i += 1;
    }
    t
};

/// `10^k` for `k` in `0..20`.
#[cfg_attr(feature = "small", allow(dead_code))]
const POW10: [u64; 20] = {
    let mut t = [1u64; 20];
    let mut k = 1;
    while k < 20 {
        t[k] = t[k - 1] * 10;
        k += 1;
    }
    t
};

/// How many decimal digits `n` has (1 for 0): `log10(2) ~ 1233 / 4096` turns the bit length
/// into the digit count or one more, and one compare decides (`u64::ilog10` branches more).
#[cfg_attr(feature = "small", allow(dead_code))]
#[inline(always)]
fn digits(n: u64) -> usize {
    let bits = (64 - (n | 1).leading_zeros()) as usize;
    let t = (bits * 1233) >> 12;
    t + usize::from((n | 1) >= POW10[t])
}

/// The end of an integer sample line as the encoders write it, ` n.0` and the newline (`-n`
/// when `negative`), at the start of `out`; returns its length (at most 25). The digits go
/// straight to their place, two per division, so a line's end is one fixed-size copy.
#[cfg_attr(feature = "small", allow(dead_code))]
#[inline(always)]
pub(crate) fn int_line_end(mut n: u64, negative: bool, out: &mut [u8; 32]) -> usize {
    // One digit (most counts of a sparse histogram's buckets): one 8-byte store.
    if n < 10 && !negative {
        out[..8].copy_from_slice(&[b' ', b'0' + n as u8, b'.', b'0', b'\n', 0, 0, 0]);
        return 5;
    }
    out[0] = b' ';
    out[1] = b'-';
    if n < 10_000 {
        // Up to four digits (bucket counts, most counts): all four of `n` padded with zeros in
        // one word from two pairs, shifted so the padding falls off, stored at once.
        let digits = 1 + usize::from(n >= 10) + usize::from(n >= 100) + usize::from(n >= 1000);
        let n = n as usize;
        let word = u32::from(PAIRS16[n / 100]) | u32::from(PAIRS16[n % 100]) << 16;
        let start = 1 + usize::from(negative);
        out[start..start + 4].copy_from_slice(&(word >> (8 * (4 - digits))).to_le_bytes());
        out[start + digits..start + digits + 3].copy_from_slice(b".0\n");
        return start + digits + 3;
    }
    let digits = digits(n);
    let end = 1 + usize::from(negative) + digits;
    let mut at = end;
    while n >= 100 {
        let r = (n % 100) as usize * 2;
        n /= 100;
        at -= 2;
        out[at..at + 2].copy_from_slice(&PAIRS[r..r + 2]);
    }
    if n >= 10 {
        let r = n as usize * 2;
        out[at - 2..at].copy_from_slice(&PAIRS[r..r + 2]);
    } else {
        out[at - 1] = b'0' + n as u8;
    }
    out[end..end + 3].copy_from_slice(b".0\n");
    end + 3
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agrees_with_itoa() {
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut cases = heapless::Vec::<u64, 300>::new();
        for k in 0..64 {
            let _ = cases.extend_from_slice(&[1 << k, (1 << k) - 1, (1 << k) + 1]);
        }
        let mut p = 1u64;
        while let Some(next) = p.checked_mul(10) {
            let _ = cases.extend_from_slice(&[p - 1, p, p + 1]);
            p = next;
        }
        let _ = cases.extend_from_slice(&[0, u64::MAX, u64::MAX - 1, u64::from(u32::MAX) + 1]);
        for _ in 0..100_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            for n in [x, x >> (x % 64), cases[(x % cases.len() as u64) as usize]] {
                let mut buf = [0u8; DEC_BUF];
                assert_eq!(unsigned(n, &mut buf), itoa::Buffer::new().format(n).as_bytes(), "{n}");
                let s = n as i64;
                assert_eq!(signed(s, &mut buf), itoa::Buffer::new().format(s).as_bytes(), "{s}");
            }
        }
        let mut buf = [0u8; DEC_BUF];
        assert_eq!(signed(i64::MIN, &mut buf), b"-9223372036854775808");
        #[cfg(not(feature = "small"))]
        for n in cases
            .iter()
            .copied()
            .chain(0..100_000)
            .chain((0..20_000u64).map(|i| i * 5_003 + i % 7))
            .chain(POW10.iter().flat_map(|&p| [p - 1, p, p + 1]))
        {
            assert_eq!(digits(n), itoa::Buffer::new().format(n).len(), "{n}");
            let mut out = [0u8; 32];
            let len = int_line_end(n, false, &mut out);
            let mut want = heapless::Vec::<u8, 32>::new();
            let _ = want.extend_from_slice(b" ");
            let _ = want.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
            let _ = want.extend_from_slice(b".0\n");
            assert_eq!(&out[..len], &want[..], "{n}");
            let len = int_line_end(n, true, &mut out);
            assert_eq!(out[..2], *b" -", "{n}");
            assert_eq!(&out[2..len], &want[1..], "{n}");
        }
        assert_eq!(unsigned(u64::MAX, &mut buf), b"18446744073709551615");
    }
}
