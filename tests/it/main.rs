//! The one integration-test binary: every test drives the real `standby` binary in a
//! temporary environment, as a user would.

// Test helpers are `pub` for the test modules, not for anyone outside.
#![allow(unreachable_pub)]
// These drive `sh`, `sha256sum`, signals, symbolic links, inode numbers and a PostgreSQL on a
// Unix socket: Unix only. `windows` drives the
// Windows build through the same ground (scripts/test-windows runs it under Wine).
#[cfg(unix)]
mod apply;
mod architecture;
mod audit;
#[cfg(unix)]
mod crash;
mod discovery;
mod docs;
#[cfg(unix)]
mod formats;
mod init;
mod layout;
#[cfg(unix)]
mod model;
mod recovery;
#[cfg(unix)]
mod reliability;
mod sql;
#[cfg(unix)]
mod state;
mod support;
mod validate;
#[cfg(windows)]
mod windows;
#[cfg(unix)]
mod worksheet;
