//! The ExternalId the portal generates for an environment, and the trust policy its deploy role
//! needs: only the portal's own principal may assume it, only with that ExternalId (no other
//! tenant of whoever runs the portal can make it act on this account: the confused deputy), and
//! only while naming who asked (`SourceIdentity`, recorded by CloudTrail in every call made with
//! the session).

use argon2::password_hash::rand_core::{OsRng, RngCore};
use infra::RoleArn;

/// A fresh ExternalId: 128 random bits, readable, within STS's alphabet.
pub fn new_external_id() -> String {
    let mut bytes = [0u8; 16];
    OsRng.fill_bytes(&mut bytes);
    format!("concert-portal-{}", hex::encode(bytes))
}

/// The principal a trust policy names for the portal, from the ARN its own credentials act as
/// (STS GetCallerIdentity): an assumed role's role, a user itself, else the account's root (any
/// principal of the account that its own IAM policies let assume the role).
pub fn trusted_principal(caller_arn: &str) -> Option<String> {
    let parts: Vec<&str> = caller_arn.splitn(6, ':').collect();
    let [_, partition, service, _, account, resource] = parts.as_slice() else { return None };
    if account.len() != 12 || !account.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let principal = match (*service, resource.split('/').collect::<Vec<_>>().as_slice()) {
        ("sts", ["assumed-role", role, _session]) => format!("arn:{partition}:iam::{account}:role/{role}"),
        ("iam" | "sts", ["user", name @ ..]) if !name.is_empty() => {
            format!("arn:{partition}:iam::{account}:user/{}", name.join("/"))
        }
        ("iam", ["role", name @ ..]) if !name.is_empty() => {
            format!("arn:{partition}:iam::{account}:role/{}", name.join("/"))
        }
        _ => format!("arn:{partition}:iam::{account}:root"),
    };
    Some(principal)
}

/// What an operator must put where the portal's principal goes when the portal could not tell
/// who it runs as (no AWS credentials, or STS did not answer).
pub const UNKNOWN_PRINCIPAL: &str = "arn:aws:iam::PORTAL_ACCOUNT_ID:role/PORTAL_ROLE_NAME";

/// The deploy role's trust policy (its `AssumeRolePolicyDocument`).
pub fn trust_policy(role: &RoleArn, principal: Option<&str>, external_id: &str) -> serde_json::Value {
    let principal =
        principal.map(str::to_owned).unwrap_or_else(|| UNKNOWN_PRINCIPAL.replacen("aws", role.partition(), 1));
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "ConcertPortalDeploys",
            "Effect": "Allow",
            "Principal": { "AWS": principal },
            "Action": ["sts:AssumeRole", "sts:SetSourceIdentity"],
            "Condition": {
                "StringEquals": { "sts:ExternalId": external_id },
                "Null": { "sts:SourceIdentity": "false" }
            }
        }]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_portal_principal_comes_from_its_caller_arn() {
        let cases = [
            ("arn:aws:sts::111122223333:assumed-role/portal/i-0abc", Some("arn:aws:iam::111122223333:role/portal")),
            ("arn:aws:iam::111122223333:user/ops/portal", Some("arn:aws:iam::111122223333:user/ops/portal")),
            ("arn:aws:sts::123456789012:user/moto", Some("arn:aws:iam::123456789012:user/moto")),
            ("arn:aws-cn:iam::111122223333:root", Some("arn:aws-cn:iam::111122223333:root")),
            ("arn:aws:sts::42:assumed-role/portal/x", None),
            ("not an arn", None),
        ];
        for (arn, expected) in cases {
            assert_eq!(trusted_principal(arn).as_deref(), expected, "{arn}");
        }
    }

    #[test]
    fn the_trust_policy_requires_the_external_id_and_a_source_identity() -> Result<(), infra::InfraError> {
        let role = RoleArn::parse("arn:aws:iam::111122223333:role/deploy")?;
        let id = new_external_id();
        assert_eq!(id.len(), "concert-portal-".len() + 32);
        assert_ne!(id, new_external_id());
        let policy = trust_policy(&role, Some("arn:aws:iam::999999999999:role/portal"), &id);
        let statement = &policy["Statement"][0];
        assert_eq!(statement["Condition"]["StringEquals"]["sts:ExternalId"], id.as_str());
        assert_eq!(statement["Condition"]["Null"]["sts:SourceIdentity"], "false");
        assert_eq!(statement["Principal"]["AWS"], "arn:aws:iam::999999999999:role/portal");
        let unknown = trust_policy(&role, None, &id);
        assert_eq!(unknown["Statement"][0]["Principal"]["AWS"], UNKNOWN_PRINCIPAL);
        Ok(())
    }
}
