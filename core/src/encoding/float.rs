//! Float spellings: the shortest round-trip form for values, and the exact Python/Go
//! spelling (`floatToGoString`) for bucket bounds and quantiles, whose text is part of a series'
//! identity.

#[cfg(any(feature = "small", test))]
#[path = "shortest.rs"]
mod shortest;

/// Room for the digits of any f64 (17).
const DEC_BUF: usize = 20;

/// Room for any f64 in either spelling.
pub const FLOAT_BUF: usize = 32;

/// Which spelling [`write_f64`] writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FloatStyle {
    /// [`shortest()`]: sample values.
    Shortest,
    /// [`go_float`]: exemplar values (as Python writes them).
    #[cfg_attr(not(feature = "openmetrics"), allow(dead_code))]
    Go,
}

/// Every `f64` an encoder writes goes through here (`put` gets its text): the one seam to
/// compile float formatting out of a firmware that has no float values.
#[cfg(not(feature = "small"))]
pub(crate) fn write_f64<R>(v: f64, style: FloatStyle, put: impl FnOnce(&[u8]) -> R) -> R {
    match style {
        FloatStyle::Go => put(go_float(v, &mut [0u8; FLOAT_BUF]).as_bytes()),
        FloatStyle::Shortest => put(shortest(v, &mut ryu::Buffer::new()).as_bytes()),
    }
}

/// `small`: both spellings from the in-crate digits ([`shortest`](mod@shortest)), into one buffer.
#[cfg(feature = "small")]
pub(crate) fn write_f64<R>(v: f64, style: FloatStyle, put: impl FnOnce(&[u8]) -> R) -> R {
    let mut out = [0u8; FLOAT_BUF];
    let len = match style {
        FloatStyle::Go => go_float_len(v, &mut out),
        FloatStyle::Shortest => shortest_len(v, &mut out),
    };
    put(&out[..len])
}

/// `+Inf`, `-Inf` and `NaN`, as both spellings write them; `None` for a finite value.
fn special(v: f64) -> Option<&'static [u8]> {
    // On the bits: no (soft-float) comparisons.
    const INF: u64 = 0x7ff0_0000_0000_0000;
    let bits = v.to_bits();
    if bits & !(1 << 63) > INF {
        Some(b"NaN")
    } else if bits == INF {
        Some(b"+Inf")
    } else if bits == INF | 1 << 63 {
        Some(b"-Inf")
    } else {
        None
    }
}

/// [`shortest()`] without ryu: the same text (`matches_ryu`), written as ryu's `format_finite`
/// does: fixed notation for `1e-5 <= |v| < 1e16` (`.0` after an integer), exponent form
/// outside it (`1e16`, `1.5e-7`).
#[cfg(any(feature = "small", test))]
fn shortest_len(v: f64, out: &mut [u8; FLOAT_BUF]) -> usize {
    let mut w = Writer { out, len: 0 };
    if let Some(s) = special(v) {
        w.extend(s);
        return w.len;
    }
    let (s, n, point) = shortest::digits(v);
    if v.is_sign_negative() {
        w.push(b'-');
    }
    let n_ = n as i32;
    if n == 0 {
        w.extend(b"0.0");
    } else if point <= -5 || point > 16 {
        w.digits(s, n, 1);
        w.push(b'e');
        if point < 1 {
            w.push(b'-');
        }
        w.int((point - 1).unsigned_abs());
    } else if point <= 0 {
        w.extend(b"0.");
        w.zeros(-point);
        w.digits(s, n, 0);
    } else if n_ <= point {
        w.digits(s, n, 0);
        w.zeros(point - n_);
        w.extend(b".0");
    } else {
        w.digits(s, n, point as u32);
    }
    w.len
}

/// Writes `v` as the shortest text that parses back to `v`: `+Inf`, `-Inf`, `NaN`, `1.0`, `1e-5`.
pub fn shortest(v: f64, buf: &mut ryu::Buffer) -> &str {
    if v.is_nan() {
        "NaN"
    } else if v == f64::INFINITY {
        "+Inf"
    } else if v == f64::NEG_INFINITY {
        "-Inf"
    } else {
        buf.format_finite(v)
    }
}

/// Writes `v` exactly as Python's `floatToGoString` does: Python's `repr`, except that positive
/// values with more than six integer digits switch to Go's exponent form (`1e+06`).
///
/// ```
/// use promstack_core::encoding::go_float;
/// let mut buf = [0u8; 32];
/// assert_eq!(go_float(0.005, &mut buf), "0.005");
/// assert_eq!(go_float(10.0, &mut buf), "10.0");
/// assert_eq!(go_float(1e-5, &mut buf), "1e-05");
/// assert_eq!(go_float(1e6, &mut buf), "1e+06");
/// assert_eq!(go_float(f64::INFINITY, &mut buf), "+Inf");
/// ```
// `small`: not inlined, so ryu's buffers are not in the caller's frame (a histogram's report)
// while it reports the sample.
#[cfg_attr(feature = "small", inline(never))]
pub fn go_float(v: f64, out: &mut [u8; FLOAT_BUF]) -> &str {
    let len = go_float_len(v, out);
    // Only ASCII digits, signs, '.', 'e', and the literals above are written.
    core::str::from_utf8(&out[..len]).unwrap_or("NaN")
}

fn go_float_len(v: f64, out: &mut [u8; FLOAT_BUF]) -> usize {
    if let Some(s) = special(v) {
        out[..s.len()].copy_from_slice(s);
        return s.len();
    }
    // `small`: the general path alone (it writes the same; `short_decimal_matches_general_path`)
    // so that no f64 division, multiplication or 64-bit division is linked for bounds.
    if cfg!(feature = "small") {
        return general_len(v, out);
    }
    match short_decimal(v, out) {
        Some(len) => len,
        None => general_len(v, out),
    }
}

/// [`go_float`] for a finite value, from its shortest digits.
fn general_len(v: f64, out: &mut [u8; FLOAT_BUF]) -> usize {
    let mut buf = [0u8; DEC_BUF];
    #[cfg(feature = "small")]
    let (digits, point) = small_digits(v, &mut buf);
    #[cfg(not(feature = "small"))]
    let (digits, point) = ryu_digits(v, &mut buf);
    let neg = v.is_sign_negative();
    let nd = digits.len();
    let mut w = Writer { out, len: 0 };
    if neg {
        w.push(b'-');
    }
    if nd == 0 {
        w.extend(b"0.0");
        return w.len;
    }
    if point > -4 && point <= 16 {
        // Python repr uses fixed notation here.
        if point > 6 && !neg {
            // Go's exponent form: d.ddd (trailing zeros and dot stripped) e+0<point-1>.
            w.push(digits[0]);
            if nd > 1 {
                w.push(b'.');
                w.extend(&digits[1..nd]);
            }
            w.extend(b"e+0");
            w.int((point - 1) as u32);
            return w.len;
        }
        if point <= 0 {
            w.extend(b"0.");
            w.zeros(-point);
            w.extend(&digits[..nd]);
        } else {
            let p = point as usize;
            w.extend(&digits[..nd.min(p)]);
            w.zeros(p as i32 - nd as i32);
            w.push(b'.');
            if nd > p {
                w.extend(&digits[p..nd]);
            } else {
                w.push(b'0');
            }
        }
    } else {
        w.push(digits[0]);
        if nd > 1 {
            w.push(b'.');
            w.extend(&digits[1..nd]);
        }
        let e = point - 1;
        w.push(b'e');
        w.push(if e < 0 { b'-' } else { b'+' });
        let ea = e.unsigned_abs();
        if ea < 10 {
            w.push(b'0');
        }
        w.int(ea);
    }
    w.len
}

/// `ryu_digits` without ryu.
#[cfg(any(feature = "small", test))]
fn small_digits(v: f64, buf: &mut [u8; DEC_BUF]) -> (&[u8], i32) {
    let (s, n, point) = shortest::digits(v);
    let mut out = [0u8; FLOAT_BUF];
    let mut w = Writer { out: &mut out, len: 0 };
    w.digits(s, n, 0);
    let n = n as usize;
    buf[..n].copy_from_slice(&out[..n]);
    (&buf[..n], point)
}

/// ryu's shortest digits of a finite `v` without trailing zeros, and the decimal point's
/// position: `|v| = 0.DIGITS x 10^point` (no digits for zero).
#[cfg(any(not(feature = "small"), test))]
fn ryu_digits(v: f64, digits: &mut [u8; DEC_BUF]) -> (&[u8], i32) {
    let mut rb = ryu::Buffer::new();
    let s = rb.format_finite(v).as_bytes();
    let s = s.strip_prefix(b"-").unwrap_or(s);
    let (mant, exp) = match s.iter().position(|&c| c == b'e') {
        Some(i) => (&s[..i], parse_exp(&s[i + 1..])),
        None => (s, 0),
    };
    let mut nd = 0;
    let mut int_digits: i32 = 0;
    let mut seen_dot = false;
    for &c in mant {
        if c == b'.' {
            seen_dot = true;
            continue;
        }
        if nd == 0 && c == b'0' {
            // Leading zeros: before the dot they do not count; after it they shift the point.
            if seen_dot {
                int_digits -= 1;
            }
            continue;
        }
        digits[nd] = c;
        nd += 1;
        if !seen_dot {
            int_digits += 1;
        }
    }
    while nd > 0 && digits[nd - 1] == b'0' {
        nd -= 1;
    }
    (&digits[..nd], if nd == 0 { 0 } else { int_digits + exp })
}

/// Fast path for the bounds histograms are made of (`0.005`, `2.5`, `10.0`): a value in
/// `[1e-4, 1e6)` whose shortest decimal has at most six digits after the point, spelled without
/// going through ryu. Python's repr (and so floatToGoString) writes such a value in fixed
/// notation with its shortest round-trip digits, and the shortest is the one with the fewest
/// digits after the point: `k` is the least count for which `m / 10^k` (with `m` the nearest
/// integer to `v * 10^k`) reads back as `v`. Both `m` and `10^k` are exact doubles, so the
/// division is correctly rounded and the check is exact. `None` for everything else.
fn short_decimal(v: f64, out: &mut [u8; FLOAT_BUF]) -> Option<usize> {
    const POW10: [f64; 7] = [1.0, 10.0, 100.0, 1e3, 1e4, 1e5, 1e6];
    let a = if v < 0.0 { -v } else { v };
    if !(1e-4..1e6).contains(&a) {
        return None;
    }
    let (k, m) = POW10.iter().enumerate().find_map(|(k, p)| {
        // No `f64::round` in core: add a half and truncate (`a * p` is positive and < 1e12).
        let m = (a * p + 0.5) as u64;
        (m as f64 / p == a).then_some((k, m))
    })?;
    let mut w = Writer { out, len: 0 };
    if v < 0.0 {
        w.push(b'-');
    }
    let mut digits = itoa::Buffer::new();
    let d = digits.format(m).as_bytes();
    if k == 0 {
        w.extend(d);
        w.extend(b".0");
    } else if d.len() > k {
        w.extend(&d[..d.len() - k]);
        w.push(b'.');
        w.extend(&d[d.len() - k..]);
    } else {
        w.extend(b"0.");
        for _ in d.len()..k {
            w.push(b'0');
        }
        w.extend(d);
    }
    Some(w.len)
}

#[cfg(any(not(feature = "small"), test))]
fn parse_exp(s: &[u8]) -> i32 {
    let (neg, s) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let mut e: i32 = 0;
    for &c in s {
        e = e * 10 + i32::from(c - b'0');
    }
    if neg {
        -e
    } else {
        e
    }
}

struct Writer<'a> {
    out: &'a mut [u8; FLOAT_BUF],
    len: usize,
}

impl Writer<'_> {
    fn push(&mut self, c: u8) {
        if self.len < FLOAT_BUF {
            self.out[self.len] = c;
            self.len += 1;
        }
    }
    fn extend(&mut self, s: &[u8]) {
        for &c in s {
            self.push(c);
        }
    }
    fn zeros(&mut self, n: i32) {
        for _ in 0..n {
            self.push(b'0');
        }
    }
    /// An exponent (below 1,000).
    fn int(&mut self, v: u32) {
        #[cfg(feature = "small")]
        self.digits(u64::from(v), 1 + u32::from(v >= 10) + u32::from(v >= 100), 0);
        #[cfg(not(feature = "small"))]
        self.extend(itoa::Buffer::new().format(v).as_bytes());
    }
    /// The `n` digits of `s` (leading zeros if `s` has fewer), with a `.` after the first
    /// `dot` of them when `0 < dot < n`. Written from the last digit back, so that no digit
    /// buffer is needed (the float path is the deepest of the encoder's stack).
    #[cfg(any(feature = "small", test))]
    fn digits(&mut self, mut s: u64, n: u32, dot: u32) {
        let end = self.len + n as usize + usize::from(0 < dot && dot < n);
        let mut at = end;
        for i in (0..n).rev() {
            let q = shortest::div10(s);
            at -= 1;
            self.set(at, b'0' + (s - 10 * q) as u8);
            s = q;
            if i == dot && dot > 0 {
                at -= 1;
                self.set(at, b'.');
            }
        }
        self.len = end.min(FLOAT_BUF);
    }
    #[cfg(any(feature = "small", test))]
    fn set(&mut self, at: usize, c: u8) {
        if let Some(b) = self.out.get_mut(at) {
            *b = c;
        }
    }
}

#[cfg(all(test, feature = "float", feature = "openmetrics"))]
mod tests {
    use super::*;

    fn g(v: f64) -> heapless::String<32> {
        let mut b = [0u8; FLOAT_BUF];
        heapless::String::try_from(go_float(v, &mut b)).unwrap()
    }

    // Expected strings are what Python 0.8.0's floatToGoString returns for the same input.
    #[test]
    fn matches_python_float_to_go_string() {
        let cases: &[(f64, &str)] = &[
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (1.0, "1.0"),
            (0.005, "0.005"),
            (0.01, "0.01"),
            (0.025, "0.025"),
            (2.5, "2.5"),
            (7.5, "7.5"),
            (10.0, "10.0"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (1.5e-7, "1.5e-07"),
            (123456.0, "123456.0"),
            (1e6, "1e+06"),
            (1234567.0, "1.234567e+06"),
            (1e10, "1e+010"),
            (1e15, "1e+015"),
            (1e16, "1e+16"),
            (1.5e17, "1.5e+17"),
            (-1e6, "-1000000.0"),
            (-2.5, "-2.5"),
            (1e-300, "1e-300"),
            (f64::MAX, "1.7976931348623157e+308"),
            (0.1 + 0.2, "0.30000000000000004"),
            (f64::INFINITY, "+Inf"),
            (f64::NEG_INFINITY, "-Inf"),
            (f64::NAN, "NaN"),
        ];
        for &(v, want) in cases {
            assert_eq!(g(v).as_str(), want, "{v:e}");
        }
    }

    /// The fast path agrees with the general one wherever it answers.
    #[test]
    fn short_decimal_matches_general_path() {
        let mut x: u64 = 0x2545_F491_4F6C_DD1D;
        let mut checked = 0;
        for i in 0..200_000u64 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let v = match i % 4 {
                // Short decimals of every length and magnitude in range.
                0 => (x % 1_000_000) as f64 / [1.0, 10.0, 100.0, 1e3, 1e4, 1e5, 1e6][(x >> 40) as usize % 7],
                1 => (x % 100_000_000_000) as f64 / 1e6,
                2 => -((x % 10_000) as f64) / 1e3,
                _ => f64::from_bits(0x3F00_0000_0000_0000 + (x % 0x0200_0000_0000_0000)),
            };
            let mut fast = [0u8; FLOAT_BUF];
            if let Some(n) = short_decimal(v, &mut fast) {
                checked += 1;
                let mut slow = [0u8; FLOAT_BUF];
                let m = general_len(v, &mut slow);
                assert_eq!(&fast[..n], &slow[..m], "{v:e}");
            }
        }
        assert!(checked > 100_000);
    }

    #[test]
    fn shortest_values() {
        let mut b = ryu::Buffer::new();
        assert_eq!(shortest(1.0, &mut b), "1.0");
        assert_eq!(shortest(7.2, &mut b), "7.2");
        assert_eq!(shortest(f64::NAN, &mut b), "NaN");
        assert_eq!(shortest(f64::NEG_INFINITY, &mut b), "-Inf");
    }
}

/// The `small` spellings against ryu's: byte for byte, on every kind of `f64`.
#[cfg(test)]
mod matches_ryu {
    use super::*;

    fn check(v: f64) {
        let mut out = [0u8; FLOAT_BUF];
        let n = shortest_len(v, &mut out);
        let mut rb = ryu::Buffer::new();
        let want = shortest(v, &mut rb);
        assert_eq!(core::str::from_utf8(&out[..n]).unwrap(), want, "bits {:#018x}", v.to_bits());
        if v.is_finite() {
            // go_float's general path spells these digits (and, without `small`, ryu's).
            let (mut a, mut b) = ([0u8; DEC_BUF], [0u8; DEC_BUF]);
            assert_eq!(small_digits(v, &mut a), ryu_digits(v, &mut b), "bits {:#018x}", v.to_bits());
        }
    }

    fn check_both_signs(v: f64) {
        check(v);
        check(-v);
    }

    #[test]
    fn edge_cases() {
        for v in [
            0.0,
            f64::MIN_POSITIVE,
            f64::MAX,
            f64::EPSILON,
            f64::INFINITY,
            f64::NAN,
            1.0,
            0.1,
            0.3,
            0.1 + 0.2,
            2.5,
            24.5,
            12468.0,
            1e21,
            1e-7,
            1e16,
            1e15,
            1e-5,
            1e-4,
            9007199254740992.0,
            9007199254740993.0,
            123456789012345680.0,
            5e-324,
            1e-323,
            // The largest subnormal.
            f64::from_bits(0x000f_ffff_ffff_ffff),
            1.7976931348623157e308,
        ] {
            check_both_signs(v);
        }
        // Around every power of ten and of two, and the bit patterns next to them.
        let near = |v: f64| {
            for d in [-2i64, -1, 0, 1, 2] {
                let b = v.to_bits() as i64 + d;
                if (0..0x7ff0_0000_0000_0000).contains(&b) {
                    check_both_signs(f64::from_bits(b as u64));
                }
            }
        };
        for p in -325..=309 {
            near(format!("1e{p}").parse().unwrap());
            near(format!("5e{p}").parse().unwrap());
        }
        for e in 0..0x7ffu64 {
            near(f64::from_bits(e << 52));
            near(f64::from_bits(e << 52 | 0x000f_ffff_ffff_ffff));
        }
        // Integers near 2^53 and the fixed/exponent switch points.
        for i in 0..2_000u64 {
            near(((1u64 << 53) - 1_000 + i) as f64);
            near((10_000_000_000_000_000u64 - 1_000 + i) as f64);
        }
        // Every subnormal with a short significand.
        for t in 1..100_000u64 {
            check_both_signs(f64::from_bits(t));
        }
    }

    #[test]
    fn random_bit_patterns() {
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for i in 0..2_000_000u32 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let bits = match i % 4 {
                // Every exponent equally, and the magnitudes metrics have.
                0 | 1 => x,
                2 => (x % (0x40e0_0000_0000_0000 - 0x3f00_0000_0000_0000)) + 0x3f00_0000_0000_0000,
                // Short significands (values with few decimal digits are often close to them).
                _ => x & 0xfff0_0000_0000_0000 | (x >> 12) & 0xffff,
            };
            check(f64::from_bits(bits));
        }
        // Decimals with few digits, as metrics hold them.
        for i in 0..200_000u64 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let p = [1.0, 10.0, 100.0, 1e3, 1e4, 1e5, 1e6][(i % 7) as usize];
            check_both_signs((x % 10_000_000) as f64 / p);
        }
    }
}
