//! The running environments nobody registered: history from before the registry, shown to admins
//! until they register them.

use app::model::{RequestKind, RolloutStatus, UnregisteredView};

use crate::db::{get, get_parsed};
use crate::environments::Environments;
use crate::error::ServerError;

impl Environments<'_> {
    /// Environments the portal has rolled out to that are not registered under the same account
    /// and region (history from before the registry), unless their last rollout tore them down.
    pub async fn unregistered(&self) -> Result<Vec<UnregisteredView>, ServerError> {
        let rows = sqlx::query(
            "SELECT o.id, o.environment, o.account_id, o.region, o.status, o.kind FROM rollouts o \
             WHERE o.id IN (SELECT MAX(id) FROM rollouts GROUP BY account_id, region, environment) \
             AND NOT EXISTS (SELECT 1 FROM environments e WHERE e.name = o.environment \
                 AND e.account_id = o.account_id AND e.region = o.region) \
             ORDER BY o.environment, o.account_id, o.region",
        )
        .fetch_all(&self.db.pool)
        .await?;
        let mut out = Vec::new();
        for row in rows {
            let kind: RequestKind = get_parsed(&row, "kind")?;
            let status: RolloutStatus = get_parsed(&row, "status")?;
            if kind == RequestKind::Teardown && status == RolloutStatus::Succeeded {
                continue;
            }
            out.push(UnregisteredView {
                name: get(&row, "environment")?,
                account_id: get(&row, "account_id")?,
                region: get(&row, "region")?,
                last_rollout_id: get(&row, "id")?,
                last_status: status.to_string(),
            });
        }
        Ok(out)
    }
}
