//! promstack-core's async path on a Cortex-M4 (QEMU mps2-an386): an async main loop updates
//! static metrics and sends their exposition to a socket-like `embedded_io_async::Write`, the
//! way an embassy-net TCP socket takes it, chunk by chunk, never holding the whole exposition.
//!
//! The executor is the smallest there is: `block_on` polls the one task with a no-op waker
//! (a real firmware runs embassy-executor; the encoder does not care). The socket is not ready
//! on every other poll and takes at most `MSS` bytes a write, as a TCP send buffer would; what
//! it takes goes to the host through semihosting and into a capture buffer. At the end the
//! firmware encodes the registry again with the push encoder, compares the two byte for byte,
//! prints a summary line and exits QEMU (ci/firmware.sh async checks the output).
#![no_std]
#![no_main]

use core::future::{poll_fn, Future};
use core::pin::pin;
use core::task::{Context, Poll, Waker};

use cortex_m_rt::entry;
use cortex_m_semihosting::debug::{self, EXIT_FAILURE, EXIT_SUCCESS};
use cortex_m_semihosting::hio::{self, HostStream};
use panic_halt as _;
use promstack_core::{encoding, CounterValue, FixedFamily, Gauge, Histogram, StaticRegistry};

static REQUESTS: promstack_core::Counter = promstack_core::Counter::new("fa_requests", "Requests served.");
static TEMPERATURE: Gauge = Gauge::new("fa_temperature_celsius", "Board temperature.");
static LATENCY: Histogram<4> =
    Histogram::new("fa_latency_seconds", "Time to answer.", [0.001, 0.01, 0.1, 1.0]);
static RESPONSES: FixedFamily<CounterValue, 1, 4> =
    FixedFamily::counter("fa_responses", "Responses by status.", ["status"]);
static REGISTRY: StaticRegistry = StaticRegistry::new(&[&REQUESTS, &TEMPERATURE, &LATENCY, &RESPONSES]);

/// Bytes the socket takes per write, as a small TCP window would.
const MSS: usize = 48;
/// The encoder's chunk: the only buffer the async path needs.
const CHUNK: usize = 64;
/// Room for the exposition in the capture and comparison buffers.
const CAPTURE: usize = 4096;

/// A socket-like sink: not ready on every other poll, at most `MSS` bytes per write.
struct Socket {
    host: HostStream,
    capture: &'static mut [u8; CAPTURE],
    len: usize,
    ready: bool,
    writes: u32,
    not_ready: u32,
}

/// The socket's error: the host refused the bytes, or the capture is full.
#[derive(Debug)]
struct SocketError;

impl core::fmt::Display for SocketError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("the host refused the bytes or the capture is full")
    }
}

impl core::error::Error for SocketError {}

impl embedded_io_async::Error for SocketError {
    fn kind(&self) -> embedded_io_async::ErrorKind {
        embedded_io_async::ErrorKind::Other
    }
}

impl embedded_io_async::ErrorType for Socket {
    type Error = SocketError;
}

impl embedded_io_async::Write for Socket {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, SocketError> {
        poll_fn(|cx| {
            self.ready = !self.ready;
            if self.ready {
                Poll::Ready(())
            } else {
                self.not_ready += 1;
                cx.waker().wake_by_ref();
                Poll::Pending
            }
        })
        .await;
        let n = buf.len().min(MSS);
        let room = self.capture.get_mut(self.len..self.len + n).ok_or(SocketError)?;
        room.copy_from_slice(&buf[..n]);
        self.len += n;
        self.writes += 1;
        self.host.write_all(&buf[..n]).map_err(|()| SocketError)?;
        Ok(n)
    }

    async fn flush(&mut self) -> Result<(), SocketError> {
        Ok(())
    }
}

/// Polls `task` to completion (bounded: a task that never finishes fails the run).
fn block_on<F: Future>(task: F) -> Option<F::Output> {
    let mut task = pin!(task);
    let mut cx = Context::from_waker(Waker::noop());
    for _ in 0..1_000_000 {
        if let Poll::Ready(out) = task.as_mut().poll(&mut cx) {
            return Some(out);
        }
    }
    None
}

/// The application: serve some requests, then answer one scrape.
async fn app(socket: &mut Socket) -> Result<(), promstack_core::EncodeError<SocketError>> {
    for i in 0..100u32 {
        REQUESTS.inc();
        TEMPERATURE.set(20.0 + f64::from(i % 8) * 0.25);
        LATENCY.observe(f64::from(i % 10) * 0.02);
        let status = if i % 10 == 9 { "500" } else { "200" };
        if let Ok(child) = RESPONSES.get([status]) {
            child.inc();
        }
    }
    let mut chunk = [0u8; CHUNK];
    encoding::encode_text_async(socket, &REGISTRY, &mut chunk).await
}

#[entry]
fn main() -> ! {
    let Some(capture) = cortex_m::singleton!(: [u8; CAPTURE] = [0; CAPTURE]) else { exit(false) };
    let Ok(host) = hio::hstdout() else { exit(false) };
    let mut socket = Socket { host, capture, len: 0, ready: false, writes: 0, not_ready: 0 };
    let sent = block_on(app(&mut socket));
    if !matches!(sent, Some(Ok(()))) {
        say(&mut socket.host, b"async-firmware: the async encoding failed\n");
        exit(false);
    }
    // The same registry through the push encoder: the bytes must be the same.
    let Some(push) = cortex_m::singleton!(: [u8; CAPTURE] = [0; CAPTURE]) else { exit(false) };
    let Ok(rest) = REGISTRY.encode_text(&mut push[..]) else { exit(false) };
    let pushed = CAPTURE - rest.len();
    let same = push[..pushed] == socket.capture[..socket.len];
    let host = &mut socket.host;
    say(host, b"async-firmware: ");
    say(host, decimal(&mut [0; 20], socket.len));
    say(host, b" bytes in ");
    say(host, decimal(&mut [0; 20], socket.writes as usize));
    say(host, b" socket writes, ");
    say(host, decimal(&mut [0; 20], socket.not_ready as usize));
    say(host, b" polls not ready, ");
    say(host, if same { b"identical to the push encoder\n" } else { b"DIFFERENT from the push encoder\n" });
    exit(same && socket.not_ready > 0)
}

fn say(host: &mut HostStream, bytes: &[u8]) {
    let _ = host.write_all(bytes);
}

/// `n` in decimal, written at the end of `digits`.
fn decimal(digits: &mut [u8; 20], mut n: usize) -> &[u8] {
    let mut start = digits.len();
    loop {
        start -= 1;
        digits[start] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            return &digits[start..];
        }
    }
}

/// Ends the QEMU run: exit status 0 when `ok`, 1 otherwise.
fn exit(ok: bool) -> ! {
    debug::exit(if ok { EXIT_SUCCESS } else { EXIT_FAILURE });
    #[allow(clippy::empty_loop)]
    loop {}
}
