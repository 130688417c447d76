//! The drivers that discovery and the executor share: walking a directory tree, hashing,
//! crash-safe writes and copies, and the SQL Server connection. They do what they are told
//! and judge nothing; this layer imports nothing above it (see docs/architecture.md).

pub mod atomic;
pub mod copy;
pub mod handle;
pub mod hash;
pub mod meter;
pub mod sql;
pub mod walk;
