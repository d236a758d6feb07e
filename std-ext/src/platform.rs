//! The platform collector: which compiler built the program, for what target (SPEC §5).
//!
//! Python 0.8.0 exposes `python_info{implementation,major,minor,patchlevel,version} 1`; the Rust
//! analogue is `rust_info{version,major,minor,patch,target} 1`, with the `rustc` version and the
//! target triple recorded by this crate's build script.

use promstack_core::{CollectError, Collector, Desc, Labels, MetricType, Sample, Sink, Value};

/// The `rustc` version that built this crate, e.g. `1.85.0` or `1.87.0-nightly`.
pub const RUSTC_VERSION: &str = env!("PROMSTACK_RUSTC_VERSION");
/// The target triple this crate was built for, e.g. `x86_64-unknown-linux-gnu`.
pub const TARGET: &str = env!("PROMSTACK_TARGET");

const LABEL_NAMES: [&str; 5] = ["version", "major", "minor", "patch", "target"];

/// Reports `rust_info{version="1.85.0",major="1",minor="85",patch="0",target="..."} 1`.
///
/// ```
/// use promstack::PlatformCollector;
/// let text = promstack::std_io::encode_to_writer(Vec::new(), promstack::Format::Text, &PlatformCollector).unwrap();
/// let text = String::from_utf8(text).unwrap();
/// assert!(text.starts_with("# HELP rust_info Rust compiler information.\n# TYPE rust_info gauge\nrust_info{major=\"1\","));
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct PlatformCollector;

const DESC: Desc<'static> = Desc::new("rust", "Rust compiler information.", MetricType::Info);

/// `(major, minor, patch)` of a version like `1.87.0-nightly`.
fn parts(version: &str) -> [&str; 3] {
    let core = version.split(['-', '+']).next().unwrap_or("");
    let mut it = core.split('.');
    [it.next().unwrap_or(""), it.next().unwrap_or(""), it.next().unwrap_or("")]
}

impl Collector for PlatformCollector {
    fn collect(&self, sink: &mut dyn Sink) -> Result<(), CollectError> {
        let [major, minor, patch] = parts(RUSTC_VERSION);
        let values = [RUSTC_VERSION, major, minor, patch, TARGET];
        sink.family(&DESC)?;
        sink.sample(&DESC, &Sample::new("_info", Labels::new(&LABEL_NAMES, &values), Value::Int(1)))
    }

    fn describe(&self, sink: &mut dyn Sink) -> Result<(), CollectError> {
        sink.family(&DESC)
    }
}

#[cfg(test)]
mod tests {
    use super::parts;

    #[test]
    fn version_parts() {
        assert_eq!(parts("1.85.0"), ["1", "85", "0"]);
        assert_eq!(parts("1.87.0-nightly"), ["1", "87", "0"]);
        assert_eq!(parts("unknown"), ["unknown", "", ""]);
    }
}
