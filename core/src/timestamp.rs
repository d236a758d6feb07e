//! The time a sample or exemplar was taken, kept exactly as given.
//!
//! Parsed expositions carry timestamps such as `1600000000.123456789` (OpenMetrics, nanoseconds)
//! or `1395066363001` (text 0.0.4, milliseconds). An `f64` of seconds cannot hold those: two
//! samples a nanosecond apart would become one, and `.1234567891` would come back changed. A
//! [`Timestamp`] keeps whole nanoseconds exactly, and still takes an `f64` where that is all a
//! collector has.

#[cfg(feature = "float")]
use crate::encoding::shortest;
use core::cmp::Ordering;
use core::fmt;

/// Unix time of a sample or exemplar, in seconds: exact nanoseconds, or an `f64`.
///
/// The parsers give nanoseconds ([`Timestamp::from_nanos`], [`Timestamp::from_millis`]); an `f64`
/// converts with `From` and is written as it always was. OpenMetrics writes the seconds
/// ([`Timestamp::write_seconds`]: nanoseconds exactly, `f64`s as the shortest text that reads
/// back); text 0.0.4 writes [`Timestamp::as_millis`]. Timestamps compare by value: exactly when
/// both are nanoseconds, otherwise as `f64` seconds.
///
/// ```
/// use promstack_core::Timestamp;
/// let a = Timestamp::from_nanos(1_600_000_000_123_456_789);
/// let b = Timestamp::from_nanos(1_600_000_000_123_456_790);
/// assert!(a < b); // 1 ns apart, which an f64 of seconds cannot tell apart
/// let mut buf = [0u8; Timestamp::BUF];
/// assert_eq!(a.write_seconds(&mut buf), "1600000000.123456789");
/// assert_eq!(a.as_millis(), 1_600_000_000_123);
/// assert_eq!(Timestamp::from(1.5), Timestamp::from_millis(1500));
/// assert_eq!(Timestamp::from(-0.25).write_seconds(&mut buf), "-0.25");
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Timestamp(Repr);

#[derive(Debug, Clone, Copy)]
enum Repr {
    Nanos(i128),
    #[cfg(feature = "float")]
    Secs(f64),
}

impl Timestamp {
    /// Bytes [`Timestamp::write_seconds`] needs: a sign, 30 integer digits (`i128` nanoseconds
    /// hold fewer), a point and 9 fraction digits; ryu's longest `f64` is 24.
    pub const BUF: usize = 48;

    /// Nanoseconds since the epoch, exactly.
    pub const fn from_nanos(nanos: i128) -> Self {
        Timestamp(Repr::Nanos(nanos))
    }

    /// Milliseconds since the epoch (text 0.0.4's unit), exactly.
    pub const fn from_millis(millis: i64) -> Self {
        Timestamp(Repr::Nanos(millis as i128 * 1_000_000))
    }

    /// Seconds since the epoch as an `f64` (what `From<f64>` does).
    #[cfg(feature = "float")]
    pub const fn from_secs_f64(secs: f64) -> Self {
        Timestamp(Repr::Secs(secs))
    }

    /// The exact nanoseconds, when the timestamp was given as such (`None` for an `f64`).
    pub const fn nanos(self) -> Option<i128> {
        match self.0 {
            Repr::Nanos(n) => Some(n),
            #[cfg(feature = "float")]
            Repr::Secs(_) => None,
        }
    }

    /// Seconds as the `f64` nearest to the exact value.
    #[cfg(feature = "float")]
    pub fn as_secs_f64(self) -> f64 {
        match self.0 {
            Repr::Secs(s) => s,
            Repr::Nanos(_) => {
                // Dividing two rounded floats could round twice; parsing the decimal rounds once.
                let mut buf = [0u8; Self::BUF];
                self.write_seconds(&mut buf).parse().unwrap_or(f64::NAN)
            }
        }
    }

    /// Milliseconds, truncated toward zero and saturated to `i64` (text 0.0.4; Python writes
    /// `int(float(ts) * 1000)`).
    pub fn as_millis(self) -> i64 {
        match self.0 {
            #[cfg(not(feature = "small"))]
            Repr::Nanos(n) => {
                let ms = n / 1_000_000;
                ms.clamp(i64::MIN as i128, i64::MAX as i128) as i64
            }
            #[cfg(feature = "small")]
            Repr::Nanos(n) => millis_small(n),
            // `as` saturates, and maps NaN to 0.
            #[cfg(feature = "float")]
            Repr::Secs(s) => (s * 1000.0) as i64,
        }
    }

    /// Writes the seconds as OpenMetrics does: nanoseconds exactly (`123`, `-0.5`,
    /// `1.000000001`); an `f64` as an integer when it is a whole number below 2^53, otherwise as
    /// the shortest text that reads back.
    pub fn write_seconds(self, buf: &mut [u8; Self::BUF]) -> &str {
        let mut len = 0;
        let mut put = |s: &[u8]| {
            buf[len..len + s.len()].copy_from_slice(s);
            len += s.len();
        };
        match self.0 {
            Repr::Nanos(n) => {
                if n < 0 {
                    put(b"-");
                }
                let abs = n.unsigned_abs();
                let mut itoa = itoa::Buffer::new();
                put(itoa.format(abs / 1_000_000_000).as_bytes());
                let mut frac = (abs % 1_000_000_000) as u32;
                if frac != 0 {
                    let mut digits = [b'0'; 9];
                    for d in digits.iter_mut().rev() {
                        *d = b'0' + (frac % 10) as u8;
                        frac /= 10;
                    }
                    let kept = digits.iter().rposition(|d| *d != b'0').map_or(0, |i| i + 1);
                    put(b".");
                    put(&digits[..kept]);
                }
            }
            #[cfg(feature = "float")]
            Repr::Secs(s) => {
                // Whole seconds below 2^53 are exact as i64 (no `f64::fract` in core).
                const EXACT: f64 = 9_007_199_254_740_992.0;
                if s > -EXACT && s < EXACT && s == (s as i64) as f64 {
                    put(itoa::Buffer::new().format(s as i64).as_bytes());
                } else {
                    put(shortest(s, &mut ryu::Buffer::new()).as_bytes());
                }
            }
        }
        // Only ASCII was written.
        core::str::from_utf8(&buf[..len]).unwrap_or("")
    }
}

/// `n / 10^6` saturated to `i64`, by long division over the bytes of `|n|` (each step divides
/// a number below `2^28` with 32-bit division): `small` links no 128-bit division, which is
/// 700 bytes inline on a 32-bit core.
#[cfg(feature = "small")]
fn millis_small(n: i128) -> i64 {
    let (mut q, mut rem, mut over) = (0u64, 0u32, false);
    for byte in n.unsigned_abs().to_be_bytes() {
        let cur = rem << 8 | u32::from(byte);
        rem = cur % 1_000_000;
        over |= q >> 56 != 0;
        q = q << 8 | u64::from(cur / 1_000_000);
    }
    // The quotient's magnitude is `q` unless `over`; `i64::MIN` is one further than `i64::MAX`.
    let max = i64::MAX as u64 + u64::from(n < 0);
    let q = if over || q > max { max } else { q };
    if n < 0 {
        (q as i64).wrapping_neg()
    } else {
        q as i64
    }
}

#[cfg(feature = "float")]
impl From<f64> for Timestamp {
    fn from(secs: f64) -> Self {
        Timestamp::from_secs_f64(secs)
    }
}

impl PartialEq for Timestamp {
    fn eq(&self, other: &Self) -> bool {
        self.partial_cmp(other) == Some(Ordering::Equal)
    }
}

impl PartialOrd for Timestamp {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        match (self.0, other.0) {
            (Repr::Nanos(a), Repr::Nanos(b)) => Some(a.cmp(&b)),
            #[cfg(feature = "float")]
            _ => self.as_secs_f64().partial_cmp(&other.as_secs_f64()),
        }
    }
}

/// The OpenMetrics form ([`Timestamp::write_seconds`]).
impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.write_seconds(&mut [0u8; Self::BUF]))
    }
}

#[cfg(all(test, feature = "float", feature = "openmetrics"))]
mod tests {
    use super::*;

    fn secs(t: Timestamp) -> heapless::String<48> {
        let mut buf = [0u8; Timestamp::BUF];
        heapless::String::try_from(t.write_seconds(&mut buf)).unwrap()
    }

    #[test]
    fn nanoseconds_are_written_exactly() {
        for (n, s) in [
            (0, "0"),
            (1, "0.000000001"),
            (-1, "-0.000000001"),
            (-500_000_000, "-0.5"),
            (1_500_000_000, "1.5"),
            (123_000_000_000, "123"),
            (1_600_000_000_123_456_789, "1600000000.123456789"),
            (i128::MAX, "170141183460469231731687303715.884105727"),
            (i128::MIN, "-170141183460469231731687303715.884105728"),
        ] {
            assert_eq!(secs(Timestamp::from_nanos(n)), s, "{n}");
        }
        assert!(secs(Timestamp::from_nanos(i128::MIN)).len() <= Timestamp::BUF);
    }

    #[test]
    fn floats_are_written_as_before() {
        for (f, s) in [
            (123.0, "123"),
            (-1.0, "-1"),
            (1.5, "1.5"),
            (1600000000.25, "1600000000.25"),
            (1e300, "1e300"),
            (f64::NAN, "NaN"),
            (-1.7976931348623157e308, "-1.7976931348623157e308"),
        ] {
            assert_eq!(secs(Timestamp::from(f)), s, "{f}");
        }
    }

    #[cfg(feature = "small")]
    #[test]
    fn small_millis_agree_with_division() {
        let mut x: u64 = 0x2545_F491_4F6C_DD1D;
        let mut cases = heapless::Vec::<i128, 16>::new();
        let edge = [0, 1, -1, 999_999, -999_999, 1_000_000, -1_000_000, i128::MAX, i128::MIN];
        let _ = cases.extend_from_slice(&edge);
        let _ = cases.extend_from_slice(&[i64::MAX as i128 * 1_000_000, i64::MIN as i128 * 1_000_000]);
        let _ = cases
            .extend_from_slice(&[i64::MAX as i128 * 1_000_000 + 999_999, i64::MIN as i128 * 1_000_000 - 1]);
        let _ = cases.extend_from_slice(&[i64::MAX as i128 * 1_000_000 + 1_000_000]);
        for i in 0..200_000u32 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let n = match i % 3 {
                0 => (i128::from(x) << 64 | i128::from(x.rotate_left(17))) >> (x % 128),
                1 => i128::from(x as i64),
                _ => cases[i as usize % cases.len()],
            };
            let want = (n / 1_000_000).clamp(i64::MIN as i128, i64::MAX as i128) as i64;
            assert_eq!(millis_small(n), want, "{n}");
        }
    }

    #[test]
    fn millis_truncate_toward_zero() {
        assert_eq!(Timestamp::from_nanos(-1_500_000).as_millis(), -1);
        assert_eq!(Timestamp::from_nanos(1_999_999).as_millis(), 1);
        assert_eq!(Timestamp::from_nanos(i128::MAX).as_millis(), i64::MAX);
        assert_eq!(Timestamp::from_millis(-7).as_millis(), -7);
        assert_eq!(Timestamp::from(1.0015).as_millis(), 1001);
        assert_eq!(Timestamp::from(f64::NAN).as_millis(), 0);
    }

    #[test]
    fn compare_by_value() {
        assert_eq!(Timestamp::from_nanos(100_000_000), Timestamp::from(0.1));
        assert!(Timestamp::from_nanos(1) > Timestamp::from_nanos(0));
        assert!(Timestamp::from_nanos(-1) < Timestamp::from(0.0));
        assert_ne!(Timestamp::from(f64::NAN), Timestamp::from(f64::NAN));
        assert_eq!(Timestamp::from_nanos(1_600_000_000_123_456_789).as_secs_f64(), 1600000000.1234567);
    }
}
