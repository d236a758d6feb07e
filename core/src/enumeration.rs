//! Enum metrics: one of a fixed set of states, exposed as an OpenMetrics stateset.

use crate::collector::Sink;
use crate::desc::{assert_states, check_states, Desc, MetricType};
use crate::described::{Described, Spec, SpecSource};
use crate::error::{CollectError, DescError, ValueError};
use crate::metric::Metric;
use crate::sample::{Labels, Sample, Value};
use core::slice;
// Load and store only: native on every target (no read-modify-write needed).
use core::sync::atomic::{AtomicUsize, Ordering};

/// The value of an Enum: the index of the current state (the first state initially).
pub struct EnumValue {
    current: AtomicUsize,
}

impl EnumValue {
    /// At the first state.
    pub const fn new() -> Self {
        EnumValue { current: AtomicUsize::new(0) }
    }

    /// Switches to `state`; an unknown state is refused and changes nothing.
    pub fn set(&self, states: &[&str], state: &str) -> Result<(), ValueError> {
        let i = states.iter().position(|s| *s == state).ok_or(ValueError::UnknownState)?;
        self.current.store(i, Ordering::Relaxed);
        Ok(())
    }

    /// Switches to the state at `index`; out of range is refused.
    pub fn set_index(&self, states: &[&str], index: usize) -> Result<(), ValueError> {
        if index >= states.len() {
            return Err(ValueError::UnknownState);
        }
        self.current.store(index, Ordering::Relaxed);
        Ok(())
    }

    /// Index of the current state.
    pub fn index(&self) -> usize {
        self.current.load(Ordering::Relaxed)
    }
}

impl Default for EnumValue {
    fn default() -> Self {
        Self::new()
    }
}

impl Metric for EnumValue {
    const METRIC_TYPE: MetricType = MetricType::StateSet;
    const INIT: Self = EnumValue::new();
    type Config = &'static [&'static str];

    fn check_config(
        states: &&'static [&'static str],
        name: &str,
        label_names: &[&str],
    ) -> Result<(), DescError> {
        check_states(states)?;
        // The state label is named after the metric, so no other label may take that name.
        match label_names.iter().find(|n| **n == name) {
            Some(n) => Err(DescError::ReservedLabelName(crate::BoundedStr::new(n))),
            None => Ok(()),
        }
    }

    fn reset(&self) {
        self.current.store(0, Ordering::Relaxed);
    }

    fn report(
        &self,
        states: &&'static [&'static str],
        desc: &Desc<'_>,
        labels: Labels<'_>,
        sink: &mut dyn Sink,
    ) -> Result<(), CollectError> {
        let current = self.index();
        for (i, state) in states.iter().enumerate() {
            // The state label is named after the metric itself.
            let labels = labels.with_extra(slice::from_ref(&desc.name), slice::from_ref(state));
            let v = Value::Int(u64::from(i == current));
            sink.sample(desc, &Sample::new("", labels, v))?;
        }
        Ok(())
    }
}

/// An Enum: which of a fixed set of states something is in.
///
/// Text 0.0.4 writes it as a gauge, OpenMetrics as a stateset; either way one sample per state,
/// labeled with the metric's own name, 1 for the current state and 0 for the others.
///
/// ```
/// use promstack_core::{Enum, encode_text};
/// static LINK: Enum = Enum::new("link_state", "Uplink state.", &["down", "up"]);
/// LINK.set("up").unwrap();
/// assert!(LINK.set("sideways").is_err());
/// let out = String::from_utf8(encode_text(Vec::new(), &LINK).unwrap()).unwrap();
/// assert_eq!(
///     out,
///     "# HELP link_state Uplink state.\n# TYPE link_state gauge\n\
/// link_state{link_state=\"down\"} 0.0\nlink_state{link_state=\"up\"} 1.0\n"
/// );
/// ```
pub type Enum<S = Spec<&'static [&'static str]>> = Described<EnumValue, S>;

impl Enum {
    /// An Enum with `states` (at least one, all distinct); the first is current.
    ///
    /// # Panics
    /// On an invalid name or states: a compile error in a `static`.
    pub const fn new(name: &'static str, help: &'static str, states: &'static [&'static str]) -> Self {
        assert_states(states);
        Self::build(Desc::new(name, help, MetricType::StateSet), states)
    }

    /// Run-time form of [`Enum::new`].
    pub fn try_new(
        name: &'static str,
        help: &'static str,
        states: &'static [&'static str],
    ) -> Result<Self, DescError> {
        check_states(states)?;
        Ok(Self::build(Desc::try_new(name, help, MetricType::StateSet)?, states))
    }
}

impl<S: SpecSource<Spec<&'static [&'static str]>>> Enum<S> {
    /// Switches to `state`; an unknown state is an error and changes nothing.
    pub fn set(&self, state: &str) -> Result<(), ValueError> {
        self.value().set(self.states(), state)
    }

    /// The current state.
    pub fn get(&self) -> &'static str {
        let states = self.states();
        states[self.value().index().min(states.len() - 1)]
    }

    /// The states.
    pub fn states(&self) -> &'static [&'static str] {
        self.spec().config()
    }
}
