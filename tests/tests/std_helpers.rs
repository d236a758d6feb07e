//! std helpers on every kind of metric: unlabeled statics, fixed-capacity children and dynamic
//! `Family` children; the default registry; the std clock.

use promstack::{
    default_registry, CounterExt, Family, Gauge, GaugeExt, ObserveExt, OwnedGaugeFn, Registry, Summary,
    DEFAULT_BUCKETS,
};
use std::panic::catch_unwind;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug)]
struct Timeout;
impl std::fmt::Display for Timeout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("timeout")
    }
}
impl std::error::Error for Timeout {}

/// An error wrapping another, to check `count_errors_of` walks the source chain.
#[derive(Debug)]
struct Wrapped(Timeout);
impl std::fmt::Display for Wrapped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "wrapped: {}", self.0)
    }
}
impl std::error::Error for Wrapped {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

#[test]
fn helpers_on_dynamic_family_children() {
    let registry = Registry::new();
    let errors =
        registry.register_owned(Family::counter("job_errors_total", "Errors.", &["job"]).unwrap()).unwrap();
    let inflight =
        registry.register_owned(Family::gauge("job_inflight", "In flight.", &["job"]).unwrap()).unwrap();
    let latency = registry
        .register_owned(
            Family::histogram("job_latency_seconds", "Latency.", &["job"], DEFAULT_BUCKETS).unwrap(),
        )
        .unwrap();
    let durations =
        registry.register_owned(Family::summary("job_seconds", "Durations.", &["job"]).unwrap()).unwrap();
    let last = registry
        .register_owned(Family::gauge("job_last_seconds", "Last duration.", &["job"]).unwrap())
        .unwrap();

    let child = errors.get(["a"]).unwrap();
    let _ = child.count_errors(|| Err::<(), _>(Timeout));
    let _ = child.count_errors(|| Ok::<_, Timeout>(()));
    let _ = child.count_errors_of::<Timeout, (), _>(|| Err(Wrapped(Timeout)));
    let _ = child.count_errors_of::<Timeout, (), _>(|| Err(std::fmt::Error));
    let _ = child.count_errors_if(
        |e: &std::io::Error| e.kind() == std::io::ErrorKind::TimedOut,
        || Err::<(), _>(std::io::ErrorKind::TimedOut.into()),
    );
    assert!(catch_unwind(|| child.count_panics(|| panic!("boom"))).is_err());
    assert!(catch_unwind(|| child.count_errors(|| -> Result<(), Timeout> { panic!("boom") })).is_err());
    assert_eq!(registry.get_sample_value("job_errors_total", &[("job", "a")]), Some(5.0));

    let g = inflight.get(["a"]).unwrap();
    {
        let _one = g.track_inprogress();
        // Guards borrow the child, so a child handle must outlive its guard.
        let again = inflight.get(["a"]).unwrap();
        let _two = again.track_inprogress();
        assert_eq!(registry.get_sample_value("job_inflight", &[("job", "a")]), Some(2.0));
    }
    assert_eq!(registry.get_sample_value("job_inflight", &[("job", "a")]), Some(0.0));

    latency.get(["a"]).unwrap().time(|| std::thread::sleep(Duration::from_millis(20)));
    assert_eq!(registry.get_sample_value("job_latency_seconds_count", &[("job", "a")]), Some(1.0));
    assert_eq!(
        registry.get_sample_value("job_latency_seconds_bucket", &[("job", "a"), ("le", "0.01")]),
        Some(0.0)
    );
    assert_eq!(
        registry.get_sample_value("job_latency_seconds_bucket", &[("job", "a"), ("le", "0.025")]),
        Some(1.0)
    );

    let d = durations.get(["a"]).unwrap();
    let timer = d.start_timer();
    std::thread::sleep(Duration::from_millis(10));
    let secs = timer.observe_duration();
    assert!(secs >= 0.01);
    assert_eq!(registry.get_sample_value("job_seconds_sum", &[("job", "a")]), Some(secs));

    last.get(["a"]).unwrap().time(|| std::thread::sleep(Duration::from_millis(10)));
    assert!(registry.get_sample_value("job_last_seconds", &[("job", "a")]).unwrap() >= 0.01);
    last.get(["b"]).unwrap().set_to_now();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs_f64();
    assert!((registry.get_sample_value("job_last_seconds", &[("job", "b")]).unwrap() - now).abs() < 5.0);
}

#[test]
fn timers_on_statics() {
    static S: Summary = Summary::new("std_static_seconds", "S.");
    static G: Gauge = Gauge::new("std_static_gauge", "G.");
    S.time(|| ());
    assert_eq!(S.value().count(), 1);
    let r = catch_unwind(|| S.time(|| panic!("x")));
    assert!(r.is_err());
    assert_eq!(S.value().count(), 2, "a panic is timed too");
    let t = G.start_timer();
    std::thread::sleep(Duration::from_millis(5));
    assert!(t.set_duration() >= 0.005);
}

#[test]
fn owned_gauge_fn_in_a_registry() {
    let registry = Registry::new();
    let depth = Arc::new(std::sync::atomic::AtomicU64::new(3));
    let d = depth.clone();
    registry
        .register(Arc::new(
            OwnedGaugeFn::new("queue_depth", "Depth.", move || {
                d.load(std::sync::atomic::Ordering::Relaxed) as f64
            })
            .unwrap(),
        ))
        .unwrap();
    assert_eq!(registry.get_sample_value("queue_depth", &[]), Some(3.0));
    depth.store(9, std::sync::atomic::Ordering::Relaxed);
    assert_eq!(registry.get_sample_value("queue_depth", &[]), Some(9.0));
    assert!(OwnedGaugeFn::new("0bad", "", || 0.0).is_err());
}

#[test]
fn default_registry_has_process_and_platform() {
    let text = String::from_utf8(default_registry().encode_text(Vec::new()).unwrap()).unwrap();
    assert!(text.contains("# TYPE rust_info gauge\n"), "{text}");
    if std::path::Path::new("/proc/self/stat").exists() {
        assert!(text.contains("# TYPE process_cpu_seconds_total counter\n"), "{text}");
        assert!(default_registry().get_sample_value("process_open_fds", &[]).unwrap() > 0.0);
    }
    // The std clock is installed, so counters have a creation time.
    assert!(promstack::unix_time().is_some());
    // Registering a name the default registry already claims is refused.
    static CLASH: Gauge = Gauge::new("process_open_fds", "Clash.");
    assert!(default_registry().register_static(&CLASH).is_err());
    if let Some((ok, out)) = promstack_tests::promtool_check(&text) {
        assert!(ok && out.is_empty(), "promtool: {out}");
    }
}

/// One name per concept: `promstack::Timer` is core's timer (on the installed clock), no longer
/// hidden by the std one, which is `StdTimer` (on `Instant`).
#[test]
fn core_and_std_timers_have_their_own_names() {
    static WORK: Summary = Summary::new("named_timers_seconds", "Work.");
    promstack::install_std_clock();
    let core_timer: promstack::Timer<'_, Summary> = promstack::Timer::start(&WORK);
    assert!(core_timer.observe().is_some());
    let std_timer: promstack::StdTimer<'_, Summary> = WORK.start_timer();
    assert!(std_timer.observe_duration() >= 0.0);
    assert_eq!(WORK.value().count(), 2);
}
