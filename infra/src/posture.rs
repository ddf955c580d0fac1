//! The security posture of one deployment, read from its evaluation: which of the seed's
//! principles ("encrypted in transit", "strict firewall rules", "least privilege") it keeps,
//! what it lacks, the request path hop by hop with its protocol, and the policy checks its
//! templates waive, each with the reason written next to the resource.
//!
//! Read from the same evaluation as cost and diagram, so a template change shows here too.

use serde::Serialize;

use crate::catalog::Evaluation;
use crate::eval::EvaluatedResource;
use crate::phase::Phase;
use crate::value::Value;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Posture {
    pub controls: Vec<Control>,
    /// Internet to backend, in order; the diagram marks each arrow with its protocol.
    pub request_path: Vec<Hop>,
    pub accepted_risks: Vec<Waiver>,
}

/// One principle, kept or not, with what shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Control {
    pub id: &'static str,
    pub title: &'static str,
    pub met: bool,
    pub detail: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Protocol {
    Https,
    Http,
}

impl Protocol {
    pub fn label(self) -> &'static str {
        match self {
            Protocol::Https => "HTTPS",
            Protocol::Http => "HTTP",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hop {
    pub from: &'static str,
    pub to: &'static str,
    pub protocol: Protocol,
    /// Crosses the internet (as opposed to staying inside the VPC).
    pub public: bool,
}

impl Hop {
    /// Plain HTTP over the internet: readable and changeable by anyone on the way.
    pub fn is_risk(&self) -> bool {
        self.public && self.protocol == Protocol::Http
    }
}

/// A policy check a resource of this deployment deliberately does not meet.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Waiver {
    pub phase: Phase,
    pub resource: String,
    pub check: String,
    pub reason: String,
}

impl Posture {
    pub fn of(ev: &Evaluation) -> Posture {
        let request_path = request_path(ev);
        let controls = vec![
            viewer_tls(ev, &request_path),
            origin_tls(&request_path),
            closed_origin(ev),
            guests_off(ev),
            encrypted_at_rest(ev),
            database_safeguards(ev),
            access_logs(ev),
            least_privilege(ev),
        ];
        let accepted_risks = ev
            .resources()
            .flat_map(|r| {
                r.accepted_risks.iter().map(|a| Waiver {
                    phase: r.key.phase,
                    resource: r.key.logical_id.clone(),
                    check: a.check.clone(),
                    reason: a.reason.clone(),
                })
            })
            .collect();
        Posture { controls, request_path, accepted_risks }
    }

    pub fn control(&self, id: &str) -> Option<&Control> {
        self.controls.iter().find(|c| c.id == id)
    }
}

fn str_of(v: Option<&Value>) -> Option<&str> {
    v.and_then(Value::as_str)
}

fn flag(r: &EvaluatedResource, name: &str) -> bool {
    r.property(name).and_then(Value::as_bool).unwrap_or(false)
}

fn https_listener(ev: &Evaluation) -> Option<&EvaluatedResource> {
    ev.of_type("AWS::ElasticLoadBalancingV2::Listener").find(|l| str_of(l.property("Protocol")) == Some("HTTPS"))
}

fn distribution(ev: &Evaluation) -> Option<&EvaluatedResource> {
    ev.of_type("AWS::CloudFront::Distribution").next()
}

/// The load balancer origin of the distribution (the one with a custom origin config).
fn alb_origin(cdn: &EvaluatedResource) -> Option<&Value> {
    cdn.property("DistributionConfig")?
        .get("Origins")?
        .as_list()?
        .iter()
        .find(|o| o.get("CustomOriginConfig").is_some())
}

/// Internet to backend, hop by hop, each with its protocol (what the diagram's arrows say).
pub(crate) fn request_path(ev: &Evaluation) -> Vec<Hop> {
    let alb_https = https_listener(ev).is_some();
    let mut hops = Vec::new();
    match distribution(ev) {
        Some(cdn) => {
            let viewer = cdn.property("DistributionConfig").and_then(|c| c.get("DefaultCacheBehavior"));
            let viewer_https = matches!(
                str_of(viewer.and_then(|b| b.get("ViewerProtocolPolicy"))),
                Some("redirect-to-https" | "https-only")
            );
            let origin_https = alb_origin(cdn)
                .and_then(|o| o.get("CustomOriginConfig"))
                .and_then(|c| c.get("OriginProtocolPolicy"))
                .and_then(Value::as_str)
                == Some("https-only");
            hops.push(Hop { from: "Internet", to: "CloudFront", protocol: https_if(viewer_https), public: true });
            hops.push(Hop { from: "CloudFront", to: "Load balancer", protocol: https_if(origin_https), public: true });
        }
        None => hops.push(Hop { from: "Internet", to: "Load balancer", protocol: https_if(alb_https), public: true }),
    }
    // The target group speaks HTTP to the instances on 8080, inside the private subnets.
    let backend_https =
        ev.of_type("AWS::ElasticLoadBalancingV2::TargetGroup").all(|t| str_of(t.property("Protocol")) == Some("HTTPS"));
    hops.push(Hop { from: "Load balancer", to: "Backend", protocol: https_if(backend_https), public: false });
    hops
}

fn https_if(yes: bool) -> Protocol {
    if yes {
        Protocol::Https
    } else {
        Protocol::Http
    }
}

fn viewer_tls(ev: &Evaluation, path: &[Hop]) -> Control {
    let https = path.first().is_some_and(|h| h.protocol == Protocol::Https);
    let redirect = ev.of_type("AWS::ElasticLoadBalancingV2::Listener").any(|l| {
        l.property("DefaultActions")
            .and_then(Value::as_list)
            .is_some_and(|a| a.iter().any(|a| str_of(a.get("Type")) == Some("redirect")))
    });
    let policy = https_listener(ev).and_then(|l| str_of(l.property("SslPolicy"))).unwrap_or("");
    let detail = match (distribution(ev).is_some(), https) {
        (true, true) => "CloudFront redirects HTTP to HTTPS.".to_owned(),
        (true, false) => "CloudFront accepts plain HTTP from viewers.".to_owned(),
        (false, true) if redirect => {
            format!("The load balancer takes HTTPS ({policy}) with the domain's certificate and redirects HTTP.")
        }
        (false, true) => format!("The load balancer takes HTTPS ({policy})."),
        (false, false) => {
            "No domain, so no certificate: the load balancer serves plain HTTP to the internet.".to_owned()
        }
    };
    Control { id: "viewer-tls", title: "Viewers connect over HTTPS", met: https, detail }
}

fn origin_tls(path: &[Hop]) -> Control {
    let cdn_leg = path.iter().find(|h| h.from == "CloudFront");
    let (met, detail) = match cdn_leg {
        Some(h) if h.protocol == Protocol::Https => {
            (true, "CloudFront reaches the load balancer over HTTPS (TLS 1.2) at origin.<domain>.".to_owned())
        }
        Some(_) => (false, "No domain: CloudFront reaches the load balancer over plain HTTP.".to_owned()),
        None => (false, "No CloudFront: the load balancer is the edge (see above).".to_owned()),
    };
    Control { id: "origin-tls", title: "Encrypted from the edge to the load balancer", met, detail }
}

fn closed_origin(ev: &Evaluation) -> Control {
    let everyone =
        |r: &Value| str_of(r.get("CidrIp")) == Some("0.0.0.0/0") || str_of(r.get("CidrIpv6")) == Some("::/0");
    let open_to_all = |g: &EvaluatedResource| {
        g.property("SecurityGroupIngress").and_then(Value::as_list).is_some_and(|rules| rules.iter().any(everyone))
            || ev
                .of_type("AWS::EC2::SecurityGroupIngress")
                .any(|i| ev.target(i.property("GroupId")).is_some_and(|t| t.key == g.key) && everyone(&i.properties))
    };
    let alb_groups: Vec<&EvaluatedResource> =
        ev.of_type("AWS::EC2::SecurityGroup").filter(|g| g.key.logical_id.starts_with("Alb")).collect();
    let header_rule = ev.of_type("AWS::ElasticLoadBalancingV2::ListenerRule").any(|r| {
        r.property("Conditions")
            .and_then(Value::as_list)
            .is_some_and(|cs| cs.iter().any(|c| str_of(c.get("Field")) == Some("http-header")))
    });
    let (met, detail) = if distribution(ev).is_none() {
        (false, "No CloudFront: the load balancer itself faces the internet.".to_owned())
    } else if alb_groups.iter().any(|g| open_to_all(g)) {
        (false, "The load balancer admits the whole internet, so CloudFront can be bypassed.".to_owned())
    } else if !header_rule {
        (false, "Only CloudFront's addresses reach the load balancer, but no origin header is checked.".to_owned())
    } else {
        (
            true,
            "Only CloudFront's origin-facing addresses reach the load balancer, and only requests with the secret X-Origin-Verify header are forwarded; others get 403.".to_owned(),
        )
    };
    Control { id: "closed-origin", title: "Origin closed to all but the CDN", met, detail }
}

fn guests_off(ev: &Evaluation) -> Control {
    let guests = ev.of_type("AWS::Cognito::IdentityPool").any(|p| flag(p, "AllowUnauthenticatedIdentities"));
    Control {
        id: "guests-off",
        title: "No guest identities",
        met: !guests,
        detail: if guests {
            "The identity pool hands AWS credentials (the guest role) to visitors who are not signed in.".to_owned()
        } else {
            "Only signed-in users get AWS credentials from the identity pool.".to_owned()
        },
    }
}

/// The logical ids of the resources of `resource_type` for which `fails` holds.
fn offenders(ev: &Evaluation, resource_type: &str, fails: impl Fn(&EvaluatedResource) -> bool) -> Vec<String> {
    ev.of_type(resource_type).filter(|r| fails(r)).map(|r| r.key.logical_id.clone()).collect()
}

/// A principle kept when nothing offends it; otherwise the offenders are named.
fn kept_unless(
    id: &'static str,
    title: &'static str,
    offending: Vec<String>,
    kept: String,
    what_offends: &str,
) -> Control {
    let met = offending.is_empty();
    let detail = if met { kept } else { format!("{what_offends}: {}.", offending.join(", ")) };
    Control { id, title, met, detail }
}

fn encrypted_at_rest(ev: &Evaluation) -> Control {
    let unencrypted_volume = |t: &EvaluatedResource| {
        let volumes =
            t.property("LaunchTemplateData").and_then(|d| d.get("BlockDeviceMappings")).and_then(Value::as_list);
        volumes
            .into_iter()
            .flatten()
            .any(|v| v.get("Ebs").and_then(|e| e.get("Encrypted")).and_then(Value::as_bool) != Some(true))
    };
    let plain = [
        offenders(ev, "AWS::S3::Bucket", |b| b.property("BucketEncryption").is_none()),
        // A replica inherits its source's encryption.
        offenders(ev, "AWS::RDS::DBInstance", |d| {
            d.property("SourceDBInstanceIdentifier").is_none() && !flag(d, "StorageEncrypted")
        }),
        offenders(ev, "AWS::SQS::Queue", |q| {
            !flag(q, "SqsManagedSseEnabled") && q.property("KmsMasterKeyId").is_none()
        }),
        offenders(ev, "AWS::EC2::LaunchTemplate", unencrypted_volume),
    ]
    .concat();
    let kept = "Buckets, database storage, instance volumes and queues are encrypted.".to_owned();
    kept_unless("encrypted-at-rest", "Data encrypted at rest", plain, kept, "Not encrypted")
}

fn database_safeguards(ev: &Evaluation) -> Control {
    let dbs: Vec<&EvaluatedResource> = ev.of_type("AWS::RDS::DBInstance").collect();
    let iam = dbs.iter().all(|d| flag(d, "EnableIAMDatabaseAuthentication"));
    let protected = dbs.iter().all(|d| flag(d, "DeletionProtection"));
    let mut missing = Vec::new();
    if !iam {
        missing.push("IAM authentication");
    }
    if !protected {
        missing.push("deletion protection");
    }
    Control {
        id: "database-safeguards",
        title: "Database: IAM sign-in, deletion protection, final snapshot",
        met: missing.is_empty(),
        detail: if missing.is_empty() {
            "IAM authentication on, deletion protection on, a final snapshot kept on deletion.".to_owned()
        } else {
            format!("Without {}; a final snapshot is still kept on deletion.", missing.join(" and "))
        },
    }
}

fn access_logs(ev: &Evaluation) -> Control {
    let unlogged = [
        offenders(ev, "AWS::ElasticLoadBalancingV2::LoadBalancer", |lb| {
            !lb.property("LoadBalancerAttributes").and_then(Value::as_list).is_some_and(|attrs| {
                attrs.iter().any(|a| {
                    str_of(a.get("Key")) == Some("access_logs.s3.enabled")
                        && a.get("Value").and_then(Value::as_bool) == Some(true)
                })
            })
        }),
        // The log bucket itself is not logged (that would log the logging).
        offenders(ev, "AWS::S3::Bucket", |b| {
            b.property("LoggingConfiguration").is_none() && b.tag("Purpose") != Some("logs")
        }),
        offenders(ev, "AWS::ApiGateway::Stage", |s| s.property("AccessLogSetting").is_none()),
        offenders(ev, "AWS::CloudFront::Distribution", |d| {
            d.property("DistributionConfig").and_then(|c| c.get("Logging")).is_none()
        }),
    ]
    .concat();
    let kept =
        "Load balancer, CDN, buckets and API write access logs, which expire on the log bucket's lifecycle.".to_owned();
    kept_unless("access-logs", "Access logs kept", unlogged, kept, "No access logs")
}

/// No statement allows every action (`*`) or every action of a service (`s3:*`).
fn least_privilege(ev: &Evaluation) -> Control {
    let mut wildcards = Vec::new();
    let mut managed = Vec::new();
    for r in ev.resources() {
        let documents: Vec<&Value> = match r.resource_type.as_str() {
            "AWS::IAM::Role" => {
                for arn in r.property("ManagedPolicyArns").and_then(Value::as_list).into_iter().flatten() {
                    let name = arn.display();
                    managed.push(name.rsplit('/').next().unwrap_or(&name).to_owned());
                }
                r.property("Policies")
                    .and_then(Value::as_list)
                    .into_iter()
                    .flatten()
                    .filter_map(|p| p.get("PolicyDocument"))
                    .collect()
            }
            "AWS::IAM::Policy" => r.property("PolicyDocument").into_iter().collect(),
            _ => continue,
        };
        for doc in documents {
            for statement in doc.get("Statement").and_then(Value::as_list).into_iter().flatten() {
                if str_of(statement.get("Effect")) != Some("Allow") {
                    continue;
                }
                let actions: Vec<&str> = match statement.get("Action") {
                    Some(Value::List(items)) => items.iter().filter_map(Value::as_str).collect(),
                    Some(v) => v.as_str().into_iter().collect(),
                    None => Vec::new(),
                };
                for action in actions {
                    if action == "*" || action.ends_with(":*") {
                        wildcards.push(format!("{} allows {action}", r.key.logical_id));
                    }
                }
            }
        }
    }
    managed.sort();
    managed.dedup();
    let kept = format!(
        "No policy allows a wildcard action; own policies name their resources. AWS-managed policies kept where the service offers no narrower resource: {}.",
        managed.join(", ")
    );
    kept_unless("least-privilege", "Least privilege", wildcards, kept, "Wildcard actions")
}
