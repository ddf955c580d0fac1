//! The third step: SVG text from the layout, in painting order.

use std::collections::HashSet;
use std::fmt::Write;

use crate::value::ResourceKey;

use super::layout::*;
use super::*;

// Drawing: SVG text from the layout, in painting order.

pub(super) fn draw(layout: &Layout, title: &str, desc: &str, priced: &HashSet<ResourceKey>, hops: &[Hop]) -> String {
    let mut svg = String::new();
    draw_header(&mut svg, layout, title, desc);
    draw_internet(&mut svg, layout.internet);
    if let Some(cloudfront) = &layout.cloudfront {
        item_svg(&mut svg, priced, cloudfront);
    }
    draw_vpc(&mut svg, layout, priced);
    draw_managed(&mut svg, &layout.managed_panel, &layout.managed, priced);
    draw_request_path(&mut svg, &layout.request_path, hops);
    svg.push_str("</svg>");
    svg
}

/// The root element, title, description and the arrowhead marker.
pub(super) fn draw_header(svg: &mut String, layout: &Layout, title: &str, desc: &str) {
    let (width, height) = (layout.width, layout.height);
    let _ = write!(
        svg,
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="group" aria-labelledby="diagram-title" aria-describedby="diagram-desc" class="architecture-diagram" font-family="system-ui, sans-serif" font-size="12">"##
    );
    let _ =
        write!(svg, r#"<title id="diagram-title">{}</title><desc id="diagram-desc">{}</desc>"#, esc(title), esc(desc));
    svg.push_str(r##"<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#222"/></marker></defs>"##);
}

pub(super) fn draw_internet(svg: &mut String, at: Rect) {
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
pub(super) fn draw_vpc(svg: &mut String, layout: &Layout, priced: &HashSet<ResourceKey>) {
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

pub(super) fn draw_zone_labels(svg: &mut String, zones: &[ZoneColumn], vpc_y: f64) {
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
pub(super) fn draw_subnet_row(svg: &mut String, row: &SubnetRow, priced: &HashSet<ResourceKey>) {
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
pub(super) fn draw_subnet(svg: &mut String, row: &SubnetRow, cell: &SubnetCell) {
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

pub(super) fn draw_managed(svg: &mut String, panel: &Frame, managed: &[Placed], priced: &HashSet<ResourceKey>) {
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

/// The arrows; those of the request path's hops carry the protocol as text, and a plain HTTP
/// hop over the internet is dashed as well, so the marking does not depend on colour.
pub(super) fn draw_request_path(svg: &mut String, arrows: &[Arrow], hops: &[Hop]) {
    svg.push_str(r#"<g class="request-path">"#);
    for (i, &Arrow { x1, y1, x2, y2 }) in arrows.iter().enumerate() {
        let hop = hops.get(i);
        let risk = hop.is_some_and(Hop::is_risk);
        let (stroke, dash) = if risk { ("#b00020", r#" stroke-dasharray="7 4""#) } else { ("#222", "") };
        match hop {
            Some(hop) => {
                let label = hop_label(hop);
                let _ = write!(
                    svg,
                    r#"<g class="hop" data-protocol="{}" data-risk="{risk}"><title>{} → {}: {}</title>"#,
                    hop.protocol.label().to_ascii_lowercase(),
                    esc(hop.from),
                    esc(hop.to),
                    esc(&label)
                );
                let _ = write!(
                    svg,
                    r##"<line x1="{x1:.1}" y1="{y1:.1}" x2="{x2:.1}" y2="{y2:.1}" stroke="{stroke}" stroke-width="2"{dash} marker-end="url(#arrow)"/>"##
                );
                // The label sits beside the arrow's middle, on a white ground so lines do not cross it.
                let text = if risk { format!("{} ⚠", hop.protocol.label()) } else { hop.protocol.label().to_owned() };
                let (mx, my) = ((x1 + x2) / 2.0 + 6.0, (y1 + y2) / 2.0 - 4.0);
                let width = 7.5 * text.chars().count() as f64 + 6.0;
                let _ = write!(
                    svg,
                    r##"<rect x="{:.1}" y="{:.1}" width="{width:.1}" height="15" fill="#fff" opacity="0.9"/><text x="{:.1}" y="{my:.1}" font-size="11" font-weight="600" fill="{stroke}">{}</text></g>"##,
                    mx - 3.0,
                    my - 11.0,
                    mx,
                    esc(&text)
                );
            }
            None => {
                let _ = write!(
                    svg,
                    r##"<line x1="{x1:.1}" y1="{y1:.1}" x2="{x2:.1}" y2="{y2:.1}" stroke="#222" stroke-width="2" marker-end="url(#arrow)"/>"##
                );
            }
        }
    }
    svg.push_str("</g>");
}

pub(super) fn item_svg(svg: &mut String, priced: &HashSet<ResourceKey>, placed: &Placed) {
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

pub(super) fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max || max < 2 {
        s.to_owned()
    } else {
        let mut out: String = s.chars().take(max - 1).collect();
        out.push('…');
        out
    }
}
