//! tmp
#![no_std]
