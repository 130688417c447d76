//! `store-missing`: a declared store whose root does not exist or is not a directory, even
//! when no item uses it yet (a typo in `path`, a share that is not mounted).

use super::super::Out;
use super::super::finding::{Finding, FindingCode, Severity};
use crate::desired::Desired;
use crate::observe::Observed;

pub(crate) fn check(desired: &Desired, observed: &Observed, out: &mut Out) {
    for site in &desired.sites {
        for store in &site.stores {
            let missing = observed
                .stores
                .iter()
                .any(|s| s.site == site.name.value && s.store == store.name.value && s.missing);
            if missing {
                out.finding(
                    Finding::new(
                        &site.address("store", &store.name.value),
                        FindingCode::StoreMissing,
                        Severity::Warning,
                        format!(
                            "store `{}` has no directory at {}",
                            store.name.value,
                            store.path.value.display()
                        ),
                    )
                    .hint("create the directory (or mount the share), or correct the store's path"),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixture;

    #[test]
    fn a_store_without_its_directory_is_reported_even_when_unused() {
        let mut observed = fixture::healthy();
        let offsite = observed
            .stores
            .iter_mut()
            .find(|s| s.store == "offsite")
            .expect("the fixture has an offsite store");
        offsite.missing = true;
        offsite.error = Some("No such file or directory (os error 2)".into());
        let codes = fixture::codes(&fixture::run(observed));
        assert!(
            codes.contains(&("s/store/offsite".to_owned(), "store-missing".to_owned())),
            "{codes:?}"
        );
        let healthy = fixture::codes(&fixture::run(fixture::healthy()));
        assert!(
            !healthy.iter().any(|(_, c)| c == "store-missing"),
            "{healthy:?}"
        );
    }
}
