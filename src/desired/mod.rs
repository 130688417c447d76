//! The desired state: KDL files → typed [`Desired`] model, with every problem collected as a
//! [`Diagnostic`]. Reads only the KDL files; never the network or the backup stores.

mod diagnostic;
mod duration;
mod load;
mod lower;
mod model;
mod node_reader;
mod parse;
mod source;
mod validate;
pub mod windows_path;

pub use diagnostic::{Code, Diagnostic, Label, Severity, did_you_mean};
pub use duration::{Duration, TimeOfDay};
pub use load::{Loaded, Lowered, load_dir, load_texts};
pub use model::*;
#[doc(hidden)]
pub use parse::parse_differential;
pub use source::{FileId, SourceFile, Sources, Span, Spanned};
