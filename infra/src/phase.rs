//! The six deployment phases of the seed, each one CloudFormation stack.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    Network,
    Data,
    Compute,
    Auth,
    Cdn,
    Serverless,
}

impl Phase {
    /// In deployment order; teardown runs it backwards.
    pub const ALL: [Phase; 6] =
        [Phase::Network, Phase::Data, Phase::Compute, Phase::Auth, Phase::Cdn, Phase::Serverless];

    /// 1-based, as the seed numbers them.
    pub fn number(self) -> u8 {
        self as u8 + 1
    }

    /// Suffix of the stack name `<environment>-<slug>` and of the template file.
    pub fn slug(self) -> &'static str {
        match self {
            Phase::Network => "network",
            Phase::Data => "data",
            Phase::Compute => "compute",
            Phase::Auth => "auth",
            Phase::Cdn => "cdn",
            Phase::Serverless => "serverless",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Phase::Network => "Core infrastructure",
            Phase::Data => "Data layer",
            Phase::Compute => "Compute layer",
            Phase::Auth => "Authentication",
            Phase::Cdn => "Content delivery",
            Phase::Serverless => "Serverless & APIs",
        }
    }

    pub fn template_file(self) -> String {
        format!("{}-{}.yaml", self.number(), self.slug())
    }
}

impl std::fmt::Display for Phase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}. {}", self.number(), self.title())
    }
}
