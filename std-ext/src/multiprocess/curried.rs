//! Curried label sets for the multiprocess [`Family`]: `curry` and the [`LabelLookup`] a
//! [`Curried`] view looks children up through (the view is promstack-core's, shared by every
//! family type).

use super::family::{Family, Member};
use promstack_core::{Curried, LabelError, LabelLookup, LabelSet};

impl<M: Member> LabelLookup for Family<M> {
    type Child<'a>
        = M
    where
        Self: 'a;

    const LABELS: Option<usize> = None;

    #[inline]
    fn lookup_values(&self, values: &[&str]) -> Result<M, LabelError> {
        self.with_label_values(values)
    }

    fn wrong_count(&self, got: usize) -> LabelError {
        LabelError::WrongCount { expected: self.label_names().len(), got }
    }
}

impl<M: Member> Family<M> {
    /// This family with its first `K` label values fixed to `prefix` (any [`LabelSet<K>`]):
    /// the view's `get` takes the rest (client_golang's `CurryWith`, by position). Counts that
    /// do not add up to the family's are [`LabelError::WrongCount`] there.
    ///
    /// ```
    /// use promstack::multiprocess::{Opts, Store};
    /// let hits = Store::memory().counter_family(Opts::new("hits", "Hits."), &["cache", "shard"]).unwrap();
    /// let l1 = hits.curry(["l1"]);
    /// l1.get([3u8]).unwrap().inc();
    /// assert_eq!(hits.get(["l1", "3"]).unwrap().get(), 1.0);
    /// ```
    pub fn curry<const K: usize, P: LabelSet<K>>(&self, prefix: P) -> Curried<'_, Self, P, K> {
        Curried::new(self, prefix)
    }
}
