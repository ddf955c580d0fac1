//! The second step: coordinates for every frame, box and arrow.

use std::collections::HashMap;

use crate::value::ResourceKey;

use super::contents::*;
use super::*;

// Layout, second half: coordinates for every frame, box and arrow.

/// A box's left edge, top edge and width; every box is `ITEM_H` tall.
#[derive(Clone, Copy)]
pub(super) struct Rect {
    pub(super) x: f64,
    pub(super) y: f64,
    pub(super) w: f64,
}

/// An outlined area: the VPC or the managed-services panel.
pub(super) struct Frame {
    pub(super) x: f64,
    pub(super) y: f64,
    pub(super) w: f64,
    pub(super) h: f64,
}

pub(super) struct Placed {
    pub(super) item: Item,
    pub(super) at: Rect,
}

pub(super) struct ZoneColumn {
    pub(super) name: String,
    pub(super) x: f64,
    /// False when no row of the zone holds a box; its label then says "standby only".
    pub(super) used: bool,
}

/// One subnet tier across all zones.
pub(super) struct SubnetRow {
    pub(super) label: &'static str,
    pub(super) y: f64,
    pub(super) h: f64,
    pub(super) cells: Vec<SubnetCell>,
    /// Load balancers, each spanning the zone columns of its subnets; only the public row has them.
    pub(super) spanning: Vec<Placed>,
}

pub(super) struct SubnetCell {
    pub(super) x: f64,
    pub(super) subnet: Option<ResourceKey>,
    pub(super) items: Vec<Placed>,
}

pub(super) struct Arrow {
    pub(super) x1: f64,
    pub(super) y1: f64,
    pub(super) x2: f64,
    pub(super) y2: f64,
}

/// Where everything goes; drawing adds only text offsets inside frames and boxes.
pub(super) struct Layout {
    pub(super) width: f64,
    pub(super) height: f64,
    pub(super) internet: Rect,
    pub(super) cloudfront: Option<Placed>,
    pub(super) vpc: Frame,
    pub(super) zones: Vec<ZoneColumn>,
    pub(super) rows: Vec<SubnetRow>,
    pub(super) managed_panel: Frame,
    pub(super) managed: Vec<Placed>,
    pub(super) request_path: Vec<Arrow>,
}

impl Layout {
    pub(super) fn new(c: Contents) -> Layout {
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

pub(super) fn column_x(vpc: &Frame, column: usize) -> f64 {
    vpc.x + GAP + column as f64 * (COL_W + GAP)
}

/// Each row is as tall as its fullest cell; the public row also makes room for the load balancers.
pub(super) fn row_heights(cells: &[Vec<Cell>], per_line: usize, has_albs: bool) -> Vec<f64> {
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
pub(super) fn place_rows(
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
pub(super) fn place_albs(
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
pub(super) fn request_path(
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
pub(super) fn arrow(a: Rect, b: Rect) -> Arrow {
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
