//! Typed label sets: what a labeled family's `get` takes.
//!
//! A [`LabelSet<N>`] is `N` label values in label-name order: an array `[&str; N]`, a tuple of
//! up to 8 [`LabelValue`]s, or a struct with `#[derive(LabelSet)]` (feature `derive`), which
//! also knows its label names ([`LabelNames`]). A [`LabelValue`] is one value: a string, a
//! `bool`, a `char`, any integer, or an enum with `#[derive(LabelValue)]`. Values that are not
//! already text are written into a [`ValueBuf`] on the caller's stack, so a lookup allocates
//! nothing whatever the value types.
//!
//! Because `N` is part of the type, a [`FixedFamily`](crate::FixedFamily) with `L` labels
//! accepts only a `LabelSet<L>`: a wrong number of values does not compile. Label counts known
//! only at run time go through `with_label_values(&[&str])` (positional) or `get_by_name`.
//!
//! ```
//! use promstack_core::{encode_text, CounterValue, FixedFamily};
//! static REQUESTS: FixedFamily<CounterValue, 3, 8> =
//!     FixedFamily::counter("requests", "Requests.", ["method", "code", "cached"]);
//! REQUESTS.get(("GET", 200u16, true)).unwrap().inc();
//! REQUESTS.get(["GET", "200", "true"]).unwrap().inc(); // the same child
//! let out = String::from_utf8(encode_text(Vec::new(), &REQUESTS).unwrap()).unwrap();
//! assert!(out.ends_with("requests_total{cached=\"true\",code=\"200\",method=\"GET\"} 2.0\n"), "{out}");
//! ```

use core::fmt;

/// Room for one label value that is not already text: any integer (`i128::MIN` takes 40
/// bytes), a `char`, or what a [`LabelValue`] implementation writes with [`fmt::Write`].
///
/// ```
/// use core::fmt::Write;
/// use promstack_core::{LabelValue, ValueBuf};
/// /// A firmware version, written as `major.minor` without allocating.
/// struct Version(u8, u8);
/// impl LabelValue for Version {
///     fn label_value<'a>(&'a self, scratch: &'a mut ValueBuf) -> &'a str {
///         // 7 bytes at most: always fits.
///         let _ = write!(scratch, "{}.{}", self.0, self.1);
///         scratch.as_str()
///     }
/// }
/// let mut scratch = ValueBuf::new();
/// assert_eq!(Version(1, 12).label_value(&mut scratch), "1.12");
/// ```
#[derive(Clone, Default)]
pub struct ValueBuf(heapless::String<{ ValueBuf::CAPACITY }>);

impl ValueBuf {
    /// Bytes a value written here may take.
    pub const CAPACITY: usize = 40;

    /// An empty buffer.
    #[inline]
    pub const fn new() -> Self {
        ValueBuf(heapless::String::new())
    }

    /// What was written since the last [`ValueBuf::clear`].
    #[inline]
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// Empties the buffer.
    #[inline]
    pub fn clear(&mut self) {
        self.0.clear();
    }

    /// `s` as the buffer's only content.
    #[inline]
    fn set(&mut self, s: &str) -> &str {
        self.0.clear();
        // Callers write at most CAPACITY bytes.
        let _ = self.0.push_str(s);
        self.0.as_str()
    }
}

/// Appends; [`fmt::Error`] when the text does not fit in [`ValueBuf::CAPACITY`] bytes (what
/// fitted stays).
impl fmt::Write for ValueBuf {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0.push_str(s).map_err(|_| fmt::Error)
    }
}

impl fmt::Debug for ValueBuf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

/// One label value. Text is used as it is; other values are written into `scratch`, which
/// the caller keeps on its stack, so no value allocates.
///
/// Implemented for `str` (and through references, `&str` and `&'static str`), `bool`
/// (`true`/`false`), `char`, every integer type (decimal), `String`, `Box<str>` and
/// `Cow<str>` (feature `alloc`), and enums with `#[derive(LabelValue)]` (feature `derive`).
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a label value",
    note = "label values are strings, `bool`, `char`, integers or `#[derive(LabelValue)]` enums; implement `LabelValue` to write others into the `ValueBuf`"
)]
pub trait LabelValue {
    /// The value as text, borrowed from `self` or written into `scratch`.
    fn label_value<'a>(&'a self, scratch: &'a mut ValueBuf) -> &'a str;
}

impl LabelValue for str {
    #[inline]
    fn label_value<'a>(&'a self, _: &'a mut ValueBuf) -> &'a str {
        self
    }
}

impl<T: LabelValue + ?Sized> LabelValue for &T {
    #[inline]
    fn label_value<'a>(&'a self, scratch: &'a mut ValueBuf) -> &'a str {
        (**self).label_value(scratch)
    }
}

impl LabelValue for bool {
    #[inline]
    fn label_value<'a>(&'a self, _: &'a mut ValueBuf) -> &'a str {
        if *self {
            "true"
        } else {
            "false"
        }
    }
}

impl LabelValue for char {
    #[inline]
    fn label_value<'a>(&'a self, scratch: &'a mut ValueBuf) -> &'a str {
        scratch.set(self.encode_utf8(&mut [0; 4]))
    }
}

// `small`: the crate's own decimal writer (no 64-bit division, no itoa tables), pushed as chars
// so no UTF-8 check is linked; otherwise itoa. 128-bit integers always use itoa.
macro_rules! integer_label_value {
    ($($t:ty => $wide:ty, $dec:ident;)*) => {$(
        impl LabelValue for $t {
            #[inline]
            fn label_value<'a>(&'a self, scratch: &'a mut ValueBuf) -> &'a str {
                #[cfg(feature = "small")]
                {
                    let mut digits = [0u8; crate::encoding::decimal::DEC_BUF];
                    scratch.0.clear();
                    for &c in crate::encoding::decimal::$dec(<$wide>::from(*self), &mut digits) {
                        // At most 21 of 40 bytes.
                        let _ = scratch.0.push(char::from(c));
                    }
                    scratch.as_str()
                }
                #[cfg(not(feature = "small"))]
                {
                    scratch.set(itoa::Buffer::new().format(*self))
                }
            }
        }
    )*};
}
integer_label_value! {
    u8 => u64, unsigned;
    u16 => u64, unsigned;
    u32 => u64, unsigned;
    u64 => u64, unsigned;
    i8 => i64, signed;
    i16 => i64, signed;
    i32 => i64, signed;
    i64 => i64, signed;
}

macro_rules! itoa_label_value {
    ($($t:ty)*) => {$(
        impl LabelValue for $t {
            #[inline]
            fn label_value<'a>(&'a self, scratch: &'a mut ValueBuf) -> &'a str {
                scratch.set(itoa::Buffer::new().format(*self))
            }
        }
    )*};
}
itoa_label_value!(u128 i128 usize isize);

#[cfg(feature = "alloc")]
mod alloc_impls {
    use super::{LabelValue, ValueBuf};
    use alloc::borrow::Cow;
    use alloc::boxed::Box;
    use alloc::string::String;

    impl LabelValue for String {
        #[inline]
        fn label_value<'a>(&'a self, _: &'a mut ValueBuf) -> &'a str {
            self
        }
    }

    impl LabelValue for Box<str> {
        #[inline]
        fn label_value<'a>(&'a self, _: &'a mut ValueBuf) -> &'a str {
            self
        }
    }

    impl LabelValue for Cow<'_, str> {
        #[inline]
        fn label_value<'a>(&'a self, _: &'a mut ValueBuf) -> &'a str {
            self
        }
    }
}

/// `N` label values in label-name order: what a labeled family's `get` takes. A family with
/// `L` label names takes a `LabelSet<L>`, so a [`FixedFamily`](crate::FixedFamily) given the
/// wrong number of values does not compile:
///
/// ```compile_fail
/// use promstack_core::{CounterValue, FixedFamily};
/// static F: FixedFamily<CounterValue, 2, 4> = FixedFamily::counter("f", "", ["a", "b"]);
/// F.get(["only one"]); // error: `[&str; 1]: LabelSet<2>` is not satisfied
/// ```
///
/// Implemented for arrays `[T; N]` of [`LabelValue`]s, `()` and tuples of 1 to 8 `LabelValue`s, references
/// to label sets, and structs with `#[derive(LabelSet)]` (feature `derive`).
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a set of {N} label values",
    label = "expected {N} label values",
    note = "a family with {N} labels takes `[&str; {N}]`, a tuple of {N} values or a `#[derive(LabelSet)]` struct with {N} fields; a slice of values counted at run time goes to `with_label_values`"
)]
pub trait LabelSet<const N: usize> {
    /// The values as text, each borrowed from `self` or written into its own `scratch` buffer.
    fn label_values<'a>(&'a self, scratch: &'a mut [ValueBuf; N]) -> [&'a str; N];
}

/// A label set that also knows its label names, so a family can be declared from the type:
/// `#[derive(LabelSet)]` implements it, the names being the field names (or their
/// `#[label(rename = "...")]`).
pub trait LabelNames<const N: usize>: LabelSet<N> {
    /// The label names, in the order [`LabelSet::label_values`] gives the values.
    const NAMES: [&'static str; N];
}

impl<T: LabelValue, const N: usize> LabelSet<N> for [T; N] {
    #[inline]
    fn label_values<'a>(&'a self, scratch: &'a mut [ValueBuf; N]) -> [&'a str; N] {
        let mut out = [""; N];
        for ((out, v), scratch) in out.iter_mut().zip(self).zip(scratch) {
            *out = v.label_value(scratch);
        }
        out
    }
}

impl<S: LabelSet<N> + ?Sized, const N: usize> LabelSet<N> for &S {
    #[inline]
    fn label_values<'a>(&'a self, scratch: &'a mut [ValueBuf; N]) -> [&'a str; N] {
        (**self).label_values(scratch)
    }
}

/// No labels: the one child of a family without label names.
impl LabelSet<0> for () {
    #[inline]
    fn label_values<'a>(&'a self, _: &'a mut [ValueBuf; 0]) -> [&'a str; 0] {
        []
    }
}

macro_rules! tuple_label_set {
    ($n:literal: $($t:ident $i:tt $s:ident),+) => {
        impl<$($t: LabelValue),+> LabelSet<$n> for ($($t,)+) {
            #[inline]
            fn label_values<'a>(&'a self, scratch: &'a mut [ValueBuf; $n]) -> [&'a str; $n] {
                let [$($s),+] = scratch;
                [$(self.$i.label_value($s)),+]
            }
        }
    };
}
tuple_label_set!(1: A 0 a);
tuple_label_set!(2: A 0 a, B 1 b);
tuple_label_set!(3: A 0 a, B 1 b, C 2 c);
tuple_label_set!(4: A 0 a, B 1 b, C 2 c, D 3 d);
tuple_label_set!(5: A 0 a, B 1 b, C 2 c, D 3 d, E 4 e);
tuple_label_set!(6: A 0 a, B 1 b, C 2 c, D 3 d, E 4 e, F 5 f);
tuple_label_set!(7: A 0 a, B 1 b, C 2 c, D 3 d, E 4 e, F 5 f, G 6 g);
tuple_label_set!(8: A 0 a, B 1 b, C 2 c, D 3 d, E 4 e, F 5 f, G 6 g, H 7 h);

/// The values of `labels` as text, with scratch space for the ones that are not.
///
/// ```
/// use promstack_core::{label_values, ValueBuf};
/// let mut scratch = [const { ValueBuf::new() }; 3];
/// assert_eq!(label_values(&("a", -7i8, 'é'), &mut scratch), ["a", "-7", "é"]);
/// ```
#[inline]
pub fn label_values<'a, const N: usize>(
    labels: &'a impl LabelSet<N>,
    scratch: &'a mut [ValueBuf; N],
) -> [&'a str; N] {
    labels.label_values(scratch)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text<const N: usize>(labels: impl LabelSet<N>) -> [String; N] {
        let mut scratch = [const { ValueBuf::new() }; N];
        labels.label_values(&mut scratch).map(String::from)
    }

    #[test]
    fn integers_are_decimal_at_every_width() {
        assert_eq!(text([u8::MAX]), ["255"]);
        assert_eq!(
            text((i8::MIN, i16::MIN, i32::MIN, i64::MIN)),
            ["-128", "-32768", "-2147483648", "-9223372036854775808"]
        );
        assert_eq!(
            text((u16::MAX, u32::MAX, u64::MAX, 0usize)),
            ["65535", "4294967295", "18446744073709551615", "0"]
        );
        assert_eq!(text([i128::MIN]), ["-170141183460469231731687303715884105728"]);
        assert_eq!(text([u128::MAX]), ["340282366920938463463374607431768211455"]);
        assert_eq!(text([isize::MIN]), [isize::MIN.to_string()]);
    }

    #[test]
    // The references are what is tested.
    #[allow(clippy::needless_borrows_for_generic_args)]
    fn text_bools_and_chars() {
        assert_eq!(text(("a", true, false, '€')), ["a", "true", "false", "€"]);
        assert_eq!(text(&["x", "y"]), ["x", "y"]);
        assert_eq!(text(&&[1u8, 2]), ["1", "2"]);
    }

    #[cfg(feature = "alloc")]
    #[test]
    fn owned_strings() {
        let owned = String::from("owned");
        assert_eq!(
            text((&owned, owned.clone(), std::borrow::Cow::Borrowed("cow"), Box::<str>::from("b"))),
            ["owned", "owned", "cow", "b"]
        );
    }

    #[test]
    fn a_value_buf_refuses_what_does_not_fit() {
        use core::fmt::Write;
        let mut b = ValueBuf::new();
        assert!(b.write_str(&"x".repeat(ValueBuf::CAPACITY)).is_ok());
        assert!(b.write_str("y").is_err());
        assert_eq!(b.as_str().len(), ValueBuf::CAPACITY);
        b.clear();
        assert_eq!(format!("{b:?}"), "\"\"");
    }
}
