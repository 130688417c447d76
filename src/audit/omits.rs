//! Which of the primary's components a standby site does without, and why: its `omit`s,
//! applied directly (`omit "database/lcslog"`) or through what a component depends on (a
//! database on the server of an omitted role, the computer settings of an omitted server).

use crate::desired::{BackupItem, Choice, Database, ItemKind, Omit, ServerRole, Settings, Site};

/// An omit that covers a component, and whether it names that component itself.
#[derive(Debug, Clone, Copy)]
pub(super) struct Omitted<'a> {
    pub omit: &'a Omit,
    pub direct: bool,
}

impl Omitted<'_> {
    /// `REASON`, or `` via `archiving`: REASON `` when it covers the component through
    /// something else.
    pub(super) fn note(&self) -> String {
        if self.direct {
            self.omit.reason.value.clone()
        } else {
            format!(
                "via `{}`: {}",
                self.omit.component.value, self.omit.reason.value
            )
        }
    }
}

/// The omits of one standby site, read against the primary it stands in for.
#[derive(Debug, Clone, Copy)]
pub(super) struct Omits<'a> {
    pub primary: &'a Site,
    pub standby: &'a Site,
}

impl<'a> Omits<'a> {
    fn named(&self, component: &str, direct: bool) -> Option<Omitted<'a>> {
        self.standby
            .omits
            .iter()
            .find(|o| o.component.value == component)
            .map(|omit| Omitted { omit, direct })
    }

    pub(super) fn role(&self, role: ServerRole) -> Option<Omitted<'a>> {
        self.named(role.name(), true)
    }

    /// A primary server: `omit "server/FQDN"`, or its role omitted.
    pub(super) fn server(&self, fqdn: &str) -> Option<Omitted<'a>> {
        self.named(&format!("server/{fqdn}"), true).or_else(|| {
            self.primary
                .servers
                .iter()
                .find(|s| s.fqdn.value == fqdn)
                .and_then(|s| self.named(s.role.value.name(), false))
        })
    }

    /// `omit "database/NAME"`, its sql-instance omitted, or the server hosting the instance
    /// omitted (by name or role).
    pub(super) fn database(&self, database: &Database) -> Option<Omitted<'a>> {
        self.named(&format!("database/{}", database.name.value), true)
            .or_else(|| {
                let instance = self
                    .primary
                    .sql_instances
                    .iter()
                    .find(|i| i.id.value == database.instance.value)?;
                self.named(&format!("sql-instance/{}", instance.id.value), false)
                    .or_else(|| self.server(&instance.host.value).map(indirect))
            })
    }

    /// `omit "settings/NAME"`, or for computer settings their server omitted.
    pub(super) fn settings(&self, settings: &Settings) -> Option<Omitted<'a>> {
        self.named(&format!("settings/{}", settings.name.value), true)
            .or_else(|| {
                let server = settings.server.as_ref()?;
                self.server(&server.value).map(indirect)
            })
    }

    pub(super) fn named_component(&self, kind: &str, name: &str) -> Option<Omitted<'a>> {
        self.named(&format!("{kind}/{name}"), true)
    }

    /// The component a backup item protects.
    pub(super) fn item(&self, item: &BackupItem<'_>) -> Option<Omitted<'a>> {
        match item.kind {
            ItemKind::Database(database, _) => self.database(database),
            ItemKind::Settings(settings) => self.settings(settings),
            ItemKind::Fileset(fileset) => self.named_component("fileset", &fileset.name.value),
        }
    }
}

fn indirect(omitted: Omitted<'_>) -> Omitted<'_> {
    Omitted {
        direct: false,
        ..omitted
    }
}
