//! The pricing catalog and the usage assumptions, both kept as data in `infra/pricing/`.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use crate::error::{InfraError, Result};

/// How compute is paid for. Every tier is priced with the same one, so tiers compare like for like.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PricingModel {
    #[default]
    OnDemand,
    /// One-year, no-upfront standard reservations for EC2 and RDS instances.
    Reserved,
    /// A one-year, no-upfront Compute Savings Plan: EC2 and Fargate (RDS stays on-demand: the
    /// plan does not cover it).
    SavingsPlan,
}

impl PricingModel {
    pub const ALL: [PricingModel; 3] = [PricingModel::OnDemand, PricingModel::Reserved, PricingModel::SavingsPlan];

    pub fn as_str(self) -> &'static str {
        match self {
            PricingModel::OnDemand => "on-demand",
            PricingModel::Reserved => "reserved",
            PricingModel::SavingsPlan => "savings-plan",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            PricingModel::OnDemand => "On-demand",
            PricingModel::Reserved => "1-year reserved instances",
            PricingModel::SavingsPlan => "1-year Compute Savings Plan",
        }
    }

    /// What a commitment covers, for the caveat; none for on-demand.
    pub fn covers(self) -> Option<&'static str> {
        match self {
            PricingModel::OnDemand => None,
            PricingModel::Reserved => Some("EC2 and RDS instances"),
            PricingModel::SavingsPlan => Some("EC2 instances and Fargate tasks (not RDS)"),
        }
    }

    /// Months a commitment is billed for, whatever runs: zero for on-demand.
    pub fn term_months(self) -> u32 {
        match self {
            PricingModel::OnDemand => 0,
            PricingModel::Reserved | PricingModel::SavingsPlan => 12,
        }
    }

    /// The rate a price has under this model (on-demand where the commitment does not cover it).
    pub fn rate(self, price: &Price) -> f64 {
        match self {
            PricingModel::OnDemand => price.usd,
            PricingModel::Reserved => price.reserved_usd.unwrap_or(price.usd),
            PricingModel::SavingsPlan => price.savings_plan_usd.unwrap_or(price.usd),
        }
    }
}

impl std::str::FromStr for PricingModel {
    type Err = InfraError;

    fn from_str(s: &str) -> Result<PricingModel> {
        PricingModel::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| InfraError::data("pricing", s, "unknown pricing model: on-demand, reserved or savings-plan"))
    }
}

impl std::fmt::Display for PricingModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Price {
    pub id: String,
    pub description: String,
    pub unit: String,
    pub usd: f64,
    /// Effective rate of a one-year, no-upfront reservation, where one exists.
    pub reserved_usd: Option<f64>,
    /// Rate under a one-year, no-upfront Compute Savings Plan, where the plan covers the price.
    pub savings_plan_usd: Option<f64>,
    pub source: String,
    pub as_of: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FreeTierKind {
    /// Offered to every account, every month.
    Always,
}

/// A monthly free allowance on one price, shared by every resource of the account.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FreeTier {
    pub price: String,
    pub quantity: f64,
    pub kind: FreeTierKind,
    pub source: String,
    pub as_of: String,
}

/// A burstable instance type's CPU: what it may use all month without paying for credits.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Burstable {
    pub instance_type: String,
    pub vcpus: f64,
    /// Share of each vCPU the instance earns credits for, in percent.
    pub baseline_percent: f64,
    pub source: String,
}

/// What the seed's cost table says for a service, and why we differ where we do.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SeedFigure {
    pub service: String,
    pub usd: f64,
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PriceCatalog {
    pub region: String,
    pub hours_per_month: f64,
    pub prices: IndexMap<String, Price>,
    pub free_tiers: Vec<FreeTier>,
    pub burstable: Vec<Burstable>,
    pub seed: Vec<SeedFigure>,
}

impl PriceCatalog {
    /// The on-demand price of an id (zero for an id the catalog lacks: tests name ids it has).
    pub fn usd(&self, id: &str) -> f64 {
        self.prices.get(id).map_or(0.0, |p| p.usd)
    }

    /// The always-free monthly quantity of a price, if any.
    pub fn free_quantity(&self, id: &str) -> f64 {
        self.free_tiers.iter().filter(|f| f.price == id).map(|f| f.quantity).sum()
    }

    pub fn burstable(&self, instance_type: &str) -> Option<&Burstable> {
        self.burstable.iter().find(|b| b.instance_type == instance_type)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPrice {
    id: Option<String>,
    description: Option<String>,
    unit: Option<String>,
    usd: Option<f64>,
    reserved_usd: Option<f64>,
    savings_plan_usd: Option<f64>,
    source: Option<String>,
    as_of: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBurstable {
    instance_type: String,
    vcpus: f64,
    baseline_percent: f64,
    source: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFreeTier {
    price: String,
    quantity: f64,
    kind: FreeTierKind,
    source: String,
    as_of: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSeed {
    service: String,
    usd: f64,
    note: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCatalog {
    region: String,
    hours_per_month: f64,
    price: Vec<toml::Value>,
    #[serde(default)]
    free_tier: Vec<RawFreeTier>,
    #[serde(default)]
    burstable: Vec<RawBurstable>,
    #[serde(default)]
    seed: Vec<RawSeed>,
}

/// A TOML error as a data error: the key is the one the message names
/// (`unknown field \`x\``), else the line it happened on.
pub(crate) fn toml_error(file: &str, text: &str, e: toml::de::Error) -> InfraError {
    let message = e.message().to_owned();
    let named = message.split('`').nth(1).filter(|k| !k.is_empty()).map(str::to_owned);
    let line = e.span().map(|span| format!("line {}", text[..span.start.min(text.len())].lines().count().max(1)));
    let key = named.or(line).unwrap_or_else(|| "(root)".to_owned());
    InfraError::data(file, key, message)
}

impl PriceCatalog {
    pub fn parse(file: &str, text: &str) -> Result<PriceCatalog> {
        let raw: RawCatalog = toml::from_str(text).map_err(|e| toml_error(file, text, e))?;
        let mut prices = IndexMap::new();
        for (index, entry) in raw.price.into_iter().enumerate() {
            let fallback = format!("price[{index}]");
            let label =
                entry.get("id").and_then(toml::Value::as_str).map(|id| format!("price `{id}`")).unwrap_or(fallback);
            let p: RawPrice = entry
                .try_into()
                .map_err(|e: toml::de::Error| InfraError::data(file, label.clone(), e.message().to_owned()))?;
            let need = |field: Option<String>, name: &str| {
                field
                    .filter(|v| !v.trim().is_empty())
                    .ok_or_else(|| InfraError::data(file, label.clone(), format!("has no `{name}`")))
            };
            let id = need(p.id, "id")?;
            let usd = p
                .usd
                .filter(|v| v.is_finite() && *v >= 0.0)
                .ok_or_else(|| InfraError::data(file, label.clone(), "has no `usd` of zero or more"))?;
            let price = Price {
                description: need(p.description, "description")?,
                unit: need(p.unit, "unit")?,
                source: need(p.source, "source")?,
                as_of: need(p.as_of, "as_of")?,
                usd,
                reserved_usd: p.reserved_usd,
                savings_plan_usd: p.savings_plan_usd,
                id: id.clone(),
            };
            if prices.insert(id.clone(), price).is_some() {
                return Err(InfraError::data(file, label, "is listed twice"));
            }
        }
        let free_tiers = raw
            .free_tier
            .into_iter()
            .map(|f| {
                if !prices.contains_key(&f.price) {
                    return Err(InfraError::data(
                        file,
                        format!("free_tier `{}`", f.price),
                        "names no price of this catalog",
                    ));
                }
                Ok(FreeTier { price: f.price, quantity: f.quantity, kind: f.kind, source: f.source, as_of: f.as_of })
            })
            .collect::<Result<_>>()?;
        Ok(PriceCatalog {
            region: raw.region,
            hours_per_month: raw.hours_per_month,
            prices,
            free_tiers,
            burstable: raw
                .burstable
                .into_iter()
                .map(|b| {
                    let at = format!("burstable `{}`", b.instance_type);
                    if !(b.vcpus > 0.0 && (0.0..=100.0).contains(&b.baseline_percent)) {
                        return Err(InfraError::data(
                            file,
                            at,
                            "needs vcpus above 0 and a baseline_percent from 0 to 100",
                        ));
                    }
                    Ok(Burstable {
                        instance_type: b.instance_type,
                        vcpus: b.vcpus,
                        baseline_percent: b.baseline_percent,
                        source: b.source,
                    })
                })
                .collect::<Result<_>>()?,
            seed: raw.seed.into_iter().map(|s| SeedFigure { service: s.service, usd: s.usd, note: s.note }).collect(),
        })
    }
}

/// Monthly demand the cost of a deployment depends on; editable per request. Keys describe what
/// users and servers do (bytes served to viewers, requests, users), not what a tier bills for: the
/// cost model routes the same demand through whatever the tier has (CloudFront, the load balancer,
/// NAT gateways), so every tier carries the same traffic.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Usage {
    pub viewer_transfer_gb: f64,
    pub viewer_requests: f64,
    pub cdn_origin_share: f64,
    pub api_requests: f64,
    pub api_reply_kb: f64,
    pub cognito_mau: f64,
    pub server_downloads_gb: f64,
    pub server_uploads_gb: f64,
    pub app_database_gb: f64,
    pub cpu_average_percent: f64,
    pub s3_assets_gb: f64,
    pub s3_uploads_gb: f64,
    pub s3_backups_gb: f64,
    pub s3_put_requests: f64,
    pub s3_get_requests: f64,
    pub lambda_requests: f64,
    pub lambda_avg_duration_ms: f64,
    pub logs_ingested_gb: f64,
    pub secrets_api_calls: f64,
    pub sqs_requests: f64,
    pub sns_publishes: f64,
    pub dns_queries: f64,
    pub ecr_storage_gb: f64,
    pub access_logs_gb: f64,
    pub api_access_logs_gb: f64,
    pub rds_os_metrics_gb: f64,
}

/// One usage assumption, for forms and tables: its typical value and the range around it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UsageField {
    pub key: &'static str,
    pub label: &'static str,
    pub unit: &'static str,
    pub value: f64,
    pub low: f64,
    pub high: f64,
}

macro_rules! usage_fields {
    ($($key:ident: $label:literal, $unit:literal, $max:expr;)*) => {
        impl Usage {
            /// Every key, in display order.
            pub const KEYS: &'static [&'static str] = &[$(stringify!($key)),*];

            /// Every assumption with its label and unit, in display order (low and high are the value).
            pub fn fields(&self) -> Vec<UsageField> {
                vec![$(UsageField {
                    key: stringify!($key),
                    label: $label,
                    unit: $unit,
                    value: self.$key,
                    low: self.$key,
                    high: self.$key,
                }),*]
            }

            /// Sets one assumption by key; the value must be a finite number from zero to the key's
            /// largest ([`USAGE_MAX`], or 1 for a share, 100 for a percentage).
            pub fn set(&mut self, key: &str, value: f64) -> Result<()> {
                match key {
                    $(stringify!($key) => {
                        check_usage_value("usage", key, value, $max)?;
                        self.$key = value;
                    })*
                    _ => return Err(unknown_usage_key("usage", key)),
                }
                Ok(())
            }

            fn get(&self, key: &str) -> f64 {
                match key {
                    $(stringify!($key) => self.$key,)*
                    _ => 0.0,
                }
            }

            fn max_of(key: &str) -> f64 {
                match key {
                    $(stringify!($key) => $max,)*
                    _ => USAGE_MAX,
                }
            }
        }
    };
}

/// The largest usage figure accepted (a trillion units a month): far above any real concert
/// platform, low enough that every cost stays a finite number of dollars.
pub const USAGE_MAX: f64 = 1e12;

fn check_usage_value(file: &str, key: &str, value: f64, max: f64) -> Result<()> {
    if !value.is_finite() || !(0.0..=max).contains(&value) {
        let most = if max == USAGE_MAX { "1,000,000,000,000 (1e12)".to_owned() } else { format!("{max}") };
        return Err(InfraError::data(file, key, format!("must be a number from 0 to {most}")));
    }
    Ok(())
}

usage_fields! {
    viewer_transfer_gb: "Served to viewers (pages, assets, media)", "GB/month", USAGE_MAX;
    viewer_requests: "Viewer requests (HTTPS)", "requests/month", USAGE_MAX;
    cdn_origin_share: "Share CloudFront fetches from the origins (cache misses)", "0–1", 1.0;
    api_requests: "API Gateway requests", "requests/month", USAGE_MAX;
    api_reply_kb: "Average API reply", "KB", USAGE_MAX;
    cognito_mau: "Cognito monthly active users", "users", USAGE_MAX;
    server_downloads_gb: "Servers fetch from the internet (packages, third-party APIs)", "GB/month", USAGE_MAX;
    server_uploads_gb: "Servers send to the internet (third-party calls, webhooks)", "GB/month", USAGE_MAX;
    app_database_gb: "Between the app servers and the database (both ways)", "GB/month", USAGE_MAX;
    cpu_average_percent: "App servers' average CPU", "%", 100.0;
    s3_assets_gb: "S3 static assets stored", "GB", USAGE_MAX;
    s3_uploads_gb: "S3 user uploads stored", "GB", USAGE_MAX;
    s3_backups_gb: "S3 backups stored", "GB", USAGE_MAX;
    s3_put_requests: "S3 PUT requests (uploads)", "requests/month", USAGE_MAX;
    s3_get_requests: "S3 GET requests", "requests/month", USAGE_MAX;
    lambda_requests: "Lambda invocations", "requests/month", USAGE_MAX;
    lambda_avg_duration_ms: "Lambda average duration", "ms", USAGE_MAX;
    logs_ingested_gb: "CloudWatch Logs ingested", "GB/month", USAGE_MAX;
    secrets_api_calls: "Secrets Manager API calls", "calls/month", USAGE_MAX;
    sqs_requests: "SQS requests", "requests/month", USAGE_MAX;
    sns_publishes: "SNS publishes", "publishes/month", USAGE_MAX;
    dns_queries: "Route 53 queries", "queries/month", USAGE_MAX;
    ecr_storage_gb: "ECR image storage", "GB", USAGE_MAX;
    access_logs_gb: "Access logs written to the log bucket (ALB, CloudFront, S3)", "GB/month", USAGE_MAX;
    api_access_logs_gb: "API Gateway access logs", "GB/month", USAGE_MAX;
    rds_os_metrics_gb: "RDS enhanced monitoring per instance at 60 s", "GB/month", USAGE_MAX;
}

/// Keys of earlier catalog versions: renamed ones, with how a stored value converts, and ones the
/// cost model now derives from demand (a stored value is dropped; typed again, it is refused).
const RENAMED: [(&str, &[(&str, f64)]); 3] = [
    ("cloudfront_transfer_gb", &[("viewer_transfer_gb", 1.0)]),
    ("cloudfront_requests", &[("viewer_requests", 1.0)]),
    // Both directions through the NAT gateways: mostly what the servers fetch.
    ("nat_processed_gb", &[("server_downloads_gb", 0.9), ("server_uploads_gb", 0.1)]),
];
const DERIVED: [(&str, &str); 2] = [
    (
        "data_transfer_out_gb",
        "data transfer out now follows from the traffic each tier serves (viewer_transfer_gb, api_requests × api_reply_kb, server_uploads_gb)",
    ),
    (
        "alb_lcu",
        "the load balancer's capacity units now follow from the bytes and requests it serves (viewer_transfer_gb, viewer_requests, cdn_origin_share)",
    ),
];

fn unknown_usage_key(file: &str, key: &str) -> InfraError {
    if let Some((_, why)) = DERIVED.iter().find(|(k, _)| *k == key) {
        return InfraError::data(file, key, format!("is no longer an assumption: {why}"));
    }
    if let Some((_, to)) = RENAMED.iter().find(|(k, _)| *k == key) {
        let names: Vec<&str> = to.iter().map(|(k, _)| *k).collect();
        return InfraError::data(file, key, format!("was renamed: use {}", names.join(" and ")));
    }
    InfraError::data(file, key, "unknown usage assumption")
}

/// A request's usage as an earlier catalog version stored it, in today's keys: renamed keys
/// converted, derived ones dropped, unknown ones kept (so that `set` still names them).
pub fn upgrade_stored_usage<'a>(stored: impl IntoIterator<Item = (&'a str, f64)>) -> Vec<(String, f64)> {
    let mut out: Vec<(String, f64)> = Vec::new();
    for (key, value) in stored {
        if DERIVED.iter().any(|(k, _)| *k == key) {
            continue;
        }
        match RENAMED.iter().find(|(k, _)| *k == key) {
            Some((_, to)) => out.extend(to.iter().map(|(k, share)| ((*k).to_owned(), value * share))),
            None => out.push((key.to_owned(), value)),
        }
    }
    out
}

impl Usage {
    /// Applies the keys of a usage file (TOML or JSON object) over `self`;
    /// keys left out keep their value, unknown keys are an error naming the key.
    pub fn with_overrides(&self, file: &str, text: &str) -> Result<Usage> {
        let table: toml::Table = match serde_json::from_str::<serde_json::Value>(text) {
            Ok(serde_json::Value::Object(map)) => {
                let mut table = toml::Table::new();
                for (k, v) in map {
                    let n = v.as_f64().ok_or_else(|| InfraError::data(file, k.clone(), "must be a number"))?;
                    table.insert(k, toml::Value::Float(n));
                }
                table
            }
            _ => toml::from_str(text).map_err(|e| toml_error(file, text, e))?,
        };
        let mut usage = self.clone();
        for (key, value) in table {
            let n = number(&value).ok_or_else(|| InfraError::data(file, key.clone(), "must be a number"))?;
            usage.set(&key, n).map_err(|e| match e {
                InfraError::Data { key, message, .. } => InfraError::data(file, key, message),
                other => other,
            })?;
        }
        Ok(usage)
    }
}

fn number(value: &toml::Value) -> Option<f64> {
    match value {
        toml::Value::Integer(i) => Some(*i as f64),
        toml::Value::Float(f) => Some(*f),
        _ => None,
    }
}

/// The usage a deployment is priced at three times: low and high bound the typical figure, so
/// that every usage-driven line shows a range. Every cost is non-decreasing in every key, so the
/// low usage gives the lowest total and the high usage the highest.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UsageRange {
    pub low: Usage,
    pub typical: Usage,
    pub high: Usage,
}

impl UsageRange {
    /// A range of one point: a figure with no uncertainty to show.
    pub fn exact(usage: &Usage) -> UsageRange {
        UsageRange { low: usage.clone(), typical: usage.clone(), high: usage.clone() }
    }

    /// Parses the usage file: every key as `{ low = …, typical = …, high = … }`, low ≤ typical ≤ high.
    pub fn parse(file: &str, text: &str) -> Result<UsageRange> {
        let table: toml::Table = toml::from_str(text).map_err(|e| toml_error(file, text, e))?;
        for key in table.keys() {
            if !Usage::KEYS.contains(&key.as_str()) {
                return Err(unknown_usage_key(file, key));
            }
        }
        let mut range = UsageRange { low: Usage::default(), typical: Usage::default(), high: Usage::default() };
        for key in Usage::KEYS {
            let entry = table
                .get(*key)
                .and_then(toml::Value::as_table)
                .ok_or_else(|| InfraError::data(file, *key, "is missing: give { low = …, typical = …, high = … }"))?;
            let point = |name: &str| {
                let v = entry
                    .get(name)
                    .and_then(number)
                    .ok_or_else(|| InfraError::data(file, format!("{key}.{name}"), "must be a number"))?;
                check_usage_value(file, &format!("{key}.{name}"), v, Usage::max_of(key))?;
                Ok::<f64, InfraError>(v)
            };
            let (low, typical, high) = (point("low")?, point("typical")?, point("high")?);
            if let Some(extra) = entry.keys().find(|k| !matches!(k.as_str(), "low" | "typical" | "high")) {
                return Err(InfraError::data(file, format!("{key}.{extra}"), "unknown: only low, typical and high"));
            }
            if !(low <= typical && typical <= high) {
                return Err(InfraError::data(file, *key, "needs low ≤ typical ≤ high"));
            }
            range.low.set(key, low)?;
            range.typical.set(key, typical)?;
            range.high.set(key, high)?;
        }
        Ok(range)
    }

    /// The range around another typical usage: each key's low and high keep their ratio to this
    /// range's typical value (a key this range has at zero gets no spread), within the key's bounds.
    pub fn around(&self, typical: &Usage) -> UsageRange {
        let mut range = UsageRange::exact(typical);
        for key in Usage::KEYS {
            let (v, t) = (typical.get(key), self.typical.get(key));
            if t > 0.0 {
                let max = Usage::max_of(key);
                // The default itself keeps its own bounds exactly (no rounding through a ratio).
                let scaled = |bound: f64| if v == t { bound } else { (v * bound / t).clamp(0.0, max) };
                // In bounds by construction (checked values, clamped): `set` cannot fail.
                let _ = range.low.set(key, scaled(self.low.get(key)));
                let _ = range.high.set(key, scaled(self.high.get(key)));
            }
        }
        range
    }

    /// Every assumption with its typical value and range, in display order.
    pub fn fields(&self) -> Vec<UsageField> {
        let (low, high) = (self.low.fields(), self.high.fields());
        self.typical
            .fields()
            .into_iter()
            .zip(low.into_iter().zip(high))
            .map(|(f, (l, h))| UsageField { low: l.value, high: h.value, ..f })
            .collect()
    }
}
