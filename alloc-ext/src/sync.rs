//! The shared-ownership pointer and the locks this crate builds on, chosen per target.
//!
//! [`Arc`] is `alloc::sync::Arc` (the same type as `std::sync::Arc`) wherever the target has
//! pointer-sized compare-and-swap. Targets without it (thumbv6m) get `portable_atomic_util::Arc`,
//! whose atomics go through portable-atomic's critical-section fallback; there a collector is
//! turned into an `Arc<dyn Collector>` with `Arc::from(Box::new(c) as Box<dyn Collector>)`,
//! because that `Arc` cannot coerce to `dyn` on stable Rust.
//!
//! The locks are `spin`'s, built on portable-atomic for the same reason. With the `std` feature
//! a waiting thread yields to the OS scheduler instead of spinning.

#[cfg(target_has_atomic = "ptr")]
pub use alloc::sync::Arc;
#[cfg(not(target_has_atomic = "ptr"))]
pub use portable_atomic_util::Arc;

#[cfg(feature = "std")]
pub(crate) type Relax = spin::Yield;
#[cfg(not(feature = "std"))]
pub(crate) type Relax = spin::Spin;

/// Reader-writer lock used by families and registries.
pub(crate) type RwLock<T> = spin::rwlock::RwLock<T, Relax>;
/// Mutex used to serialize writers.
pub(crate) type Mutex<T> = spin::mutex::SpinMutex<T, Relax>;

/// The reference count of a table node ([`crate::table::Node`]): native where the target has
/// 32-bit compare-and-swap, portable-atomic's otherwise (as [`Arc`]'s).
#[cfg(target_has_atomic = "ptr")]
pub(crate) type AtomicU32 = core::sync::atomic::AtomicU32;
#[cfg(not(target_has_atomic = "ptr"))]
pub(crate) type AtomicU32 = portable_atomic::AtomicU32;

/// The lock words of a [`crate::table::ChildTable`]: native where the target has pointer-sized
/// compare-and-swap, portable-atomic's otherwise.
#[cfg(target_has_atomic = "ptr")]
pub(crate) type AtomicUsize = core::sync::atomic::AtomicUsize;
#[cfg(not(target_has_atomic = "ptr"))]
pub(crate) type AtomicUsize = portable_atomic::AtomicUsize;
