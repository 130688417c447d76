//! Renderers: turn diagnostics, findings and plans into what people and tools read.

pub mod diagnostics;
pub mod plan;
