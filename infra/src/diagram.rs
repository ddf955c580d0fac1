//! The architecture diagram, drawn as SVG from the evaluated resources.
//!
//! Layout: the VPC with one column per availability zone and one row per
//! subnet tier (public, private, data); managed services in a panel beside it;
//! the request path Internet → CloudFront → ALB → EC2 → RDS drawn as arrows.
//! Shapes carry text and dash patterns, so nothing depends on colour. The
//! SVG is a named `group`, not an `img`, because its boxes are links.

use std::collections::{HashMap, HashSet};
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
    let contents = Contents::sort(ev);
    let desc = describe(ev, &contents.zones, contents.cloudfront.is_some());
    draw(&Layout::new(contents), title, &desc, priced)
}

// Layout, first half: which box goes in which cell, before any coordinates.

/// The boxes, sorted into the grid of subnet rows × zone columns or into the managed panel.
struct Contents<'a> {
    ev: &'a Evaluation,
    zones: Vec<String>,
    /// `cells[row][zone]`, rows in the order of [`ROWS`].
    cells: Vec<Vec<Cell>>,
    /// Each load balancer with the zone columns of its subnets.
    albs: Vec<(ResourceKey, Vec<usize>)>,
    managed: Vec<Item>,
    cloudfront: Option<ResourceKey>,
    /// Where the request path goes after the load balancer.
    first_instance: Option<ResourceKey>,
    primary_db: Option<ResourceKey>,
}

impl<'a> Contents<'a> {
    fn sort(ev: &'a Evaluation) -> Contents<'a> {
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

    fn col_of(&self, subnet: &ResourceKey) -> Option<usize> {
        let s = self.ev.resource(subnet)?;
        let zone = s.property("AvailabilityZone")?.display();
        self.zones.iter().position(|z| *z == zone)
    }

    fn cell_of(&self, subnet: &ResourceKey) -> Option<(usize, usize)> {
        let tier = self.ev.resource(subnet)?.tag("Tier")?;
        let row = ROWS.iter().position(|(t, _)| *t == tier)?;
        Some((row, self.col_of(subnet)?))
    }

    /// Boxes in a subnet the diagram has no cell for are left out.
    fn place(&mut self, subnet: &ResourceKey, item: Item) {
        if let Some((r, c)) = self.cell_of(subnet) {
            self.cells[r][c].items.push(item);
        }
    }

    fn add(&mut self, r: &EvaluatedResource) {
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
    fn add_auto_scaling_group(&mut self, r: &EvaluatedResource) {
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
    fn add_database(&mut self, r: &EvaluatedResource) {
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

fn subnet_list(v: Option<&Value>) -> Vec<ResourceKey> {
    v.and_then(Value::as_list).map(|l| l.iter().filter_map(|x| x.resource().cloned()).collect()).unwrap_or_default()
}

// Layout, second half: coordinates for every frame, box and arrow.

/// A box's left edge, top edge and width; every box is `ITEM_H` tall.
#[derive(Clone, Copy)]
struct Rect {
    x: f64,
    y: f64,
    w: f64,
}

/// An outlined area: the VPC or the managed-services panel.
struct Frame {
    x: f64,
    y: f64,
    w: f64,
    h: f64,
}

struct Placed {
    item: Item,
    at: Rect,
}

struct ZoneColumn {
    name: String,
    x: f64,
    /// False when no row of the zone holds a box; its label then says "standby only".
    used: bool,
}

/// One subnet tier across all zones.
struct SubnetRow {
    label: &'static str,
    y: f64,
    h: f64,
    cells: Vec<SubnetCell>,
    /// Load balancers, each spanning the zone columns of its subnets; only the public row has them.
    spanning: Vec<Placed>,
}

struct SubnetCell {
    x: f64,
    subnet: Option<ResourceKey>,
    items: Vec<Placed>,
}

struct Arrow {
    x1: f64,
    y1: f64,
    x2: f64,
    y2: f64,
}

/// Where everything goes; drawing adds only text offsets inside frames and boxes.
struct Layout {
    width: f64,
    height: f64,
    internet: Rect,
    cloudfront: Option<Placed>,
    vpc: Frame,
    zones: Vec<ZoneColumn>,
    rows: Vec<SubnetRow>,
    managed_panel: Frame,
    managed: Vec<Placed>,
    request_path: Vec<Arrow>,
}

impl Layout {
    fn new(c: Contents) -> Layout {
        let ncols = c.zones.len() as f64;
        let per_line = ((COL_W - 2.0 * GAP) / (ITEM_W + GAP)).floor().max(1.0) as usize;
        let row_heights = row_heights(&c.cells, per_line, !c.albs.is_empty());
        let vpc = Frame {
            x: 20.0,
            y: 120.0,
            w: ncols * COL_W + (ncols + 1.0) * GAP,
            h: 56.0 + row_heights.iter().sum::<f64>() + GAP * (ROWS.len() as f64 + 1.0),
        };
        let managed_panel =
            Frame { x: vpc.x + vpc.w + 30.0, y: vpc.y, w: PANEL_W, h: 40.0 + c.managed.len() as f64 * (ITEM_H + 4.0) };
        let zones = c
            .zones
            .iter()
            .enumerate()
            .map(|(ci, name)| ZoneColumn {
                name: name.clone(),
                x: column_x(&vpc, ci),
                used: c.cells.iter().any(|row| !row[ci].items.is_empty()),
            })
            .collect();
        let mut positions = HashMap::new();
        let rows = place_rows(c.cells, &c.albs, &vpc, &row_heights, per_line, &mut positions);
        let managed = c
            .managed
            .into_iter()
            .enumerate()
            .map(|(i, item)| {
                let (x, y) = (managed_panel.x + GAP, vpc.y + 32.0 + i as f64 * (ITEM_H + 4.0));
                Placed { item, at: Rect { x, y, w: PANEL_W - 2.0 * GAP } }
            })
            .collect();
        let internet = Rect { x: 40.0, y: 30.0, w: 120.0 };
        let cloudfront = c.cloudfront.map(|key| Placed {
            item: item(&key, "CloudFront", "CDN"),
            at: Rect { x: 220.0, y: 30.0, w: ITEM_W + 24.0 },
        });
        let through = [c.albs.first().map(|a| &a.0), c.first_instance.as_ref(), c.primary_db.as_ref()];
        let request_path = request_path(internet, cloudfront.as_ref(), through, &positions);
        Layout {
            width: managed_panel.x + PANEL_W + 20.0,
            height: (vpc.y + vpc.h).max(vpc.y + managed_panel.h) + 20.0,
            internet,
            cloudfront,
            vpc,
            zones,
            rows,
            managed_panel,
            managed,
            request_path,
        }
    }
}

fn column_x(vpc: &Frame, column: usize) -> f64 {
    vpc.x + GAP + column as f64 * (COL_W + GAP)
}

/// Each row is as tall as its fullest cell; the public row also makes room for the load balancers.
fn row_heights(cells: &[Vec<Cell>], per_line: usize, has_albs: bool) -> Vec<f64> {
    let alb_h = if has_albs { ITEM_H + GAP } else { 0.0 };
    cells
        .iter()
        .enumerate()
        .map(|(ri, row)| {
            let lines = row.iter().map(|c| c.items.len().div_ceil(per_line)).max().unwrap_or(0).max(1) as f64;
            let extra = if ri == 0 { alb_h } else { 0.0 };
            34.0 + lines * (ITEM_H + GAP) + extra
        })
        .collect()
}

/// Rows top to bottom; `positions` gets each resource's first box, which the request path points at.
fn place_rows(
    cells: Vec<Vec<Cell>>,
    albs: &[(ResourceKey, Vec<usize>)],
    vpc: &Frame,
    heights: &[f64],
    per_line: usize,
    positions: &mut HashMap<ResourceKey, Rect>,
) -> Vec<SubnetRow> {
    let mut rows = Vec::with_capacity(cells.len());
    let mut y = vpc.y + 56.0;
    for (ri, ((row, h), (_, label))) in cells.into_iter().zip(heights.iter().copied()).zip(ROWS).enumerate() {
        let mut placed_cells = Vec::with_capacity(row.len());
        for (ci, cell) in row.into_iter().enumerate() {
            let x = column_x(vpc, ci);
            let mut items = Vec::with_capacity(cell.items.len());
            for (i, item) in cell.items.into_iter().enumerate() {
                let ix = x + GAP + (i % per_line) as f64 * (ITEM_W + GAP);
                let iy = y + 28.0 + (i / per_line) as f64 * (ITEM_H + GAP);
                let at = Rect { x: ix, y: iy, w: ITEM_W };
                positions.entry(item.key.clone()).or_insert(at);
                items.push(Placed { item, at });
            }
            placed_cells.push(SubnetCell { x, subnet: cell.subnet, items });
        }
        let spanning = if ri == 0 { place_albs(albs, vpc, y, h, positions) } else { Vec::new() };
        rows.push(SubnetRow { label, y, h, cells: placed_cells, spanning });
        y += h + GAP;
    }
    rows
}

/// Load balancers along the bottom of the row at `y`, across the columns of their subnets.
fn place_albs(
    albs: &[(ResourceKey, Vec<usize>)],
    vpc: &Frame,
    y: f64,
    h: f64,
    positions: &mut HashMap<ResourceKey, Rect>,
) -> Vec<Placed> {
    let mut placed = Vec::with_capacity(albs.len());
    for (key, cols) in albs {
        let first = cols.iter().min().copied().unwrap_or(0);
        let last = cols.iter().max().copied().unwrap_or(0);
        let x = column_x(vpc, first) + GAP;
        let w = (last as f64 - first as f64) * (COL_W + GAP) + COL_W - 2.0 * GAP;
        let at = Rect { x, y: y + h - ITEM_H - GAP, w };
        positions.insert(key.clone(), at);
        placed.push(Placed { item: item(key, "Application Load Balancer", key.logical_id.clone()), at });
    }
    placed
}

/// Arrows along Internet → CloudFront → ALB → EC2 → RDS, skipping the boxes a tier lacks.
fn request_path(
    internet: Rect,
    cloudfront: Option<&Placed>,
    through: [Option<&ResourceKey>; 3],
    positions: &HashMap<ResourceKey, Rect>,
) -> Vec<Arrow> {
    let mut path = vec![internet];
    path.extend(cloudfront.map(|p| p.at));
    path.extend(through.into_iter().flatten().filter_map(|key| positions.get(key).copied()));
    path.windows(2).map(|pair| arrow(pair[0], pair[1])).collect()
}

/// Sideways between boxes on one level, else bottom edge to top edge.
fn arrow(a: Rect, b: Rect) -> Arrow {
    if (a.y - b.y).abs() < 1.0 {
        Arrow { x1: a.x + a.w, y1: a.y + ITEM_H / 2.0, x2: b.x, y2: b.y + ITEM_H / 2.0 }
    } else {
        // Aim at the part of the lower box under the upper one, so the line stays short.
        Arrow {
            x1: (b.x + b.w / 2.0).clamp(a.x + 10.0, a.x + a.w - 10.0),
            y1: a.y + ITEM_H,
            x2: (a.x + a.w / 2.0).clamp(b.x + 10.0, b.x + b.w - 10.0),
            y2: b.y,
        }
    }
}

// Drawing: SVG text from the layout, in painting order.

fn draw(layout: &Layout, title: &str, desc: &str, priced: &HashSet<ResourceKey>) -> String {
    let mut svg = String::new();
    draw_header(&mut svg, layout, title, desc);
    draw_internet(&mut svg, layout.internet);
    if let Some(cloudfront) = &layout.cloudfront {
        item_svg(&mut svg, priced, cloudfront);
    }
    draw_vpc(&mut svg, layout, priced);
    draw_managed(&mut svg, &layout.managed_panel, &layout.managed, priced);
    draw_request_path(&mut svg, &layout.request_path);
    svg.push_str("</svg>");
    svg
}

/// The root element, title, description and the arrowhead marker.
fn draw_header(svg: &mut String, layout: &Layout, title: &str, desc: &str) {
    let (width, height) = (layout.width, layout.height);
    let _ = write!(
        svg,
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="group" aria-labelledby="diagram-title" aria-describedby="diagram-desc" class="architecture-diagram" font-family="system-ui, sans-serif" font-size="12">"##
    );
    let _ =
        write!(svg, r#"<title id="diagram-title">{}</title><desc id="diagram-desc">{}</desc>"#, esc(title), esc(desc));
    svg.push_str(r##"<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#222"/></marker></defs>"##);
}

fn draw_internet(svg: &mut String, at: Rect) {
    let _ = write!(
        svg,
        r##"<g class="external"><rect x="{}" y="{}" width="{}" height="{ITEM_H}" rx="23" fill="#fff" stroke="#222" stroke-width="1.5"/><text x="{}" y="{}" text-anchor="middle" font-weight="600">Internet</text></g>"##,
        at.x,
        at.y,
        at.w,
        at.x + at.w / 2.0,
        at.y + 28.0
    );
}

/// The VPC frame with its zone labels and subnet rows.
fn draw_vpc(svg: &mut String, layout: &Layout, priced: &HashSet<ResourceKey>) {
    let Frame { x: vpc_x, y: vpc_y, w: vpc_w, h: vpc_h } = layout.vpc;
    let _ = write!(
        svg,
        r##"<g class="vpc"><rect x="{vpc_x}" y="{vpc_y}" width="{vpc_w}" height="{vpc_h}" fill="none" stroke="#222" stroke-width="2"/><text x="{}" y="{}" font-weight="700">VPC 10.0.0.0/16</text>"##,
        vpc_x + GAP,
        vpc_y + 20.0
    );
    draw_zone_labels(svg, &layout.zones, vpc_y);
    for row in &layout.rows {
        draw_subnet_row(svg, row, priced);
    }
    svg.push_str("</g>");
}

fn draw_zone_labels(svg: &mut String, zones: &[ZoneColumn], vpc_y: f64) {
    for zone in zones {
        let _ = write!(
            svg,
            r##"<text x="{}" y="{}" font-weight="600" class="az">Availability zone {}{}</text>"##,
            zone.x,
            vpc_y + 44.0,
            esc(&zone.name),
            if zone.used { "" } else { " (standby only)" }
        );
    }
}

/// The row's subnets, the boxes in them, then the load balancers over them.
fn draw_subnet_row(svg: &mut String, row: &SubnetRow, priced: &HashSet<ResourceKey>) {
    for cell in &row.cells {
        draw_subnet(svg, row, cell);
        for placed in &cell.items {
            item_svg(svg, priced, placed);
        }
    }
    for placed in &row.spanning {
        item_svg(svg, priced, placed);
    }
}

/// A subnet's frame, or a dashed one saying the zone has no subnet of this tier.
fn draw_subnet(svg: &mut String, row: &SubnetRow, cell: &SubnetCell) {
    let (x, y, h) = (cell.x, row.y, row.h);
    match &cell.subnet {
        Some(subnet) => {
            let _ = write!(
                svg,
                r##"<g class="subnet" data-resource="{}"><rect x="{x}" y="{y}" width="{COL_W}" height="{h}" fill="#f7f7f7" stroke="#555"/><text x="{}" y="{}">{} · {}</text></g>"##,
                esc(&subnet.logical_id),
                x + 8.0,
                y + 18.0,
                row.label,
                esc(&subnet.logical_id)
            );
        }
        None => {
            let _ = write!(
                svg,
                r##"<g class="subnet absent"><rect x="{x}" y="{y}" width="{COL_W}" height="{h}" fill="none" stroke="#999" stroke-dasharray="4 4"/><text x="{}" y="{}" fill="#555">No {} in this zone</text></g>"##,
                x + 8.0,
                y + 18.0,
                row.label.to_lowercase()
            );
        }
    }
}

fn draw_managed(svg: &mut String, panel: &Frame, managed: &[Placed], priced: &HashSet<ResourceKey>) {
    let Frame { x: panel_x, y: panel_y, w: panel_w, h: panel_h } = *panel;
    let _ = write!(
        svg,
        r##"<g class="managed"><rect x="{panel_x}" y="{panel_y}" width="{panel_w}" height="{panel_h}" fill="none" stroke="#222" stroke-dasharray="8 3"/><text x="{}" y="{}" font-weight="700">Managed services</text>"##,
        panel_x + GAP,
        panel_y + 20.0
    );
    for placed in managed {
        item_svg(svg, priced, placed);
    }
    svg.push_str("</g>");
}

fn draw_request_path(svg: &mut String, arrows: &[Arrow]) {
    svg.push_str(r#"<g class="request-path">"#);
    for &Arrow { x1, y1, x2, y2 } in arrows {
        let _ = write!(
            svg,
            r##"<line x1="{x1:.1}" y1="{y1:.1}" x2="{x2:.1}" y2="{y2:.1}" stroke="#222" stroke-width="2" marker-end="url(#arrow)"/>"##
        );
    }
    svg.push_str("</g>");
}

fn item_svg(svg: &mut String, priced: &HashSet<ResourceKey>, placed: &Placed) {
    let (item, Rect { x, y, w }) = (&placed.item, placed.at);
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
