//! A cron job leaving its metrics for node_exporter's textfile collector.
//!
//! ```text
//! cargo run --example textfile -p promstack -- /var/lib/node_exporter/textfile/backup.prom
//! prometheus-node-exporter --collector.textfile.directory=/var/lib/node_exporter/textfile
//! ```

use promstack::{write_to_textfile, Gauge, GaugeExt, Registry};

static LAST_BACKUP: Gauge = Gauge::new("backup_last_success_timestamp_seconds", "Last successful backup.");
static BACKUP_SIZE: Gauge = Gauge::new("backup_size_bytes", "Size of the last backup.");

fn main() {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| std::env::temp_dir().join("promstack-backup.prom").display().to_string());
    let registry = Registry::new();
    registry.register_static(&LAST_BACKUP).expect("fresh name");
    registry.register_static(&BACKUP_SIZE).expect("fresh name");

    BACKUP_SIZE.set(123_456_789.0);
    LAST_BACKUP.set_to_now();

    // Written to a temporary file beside it, synced, then renamed: readers never see half a file.
    write_to_textfile(&path, &registry).expect("write the textfile");
    println!("wrote {path}:\n{}", std::fs::read_to_string(&path).expect("read it back"));
}
