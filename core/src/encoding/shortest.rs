//! Shortest round-trip digits of an `f64` for the `small` build, without ryu.
//!
//! ryu (even with its compact tables) was the largest piece of a firmware that prints floats:
//! about 4.2 KB of code and tables on thumbv7m, and it pulled in `memmove` and a 64-bit division
//! (another 2.4 KB). This computes the same digits in about 2 KB, with 32-bit multiplications and
//! divisions by constants only, and [`super`] spells them as ryu does (`matches_ryu` checks the
//! text against ryu's on millions of values).
//!
//! The method is Schubfach (Raffaello Giulietti, "The Schubfach way to render doubles"): the
//! value's rounding interval is scaled by the power of ten `10^-k` that makes it at least 1 and
//! less than 10 units wide, so it holds at most one multiple of ten; the digits are that multiple
//! when it is inside (one digit fewer), else whichever of the two integers around the value is
//! inside, or the closer one. No loop over candidates, and no 64-bit division.
//!
//! Schubfach reads its 126-bit powers of ten from a 617-entry table (10 KB). Here the one power a
//! value needs is computed from 1 by multiplications by 5^13 (or divisions by 5^6) on 192 bits,
//! truncating at each step, which is still exact at 126 bits for every power the algorithm asks
//! for (`powers_are_exact` checks each against exact integers). That costs up to 49 steps for
//! the most extreme exponents and a handful for everyday magnitudes: size over speed.

use core::num::NonZeroU32;

const MASK63: u64 = (1 << 63) - 1;
/// The smallest binary exponent (subnormals).
const Q_MIN: i32 = -1074;
/// The hidden bit of a normal significand.
const C_MIN: u64 = 1 << 52;

/// The shortest decimal that reads back as `v` (finite), closest to `v` when there are several:
/// `(s, n, point)` with `s` the digits as an integer without trailing zeros, `n` how many there
/// are, and `|v| = 0.DIGITS x 10^point`. Zero is `(0, 0, 0)`.
pub(crate) fn digits(v: f64) -> (u64, u32, i32) {
    let bits = v.to_bits();
    let biased = (bits >> 52) as i32 & 0x7ff;
    let t = bits & (C_MIN - 1);
    let (mut s, mut k) = if biased != 0 {
        decimal(biased - 1075, C_MIN | t)
    } else if t == 0 {
        return (0, 0, 0);
    } else {
        decimal(Q_MIN, t)
    };
    loop {
        let q = div10(s);
        if q * 10 != s {
            break;
        }
        s = q;
        k += 1;
    }
    // s < 10^17.
    let mut n = 1;
    let mut p = 10;
    while p <= s {
        p *= 10;
        n += 1;
    }
    (s, n, k + n as i32)
}

/// Schubfach proper, for `v = c x 2^q`: the shortest `s x 10^k` in `v`'s rounding interval
/// (both ends included when `c` is even), or the closest of two, ties to even.
// Inlined: one frame less under the encoder's deepest call.
#[inline(always)]
fn decimal(q: i32, c: u64) -> (u64, i32) {
    let odd = c & 1;
    // 4c and the interval's ends, in quarters of 2^q. Where the exponent steps up (c = 2^52),
    // the lower neighbour is half as far.
    let cb = c << 2;
    let cbr = cb + 2;
    let (cbl, k) = if c != C_MIN || q == Q_MIN {
        (cb - 2, floor_log10_pow2(q))
    } else {
        (cb - 1, floor_log10_three_quarters_pow2(q))
    };
    let h = (q + floor_log2_pow10(-k) + 2) as u32;
    let g = pow10(-k);
    let vb = scale(g, cb << h);
    let vbl = scale(g, cbl << h);
    let vbr = scale(g, cbr << h);
    let s = vb >> 2;
    // One digit fewer, when exactly one of its two neighbours is inside (both cannot be: the
    // interval is narrower than 10 x 10^k). Zero never is.
    let sp10 = 10 * div10(s);
    let tp10 = sp10 + 10;
    let upin = vbl + odd <= sp10 << 2;
    let wpin = (tp10 << 2) + odd <= vbr;
    if upin != wpin {
        return (if upin { sp10 } else { tp10 }, k);
    }
    let t = s + 1;
    let uin = vbl + odd <= s << 2;
    let win = (t << 2) + odd <= vbr;
    if uin != win {
        return (if uin { s } else { t }, k);
    }
    // Both inside: the closer one (vb against the midpoint 4s + 2), ties to even.
    let mid = (s + t) << 1;
    (if vb < mid || vb == mid && s & 1 == 0 { s } else { t }, k)
}

/// `g x cp / 2^127` rounded to odd (its lowest bit set when inexact), as Schubfach's `rop`
/// computes it: what keeps the comparisons in [`decimal`] exact. `g = g1 x 2^63 + g0`.
fn scale((g1, g0): (u64, u64), cp: u64) -> u64 {
    let x1 = mul(g0, cp).0;
    let (y1, y0) = mul(g1, cp);
    let z = (y0 >> 1) + x1;
    let vbp = y1 + (z >> 63);
    vbp | ((z & MASK63) + MASK63) >> 63
}

/// The 128-bit product, as (high, low), from 32-bit multiplications (a 32-bit core has no
/// 64-bit multiply-high, and a `u128` product would be a call). Inlined: a call per product
/// costs more stack than the product's code costs flash.
#[inline(always)]
fn mul(a: u64, b: u64) -> (u64, u64) {
    let (a0, a1) = (a & 0xffff_ffff, a >> 32);
    let (b0, b1) = (b & 0xffff_ffff, b >> 32);
    let p00 = a0 * b0;
    let p01 = a0 * b1;
    let p10 = a1 * b0;
    let mid = (p00 >> 32) + (p01 & 0xffff_ffff) + (p10 & 0xffff_ffff);
    let hi = a1 * b1 + (p01 >> 32) + (p10 >> 32) + (mid >> 32);
    (hi, mid << 32 | p00 & 0xffff_ffff)
}

/// `n / 10` from 32-bit divisions (by a constant: multiplications), so that no 64-bit division
/// is linked: with `n = hi x 2^32 + lo`, `r = hi % 10` and `2^32 = 10 x 429_496_729 + 6`, the
/// low half of the quotient is `r x 429_496_729 + lo / 10 + (lo % 10 + 6r) / 10`.
pub(crate) fn div10(n: u64) -> u64 {
    let (hi, lo) = ((n >> 32) as u32, n as u32);
    let r = hi % 10;
    u64::from(hi / 10) << 32 | u64::from(r * 429_496_729 + lo / 10 + (lo % 10 + 6 * r) / 10)
}

/// `floor(q x log10(2))`, exact for |q| <= 1100 (checked by `logarithms_are_exact`).
fn floor_log10_pow2(q: i32) -> i32 {
    (q * 1_262_611) >> 22
}

/// `floor(q x log10(2) + log10(3/4))`, exact for |q| <= 1100.
fn floor_log10_three_quarters_pow2(q: i32) -> i32 {
    (q * 1_262_611 - 524_031) >> 22
}

/// `floor(e x log2(10))`, exact for |e| <= 400.
fn floor_log2_pow10(e: i32) -> i32 {
    (e * 1_741_647) >> 19
}

/// `g = floor(10^e x 2^(125 - floor_log2_pow10(e))) + 1`, a 126-bit value, as
/// `(g >> 63, g mod 2^63)`, for -292 <= e <= 324.
///
/// 10^e and 5^e have the same binary significand; `w` holds 5^e's, scaled into
/// [2^191, 2^192) (six 32-bit limbs, least significant first) and truncated at every step, so it
/// stays below the exact one by far less than the 2^66 the result drops.
#[inline(always)]
fn pow10(e: i32) -> (u64, u64) {
    let mut w: [u32; 6] = [0, 0, 0, 0, 0, 1 << 31];
    let mut n = e.unsigned_abs();
    while n > 0 {
        let step = n.min(if e > 0 { 13 } else { 6 });
        n -= step;
        // Never zero; as a `NonZeroU32` the divisions below need no zero check.
        let f = NonZeroU32::new(5u32.pow(step)).unwrap_or(NonZeroU32::MIN);
        if e > 0 {
            let mut carry = 0u32;
            for limb in &mut w {
                let p = u64::from(*limb) * u64::from(f.get()) + u64::from(carry);
                *limb = p as u32;
                carry = (p >> 32) as u32;
            }
            // 2 <= carry < 5^13 < 2^31: shift it back in from the top.
            let s = 32 - carry.leading_zeros();
            for i in 0..6 {
                let above = if i == 5 { carry } else { w[i + 1] };
                w[i] = w[i] >> s | above << (32 - s);
            }
        } else {
            // Long division by f < 2^14, sixteen bits at a time (32-bit divisions only).
            let mut rem = 0u32;
            for limb in w.iter_mut().rev() {
                let hi = rem << 16 | *limb >> 16;
                rem = hi % f;
                let lo = rem << 16 | *limb & 0xffff;
                rem = lo % f;
                *limb = ((hi / f) << 16) | (lo / f);
            }
            // The quotient lost 3 to 14 leading bits: shift them back (zeros come in).
            let s = w[5].leading_zeros();
            for i in (0..6).rev() {
                let below = if i == 0 { 0 } else { w[i - 1] };
                w[i] = w[i] << s | below >> (32 - s);
            }
        }
    }
    // Bits 66..192 of w: g1 is bits 129..192, g0 bits 66..129.
    let top = u64::from(w[5]) << 32 | u64::from(w[4]);
    let next = u64::from(w[3]) << 32 | u64::from(w[2]);
    let g0 = ((top & 1) << 62 | next >> 2) + 1;
    ((top >> 1) + (g0 >> 63), g0 & MASK63)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A little unsigned big integer (32-bit limbs, least significant first) for exact checks.
    #[derive(Clone, PartialEq, Eq)]
    struct Big(Vec<u32>);

    impl Big {
        fn from_u128(v: u128) -> Big {
            let mut b = Big((0..4).map(|i| (v >> (32 * i)) as u32).collect());
            b.trim();
            b
        }
        fn trim(&mut self) {
            while self.0.len() > 1 && self.0.last() == Some(&0) {
                self.0.pop();
            }
        }
        fn mul_small(mut self, m: u32) -> Big {
            let mut carry = 0u64;
            for l in &mut self.0 {
                let p = u64::from(*l) * u64::from(m) + carry;
                *l = p as u32;
                carry = p >> 32;
            }
            if carry > 0 {
                self.0.push(carry as u32);
            }
            self.trim();
            self
        }
        fn pow10(self, n: u32) -> Big {
            (0..n).fold(self, |b, _| b.mul_small(10))
        }
        fn shl(self, n: u32) -> Big {
            let mut b = Big(vec![0; (n / 32) as usize]);
            b.0.extend(self.0);
            b.0.push(0);
            let s = n % 32;
            if s > 0 {
                for i in (0..b.0.len()).rev() {
                    let below = if i == 0 { 0 } else { b.0[i - 1] };
                    b.0[i] = b.0[i] << s | below >> (32 - s);
                }
            }
            b.trim();
            b
        }
    }

    impl PartialOrd for Big {
        fn partial_cmp(&self, o: &Big) -> Option<core::cmp::Ordering> {
            Some(self.cmp(o))
        }
    }
    impl Ord for Big {
        fn cmp(&self, o: &Big) -> core::cmp::Ordering {
            self.0.len().cmp(&o.0.len()).then_with(|| self.0.iter().rev().cmp(o.0.iter().rev()))
        }
    }

    /// `m x 2^a x 10^b` as an exact integer, with the negative exponents moved to `other`'s side
    /// by the caller: here both are >= 0.
    fn big(m: u128, a: u32, b: u32) -> Big {
        Big::from_u128(m).pow10(b).shl(a)
    }

    /// Compares `m1 x 2^a1 x 10^b1` with `m2 x 2^a2 x 10^b2` (any signs of the exponents).
    fn cmp(m1: u128, a1: i32, b1: i32, m2: u128, a2: i32, b2: i32) -> core::cmp::Ordering {
        // Multiply both sides by 2^-min(a) and 10^-min(b).
        let (a0, b0) = (a1.min(a2), b1.min(b2));
        let l = big(m1, (a1 - a0) as u32, (b1 - b0) as u32);
        let r = big(m2, (a2 - a0) as u32, (b2 - b0) as u32);
        l.cmp(&r)
    }

    #[test]
    fn logarithms_are_exact() {
        use core::cmp::Ordering::*;
        for q in -1100..=1100 {
            // 10^k <= 2^q < 10^(k+1)
            let k = floor_log10_pow2(q);
            assert_ne!(cmp(1, 0, k, 1, q, 0), Greater, "log10 2^{q}");
            assert_eq!(cmp(1, q, 0, 1, 0, k + 1), Less, "log10 2^{q}");
            // 10^k <= 3 x 2^(q-2) < 10^(k+1)
            let k = floor_log10_three_quarters_pow2(q);
            assert_ne!(cmp(1, 0, k, 3, q - 2, 0), Greater, "log10 3/4 2^{q}");
            assert_eq!(cmp(3, q - 2, 0, 1, 0, k + 1), Less, "log10 3/4 2^{q}");
        }
        for e in -400..=400 {
            // 2^f <= 10^e < 2^(f+1)
            let f = floor_log2_pow10(e);
            assert_ne!(cmp(1, f, 0, 1, 0, e), Greater, "log2 10^{e}");
            assert_eq!(cmp(1, 0, e, 1, f + 1, 0), Less, "log2 10^{e}");
        }
    }

    /// Every power the algorithm uses is the exact `floor(10^e x 2^(125 - f)) + 1`.
    #[test]
    fn powers_are_exact() {
        use core::cmp::Ordering::*;
        for e in -292..=324 {
            let (g1, g0) = pow10(e);
            assert!(g0 <= MASK63);
            let g = (u128::from(g1) << 63 | u128::from(g0)) - 1;
            assert!((1u128 << 125..1u128 << 126).contains(&g), "10^{e}");
            let f = 125 - floor_log2_pow10(e);
            // g <= 10^e x 2^f < g + 1
            assert_ne!(cmp(g, 0, 0, 1, f, e), Greater, "10^{e}");
            assert_eq!(cmp(1, f, e, g + 1, 0, 0), Less, "10^{e}");
        }
    }

    #[test]
    fn wide_multiply_and_tenths() {
        let mut x: u64 = 0x0123_4567_89AB_CDEF;
        for _ in 0..100_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let y = x.rotate_left(17) ^ 0x9E37_79B9_7F4A_7C15;
            let p = u128::from(x) * u128::from(y);
            assert_eq!(mul(x, y), ((p >> 64) as u64, p as u64));
            assert_eq!(div10(x), x / 10);
        }
        for n in [0, 9, 10, 11, 99, 100, u64::MAX, u64::MAX - 5, u64::MAX - 6] {
            assert_eq!(div10(n), n / 10);
        }
    }
}
