//! The SQL Server provider: what each declared `sql-instance` holds (databases, recovery
//! models, file placement) and remembers (msdb backup and restore history), read over TDS
//! with tiberius. A fixed handful of queries per instance, whatever the number of databases;
//! instances are observed concurrently. It reports what is there and never judges it.

mod observation;
pub mod queries;
mod read;

use crate::desired::{Desired, Site, SqlInstance};

use crate::io::sql::{Timeouts, connect, server_name};
pub use observation::*;

/// How many backups of each database and type the history query returns at most.
const MAX_HISTORY_DEPTH: u32 = 1000;

/// Observes every declared SQL Server instance, all at once.
pub fn observe(desired: &Desired, timeouts: Timeouts) -> Vec<SqlInstanceObservation> {
    let instances: Vec<(&Site, &SqlInstance)> = desired
        .sites
        .iter()
        .flat_map(|site| site.sql_instances.iter().map(move |i| (site, i)))
        .collect();
    if instances.is_empty() {
        return Vec::new();
    }
    let runtime = match runtime(instances.len()) {
        Ok(runtime) => runtime,
        Err(e) => {
            return instances
                .iter()
                .map(|(site, instance)| {
                    SqlInstanceObservation::failed(
                        site,
                        instance,
                        format!("cannot start the SQL Server client: {e}"),
                    )
                })
                .collect();
        }
    };
    runtime.block_on(async {
        let mut tasks = tokio::task::JoinSet::new();
        for (index, (site, instance)) in instances.iter().enumerate() {
            let depth = history_depth(site, instance);
            let (site_name, instance) = (site.name.value.clone(), (*instance).clone());
            tasks.spawn(async move {
                (
                    index,
                    Box::pin(observe_instance(site_name, &instance, depth, timeouts)).await,
                )
            });
        }
        let mut observed: Vec<Option<SqlInstanceObservation>> = vec![None; instances.len()];
        while let Some(done) = tasks.join_next().await {
            if let Ok((index, observation)) = done {
                observed[index] = Some(observation);
            }
        }
        observed
            .into_iter()
            .zip(&instances)
            .map(|(o, (site, instance))| {
                o.unwrap_or_else(|| {
                    SqlInstanceObservation::failed(site, instance, "the probe panicked".into())
                })
            })
            .collect()
    })
}

/// A runtime for SQL Server work: a few workers, since decoding large histories is CPU work.
pub fn runtime(tasks: usize) -> std::io::Result<tokio::runtime::Runtime> {
    let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(tasks.clamp(1, cores))
        .enable_all()
        .build()
}

/// The deepest `keep` of the instance's declared database backups: retention and restore
/// chains never look further back than that.
fn history_depth(site: &Site, instance: &SqlInstance) -> u32 {
    site.databases
        .iter()
        .filter(|db| db.instance.value == instance.id.value)
        .flat_map(|db| db.backups.iter().map(|b| b.policy.keep.value))
        .max()
        .unwrap_or(1)
        .clamp(1, MAX_HISTORY_DEPTH)
}

impl SqlInstanceObservation {
    fn failed(site: &Site, instance: &SqlInstance, error: String) -> Self {
        let mut observation = Self::empty(site.name.value.clone(), instance);
        observation.error = Some(error);
        observation
    }

    fn empty(site: String, instance: &SqlInstance) -> Self {
        Self {
            site,
            instance: instance.id.value.clone(),
            server: server_name(instance),
            error: None,
            version: None,
            utc_offset_minutes: 0,
            queries: 0,
            databases: Vec::new(),
            backups: Vec::new(),
            restores: Vec::new(),
        }
    }
}

async fn observe_instance(
    site: String,
    instance: &SqlInstance,
    depth: u32,
    timeouts: Timeouts,
) -> SqlInstanceObservation {
    let mut observation = SqlInstanceObservation::empty(site, instance);
    let result = match Box::pin(connect(instance, timeouts)).await {
        Ok(mut connection) => read::everything(&mut connection, depth, &mut observation).await,
        Err(e) => Err(e),
    };
    if let Err(error) = result {
        // Half an observation would read as "these databases are gone": keep none of it.
        observation.databases.clear();
        observation.backups.clear();
        observation.restores.clear();
        observation.error = Some(error);
    }
    observation
}
