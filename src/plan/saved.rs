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

    /// Refuses dependencies a plan could not honour: an id no action has, or a cycle (whose
    /// actions would wait on each other forever and never run).
    pub fn check_dependencies(&self) -> Result<(), String> {
        let ids: std::collections::HashSet<&str> =
            self.actions.iter().map(|a| a.id.as_str()).collect();
        for action in &self.actions {
            if let Some(unknown) = action.depends_on.iter().find(|d| !ids.contains(d.as_str())) {
                return Err(format!(
                    "action {} depends on {unknown}, which the plan does not hold",
                    action.id
                ));
            }
        }
        // Kahn's algorithm: what never becomes ready is on (or behind) a cycle.
        let mut waiting: Vec<&Action> = self.actions.iter().collect();
        let mut done: std::collections::HashSet<&str> = std::collections::HashSet::new();
        loop {
            let before = waiting.len();
            waiting.retain(|a| {
                let ready = a.depends_on.iter().all(|d| done.contains(d.as_str()));
                if ready {
                    done.insert(a.id.as_str());
                }
                !ready
            });
            if waiting.is_empty() {
                return Ok(());
            }
            if waiting.len() == before {
                let ids: Vec<&str> = waiting.iter().map(|a| a.id.as_str()).collect();
                return Err(format!(
                    "the dependencies of actions {} form a cycle",
                    ids.join(", ")
                ));
            }
        }
    }

    /// The first saved action that is not what `derived` (the plan the fingerprinted
    /// desired state and observation give at this plan's `now`) holds under its id: an
    /// edited command, source or destination never runs. A plan made with `--target` holds
    /// a part of `derived`, its dependencies cut to what it kept.
    pub fn edited_action(&self, derived: &Plan) -> Option<String> {
        let kept: std::collections::HashSet<&str> =
            self.actions.iter().map(|a| a.id.as_str()).collect();
        self.actions.iter().find_map(|saved| {
            let Some(fresh) = derived.actions.iter().find(|a| a.id == saved.id) else {
                return Some(format!("action {} is not one the plan produces", saved.id));
            };
            let mut fresh = fresh.clone();
            fresh.depends_on.retain(|d| kept.contains(d.as_str()));
            (fresh != *saved).then(|| {
                format!(
                    "action {} ({} {}) differs from what the plan produces",
                    saved.id, saved.kind, saved.address
                )
            })
        })
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
