//! Curried label sets (client_golang's `CurryWith`): a labeled family with its first `K` label
//! values fixed, whose `get` takes the remaining ones. A handler that always counts under one
//! `method` curries it once and passes the view around. Every family has `curry`:
//! [`FixedFamily`] here, and promstack-alloc's and the multiprocess `Family` through
//! [`LabelLookup`].
//!
//! The label values are joined on the stack, so a curried set holds at most
//! [`MAX_CURRIED_LABELS`] values, checked when the program is built. For a [`FixedFamily`] the
//! counts are checked then too: `K` above the family's label count, or a `get` whose values do
//! not make up the rest, is a compile error (evaluated when the call is compiled to code, so
//! `cargo check` alone does not report it). Other families learn their label count at run
//! time and answer [`LabelError::WrongCount`].

use crate::described::{Spec, SpecSource};
use crate::error::LabelError;
use crate::family::{Child, FixedFamily};
use crate::labels::{LabelSet, ValueBuf};
use crate::metric::Metric;

/// The most label values a [`Curried`] lookup joins (prefix and rest together).
pub const MAX_CURRIED_LABELS: usize = 16;

/// A labeled family as a [`Curried`] view sees it: a positional lookup by a slice of values.
/// Implemented by every family type of promstack.
pub trait LabelLookup {
    /// The handle a lookup returns.
    type Child<'a>
    where
        Self: 'a;

    /// The number of label names, when the type fixes it (`Some(L)` for a [`FixedFamily`]);
    /// `None` when only the value knows it.
    const LABELS: Option<usize>;

    /// The child for `values`, one per label name, in order ([`LabelError::WrongCount`] when
    /// their number is wrong).
    fn lookup_values(&self, values: &[&str]) -> Result<Self::Child<'_>, LabelError>;

    /// The error for `got` values, where the family has another number of labels.
    fn wrong_count(&self, got: usize) -> LabelError;
}

impl<M: Metric, const L: usize, const N: usize, const V: usize, S: SpecSource<Spec<M::Config, L>>> LabelLookup
    for FixedFamily<M, L, N, V, S>
{
    type Child<'a>
        = Child<'a, M>
    where
        Self: 'a;

    const LABELS: Option<usize> = Some(L);

    #[inline]
    fn lookup_values(&self, values: &[&str]) -> Result<Child<'_, M>, LabelError> {
        self.with_label_values(values)
    }

    fn wrong_count(&self, got: usize) -> LabelError {
        self.reject(LabelError::WrongCount { expected: L, got })
    }
}

/// A labeled family with its first `K` label values given by `P`; made by
/// [`FixedFamily::curry`] (or the `curry` of promstack-alloc's and the multiprocess `Family`).
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
/// On a [`FixedFamily`], values that do not make up the rest of the label set do not compile:
/// ```compile_fail
/// use promstack_core::{CounterValue, FixedFamily};
/// static REQUESTS: FixedFamily<CounterValue, 3, 8> =
///     FixedFamily::counter("requests", "Requests.", ["method", "path", "code"]);
/// REQUESTS.curry(["GET"]).get(["/"]).unwrap().inc();
/// ```
pub struct Curried<'a, F: ?Sized, P, const K: usize> {
    family: &'a F,
    prefix: P,
}

impl<F: ?Sized, P: Clone, const K: usize> Clone for Curried<'_, F, P, K> {
    fn clone(&self) -> Self {
        Curried { family: self.family, prefix: self.prefix.clone() }
    }
}

impl<'a, F: LabelLookup + ?Sized, P: LabelSet<K>, const K: usize> Curried<'a, F, P, K> {
    /// `family` with its first `K` label values fixed to `prefix`. The families' `curry`
    /// methods call this.
    pub fn new(family: &'a F, prefix: P) -> Self {
        const { assert!(K <= MAX_CURRIED_LABELS, "a curried prefix has at most MAX_CURRIED_LABELS values") };
        Curried { family, prefix }
    }

    /// The child for the curried values followed by `rest`, created on first use; the errors of
    /// the family's `get`.
    #[inline]
    pub fn get<const R: usize>(&self, rest: impl LabelSet<R>) -> Result<F::Child<'a>, LabelError> {
        const {
            assert!(K + R <= MAX_CURRIED_LABELS, "a curried label set has at most MAX_CURRIED_LABELS values");
            if let Some(l) = F::LABELS {
                assert!(K + R == l, "the curried prefix and the rest do not make up the label set");
            }
        };
        let mut scratch = [const { ValueBuf::new() }; R];
        self.join(&rest.label_values(&mut scratch))
    }

    /// [`Curried::get`] with the remaining values counted at run time; a wrong number is
    /// [`LabelError::WrongCount`] (counting the whole set).
    pub fn with_label_values(&self, rest: &[&str]) -> Result<F::Child<'a>, LabelError> {
        if K + rest.len() > MAX_CURRIED_LABELS {
            return Err(self.family.wrong_count(K + rest.len()));
        }
        self.join(rest)
    }

    /// The family.
    pub fn family(&self) -> &'a F {
        self.family
    }

    /// Looks up the prefix's values followed by `rest` (at most `MAX_CURRIED_LABELS - K`).
    #[inline]
    fn join(&self, rest: &[&str]) -> Result<F::Child<'a>, LabelError> {
        let mut scratch = [const { ValueBuf::new() }; K];
        let prefix = self.prefix.label_values(&mut scratch);
        let mut all = [""; MAX_CURRIED_LABELS];
        all[..K].copy_from_slice(&prefix);
        all[K..K + rest.len()].copy_from_slice(rest);
        self.family.lookup_values(&all[..K + rest.len()])
    }
}

impl<M: Metric, const L: usize, const N: usize, const V: usize, S: SpecSource<Spec<M::Config, L>>>
    FixedFamily<M, L, N, V, S>
{
    /// This family with its first `K` label values fixed to `prefix` (any [`LabelSet<K>`]);
    /// the view's `get` takes the other `L - K` (see [`Curried`]). Nothing is looked up until
    /// then.
    ///
    /// A prefix longer than the label set does not compile:
    /// ```compile_fail
    /// use promstack_core::{CounterValue, FixedFamily};
    /// static F: FixedFamily<CounterValue, 1, 4> = FixedFamily::counter("f", "", ["a"]);
    /// let _ = F.curry(["x", "y"]);
    /// ```
    pub fn curry<const K: usize, P: LabelSet<K>>(&self, prefix: P) -> Curried<'_, Self, P, K> {
        const { assert!(K <= L, "the curried prefix has more values than the family has labels") };
        Curried::new(self, prefix)
    }
}
