//! The child table of every growing labeled family: lookup, creation, removal and reporting of
//! children by label values, written once for every storage.
//!
//! [`Family`](crate::Family) keeps its children's values on the heap; `promstack`'s
//! `multiprocess::Family` keeps them in memory-mapped files. Both store their children in a
//! [`ChildTable`]: what differs is only the entry type ([`TableEntry`]), which owns the label
//! values and wherever the value lives.
//!
//! # The lookup hot path
//! A table is one `hashbrown::HashTable` behind [`REPLICAS`] reader-writer lock words, each on
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
//! them). One table, not one copy per lock word, keeps the memory per child at one table slot.
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

use crate::sync::{Mutex, RwLock};
use alloc::boxed::Box;
use alloc::vec::Vec;
use core::cell::UnsafeCell;
use core::hash::{BuildHasher, Hasher};
use hashbrown::{DefaultHashBuilder, HashTable};
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
    /// Called once when the child leaves the table (`remove`, `clear`), after it left every
    /// table and before a replacement is created: the place to make sure updates through
    /// handles still held cannot reach an exported series. Nothing to do for heap values.
    fn retire(&self) {}
}

/// A child's label values in one allocation: where each value starts (a `u32` per value, from
/// the start of the allocation), then the values back to back. Two `String`s per child would
/// take three allocations.
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
        let text: usize = (0..n).map(|i| key.at(i).len()).sum();
        let mut bytes = Vec::with_capacity(4 * n + text);
        let mut start = 4 * n;
        for i in 0..n {
            let word = u32::try_from(start).expect("label values of 4 GiB");
            bytes.extend_from_slice(&word.to_le_bytes());
            start += key.at(i).len();
        }
        for i in 0..n {
            bytes.extend_from_slice(key.at(i).as_bytes());
        }
        LabelValues(bytes.into_boxed_slice())
    }

    /// The number of values: the first value starts right after the start words.
    #[inline]
    pub fn len(&self) -> usize {
        if self.0.is_empty() {
            0
        } else {
            self.start(0) / 4
        }
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
        let n = self.len();
        assert!(i < n, "label value {i} of {n}");
        let end = if i + 1 < n { self.start(i + 1) } else { self.0.len() };
        let bytes = &self.0[self.start(i)..end];
        // SAFETY: `new` copied whole `&str` values back to back and recorded where each starts,
        // so `start..end` is exactly one of them: valid UTF-8.
        unsafe { core::str::from_utf8_unchecked(bytes) }
    }

    /// Every value, in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        (0..self.len()).map(|i| self.get(i))
    }

    #[inline]
    fn start(&self, i: usize) -> usize {
        let w = &self.0[4 * i..4 * i + 4];
        u32::from_le_bytes([w[0], w[1], w[2], w[3]]) as usize
    }
}

impl core::fmt::Debug for LabelValues {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
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
/// share one.
#[repr(align(128))]
struct LockWord(RwLock<()>);

type WriteGuard<'a> = spin::rwlock::RwLockWriteGuard<'a, (), crate::sync::Relax>;
type ReadGuard<'a> = spin::rwlock::RwLockReadGuard<'a, (), crate::sync::Relax>;

impl LockWord {
    /// Write access that readers cannot starve: the upgradeable guard raises a flag that turns
    /// new readers away (they retry), then the upgrade waits only for the readers already inside.
    /// Writers are serialized by the table's writer mutex, so the flag is always free here.
    fn write(&self) -> WriteGuard<'_> {
        self.0.upgradeable_read().upgrade()
    }
}

/// The table, readable while one lock word is read-locked.
struct Reading<'a, E> {
    _lock: ReadGuard<'a>,
    table: &'a HashTable<E>,
}

/// The table, writable while every lock word is write-locked.
struct Writing<'a, E> {
    _locks: [WriteGuard<'a>; REPLICAS],
    table: &'a mut HashTable<E>,
}

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
    children: UnsafeCell<HashTable<E>>,
    /// Serializes writers; holds the next creation number.
    writer: Mutex<u64>,
}

// SAFETY: `children` is only read under a read lock of one lock word and only written under
// the write locks of all of them (`reading`, `writing`), so threads share it as they would
// share a `RwLock<HashTable<E>>`, which is `Sync` when `E` is `Send + Sync`.
unsafe impl<E: Send + Sync> Sync for ChildTable<E> {}

impl<E> core::fmt::Debug for ChildTable<E> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ChildTable").field("label_names", &self.label_names).finish_non_exhaustive()
    }
}

impl<E> ChildTable<E> {
    /// The table for reading, under the calling thread's lock word.
    #[inline]
    fn reading(&self) -> Reading<'_, E> {
        let lock = self.locks[lock_index()].0.read();
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
            locks: (0..REPLICAS).map(|_| LockWord(RwLock::new(()))).collect(),
            children: UnsafeCell::new(HashTable::new()),
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
            if let Some(child) = read.table.find(hash, |c| matches(c, hash, key)) {
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
        if let Some(child) = self.reading().table.find(hash, |c| matches(c, hash, key)) {
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
        let rehash = |c: &E| self.hash(&EntryKey(c, n));
        self.writing().table.insert_unique(hash, child.clone(), rehash);
        child
    }

    /// Removes the child for `key`, [retires](TableEntry::retire) it and
    /// returns it. A table without label names is never empty: its one child is replaced by
    /// `make(creation number)`.
    pub fn remove<K: LabelKey + ?Sized>(&self, key: &K, make: impl FnOnce(u64) -> E) -> Option<E> {
        let hash = self.hash(key);
        let mut seq = self.writer.lock();
        let removed = match self.writing().table.find_entry(hash, |c| matches(c, hash, key)) {
            Ok(entry) => entry.remove().0,
            Err(_) => return None,
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
        let gone: Vec<E> = self.writing().table.drain().collect();
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
        self.reading().table.len()
    }

    /// `true` when there are no children.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every child, in creation order. The handles are cloned out under one lock word, so no
    /// lock is held once this returns.
    pub fn children(&self) -> Vec<E> {
        let mut children: Vec<E> = self.reading().table.iter().cloned().collect();
        children.sort_unstable_by_key(TableEntry::seq);
        children
    }

    /// Calls `f` with every child, in creation order, its labels, and `sink`: the one reporting
    /// path of every family. No lock is held while `f` runs.
    pub fn report(
        &self,
        sink: &mut dyn Sink,
        mut f: impl FnMut(&E, Labels<'_>, &mut dyn Sink) -> Result<(), CollectError>,
    ) -> Result<(), CollectError> {
        let children = self.children();
        let names: Vec<&str> = self.label_names.iter().map(|n| &**n).collect();
        let mut values: Vec<&str> = Vec::with_capacity(names.len());
        for child in &children {
            values.clear();
            values.extend((0..names.len()).map(|i| child.label_value(i)));
            f(child, Labels::new(&names, &values), sink)?;
        }
        Ok(())
    }

    /// Takes every lock of the table if none is busy: the writer mutex, then every lock
    /// word's write lock. For a storage that must not leave a lock held across `fork()` by a thread
    /// that does not exist in the child process.
    pub fn try_lock_all(&self) -> Option<TableLock<'_, E>> {
        let writer = self.writer.try_lock()?;
        let mut locks = Vec::with_capacity(REPLICAS);
        for l in self.locks.iter() {
            locks.push(l.0.try_write()?);
        }
        Some(TableLock { _writer: writer, _locks: locks, _children: core::marker::PhantomData })
    }
}

#[inline]
fn matches<E: TableEntry, K: LabelKey + ?Sized>(child: &E, _hash: u64, key: &K) -> bool {
    (0..key.len()).all(|i| child.label_value(i) == key.at(i))
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
