//! The one integration-test binary: every test drives the real `standby` binary in a
//! temporary environment, as a user would.

// Test helpers are `pub` for the test modules, not for anyone outside.
#![allow(unreachable_pub)]
mod apply;
mod architecture;
mod audit;
mod crash;
mod discovery;
mod docs;
mod formats;
mod init;
mod layout;
mod recovery;
mod sql;
mod state;
mod support;
mod validate;
mod worksheet;
