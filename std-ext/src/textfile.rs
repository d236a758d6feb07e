//! Textfile output for node_exporter's textfile collector (SPEC §6).
//!
//! The exposition is written to `<path>.<pid>.<thread id>` in the same directory, flushed to
//! disk, and renamed over `<path>`: a reader (node_exporter) sees the old file or the new one,
//! never a partial one. On failure the old file stays and the temporary file is removed.

use crate::std_io::encode_to_writer;
use promstack_core::{Collector, Format};
use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// A small number naming the calling thread in temporary file names.
fn thread_number() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    thread_local!(static ID: u64 = NEXT.fetch_add(1, Ordering::Relaxed));
    ID.with(|id| *id)
}

/// Writes `collector` as text 0.0.4 to `path` atomically (node_exporter reads files ending in
/// `.prom`).
///
/// ```
/// use promstack::{write_to_textfile, Gauge};
/// static LAST_BACKUP: Gauge = Gauge::new("backup_last_success_timestamp_seconds", "Last backup.");
/// LAST_BACKUP.set(1_700_000_000.0);
/// let path = std::env::temp_dir().join(format!("doc-{}.prom", std::process::id()));
/// write_to_textfile(&path, &LAST_BACKUP).unwrap();
/// assert!(std::fs::read_to_string(&path).unwrap().ends_with("backup_last_success_timestamp_seconds 1700000000.0\n"));
/// # std::fs::remove_file(&path).unwrap();
/// ```
pub fn write_to_textfile(path: impl AsRef<Path>, collector: &dyn Collector) -> io::Result<()> {
    let path = path.as_ref();
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".{}.{}", std::process::id(), thread_number()));
    let tmp = PathBuf::from(tmp);
    let result = write_and_sync(&tmp, collector).and_then(|()| fs::rename(&tmp, path));
    match result {
        Ok(()) => {
            // Make the rename itself durable; a failure here does not undo the new file.
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                if let Ok(d) = File::open(dir) {
                    let _ = d.sync_all();
                }
            }
            Ok(())
        }
        Err(e) => {
            let _ = fs::remove_file(&tmp);
            Err(e)
        }
    }
}

fn write_and_sync(tmp: &Path, collector: &dyn Collector) -> io::Result<()> {
    let file = File::create(tmp)?;
    let mut out = encode_to_writer(BufWriter::new(file), Format::Text, collector)?;
    out.flush()?;
    let file = out.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()
}
