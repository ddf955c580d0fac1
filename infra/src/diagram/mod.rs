//! The architecture diagram, drawn as SVG from the evaluated resources.
//!
//! Layout: the VPC with one column per availability zone and one row per
//! subnet tier (public, private, data); managed services in a panel beside it;
//! the request path Internet → CloudFront → ALB → EC2 → RDS drawn as arrows.
//! Shapes carry text and dash patterns, so nothing depends on colour. The
//! SVG is a named `group`, not an `img`, because its boxes are links.
//!
//! Three steps, a module each: [`contents`] sorts the resources into cells, [`layout`] gives
//! them coordinates, [`draw`] writes the SVG.

mod contents;
mod draw;
mod layout;

use std::collections::HashSet;
use std::fmt::Write;

use crate::catalog::Evaluation;
use crate::eval::EvaluatedResource;
use crate::posture::{Hop, Protocol};
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

/// A primary box; standbys and replicas set `secondary` themselves.
fn item(key: &ResourceKey, label: impl Into<String>, detail: impl Into<String>) -> Item {
    Item { key: key.clone(), label: label.into(), detail: detail.into(), secondary: false }
}

struct Cell {
    subnet: Option<ResourceKey>,
    items: Vec<Item>,
}

/// `priced` holds the resources with cost lines; only those link to one.
pub fn render_svg(ev: &Evaluation, title: &str, priced: &HashSet<ResourceKey>) -> String {
    let contents = contents::Contents::sort(ev);
    let hops = crate::posture::request_path(ev);
    let desc = describe(ev, &contents.zones, &hops);
    draw::draw(&layout::Layout::new(contents), title, &desc, priced, &hops)
}

fn describe(ev: &Evaluation, zones: &[String], hops: &[Hop]) -> String {
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
        "VPC over {} availability zones ({} of them with application servers); {} NAT gateway(s); {} EC2 instance(s) behind an Application Load Balancer; RDS MySQL {}{}; {}. Request path: {} → RDS.",
        zones.len(),
        compute_zones,
        count("AWS::EC2::NatGateway"),
        instances,
        if multi { "Multi-AZ" } else { "single-AZ" },
        if replicas > 0 { format!(" with {replicas} read replica(s)") } else { String::new() },
        if hops.iter().any(|h| h.to == "CloudFront") { "CloudFront in front" } else { "no CloudFront" },
        request_path_text(hops),
    )
}

/// `Internet → (HTTPS) CloudFront → (HTTP, unencrypted) Load balancer → …`.
fn request_path_text(hops: &[Hop]) -> String {
    let mut text = hops.first().map_or("Internet", |h| h.from).to_owned();
    for hop in hops {
        let _ = write!(text, " → ({}) {}", hop_label(hop), hop.to);
    }
    text
}

/// What an arrow of the request path says about its protocol.
pub(crate) fn hop_label(hop: &Hop) -> String {
    match (hop.protocol, hop.public) {
        (Protocol::Http, true) => "HTTP, unencrypted".to_owned(),
        (Protocol::Http, false) => "HTTP inside the VPC".to_owned(),
        (Protocol::Https, _) => "HTTPS".to_owned(),
    }
}

pub(crate) fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}
