//! A pre-fork server in multiprocess mode: N worker processes (this program started again with
//! `worker`) do "requests" into multiprocess metrics; the parent serves one `/metrics` that
//! merges every worker's files, the way gunicorn + Python `prometheus_client` does.
//!
//! ```text
//! cargo run --example prefork -p promstack                  # 4 workers, serves until Ctrl-C
//! cargo run --example prefork -p promstack -- 3             # exits after 3 seconds
//! PREFORK_SECONDS=3 PREFORK_WORKERS=2 PREFORK_ADDR=127.0.0.1:0 cargo run --example prefork -p promstack
//! ```
//! Then `curl http://127.0.0.1:8001/metrics` shows `prefork_requests_total` summed over the
//! workers, `prefork_in_progress` (the sum over live workers) and `prefork_worker_up` with one
//! series per live worker (`pid` label). The directory is `prometheus_multiproc_dir` if set
//! (Python workers can share it), else a fresh temporary one; it is emptied at start, as the
//! Python client's documentation asks.
//!
//! With a run time given, the parent scrapes itself once at the end, prints the exposition,
//! checks that every worker's requests are counted, and exits with status 0.

use promstack::multiprocess::{mark_process_dead, GaugeMode, MultiProcessCollector, Opts, Store};
use promstack::{start_http_server, GaugeExt, ObserveExt};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A tiny xorshift generator, so the example needs no dependency for random latencies.
fn random(state: &mut u64) -> f64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    (*state >> 11) as f64 / (1u64 << 53) as f64
}

/// A worker: handles fake requests until the parent goes away (or `seconds` pass).
fn worker(seconds: Option<f64>) {
    // Multiprocess mode because the parent set prometheus_multiproc_dir; memory mode otherwise.
    let store = Store::from_env().expect("the multiprocess directory exists");
    let requests =
        store.counter_family(Opts::new("prefork_requests", "Requests handled."), &["path"]).unwrap();
    let latency = store
        .histogram(
            Opts::new("prefork_request_latency_seconds", "Request latency."),
            &[0.005, 0.01, 0.02, 0.05],
        )
        .unwrap();
    let in_progress =
        store.gauge(Opts::new("prefork_in_progress", "Requests in progress."), GaugeMode::LiveSum).unwrap();
    let up =
        store.gauge(Opts::new("prefork_worker_up", "1 for each live worker."), GaugeMode::LiveAll).unwrap();
    up.set(1.0);

    let parent = parent_id();
    let start = Instant::now();
    let mut rng = u64::from(std::process::id()) | 1;
    while seconds.is_none_or(|s| start.elapsed().as_secs_f64() < s) && parent_id() == parent {
        let path = ["/", "/search", "/cart"][(random(&mut rng) * 3.0) as usize % 3];
        let _busy = in_progress.track_inprogress();
        latency.time(|| std::thread::sleep(Duration::from_secs_f64(0.001 + random(&mut rng) * 0.01)));
        requests.get([path]).unwrap().inc();
    }
}

#[cfg(unix)]
fn parent_id() -> u32 {
    std::os::unix::process::parent_id()
}

#[cfg(not(unix))]
fn parent_id() -> u32 {
    0
}

/// Empties (or creates) the multiprocess directory.
fn prepare_dir() -> PathBuf {
    let dir = promstack::multiprocess::env_dir()
        .unwrap_or_else(|| std::env::temp_dir().join(format!("prefork-{}", std::process::id())));
    std::fs::create_dir_all(&dir).expect("create the multiprocess directory");
    for entry in std::fs::read_dir(&dir).expect("list the multiprocess directory").flatten() {
        if entry.path().extension().is_some_and(|e| e == "db") {
            let _ = std::fs::remove_file(entry.path());
        }
    }
    dir
}

fn spawn_worker(dir: &Path) -> Child {
    Command::new(std::env::current_exe().expect("current exe"))
        .arg("worker")
        .env("prometheus_multiproc_dir", dir)
        .spawn()
        .expect("spawn a worker")
}

/// GET /metrics over plain HTTP/1.0: enough for the self-check at the end.
fn scrape(addr: SocketAddr) -> String {
    let mut s = TcpStream::connect(addr).expect("connect to the metrics server");
    s.write_all(b"GET /metrics HTTP/1.0\r\nHost: localhost\r\n\r\n").unwrap();
    let mut response = String::new();
    s.read_to_string(&mut response).unwrap();
    response.split_once("\r\n\r\n").map(|(_, body)| body.to_owned()).unwrap_or_default()
}

fn main() {
    let mut args = std::env::args().skip(1);
    let first = args.next();
    if first.as_deref() == Some("worker") {
        return worker(std::env::var("PREFORK_WORKER_SECONDS").ok().and_then(|s| s.parse().ok()));
    }
    let seconds: Option<f64> = first
        .or_else(|| std::env::var("PREFORK_SECONDS").ok())
        .map(|s| s.parse().expect("the run time is a number of seconds"));
    let workers: usize =
        std::env::var("PREFORK_WORKERS").ok().map_or(4, |s| s.parse().expect("a worker count"));
    let addr = std::env::var("PREFORK_ADDR").unwrap_or_else(|_| "127.0.0.1:8001".to_owned());

    let dir = prepare_dir();
    let collector = MultiProcessCollector::new(&dir).expect("the directory exists");
    let server = start_http_server(addr.as_str(), Arc::new(collector)).expect("bind the metrics address");
    println!(
        "serving http://{}/metrics for {workers} workers (files in {})",
        server.local_addr(),
        dir.display()
    );

    let mut children: Vec<Child> = (0..workers).map(|_| spawn_worker(&dir)).collect();
    let start = Instant::now();
    loop {
        std::thread::sleep(Duration::from_millis(100));
        // Restart a worker that died, after dropping its live gauges, as a pre-fork server does.
        for child in children.iter_mut() {
            if let Ok(Some(status)) = child.try_wait() {
                eprintln!("worker {} exited ({status}); starting another", child.id());
                mark_process_dead(child.id(), &dir).expect("remove the live gauge files");
                *child = spawn_worker(&dir);
            }
        }
        if seconds.is_some_and(|s| start.elapsed().as_secs_f64() >= s) {
            break;
        }
    }

    let text = scrape(server.local_addr());
    print!("{text}");
    for mut child in children {
        let _ = child.kill();
        let _ = child.wait();
        mark_process_dead(child.id(), &dir).expect("remove the live gauge files");
    }
    server.stop();
    let total: f64 = text
        .lines()
        .filter(|l| l.starts_with("prefork_requests_total{"))
        .filter_map(|l| l.rsplit_once(' ').and_then(|(_, v)| v.parse::<f64>().ok()))
        .sum();
    let live = text.lines().filter(|l| l.starts_with("prefork_worker_up{")).count();
    println!("# {total} requests counted across {live} live workers");
    assert!(total > 0.0 && live == workers, "every worker must be counted");
    if promstack::multiprocess::env_dir().is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }
}
