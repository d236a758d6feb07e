//! Why a metric family could not be built.

use alloc::string::String;
use core::fmt;
use promstack_core::DescError;

/// A metric family constructor or `add_metric` call was refused; the family is unchanged.
///
/// ```
/// use promstack_alloc::{CounterMetricFamily, FamilyError};
/// let mut c = CounterMetricFamily::new("jobs", "Jobs.").unwrap().with_labels(&["queue"]).unwrap();
/// let err = c.add_metric(&[], 1.0, None, None).unwrap_err();
/// assert!(matches!(err, FamilyError::WrongLabelCount { expected: 1, got: 0, .. }));
/// assert_eq!(err.to_string(), "family \"jobs\" has 1 label names but 0 label values were given");
/// ```
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FamilyError {
    /// A metric name, label name or unit breaks the naming rules.
    Desc(DescError),
    /// Label names were given to a family that already has samples (Python: "Can only specify at
    /// most one of value and labels").
    LabelsAfterSamples {
        /// The family.
        family: String,
    },
    /// The number of label values differs from the number of label names.
    WrongLabelCount {
        /// The family.
        family: String,
        /// Label names of the family.
        expected: usize,
        /// Values given.
        got: usize,
    },
    /// Histogram buckets are empty, unsorted, NaN, or do not end with `+Inf`.
    InvalidBuckets {
        /// The family.
        family: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// An info pair or a stateset's state label uses a name that is already a label name.
    LabelOverlap {
        /// The family.
        family: String,
        /// The label name given twice.
        label: String,
    },
    /// A stateset was given the same state twice.
    DuplicateState {
        /// The family.
        family: String,
        /// The state.
        state: String,
    },
}

impl fmt::Display for FamilyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FamilyError::Desc(e) => fmt::Display::fmt(e, f),
            FamilyError::LabelsAfterSamples { family } => {
                write!(f, "family {family:?} already has samples: give label names before any value")
            }
            FamilyError::WrongLabelCount { family, expected, got } => {
                write!(f, "family {family:?} has {expected} label names but {got} label values were given")
            }
            FamilyError::InvalidBuckets { family, reason } => {
                write!(f, "invalid buckets for family {family:?}: {reason}")
            }
            FamilyError::LabelOverlap { family, label } => {
                write!(f, "label {label:?} of family {family:?} is given twice")
            }
            FamilyError::DuplicateState { family, state } => {
                write!(f, "state {state:?} of family {family:?} is given twice")
            }
        }
    }
}

impl core::error::Error for FamilyError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            FamilyError::Desc(e) => Some(e),
            _ => None,
        }
    }
}

impl From<DescError> for FamilyError {
    fn from(e: DescError) -> Self {
        FamilyError::Desc(e)
    }
}
