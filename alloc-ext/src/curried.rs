//! Curried label sets for [`Family`]: `curry` and the [`LabelLookup`] a
//! [`Curried`] view looks children up through (the view is promstack-core's, shared by every
//! family type).

use crate::family::{Family, OwnedChild};
use promstack_core::{Curried, LabelError, LabelLookup, LabelSet, Metric};

impl<M: Metric> LabelLookup for Family<M> {
    type Child<'a>
        = OwnedChild<M>
    where
        Self: 'a;

    const LABELS: Option<usize> = None;

    #[inline]
    fn lookup_values(&self, values: &[&str]) -> Result<OwnedChild<M>, LabelError> {
        self.with_label_values(values)
    }

    fn wrong_count(&self, got: usize) -> LabelError {
        LabelError::WrongCount { expected: self.label_names().len(), got }
    }
}

impl<M: Metric> Family<M> {
    /// This family with its first `K` label values fixed to `prefix` (any [`LabelSet<K>`]):
    /// the view's `get` takes the rest (client_golang's `CurryWith`, by position). Nothing is
    /// looked up until then; counts that do not add up to the family's are
    /// [`LabelError::WrongCount`] there.
    ///
    /// ```
    /// let requests = promstack_alloc::Family::counter("requests", "", &["method", "code"]).unwrap();
    /// let get = requests.curry(["GET"]);
    /// get.get([200u16]).unwrap().inc();
    /// assert_eq!(requests.get(["GET", "200"]).unwrap().get(), 1.0);
    /// assert!(get.get(()).is_err());
    /// ```
    pub fn curry<const K: usize, P: LabelSet<K>>(&self, prefix: P) -> Curried<'_, Self, P, K> {
        Curried::new(self, prefix)
    }
}
