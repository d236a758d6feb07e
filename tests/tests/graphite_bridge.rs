//! The Graphite bridge. Line vectors are ported from Python 0.8.0's
//! `tests/test_graphite_bridge.py` (same fake timer, 1434898897.5); the periodic thread and a
//! down server are checked on loopback, and a real carbon-cache stores what we push.

use promstack::{Collector, FixedFamily, Gauge, GaugeValue, GraphiteBridge};
use promstack_tests::{free_port, peer, wait_for_port, PeerProcess, TempDir};
use std::io::Read;
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn fake_timer() -> f64 {
    1434898897.5
}

/// Pushes once to a one-shot listener and returns the bytes it received.
fn push_once(collector: Arc<dyn Collector>, prefix: &str) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let t = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let mut data = String::new();
        s.read_to_string(&mut data).unwrap();
        data
    });
    GraphiteBridge::new(&addr.to_string(), collector).with_timer(fake_timer).push(prefix).unwrap();
    t.join().unwrap()
}

/// Python: test_nolabels.
#[test]
fn no_labels() {
    static G: Gauge = Gauge::new("g", "help");
    G.inc();
    assert_eq!(push_once(Arc::new(&G), ""), "g 1.0 1434898897\n");
}

static LABELS: FixedFamily<GaugeValue, 2, 4> = FixedFamily::gauge("labels", "help", ["a", "b"]);

/// Python: test_labels and test_prefix.
#[test]
fn labels_and_prefix() {
    LABELS.get(["c", "d"]).unwrap().inc();
    assert_eq!(push_once(Arc::new(&LABELS), ""), "labels.a.c.b.d 1.0 1434898897\n");
    assert_eq!(push_once(Arc::new(&LABELS), "pre.fix"), "pre.fix.labels.a.c.b.d 1.0 1434898897\n");
}

/// Python: test_sanitizing.
#[test]
fn sanitizing() {
    static S: FixedFamily<GaugeValue, 1, 4> = FixedFamily::gauge("labels", "help", ["a"]);
    S.get(["c.:8"]).unwrap().inc();
    assert_eq!(push_once(Arc::new(&S), ""), "labels.a.c__8 1.0 1434898897\n");
}

/// Every sample is sent: a counter's `_total` and `_created`, label pairs sorted by key.
#[test]
fn counters_and_sorting() {
    promstack::install_std_clock();
    static C: FixedFamily<promstack::CounterValue, 2, 4> = FixedFamily::counter("reqs", "help", ["z", "a"]);
    C.get(["1", "2/3"]).unwrap().inc();
    let out = push_once(Arc::new(&C), "");
    let mut lines = out.lines();
    assert_eq!(lines.next(), Some("reqs_total.a.2_3.z.1 1.0 1434898897"));
    assert!(lines.next().unwrap().starts_with("reqs_created.a.2_3.z.1 "));
}

/// Counts connections and lines received on a listener, on a background thread.
struct Receiver {
    port: u16,
    connections: Arc<AtomicUsize>,
    data: Arc<Mutex<String>>,
}

fn receiver(listener: TcpListener) -> Receiver {
    let port = listener.local_addr().unwrap().port();
    let connections = Arc::new(AtomicUsize::new(0));
    let data = Arc::new(Mutex::new(String::new()));
    let (c, d) = (connections.clone(), data.clone());
    std::thread::spawn(move || {
        for s in listener.incoming() {
            let Ok(mut s) = s else { return };
            let mut buf = String::new();
            let _ = s.read_to_string(&mut buf);
            d.lock().unwrap().push_str(&buf);
            c.fetch_add(1, Ordering::SeqCst);
        }
    });
    Receiver { port, connections, data }
}

#[test]
fn periodic_push_on_a_fixed_schedule_and_stop() {
    static P: Gauge = Gauge::new("periodic", "help");
    let r = receiver(TcpListener::bind("127.0.0.1:0").unwrap());
    let bridge = GraphiteBridge::new(&format!("127.0.0.1:{}", r.port), Arc::new(&P));
    let t = Instant::now();
    let pusher = bridge.start(Duration::from_millis(100), "app");
    std::thread::sleep(Duration::from_millis(1050));
    pusher.stop();
    let elapsed = t.elapsed();
    std::thread::sleep(Duration::from_millis(100));
    let n = r.connections.load(Ordering::SeqCst);
    // Pushes at 0, 100, ..., 1000 ms: 11 if the schedule does not drift (10..=12 for jitter).
    assert!((10..=12).contains(&n), "{n} pushes in {elapsed:?}");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(r.connections.load(Ordering::SeqCst), n, "pushed after stop");
    assert!(r.data.lock().unwrap().starts_with("app.periodic 0.0 "));
}

#[test]
fn a_down_server_is_retried_and_never_kills_the_thread() {
    static D: Gauge = Gauge::new("down", "help");
    let port = free_port();
    let bridge = GraphiteBridge::new(&format!("127.0.0.1:{port}"), Arc::new(&D))
        .with_timeout(Duration::from_millis(200));
    // Nothing listens yet: the pushes fail and are logged.
    let pusher = bridge.start(Duration::from_millis(50), "");
    std::thread::sleep(Duration::from_millis(300));
    // The server comes up: pushes arrive.
    let r = receiver(TcpListener::bind(("127.0.0.1", port)).unwrap());
    let deadline = Instant::now() + Duration::from_secs(5);
    while r.connections.load(Ordering::SeqCst) < 3 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    pusher.stop();
    assert!(r.connections.load(Ordering::SeqCst) >= 3);
    assert!(r.data.lock().unwrap().starts_with("down 0.0 "));
}

#[test]
fn carbon_cache_stores_our_points() {
    let (Some(carbon), Some(fetch)) = (peer("carbon-cache"), peer("whisper-fetch")) else { return };
    let dir = TempDir::new("carbon");
    let d = dir.path().display();
    let (line_port, pickle_port, query_port) = (free_port(), free_port(), free_port());
    let conf = format!(
        "[cache]\nSTORAGE_DIR = {d}/storage\nLOCAL_DATA_DIR = {d}/storage/whisper\nWHITELISTS_DIR = {d}/storage/lists\n\
         CONF_DIR = {d}\nLOG_DIR = {d}/log\nPID_DIR = {d}\nENABLE_LOGROTATION = False\nUSER =\n\
         MAX_CACHE_SIZE = inf\nMAX_UPDATES_PER_SECOND = inf\nMAX_CREATES_PER_MINUTE = inf\n\
         LINE_RECEIVER_INTERFACE = 127.0.0.1\nLINE_RECEIVER_PORT = {line_port}\nENABLE_UDP_LISTENER = False\n\
         PICKLE_RECEIVER_INTERFACE = 127.0.0.1\nPICKLE_RECEIVER_PORT = {pickle_port}\n\
         CACHE_QUERY_INTERFACE = 127.0.0.1\nCACHE_QUERY_PORT = {query_port}\n"
    );
    std::fs::write(dir.path().join("carbon.conf"), conf).unwrap();
    std::fs::write(dir.path().join("storage-schemas.conf"), "[default]\npattern = .*\nretentions = 1s:1h\n")
        .unwrap();
    let _carbon = PeerProcess::spawn(
        Command::new(carbon)
            .arg(format!("--config={d}/carbon.conf"))
            .args(["--nodaemon", "start"])
            .stdout(std::fs::File::create(dir.path().join("out.txt")).unwrap())
            .stderr(Stdio::null()),
    );
    assert!(wait_for_port(line_port, 30), "carbon-cache did not start");

    static T: Gauge = Gauge::new("carbon_temperature", "help");
    static L: FixedFamily<GaugeValue, 1, 2> = FixedFamily::gauge("carbon_requests", "help", ["code"]);
    T.set(42.5);
    L.get(["200"]).unwrap().set(7.0);
    let both: [&dyn Collector; 2] = [&T, &L];
    let start = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    GraphiteBridge::new(&format!("127.0.0.1:{line_port}"), Arc::new(both)).push("promstack.test").unwrap();

    let whisper = dir.path().join("storage/whisper/promstack/test");
    let read = |file: &str| -> String {
        let out = Command::new(&fetch)
            .arg(format!("--from={}", start - 2))
            .arg(whisper.join(file))
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    let (mut t, mut l) = (String::new(), String::new());
    while Instant::now() < deadline {
        t = read("carbon_temperature.wsp");
        l = read("carbon_requests/code/200.wsp");
        if t.contains("\t42.500000") && l.contains("\t7.000000") {
            break;
        }
        std::thread::sleep(Duration::from_millis(300));
    }
    assert!(t.contains("\t42.500000"), "whisper-fetch carbon_temperature: {t}");
    assert!(l.contains("\t7.000000"), "whisper-fetch carbon_requests.code.200: {l}");
}
