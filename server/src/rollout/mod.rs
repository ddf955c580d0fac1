//! Rollouts: an approved request deployed (or torn down) phase by phase, each phase one
//! CloudFormation stack.
//!
//! - [`engine`]: claims rollouts under a lease and drives them; [`phase`]: one phase against
//!   CloudFormation; [`store`]: the rollout's rows; [`steer`]: cancel and retry;
//!   [`spec`]: the deployment a stored request describes; [`aws`], [`sts`]: the CloudFormation and STS calls.
//!
//! Nothing here knows HTTP or the pages: the web layer calls [`RolloutStore`] and [`Steering`].

pub mod aws;
pub mod engine;
pub mod feed;
mod owner;
pub(crate) mod phase;
pub mod rds;
mod running;
pub(crate) mod scheduled;
pub mod spec;
pub mod steer;
pub mod store;
pub mod sts;

pub use engine::{process_name, Engine, EngineConfig, EngineDeps};
pub use steer::{may_steer, Steering};
pub use store::RolloutStore;
