//! Shared by both footprint firmwares (included with `#[path]`), so that both are measured the
//! same way: the exposition is encoded into one static buffer while the stack below the caller
//! is painted, then sent to the host in one semihosting write, followed by the encoder's stack
//! high-water mark.

use core::hint::black_box;
use core::ptr;

use cortex_m_semihosting::debug::{self, EXIT_FAILURE, EXIT_SUCCESS};
use cortex_m_semihosting::hio;

/// The device's interrupt vectors, as a device crate (PAC) provides them: the CMSDK subsystem of
/// mps2-an385 has 32 interrupt lines. Without cortex-m-rt's `device` feature it links a generic
/// table of 240 vectors (832 bytes more of flash, in both firmwares alike). No interrupt is
/// enabled here; each vector is cortex-m-rt's `DefaultHandler`.
#[link_section = ".vector_table.interrupts"]
#[no_mangle]
#[used]
static __INTERRUPTS: [unsafe extern "C" fn(); 32] = {
    extern "C" {
        fn DefaultHandler();
    }
    [DefaultHandler; 32]
};

/// Size of the static buffer the exposition is encoded into (in .bss of both firmwares). The
/// 5-metric exposition is about 1.3 KB.
pub const OUT_LEN: usize = 2048;

/// Bytes of stack painted below the caller's frame: more than any encoder here needs, far less
/// than the 4 MiB of RAM between .bss and the stack top.
const PAINT_LEN: usize = 16 * 1024;

/// The paint. A word the encoder happens to write with exactly this value would be missed, which
/// can only make the reported figure smaller by that word's distance from the deepest one.
const PAINT: u32 = 0xa5a5_a5a5;

/// Encodes with `encode` into the static output buffer, then sends the exposition and the line
/// `stack-used-by-encode: N` to the host and exits QEMU (failure if `encode` returned `None`).
pub fn run(encode: fn(&mut [u8]) -> Option<usize>) -> ! {
    let Some(buf) = cortex_m::singleton!(: [u8; OUT_LEN] = [0; OUT_LEN]) else { exit(false) };
    let (len, stack) = measure_stack(encode, buf);
    let Some(len) = len else { exit(false) };
    let Ok(mut out) = hio::hstdout() else { exit(false) };
    let ok = out.write_all(&buf[..len]).is_ok()
        && out.write_all(b"stack-used-by-encode: ").is_ok()
        && out.write_all(decimal(&mut [0; 20], stack)).is_ok()
        && out.write_all(b"\n").is_ok();
    exit(ok)
}

/// Calls `encode(buf)` with the stack below this frame painted; returns its result and how many
/// bytes below this frame it touched. Not inlined, and `encode` called through an opaque
/// pointer, so the encoder's frames all lie in the painted region.
#[inline(never)]
fn measure_stack(encode: fn(&mut [u8]) -> Option<usize>, buf: &mut [u8]) -> (Option<usize>, usize) {
    let sp = cortex_m::register::msp::read() as usize;
    let bottom = (sp - PAINT_LEN) & !3;
    // SAFETY: [bottom, sp) is free stack (4 MiB RAM, .bss ends near its start): nothing lives
    // below the stack pointer, there are no interrupts, and the loop itself makes no calls.
    for addr in (bottom..sp & !3).step_by(4) {
        unsafe { ptr::write_volatile(addr as *mut u32, PAINT) };
    }
    let result = black_box(encode)(buf);
    let mut lowest = sp;
    for addr in (bottom..sp & !3).step_by(4) {
        // SAFETY: the same words, aligned and in RAM; reading them races with nothing.
        if unsafe { ptr::read_volatile(addr as *const u32) } != PAINT {
            lowest = addr;
            break;
        }
    }
    (result, sp - lowest)
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
pub fn exit(ok: bool) -> ! {
    debug::exit(if ok { EXIT_SUCCESS } else { EXIT_FAILURE });
    #[allow(clippy::empty_loop)]
    loop {}
}
