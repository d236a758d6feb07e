//! promstack on a microcontroller: `static` metrics, no allocator, the exposition streamed out.
//!
//! Runs on the Cortex-M3 of the lm3s6965evb board (under QEMU: `cargo run --release` in this
//! directory). The main loop stands in for firmware work and updates the metrics; then the
//! Prometheus text exposition is written to the host over semihosting, through a small buffered
//! [`embedded_io::Write`], and QEMU exits. On a real board the same `encode_text` call would
//! write into a UART or a TCP socket.
#![no_std]
#![no_main]

use core::sync::atomic::{AtomicU32, Ordering};

use cortex_m_rt::entry;
use cortex_m_semihosting::debug::{self, EXIT_FAILURE, EXIT_SUCCESS};
use cortex_m_semihosting::hio::{self, HostStream};
use panic_halt as _;
use promstack_core::{
    Counter, CounterValue, Enum, FixedFamily, Gauge, GaugeFn, Histogram, Info, InfoPairs, StaticRegistry,
    LABEL_REJECTIONS,
};

/// Iterations of the main loop the demo runs; ci/firmware.sh checks the totals it implies.
const ITERATIONS: u32 = 1000;

static LOOPS: Counter = Counter::new("fw_loop_iterations_total", "Main loop iterations.");
static BYTES_SENT: Counter = Counter::new("fw_bytes_sent_total", "Bytes sent on the radio.");
static TEMPERATURE: Gauge = Gauge::new("fw_temperature_celsius", "Temperature of the board sensor.");
static QUEUE_DEPTH: Gauge = Gauge::new("fw_queue_depth", "Packets waiting to be sent.");
/// Read at scrape time, from the tick the loop keeps.
static UPTIME: GaugeFn = GaugeFn::new("fw_uptime_ticks", "Ticks since boot.", uptime);
static PACKET_SIZE: Histogram<4> =
    Histogram::new("fw_packet_size_bytes", "Sizes of the packets sent.", [8.0, 12.0, 16.0, 20.0]);
/// Two labels, room for 8 children, all inline in the `static`.
static PACKETS: FixedFamily<CounterValue, 2, 8> =
    FixedFamily::counter("fw_packets", "Packets sent, by kind and result.", ["kind", "result"]);
static RADIO: Enum = Enum::new("fw_radio_state", "State of the radio.", &["idle", "tx", "rx"]);
static BUILD: Info = Info::new(
    "fw_build",
    "Firmware build.",
    InfoPairs::new(&["board", "version"], &["lm3s6965evb", env!("CARGO_PKG_VERSION")]),
);

/// Everything the firmware exposes, in exposition order. Names are checked once at boot
/// ([`StaticRegistry::check`]).
static REGISTRY: StaticRegistry = StaticRegistry::new(&[
    &LOOPS,
    &BYTES_SENT,
    &TEMPERATURE,
    &QUEUE_DEPTH,
    &UPTIME,
    &PACKET_SIZE,
    &PACKETS,
    &RADIO,
    &BUILD,
    &LABEL_REJECTIONS,
]);

static TICKS: AtomicU32 = AtomicU32::new(0);

fn uptime() -> f64 {
    f64::from(TICKS.load(Ordering::Relaxed))
}

#[entry]
fn main() -> ! {
    if REGISTRY.check().is_err() {
        fail();
    }
    for i in 0..ITERATIONS {
        TICKS.fetch_add(1, Ordering::Relaxed);
        LOOPS.inc();
        RADIO.set("tx").unwrap_or_else(|_| fail());
        // A packet of 5..=20 bytes.
        let len = 5 + i % 16;
        QUEUE_DEPTH.inc();
        BYTES_SENT.inc_by(f64::from(len)).unwrap_or_else(|_| fail());
        PACKET_SIZE.observe(f64::from(len));
        let kind = ["data", "ack", "beacon"][(i % 3) as usize];
        let result = if i % 10 == 9 { "retry" } else { "ok" };
        match PACKETS.get([kind, result]) {
            Ok(child) => child.inc(),
            Err(_) => fail(),
        }
        // Every fourth iteration the radio drains three packets.
        if i % 4 == 3 {
            QUEUE_DEPTH.sub(3.0);
        }
        TEMPERATURE.set(20.0 + f64::from(i % 10) * 0.5);
        RADIO.set("idle").unwrap_or_else(|_| fail());
    }
    // A typed lookup with the wrong number of label values does not compile; one counted at run
    // time is refused and counted in promstack_label_rejections_total, and the existing series
    // are untouched.
    if PACKETS.with_label_values(&["data"]).is_ok() {
        fail();
    }

    let Ok(stdout) = hio::hstdout() else { fail() };
    match REGISTRY.encode_text(HostWriter::new(stdout)) {
        Ok(_) => debug::exit(EXIT_SUCCESS),
        Err(_) => debug::exit(EXIT_FAILURE),
    }
    #[allow(clippy::empty_loop)]
    loop {}
}

fn fail() -> ! {
    debug::exit(EXIT_FAILURE);
    #[allow(clippy::empty_loop)]
    loop {}
}

/// The host's stdout over semihosting, buffered: each semihosting call traps into the debugger
/// (here QEMU), so bytes are sent a buffer at a time, not one call per write.
struct HostWriter {
    stream: HostStream,
    buf: [u8; 256],
    len: usize,
}

/// The host refused a semihosting write.
#[derive(Debug)]
struct HostError;

impl core::fmt::Display for HostError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("semihosting write failed")
    }
}

impl core::error::Error for HostError {}

impl embedded_io::Error for HostError {
    fn kind(&self) -> embedded_io::ErrorKind {
        embedded_io::ErrorKind::Other
    }
}

impl HostWriter {
    fn new(stream: HostStream) -> Self {
        HostWriter { stream, buf: [0; 256], len: 0 }
    }

    fn send(&mut self) -> Result<(), HostError> {
        if self.len > 0 {
            self.stream.write_all(&self.buf[..self.len]).map_err(|()| HostError)?;
            self.len = 0;
        }
        Ok(())
    }
}

impl embedded_io::ErrorType for HostWriter {
    type Error = HostError;
}

impl embedded_io::Write for HostWriter {
    fn write(&mut self, data: &[u8]) -> Result<usize, HostError> {
        if data.is_empty() {
            return Ok(0);
        }
        if self.len == self.buf.len() {
            self.send()?;
        }
        let n = data.len().min(self.buf.len() - self.len);
        self.buf[self.len..self.len + n].copy_from_slice(&data[..n]);
        self.len += n;
        Ok(n)
    }

    fn flush(&mut self) -> Result<(), HostError> {
        self.send()
    }
}
