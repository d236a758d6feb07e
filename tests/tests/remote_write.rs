//! The remote write client against receivers: a small HTTP server of this test (statuses it
//! chooses, requests it records, one that never answers), and a real Prometheus 2.42 with
//! `--web.enable-remote-write-receiver`, killed and restarted while the writer runs.

mod http_common;

use promstack::remote_write::proto::WriteRequest;
use promstack::remote_write::{RemoteWriteError, RemoteWriter};
use promstack::{CollectError, Collector, Desc, Labels, MetricType, Sample, Sink, Value};
use promstack_tests::{free_port, peer, wait_for_port, PeerProcess, TempDir};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A gauge whose value is the number of times it was collected: every value 1..=n is sent
/// exactly once, so a receiver holding them all lost nothing.
struct Sequence {
    name: &'static str,
    n: AtomicU64,
}

impl Sequence {
    fn new(name: &'static str) -> Arc<Sequence> {
        Arc::new(Sequence { name, n: AtomicU64::new(0) })
    }

    fn collections(&self) -> u64 {
        self.n.load(Ordering::SeqCst)
    }
}

impl Collector for Sequence {
    fn collect(&self, sink: &mut dyn Sink) -> Result<(), CollectError> {
        let n = self.n.fetch_add(1, Ordering::SeqCst) + 1;
        let desc = Desc::new(self.name, "Collections so far.", MetricType::Gauge);
        sink.family(&desc)?;
        sink.sample(&desc, &Sample::new("", Labels::EMPTY, Value::Int(n)))
    }
}

/// One request as the test server read it.
struct Received {
    request_line: String,
    /// Names lowercased.
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Received {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// The body, decoded as the remote write spec says: snappy block format, then protobuf.
    fn decode(&self) -> WriteRequest {
        let raw = snap::raw::Decoder::new().decompress_vec(&self.body).expect("snappy block body");
        prost::Message::decode(&*raw).expect("protobuf WriteRequest")
    }

    /// Label pairs and values of every series.
    fn series(&self) -> Vec<(Vec<(String, String)>, f64)> {
        self.decode()
            .timeseries
            .into_iter()
            .map(|ts| {
                assert_eq!(ts.samples.len(), 1);
                (ts.labels.into_iter().map(|l| (l.name, l.value)).collect(), ts.samples[0].value)
            })
            .collect()
    }
}

/// An HTTP/1.1 server on 127.0.0.1 answering the n-th request with `statuses[n]` (the last one
/// from then on), one connection at a time, recording every request.
struct Receiver {
    addr: SocketAddr,
    requests: Arc<Mutex<Vec<Received>>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Receiver {
    fn start(statuses: &[u16]) -> Receiver {
        Receiver::on(TcpListener::bind("127.0.0.1:0").unwrap(), statuses)
    }

    fn on(listener: TcpListener, statuses: &[u16]) -> Receiver {
        let addr = listener.local_addr().unwrap();
        listener.set_nonblocking(true).unwrap();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let statuses = statuses.to_vec();
        let thread = {
            let (requests, stop) = (Arc::clone(&requests), Arc::clone(&stop));
            std::thread::spawn(move || {
                let mut n = 0;
                while !stop.load(Ordering::SeqCst) {
                    let Ok((stream, _)) = listener.accept() else {
                        std::thread::sleep(Duration::from_millis(5));
                        continue;
                    };
                    stream.set_nonblocking(false).unwrap();
                    stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
                    let Some(received) = read_request(&stream) else { continue };
                    let status = statuses[n.min(statuses.len() - 1)];
                    n += 1;
                    requests.lock().unwrap().push(received);
                    let body = if status >= 400 { "you said something wrong\n" } else { "" };
                    let _ = write!(
                        &stream,
                        "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    );
                }
            })
        };
        Receiver { addr, requests, stop, thread: Some(thread) }
    }

    fn url(&self) -> String {
        format!("http://{}/api/v1/write", self.addr)
    }

    fn count(&self) -> usize {
        self.requests.lock().unwrap().len()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn read_request(stream: &std::net::TcpStream) -> Option<Received> {
    let mut reader = BufReader::new(stream);
    let mut request_line = String::new();
    reader.read_line(&mut request_line).ok()?;
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).ok()?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (n, v) = line.split_once(':')?;
        headers.push((n.trim().to_ascii_lowercase(), v.trim().to_owned()));
    }
    let len: usize = headers.iter().find(|(n, _)| n == "content-length")?.1.parse().ok()?;
    let mut body = vec![0; len];
    reader.read_exact(&mut body).ok()?;
    Some(Received { request_line: request_line.trim_end().to_owned(), headers, body })
}

/// Polls `done` every 10 ms for up to `secs` seconds; panics with `what` if it never holds.
fn wait_until(what: &str, secs: u64, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
    p.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect()
}

const HOUR: Duration = Duration::from_secs(3600);

#[test]
fn requests_carry_the_spec_headers_auth_and_a_decodable_body() {
    let server = Receiver::start(&[204]);
    let seq = Sequence::new("rw_seq");
    let writer = RemoteWriter::builder(&server.url())
        .collector(seq.clone())
        .external_label("replica", "b")
        .external_label("cluster", "eu")
        .basic_auth("user", "pass")
        .header("X-Scope-OrgID", "tenant-1")
        .interval(HOUR)
        .start()
        .unwrap();
    wait_until("the first collection is sent", 10, || writer.stats().samples_sent == 1);
    writer.stop().unwrap();
    let requests = server.requests.lock().unwrap();
    assert_eq!(requests.len(), 2, "the start and the stop collections");
    let r = &requests[0];
    assert_eq!(r.request_line, "POST /api/v1/write HTTP/1.1");
    assert_eq!(r.header("content-encoding"), Some("snappy"));
    assert_eq!(r.header("content-type"), Some("application/x-protobuf"));
    assert_eq!(r.header("x-prometheus-remote-write-version"), Some("0.1.0"));
    assert!(r.header("user-agent").unwrap().starts_with("promstack/"), "{:?}", r.header("user-agent"));
    assert_eq!(r.header("authorization"), Some("Basic dXNlcjpwYXNz")); // base64("user:pass")
    assert_eq!(r.header("x-scope-orgid"), Some("tenant-1"));
    let want = pairs(&[("__name__", "rw_seq"), ("cluster", "eu"), ("replica", "b")]);
    assert_eq!(r.series(), [(want.clone(), 1.0)]);
    assert_eq!(requests[1].series(), [(want, 2.0)], "stop sends one last collection");

    // A bearer token, and credentials in the URL (each writer sends 1 or 2 requests: its first
    // collection may or may not come before the stop).
    drop(requests);
    let bearer =
        RemoteWriter::builder(&server.url()).collector(seq.clone()).bearer_token("t0k3n").start().unwrap();
    bearer.stop().unwrap();
    let after_bearer = server.count();
    let in_url = format!("http://u:p@{}/api/v1/write", server.addr);
    RemoteWriter::builder(&in_url).collector(seq).start().unwrap().stop().unwrap();
    let requests = server.requests.lock().unwrap();
    assert!(requests[2..after_bearer].iter().all(|r| r.header("authorization") == Some("Bearer t0k3n")));
    // base64("u:p")
    assert!(requests[after_bearer..].iter().all(|r| r.header("authorization") == Some("Basic dTpw")));
    assert!(requests.len() > after_bearer && after_bearer > 2);
}

#[test]
fn client_errors_are_not_retried() {
    let server = Receiver::start(&[400]);
    let writer = RemoteWriter::builder(&server.url())
        .collector(Sequence::new("rw_seq"))
        .interval(HOUR)
        .min_backoff(Duration::from_millis(1))
        .start()
        .unwrap();
    wait_until("the refused sample is counted", 10, || writer.stats().samples_failed == 1);
    let stats = writer.stats();
    writer.stop().unwrap();
    assert_eq!(server.count(), 2, "one request per collection, none again");
    assert_eq!((stats.samples_sent, stats.samples_retried, stats.samples_pending), (0, 0, 0));
}

#[test]
fn server_errors_are_retried_until_accepted() {
    let server = Receiver::start(&[500, 503, 204]);
    let writer = RemoteWriter::builder(&server.url())
        .collector(Sequence::new("rw_seq"))
        .interval(HOUR)
        .min_backoff(Duration::from_millis(1))
        .start()
        .unwrap();
    wait_until("the sample is delivered", 10, || writer.stats().samples_sent == 1);
    let stats = writer.stats();
    writer.stop().unwrap();
    assert_eq!((stats.samples_retried, stats.samples_failed), (2, 0));
    let requests = server.requests.lock().unwrap();
    assert_eq!(requests.len(), 4);
    // The same body each time.
    assert!(requests[..3].iter().all(|r| r.body == requests[0].body));
    assert_eq!(requests[3].series()[0].1, 2.0);
}

#[test]
fn a_receiver_that_never_answers_times_out() {
    // Connections complete in the kernel's backlog; nothing ever reads or answers them.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let writer = RemoteWriter::builder(&format!("http://{}/api/v1/write", silent.local_addr().unwrap()))
        .collector(Sequence::new("rw_seq"))
        .interval(HOUR)
        .timeout(Duration::from_millis(100))
        .min_backoff(Duration::from_millis(1))
        .max_retries(Some(2))
        .flush_timeout(Duration::from_millis(50))
        .start()
        .unwrap();
    wait_until("the sample is given up", 10, || writer.stats().samples_failed == 1);
    assert_eq!(writer.stats().samples_retried, 2);
    // The last collection's request is cut off at the flush deadline.
    match writer.stop() {
        Err(RemoteWriteError::Unflushed { samples: 1 }) => {}
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_full_queue_drops_the_oldest_and_the_rest_arrives_in_order() {
    // Nothing listens at first: connections are refused and retried while the queue fills.
    let port = free_port();
    let seq = Sequence::new("rw_seq");
    let writer = RemoteWriter::builder(&format!("http://127.0.0.1:{port}/api/v1/write"))
        .collector(seq.clone())
        .interval(Duration::from_millis(10))
        .queue_capacity(5)
        .max_samples_per_request(2)
        .min_backoff(Duration::from_millis(5))
        .max_backoff(Duration::from_millis(20))
        .start()
        .unwrap();
    wait_until("the queue overflows", 10, || writer.stats().samples_dropped >= 3);
    let server = Receiver::on(TcpListener::bind(("127.0.0.1", port)).unwrap(), &[204]);
    wait_until("samples arrive", 10, || writer.stats().samples_sent >= 6);
    let stats = writer.stop().unwrap();
    let values: Vec<f64> =
        server.requests.lock().unwrap().iter().flat_map(|r| r.series()).map(|(_, v)| v).collect();
    assert!(values.len() <= 2 + 5 + seq.collections() as usize);
    assert!(values.windows(2).all(|w| w[0] < w[1]), "oldest first: {values:?}");
    assert_eq!(*values.last().unwrap(), seq.collections() as f64, "the stop collection arrives");
    // The first request (1 or 2 samples) was in flight when the queue overflowed and is kept;
    // the 3 or more oldest queued samples behind it were dropped.
    assert!(values[2] > 3.0, "{values:?}");
    assert_eq!(stats.samples_sent as usize, values.len());
    assert_eq!(stats.samples_sent + stats.samples_dropped, seq.collections());
    assert_eq!(stats.samples_pending, 0);
}

#[test]
fn external_label_collisions_keep_the_series_label() {
    struct Own;
    impl Collector for Own {
        fn collect(&self, sink: &mut dyn Sink) -> Result<(), CollectError> {
            let desc = Desc::new("rw_jobs", "Jobs.", MetricType::Counter);
            sink.family(&desc)?;
            let labels = Labels::new(&["replica", "kind"], &["own", "x"]);
            sink.sample(&desc, &Sample::new("_total", labels, Value::Int(7)))
        }
    }
    let server = Receiver::start(&[204]);
    let writer = RemoteWriter::builder(&server.url())
        .collector(Arc::new(Own))
        .external_label("replica", "external")
        .external_label("cluster", "eu")
        .interval(HOUR)
        .start()
        .unwrap();
    writer.stop().unwrap();
    let want = pairs(&[("__name__", "rw_jobs_total"), ("cluster", "eu"), ("kind", "x"), ("replica", "own")]);
    assert_eq!(server.requests.lock().unwrap()[0].series(), [(want, 7.0)]);
}

/// Percent-encodes a query parameter value.
fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn start_prometheus(prometheus: &std::path::Path, dir: &TempDir, port: u16) -> PeerProcess {
    let log = std::fs::OpenOptions::new().create(true).append(true).open(dir.path().join("log")).unwrap();
    let prom = PeerProcess::spawn(
        Command::new(prometheus)
            .arg(format!("--config.file={}", dir.path().join("prom.yml").display()))
            .arg(format!("--storage.tsdb.path={}", dir.path().join("data").display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--web.enable-remote-write-receiver")
            .stdout(Stdio::null())
            .stderr(log),
    );
    assert!(wait_for_port(port, 30), "prometheus did not start");
    prom
}

#[test]
fn prometheus_receives_everything_across_a_restart() {
    let Some(prometheus) = peer("prometheus") else { return };
    let dir = TempDir::new("remote-write");
    std::fs::write(dir.path().join("prom.yml"), "global:\n  scrape_interval: 15s\n").unwrap();
    let port = free_port();
    let prom_addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut prom = start_prometheus(&prometheus, &dir, port);

    struct Jobs;
    impl Collector for Jobs {
        fn collect(&self, sink: &mut dyn Sink) -> Result<(), CollectError> {
            let desc = Desc::new("rw_jobs", "Jobs.", MetricType::Counter);
            sink.family(&desc)?;
            let labels = Labels::new(&["kind", "replica"], &["batch", "own"]);
            sink.sample(&desc, &Sample::new("_total", labels, Value::Float(42.5)))
        }
    }
    let seq = Sequence::new("rw_sequence");
    let writer = RemoteWriter::builder(&format!("http://{prom_addr}/api/v1/write"))
        .collector(seq.clone())
        .collector(Arc::new(Jobs))
        .external_label("cluster", "test")
        .external_label("replica", "a")
        .interval(Duration::from_millis(100))
        .queue_capacity(10_000)
        .max_samples_per_request(7)
        .timeout(Duration::from_secs(2))
        .min_backoff(Duration::from_millis(10))
        .max_backoff(Duration::from_millis(200))
        .flush_timeout(Duration::from_secs(20))
        .start()
        .unwrap();

    let query =
        |q: &str| http_common::get(prom_addr, &format!("/api/v1/query?query={}", urlencode(q)), "").text();
    wait_until("prometheus has the first samples", 30, || {
        query("rw_sequence{cluster=\"test\",replica=\"a\"}").contains("\"value\"")
    });
    let jobs = query("rw_jobs_total");
    assert!(jobs.contains("\"42.5\"]"), "{jobs}");
    for label in ["\"cluster\":\"test\"", "\"replica\":\"own\"", "\"kind\":\"batch\""] {
        assert!(jobs.contains(label), "{label} missing: {jobs}");
    }

    wait_until("5 collections are stored", 30, || writer.stats().samples_sent >= 10);

    // Kill the receiver (SIGKILL, by PID) while the writer keeps collecting.
    let _ = prom.0.kill();
    let _ = prom.0.wait();
    let retried_before = writer.stats().samples_retried;
    wait_until("the writer retries against the dead receiver", 30, || {
        writer.stats().samples_retried > retried_before
    });
    let during_outage = seq.collections();
    wait_until("a few collections queue up", 30, || seq.collections() >= during_outage + 10);
    prom = start_prometheus(&prometheus, &dir, port);
    wait_until("the queue drains", 60, || writer.stats().samples_pending == 0);
    let stats = writer.stop().unwrap();
    let n = seq.collections();
    eprintln!("{n} collections, outage from collection {during_outage}: {stats:?}");
    assert_eq!((stats.samples_dropped, stats.samples_failed, stats.samples_pending), (0, 0, 0), "{stats:?}");
    assert_eq!(stats.samples_sent, 2 * n);

    // Every value 1..=n, each once, in time order, with the external labels.
    let all = query("rw_sequence{cluster=\"test\",replica=\"a\"}[1h]");
    assert!(all.contains("\"__name__\":\"rw_sequence\""), "{all}");
    let values = matrix_values(&all);
    let want: Vec<String> = (1..=n).map(|i| i.to_string()).collect();
    assert_eq!(values, want, "{all}");
    drop(prom);
}

/// The values of the one series of a matrix answer, in order.
fn matrix_values(json: &str) -> Vec<String> {
    let start = json.find("\"values\":[").expect("a matrix") + "\"values\":[".len();
    let list = &json[start..json[start..].find("]]").map_or(json.len(), |e| start + e + 1)];
    list.split("],")
        .map(|pair| {
            pair.trim_matches(|c| c == '[' || c == ']')
                .split(',')
                .nth(1)
                .unwrap()
                .trim_matches('"')
                .to_owned()
        })
        .collect()
}
