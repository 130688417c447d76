//! Saved plans (`plan --out PLAN`): the findings and actions, with fingerprints of exactly
//! the desired state and observation they were computed from, so `apply PLAN` can refuse a
//! plan that reality has moved away from.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{Action, Finding, Plan};
use crate::desired::Desired;
use crate::observe::Observed;

pub(crate) const FORMAT_VERSION: &str = "1";

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavedPlan {
    pub format_version: String,
    pub created_at: Timestamp,
    /// The time freshness was judged at; new backups are named after it.
    pub now: Timestamp,
    pub desired_fingerprint: String,
    pub observed_fingerprint: String,
    pub findings: Vec<Finding>,
    pub ignored: Vec<Finding>,
    pub actions: Vec<Action>,
}

fn sha256_json(value: &impl Serialize) -> String {
    // serde_json writes struct fields in declaration order and maps sorted (BTreeMap), so the
    // same value always gives the same bytes.
    let bytes = serde_json::to_vec(value).unwrap_or_default();
    hex::encode(Sha256::digest(&bytes))
}

/// The fingerprint of a desired state: its meaning, not its formatting — comments,
/// whitespace and spans do not count.
pub fn desired_fingerprint(desired: &Desired) -> String {
    sha256_json(desired)
}

/// The fingerprint of an observation, without the time it was taken or when files were
/// last verified.
pub fn observed_fingerprint(observed: &Observed) -> String {
    sha256_json(&observed.canonical())
}

impl SavedPlan {
    pub fn new(
        plan: &Plan,
        desired: &Desired,
        observed: &Observed,
        now: Timestamp,
        created_at: Timestamp,
    ) -> Self {
        Self {
            format_version: FORMAT_VERSION.to_owned(),
            created_at,
            now,
            desired_fingerprint: desired_fingerprint(desired),
            observed_fingerprint: observed_fingerprint(observed),
            findings: plan.findings.clone(),
            ignored: plan.ignored.clone(),
            actions: plan.actions.clone(),
        }
    }

    /// Why this plan no longer fits the desired state and the observation, if it does not.
    pub fn staleness(&self, desired: &Desired, observed: &Observed) -> Option<String> {
        let mut changed = Vec::new();
        if self.desired_fingerprint != desired_fingerprint(desired) {
            changed.push("the desired state changed");
        }
        if self.observed_fingerprint != observed_fingerprint(observed) {
            changed.push("the stores changed");
        }
        (!changed.is_empty()).then(|| changed.join(" and "))
    }

    pub fn into_plan(self) -> Plan {
        Plan {
            findings: self.findings,
            actions: self.actions,
            ignored: self.ignored,
            items: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::rules::fixture;
    use super::*;

    #[test]
    fn fingerprints_ignore_formatting_and_observation_time() {
        let desired = fixture::desired();
        let reformatted = crate::profile::apply(crate::desired::load_texts(vec![(
            "/d/t.kdl".into(),
            format!("// a comment\n{}", fixture::DESIRED.replace("    ", "\t")),
        )]));
        let reformatted = reformatted.desired.expect("still valid");
        assert_eq!(
            desired_fingerprint(&desired),
            desired_fingerprint(&reformatted)
        );

        let changed = crate::profile::apply(crate::desired::load_texts(vec![(
            "/d/t.kdl".into(),
            fixture::DESIRED.replace("keep=3", "keep=4"),
        )]));
        let changed = changed.desired.expect("still valid");
        assert_ne!(desired_fingerprint(&desired), desired_fingerprint(&changed));

        let observed = fixture::healthy();
        let mut later = observed.clone();
        later.taken_at = fixture::at("2030-01-01T00:00:00Z");
        assert_eq!(
            observed_fingerprint(&observed),
            observed_fingerprint(&later)
        );
        let mut more = observed.clone();
        more.stores[0]
            .entries
            .push(fixture::full("20261122T090000Z"));
        assert_ne!(observed_fingerprint(&observed), observed_fingerprint(&more));
    }
}
