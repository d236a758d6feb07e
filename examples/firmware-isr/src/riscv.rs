//! qemu-system-riscv32 `virt`: the CLINT machine timer as the tick, the 16550 UART for output,
//! the SiFive test device to exit.

use core::ptr::{read_volatile, write_volatile};
use riscv::interrupt::Interrupt;
use riscv_rt::{core_interrupt, entry};

/// CLINT registers of hart 0.
const MTIMECMP: usize = 0x0200_4000;
const MTIME: usize = 0x0200_bff8;
/// Transmit holding register of the 16550 (QEMU's is always ready).
const UART_THR: usize = 0x1000_0000;
/// SiFive test device: 0x5555 powers off with status 0, `code << 16 | 0x3333` with `code`.
const TEST_DEVICE: usize = 0x0010_0000;

/// mtime ticks (10 MHz on `virt`) from one tick's end to the next: 1 µs, 1,000 instructions
/// under ci/firmware.sh's `-icount shift=0`. The next deadline is set from the current time, so
/// the main loop always gets this long between two ticks.
const TICK_PERIOD: u64 = 10;

#[entry]
fn main() -> ! {
    crate::run()
}

#[core_interrupt(Interrupt::MachineTimer)]
fn machine_timer() {
    crate::on_tick();
    set_deadline(mtime() + TICK_PERIOD);
}

#[export_name = "ExceptionHandler"]
fn exception_handler(_: &riscv_rt::TrapFrame) -> ! {
    crate::fail("isr-test: exception")
}

fn mtime() -> u64 {
    // The high half can change between the two reads: read until it did not.
    loop {
        let hi = unsafe { read_volatile((MTIME + 4) as *const u32) };
        let lo = unsafe { read_volatile(MTIME as *const u32) };
        if hi == unsafe { read_volatile((MTIME + 4) as *const u32) } {
            return u64::from(hi) << 32 | u64::from(lo);
        }
    }
}

fn set_deadline(t: u64) {
    // High half to the maximum first, so no intermediate value is an earlier deadline.
    unsafe {
        write_volatile((MTIMECMP + 4) as *mut u32, u32::MAX);
        write_volatile(MTIMECMP as *mut u32, t as u32);
        write_volatile((MTIMECMP + 4) as *mut u32, (t >> 32) as u32);
    }
}

pub fn start_ticks() {
    set_deadline(mtime() + TICK_PERIOD);
    unsafe {
        riscv::register::mie::set_mtimer();
        riscv::interrupt::enable();
    }
}

pub fn stop_ticks() {
    unsafe { riscv::register::mie::clear_mtimer() };
}

pub fn exit(ok: bool) -> ! {
    let code = if ok { 0x5555 } else { 1 << 16 | 0x3333 };
    unsafe { write_volatile(TEST_DEVICE as *mut u32, code) };
    #[allow(clippy::empty_loop)]
    loop {}
}

/// The UART, a byte at a time.
pub struct Out;

impl Out {
    pub fn new() -> Self {
        Out
    }
}

impl embedded_io::ErrorType for Out {
    type Error = core::convert::Infallible;
}

impl embedded_io::Write for Out {
    fn write(&mut self, data: &[u8]) -> Result<usize, Self::Error> {
        for b in data {
            unsafe { write_volatile(UART_THR as *mut u8, *b) };
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}

impl core::fmt::Write for Out {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        embedded_io::Write::write_all(self, s.as_bytes()).map_err(|_| core::fmt::Error)
    }
}
