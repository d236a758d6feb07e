//! The process and platform collectors. Fixture cases are ported from Python 0.8.0's
//! `tests/test_process_collector.py`, on a copy of its `tests/proc` tree (`tests/fixtures/proc`).

use promstack::{CollectError, Collector, Desc, Format, PlatformCollector, ProcessCollector, Sample, Sink};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Full sample name -> value, for samples without labels (like Python's `get_sample_value`).
#[derive(Default)]
struct Values(BTreeMap<String, f64>);

impl Sink for Values {
    fn family(&mut self, _: &Desc<'_>) -> Result<(), CollectError> {
        Ok(())
    }
    fn sample(&mut self, desc: &Desc<'_>, s: &Sample<'_>) -> Result<(), CollectError> {
        self.0.insert(format!("{}{}", desc.name, s.suffix), s.value.as_f64());
        Ok(())
    }
}

fn values(c: &dyn Collector) -> BTreeMap<String, f64> {
    let mut v = Values::default();
    c.collect(&mut v).unwrap();
    v.0
}

fn fixture() -> PathBuf {
    promstack_tests::workspace_root().join("tests/fixtures/proc")
}

fn fixture_collector() -> ProcessCollector {
    ProcessCollector::new().proc_root(fixture()).clock_ticks(100.0).page_size(4096.0)
}

/// Python: test_working.
#[test]
fn working() {
    let v = values(&fixture_collector().pid(26231));
    assert_eq!(v["process_cpu_seconds_total"], 17.21);
    assert_eq!(v["process_virtual_memory_bytes"], 56274944.0);
    assert_eq!(v["process_resident_memory_bytes"], 8114176.0);
    assert_eq!(v["process_start_time_seconds"], 1418184099.75);
    assert_eq!(v["process_max_fds"], 2048.0);
    assert_eq!(v["process_open_fds"], 5.0);
    assert_eq!(v.get("process_fake_namespace"), None);
    assert_eq!(v.len(), 6);
}

/// Python: test_namespace.
#[test]
fn namespace() {
    let v = values(&fixture_collector().pid(26231).namespace("n"));
    assert_eq!(v["n_process_cpu_seconds_total"], 17.21);
    assert_eq!(v["n_process_virtual_memory_bytes"], 56274944.0);
    assert_eq!(v["n_process_resident_memory_bytes"], 8114176.0);
    assert_eq!(v["n_process_start_time_seconds"], 1418184099.75);
    assert_eq!(v["n_process_max_fds"], 2048.0);
    assert_eq!(v["n_process_open_fds"], 5.0);
    assert_eq!(v.get("process_cpu_seconds_total"), None);
}

/// Python: test_working_584 (the pid comes from a function returning "584\n").
#[test]
fn working_584() {
    let v = values(&fixture_collector().pid_fn(|| "584\n".to_owned()));
    assert_eq!(v["process_cpu_seconds_total"], 0.0);
    assert_eq!(v["process_virtual_memory_bytes"], 10395648.0);
    assert_eq!(v["process_resident_memory_bytes"], 634880.0);
    assert_eq!(v["process_start_time_seconds"], 1418291667.75);
    assert_eq!(v.get("process_max_fds"), None);
    assert_eq!(v.get("process_open_fds"), None);
}

/// Python: test_working_fake_pid.
#[test]
fn working_fake_pid() {
    assert!(values(&fixture_collector().pid(123)).is_empty());
}

/// No `/proc` at all: nothing, and no error.
#[test]
fn no_proc_reports_nothing() {
    let dir = promstack_tests::TempDir::new("noproc");
    assert!(values(&ProcessCollector::new().proc_root(dir.path().join("missing"))).is_empty());
}

/// The real `/proc/self` of this test process, through the text encoder and promtool.
#[test]
fn real_process_exposition() {
    if !std::path::Path::new("/proc/self/stat").exists() {
        return;
    }
    let text =
        promstack::std_io::encode_to_writer(Vec::new(), Format::Text, &ProcessCollector::new()).unwrap();
    let text = String::from_utf8(text).unwrap();
    let expected_headers = [
        "# HELP process_virtual_memory_bytes Virtual memory size in bytes.\n# TYPE process_virtual_memory_bytes gauge\n",
        "# HELP process_resident_memory_bytes Resident memory size in bytes.\n# TYPE process_resident_memory_bytes gauge\n",
        "# HELP process_start_time_seconds Start time of the process since unix epoch in seconds.\n# TYPE process_start_time_seconds gauge\n",
        "# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.\n# TYPE process_cpu_seconds_total counter\n",
        "# HELP process_open_fds Number of open file descriptors.\n# TYPE process_open_fds gauge\n",
        "# HELP process_max_fds Maximum number of open file descriptors.\n# TYPE process_max_fds gauge\n",
    ];
    for h in expected_headers {
        assert!(text.contains(h), "missing {h:?} in\n{text}");
    }
    let v = values(&ProcessCollector::new());
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs_f64();
    let start = v["process_start_time_seconds"];
    assert!(start <= now + 1.0 && start > now - 3600.0 * 24.0 * 365.0, "start time {start}");
    assert!(v["process_resident_memory_bytes"] > 1e6);
    assert!(v["process_open_fds"] >= 3.0);
    if let Some((ok, out)) = promstack_tests::promtool_check(&text) {
        assert!(ok && out.is_empty(), "promtool: {out}");
    }
}

#[test]
fn platform_info() {
    let text = promstack::std_io::encode_to_writer(Vec::new(), Format::Text, &PlatformCollector).unwrap();
    let text = String::from_utf8(text).unwrap();
    let (major, rest) = promstack::RUSTC_VERSION.split_once('.').unwrap();
    let (minor, rest) = rest.split_once('.').unwrap();
    let patch = rest.split('-').next().unwrap();
    assert_eq!(
        text,
        format!(
            "# HELP rust_info Rust compiler information.\n# TYPE rust_info gauge\n\
             rust_info{{major=\"{major}\",minor=\"{minor}\",patch=\"{patch}\",target=\"{}\",version=\"{}\"}} 1.0\n",
            promstack::TARGET,
            promstack::RUSTC_VERSION
        )
    );
    let om =
        promstack::std_io::encode_to_writer(Vec::new(), Format::OpenMetrics, &PlatformCollector).unwrap();
    assert!(String::from_utf8(om)
        .unwrap()
        .starts_with("# HELP rust Rust compiler information.\n# TYPE rust info\nrust_info{"));
    if let Some((ok, out)) = promstack_tests::promtool_check(&text) {
        assert!(ok && out.is_empty(), "promtool: {out}");
    }
}
