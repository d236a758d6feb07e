//! A `metrics` 0.24 facade recorder backed by promstack families.
