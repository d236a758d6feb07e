//! Curried label sets (client_golang's `CurryWith`): a [`FixedFamily`] with its first `K` label
//! values fixed, whose `get` takes the remaining ones. A handler that always counts under one
//! `method` curries it once and passes the view around.
//!
//! The counts are checked when the program is built: `K` above the family's label count, or a
//! `get` whose values do not make up the rest, is a compile error (the check is evaluated when
//! the call is compiled to code, so `cargo check` alone does not report it).

use crate::described::{Spec, SpecSource};
use crate::error::LabelError;
use crate::family::{Child, FixedFamily};
use crate::labels::{LabelSet, ValueBuf};
use crate::metric::Metric;

/// A [`FixedFamily`] with its first `K` label values given by `P`; made by
/// [`FixedFamily::curry`].
///
/// ```
/// use promstack_core::{encode_text, CounterValue, FixedFamily};
/// static REQUESTS: FixedFamily<CounterValue, 3, 8> =
///     FixedFamily::counter("requests", "Requests.", ["method", "path", "code"]);
/// let get = REQUESTS.curry(["GET"]);
/// get.get(("/", 200u16)).unwrap().inc();
/// get.get(("/", 200u16)).unwrap().inc();
/// assert_eq!(REQUESTS.get(["GET", "/", "200"]).unwrap().get(), 2.0);
/// assert_eq!(get.with_label_values(&["/", "200"]).unwrap().get(), 2.0);
/// ```
///
/// Values that do not make up the rest of the label set do not compile:
/// ```compile_fail
/// use promstack_core::{CounterValue, FixedFamily};
/// static REQUESTS: FixedFamily<CounterValue, 3, 8> =
///     FixedFamily::counter("requests", "Requests.", ["method", "path", "code"]);
/// REQUESTS.curry(["GET"]).get(["/"]).unwrap().inc();
/// ```
pub struct Curried<'a, F, P, const K: usize> {
    family: &'a F,
    prefix: P,
}

impl<F, P: Clone, const K: usize> Clone for Curried<'_, F, P, K> {
    fn clone(&self) -> Self {
        Curried { family: self.family, prefix: self.prefix.clone() }
    }
}

impl<M: Metric, const L: usize, const N: usize, const V: usize, S: SpecSource<Spec<M::Config, L>>>
    FixedFamily<M, L, N, V, S>
{
    /// This family with its first `K` label values fixed to `prefix` (any [`LabelSet<K>`]);
    /// the view's `get` takes the other `L - K`. Nothing is looked up until then.
    ///
    /// A prefix longer than the label set does not compile:
    /// ```compile_fail
    /// use promstack_core::{CounterValue, FixedFamily};
    /// static F: FixedFamily<CounterValue, 1, 4> = FixedFamily::counter("f", "", ["a"]);
    /// let _ = F.curry(["x", "y"]);
    /// ```
    pub fn curry<const K: usize, P: LabelSet<K>>(&self, prefix: P) -> Curried<'_, Self, P, K> {
        const { assert!(K <= L, "the curried prefix has more values than the family has labels") };
        Curried { family: self, prefix }
    }
}

impl<'a, M: Metric, const L: usize, const N: usize, const V: usize, S, P, const K: usize>
    Curried<'a, FixedFamily<M, L, N, V, S>, P, K>
where
    S: SpecSource<Spec<M::Config, L>>,
    P: LabelSet<K>,
{
    /// The child for the curried values followed by `rest` (its `L - K` values), created on
    /// first use; the errors of [`FixedFamily::get`].
    #[inline]
    pub fn get<const R: usize>(&self, rest: impl LabelSet<R>) -> Result<Child<'a, M>, LabelError> {
        self.family.get(Concat::<_, _, K, R>(&self.prefix, rest))
    }

    /// [`Curried::get`] with the remaining values counted at run time: a number other than
    /// `L - K` is [`LabelError::WrongCount`] (counting the whole set).
    pub fn with_label_values(&self, rest: &[&str]) -> Result<Child<'a, M>, LabelError> {
        if rest.len() != L - K {
            return Err(self.family.reject(LabelError::WrongCount { expected: L, got: K + rest.len() }));
        }
        let mut scratch = [const { ValueBuf::new() }; K];
        let prefix = self.prefix.label_values(&mut scratch);
        let mut all = [""; L];
        all[..K].copy_from_slice(&prefix);
        all[K..].copy_from_slice(rest);
        self.family.get(all)
    }

    /// The family.
    pub fn family(&self) -> &'a FixedFamily<M, L, N, V, S> {
        self.family
    }
}

/// `P`'s `K` values followed by `Q`'s `R`: a `LabelSet<L>` when `K + R == L` (checked where it
/// is compiled to code).
struct Concat<P, Q, const K: usize, const R: usize>(P, Q);

impl<P: LabelSet<K>, Q: LabelSet<R>, const K: usize, const R: usize, const L: usize> LabelSet<L>
    for Concat<P, Q, K, R>
{
    #[inline]
    fn label_values<'a>(&'a self, scratch: &'a mut [ValueBuf; L]) -> [&'a str; L] {
        const { assert!(K + R == L, "the curried prefix and the rest do not make up the label set") };
        let mut out = [""; L];
        // Both splits succeed: K + R == L.
        if let Some((a, rest)) = scratch.split_first_chunk_mut::<K>() {
            if let Some(b) = rest.first_chunk_mut::<R>() {
                out[..K].copy_from_slice(&self.0.label_values(a));
                out[K..].copy_from_slice(&self.1.label_values(b));
            }
        }
        out
    }
}
