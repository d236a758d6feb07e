//! Error types of the core layer: one enum per domain, each naming the offending value.

use core::fmt;

/// A bounded copy of an offending input, kept inside an error value without allocating.
///
/// Inputs longer than the capacity are cut at a character boundary and end with `...`.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct BoundedStr(heapless::String<64>);

impl BoundedStr {
    /// Copies `s`, cutting it if it does not fit.
    pub fn new(s: &str) -> Self {
        let mut out = heapless::String::new();
        if out.push_str(s).is_err() {
            let mut end = 61;
            while !s.is_char_boundary(end) {
                end -= 1;
            }
            // Both pushes fit: 61 bytes + 3 bytes = 64.
            let _ = out.push_str(&s[..end]);
            let _ = out.push_str("...");
        }
        BoundedStr(out)
    }

    /// The (possibly cut) text.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

impl fmt::Display for BoundedStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for BoundedStr {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(f, "{=str}", self.as_str());
    }
}

impl fmt::Debug for BoundedStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

/// A metric description is invalid: a bad name, label name, unit, bucket list or state list.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum DescError {
    /// The metric name does not match `[a-zA-Z_:][a-zA-Z0-9_:]*`.
    InvalidMetricName(BoundedStr),
    /// The label name does not match `[a-zA-Z_][a-zA-Z0-9_]*`.
    InvalidLabelName(BoundedStr),
    /// The label name is reserved (`__` prefix, `le` on histograms, `quantile` on summaries).
    ReservedLabelName(BoundedStr),
    /// The same label name appears twice.
    DuplicateLabelName(BoundedStr),
    /// The unit is not a valid name part.
    InvalidUnit(BoundedStr),
    /// Info and Enum metrics cannot have a unit.
    UnitNotAllowed(BoundedStr),
    /// The metric name must end with `_<unit>` (core cannot append it without allocating).
    MissingUnitSuffix(BoundedStr),
    /// Histogram buckets are empty, unsorted, repeated or NaN.
    InvalidBuckets(&'static str),
    /// Enum states are empty or repeated.
    InvalidStates(&'static str),
}

impl fmt::Display for DescError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DescError::InvalidMetricName(n) => write!(f, "invalid metric name: {n:?}"),
            DescError::InvalidLabelName(n) => write!(f, "invalid label name: {n:?}"),
            DescError::ReservedLabelName(n) => write!(f, "reserved label name: {n:?}"),
            DescError::DuplicateLabelName(n) => write!(f, "duplicate label name: {n:?}"),
            DescError::InvalidUnit(n) => write!(f, "invalid unit: {n:?}"),
            DescError::UnitNotAllowed(n) => write!(f, "metric {n:?} cannot have a unit"),
            DescError::MissingUnitSuffix(n) => {
                write!(f, "metric name {n:?} must end with the unit suffix")
            }
            DescError::InvalidBuckets(why) => write!(f, "invalid histogram buckets: {why}"),
            DescError::InvalidStates(why) => write!(f, "invalid enum states: {why}"),
        }
    }
}

impl core::error::Error for DescError {}

/// A value update was refused; the metric is unchanged.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ValueError {
    /// Counters only go up: the increment was negative.
    #[cfg(feature = "float")]
    NegativeIncrement(f64),
    /// The increment was NaN.
    #[cfg(feature = "float")]
    NanIncrement,
    /// The Enum has no such state.
    UnknownState,
    /// The operation needs a clock and none is installed.
    #[cfg(feature = "float")]
    NoClock,
}

impl fmt::Display for ValueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            #[cfg(feature = "float")]
            ValueError::NegativeIncrement(v) => {
                write!(f, "counters can only be incremented by non-negative amounts, got {v}")
            }
            #[cfg(feature = "float")]
            ValueError::NanIncrement => f.write_str("counter increment is NaN"),
            ValueError::UnknownState => f.write_str("unknown enum state"),
            #[cfg(feature = "float")]
            ValueError::NoClock => f.write_str("no clock is installed"),
        }
    }
}

impl core::error::Error for ValueError {}

/// A labeled child could not be found or created; existing series are untouched.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum LabelError {
    /// The number of label values differs from the number of label names.
    WrongCount {
        /// Label names of the metric.
        expected: usize,
        /// Values given.
        got: usize,
    },
    /// A label value is longer than the fixed capacity of a slot.
    ValueTooLong {
        /// Position of the value.
        index: usize,
        /// Its length in bytes.
        len: usize,
        /// The capacity in bytes.
        max: usize,
    },
    /// Every child slot is taken.
    TableFull {
        /// Number of slots.
        capacity: usize,
    },
    /// A label name given by name is not one of the metric's label names.
    UnknownName(BoundedStr),
    /// A label name of the metric was not given.
    MissingName(BoundedStr),
    /// A label name was given more than once.
    DuplicateName(BoundedStr),
    /// Positional values and named values were mixed.
    MixedStyles,
}

impl fmt::Display for LabelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LabelError::WrongCount { expected, got } => {
                write!(f, "wrong number of label values: expected {expected}, got {got}")
            }
            LabelError::ValueTooLong { index, len, max } => {
                write!(f, "label value {index} is {len} bytes long, more than the {max} bytes a slot holds")
            }
            LabelError::TableFull { capacity } => {
                write!(f, "all {capacity} child slots are taken")
            }
            LabelError::UnknownName(n) => write!(f, "unknown label name: {n:?}"),
            LabelError::MissingName(n) => write!(f, "missing label name: {n:?}"),
            LabelError::DuplicateName(n) => write!(f, "label name given more than once: {n:?}"),
            LabelError::MixedStyles => f.write_str("label values given both by position and by name"),
        }
    }
}

impl core::error::Error for LabelError {}

/// A collector could not be registered.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum RegistryError {
    /// A name the collector claims is already claimed by a registered collector.
    Duplicate(BoundedStr),
    /// The fixed-capacity registry has no free slot.
    Full {
        /// Number of run-time slots.
        capacity: usize,
    },
    /// The collector is not registered.
    NotRegistered,
    /// More than one registration has the address of the collector to unregister (zero-sized
    /// collectors share addresses); nothing was removed. Unregister by `CollectorId` instead.
    Ambiguous {
        /// Registrations at that address.
        matches: usize,
    },
    /// The collector failed while describing itself.
    Collect(CollectError),
    /// A name given to the registry itself (e.g. a target-info label) is invalid.
    Desc(DescError),
}

impl fmt::Display for RegistryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RegistryError::Duplicate(n) => write!(f, "duplicated timeseries in registry: {n:?}"),
            RegistryError::Full { capacity } => {
                write!(f, "registry is full: all {capacity} slots are taken")
            }
            RegistryError::NotRegistered => f.write_str("collector is not registered"),
            RegistryError::Ambiguous { matches } => write!(
                f,
                "{matches} registered collectors share this collector's address; unregister it by its id"
            ),
            RegistryError::Collect(e) => write!(f, "collector failed to describe itself: {e}"),
            RegistryError::Desc(e) => write!(f, "{e}"),
        }
    }
}

impl core::error::Error for RegistryError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            RegistryError::Collect(e) => Some(e),
            RegistryError::Desc(e) => Some(e),
            _ => None,
        }
    }
}

/// Why a collection stopped early.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum CollectError {
    /// The sink refused more data and keeps the cause: its writer failed, or it was handed an
    /// invalid metric name, sample suffix, unit or label name (an [`Encoder`] refuses those
    /// rather than write lines they could forge). An encoder reports the cause as
    /// [`EncodeError::Write`] or [`EncodeError::Desc`], the one error of an invalid name.
    ///
    /// [`Encoder`]: crate::Encoder
    Sink,
    /// The collector could not gather its values.
    Failed(&'static str),
    /// A sample carries an exemplar where the format allows none (only histogram and
    /// gauge-histogram buckets and counter `_total` samples may).
    MisplacedExemplar,
    /// A collector asked again (to resume a [`PullEncoder`] after its last chunk) reported
    /// something else than the first time: the output would not fit together, so it stops.
    ///
    /// [`PullEncoder`]: crate::PullEncoder
    Changed,
}

impl fmt::Display for CollectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CollectError::Sink => f.write_str("the sink refused more data"),
            CollectError::Failed(why) => write!(f, "collector failed: {why}"),
            CollectError::MisplacedExemplar => {
                f.write_str("exemplars are only allowed on histogram buckets and counter totals")
            }
            CollectError::Changed => {
                f.write_str("the collector's output changed between two chunks of a pull encoding")
            }
        }
    }
}

impl core::error::Error for CollectError {}

/// Encoding failed: the writer failed or a collector failed.
#[non_exhaustive]
#[derive(Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum EncodeError<E> {
    /// The underlying writer returned an error.
    Write(E),
    /// A collector failed; nothing more was written after its last complete line.
    Collect(CollectError),
    /// A collector reported an invalid metric name (with its sample suffix), unit or label name;
    /// nothing more was written after the last complete line before it.
    Desc(DescError),
}

impl<E: fmt::Debug> fmt::Display for EncodeError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EncodeError::Write(e) => write!(f, "write failed: {e:?}"),
            EncodeError::Collect(e) => write!(f, "{e}"),
            EncodeError::Desc(e) => write!(f, "{e}"),
        }
    }
}

/// The writer's error is named in the message (its type need not be an `Error`); a collector's
/// or name error is also the source.
/// Every writer error of an encoder (`embedded_io::Error`) is a `core::error::Error`, so every
/// variant has a source.
impl<E: core::error::Error + 'static> core::error::Error for EncodeError<E> {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            EncodeError::Write(e) => Some(e),
            EncodeError::Collect(e) => Some(e),
            EncodeError::Desc(e) => Some(e),
        }
    }
}
