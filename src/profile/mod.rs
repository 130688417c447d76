//! The OCS 2007 R2 profile (SPEC §7): what each server role implies must be protected, the
//! guide's best-practice lints, its ten restoration scenarios as templates, and the starting
//! desired state `standby init` writes. On with `deployment … product="ocs-2007-r2"`.

mod implied;
pub mod init;
mod lint;
mod templates;

use crate::desired::{Desired, Diagnostic, Loaded, Lowered, Product};

/// The profile's pass over a freshly loaded desired state, which every command runs after
/// loading: scenario templates expand first, then desired's own validation judges the
/// result, then (for a valid model) the profile's lints.
pub fn apply(mut lowered: Lowered) -> Loaded {
    if let Some(desired) = &mut lowered.desired {
        let expanded = templates::expand(desired);
        lowered.diagnostics.extend(expanded);
    }
    Loaded::validate(lowered, lint)
}

/// Whether the deployment asks for the OCS profile.
pub fn is_ocs(desired: &Desired) -> bool {
    desired
        .deployment
        .product
        .as_ref()
        .is_some_and(|p| p.value == Product::Ocs2007R2)
}

/// The profile's warnings for a valid desired state: implied components that are missing and
/// the best-practice lints. Empty for other products.
pub fn lint(desired: &Desired) -> Vec<Diagnostic> {
    if !is_ocs(desired) {
        return Vec::new();
    }
    let mut out = implied::check(desired);
    out.extend(lint::check(desired));
    out
}
#[cfg(test)]
mod tests;
