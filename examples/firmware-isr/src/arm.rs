//! Cortex-M boards (mps2-an385, mps2-an386, microbit): SysTick as the tick, semihosting for
//! output and exit.

use cortex_m::peripheral::syst::SystClkSource;
use cortex_m::peripheral::SYST;
use cortex_m_rt::{entry, exception, ExceptionFrame};
use cortex_m_semihosting::debug::{self, EXIT_FAILURE, EXIT_SUCCESS};
use cortex_m_semihosting::hio::{self, HostStream};

/// Core clock of the QEMU machine: the nRF51 of the micro:bit runs at 16 MHz, the MPS2 FPGA
/// images at 25 MHz.
#[cfg(not(target_has_atomic = "32"))]
const CORE_HZ: u32 = 16_000_000;
#[cfg(target_has_atomic = "32")]
const CORE_HZ: u32 = 25_000_000;
/// Core clock cycles between ticks: 2 µs. ci/firmware.sh runs QEMU with `-icount shift=0` (one
/// instruction per nanosecond of virtual time), so a tick comes every 2,000 instructions, about
/// once per operation set, at places that shift as the operation sets vary in length.
const TICK_CYCLES: u32 = CORE_HZ / 500_000;

#[entry]
fn main() -> ! {
    crate::run()
}

#[exception]
fn SysTick() {
    crate::on_tick();
}

#[exception]
unsafe fn HardFault(_: &ExceptionFrame) -> ! {
    crate::fail("isr-test: hard fault")
}

pub fn start_ticks() {
    // Only `run` calls this, once, before any other use of SYST.
    let mut syst = unsafe { cortex_m::Peripherals::steal() }.SYST;
    syst.set_clock_source(SystClkSource::Core);
    syst.set_reload(TICK_CYCLES - 1);
    syst.clear_current();
    syst.enable_interrupt();
    syst.enable_counter();
}

pub fn stop_ticks() {
    let mut syst = unsafe { cortex_m::Peripherals::steal() }.SYST;
    syst.disable_interrupt();
    syst.disable_counter();
    // A tick that became pending meanwhile would still run once interrupts are taken.
    SYST::has_wrapped(&mut syst);
    cortex_m::peripheral::SCB::clear_pendst();
}

pub fn exit(ok: bool) -> ! {
    debug::exit(if ok { EXIT_SUCCESS } else { EXIT_FAILURE });
    #[allow(clippy::empty_loop)]
    loop {}
}

/// The host's stdout over semihosting, buffered: each semihosting call traps into QEMU, so
/// bytes go a buffer at a time.
pub struct Out {
    stream: Option<HostStream>,
    buf: [u8; 256],
    len: usize,
}

/// The host refused a semihosting write.
#[derive(Debug)]
pub struct HostError;

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

impl Out {
    pub fn new() -> Self {
        Out { stream: hio::hstdout().ok(), buf: [0; 256], len: 0 }
    }

    fn send(&mut self) -> Result<(), HostError> {
        if self.len > 0 {
            let stream = self.stream.as_mut().ok_or(HostError)?;
            stream.write_all(&self.buf[..self.len]).map_err(|()| HostError)?;
            self.len = 0;
        }
        Ok(())
    }
}

impl embedded_io::ErrorType for Out {
    type Error = HostError;
}

impl embedded_io::Write for Out {
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

impl core::fmt::Write for Out {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        embedded_io::Write::write_all(self, s.as_bytes()).map_err(|_| core::fmt::Error)
    }
}
