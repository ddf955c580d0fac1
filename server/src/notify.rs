//! Notifications to a Slack-compatible webhook (`PORTAL_WEBHOOK_URL`): a request that needs
//! approval, a rollout that succeeded or failed. Each one is queued in the database in the
//! transaction of what it announces, and delivered by a worker that retries
//! with backoff; the deliveries, failed ones included, are listed for admins.

use std::time::Duration;

use app::model::{DeliveryStatus, NotificationEvent};

use crate::db::{get, get_parsed, now_ms, Database, Transaction};
use crate::error::ServerError;

/// Attempts before a delivery is marked failed.
const MAX_ATTEMPTS: i64 = 8;

/// Where notifications go, and the secret each delivery is signed with. The URL is a secret too
/// (Slack's carries its key): it is never logged or stored with a delivery.
#[derive(Clone)]
pub struct Webhook {
    pub url: String,
    pub secret: String,
}

impl std::fmt::Debug for Webhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Webhook { .. }")
    }
}

impl Webhook {
    /// `X-Portal-Signature`: `sha256=` and the hex HMAC-SHA256, under the secret, of
    /// `<X-Portal-Timestamp>.<body>`; a receiver recomputes it and refuses a stale timestamp.
    pub fn signature(&self, timestamp: i64, body: &str) -> Result<String, ServerError> {
        use hmac::Mac;
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(self.secret.as_bytes())
            .map_err(|e| ServerError::Internal(format!("webhook signature: {e}")))?;
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body.as_bytes());
        Ok(format!("sha256={}", hex::encode(mac.finalize().into_bytes())))
    }
}

/// Queues notifications, or drops them when no webhook is configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Notifier {
    enabled: bool,
}

impl Notifier {
    /// `enabled` when a webhook URL is configured: without one nothing is queued.
    pub fn new(enabled: bool) -> Notifier {
        Notifier { enabled }
    }

    /// Whether a webhook is configured (notifications are queued at all).
    pub fn enabled(self) -> bool {
        self.enabled
    }

    /// Queues a notification inside the caller's transaction, so it is sent if and only if what it
    /// announces is committed.
    pub async fn enqueue(
        self,
        tx: &mut Transaction,
        event: NotificationEvent,
        subject: &str,
        text: &str,
        details: serde_json::Value,
    ) -> Result<(), ServerError> {
        if !self.enabled {
            return Ok(());
        }
        // Slack reads `text`; other receivers get the structured fields too.
        let payload = serde_json::json!({ "text": text, "event": event, "subject": subject, "details": details });
        let now = now_ms();
        sqlx::query(
            "INSERT INTO webhook_deliveries (event, subject, payload, status, next_attempt_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, $5)",
        )
        .bind(event.as_str())
        .bind(subject)
        .bind(payload.to_string())
        .bind(DeliveryStatus::Pending.as_str())
        .bind(now)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }
}

pub use app::model::DeliveryView as Delivery;

/// The newest deliveries, for admins.
pub async fn deliveries(db: &Database, limit: i64) -> Result<Vec<Delivery>, ServerError> {
    sqlx::query("SELECT * FROM webhook_deliveries ORDER BY id DESC LIMIT $1")
        .bind(limit)
        .fetch_all(&db.pool)
        .await?
        .iter()
        .map(|r| {
            Ok(Delivery {
                id: get(r, "id")?,
                event: get(r, "event")?,
                subject: get(r, "subject")?,
                status: get_parsed(r, "status")?,
                attempts: get(r, "attempts")?,
                last_error: get(r, "last_error")?,
                created_at: get(r, "created_at")?,
                delivered_at: get(r, "delivered_at")?,
            })
        })
        .collect()
}

/// How many deliveries are in each status (for the metrics).
pub async fn delivery_counts(db: &Database) -> Result<Vec<(app::model::DeliveryStatus, i64)>, ServerError> {
    sqlx::query("SELECT status, COUNT(*) AS n FROM webhook_deliveries GROUP BY status")
        .fetch_all(&db.pool)
        .await?
        .iter()
        .map(|r| Ok((get_parsed(r, "status")?, get(r, "n")?)))
        .collect()
}

/// Delivers what is due, once; returns how many were attempted.
pub async fn deliver_due(db: &Database, client: &reqwest::Client, webhook: &Webhook) -> Result<usize, ServerError> {
    let now = now_ms();
    let due = sqlx::query(
        "SELECT id, payload, attempts, next_attempt_at FROM webhook_deliveries WHERE status = $1 AND next_attempt_at <= $2 \
         ORDER BY id LIMIT 20",
    )
    .bind(DeliveryStatus::Pending.as_str())
    .bind(now)
    .fetch_all(&db.pool)
    .await?;
    let mut attempted = 0;
    for row in due {
        let id: i64 = get(&row, "id")?;
        let attempts: i64 = get::<i64>(&row, "attempts")? + 1;
        // Claim it (another process may be delivering too): push its next attempt out first.
        let claimed = sqlx::query(
            "UPDATE webhook_deliveries SET next_attempt_at = $1 WHERE id = $2 AND next_attempt_at = $3 AND status = $4",
        )
        .bind(now + 60_000)
        .bind(id)
        .bind(get::<i64>(&row, "next_attempt_at")?)
        .bind(DeliveryStatus::Pending.as_str())
        .execute(&db.pool)
        .await?;
        if claimed.rows_affected() != 1 {
            continue;
        }
        attempted += 1;
        let payload: String = get(&row, "payload")?;
        let timestamp = now_ms();
        let signature = webhook.signature(timestamp, &payload)?;
        let sent = client
            .post(&webhook.url)
            .header("content-type", "application/json")
            .header("x-portal-timestamp", timestamp.to_string())
            .header("x-portal-signature", signature)
            .body(payload)
            .send()
            .await;
        let error = match sent {
            Ok(response) if response.status().is_success() => None,
            Ok(response) => Some(format!("HTTP {}", response.status())),
            // reqwest's message names the URL, which holds the receiver's secret: not stored.
            Err(e) => Some(e.without_url().to_string()),
        };
        match error {
            None => {
                sqlx::query(
                    "UPDATE webhook_deliveries SET status = $1, attempts = $2, delivered_at = $3 WHERE id = $4",
                )
                .bind(DeliveryStatus::Delivered.as_str())
                .bind(attempts)
                .bind(now_ms())
                .bind(id)
                .execute(&db.pool)
                .await?;
            }
            Some(error) => {
                let status = if attempts >= MAX_ATTEMPTS { DeliveryStatus::Failed } else { DeliveryStatus::Pending };
                // 2 s, 4 s, 8 s … capped at 10 minutes.
                let backoff = 2_000i64.saturating_mul(1 << attempts.min(20)).min(600_000);
                sqlx::query("UPDATE webhook_deliveries SET status = $1, attempts = $2, last_error = $3, next_attempt_at = $4 WHERE id = $5")
                    .bind(status.as_str())
                    .bind(attempts)
                    .bind(&error)
                    .bind(now_ms() + backoff)
                    .bind(id)
                    .execute(&db.pool)
                    .await?;
            }
        }
    }
    Ok(attempted)
}

/// The delivery worker: every second, what is due.
pub fn spawn_worker(db: Database, webhook: Webhook) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        // A redirect would send the signed payload somewhere the operator did not name.
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .build();
        let client = match client {
            Ok(client) => client,
            Err(e) => {
                tracing::error!(error = %e, "webhook client cannot be built; notifications stay queued");
                return;
            }
        };
        loop {
            if let Err(e) = deliver_due(&db, &client, &webhook).await {
                tracing::warn!(error = %e, "webhook delivery pass failed");
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deliveries_are_signed_as_documented() -> Result<(), ServerError> {
        // Python: hmac.new(b"0123456789abcdef", b'1700000000000.{"text":"hi"}', hashlib.sha256).hexdigest()
        let webhook = Webhook { url: "http://127.0.0.1:9/hook".into(), secret: "0123456789abcdef".into() };
        assert_eq!(
            webhook.signature(1_700_000_000_000, r#"{"text":"hi"}"#)?,
            "sha256=7fd0cef268fd7d593b20dc41b6b38e647daec725cc7acf76e374e66fa3f10d65"
        );
        assert!(!format!("{webhook:?}").contains("127.0.0.1"), "the URL is a secret");
        Ok(())
    }
}
