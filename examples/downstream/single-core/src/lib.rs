//! Built for thumbv6m, thumbv7em and riscv32imc by `ci/downstream.sh`: promstack-core with the
//! user's choice of portable-atomic `unsafe-assume-single-core` compiles (before promstack
//! stopped enabling portable-atomic's `critical-section` itself, the two features collided).
#![no_std]

use promstack_core::{Counter, Histogram, StaticRegistry};

static PACKETS: Counter = Counter::new("radio_packets_total", "Packets sent.");
static ACK_TIME: Histogram<3> =
    Histogram::new("radio_ack_seconds", "Time to acknowledgement.", [0.01, 0.1, 1.0]);
static REGISTRY: StaticRegistry = StaticRegistry::new(&[&PACKETS, &ACK_TIME]);

/// Counts a packet and its acknowledgement time; callable from an interrupt handler.
pub fn on_ack(seconds: f64) {
    PACKETS.inc();
    ACK_TIME.observe(seconds);
}

/// Writes the exposition into `buf`; the number of bytes written.
pub fn scrape(buf: &mut [u8]) -> Option<usize> {
    let unused = REGISTRY.encode_text(&mut buf[..]).ok()?.len();
    Some(buf.len() - unused)
}
