//! The first step: which box goes in which cell (subnet row × zone column) or in the managed
//! panel, before any coordinates.

use crate::catalog::Evaluation;
use crate::eval::EvaluatedResource;
use crate::value::{ResourceKey, Value};

use super::*;

// Layout, first half: which box goes in which cell, before any coordinates.

/// The boxes, sorted into the grid of subnet rows × zone columns or into the managed panel.
pub(super) struct Contents<'a> {
    pub(super) ev: &'a Evaluation,
    pub(super) zones: Vec<String>,
    /// `cells[row][zone]`, rows in the order of [`ROWS`].
    pub(super) cells: Vec<Vec<Cell>>,
    /// Each load balancer with the zone columns of its subnets.
    pub(super) albs: Vec<(ResourceKey, Vec<usize>)>,
    pub(super) managed: Vec<Item>,
    pub(super) cloudfront: Option<ResourceKey>,
    /// Where the request path goes after the load balancer.
    pub(super) first_instance: Option<ResourceKey>,
    pub(super) primary_db: Option<ResourceKey>,
}

impl<'a> Contents<'a> {
    pub(super) fn sort(ev: &'a Evaluation) -> Contents<'a> {
        let subnets: Vec<&EvaluatedResource> = ev.of_type("AWS::EC2::Subnet").collect();
        let mut zones: Vec<String> =
            subnets.iter().filter_map(|s| s.property("AvailabilityZone").map(Value::display)).collect();
        zones.sort();
        zones.dedup();
        if zones.is_empty() {
            zones.push("(no subnets)".to_owned());
        }
        let cells = (0..ROWS.len())
            .map(|_| (0..zones.len()).map(|_| Cell { subnet: None, items: Vec::new() }).collect())
            .collect();
        let mut contents = Contents {
            ev,
            zones,
            cells,
            albs: Vec::new(),
            managed: Vec::new(),
            cloudfront: None,
            first_instance: None,
            primary_db: None,
        };
        for s in &subnets {
            if let Some((r, c)) = contents.cell_of(&s.key) {
                contents.cells[r][c].subnet = Some(s.key.clone());
            }
        }
        for r in ev.resources() {
            contents.add(r);
        }
        contents
    }

    pub(super) fn col_of(&self, subnet: &ResourceKey) -> Option<usize> {
        let s = self.ev.resource(subnet)?;
        let zone = s.property("AvailabilityZone")?.display();
        self.zones.iter().position(|z| *z == zone)
    }

    pub(super) fn cell_of(&self, subnet: &ResourceKey) -> Option<(usize, usize)> {
        let tier = self.ev.resource(subnet)?.tag("Tier")?;
        let row = ROWS.iter().position(|(t, _)| *t == tier)?;
        Some((row, self.col_of(subnet)?))
    }

    /// Boxes in a subnet the diagram has no cell for are left out.
    pub(super) fn place(&mut self, subnet: &ResourceKey, item: Item) {
        if let Some((r, c)) = self.cell_of(subnet) {
            self.cells[r][c].items.push(item);
        }
    }

    pub(super) fn add(&mut self, r: &EvaluatedResource) {
        let id = &r.key.logical_id;
        match r.resource_type.as_str() {
            "AWS::EC2::NatGateway" => {
                if let Some(subnet) = r.property("SubnetId").and_then(Value::resource) {
                    self.place(subnet, item(&r.key, "NAT gateway", id));
                }
            }
            "AWS::ElasticLoadBalancingV2::LoadBalancer" => {
                let cols = subnet_list(r.property("Subnets")).iter().filter_map(|s| self.col_of(s)).collect();
                self.albs.push((r.key.clone(), cols));
            }
            "AWS::AutoScaling::AutoScalingGroup" => self.add_auto_scaling_group(r),
            "AWS::EC2::Instance" => {
                if let Some(subnet) = r.property("SubnetId").and_then(Value::resource) {
                    let kind = r.property("InstanceType").map(Value::display).unwrap_or_default();
                    self.place(subnet, item(&r.key, "EC2 instance", kind));
                    self.first_instance.get_or_insert(r.key.clone());
                }
            }
            "AWS::Lambda::Function" => {
                let targets = subnet_list(r.property("VpcConfig").and_then(|v| v.get("SubnetIds")));
                if targets.is_empty() {
                    self.managed.push(item(&r.key, "Lambda", id));
                } else {
                    for subnet in &targets {
                        self.place(subnet, item(&r.key, "Lambda", id));
                    }
                }
            }
            "AWS::ECS::Service" => {
                let targets = subnet_list(
                    r.property("NetworkConfiguration")
                        .and_then(|n| n.get("AwsvpcConfiguration"))
                        .and_then(|a| a.get("Subnets")),
                );
                if let Some(subnet) = targets.first() {
                    self.place(subnet, item(&r.key, "ECS Fargate", id));
                }
            }
            "AWS::RDS::DBInstance" => self.add_database(r),
            "AWS::ElastiCache::CacheCluster" => {
                let group = self.ev.target(r.property("CacheSubnetGroupName"));
                let targets = group.map(|g| subnet_list(g.property("SubnetIds"))).unwrap_or_default();
                let node = r.property("CacheNodeType").map(Value::display).unwrap_or_default();
                if let Some(subnet) = targets.first() {
                    self.place(subnet, item(&r.key, "Redis", node));
                }
            }
            "AWS::CloudFront::Distribution" => self.cloudfront = Some(r.key.clone()),
            other => {
                if let Some(label) = managed_label(other, r) {
                    self.managed.push(item(&r.key, label, id));
                }
            }
        }
    }

    /// One box per desired instance, dealt over the group's subnets in turn.
    pub(super) fn add_auto_scaling_group(&mut self, r: &EvaluatedResource) {
        let targets = subnet_list(r.property("VPCZoneIdentifier"));
        let n = r.property("DesiredCapacity").or(r.property("MinSize")).and_then(Value::as_f64).unwrap_or(1.0) as usize;
        let kind = self
            .ev
            .target(r.property("LaunchTemplate").and_then(|l| l.get("LaunchTemplateId")))
            .and_then(|t| t.property("LaunchTemplateData")?.get("InstanceType")?.as_str().map(str::to_owned))
            .unwrap_or_else(|| "EC2".into());
        for i in 0..n {
            if let Some(subnet) = targets.get(i % targets.len().max(1)) {
                self.place(subnet, item(&r.key, "EC2 backend", kind.clone()));
            }
        }
        self.first_instance.get_or_insert(r.key.clone());
    }

    /// A primary in the first subnet of its group and its Multi-AZ standby in the second;
    /// a read replica in the second subnet of its source's group.
    pub(super) fn add_database(&mut self, r: &EvaluatedResource) {
        let replica = r.property("SourceDBInstanceIdentifier").is_some();
        let source = if replica { self.ev.target(r.property("SourceDBInstanceIdentifier")) } else { Some(r) };
        let group = source.and_then(|s| self.ev.target(s.property("DBSubnetGroupName")));
        let targets = group.map(|g| subnet_list(g.property("SubnetIds"))).unwrap_or_default();
        let class = r.property("DBInstanceClass").map(Value::display).unwrap_or_default();
        if replica {
            if let Some(subnet) = targets.get(1).or(targets.first()) {
                self.place(subnet, Item { secondary: true, ..item(&r.key, "RDS read replica", class) });
            }
            return;
        }
        if let Some(subnet) = targets.first() {
            self.place(subnet, item(&r.key, "RDS MySQL", class.clone()));
        }
        let multi = r.property("MultiAZ").and_then(Value::as_bool).unwrap_or(false);
        if multi {
            if let Some(subnet) = targets.get(1) {
                self.place(subnet, Item { secondary: true, ..item(&r.key, "RDS standby", class) });
            }
        }
        self.primary_db.get_or_insert(r.key.clone());
    }
}

pub(super) fn subnet_list(v: Option<&Value>) -> Vec<ResourceKey> {
    v.and_then(Value::as_list).map(|l| l.iter().filter_map(|x| x.resource().cloned()).collect()).unwrap_or_default()
}

/// Labels of the managed services shown beside the VPC; `None` hides a type.
pub(super) fn managed_label(resource_type: &str, r: &EvaluatedResource) -> Option<String> {
    Some(match resource_type {
        "AWS::S3::Bucket" => format!("S3 bucket: {}", r.tag("Purpose").unwrap_or("data")),
        "AWS::Cognito::UserPool" => "Cognito user pool".into(),
        "AWS::Cognito::IdentityPool" => "Cognito identity pool".into(),
        "AWS::ApiGateway::RestApi" => "API Gateway REST API".into(),
        "AWS::SecretsManager::Secret" => "Secrets Manager secret".into(),
        "AWS::CloudWatch::Alarm" => "CloudWatch alarm".into(),
        "AWS::Logs::LogGroup" => "CloudWatch log group".into(),
        "AWS::SQS::Queue" => "SQS queue".into(),
        "AWS::SNS::Topic" => "SNS topic".into(),
        "AWS::ECR::Repository" => "ECR repository".into(),
        "AWS::Route53::HostedZone" => "Route 53 hosted zone".into(),
        "AWS::CertificateManager::Certificate" => "ACM certificate".into(),
        "AWS::KMS::Key" => "KMS key".into(),
        _ => return None,
    })
}
