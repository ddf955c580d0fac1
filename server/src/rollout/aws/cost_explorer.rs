//! Cost Explorer: what the bill says an environment cost, month by month, grouped by service and
//! usage type and filtered by the `portal:environment` tag every stack (and so every resource it
//! tags) carries. Called through the environment's deploy role, which needs `ce:GetCostAndUsage`
//! (docs/operating.md); each call costs $0.01, so the portal reads at most once a day per
//! environment on its own.

use std::time::Duration;

use aws_sdk_costexplorer::types::{
    DateInterval, Dimension, Expression, Granularity, GroupDefinition, GroupDefinitionType, MatchOption, TagValues,
};
use aws_sdk_costexplorer::Client;
use infra::cost::bill::BilledGroup;
use serde::{Deserialize, Serialize};

use crate::rollout::aws::{retrying, AwsError};

/// The cost allocation tag the stacks carry (see `rollout::owner`).
pub const ENVIRONMENT_TAG: &str = "portal:environment";

/// One period of the answer (a calendar month, or the month so far).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BilledPeriod {
    /// First day, `YYYY-MM-DD`.
    pub start: String,
    /// The day after the last, `YYYY-MM-DD` (Cost Explorer's exclusive end).
    pub end: String,
    /// Cost Explorer's own flag: the period's figures may still change.
    pub estimated: bool,
    pub groups: Vec<BilledGroup>,
}

#[derive(Clone)]
pub struct CostExplorer {
    client: Client,
    patience: Duration,
}

/// At most this many pages of groups (a page holds every group of a month for an environment of
/// the portal's size: the bound only stops a runaway answer).
const MAX_PAGES: usize = 20;

impl CostExplorer {
    /// Cost Explorer answers from us-east-1 whatever the environment's region.
    pub fn from_config(config: &aws_config::SdkConfig) -> CostExplorer {
        let conf =
            aws_sdk_costexplorer::config::Builder::from(config).region(aws_config::Region::new("us-east-1")).build();
        CostExplorer { client: Client::from_conf(conf), patience: Duration::from_secs(60) }
    }

    /// Monthly cost and usage of the resources tagged `portal:environment = environment`, from
    /// `start` to `end` (exclusive), grouped by service and usage type.
    pub async fn environment_costs(
        &self,
        environment: &str,
        start: &str,
        end: &str,
    ) -> Result<Vec<BilledPeriod>, AwsError> {
        let filter = Expression::builder()
            .tags(
                TagValues::builder()
                    .key(ENVIRONMENT_TAG)
                    .values(environment)
                    .match_options(MatchOption::Equals)
                    .build(),
            )
            .build();
        let period = DateInterval::builder().start(start).end(end).build().map_err(|e| AwsError::Failed {
            operation: "GetCostAndUsage",
            code: "Invalid".into(),
            message: e.to_string(),
        })?;
        let group = |key: Dimension| {
            GroupDefinition::builder().r#type(GroupDefinitionType::Dimension).key(key.as_str()).build()
        };
        let mut periods: Vec<BilledPeriod> = Vec::new();
        let mut token: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let page = retrying("GetCostAndUsage", self.patience, || {
                self.client
                    .get_cost_and_usage()
                    .time_period(period.clone())
                    .granularity(Granularity::Monthly)
                    .metrics("UnblendedCost")
                    .metrics("UsageQuantity")
                    .group_by(group(Dimension::Service))
                    .group_by(group(Dimension::UsageType))
                    .filter(filter.clone())
                    .set_next_page_token(token.clone())
                    .send()
            })
            .await?;
            for result in page.results_by_time() {
                let (start, end) =
                    result.time_period().map(|p| (p.start().to_owned(), p.end().to_owned())).unwrap_or_default();
                let groups = result.groups().iter().map(billed_group);
                match periods.iter_mut().find(|p| p.start == start) {
                    Some(known) => known.groups.extend(groups),
                    None => periods.push(BilledPeriod {
                        start,
                        end,
                        estimated: result.estimated(),
                        groups: groups.collect(),
                    }),
                }
            }
            token = page.next_page_token().map(str::to_owned);
            if token.is_none() {
                break;
            }
        }
        Ok(periods)
    }
}

fn billed_group(g: &aws_sdk_costexplorer::types::Group) -> BilledGroup {
    let keys = g.keys();
    let metric = |name: &str| g.metrics().and_then(|m| m.get(name));
    let amount = |name: &str| metric(name).and_then(|m| m.amount()).and_then(|a| a.parse::<f64>().ok()).unwrap_or(0.0);
    BilledGroup {
        service: keys.first().cloned().unwrap_or_default(),
        usage_type: keys.get(1).cloned().unwrap_or_default(),
        usd: amount("UnblendedCost"),
        quantity: amount("UsageQuantity"),
        unit: metric("UsageQuantity").and_then(|m| m.unit()).unwrap_or_default().to_owned(),
    }
}
