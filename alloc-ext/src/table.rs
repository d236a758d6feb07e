//! The child table of every growing labeled family: lookup, creation, removal and reporting of
//! children by label values, written once for every storage.
//!
//! [`Family`](crate::Family) keeps its children's values on the heap; `promstack`'s
//! `multiprocess::Family` keeps them in memory-mapped files. Both store their children in a
//! [`ChildTable`]: what differs is only the entry type ([`TableEntry`]), which owns the label
//! values and wherever the value lives.
//!
//! # The lookup hot path
//! A table keeps its children in creation order in one `Vec` (a removed child leaves a hole
//! until holes are half of it), found through a `hashbrown::HashTable` of their positions, all
//! behind [`REPLICAS`] reader-writer lock words, each on
//! its own cache line (a "big-reader lock"). A reader takes the read side of one lock word,
//! picked from the address of its stack: threads run on distinct stacks (2 MiB apart by
//! default), so concurrent readers mostly take distinct lock words and never bounce one shared
//! cache line between cores, even when they all look up the same hot child. A writer takes the
//! write side of every lock word, so while it changes the table no reader is inside. A lookup
//! hashes the `&str` values (foldhash, with a `0xff` byte after each value, a byte UTF-8 never
//! contains, so `("ab","c")` and `("a","bc")` differ) before taking the lock, then probes the
//! table, comparing an entry's values (one allocation per child, [`LabelValues`]) with the
//! borrowed ones in place where the table's control byte matches: no `String` is built and
//! nothing is allocated.
//!
//! Writers (a new child, `remove`, `clear`) are rare: they serialize on one mutex, then take
//! every lock word (each through its upgradeable side, so a stream of readers cannot starve
//! them). One table, not one copy per lock word, keeps the memory per child at one table slot
//! (a 4-byte position) and one place in the order.
//!
//! # Reporting
//! A scrape walks the order: no sorting, no copy of the table. [`ChildTable::each`] copies
//! [`WALK_CHUNK`] child handles at a time under a read lock and reports them with no lock held
//! (a slow client never holds up a writer); [`ChildTable::each_child_held`] visits children
//! under the read lock while the visitor only copies bytes into memory of its own, and lets
//! the lock go when it would block (no handle copied per child). A compaction while no lock is
//! held is noticed by its epoch and the walk finds its place again by creation number, so no
//! child is reported twice.
//!
//! This is the crate's only `unsafe` code: the table sits in an `UnsafeCell` because no lock
//! type says "shared under any one of these, exclusive under all of them". The argument: a
//! `&` to the table exists only while its holder has one lock word read-locked, a `&mut` only
//! while its holder has every lock word write-locked; a write lock excludes every read lock of
//! its word, so the two never overlap, and two `&mut` never coexist since both would need
//! every word. `tests/tests/labels_concurrency.rs` stresses it.
//!
//! # Removed children (the stale-handle rule)
//! An update through a handle whose child was removed never reaches any exported series, in
//! particular not a child re-created with the same labels. The table's part: a removed entry
//! leaves the table before [`TableEntry::retire`] runs, and a re-created child is a new
//! entry, never the old one revived, so reporting, which walks the table, never sees the old
//! entry again. The entry's part: its updates must not reach the new child's storage (heap
//! values are separate allocations; file cells are retired in the file, see `promstack`'s
//! `multiprocess` module).

use crate::sync::{AtomicUsize, Mutex, Relax};
use alloc::boxed::Box;
use alloc::vec::Vec;
use core::cell::UnsafeCell;
use core::hash::{BuildHasher, Hasher};
use core::sync::atomic::Ordering;
use hashbrown::{DefaultHashBuilder, HashTable};
use promstack_core::encoding::LabelPieces;
use promstack_core::{check_label_pairs, CollectError, LabelError, Labels, Sink};

/// How many reader lock words a child table has, each on its own cache line.
pub const REPLICAS: usize = 8;

/// Label values of one lookup, read in the family's label-name order.
///
/// Implemented for slices and arrays of `&str` (positional values) and for [`Named`] (values
/// given by name); a typed label set implements it to be looked up without building a slice.
pub trait LabelKey {
    /// The number of values.
    fn len(&self) -> usize;
    /// Value `i` (`i < len()`).
    fn at(&self, i: usize) -> &str;
    /// `true` when there are no values.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl LabelKey for [&str] {
    #[inline]
    fn len(&self) -> usize {
        <[&str]>::len(self)
    }
    #[inline]
    fn at(&self, i: usize) -> &str {
        self[i]
    }
}

impl<const N: usize> LabelKey for [&str; N] {
    #[inline]
    fn len(&self) -> usize {
        N
    }
    #[inline]
    fn at(&self, i: usize) -> &str {
        self[i]
    }
}

impl<K: LabelKey + ?Sized> LabelKey for &K {
    #[inline]
    fn len(&self) -> usize {
        (**self).len()
    }
    #[inline]
    fn at(&self, i: usize) -> &str {
        (**self).at(i)
    }
}

/// One child as a [`ChildTable`] stores it: a cheap handle (an `Arc`) that knows its label
/// values and its creation number. (Its hash is not kept: the table's control bytes already
/// turn nearly every other child away, and a growing table hashes the values again.)
pub trait TableEntry: Clone {
    /// The creation number the table handed to the constructor (reporting order).
    fn seq(&self) -> u64;
    /// Label value `i`, in the family's label-name order.
    fn label_value(&self, i: usize) -> &str;
    /// `true` when the child's values are `key`'s (which has one per label name). The lookup
    /// calls this on every candidate; a storage with a faster comparison than value by value
    /// overrides it.
    #[inline]
    fn matches<K: LabelKey + ?Sized>(&self, key: &K) -> bool {
        (0..key.len()).all(|i| self.label_value(i) == key.at(i))
    }
    /// Writes the child's first `out.len()` values into `out` (reporting); override when that
    /// is cheaper than one [`TableEntry::label_value`] call per value.
    #[inline]
    fn fill_label_values<'a>(&'a self, out: &mut [&'a str]) {
        for (i, v) in out.iter_mut().enumerate() {
            *v = self.label_value(i);
        }
    }
    /// Called once when the child leaves the table (`remove`, `clear`), after it left every
    /// table and before a replacement is created: the place to make sure updates through
    /// handles still held cannot reach an exported series. Nothing to do for heap values.
    fn retire(&self) {}
}

/// Label values in one allocation: where each value starts (a `u32` per value, from the start
/// of the allocation), then the values back to back (the layout a [`Node`] keeps after its
/// header). Two `String`s would take three allocations.
///
/// ```
/// use promstack_alloc::table::LabelValues;
/// let v = LabelValues::new(&["get", "/api/v1"]);
/// assert_eq!((v.len(), v.get(0), v.get(1)), (2, "get", "/api/v1"));
/// assert_eq!(v.iter().collect::<Vec<_>>(), ["get", "/api/v1"]);
/// assert!(LabelValues::new(&[] as &[&str]).is_empty());
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct LabelValues(Box<[u8]>);

impl LabelValues {
    /// The values of `key`, copied.
    ///
    /// # Panics
    /// When the values together are about 4 GiB or longer.
    pub fn new<K: LabelKey + ?Sized>(key: &K) -> Self {
        let n = key.len();
        let len = 4 * n + (0..n).map(|i| key.at(i).len()).sum::<usize>();
        u32::try_from(len).expect("label values of 4 GiB");
        let mut bytes = alloc::vec![0u8; len].into_boxed_slice();
        encode_values(key, &mut bytes);
        LabelValues(bytes)
    }

    /// The number of values.
    #[inline]
    pub fn len(&self) -> usize {
        values_len(&self.0)
    }

    /// `true` when there are no values.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Value `i`.
    ///
    /// # Panics
    /// When `i >= len()`.
    #[inline]
    pub fn get(&self, i: usize) -> &str {
        value_at(&self.0, i)
    }

    /// Every value, in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        (0..self.len()).map(|i| self.get(i))
    }
}

impl core::fmt::Debug for LabelValues {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// The reference-counted part of a [`Node`], followed in its allocation by `len` bytes of label
/// values (laid out as [`LabelValues`] lays them out).
#[repr(C)]
struct NodeInner<H> {
    refs: crate::sync::AtomicU32,
    len: u32,
    header: H,
}

/// A table child in one allocation: a reference count, the storage's header `H` (a heap
/// family's value, say) and the child's label values. What an `Arc<(H, LabelValues)>` is, in
/// one allocation instead of two and with a 32-bit count: at 100,000 children this is most of
/// a family's memory, and both malloc's per-allocation overhead and its size classes count.
///
/// Cloning adds a reference (one atomic increment on the node's own cache line), dropping the
/// last one frees the node. It dereferences to `H`.
///
/// ```
/// use promstack_alloc::table::Node;
/// let a = Node::new(7u64, &["get", "/"]);
/// let b = a.clone();
/// assert!(Node::ptr_eq(&a, &b));
/// assert_eq!((*b, b.label_value(1)), (7, "/"));
/// assert_eq!(a.label_values().collect::<Vec<_>>(), ["get", "/"]);
/// ```
pub struct Node<H> {
    ptr: core::ptr::NonNull<NodeInner<H>>,
    _owns: core::marker::PhantomData<NodeInner<H>>,
}

// SAFETY: a `Node` is a shared reference-counted pointer like `Arc<H>`: it hands out `&H` to
// any thread and drops `H` on whichever thread lets go last, so it is `Send` and `Sync` exactly
// when `Arc<H>` is.
unsafe impl<H: Send + Sync> Send for Node<H> {}
// SAFETY: as above.
unsafe impl<H: Send + Sync> Sync for Node<H> {}

impl<H> Node<H> {
    /// A node holding `header` and the values of `key`.
    ///
    /// # Panics
    /// When the values together are about 2 GiB or longer.
    pub fn new<K: LabelKey + ?Sized>(header: H, key: &K) -> Self {
        let n = key.len();
        let len = 4 * n + (0..n).map(|i| key.at(i).len()).sum::<usize>();
        Self::with_bytes(header, len, false, |bytes| encode_values(key, bytes))
    }

    /// A node holding `header` and the values of `key` [joined](LabelPieces::join) by
    /// `pieces` (the label names' pieces, as the encoders write them), so that a scrape copies
    /// them as they are ([`Node::joined`]); the layout of [`Node::new`] when they cannot be
    /// joined (a value needs escaping, more than 8 values, names not in sorted order).
    ///
    /// ```
    /// use promstack_alloc::table::Node;
    /// use promstack_core::encoding::LabelPieces;
    /// let pieces = LabelPieces::new(&["method", "path"]).unwrap();
    /// let a = Node::new_joined((), &["get", "/"], &pieces);
    /// assert_eq!(a.joined(), Some(&br#"get",path="/"#[..]));
    /// assert_eq!((a.label_value(0), a.label_value(1)), ("get", "/"));
    /// assert!(a.labels_eq(&["get", "/"]) && !a.labels_eq(&["get", "/x"]));
    /// let b = Node::new_joined((), &["get", "a \"quoted\" path"], &pieces);
    /// assert_eq!((b.joined(), b.label_value(1)), (None, "a \"quoted\" path"));
    /// ```
    ///
    /// # Panics
    /// When the values together are about 2 GiB or longer.
    pub fn new_joined<K: LabelKey + ?Sized>(header: H, key: &K, pieces: &LabelPieces) -> Self {
        let n = key.len();
        let mut values = [""; JOINED_MOST];
        if n > JOINED_MOST {
            return Self::new(header, key);
        }
        for (i, v) in values[..n].iter_mut().enumerate() {
            *v = key.at(i);
        }
        let values = &values[..n];
        match pieces.joined_len(values) {
            Some(len) => Self::with_bytes(header, len, true, |bytes| {
                let written = pieces.join(values, bytes);
                debug_assert!(written);
            }),
            None => Self::new(header, key),
        }
    }

    /// A node of `len` bytes of values, written by `write`.
    fn with_bytes(header: H, len: usize, joined: bool, write: impl FnOnce(&mut [u8])) -> Self {
        let len32 = u32::try_from(len).ok().filter(|&l| l & JOINED == 0).expect("label values of 2 GiB");
        let (layout, offset) = Self::layout(len);
        // SAFETY: the layout is not zero-sized (it holds at least the count and the length).
        let raw = unsafe { alloc::alloc::alloc(layout) };
        let Some(raw) = core::ptr::NonNull::new(raw) else { alloc::alloc::handle_alloc_error(layout) };
        let ptr = raw.cast::<NodeInner<H>>();
        let flag = if joined { JOINED } else { 0 };
        // SAFETY: `raw` is a fresh allocation of `layout`: room and alignment for a `NodeInner`
        // at its start and for `len` bytes at `offset`, which nothing else refers to yet.
        let bytes = unsafe {
            ptr.as_ptr().write(NodeInner { refs: crate::sync::AtomicU32::new(1), len: len32 | flag, header });
            let bytes = core::slice::from_raw_parts_mut(raw.as_ptr().add(offset), len);
            // Plain bytes before `write` runs: a panic in it leaves no uninitialised reads.
            bytes.fill(0);
            bytes
        };
        write(bytes);
        Node { ptr, _owns: core::marker::PhantomData }
    }

    /// The allocation for `len` bytes of values, and where they start.
    fn layout(len: usize) -> (core::alloc::Layout, usize) {
        let (layout, offset) = core::alloc::Layout::new::<NodeInner<H>>()
            .extend(core::alloc::Layout::array::<u8>(len).expect("label values too long"))
            .expect("label values too long");
        (layout.pad_to_align(), offset)
    }

    #[inline]
    fn inner(&self) -> &NodeInner<H> {
        // SAFETY: the pointer came from `new` and the node is alive while `self` holds one of
        // its references; only shared references to it are ever made.
        unsafe { self.ptr.as_ref() }
    }

    /// The label values' bytes.
    #[inline]
    fn bytes(&self) -> &[u8] {
        let len = (self.inner().len & !JOINED) as usize;
        // What `layout` computes: bytes (alignment 1) follow the header with no padding.
        let offset = core::mem::size_of::<NodeInner<H>>();
        // SAFETY: `new` wrote `len` bytes at `offset` of this allocation and nothing writes them
        // afterwards; they live as long as the node.
        unsafe { core::slice::from_raw_parts(self.ptr.as_ptr().cast::<u8>().add(offset), len) }
    }

    /// The values [joined](LabelPieces::join) as the encoders write them, when the node was
    /// made so ([`Node::new_joined`]).
    #[inline]
    pub fn joined(&self) -> Option<&[u8]> {
        (self.inner().len & JOINED != 0).then(|| self.bytes())
    }

    /// Label value `i`.
    ///
    /// # Panics
    /// When `i` is not below the number of values.
    #[inline]
    pub fn label_value(&self, i: usize) -> &str {
        match self.joined() {
            Some(joined) => {
                // (The values are counted only for the panic's message.)
                JoinedValues(Some(joined))
                    .nth(i)
                    .unwrap_or_else(|| panic!("label value {i} of {}", JoinedValues(Some(joined)).count()))
            }
            None => value_at(self.bytes(), i),
        }
    }

    /// Every label value, in order.
    pub fn label_values(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        let joined = self.joined();
        let bytes = self.bytes();
        let n = match joined {
            Some(j) => JoinedValues(Some(j)).count(),
            None => values_len(bytes),
        };
        let mut parts = JoinedValues(joined);
        (0..n).map(move |i| match joined {
            Some(_) => parts.next().unwrap_or_default(),
            None => value_at(bytes, i),
        })
    }

    /// `true` when the node's label values are `key`'s, compared in one pass over the node's
    /// bytes (each value's recorded start must be where the previous one ended; joined values
    /// must be separated by exactly one piece each, found by the quotes around it).
    #[inline]
    pub fn labels_eq<K: LabelKey + ?Sized>(&self, key: &K) -> bool {
        match self.joined() {
            Some(joined) => joined_eq_scanning(joined, key),
            None => self.positional_eq(key),
        }
    }

    /// [`Node::labels_eq`] for a node made with `pieces` ([`Node::new_joined`]), or `None`
    /// when it was made with [`Node::new`]: joined values are compared with the pieces between
    /// them at the places the key's lengths give, with no scan for the quotes.
    ///
    /// ```
    /// use promstack_alloc::table::Node;
    /// use promstack_core::encoding::LabelPieces;
    /// let pieces = LabelPieces::new(&["a", "b"]).unwrap();
    /// let node = Node::new_joined((), &["x", "abcdef"], &pieces);
    /// assert!(node.labels_eq_with(&["x", "abcdef"], Some(&pieces)));
    /// // The key's first value holds a piece: it must not match.
    /// assert!(!node.labels_eq_with(&["x\",b=", "ef"], Some(&pieces)));
    /// ```
    #[inline]
    pub fn labels_eq_with<K: LabelKey + ?Sized>(&self, key: &K, pieces: Option<&LabelPieces>) -> bool {
        match (self.joined(), pieces) {
            (Some(joined), Some(pieces)) => joined_eq(joined, key, pieces),
            (Some(joined), None) => joined_eq_scanning(joined, key),
            (None, _) => self.positional_eq(key),
        }
    }

    /// [`Node::labels_eq`] for values laid out by [`encode_values`].
    #[inline]
    fn positional_eq<K: LabelKey + ?Sized>(&self, key: &K) -> bool {
        let n = key.len();
        let bytes = self.bytes();
        let Some(starts) = bytes.get(..4 * n) else { return false };
        let mut end = 4 * n;
        for (i, start) in starts.chunks_exact(4).enumerate() {
            let start = u32::from_le_bytes([start[0], start[1], start[2], start[3]]) as usize;
            let v = key.at(i).as_bytes();
            if start != end || !bytes.get(start..start + v.len()).is_some_and(|b| eq_short(b, v)) {
                return false;
            }
            end = start + v.len();
        }
        end == bytes.len()
    }

    /// Writes the node's first `out.len()` label values into `out`, walking its bytes once.
    ///
    /// # Panics
    /// When `out` is longer than the number of values.
    pub fn fill_label_values<'a>(&'a self, out: &mut [&'a str]) {
        if let Some(joined) = self.joined() {
            let (mut values, wanted) = (JoinedValues(Some(joined)), out.len());
            for (i, v) in out.iter_mut().enumerate() {
                *v = values.next().unwrap_or_else(|| panic!("{wanted} label values of {i}"));
            }
            return;
        }
        let bytes = self.bytes();
        let n = values_len(bytes);
        assert!(out.len() <= n, "{} label values of {n}", out.len());
        let (starts, _) = bytes.split_at(4 * n);
        let mut starts =
            starts.chunks_exact(4).map(|w| u32::from_le_bytes([w[0], w[1], w[2], w[3]]) as usize);
        let mut start = starts.next();
        for v in out.iter_mut() {
            let Some(s) = start else { break };
            start = starts.next();
            let text = &bytes[s..start.unwrap_or(bytes.len())];
            // SAFETY: as in `value_at`: exactly one of the values `encode_values` copied.
            *v = unsafe { core::str::from_utf8_unchecked(text) };
        }
    }

    /// `true` when both are the same node.
    #[inline]
    pub fn ptr_eq(a: &Self, b: &Self) -> bool {
        a.ptr == b.ptr
    }
}

impl<H> Clone for Node<H> {
    #[inline]
    fn clone(&self) -> Self {
        // Relaxed, as `Arc`: a new reference is made from an existing one, which keeps the node
        // alive; nothing is published by the increment.
        let old = self.inner().refs.fetch_add(1, core::sync::atomic::Ordering::Relaxed);
        if old >= u32::MAX / 2 {
            // Two billion live handles to one child: refuse before the count can wrap.
            self.inner().refs.fetch_sub(1, core::sync::atomic::Ordering::Relaxed);
            panic!("too many handles to one child");
        }
        Node { ptr: self.ptr, _owns: core::marker::PhantomData }
    }
}

impl<H> Drop for Node<H> {
    fn drop(&mut self) {
        // Release, then Acquire before freeing, as `Arc`: every use of the node through other
        // handles happens before it is freed.
        if self.inner().refs.fetch_sub(1, core::sync::atomic::Ordering::Release) != 1 {
            return;
        }
        core::sync::atomic::fence(core::sync::atomic::Ordering::Acquire);
        let (layout, _) = Self::layout((self.inner().len & !JOINED) as usize);
        // SAFETY: this was the last reference: nothing else can reach the node. The header is
        // dropped once, then the allocation is freed with the layout it was made with.
        unsafe {
            core::ptr::drop_in_place(core::ptr::addr_of_mut!((*self.ptr.as_ptr()).header));
            alloc::alloc::dealloc(self.ptr.as_ptr().cast::<u8>(), layout);
        }
    }
}

impl<H> core::ops::Deref for Node<H> {
    type Target = H;
    #[inline]
    fn deref(&self) -> &H {
        &self.inner().header
    }
}

impl<H: core::fmt::Debug> core::fmt::Debug for Node<H> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let labels = LabelList(self.label_values().collect());
        f.debug_struct("Node").field("header", &**self).field("labels", &labels).finish()
    }
}

struct LabelList<'a>(Vec<&'a str>);

impl core::fmt::Debug for LabelList<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_list().entries(&self.0).finish()
    }
}

/// `true` when `joined` (bytes [`LabelPieces::join`] wrote with `pieces`) are `key`'s values
/// joined: each value compared where the key's lengths put it, and a `"` required at both ends
/// of each piece between two. The pieces' other bytes need no compare: `joined` holds exactly
/// two quotes per piece and none in its values, so the key's 2(n - 1) required quotes can only
/// be those, in order; every piece then lies where `joined`'s own does, and so does every value
/// (a key value holding a quote would need one more).
#[inline]
fn joined_eq<K: LabelKey + ?Sized>(joined: &[u8], key: &K, pieces: &LabelPieces) -> bool {
    let n = key.len();
    if n != pieces.len() {
        return false;
    }
    let mut at = 0;
    for i in 0..n {
        if i > 0 {
            let len = pieces.piece(i).len();
            if joined.get(at) != Some(&b'"') || joined.get(at + len - 1) != Some(&b'"') {
                return false;
            }
            at += len;
        }
        let v = key.at(i).as_bytes();
        if !joined.get(at..at + v.len()).is_some_and(|b| eq_short(b, v)) {
            return false;
        }
        at += v.len();
    }
    at == joined.len()
}

/// [`joined_eq`] without the pieces: joined values hold no `"` and each piece between two holds
/// exactly two, so a piece runs from the quote after a value to the next quote. A key value
/// with a `"` cannot match: it would swallow a quote the following pieces need.
#[inline(never)]
fn joined_eq_scanning<K: LabelKey + ?Sized>(joined: &[u8], key: &K) -> bool {
    let n = key.len();
    if n == 0 {
        return false;
    }
    let mut rest = joined;
    for i in 0..n {
        if i > 0 {
            let Some((b'"', after)) = rest.split_first() else { return false };
            let Some(q) = after.iter().position(|&b| b == b'"') else { return false };
            rest = &after[q + 1..];
        }
        let Some(tail) = rest.strip_prefix(key.at(i).as_bytes()) else { return false };
        rest = tail;
    }
    rest.is_empty()
}

/// `a == b` for slices of one length, without a `memcmp` call for the short ones label values
/// and pieces mostly are: two overlapping word compares cover 4 to 32 bytes.
#[inline]
fn eq_short(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    let w8 = |s: &[u8], at: usize| u64::from_le_bytes(s[at..at + 8].try_into().unwrap_or_default());
    let w4 = |s: &[u8], at: usize| u32::from_le_bytes(s[at..at + 4].try_into().unwrap_or_default());
    let w16 = |s: &[u8], at: usize| u128::from_le_bytes(s[at..at + 16].try_into().unwrap_or_default());
    match n {
        0 => true,
        1..=3 => a[0] == b[0] && a[n / 2] == b[n / 2] && a[n - 1] == b[n - 1],
        4..=7 => w4(a, 0) == w4(b, 0) && w4(a, n - 4) == w4(b, n - 4),
        8..=16 => w8(a, 0) == w8(b, 0) && w8(a, n - 8) == w8(b, n - 8),
        17..=32 => w16(a, 0) == w16(b, 0) && w16(a, n - 16) == w16(b, n - 16),
        _ => a == b,
    }
}

/// The bit of a node's `len` that marks values [joined](LabelPieces::join) (the length is in
/// the other 31 bits).
const JOINED: u32 = 1 << 31;

/// Values of up to this many labels are joined ([`LabelPieces`] takes at most 8 names).
const JOINED_MOST: usize = 8;

/// The values in bytes [`LabelPieces::join`] wrote: a value runs to the next `"` (joined values
/// hold none), then the piece between two values runs to the `"` after that.
#[derive(Clone)]
struct JoinedValues<'a>(Option<&'a [u8]>);

impl<'a> Iterator for JoinedValues<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let rest = self.0?;
        let (value, after) = match rest.iter().position(|&b| b == b'"') {
            Some(q) => {
                let after = &rest[q + 1..];
                let next = after.iter().position(|&b| b == b'"').map_or(&[][..], |q2| &after[q2 + 1..]);
                (&rest[..q], Some(next))
            }
            None => (rest, None),
        };
        self.0 = after;
        // SAFETY: the joined bytes are whole `&str` values and ASCII pieces (`",name="`) back to
        // back, and `value` is cut at the ASCII quotes around one value: valid UTF-8.
        Some(unsafe { core::str::from_utf8_unchecked(value) })
    }
}

/// Writes `key`'s values into `out` (exactly their encoded length): where each value starts
/// (a little-endian `u32` per value, from the start of `out`), then the values back to back.
fn encode_values<K: LabelKey + ?Sized>(key: &K, out: &mut [u8]) {
    let n = key.len();
    let mut start = 4 * n;
    for i in 0..n {
        // Fits: callers checked the whole length against `u32`.
        out[4 * i..4 * i + 4].copy_from_slice(&(start as u32).to_le_bytes());
        let v = key.at(i).as_bytes();
        out[start..start + v.len()].copy_from_slice(v);
        start += v.len();
    }
}

/// The number of values in bytes written by [`encode_values`]: the first starts right after
/// the start words.
#[inline]
fn values_len(bytes: &[u8]) -> usize {
    if bytes.is_empty() {
        0
    } else {
        start_at(bytes, 0) / 4
    }
}

#[inline]
fn start_at(bytes: &[u8], i: usize) -> usize {
    let w = &bytes[4 * i..4 * i + 4];
    u32::from_le_bytes([w[0], w[1], w[2], w[3]]) as usize
}

/// Value `i` of bytes written by [`encode_values`].
#[inline]
fn value_at(bytes: &[u8], i: usize) -> &str {
    let n = values_len(bytes);
    assert!(i < n, "label value {i} of {n}");
    let end = if i + 1 < n { start_at(bytes, i + 1) } else { bytes.len() };
    let text = &bytes[start_at(bytes, i)..end];
    // SAFETY: `encode_values` copied whole `&str` values back to back and recorded where each
    // starts, so `start..end` is exactly one of them: valid UTF-8.
    unsafe { core::str::from_utf8_unchecked(text) }
}

/// Label sets up to this size are looked up by name through a position table in a register.
const MAX_ORDERED: usize = 16;

/// Values given as `(name, value)` pairs in any order, checked to name every label exactly once
/// (made by [`ChildTable::named`]). For up to 16 labels, bits `4i..4i+4` of `order` hold the
/// position in `pairs` of label `i` (a register, not a byte array: no buffer, no
/// store-forwarding stall); larger sets scan the pairs.
#[derive(Debug, Clone, Copy)]
pub struct Named<'a> {
    names: &'a [Box<str>],
    pairs: &'a [(&'a str, &'a str)],
    order: u64,
}

impl LabelKey for Named<'_> {
    #[inline]
    fn len(&self) -> usize {
        self.names.len()
    }
    #[inline]
    fn at(&self, i: usize) -> &str {
        if self.names.len() <= MAX_ORDERED {
            return self.pairs[(self.order >> (4 * i)) as usize & 0xf].1;
        }
        let name = &*self.names[i];
        self.pairs.iter().find(|(n, _)| *n == name).map_or("", |(_, v)| v)
    }
}

/// One reader lock word, alone on its cache line(s) so that readers of different words never
/// share one: bit 0 a writer holds it, bit 1 a writer waits for it, the rest counts readers.
///
/// Readers enter with a compare-and-swap that succeeds only while neither writer bit is set, so
/// a reader turned away never changes the word. That matters across `fork()`: the multiprocess
/// families hold every lock word for writing through the fork (see [`ChildTable::try_lock_all`]),
/// and a lock whose readers count themselves in first and back out after seeing the writer (as
/// `spin::RwLock` does) could be copied into the child with a reader that no thread there will
/// ever remove, and the child's next writer would wait for it forever.
#[repr(align(128))]
struct LockWord(AtomicUsize);

const WRITER: usize = 1;
const WAITING: usize = 2;
const ONE_READER: usize = 4;

/// A lock word held for reading.
struct ReadGuard<'a>(&'a LockWord);

impl Drop for ReadGuard<'_> {
    fn drop(&mut self) {
        // Release: the reader's accesses to the table happen before a writer's.
        self.0 .0.fetch_sub(ONE_READER, Ordering::Release);
    }
}

/// A lock word held for writing.
struct WriteGuard<'a>(&'a LockWord);

impl Drop for WriteGuard<'_> {
    fn drop(&mut self) {
        // Release: the writer's changes happen before the next reader's accesses.
        self.0 .0.fetch_and(!WRITER, Ordering::Release);
    }
}

impl LockWord {
    const fn new() -> Self {
        LockWord(AtomicUsize::new(0))
    }

    /// Read access; waits while a writer holds or waits for the word.
    #[inline]
    fn read(&self) -> ReadGuard<'_> {
        loop {
            let word = self.0.load(Ordering::Relaxed);
            if word & (WRITER | WAITING) == 0
                && self
                    .0
                    .compare_exchange_weak(word, word + ONE_READER, Ordering::Acquire, Ordering::Relaxed)
                    .is_ok()
            {
                return ReadGuard(self);
            }
            <Relax as spin::RelaxStrategy>::relax();
        }
    }

    /// Write access that readers cannot starve: the waiting bit turns new readers away, then
    /// the writer waits only for the readers already inside. Callers hold the table's writer
    /// mutex, so no other writer sets or clears the bits meanwhile.
    fn write(&self) -> WriteGuard<'_> {
        self.0.fetch_or(WAITING, Ordering::Relaxed);
        while self.0.compare_exchange_weak(WAITING, WRITER, Ordering::Acquire, Ordering::Relaxed).is_err() {
            <Relax as spin::RelaxStrategy>::relax();
        }
        WriteGuard(self)
    }

    /// Write access if no reader or writer holds the word now.
    fn try_write(&self) -> Option<WriteGuard<'_>> {
        self.0
            .compare_exchange(0, WRITER, Ordering::Acquire, Ordering::Relaxed)
            .ok()
            .map(|_| WriteGuard(self))
    }
}

/// The children of a [`ChildTable`]: in creation order in `slots`, found by hash through
/// `index`. Reporting walks `slots` in order, so a scrape neither sorts nor copies the table.
struct Children<E> {
    /// Every child's position in `slots`, by the hash of its label values.
    index: HashTable<u32>,
    /// The children in creation order; `None` where one was removed (until [`Children::compact`]).
    slots: Vec<Option<E>>,
    /// How many `None`s `slots` holds.
    holes: usize,
    /// Counts compactions: a position in `slots` stays valid while it does not change.
    epoch: u64,
}

impl<E: TableEntry> Children<E> {
    const EMPTY: Self = Children { index: HashTable::new(), slots: Vec::new(), holes: 0, epoch: 0 };

    /// The child at `pos`, a position `index` holds (always a child, never a hole).
    #[inline]
    fn at(&self, pos: u32) -> Option<&E> {
        self.slots.get(pos as usize).and_then(Option::as_ref)
    }

    /// The child whose values are `key`'s.
    #[inline]
    fn find<K: LabelKey + ?Sized>(&self, hash: u64, key: &K) -> Option<&E> {
        let pos = self.index.find(hash, |&pos| self.at(pos).is_some_and(|c| c.matches(key)))?;
        self.at(*pos)
    }

    /// Drops the holes once they are half of `slots` (so removal stays O(1) amortized and a
    /// walk over `slots` visits at most twice as many places as there are children), and moves
    /// every position `index` holds with its child.
    fn compact(&mut self) {
        if self.holes * 2 <= self.slots.len() {
            return;
        }
        let mut moved_to = Vec::with_capacity(self.slots.len());
        let mut next = 0u32;
        for slot in &self.slots {
            moved_to.push(next);
            next += u32::from(slot.is_some());
        }
        for pos in self.index.iter_mut() {
            *pos = moved_to[*pos as usize];
        }
        self.slots.retain(Option::is_some);
        self.holes = 0;
        self.epoch += 1;
    }

    /// The creation number of the newest child (the children are in creation order, so the
    /// last one): a walk reports no child newer than it was when the walk began.
    fn newest_seq(&self) -> Option<u64> {
        self.slots.iter().rev().find_map(|c| c.as_ref().map(TableEntry::seq))
    }

    /// Where a walk that last reported the child created as number `seq` goes on: the first
    /// position holding a later child.
    fn resume_after(&self, seq: u64) -> usize {
        self.slots.iter().position(|c| c.as_ref().is_some_and(|c| c.seq() > seq)).unwrap_or(self.slots.len())
    }
}

/// The table, readable while one lock word is read-locked.
struct Reading<'a, E> {
    _lock: ReadGuard<'a>,
    table: &'a Children<E>,
}

/// The table, writable while every lock word is write-locked.
struct Writing<'a, E> {
    _locks: [WriteGuard<'a>; REPLICAS],
    table: &'a mut Children<E>,
}

/// Where a walk of the order is, between two read locks.
#[derive(Default)]
struct WalkPlace {
    /// The position of the next child to look at, valid while the table's epoch is `epoch`.
    pos: usize,
    epoch: u64,
    /// The creation number of the last child reported.
    last: Option<u64>,
    /// The newest child the walk reports: the newest there was when it began.
    newest: Option<u64>,
}

impl WalkPlace {
    /// Called under each new read lock: fixes the newest child the walk reports (the first
    /// time) and finds the place again if the order was compacted meanwhile. `None` when the
    /// table was empty as the walk began.
    fn resume<E: TableEntry>(&mut self, table: &Children<E>) -> Option<u64> {
        if self.newest.is_none() {
            self.newest = Some(table.newest_seq()?);
        }
        if table.epoch != self.epoch {
            self.pos = self.last.map_or(0, |seq| table.resume_after(seq));
            self.epoch = table.epoch;
        }
        self.newest
    }

    /// The next child to report, at `pos` or after (the holes skipped); `None` at the end of
    /// the order or at a child newer than `newest` (made after the walk began, and every
    /// later one too).
    fn child<'t, E: TableEntry>(&mut self, table: &'t Children<E>, newest: u64) -> Option<&'t E> {
        while let Some(slot) = table.slots.get(self.pos) {
            match slot {
                Some(child) if child.seq() > newest => return None,
                Some(child) => return Some(child),
                None => self.pos += 1,
            }
        }
        None
    }
}

/// A scrape copies this many child handles at a time under a read lock, then reports them with
/// no lock held.
pub const WALK_CHUNK: usize = 64;

/// A scrape keeps up to this many label names and values on the stack (more: on the heap).
const STACK_LABELS: usize = 16;

/// The lock word the calling thread reads under: picked from the address of a local variable,
/// i.e. from the thread's stack. Any choice is correct; this one spreads concurrent threads
/// over lock words and keeps one thread on one word.
#[inline]
fn lock_index() -> usize {
    let marker = 0u8;
    let addr = core::ptr::addr_of!(marker) as usize;
    (addr >> 21) % REPLICAS
}

/// Every lock of a [`ChildTable`], held: no child can be created or removed and no lookup is
/// inside the table while it lives (see [`ChildTable::try_lock_all`]).
pub struct TableLock<'a, E> {
    _writer: spin::mutex::SpinMutexGuard<'a, u64, crate::sync::Relax>,
    _locks: Vec<WriteGuard<'a>>,
    _children: core::marker::PhantomData<&'a E>,
}

/// The children of a labeled family by label values: one lookup, creation, removal and
/// reporting path for every storage (see the [module documentation](self)).
///
/// ```
/// use promstack_alloc::sync::Arc;
/// use promstack_alloc::table::{ChildTable, TableEntry};
///
/// #[derive(Clone)]
/// struct Entry(Arc<(u64, Vec<String>)>);
/// impl TableEntry for Entry {
///     fn seq(&self) -> u64 { self.0 .0 }
///     fn label_value(&self, i: usize) -> &str { &self.0 .1[i] }
/// }
///
/// let table: ChildTable<Entry> = ChildTable::new(&["method"]);
/// let make = |seq, values: &[&str]| Entry(Arc::new((seq, vec![values[0].to_string()])));
/// let key = table.positional(&["get"]).unwrap();
/// let a = table.lookup(key, |e| e.clone(), |hash| table.get_or_insert(hash, key, |seq| make(seq, key)));
/// let b = table.lookup(key, |e| e.clone(), |hash| table.get_or_insert(hash, key, |seq| make(seq, key)));
/// assert!(Arc::ptr_eq(&a.0, &b.0));
/// assert_eq!(table.len(), 1);
/// assert!(table.remove(key, |_| unreachable!()).is_some());
/// assert!(table.is_empty());
/// ```
pub struct ChildTable<E> {
    label_names: Box<[Box<str>]>,
    hasher: DefaultHashBuilder,
    /// Readers hold one for reading, writers all of them for writing (see the module docs).
    locks: Box<[LockWord]>,
    children: UnsafeCell<Children<E>>,
    /// Serializes writers; holds the next creation number.
    writer: Mutex<u64>,
}

// SAFETY: `children` is only read under a read lock of one lock word and only written under
// the write locks of all of them (`reading`, `writing`), so threads share it as they would
// share a `RwLock<Children<E>>`, which is `Sync` when `E` is `Send + Sync`.
unsafe impl<E: Send + Sync> Sync for ChildTable<E> {}

impl<E> core::fmt::Debug for ChildTable<E> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ChildTable").field("label_names", &self.label_names).finish_non_exhaustive()
    }
}

impl<E: TableEntry> ChildTable<E> {
    /// The table for reading, under the calling thread's lock word.
    #[inline]
    fn reading(&self) -> Reading<'_, E> {
        let lock = self.locks[lock_index()].read();
        // SAFETY: a `&mut` to the table exists only under the write locks of every lock word
        // (`writing`); this thread holds one of them for reading until `lock` drops, and the
        // reference lives no longer than the guard kept beside it.
        let table = unsafe { &*self.children.get() };
        Reading { _lock: lock, table }
    }

    /// The table for writing, under every lock word. Callers hold the writer mutex.
    fn writing(&self) -> Writing<'_, E> {
        let locks: [WriteGuard<'_>; REPLICAS] = core::array::from_fn(|i| self.locks[i].write());
        // SAFETY: every lock word is write-locked until `locks` drops, so no reader holds a
        // reference to the table (they take a read lock first) and no other writer does (it
        // would need these locks too); the reference lives no longer than the guards.
        let table = unsafe { &mut *self.children.get() };
        Writing { _locks: locks, table }
    }
}

impl<E: TableEntry> ChildTable<E> {
    /// An empty table for children labeled with `label_names` (not validated here: the family
    /// checks them).
    pub fn new(label_names: &[&str]) -> Self {
        ChildTable {
            label_names: label_names.iter().map(|n| Box::from(*n)).collect(),
            hasher: DefaultHashBuilder::default(),
            locks: (0..REPLICAS).map(|_| LockWord::new()).collect(),
            children: UnsafeCell::new(Children::EMPTY),
            writer: Mutex::new(0),
        }
    }

    /// The label names.
    pub fn label_names(&self) -> &[Box<str>] {
        &self.label_names
    }

    /// `values` checked to hold one value per label name ([`LabelError::WrongCount`]).
    #[inline]
    pub fn positional<'k>(&self, values: &'k [&'k str]) -> Result<&'k [&'k str], LabelError> {
        let expected = self.label_names.len();
        if values.len() != expected {
            return Err(LabelError::WrongCount { expected, got: values.len() });
        }
        Ok(values)
    }

    /// `(name, value)` pairs in any order, checked to name every label exactly once: a name
    /// that is not a label name is [`LabelError::UnknownName`], a name given twice
    /// [`LabelError::DuplicateName`], a label left out [`LabelError::MissingName`] (the errors
    /// of [`promstack_core::check_label_pairs`]).
    #[inline]
    pub fn named<'k>(&'k self, pairs: &'k [(&'k str, &'k str)]) -> Result<Named<'k>, LabelError> {
        let names = &self.label_names;
        if names.len() <= MAX_ORDERED && pairs.len() == names.len() {
            let mut order = 0u64;
            let mut found = 0u32;
            for (j, (n, _)) in pairs.iter().enumerate() {
                match names.iter().position(|l| &**l == *n) {
                    Some(i) => {
                        order |= (j as u64) << (4 * i);
                        found |= 1 << i;
                    }
                    None => break,
                }
            }
            if found.count_ones() as usize == names.len() {
                return Ok(Named { names, pairs, order });
            }
        }
        self.named_slow(pairs)
    }

    /// Large label sets, and the precise error for a bad set of pairs.
    #[cold]
    fn named_slow<'k>(&'k self, pairs: &'k [(&'k str, &'k str)]) -> Result<Named<'k>, LabelError> {
        let names = &self.label_names;
        check_label_pairs(names, pairs)?;
        if pairs.len() != names.len() {
            return Err(LabelError::WrongCount { expected: names.len(), got: pairs.len() });
        }
        // Only label sets beyond the position table get here valid; `order` is unused for them.
        Ok(Named { names, pairs, order: 0 })
    }

    /// The hash of a key's values, as entries keep it.
    #[inline]
    pub fn hash(&self, key: &(impl LabelKey + ?Sized)) -> u64 {
        let mut h = self.hasher.build_hasher();
        for i in 0..key.len() {
            h.write(key.at(i).as_bytes());
            h.write_u8(0xff);
        }
        h.finish()
    }

    /// Runs `f` on the child for `key` (which has one value per label name). When it does not exist, `create(hash)` is called with no lock held and must return it,
    /// normally through [`ChildTable::get_or_insert`] (after taking whatever the storage needs
    /// around a creation).
    ///
    /// `f` runs under a read lock of one lock word when the child exists: it must not create,
    /// remove or clear children of the same table.
    #[inline]
    pub fn lookup<K: LabelKey + ?Sized, R>(
        &self,
        key: &K,
        f: impl FnOnce(&E) -> R,
        create: impl FnOnce(u64) -> E,
    ) -> R {
        let hash = self.hash(key);
        {
            let read = self.reading();
            if let Some(child) = read.table.find(hash, key) {
                return f(child);
            }
        }
        f(&create(hash))
    }

    /// The child for `key` with `hash`, made with `make(creation number)` and added unless
    /// another thread made it first.
    #[cold]
    pub fn get_or_insert<K: LabelKey + ?Sized>(&self, hash: u64, key: &K, make: impl FnOnce(u64) -> E) -> E {
        let mut seq = self.writer.lock();
        // Another writer may have created the child since our read.
        if let Some(child) = self.reading().table.find(hash, key) {
            return child.clone();
        }
        self.insert(&mut seq, hash, make)
    }

    /// Adds a new child. The caller holds the writer lock (`seq`). The child is made before
    /// the lock words are taken: readers wait only for the insertion.
    fn insert(&self, seq: &mut u64, hash: u64, make: impl FnOnce(u64) -> E) -> E {
        let child = make(*seq);
        *seq += 1;
        let n = self.label_names.len();
        let write = self.writing();
        let Children { index, slots, .. } = &mut *write.table;
        let pos = u32::try_from(slots.len()).expect("4 billion children");
        slots.push(Some(child.clone()));
        // Growing, the index hashes every child's values again.
        let rehash = |p: &u32| self.hash(&EntryKey(slots[*p as usize].as_ref().expect("a child"), n));
        index.insert_unique(hash, pos, rehash);
        child
    }

    /// Removes the child for `key`, [retires](TableEntry::retire) it and
    /// returns it. A table without label names is never empty: its one child is replaced by
    /// `make(creation number)`.
    pub fn remove<K: LabelKey + ?Sized>(&self, key: &K, make: impl FnOnce(u64) -> E) -> Option<E> {
        let hash = self.hash(key);
        let mut seq = self.writer.lock();
        let removed = {
            let write = self.writing();
            let Children { index, slots, holes, .. } = &mut *write.table;
            let at = |pos: u32| slots.get(pos as usize).and_then(Option::as_ref);
            let Ok(entry) = index.find_entry(hash, |&pos| at(pos).is_some_and(|c| c.matches(key))) else {
                return None;
            };
            let pos = entry.remove().0 as usize;
            *holes += 1;
            let removed = slots[pos].take().expect("the index points at a child");
            write.table.compact();
            removed
        };
        removed.retire();
        if self.label_names.is_empty() {
            self.insert(&mut seq, hash, make);
        }
        Some(removed)
    }

    /// Removes and [retires](TableEntry::retire) every child; a table without label names gets
    /// a fresh child from `make(creation number)`.
    pub fn clear(&self, make: impl FnOnce(u64) -> E) {
        let mut seq = self.writer.lock();
        let gone: Vec<E> = {
            let write = self.writing();
            write.table.index.clear();
            write.table.holes = 0;
            write.table.epoch += 1;
            write.table.slots.drain(..).flatten().collect()
        };
        for child in &gone {
            child.retire();
        }
        if self.label_names.is_empty() {
            let key: [&str; 0] = [];
            self.insert(&mut seq, self.hash(&key), make);
        }
    }

    /// Number of children.
    pub fn len(&self) -> usize {
        self.reading().table.index.len()
    }

    /// `true` when there are no children.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every child, in creation order. The handles are cloned out under one lock word, so no
    /// lock is held once this returns.
    pub fn children(&self) -> Vec<E> {
        self.reading().table.slots.iter().flatten().cloned().collect()
    }

    /// Calls `f` with every child, in creation order, its labels, and `sink`: the one reporting
    /// path of every family. No lock is held while `f` runs.
    pub fn report(
        &self,
        sink: &mut dyn Sink,
        mut f: impl FnMut(&E, Labels<'_>, &mut dyn Sink) -> Result<(), CollectError>,
    ) -> Result<(), CollectError> {
        self.each(|child, labels| f(child, labels, sink))
    }

    /// Calls `f` with every child, in creation order, and its labels (what [`ChildTable::report`]
    /// and a family's [`SampleRows`](promstack_core::SampleRows) are made of). No lock is held
    /// while `f` runs: the handles are copied out [`WALK_CHUNK`] at a time under a read lock.
    /// What a walk reports while children come and go: the children that existed when it
    /// began (the newest then bounds it), so a child created during the walk waits for the next
    /// one; a child removed during the walk may still be reported once. No child and no label
    /// set is reported twice: a child removed and made again with the same labels during the
    /// walk is a newer child, which this walk does not report.
    pub fn each(
        &self,
        mut f: impl FnMut(&E, Labels<'_>) -> Result<(), CollectError>,
    ) -> Result<(), CollectError> {
        // Names and values on the stack (a scrape allocates nothing), in arrays no larger than
        // needed: each child's array is filled afresh.
        let n = self.label_names.len();
        if n <= 4 {
            return self.each_on_stack::<4>(f);
        }
        if n <= STACK_LABELS {
            return self.each_on_stack::<STACK_LABELS>(f);
        }
        let names: Vec<&str> = self.label_names.iter().map(|n| &**n).collect();
        let mut values: Vec<&str> = Vec::with_capacity(n);
        self.walk(|child| {
            let mut child_values = recycle(core::mem::take(&mut values));
            child_values.resize(n, "");
            child.fill_label_values(&mut child_values);
            f(child, Labels::new(&names, &child_values))?;
            values = recycle(child_values);
            Ok(())
        })
    }

    /// Calls `visit(child, true)` with every child, in creation order, while a read lock is
    /// held, so no handle is copied: for a visitor that only copies bytes into memory it owns.
    /// It must not block then: when it would (its buffer is full and must be passed on), it
    /// returns `Ok(false)`, the lock is let go, and `visit(child, false)` is called for the same
    /// child with no lock held, through a copy of its handle; that call must finish the child.
    /// The walk then goes on under a new read lock, where it left off. What is reported while
    /// children come and go is what [`ChildTable::each`] reports.
    pub fn each_child_held(
        &self,
        mut visit: impl FnMut(&E, bool) -> Result<bool, CollectError>,
    ) -> Result<(), CollectError> {
        let mut place = WalkPlace::default();
        loop {
            let pending = {
                let read = self.reading();
                let Some(newest) = place.resume(read.table) else { return Ok(()) };
                let mut pending = None;
                while let Some(child) = place.child(read.table, newest) {
                    if !visit(child, true)? {
                        pending = Some(child.clone());
                        break;
                    }
                    place.pos += 1;
                }
                pending
            };
            let Some(child) = pending else { return Ok(()) };
            visit(&child, false)?;
            // The children before it were visited under the lock just let go.
            place.last = Some(child.seq());
            place.pos += 1;
        }
    }

    /// [`ChildTable::each`] for up to `K` labels, with no allocation.
    fn each_on_stack<const K: usize>(
        &self,
        mut f: impl FnMut(&E, Labels<'_>) -> Result<(), CollectError>,
    ) -> Result<(), CollectError> {
        let n = self.label_names.len();
        let mut names = [""; K];
        for (name, own) in names.iter_mut().zip(self.label_names.iter()) {
            *name = own;
        }
        let names = &names[..n];
        self.walk(|child| {
            let mut values = [""; K];
            child.fill_label_values(&mut values[..n]);
            f(child, Labels::new(names, &values[..n]))
        })
    }

    /// Calls `visit` with every child, in creation order, with no lock held (see
    /// [`ChildTable::each`]).
    fn walk(&self, mut visit: impl FnMut(&E) -> Result<(), CollectError>) -> Result<(), CollectError> {
        let mut chunk: [Option<E>; WALK_CHUNK] = core::array::from_fn(|_| None);
        let mut place = WalkPlace::default();
        loop {
            let taken = {
                let read = self.reading();
                let Some(newest) = place.resume(read.table) else { return Ok(()) };
                let mut taken = 0;
                while taken < WALK_CHUNK {
                    let Some(child) = place.child(read.table, newest) else { break };
                    chunk[taken] = Some(child.clone());
                    taken += 1;
                    place.pos += 1;
                }
                taken
            };
            if taken == 0 {
                return Ok(());
            }
            for slot in &mut chunk[..taken] {
                let Some(child) = slot.take() else { continue };
                place.last = Some(child.seq());
                visit(&child)?;
            }
        }
    }

    /// Takes every lock of the table if none is busy: the writer mutex, then every lock
    /// word's write lock. For a storage that must not leave a lock held across `fork()` by a thread
    /// that does not exist in the child process.
    pub fn try_lock_all(&self) -> Option<TableLock<'_, E>> {
        let writer = self.writer.try_lock()?;
        let mut locks = Vec::with_capacity(REPLICAS);
        for l in self.locks.iter() {
            locks.push(l.try_write()?);
        }
        Some(TableLock { _writer: writer, _locks: locks, _children: core::marker::PhantomData })
    }
}

/// `v` emptied, for references of another lifetime: its allocation is reused (an empty
/// in-place `collect`), so one buffer serves every child of a walk.
fn recycle<'b>(mut v: Vec<&str>) -> Vec<&'b str> {
    v.clear();
    v.into_iter().map(|_| "").collect()
}

/// An entry's values as a key, to hash them again when the table grows.
struct EntryKey<'a, E>(&'a E, usize);

impl<E: TableEntry> LabelKey for EntryKey<'_, E> {
    fn len(&self) -> usize {
        self.1
    }
    fn at(&self, i: usize) -> &str {
        self.0.label_value(i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::String;
    use alloc::sync::Arc;
    use core::sync::atomic::{AtomicUsize, Ordering};

    /// Every key of two or three values made of pieces that could be mistaken for a piece
    /// between two joined values (quotes, commas, `b=`), against every node of plain values:
    /// the compares with and without the pieces agree with comparing the values one by one.
    #[test]
    fn joined_compares_match_value_by_value_for_keys_holding_pieces() {
        let parts = ["", "x", "\"", ",", "b=", "\",b=", "\",b=\"", "c=\"", "\",c=\"", "xy", "cdef"];
        let mut words: alloc::vec::Vec<String> = parts.iter().map(|p| String::from(*p)).collect();
        for a in parts {
            for b in parts {
                words.push(alloc::format!("{a}{b}"));
            }
        }
        for names in [&["a", "b"][..], &["a", "b", "c"]] {
            let pieces = LabelPieces::new(names).unwrap();
            let plain: alloc::vec::Vec<&str> =
                words.iter().map(String::as_str).filter(|w| !w.contains('"')).step_by(5).take(12).collect();
            let keys: alloc::vec::Vec<alloc::vec::Vec<&str>> = if names.len() == 2 {
                words
                    .iter()
                    .flat_map(|a| words.iter().map(move |b| alloc::vec![a.as_str(), b.as_str()]))
                    .collect()
            } else {
                words
                    .iter()
                    .take(40)
                    .flat_map(|a| {
                        words.iter().take(40).flat_map(move |b| {
                            ["", "x", "\",c=\"x"]
                                .into_iter()
                                .map(move |c| alloc::vec![a.as_str(), b.as_str(), c])
                        })
                    })
                    .collect()
            };
            for u in &plain {
                for w in &plain {
                    let values: alloc::vec::Vec<&str> = [*u, *w, "x"][..names.len()].to_vec();
                    let node = Node::new_joined((), &values[..], &pieces);
                    assert!(node.joined().is_some());
                    for key in &keys {
                        let want = *key == values;
                        assert_eq!(node.labels_eq_with(&key[..], Some(&pieces)), want, "{values:?} {key:?}");
                        assert_eq!(node.labels_eq(&key[..]), want, "{values:?} {key:?}");
                    }
                }
            }
        }
    }

    /// Counts its drops.
    struct Counted(Arc<AtomicUsize>);

    impl Drop for Counted {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }

    #[test]
    fn a_node_drops_its_header_once_after_the_last_handle() {
        let drops = Arc::new(AtomicUsize::new(0));
        let a = Node::new(Counted(drops.clone()), &["x", "", "ünï"]);
        let b = a.clone();
        drop(a);
        assert_eq!(drops.load(Ordering::Relaxed), 0);
        assert_eq!(b.label_values().collect::<Vec<_>>(), ["x", "", "ünï"]);
        drop(b);
        assert_eq!(drops.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn nodes_with_no_labels_and_long_labels() {
        let none = Node::new(1u8, &[] as &[&str]);
        assert_eq!(none.label_values().len(), 0);
        let long: String = "v".repeat(100_000);
        let big = Node::new([7u64; 5], &[long.as_str(), "a", long.as_str()]);
        assert_eq!(big.label_value(0).len(), 100_000);
        assert_eq!(big.label_value(1), "a");
        assert_eq!(big.label_value(2), long);
        assert_eq!(*big, [7u64; 5]);
    }

    #[test]
    fn node_labels_compare_whole_values() {
        let node = Node::new((), &["ab", "c"]);
        assert!(node.labels_eq(&["ab", "c"]));
        assert!(!node.labels_eq(&["a", "bc"]));
        assert!(!node.labels_eq(&["ab"]));
        assert!(!node.labels_eq(&["ab", "c", ""]));
        assert!(!node.labels_eq(&["ab", ""]));
        assert!(Node::new((), &[] as &[&str]).labels_eq(&[] as &[&str]));
        assert!(!Node::new((), &[""]).labels_eq(&[] as &[&str]));
        let mut out = [""; 2];
        node.fill_label_values(&mut out);
        assert_eq!(out, ["ab", "c"]);
        let mut first = [""; 1];
        node.fill_label_values(&mut first);
        assert_eq!(first, ["ab"]);
    }

    #[test]
    fn label_values_round_trip() {
        let v = LabelValues::new(&["a", "bc", ""]);
        assert_eq!(v.iter().collect::<Vec<_>>(), ["a", "bc", ""]);
        assert_eq!(v.len(), 3);
        assert!(LabelValues::new(&[] as &[&str]).is_empty());
    }

    #[cfg(feature = "std")]
    #[test]
    fn handles_cloned_and_dropped_on_many_threads() {
        extern crate std;
        let drops = Arc::new(AtomicUsize::new(0));
        for _ in 0..50 {
            let node = Node::new(Counted(drops.clone()), &["k", "v"]);
            let threads: Vec<_> = (0..4)
                .map(|_| {
                    let n = node.clone();
                    std::thread::spawn(move || {
                        for _ in 0..1000 {
                            let c = n.clone();
                            assert_eq!(c.label_value(1), "v");
                        }
                    })
                })
                .collect();
            drop(node);
            for t in threads {
                t.join().unwrap();
            }
        }
        assert_eq!(drops.load(Ordering::Relaxed), 50);
    }
}

#[cfg(test)]
mod walk_tests {
    use super::*;
    use alloc::format;
    use alloc::string::{String, ToString};
    use alloc::sync::Arc;

    #[derive(Clone)]
    struct Entry(Arc<(u64, String)>);

    impl TableEntry for Entry {
        fn seq(&self) -> u64 {
            self.0 .0
        }
        fn label_value(&self, _: usize) -> &str {
            &self.0 .1
        }
    }

    fn get(table: &ChildTable<Entry>, v: &str) -> Entry {
        let key = [v];
        let make = |seq| Entry(Arc::new((seq, v.to_string())));
        table.lookup(&key, |e| e.clone(), |hash| table.get_or_insert(hash, &key, make))
    }

    fn remove(table: &ChildTable<Entry>, v: &str) -> bool {
        table.remove(&[v], |_| unreachable!("a labeled table")).is_some()
    }

    fn walk(table: &ChildTable<Entry>) -> Vec<String> {
        let mut seen = Vec::new();
        table
            .each(|_, labels| {
                seen.push(labels.iter().next().unwrap().1.to_string());
                Ok(())
            })
            .unwrap();
        seen
    }

    #[test]
    fn removals_compact_the_order_and_lookups_still_find_every_child() {
        let table = ChildTable::new(&["k"]);
        let made: Vec<Entry> = (0..200).map(|i| get(&table, &format!("v{i}"))).collect();
        // Remove two of every three: the order is compacted on the way (holes > half).
        for i in (0..200).filter(|i| i % 3 != 0) {
            assert!(remove(&table, &format!("v{i}")));
        }
        assert!(table.reading().table.epoch > 0, "no compaction happened");
        let kept: Vec<String> = (0..200).filter(|i| i % 3 == 0).map(|i| format!("v{i}")).collect();
        assert_eq!(walk(&table), kept);
        assert_eq!(table.len(), kept.len());
        for (i, old) in made.iter().enumerate() {
            let again = get(&table, &format!("v{i}"));
            // Kept children are found where they are; removed ones come back as new children.
            assert_eq!(Arc::ptr_eq(&again.0, &old.0), i % 3 == 0, "v{i}");
        }
        let mut order = kept.clone();
        order.extend((0..200).filter(|i| i % 3 != 0).map(|i| format!("v{i}")));
        assert_eq!(walk(&table), order);
        assert_eq!(table.children().iter().map(|c| c.0 .1.clone()).collect::<Vec<_>>(), order);
    }

    #[test]
    fn a_walk_reports_each_child_once_while_children_come_and_go() {
        let table = ChildTable::new(&["k"]);
        for i in 0..300 {
            get(&table, &format!("v{i}"));
        }
        let mut seen = Vec::new();
        table
            .each(|child, _| {
                let seq = child.seq();
                seen.push(child.0 .1.clone());
                if seq == 100 {
                    // Mid-walk (no lock is held): remove most children on both sides of the
                    // walk's place, which compacts the order and moves every position, and
                    // add new ones at the end.
                    for i in (0..300).filter(|i| *i != 100 && i % 10 != 0) {
                        remove(&table, &format!("v{i}"));
                    }
                    for i in 300..310 {
                        get(&table, &format!("v{i}"));
                    }
                }
                Ok(())
            })
            .unwrap();
        // Before the change: 0..=100 in order, plus whatever the current chunk had copied out
        // (up to child 127); after: the children left, in order, and not the new ones.
        let mut expected: Vec<String> = (0..128).map(|i| format!("v{i}")).collect();
        expected.extend((128..300).filter(|i| i % 10 == 0).map(|i| format!("v{i}")));
        assert_eq!(seen, expected);
    }

    /// The held walk lets the lock go only where the visitor asks; changes made then are seen
    /// as [`ChildTable::each`] would see them: no child twice, the ones left in order, none of
    /// the ones made after the walk began.
    #[test]
    fn a_held_walk_lets_the_lock_go_where_asked_and_reports_each_child_once() {
        let table = ChildTable::new(&["k"]);
        for i in 0..300 {
            get(&table, &format!("v{i}"));
        }
        let (mut seen, mut unlocked) = (Vec::new(), Vec::new());
        table
            .each_child_held(|child, held| {
                let seq = child.seq();
                if held {
                    // The lock is held: a writer here would deadlock, so ask for it to go
                    // every 50 children (as a full line buffer does).
                    if seq % 50 == 7 {
                        return Ok(false);
                    }
                } else {
                    unlocked.push(seq);
                    if seq == 107 {
                        // No lock held: remove most children on both sides and add new ones.
                        for i in (0..300).filter(|i| *i != 107 && i % 10 != 0) {
                            remove(&table, &format!("v{i}"));
                        }
                        for i in 300..310 {
                            get(&table, &format!("v{i}"));
                        }
                    }
                }
                seen.push(child.0 .1.clone());
                Ok(true)
            })
            .unwrap();
        // The children left, in order; not the ones made during the walk.
        let mut expected: Vec<String> = (0..=107).map(|i| format!("v{i}")).collect();
        expected.extend((108..300).filter(|i| i % 10 == 0).map(|i| format!("v{i}")));
        assert_eq!(seen, expected);
        // Asked for at 7, 57 and 107; after the removals no seq % 50 == 7 is left.
        assert_eq!(unlocked, [7, 57, 107]);
        // An error from the visitor ends the walk with it.
        let mut calls = 0;
        let err = table.each_child_held(|_, _| {
            calls += 1;
            Err(CollectError::Failed("stop"))
        });
        assert_eq!(err, Err(CollectError::Failed("stop")));
        assert_eq!(calls, 1);
    }

    /// A child removed and made again with the same labels while a walk is under way is a
    /// newer child: the walk reports the label set once (a scrape with one series twice would
    /// be refused), and the new child waits for the next walk.
    #[test]
    fn a_label_set_made_again_during_a_walk_is_reported_once() {
        let table = ChildTable::new(&["k"]);
        for i in 0..10 {
            get(&table, &format!("v{i}"));
        }
        let churn = || {
            for v in ["v5", "v0"] {
                assert!(remove(&table, v));
                get(&table, v);
            }
            get(&table, "new");
        };
        // Handles copied out: the old v5 was copied before it was removed, so it is reported.
        let mut seen = Vec::new();
        table
            .each(|child, _| {
                if child.seq() == 0 {
                    churn();
                }
                seen.push(child.0 .1.clone());
                Ok(())
            })
            .unwrap();
        let all: Vec<String> = (0..10).map(|i| format!("v{i}")).collect();
        assert_eq!(seen, all);
        // Now in the order v1-v4, v6-v9, v5, v0, new. Under the lock, letting it go at v1: the
        // old v5 and v0 are gone when the walk comes to them, and their new children are newer
        // than the walk.
        seen.clear();
        table
            .each_child_held(|child, held| {
                if child.0 .1 == "v1" {
                    if held {
                        return Ok(false);
                    }
                    churn();
                }
                seen.push(child.0 .1.clone());
                Ok(true)
            })
            .unwrap();
        assert_eq!(seen, ["v1", "v2", "v3", "v4", "v6", "v7", "v8", "v9", "new"]);
        // The next walk has them.
        seen.clear();
        table
            .each_child_held(|child, _| {
                seen.push(child.0 .1.clone());
                Ok(true)
            })
            .unwrap();
        assert_eq!(seen, ["v1", "v2", "v3", "v4", "v6", "v7", "v8", "v9", "new", "v5", "v0"]);
    }

    #[test]
    fn clear_during_a_walk_ends_it_after_the_copied_chunk() {
        let table = ChildTable::new(&["k"]);
        for i in 0..100 {
            get(&table, &format!("v{i}"));
        }
        let mut seen = 0;
        table
            .each(|_, _| {
                seen += 1;
                if seen == 1 {
                    table.clear(|_| unreachable!("a labeled table"));
                }
                Ok(())
            })
            .unwrap();
        assert_eq!(seen, WALK_CHUNK);
        assert!(walk(&table).is_empty());
    }
}
