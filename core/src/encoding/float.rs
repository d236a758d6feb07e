//! Float spellings: the shortest round-trip form for values, and the exact Python/Go
//! spelling (`floatToGoString`) for bucket bounds and quantiles, whose text is part of a series'
//! identity.

/// Room for any f64 in either spelling.
pub const FLOAT_BUF: usize = 32;

/// Which spelling [`write_f64`] writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FloatStyle {
    /// [`shortest`]: sample values.
    Shortest,
    /// [`go_float`]: exemplar values (as Python writes them).
    #[cfg_attr(not(feature = "openmetrics"), allow(dead_code))]
    Go,
}

/// Every `f64` an encoder writes goes through here (`put` gets its text): the one seam to
/// compile float formatting out of a firmware that has no float values.
pub(crate) fn write_f64<R>(v: f64, style: FloatStyle, put: impl FnOnce(&str) -> R) -> R {
    match style {
        FloatStyle::Go => put(go_float(v, &mut [0u8; FLOAT_BUF])),
        FloatStyle::Shortest => put(shortest(v, &mut ryu::Buffer::new())),
    }
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
    let special: &[u8] = if v.is_nan() {
        b"NaN"
    } else if v == f64::INFINITY {
        b"+Inf"
    } else if v == f64::NEG_INFINITY {
        b"-Inf"
    } else {
        b""
    };
    if !special.is_empty() {
        out[..special.len()].copy_from_slice(special);
        return special.len();
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

/// [`go_float`] for a finite value, from ryu's shortest digits.
fn general_len(v: f64, out: &mut [u8; FLOAT_BUF]) -> usize {
    // Decompose ryu's shortest digits into sign, digit string and decimal point position:
    // |v| = 0.DIGITS x 10^point.
    let mut rb = ryu::Buffer::new();
    let s = rb.format_finite(v).as_bytes();
    let (neg, s) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        _ => (false, s),
    };
    let (mant, exp) = match s.iter().position(|&c| c == b'e') {
        Some(i) => (&s[..i], parse_exp(&s[i + 1..])),
        None => (s, 0),
    };
    let mut digits = [0u8; 24];
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
    let mut w = Writer { out, len: 0 };
    if neg {
        w.push(b'-');
    }
    if nd == 0 {
        w.extend(b"0.0");
        return w.len;
    }
    let point = int_digits + exp;
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
            for _ in 0..(-point) {
                w.push(b'0');
            }
            w.extend(&digits[..nd]);
        } else {
            let p = point as usize;
            w.extend(&digits[..nd.min(p)]);
            for _ in nd..p {
                w.push(b'0');
            }
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
    fn int(&mut self, v: u32) {
        let mut b = itoa::Buffer::new();
        let s = b.format(v).as_bytes();
        self.extend(s);
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
