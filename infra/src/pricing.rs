//! The pricing catalog and the usage assumptions, both kept as data in `infra/pricing/`.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use crate::error::{InfraError, Result};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Price {
    pub id: String,
    pub description: String,
    pub unit: String,
    pub usd: f64,
    /// Effective rate of a one-year, no-upfront reservation, where one exists.
    pub reserved_usd: Option<f64>,
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
    pub seed: Vec<SeedFigure>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPrice {
    id: Option<String>,
    description: Option<String>,
    unit: Option<String>,
    usd: Option<f64>,
    reserved_usd: Option<f64>,
    source: Option<String>,
    as_of: Option<String>,
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
            seed: raw.seed.into_iter().map(|s| SeedFigure { service: s.service, usd: s.usd, note: s.note }).collect(),
        })
    }
}

/// Monthly usage the cost of a deployment depends on; editable per request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Usage {
    pub s3_assets_gb: f64,
    pub s3_uploads_gb: f64,
    pub s3_backups_gb: f64,
    pub s3_put_requests: f64,
    pub s3_get_requests: f64,
    pub cloudfront_transfer_gb: f64,
    pub cloudfront_requests: f64,
    pub cognito_mau: f64,
    pub lambda_requests: f64,
    pub lambda_avg_duration_ms: f64,
    pub api_requests: f64,
    pub data_transfer_out_gb: f64,
    pub nat_processed_gb: f64,
    pub alb_lcu: f64,
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

/// One usage assumption, for forms and tables.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UsageField {
    pub key: &'static str,
    pub label: &'static str,
    pub unit: &'static str,
    pub value: f64,
}

macro_rules! usage_fields {
    ($($key:ident: $label:literal, $unit:literal;)*) => {
        impl Usage {
            /// Every assumption with its label and unit, in display order.
            pub fn fields(&self) -> Vec<UsageField> {
                vec![$(UsageField { key: stringify!($key), label: $label, unit: $unit, value: self.$key }),*]
            }

            /// Sets one assumption by key; the value must be a finite number from zero to [`USAGE_MAX`].
            pub fn set(&mut self, key: &str, value: f64) -> Result<()> {
                check_usage_value("usage", key, value)?;
                match key {
                    $(stringify!($key) => self.$key = value,)*
                    _ => return Err(InfraError::data("usage", key, "unknown usage assumption")),
                }
                Ok(())
            }
        }
    };
}

/// The largest usage figure accepted (a trillion units a month): far above any real concert
/// platform, low enough that every cost stays a finite number of dollars.
pub const USAGE_MAX: f64 = 1e12;

fn check_usage_value(file: &str, key: &str, value: f64) -> Result<()> {
    if !value.is_finite() || !(0.0..=USAGE_MAX).contains(&value) {
        return Err(InfraError::data(file, key, "must be a number from 0 to 1,000,000,000,000 (1e12)"));
    }
    Ok(())
}

usage_fields! {
    s3_assets_gb: "S3 static assets stored", "GB";
    s3_uploads_gb: "S3 user uploads stored", "GB";
    s3_backups_gb: "S3 backups stored", "GB";
    s3_put_requests: "S3 PUT requests", "requests/month";
    s3_get_requests: "S3 GET requests", "requests/month";
    cloudfront_transfer_gb: "CloudFront transfer out", "GB/month";
    cloudfront_requests: "CloudFront HTTPS requests", "requests/month";
    cognito_mau: "Cognito monthly active users", "users";
    lambda_requests: "Lambda invocations", "requests/month";
    lambda_avg_duration_ms: "Lambda average duration", "ms";
    api_requests: "API Gateway requests", "requests/month";
    data_transfer_out_gb: "Data transfer out from the region", "GB/month";
    nat_processed_gb: "Data through NAT gateways", "GB/month";
    alb_lcu: "Load balancer capacity units (average)", "LCU";
    logs_ingested_gb: "CloudWatch Logs ingested", "GB/month";
    secrets_api_calls: "Secrets Manager API calls", "calls/month";
    sqs_requests: "SQS requests", "requests/month";
    sns_publishes: "SNS publishes", "publishes/month";
    dns_queries: "Route 53 queries", "queries/month";
    ecr_storage_gb: "ECR image storage", "GB";
    access_logs_gb: "Access logs written to the log bucket (ALB, CloudFront, S3)", "GB/month";
    api_access_logs_gb: "API Gateway access logs", "GB/month";
    rds_os_metrics_gb: "RDS enhanced monitoring per instance at 60 s", "GB/month";
}

impl Usage {
    pub fn parse(file: &str, text: &str) -> Result<Usage> {
        let usage: Usage = toml::from_str(text).map_err(|e| toml_error(file, text, e))?;
        for field in usage.fields() {
            check_usage_value(file, field.key, field.value)?;
        }
        Ok(usage)
    }
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
            let n = match value {
                toml::Value::Integer(i) => i as f64,
                toml::Value::Float(f) => f,
                _ => return Err(InfraError::data(file, key, "must be a number")),
            };
            usage.set(&key, n).map_err(|e| match e {
                InfraError::Data { key, message, .. } => InfraError::data(file, key, message),
                other => other,
            })?;
        }
        Ok(usage)
    }
}
