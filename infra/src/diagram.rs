//! The architecture diagram, drawn as SVG from the evaluated resources.
//!
//! Layout: the VPC with one column per availability zone and one row per
//! subnet tier (public, private, data); managed services in a panel beside it;
//! the request path Internet → CloudFront → ALB → EC2 → RDS drawn as arrows.
//! Shapes carry text and dash patterns, so nothing depends on colour. The
//! SVG is a named `group`, not an `img`, because its boxes are links.

use std::collections::HashSet;
use std::fmt::Write;

use crate::catalog::Evaluation;
use crate::eval::EvaluatedResource;
use crate::value::{ResourceKey, Value};

const ROWS: [(&str, &str); 3] = [("public", "Public subnet"), ("private", "Private subnet"), ("data", "Data subnet")];
const COL_W: f64 = 330.0;
const ITEM_W: f64 = 150.0;
const ITEM_H: f64 = 46.0;
const GAP: f64 = 10.0;
const PANEL_W: f64 = 250.0;

/// Where the diagram's resources link to.
pub fn cost_anchor(key: &ResourceKey) -> String {
    format!("cost-{}-{}", key.phase.slug(), key.logical_id)
}

pub fn phase_anchor(key: &ResourceKey) -> String {
    format!("phase-{}", key.phase.number())
}

/// One box in the drawing.
struct Item {
    key: ResourceKey,
    label: String,
    detail: String,
    /// Drawn with a dashed border: a standby or replica rather than a primary.
    secondary: bool,
}

struct Cell {
    subnet: Option<ResourceKey>,
    items: Vec<Item>,
}

/// `priced` holds the resources with cost lines; only those link to one.
pub fn render_svg(ev: &Evaluation, title: &str, priced: &HashSet<ResourceKey>) -> String {
    let subnets: Vec<&EvaluatedResource> = ev.of_type("AWS::EC2::Subnet").collect();
    let mut zones: Vec<String> =
        subnets.iter().filter_map(|s| s.property("AvailabilityZone").map(Value::display)).collect();
    zones.sort();
    zones.dedup();
    if zones.is_empty() {
        zones.push("(no subnets)".to_owned());
    }
    let col_of = |subnet: &ResourceKey| -> Option<usize> {
        let s = ev.resource(subnet)?;
        let zone = s.property("AvailabilityZone")?.display();
        zones.iter().position(|z| *z == zone)
    };
    let row_of = |subnet: &ResourceKey| -> Option<usize> {
        let tier = ev.resource(subnet)?.tag("Tier")?;
        ROWS.iter().position(|(t, _)| *t == tier)
    };

    let mut cells: Vec<Vec<Cell>> =
        (0..ROWS.len()).map(|_| (0..zones.len()).map(|_| Cell { subnet: None, items: Vec::new() }).collect()).collect();
    for s in &subnets {
        if let (Some(r), Some(c)) = (row_of(&s.key), col_of(&s.key)) {
            cells[r][c].subnet = Some(s.key.clone());
        }
    }
    let mut place = |subnet: &ResourceKey, item: Item| {
        if let (Some(r), Some(c)) = (row_of(subnet), col_of(subnet)) {
            cells[r][c].items.push(item);
        }
    };
    let subnet_list = |v: Option<&Value>| -> Vec<ResourceKey> {
        v.and_then(Value::as_list).map(|l| l.iter().filter_map(|x| x.resource().cloned()).collect()).unwrap_or_default()
    };

    let mut albs: Vec<(ResourceKey, Vec<usize>)> = Vec::new();
    let mut managed: Vec<Item> = Vec::new();
    let mut cloudfront: Option<ResourceKey> = None;
    let mut first_instance: Option<ResourceKey> = None;
    let mut primary_db: Option<ResourceKey> = None;

    for r in ev.resources() {
        let key = r.key.clone();
        let id = r.key.logical_id.clone();
        match r.resource_type.as_str() {
            "AWS::EC2::NatGateway" => {
                if let Some(subnet) = r.property("SubnetId").and_then(Value::resource) {
                    place(subnet, Item { key, label: "NAT gateway".into(), detail: id, secondary: false });
                }
            }
            "AWS::ElasticLoadBalancingV2::LoadBalancer" => {
                let cols = subnet_list(r.property("Subnets")).iter().filter_map(&col_of).collect();
                albs.push((key, cols));
            }
            "AWS::AutoScaling::AutoScalingGroup" => {
                let targets = subnet_list(r.property("VPCZoneIdentifier"));
                let n = r.property("DesiredCapacity").or(r.property("MinSize")).and_then(Value::as_f64).unwrap_or(1.0)
                    as usize;
                let kind = ev
                    .target(r.property("LaunchTemplate").and_then(|l| l.get("LaunchTemplateId")))
                    .and_then(|t| t.property("LaunchTemplateData")?.get("InstanceType")?.as_str().map(str::to_owned))
                    .unwrap_or_else(|| "EC2".into());
                for i in 0..n {
                    if let Some(subnet) = targets.get(i % targets.len().max(1)) {
                        place(
                            subnet,
                            Item {
                                key: key.clone(),
                                label: "EC2 backend".into(),
                                detail: kind.clone(),
                                secondary: false,
                            },
                        );
                    }
                }
                first_instance.get_or_insert(key);
            }
            "AWS::EC2::Instance" => {
                if let Some(subnet) = r.property("SubnetId").and_then(Value::resource) {
                    let kind = r.property("InstanceType").map(Value::display).unwrap_or_default();
                    place(
                        subnet,
                        Item { key: key.clone(), label: "EC2 instance".into(), detail: kind, secondary: false },
                    );
                    first_instance.get_or_insert(key);
                }
            }
            "AWS::Lambda::Function" => {
                let targets = subnet_list(r.property("VpcConfig").and_then(|v| v.get("SubnetIds")));
                if targets.is_empty() {
                    managed.push(Item { key, label: "Lambda".into(), detail: id, secondary: false });
                } else {
                    for subnet in &targets {
                        place(
                            subnet,
                            Item { key: key.clone(), label: "Lambda".into(), detail: id.clone(), secondary: false },
                        );
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
                    place(subnet, Item { key, label: "ECS Fargate".into(), detail: id, secondary: false });
                }
            }
            "AWS::RDS::DBInstance" => {
                let replica = r.property("SourceDBInstanceIdentifier").is_some();
                let source = if replica { ev.target(r.property("SourceDBInstanceIdentifier")) } else { Some(r) };
                let group = source.and_then(|s| ev.target(s.property("DBSubnetGroupName")));
                let targets = group.map(|g| subnet_list(g.property("SubnetIds"))).unwrap_or_default();
                let class = r.property("DBInstanceClass").map(Value::display).unwrap_or_default();
                if replica {
                    if let Some(subnet) = targets.get(1).or(targets.first()) {
                        place(subnet, Item { key, label: "RDS read replica".into(), detail: class, secondary: true });
                    }
                } else {
                    if let Some(subnet) = targets.first() {
                        place(
                            subnet,
                            Item {
                                key: key.clone(),
                                label: "RDS MySQL".into(),
                                detail: class.clone(),
                                secondary: false,
                            },
                        );
                    }
                    let multi = r.property("MultiAZ").and_then(Value::as_bool).unwrap_or(false);
                    if multi {
                        if let Some(subnet) = targets.get(1) {
                            place(
                                subnet,
                                Item { key: key.clone(), label: "RDS standby".into(), detail: class, secondary: true },
                            );
                        }
                    }
                    primary_db.get_or_insert(key);
                }
            }
            "AWS::ElastiCache::CacheCluster" => {
                let group = ev.target(r.property("CacheSubnetGroupName"));
                let targets = group.map(|g| subnet_list(g.property("SubnetIds"))).unwrap_or_default();
                let node = r.property("CacheNodeType").map(Value::display).unwrap_or_default();
                if let Some(subnet) = targets.first() {
                    place(subnet, Item { key, label: "Redis".into(), detail: node, secondary: false });
                }
            }
            "AWS::CloudFront::Distribution" => cloudfront = Some(key),
            other => {
                if let Some(label) = managed_label(other, r) {
                    managed.push(Item { key, label, detail: id, secondary: false });
                }
            }
        }
    }

    // Geometry.
    let ncols = zones.len() as f64;
    let per_line = ((COL_W - 2.0 * GAP) / (ITEM_W + GAP)).floor().max(1.0) as usize;
    let alb_h = if albs.is_empty() { 0.0 } else { ITEM_H + GAP };
    let row_heights: Vec<f64> = cells
        .iter()
        .enumerate()
        .map(|(ri, row)| {
            let lines = row.iter().map(|c| c.items.len().div_ceil(per_line)).max().unwrap_or(0).max(1) as f64;
            let extra = if ri == 0 { alb_h } else { 0.0 };
            34.0 + lines * (ITEM_H + GAP) + extra
        })
        .collect();
    let vpc_x = 20.0;
    let vpc_y = 120.0;
    let vpc_w = ncols * COL_W + (ncols + 1.0) * GAP;
    let rows_y0 = vpc_y + 56.0;
    let vpc_h = 56.0 + row_heights.iter().sum::<f64>() + GAP * (ROWS.len() as f64 + 1.0);
    let panel_x = vpc_x + vpc_w + 30.0;
    let panel_h = 40.0 + managed.len() as f64 * (ITEM_H + 4.0);
    let width = panel_x + PANEL_W + 20.0;
    let height = (vpc_y + vpc_h).max(vpc_y + panel_h) + 20.0;

    let mut svg = String::new();
    let desc = describe(ev, &zones, cloudfront.is_some());
    let _ = write!(
        svg,
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="group" aria-labelledby="diagram-title" aria-describedby="diagram-desc" class="architecture-diagram" font-family="system-ui, sans-serif" font-size="12">"##
    );
    let _ =
        write!(svg, r#"<title id="diagram-title">{}</title><desc id="diagram-desc">{}</desc>"#, esc(title), esc(&desc));
    svg.push_str(r##"<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#222"/></marker></defs>"##);

    // Outside the VPC: the internet and CloudFront.
    let internet = (40.0, 30.0);
    let _ = write!(
        svg,
        r##"<g class="external"><rect x="{}" y="{}" width="120" height="{ITEM_H}" rx="23" fill="#fff" stroke="#222" stroke-width="1.5"/><text x="{}" y="{}" text-anchor="middle" font-weight="600">Internet</text></g>"##,
        internet.0,
        internet.1,
        internet.0 + 60.0,
        internet.1 + 28.0
    );
    // The request path, as boxes (x, y, width) in the order a request crosses them.
    let mut path: Vec<(f64, f64, f64)> = vec![(internet.0, internet.1, 120.0)];
    if let Some(cf) = &cloudfront {
        let (x, y) = (220.0, 30.0);
        item_svg(
            &mut svg,
            priced,
            &Item { key: cf.clone(), label: "CloudFront".into(), detail: "CDN".into(), secondary: false },
            x,
            y,
            ITEM_W + 24.0,
        );
        path.push((x, y, ITEM_W + 24.0));
    }

    let _ = write!(
        svg,
        r##"<g class="vpc"><rect x="{vpc_x}" y="{vpc_y}" width="{vpc_w}" height="{vpc_h}" fill="none" stroke="#222" stroke-width="2"/><text x="{}" y="{}" font-weight="700">VPC 10.0.0.0/16</text>"##,
        vpc_x + GAP,
        vpc_y + 20.0
    );
    for (ci, zone) in zones.iter().enumerate() {
        let x = vpc_x + GAP + ci as f64 * (COL_W + GAP);
        let used = cells.iter().any(|row| !row[ci].items.is_empty());
        let _ = write!(
            svg,
            r##"<text x="{}" y="{}" font-weight="600" class="az">Availability zone {}{}</text>"##,
            x,
            vpc_y + 44.0,
            esc(zone),
            if used { "" } else { " (standby only)" }
        );
    }
    let mut y = rows_y0;
    let mut positions: std::collections::HashMap<ResourceKey, (f64, f64, f64)> = Default::default();
    for (ri, row) in cells.iter().enumerate() {
        let h = row_heights[ri];
        for (ci, cell) in row.iter().enumerate() {
            let x = vpc_x + GAP + ci as f64 * (COL_W + GAP);
            match &cell.subnet {
                Some(subnet) => {
                    let _ = write!(
                        svg,
                        r##"<g class="subnet" data-resource="{}"><rect x="{x}" y="{y}" width="{COL_W}" height="{h}" fill="#f7f7f7" stroke="#555"/><text x="{}" y="{}">{} · {}</text></g>"##,
                        esc(&subnet.logical_id),
                        x + 8.0,
                        y + 18.0,
                        ROWS[ri].1,
                        esc(&subnet.logical_id)
                    );
                }
                None => {
                    let _ = write!(
                        svg,
                        r##"<g class="subnet absent"><rect x="{x}" y="{y}" width="{COL_W}" height="{h}" fill="none" stroke="#999" stroke-dasharray="4 4"/><text x="{}" y="{}" fill="#555">No {} in this zone</text></g>"##,
                        x + 8.0,
                        y + 18.0,
                        ROWS[ri].1.to_lowercase()
                    );
                }
            }
            for (i, item) in cell.items.iter().enumerate() {
                let ix = x + GAP + (i % per_line) as f64 * (ITEM_W + GAP);
                let iy = y + 28.0 + (i / per_line) as f64 * (ITEM_H + GAP);
                item_svg(&mut svg, priced, item, ix, iy, ITEM_W);
                positions.entry(item.key.clone()).or_insert((ix, iy, ITEM_W));
            }
        }
        if ri == 0 {
            for (key, cols) in &albs {
                let first = cols.iter().min().copied().unwrap_or(0) as f64;
                let last = cols.iter().max().copied().unwrap_or(0) as f64;
                let x0 = vpc_x + GAP + first * (COL_W + GAP) + GAP;
                let w = (last - first) * (COL_W + GAP) + COL_W - 2.0 * GAP;
                let ay = y + h - ITEM_H - GAP;
                item_svg(
                    &mut svg,
                    priced,
                    &Item {
                        key: key.clone(),
                        label: "Application Load Balancer".into(),
                        detail: key.logical_id.clone(),
                        secondary: false,
                    },
                    x0,
                    ay,
                    w,
                );
                positions.insert(key.clone(), (x0, ay, w));
            }
        }
        y += h + GAP;
    }
    svg.push_str("</g>");

    // Managed services beside the VPC.
    let _ = write!(
        svg,
        r##"<g class="managed"><rect x="{panel_x}" y="{vpc_y}" width="{PANEL_W}" height="{panel_h}" fill="none" stroke="#222" stroke-dasharray="8 3"/><text x="{}" y="{}" font-weight="700">Managed services</text>"##,
        panel_x + GAP,
        vpc_y + 20.0
    );
    for (i, item) in managed.iter().enumerate() {
        item_svg(&mut svg, priced, item, panel_x + GAP, vpc_y + 32.0 + i as f64 * (ITEM_H + 4.0), PANEL_W - 2.0 * GAP);
    }
    svg.push_str("</g>");

    // The request path: sideways between boxes on one level, else bottom edge to top edge.
    for key in [albs.first().map(|a| &a.0), first_instance.as_ref(), primary_db.as_ref()].into_iter().flatten() {
        if let Some(rect) = positions.get(key) {
            path.push(*rect);
        }
    }
    svg.push_str(r#"<g class="request-path">"#);
    for pair in path.windows(2) {
        let ((ax, ay, aw), (bx, by, bw)) = (pair[0], pair[1]);
        let (x1, y1, x2, y2) = if (ay - by).abs() < 1.0 {
            (ax + aw, ay + ITEM_H / 2.0, bx, by + ITEM_H / 2.0)
        } else {
            // Aim at the part of the lower box under the upper one, so the line stays short.
            let x2 = (ax + aw / 2.0).clamp(bx + 10.0, bx + bw - 10.0);
            let x1 = (bx + bw / 2.0).clamp(ax + 10.0, ax + aw - 10.0);
            (x1, ay + ITEM_H, x2, by)
        };
        let _ = write!(
            svg,
            r##"<line x1="{x1:.1}" y1="{y1:.1}" x2="{x2:.1}" y2="{y2:.1}" stroke="#222" stroke-width="2" marker-end="url(#arrow)"/>"##
        );
    }
    svg.push_str("</g></svg>");
    svg
}

fn item_svg(svg: &mut String, priced: &HashSet<ResourceKey>, item: &Item, x: f64, y: f64, w: f64) {
    let dash = if item.secondary { r#" stroke-dasharray="5 3""# } else { "" };
    let id = esc(&item.key.logical_id);
    let phase = item.key.phase.number();
    let label = esc(&item.label);
    let detail = esc(&truncate(&item.detail, ((w - 12.0) / 6.5) as usize));
    let (tx, ty1, ty2, px) = (x + 6.0, y + 18.0, y + 36.0, x + w - 5.0);
    let _ = write!(svg, r#"<g class="resource" data-resource="{id}" data-phase="{phase}" data-type="{label}">"#);
    // Free resources (an ACM certificate, an identity pool) have no cost line to link to.
    let linked = priced.contains(&item.key);
    if linked {
        let _ = write!(
            svg,
            r##"<a href="#{}"><title>{label} {id} (phase {phase}): see its cost</title>"##,
            esc(&cost_anchor(&item.key))
        );
    } else {
        let _ = write!(svg, r#"<g><title>{label} {id} (phase {phase}): no charge of its own</title>"#);
    }
    let _ = write!(
        svg,
        r##"<rect x="{x:.1}" y="{y:.1}" width="{w:.1}" height="{ITEM_H}" rx="4" fill="#fff" stroke="#222" stroke-width="1.2"{dash}/><text x="{tx:.1}" y="{ty1:.1}" font-weight="600">{label}</text><text x="{tx:.1}" y="{ty2:.1}" fill="#333">{detail}</text>{close}<a href="#{anchor}"><title>Deployed in phase {phase}</title><text x="{px:.1}" y="{ty1:.1}" text-anchor="end" fill="#333">P{phase}</text></a></g>"##,
        close = if linked { "</a>" } else { "</g>" },
        anchor = phase_anchor(&item.key),
    );
}

/// Labels of the managed services shown beside the VPC; `None` hides a type.
fn managed_label(resource_type: &str, r: &EvaluatedResource) -> Option<String> {
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

fn describe(ev: &Evaluation, zones: &[String], cloudfront: bool) -> String {
    let count = |t: &str| ev.of_type(t).count();
    let instances: f64 = ev
        .of_type("AWS::AutoScaling::AutoScalingGroup")
        .filter_map(|a| a.property("DesiredCapacity").and_then(Value::as_f64))
        .sum();
    let dbs: Vec<&EvaluatedResource> = ev.of_type("AWS::RDS::DBInstance").collect();
    let multi = dbs.iter().any(|d| d.property("MultiAZ").and_then(Value::as_bool) == Some(true));
    let replicas = dbs.iter().filter(|d| d.property("SourceDBInstanceIdentifier").is_some()).count();
    let compute_zones = ev.of_type("AWS::EC2::Subnet").filter(|s| s.tag("Tier") == Some("private")).count();
    format!(
        "VPC over {} availability zones ({} of them with application servers); {} NAT gateway(s); {} EC2 instance(s) behind an Application Load Balancer; RDS MySQL {}{}; {}. Request path: Internet → {}ALB → EC2 → RDS.",
        zones.len(),
        compute_zones,
        count("AWS::EC2::NatGateway"),
        instances,
        if multi { "Multi-AZ" } else { "single-AZ" },
        if replicas > 0 { format!(" with {replicas} read replica(s)") } else { String::new() },
        if cloudfront { "CloudFront in front" } else { "no CloudFront" },
        if cloudfront { "CloudFront → " } else { "" },
    )
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max || max < 2 {
        s.to_owned()
    } else {
        let mut out: String = s.chars().take(max - 1).collect();
        out.push('…');
        out
    }
}

pub(crate) fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}
