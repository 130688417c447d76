//! The DNS provider: what every declared `dns` record resolves to, asked of the
//! deployment's `resolver` servers (or the system's). It records the answers and never
//! decides whether they are right; `audit` does.
//!
//! Each query gets one try with a short timeout: an audit must not hang on a resolver that
//! is down, and a resolver that does not answer in two seconds is reported as unreachable,
//! not retried until it does.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use hickory_resolver::TokioResolver;
use hickory_resolver::config::{
    ConnectionConfig, NameServerConfig, ResolveHosts, ResolverConfig, ResolverOpts,
};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::proto::rr::RecordType as WireType;
use serde::{Deserialize, Serialize};

use crate::desired::{Desired, RecordType};

/// How long one query may take.
pub const QUERY_TIMEOUT: Duration = Duration::from_secs(2);

/// One declared record as it resolved.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, Hash)]
#[serde(deny_unknown_fields)]
pub struct DnsObservation {
    pub site: String,
    pub name: String,
    /// `SRV`, `A` or `CNAME`.
    #[serde(rename = "type")]
    pub record_type: String,
    /// The answers of the record's type in zone-file form, sorted: `0 0 5061
    /// pool01.contoso.com.` (SRV: priority, weight, port, target), `10.0.1.10` (A),
    /// `pool01.contoso.com.` (CNAME). Empty when the name has no such record.
    #[serde(default)]
    pub answers: Vec<String>,
    /// Why the name could not be resolved (timeout, refused, server failure); `answers` is
    /// then unknown, not empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Resolves every `dns` record of every site. Asks nothing when none is declared.
pub fn resolve(desired: &Desired) -> Vec<DnsObservation> {
    let declared: Vec<(&str, &str, RecordType)> = desired
        .sites
        .iter()
        .flat_map(|site| {
            site.dns.iter().map(move |d| {
                (
                    site.name.value.as_str(),
                    d.name.value.as_str(),
                    d.record_type.value,
                )
            })
        })
        .collect();
    if declared.is_empty() {
        return Vec::new();
    }
    let servers: Vec<&str> = desired
        .deployment
        .resolvers
        .iter()
        .map(|r| r.value.as_str())
        .collect();
    let mut queries: Vec<(String, RecordType)> = declared
        .iter()
        .map(|(_, name, record_type)| ((*name).to_owned(), *record_type))
        .collect();
    queries.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
    queries.dedup();
    let results = answer_all(&servers, queries).unwrap_or_else(|error| {
        declared
            .iter()
            .map(|(_, name, t)| (((*name).to_owned(), *t), Err(error.clone())))
            .collect()
    });
    declared
        .into_iter()
        .map(|(site, name, record_type)| {
            let result = results
                .get(&(name.to_owned(), record_type))
                .cloned()
                .unwrap_or_else(|| Err("not asked".to_owned()));
            let (answers, error) = match result {
                Ok(answers) => (answers, None),
                Err(error) => (Vec::new(), Some(error)),
            };
            DnsObservation {
                site: site.to_owned(),
                name: name.to_owned(),
                record_type: record_type.to_string(),
                answers,
                error,
            }
        })
        .collect()
}

type Answers = Result<Vec<String>, String>;

/// Asks all queries at once on a small runtime of its own.
fn answer_all(
    servers: &[&str],
    queries: Vec<(String, RecordType)>,
) -> Result<BTreeMap<(String, RecordType), Answers>, String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the DNS client: {e}"))?;
    runtime.block_on(async {
        let resolver = resolver(servers)?;
        let mut tasks = tokio::task::JoinSet::new();
        for (name, record_type) in queries {
            let resolver = resolver.clone();
            tasks.spawn(async move {
                let answers = lookup(&resolver, &name, record_type).await;
                ((name, record_type), answers)
            });
        }
        let mut results = BTreeMap::new();
        while let Some(done) = tasks.join_next().await {
            let (key, answers) = done.map_err(|e| format!("DNS query failed: {e}"))?;
            results.insert(key, answers);
        }
        Ok(results)
    })
}

/// A resolver asking `servers` (`IP`, `IP:PORT`, `[IPv6]:PORT`), or the system's resolvers
/// when there are none.
fn resolver(servers: &[&str]) -> Result<TokioResolver, String> {
    let mut builder = if servers.is_empty() {
        TokioResolver::builder_tokio()
            .map_err(|e| format!("cannot read the system's DNS configuration: {e}"))?
    } else {
        let name_servers = servers
            .iter()
            .map(|text| {
                let address = server_address(text)
                    .ok_or_else(|| format!("resolver {text:?} is not an IP address"))?;
                let mut udp = ConnectionConfig::udp();
                udp.port = address.port();
                Ok(NameServerConfig::new(address.ip(), true, vec![udp]))
            })
            .collect::<Result<Vec<_>, String>>()?;
        let mut builder = TokioResolver::builder_with_config(
            ResolverConfig::from_parts(None, Vec::new(), name_servers),
            TokioRuntimeProvider::default(),
        );
        builder.options_mut().use_hosts_file = ResolveHosts::Never;
        builder
    };
    let options: &mut ResolverOpts = builder.options_mut();
    options.timeout = QUERY_TIMEOUT;
    // `attempts` counts retries: zero is one try.
    options.attempts = 0;
    options.cache_size = 0;
    builder
        .build()
        .map_err(|e| format!("cannot build the DNS client: {e}"))
}

/// `10.0.0.53:53`, `10.0.0.53` (port 53), `[fd00::53]:53`, `fd00::53`.
fn server_address(text: &str) -> Option<SocketAddr> {
    text.parse::<SocketAddr>().ok().or_else(|| {
        text.parse::<IpAddr>()
            .ok()
            .map(|ip| SocketAddr::new(ip, 53))
    })
}

async fn lookup(resolver: &TokioResolver, name: &str, record_type: RecordType) -> Answers {
    let wire = match record_type {
        RecordType::Srv => WireType::SRV,
        RecordType::A => WireType::A,
        RecordType::Cname => WireType::CNAME,
    };
    // Fully qualified: the declared name is never a search-list candidate.
    let fqdn = if name.ends_with('.') {
        name.to_owned()
    } else {
        format!("{name}.")
    };
    // The resolver's own timeout covers one server; this bounds the whole lookup.
    let limit = QUERY_TIMEOUT + Duration::from_millis(500);
    match tokio::time::timeout(limit, resolver.lookup(fqdn.as_str(), wire)).await {
        Err(_) => Err(format!("no answer within {}s", limit.as_secs())),
        Ok(Err(e)) if e.is_no_records_found() => Ok(Vec::new()),
        Ok(Err(e)) => Err(e.to_string()),
        Ok(Ok(lookup)) => {
            let mut answers: Vec<String> = lookup
                .answers()
                .iter()
                .filter(|r| r.record_type() == wire)
                .map(|r| r.data.to_string())
                .collect();
            answers.sort();
            answers.dedup();
            Ok(answers)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolver_addresses_default_to_port_53() {
        let parse = |t: &str| server_address(t).map(|a| a.to_string());
        assert_eq!(parse("10.0.0.53:5353").as_deref(), Some("10.0.0.53:5353"));
        assert_eq!(parse("10.0.0.53").as_deref(), Some("10.0.0.53:53"));
        assert_eq!(parse("[fd00::53]:53").as_deref(), Some("[fd00::53]:53"));
        assert_eq!(parse("fd00::53").as_deref(), Some("[fd00::53]:53"));
        assert_eq!(parse("ns1.contoso.com"), None);
    }
}
