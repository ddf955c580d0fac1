//! RDS: stopping and starting an environment's database for its sleep schedule. Each call is safe
//! to repeat: a database already stopping or stopped is not stopped again, one already starting
//! or available is not started again.

use std::time::Duration;

use aws_sdk_rds::Client;

use crate::rollout::aws::{retrying, AwsError};

#[derive(Clone)]
pub struct Rds {
    client: Client,
    patience: Duration,
}

/// What the database does now, as RDS says (`available`, `stopping`, `stopped`, `starting`…).
pub type DbStatus = String;

impl Rds {
    pub fn from_config(config: &aws_config::SdkConfig) -> Rds {
        Rds { client: Client::new(config), patience: Duration::from_secs(300) }
    }

    /// The instance's status; `None` when there is no such instance.
    pub async fn status(&self, instance: &str) -> Result<Option<DbStatus>, AwsError> {
        let result = retrying("DescribeDBInstances", self.patience, || {
            self.client.describe_db_instances().db_instance_identifier(instance).send()
        })
        .await;
        match result {
            Ok(out) => Ok(out.db_instances().first().map(|d| d.db_instance_status().unwrap_or_default().to_owned())),
            Err(AwsError::Failed { code, .. }) if code == "DBInstanceNotFound" || code == "DBInstanceNotFoundFault" => {
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// Stops (`stop`) or starts the instance unless it is there already or on its way, then waits
    /// (polling every `poll`, at most `deadline`) until it is; its status then.
    pub async fn power(
        &self,
        instance: &str,
        stop: bool,
        poll: Duration,
        deadline: Duration,
    ) -> Result<DbStatus, AwsError> {
        let (goal, on_the_way) = if stop { ("stopped", "stopping") } else { ("available", "starting") };
        let started = tokio::time::Instant::now();
        let mut asked = false;
        loop {
            let status = self.status(instance).await?.ok_or_else(|| AwsError::NotFound {
                operation: "DescribeDBInstances",
                message: format!("database {instance} does not exist"),
            })?;
            if status == goal {
                return Ok(status);
            }
            if !asked && status != on_the_way {
                let result = if stop {
                    retrying("StopDBInstance", self.patience, || {
                        self.client.stop_db_instance().db_instance_identifier(instance).send()
                    })
                    .await
                    .map(|_| ())
                } else {
                    retrying("StartDBInstance", self.patience, || {
                        self.client.start_db_instance().db_instance_identifier(instance).send()
                    })
                    .await
                    .map(|_| ())
                };
                result?;
                asked = true;
                continue;
            }
            if started.elapsed() > deadline {
                return Ok(status);
            }
            tokio::time::sleep(poll).await;
        }
    }
}
