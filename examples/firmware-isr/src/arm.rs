//! Cortex-M boards: mps2-an385 / mps2-an386 tick with SysTick, the micro:bit with its TIMER0;
//! output and exit through semihosting.

use cortex_m_rt::{entry, exception, ExceptionFrame};
use cortex_m_semihosting::debug::{self, EXIT_FAILURE, EXIT_SUCCESS};
use cortex_m_semihosting::hio::{self, HostStream};

pub use tick::{start as start_ticks, stop as stop_ticks};

#[entry]
fn main() -> ! {
    crate::run()
}

#[exception]
unsafe fn HardFault(_: &ExceptionFrame) -> ! {
    crate::fail("isr-test: hard fault")
}

/// mps2-an385 / mps2-an386: SysTick on the 25 MHz core clock, every 2 µs. ci/firmware.sh runs
/// QEMU with `-icount shift=0` (one instruction per nanosecond of virtual time), so a tick
/// comes every 2,000 instructions, about once per operation set, at places that shift as the
/// operation sets vary in length.
#[cfg(board = "mps2")]
mod tick {
    use cortex_m::peripheral::syst::SystClkSource;
    use cortex_m::peripheral::{SCB, SYST};
    use cortex_m_rt::exception;

    const TICK_CYCLES: u32 = 25_000_000 / 500_000;

    #[exception]
    fn SysTick() {
        crate::on_tick();
    }

    pub fn start() {
        // Only `run` uses SYST, and only through these two functions.
        let mut syst = unsafe { cortex_m::Peripherals::steal() }.SYST;
        syst.set_clock_source(SystClkSource::Core);
        syst.set_reload(TICK_CYCLES - 1);
        syst.clear_current();
        syst.enable_interrupt();
        syst.enable_counter();
    }

    pub fn stop() {
        let mut syst = unsafe { cortex_m::Peripherals::steal() }.SYST;
        syst.disable_interrupt();
        syst.disable_counter();
        SYST::has_wrapped(&mut syst);
        SCB::clear_pendst();
    }
}

/// micro:bit: the nRF51's Cortex-M0 has no SysTick (QEMU models one, the chip does not), so the
/// tick is TIMER0 at 16 MHz, cleared on compare every 2 µs (2,000 instructions under
/// `-icount shift=0`). Its interrupt (number 8) arrives in cortex-m-rt's `DefaultHandler`:
/// without a device crate every device interrupt does.
#[cfg(board = "microbit")]
mod tick {
    use core::ptr::write_volatile;
    use cortex_m::peripheral::NVIC;
    use cortex_m_rt::exception;

    const TIMER0: usize = 0x4000_8000;
    const TASKS_START: usize = 0x000;
    const TASKS_STOP: usize = 0x004;
    const TASKS_CLEAR: usize = 0x00c;
    const EVENTS_COMPARE0: usize = 0x140;
    const SHORTS: usize = 0x200;
    const INTENSET: usize = 0x304;
    const INTENCLR: usize = 0x308;
    const MODE: usize = 0x504;
    const BITMODE: usize = 0x508;
    const PRESCALER: usize = 0x510;
    const CC0: usize = 0x540;
    /// SHORTS: clear the counter on COMPARE[0], so the timer is periodic.
    const COMPARE0_CLEAR: u32 = 1;
    /// INTENSET / INTENCLR: the COMPARE[0] event.
    const COMPARE0_INT: u32 = 1 << 16;
    const BITMODE_32: u32 = 3;
    /// Timer ticks (16 MHz with prescaler 0) between two interrupts.
    const TICK_COUNTS: u32 = 32;

    #[derive(Clone, Copy)]
    struct Timer0Irq;

    // SAFETY: 8 is TIMER0's interrupt number on the nRF51.
    unsafe impl cortex_m::interrupt::InterruptNumber for Timer0Irq {
        fn number(self) -> u16 {
            8
        }
    }

    fn write(offset: usize, value: u32) {
        // SAFETY: a TIMER0 register of the nRF51; nothing else in this firmware uses TIMER0.
        unsafe { write_volatile((TIMER0 + offset) as *mut u32, value) }
    }

    #[exception]
    unsafe fn DefaultHandler(irqn: i16) {
        if irqn != 8 {
            crate::fail("isr-test: unexpected interrupt");
        }
        // The interrupt line follows the event: clear it first or the handler runs again.
        write(EVENTS_COMPARE0, 0);
        crate::on_tick();
    }

    pub fn start() {
        write(TASKS_STOP, 1);
        write(TASKS_CLEAR, 1);
        write(MODE, 0);
        write(BITMODE, BITMODE_32);
        write(PRESCALER, 0);
        write(CC0, TICK_COUNTS);
        write(SHORTS, COMPARE0_CLEAR);
        write(INTENSET, COMPARE0_INT);
        // SAFETY: the handler is ready; no critical section relies on this interrupt being masked.
        unsafe { NVIC::unmask(Timer0Irq) };
        write(TASKS_START, 1);
    }

    pub fn stop() {
        write(INTENCLR, COMPARE0_INT);
        write(TASKS_STOP, 1);
        NVIC::mask(Timer0Irq);
        write(EVENTS_COMPARE0, 0);
        NVIC::unpend(Timer0Irq);
    }
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
