//! The 5-metric footprint firmware with promstack-core: two counters, a gauge, a histogram with
//! 8 buckets and a counter family with 2 labels, encoded as Prometheus text. Its twin,
//! ../embeprom, does the same with embeprom 0.3; ci/footprint.sh builds both, runs them under
//! QEMU (mps2-an385, Cortex-M3) and prints their flash, RAM and encode stack side by side.
//!
//! Feature `floats` (default): the gauge and the histogram take `f64` and the gauge ends on a
//! fraction. Without it, the integer-only variant uses what promstack offers for integers today:
//! [`Counter32`] for the counters. Its gauge, histogram and family values are still `f64` (there
//! are no integer ones yet), so float formatting stays linked; that is what this measures.
#![no_std]
#![no_main]

#[path = "../../common.rs"]
mod common;

use cortex_m_rt::entry;
use panic_halt as _;
use promstack_core::{CounterValue, FixedFamily, Gauge, Histogram, StaticRegistry};

/// Iterations of the main loop; ci/footprint.sh checks the totals they imply.
const ITERATIONS: u32 = 1000;

#[cfg(feature = "floats")]
type Counter = promstack_core::Counter;
#[cfg(not(feature = "floats"))]
type Counter = promstack_core::Counter32;

static LOOPS: Counter = Counter::new("fp_loop_iterations_total", "Main loop iterations.");
static BYTES_SENT: Counter = Counter::new("fp_bytes_sent_total", "Bytes sent on the radio.");
static TEMPERATURE: Gauge = Gauge::new("fp_temperature_celsius", "Temperature of the board sensor.");
static PACKET_SIZE: Histogram<8> = Histogram::new(
    "fp_packet_size_bytes",
    "Sizes of the packets sent.",
    [6.0, 8.0, 10.0, 12.0, 14.0, 16.0, 18.0, 20.0],
);
static PACKETS: FixedFamily<CounterValue, 2, 8> =
    FixedFamily::counter("fp_packets", "Packets sent, by kind and result.", ["kind", "result"]);

static REGISTRY: StaticRegistry =
    StaticRegistry::new(&[&LOOPS, &BYTES_SENT, &TEMPERATURE, &PACKET_SIZE, &PACKETS]);

#[entry]
fn main() -> ! {
    for i in 0..ITERATIONS {
        // A packet of 5..=20 bytes.
        let len = 5 + i % 16;
        LOOPS.inc();
        record(i, len);
        let kind = ["data", "ack", "beacon"][(i % 3) as usize];
        let result = if i % 10 == 9 { "retry" } else { "ok" };
        if let Ok(child) = PACKETS.get([kind, result]) {
            child.inc();
        }
    }
    common::run(encode)
}

#[cfg(feature = "floats")]
fn record(i: u32, len: u32) {
    BYTES_SENT.inc_by_int(u64::from(len));
    TEMPERATURE.set(20.0 + f64::from(i % 10) * 0.5);
    PACKET_SIZE.observe(f64::from(len));
}

#[cfg(not(feature = "floats"))]
fn record(i: u32, len: u32) {
    BYTES_SENT.inc_by(len);
    TEMPERATURE.set(f64::from(20 + i % 10 / 2));
    PACKET_SIZE.observe(f64::from(len));
}

fn encode(buf: &mut [u8]) -> Option<usize> {
    let capacity = buf.len();
    let rest = REGISTRY.encode_text(buf).ok()?;
    Some(capacity - rest.len())
}
