//! The atomics and the lock every metric is built on, chosen per target so that each operation
//! is safe in an interrupt handler while the main loop uses the same metric.
//!
//! | what | native atomics for that width | no native atomics for that width |
//! |---|---|---|
//! | values (`AtomicU64`, `AtomicF64`, `AtomicU32`, `AtomicUsize`) | one atomic instruction | [`Locked`]: a critical section around a plain load/modify/store (interrupts masked on single-core parts); with the `portable-atomic` feature, portable-atomic's types, implemented as the binary chose (`critical-section` or `unsafe-assume-single-core`) |
//! | claiming a labeled child, registering, installing the clock ([`Lock`], [`exclusive`]) | `critical_section::with`; with the `std` feature a `std::sync::Mutex` | the same |
//!
//! A spin lock is never used: an interrupt handler spinning on a lock the interrupted main loop
//! holds waits forever. A critical section instead keeps the handler from running until the
//! main loop leaves it, which is what makes `inc()` from a SysTick handler safe on a Cortex-M3
//! (no 64-bit atomics) or a Cortex-M0 / RV32IMC (no read-modify-write atomics at all).
//!
//! With the `std` feature (which `promstack` turns on) nothing here calls `critical_section`, so
//! a server links no critical-section implementation and a binary that brings its own gets no
//! duplicate symbols. On hosts every supported width is native anyway; the mutex only guards the
//! rare structural changes, and no lock is held while user code runs.

#[cfg(not(feature = "std"))]
use core::cell::RefCell;
pub(crate) use core::sync::atomic::Ordering;

// ---- values ------------------------------------------------------------------------------------

/// `AtomicU64` with every read-modify-write operation, on every target.
#[cfg(target_has_atomic = "64")]
pub(crate) type AtomicU64 = core::sync::atomic::AtomicU64;
#[cfg(all(not(target_has_atomic = "64"), feature = "portable-atomic"))]
pub(crate) type AtomicU64 = portable_atomic::AtomicU64;
#[cfg(all(not(target_has_atomic = "64"), not(feature = "portable-atomic")))]
pub(crate) type AtomicU64 = Locked<u64>;

/// `AtomicU32` with every read-modify-write operation, on every target.
#[cfg(target_has_atomic = "32")]
#[allow(dead_code)]
pub(crate) type AtomicU32 = core::sync::atomic::AtomicU32;
#[cfg(all(not(target_has_atomic = "32"), feature = "portable-atomic"))]
#[allow(dead_code)]
pub(crate) type AtomicU32 = portable_atomic::AtomicU32;
#[cfg(all(not(target_has_atomic = "32"), not(feature = "portable-atomic")))]
#[allow(dead_code)]
pub(crate) type AtomicU32 = Locked<u32>;

/// `AtomicUsize` with every read-modify-write operation, on every target.
#[cfg(target_has_atomic = "ptr")]
#[allow(dead_code)]
pub(crate) type AtomicUsize = core::sync::atomic::AtomicUsize;
#[cfg(all(not(target_has_atomic = "ptr"), feature = "portable-atomic"))]
#[allow(dead_code)]
pub(crate) type AtomicUsize = portable_atomic::AtomicUsize;
#[cfg(all(not(target_has_atomic = "ptr"), not(feature = "portable-atomic")))]
#[allow(dead_code)]
pub(crate) type AtomicUsize = Locked<usize>;

/// A value read and written under a critical section: the read-modify-write fallback for
/// targets without native atomics of its width. Same method names as the `core` atomics, so a
/// metric's code is the same on every target; the orderings are implied (a critical section is
/// a full barrier on the one core it masks, and a multi-core implementation's lock is too).
#[cfg(any(test, not(all(target_has_atomic = "64", target_has_atomic = "ptr"))))]
pub(crate) struct Locked<T: Copy> {
    #[cfg(not(feature = "std"))]
    cell: critical_section::Mutex<core::cell::Cell<T>>,
    #[cfg(feature = "std")]
    cell: std::sync::Mutex<T>,
}

#[cfg(any(test, not(all(target_has_atomic = "64", target_has_atomic = "ptr"))))]
#[allow(dead_code)]
impl<T: Copy + PartialEq> Locked<T> {
    pub(crate) const fn new(v: T) -> Self {
        #[cfg(not(feature = "std"))]
        let cell = critical_section::Mutex::new(core::cell::Cell::new(v));
        #[cfg(feature = "std")]
        let cell = std::sync::Mutex::new(v);
        Locked { cell }
    }

    /// Replaces the value with `f(value)`, returning the old one: the one primitive the rest is
    /// made of.
    #[inline]
    fn modify(&self, f: impl FnOnce(T) -> T) -> T {
        #[cfg(not(feature = "std"))]
        {
            critical_section::with(|cs| {
                let cell = self.cell.borrow(cs);
                let old = cell.get();
                cell.set(f(old));
                old
            })
        }
        #[cfg(feature = "std")]
        {
            let mut v = self.cell.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let old = *v;
            *v = f(old);
            old
        }
    }

    #[inline]
    pub(crate) fn load(&self, _: Ordering) -> T {
        self.modify(|v| v)
    }

    #[inline]
    pub(crate) fn store(&self, v: T, _: Ordering) {
        self.modify(|_| v);
    }

    #[inline]
    pub(crate) fn swap(&self, v: T, _: Ordering) -> T {
        self.modify(|_| v)
    }

    #[inline]
    pub(crate) fn compare_exchange(&self, current: T, new: T, _: Ordering, _: Ordering) -> Result<T, T> {
        let old = self.modify(|v| if v == current { new } else { v });
        if old == current {
            Ok(old)
        } else {
            Err(old)
        }
    }

    #[inline]
    pub(crate) fn compare_exchange_weak(&self, current: T, new: T, s: Ordering, f: Ordering) -> Result<T, T> {
        self.compare_exchange(current, new, s, f)
    }

    #[inline]
    pub(crate) fn fetch_update(
        &self,
        _: Ordering,
        _: Ordering,
        mut f: impl FnMut(T) -> Option<T>,
    ) -> Result<T, T> {
        let mut changed = false;
        let old = self.modify(|v| match f(v) {
            Some(n) => {
                changed = true;
                n
            }
            None => v,
        });
        if changed {
            Ok(old)
        } else {
            Err(old)
        }
    }
}

macro_rules! locked_int {
    ($($t:ty),*) => {$(
        #[cfg(any(test, not(all(target_has_atomic = "64", target_has_atomic = "ptr"))))]
        #[allow(dead_code)]
        impl Locked<$t> {
            #[inline]
            pub(crate) fn fetch_add(&self, n: $t, _: Ordering) -> $t {
                self.modify(|v| v.wrapping_add(n))
            }
            #[inline]
            pub(crate) fn fetch_sub(&self, n: $t, _: Ordering) -> $t {
                self.modify(|v| v.wrapping_sub(n))
            }
            #[inline]
            pub(crate) fn fetch_max(&self, n: $t, _: Ordering) -> $t {
                self.modify(|v| v.max(n))
            }
            #[inline]
            pub(crate) fn fetch_min(&self, n: $t, _: Ordering) -> $t {
                self.modify(|v| v.min(n))
            }
        }
    )*};
}
locked_int!(u32, u64, usize);

#[cfg(feature = "float")]
/// An `f64` stored as its bits in an [`AtomicU64`]: load and store are single atomic
/// operations where the target has 64-bit atomics; arithmetic is a compare-and-swap loop there
/// and one critical section elsewhere.
pub(crate) struct AtomicF64(AtomicU64);

#[allow(dead_code)]
#[cfg(feature = "float")]
impl AtomicF64 {
    pub(crate) const fn new(v: f64) -> Self {
        AtomicF64(AtomicU64::new(v.to_bits()))
    }

    #[inline]
    pub(crate) fn load(&self, o: Ordering) -> f64 {
        f64::from_bits(self.0.load(o))
    }

    #[inline]
    pub(crate) fn store(&self, v: f64, o: Ordering) {
        self.0.store(v.to_bits(), o);
    }

    #[inline]
    pub(crate) fn swap(&self, v: f64, o: Ordering) -> f64 {
        f64::from_bits(self.0.swap(v.to_bits(), o))
    }

    /// Replaces the value with `f(value)`; returns the old value.
    #[inline]
    pub(crate) fn update(&self, o: Ordering, mut f: impl FnMut(f64) -> f64) -> f64 {
        let old = self.0.fetch_update(o, Ordering::Relaxed, |b| Some(f(f64::from_bits(b)).to_bits()));
        // The closure always returns Some, so both arms hold the previous value.
        f64::from_bits(old.unwrap_or_else(|b| b))
    }

    #[inline]
    pub(crate) fn fetch_add(&self, v: f64, o: Ordering) -> f64 {
        self.update(o, |x| x + v)
    }

    #[inline]
    pub(crate) fn fetch_sub(&self, v: f64, o: Ordering) -> f64 {
        self.update(o, |x| x - v)
    }
}

// ---- structural changes ------------------------------------------------------------------------

/// A value changed only inside [`Lock::with`]: the registry's run-time slots, the installed
/// clock. Never held while user code runs.
pub(crate) struct Lock<T> {
    #[cfg(not(feature = "std"))]
    inner: critical_section::Mutex<RefCell<T>>,
    #[cfg(feature = "std")]
    inner: std::sync::Mutex<T>,
}

impl<T> Lock<T> {
    pub(crate) const fn new(v: T) -> Self {
        #[cfg(not(feature = "std"))]
        let inner = critical_section::Mutex::new(RefCell::new(v));
        #[cfg(feature = "std")]
        let inner = std::sync::Mutex::new(v);
        Lock { inner }
    }

    /// Runs `f` on the value with every other user (thread or interrupt handler) kept out.
    #[inline]
    pub(crate) fn with<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        #[cfg(not(feature = "std"))]
        {
            critical_section::with(|cs| f(&mut self.inner.borrow_ref_mut(cs)))
        }
        #[cfg(feature = "std")]
        {
            f(&mut self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner))
        }
    }
}

/// Serializes the writers of fixed-capacity families (claim, remove, clear) without a lock
/// field per family: a critical section, or one process-wide mutex with `std`. Readers never
/// take it. `f` must not re-enter `exclusive` (with `std` that would deadlock).
#[inline]
pub(crate) fn exclusive<R>(f: impl FnOnce() -> R) -> R {
    #[cfg(not(feature = "std"))]
    {
        critical_section::with(|_| f())
    }
    #[cfg(feature = "std")]
    {
        static WRITERS: std::sync::Mutex<()> = std::sync::Mutex::new(());
        let _held = WRITERS.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        f()
    }
}

#[cfg(all(test, feature = "float", feature = "openmetrics"))]
mod tests {
    use super::*;

    #[test]
    fn f64_arithmetic_is_exact_on_bits() {
        let v = AtomicF64::new(1.5);
        assert_eq!(v.fetch_add(2.25, Ordering::Relaxed), 1.5);
        assert_eq!(v.fetch_sub(0.75, Ordering::Relaxed), 3.75);
        assert_eq!(v.load(Ordering::Relaxed), 3.0);
        assert_eq!(v.swap(-0.0, Ordering::Relaxed), 3.0);
        assert!(v.load(Ordering::Relaxed).is_sign_negative());
    }

    #[test]
    fn locked_matches_the_native_atomics() {
        let l = Locked::new(u64::MAX - 1);
        assert_eq!(l.fetch_add(3, Ordering::Relaxed), u64::MAX - 1);
        assert_eq!(l.load(Ordering::Relaxed), 1, "wraps like the native fetch_add");
        assert_eq!(l.compare_exchange(1, 7, Ordering::Relaxed, Ordering::Relaxed), Ok(1));
        assert_eq!(l.compare_exchange(1, 9, Ordering::Relaxed, Ordering::Relaxed), Err(7));
        assert_eq!(l.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |_| None), Err(7));
        assert_eq!(l.fetch_max(10, Ordering::Relaxed), 7);
        assert_eq!(l.fetch_sub(4, Ordering::Relaxed), 10);
        assert_eq!(l.swap(2, Ordering::Relaxed), 6);
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    for _ in 0..10_000 {
                        l.fetch_add(1, Ordering::Relaxed);
                    }
                });
            }
        });
        assert_eq!(l.load(Ordering::Relaxed), 40_002);
    }

    #[test]
    fn lock_gives_exclusive_access() {
        static L: Lock<u32> = Lock::new(0);
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    for _ in 0..10_000 {
                        L.with(|v| *v += 1);
                    }
                });
            }
        });
        assert_eq!(L.with(|v| *v), 40_000);
    }
}
