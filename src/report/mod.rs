//! Renderers: turn diagnostics, findings and plans into what people and tools read.

pub mod apply;
pub mod audit;
pub mod diagnostics;
pub mod history;
pub mod junit;
pub mod layout;
pub mod nagios;
pub mod plan;
pub mod prometheus;
pub mod worksheet;
