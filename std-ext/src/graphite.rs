//! Graphite bridge: pushes every sample to a Graphite (carbon) server over the plaintext
//! protocol, once or periodically from a background thread (SPEC §6).
//!
//! One line per sample: `[prefix.]name[.key.value ...] value timestamp`, label pairs sorted by
//! key, every name, key and value with characters outside `[a-zA-Z0-9_-]` replaced by `_` (so
//! dots only ever separate path components), the value as a float, the timestamp in whole Unix
//! seconds. Each push is one TCP connection.

use promstack_core::{Clock, CollectError, Collector, Desc, Sample, Sink, Value};
use std::fmt::Write as _;
use std::io::{self, Write as _};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Pushes a collector's samples to a Graphite server.
///
/// ```no_run
/// use std::{sync::Arc, time::Duration};
/// use promstack::{GraphiteBridge, Gauge};
/// static QUEUE: Gauge = Gauge::new("queue_depth", "Jobs waiting.");
/// let bridge = GraphiteBridge::new("graphite.example:2003", Arc::new(&QUEUE));
/// bridge.push("myapp").unwrap(); // "myapp.queue_depth 0.0 1700000000"
/// let pusher = bridge.start(Duration::from_secs(10), "myapp"); // every 10 s, in the background
/// pusher.stop();
/// ```
#[derive(Clone)]
pub struct GraphiteBridge {
    address: String,
    collector: Arc<dyn Collector>,
    timeout: Duration,
    timer: fn() -> f64,
}

fn system_time() -> f64 {
    crate::StdClock.unix_time()
}

impl GraphiteBridge {
    /// A bridge sending `collector` to `address` (`host:port`, resolved at every push), with a
    /// 30 s timeout.
    pub fn new(address: &str, collector: Arc<dyn Collector>) -> Self {
        GraphiteBridge {
            address: address.to_owned(),
            collector,
            timeout: Duration::from_secs(30),
            timer: system_time,
        }
    }

    /// Connect and send timeout (default 30 s).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Where timestamps come from (Unix seconds); the default is the system clock. For tests.
    pub fn with_timer(mut self, timer: fn() -> f64) -> Self {
        self.timer = timer;
        self
    }

    /// The lines one push would send now, with `prefix` (`""` for none).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use promstack::{GraphiteBridge, Gauge};
    /// static G: Gauge = Gauge::new("g", "help");
    /// G.inc();
    /// let bridge = GraphiteBridge::new("localhost:2003", Arc::new(&G)).with_timer(|| 1434898897.5);
    /// assert_eq!(bridge.render("pre.fix").unwrap(), "pre.fix.g 1.0 1434898897\n");
    /// ```
    pub fn render(&self, prefix: &str) -> Result<String, CollectError> {
        let now = (self.timer)() as i64;
        let mut sink = LineSink { out: String::new(), prefix, now };
        self.collector.collect(&mut sink)?;
        Ok(sink.out)
    }

    /// Collects now and sends the lines over one new TCP connection.
    pub fn push(&self, prefix: &str) -> io::Result<()> {
        let lines = self.render(prefix).map_err(io::Error::other)?;
        let mut last_err =
            io::Error::new(io::ErrorKind::NotFound, format!("{} resolves to no address", self.address));
        for addr in self.address.to_socket_addrs()? {
            match TcpStream::connect_timeout(&addr, self.timeout) {
                Ok(mut stream) => {
                    stream.set_write_timeout(Some(self.timeout))?;
                    stream.write_all(lines.as_bytes())?;
                    stream.flush()?;
                    let _ = stream.shutdown(std::net::Shutdown::Write);
                    return Ok(());
                }
                Err(e) => last_err = e,
            }
        }
        Err(last_err)
    }

    /// Pushes every `interval` from a background thread, starting now, on a fixed schedule
    /// (push `n` is due at start + n × interval, so slow pushes do not make it drift; missed
    /// slots are skipped). A failed push is logged and the thread goes on.
    pub fn start(self, interval: Duration, prefix: &str) -> GraphitePusher {
        let stop = Arc::new((Mutex::new(false), Condvar::new()));
        let prefix = prefix.to_owned();
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("promstack-graphite".to_owned())
            .spawn(move || self.run(interval, &prefix, &flag))
            .expect("spawn the graphite thread");
        GraphitePusher { stop, thread: Some(thread) }
    }

    fn run(&self, interval: Duration, prefix: &str, stop: &(Mutex<bool>, Condvar)) {
        let interval = interval.max(Duration::from_millis(1));
        let mut due = Instant::now();
        loop {
            // Wait until the slot is due or we are told to stop.
            let (lock, cvar) = stop;
            let mut stopped = lock.lock().unwrap_or_else(|p| p.into_inner());
            loop {
                if *stopped {
                    return;
                }
                let now = Instant::now();
                if now >= due {
                    break;
                }
                stopped = cvar.wait_timeout(stopped, due - now).unwrap_or_else(|p| p.into_inner()).0;
            }
            drop(stopped);
            // A panicking collector must not end the schedule either.
            match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.push(prefix))) {
                Ok(Ok(())) => {}
                Ok(Err(e)) => log::error!("graphite push to {} failed: {e}", self.address),
                Err(_) => log::error!("graphite push to {} failed: a collector panicked", self.address),
            }
            let now = Instant::now();
            due += interval;
            // Skip the slots a slow push or an unreachable server made us miss.
            while due <= now {
                due += interval;
            }
        }
    }
}

/// The background thread of [`GraphiteBridge::start`]. Dropping it detaches the thread (it
/// keeps pushing); [`GraphitePusher::stop`] ends it.
pub struct GraphitePusher {
    stop: Arc<(Mutex<bool>, Condvar)>,
    thread: Option<JoinHandle<()>>,
}

impl GraphitePusher {
    /// Stops the thread (a push in progress finishes first) and waits for it.
    pub fn stop(mut self) {
        let (lock, cvar) = &*self.stop;
        *lock.lock().unwrap_or_else(|p| p.into_inner()) = true;
        cvar.notify_all();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Replaces every character outside `[a-zA-Z0-9_-]` with `_`.
fn sanitize_into(out: &mut String, s: &str) {
    out.extend(s.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == '-' { c } else { '_' }));
}

/// Renders samples as Graphite plaintext lines.
struct LineSink<'p> {
    out: String,
    prefix: &'p str,
    now: i64,
}

impl Sink for LineSink<'_> {
    fn family(&mut self, _desc: &Desc<'_>) -> Result<(), CollectError> {
        Ok(())
    }

    fn sample(&mut self, desc: &Desc<'_>, sample: &Sample<'_>) -> Result<(), CollectError> {
        let out = &mut self.out;
        if !self.prefix.is_empty() {
            // The prefix is the caller's own path; its dots are kept.
            out.push_str(self.prefix);
            out.push('.');
        }
        sanitize_into(out, desc.name);
        sanitize_into(out, sample.suffix);
        for (k, v) in sample.labels.sorted() {
            out.push('.');
            sanitize_into(out, k);
            out.push('.');
            sanitize_into(out, v);
        }
        // Python writes float(value): "1.0", "21.5", "1e-05", "inf", "nan"; carbon reads all.
        let _ = match sample.value {
            Value::Int(i) => write!(out, " {i}.0 {}", self.now),
            Value::Signed(i) => write!(out, " {i}.0 {}", self.now),
            Value::Float(f) => write!(out, " {f:?} {}", self.now),
        };
        out.push('\n');
        Ok(())
    }
}
