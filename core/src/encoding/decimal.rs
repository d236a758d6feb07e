//! Integers in decimal for the `small` build: no 64-bit division, so a 32-bit core links
//! neither `__aeabi_uldivmod` nor itoa's tables (about 1.3 KB on thumbv7m). Digits come out of
//! 32-bit divisions only: while the value has more than 32 bits, each digit is taken from its two
//! halves.
//!
//! Other builds use itoa, which is faster where 64-bit division is native.

/// Room for any `i64` or `u64`: a sign and 20 digits.
pub(crate) const DEC_BUF: usize = 21;

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

/// `n` in decimal.
pub(crate) fn unsigned(n: u64, buf: &mut [u8; DEC_BUF]) -> &[u8] {
    let at = unsigned_at(n, buf);
    &buf[at..]
}

/// `n` in decimal, with a `-` when negative.
pub(crate) fn signed(n: i64, buf: &mut [u8; DEC_BUF]) -> &[u8] {
    let mut at = unsigned_at(n.unsigned_abs(), buf);
    if n < 0 {
        at -= 1;
        buf[at] = b'-';
    }
    &buf[at..]
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
        assert_eq!(unsigned(u64::MAX, &mut buf), b"18446744073709551615");
    }
}
