//! The `portal` binary's offline commands, run as a user would.

use std::process::{Command, Output};

fn portal(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_portal")).args(args).output().expect("portal runs")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn cost_as_json_has_tier_total_and_lines() {
    for tier in ["development", "production-lite", "full-production"] {
        let out = portal(&["cost", "--tier", tier, "--format", "json"]);
        assert!(out.status.success(), "{}", stderr(&out));
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        assert_eq!(json["tier"], tier);
        let total = json["monthly_usd"].as_f64().expect("monthly_usd");
        let lines = json["lines"].as_array().expect("lines");
        let sum: f64 = lines.iter().filter_map(|l| l["monthly_usd"].as_f64()).sum();
        assert!((sum - total).abs() < 0.02, "{tier}: {sum} vs {total}");
        for l in lines {
            for key in ["service", "resource", "phase", "monthly_usd"] {
                assert!(!l[key].is_null(), "{tier}: line without {key}: {l}");
            }
        }
    }
}

/// `--range`: low, typical and high on every line and in total; low ≤ typical ≤ high, the lines
/// sum to the total at each point, and typical is the monthly figure.
#[test]
fn cost_with_range_has_low_typical_and_high() {
    for tier in ["development", "production-lite", "full-production"] {
        let out = portal(&["cost", "--tier", tier, "--range", "--format", "json"]);
        assert!(out.status.success(), "{}", stderr(&out));
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        let point =
            |v: &serde_json::Value, key: &str| v[key].as_f64().unwrap_or_else(|| panic!("{tier}: no {key} in {v}"));
        let total = &json["total"];
        let (low, typical, high) = (point(total, "low"), point(total, "typical"), point(total, "high"));
        assert!(low < typical && typical < high, "{tier}: {total}");
        assert_eq!(typical, point(&json, "monthly_usd"));
        let lines = json["lines"].as_array().expect("lines");
        for key in ["low", "typical", "high"] {
            let sum: f64 = lines.iter().map(|l| point(l, key)).sum();
            assert!((sum - point(total, key)).abs() < 0.02, "{tier} {key}: {sum} vs {total}");
        }
        for l in lines {
            assert!(point(l, "low") <= point(l, "typical") && point(l, "typical") <= point(l, "high"), "{l}");
            assert_eq!(point(l, "typical"), point(l, "monthly_usd"));
        }
    }
    let table = stdout(&portal(&["cost", "--tier", "development", "--range"]));
    assert!(table.contains("LOW") && table.contains("HIGH") && table.contains("(low $"), "{table}");
}

#[test]
fn cost_is_priced_with_the_model_asked_for() {
    let monthly = |pricing: &str| -> f64 {
        let out = portal(&["cost", "--tier", "production-lite", "--pricing", pricing, "--format", "json"]);
        assert!(out.status.success(), "{}", stderr(&out));
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        assert_eq!(json["pricing"], pricing);
        json["monthly_usd"].as_f64().expect("total")
    };
    let (on_demand, reserved, plan) = (monthly("on-demand"), monthly("reserved"), monthly("savings-plan"));
    assert!(reserved < plan && plan < on_demand, "{reserved} < {plan} < {on_demand}");
    let out = portal(&["cost", "--tier", "production-lite", "--pricing", "spot"]);
    assert!(!out.status.success() && stderr(&out).contains("on-demand, reserved or savings-plan"), "{}", stderr(&out));
}

#[test]
fn cost_table_ends_with_totals() {
    let out = portal(&["cost", "--tier", "full-production"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("NAT Gateway") && text.contains("Monthly $"), "{text}");
}

#[test]
fn a_usage_file_changes_the_cost() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("usage.toml");
    std::fs::write(&file, "viewer_transfer_gb = 3072\n").expect("write");
    let json = |args: &[&str]| -> f64 {
        let out = portal(args);
        assert!(out.status.success(), "{}", stderr(&out));
        serde_json::from_slice::<serde_json::Value>(&out.stdout).expect("json")["monthly_usd"].as_f64().expect("total")
    };
    let base = json(&["cost", "--tier", "full-production", "--format", "json"]);
    let path = file.display().to_string();
    let more = json(&["cost", "--tier", "full-production", "--format", "json", "--usage", &path]);
    // 2 TB more through CloudFront at $0.085/GB, and the origin's 10% of it through the load
    // balancer at 1 GB an hour per capacity unit ($0.008 per LCU-hour).
    assert!((more - base - 2048.0 * 0.085 - 2048.0 * 0.1 * 0.008).abs() < 0.02, "{base} → {more}");
}

#[test]
fn bad_input_exits_non_zero_with_a_clear_message() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bad_usage = dir.path().join("bad.toml");
    std::fs::write(&bad_usage, "cloudfront_gigabytes = 3\n").expect("write");
    let bad = bad_usage.display().to_string();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["cost", "--tier", "platinum"], "unknown tier `platinum`"),
        (vec!["diagram", "--tier", "platinum"], "unknown tier `platinum`"),
        (vec!["cost", "--tier", "development", "--usage", &bad], "cloudfront_gigabytes"),
        (vec!["cost", "--tier", "development", "--usage", "/no/such/file.toml"], "/no/such/file.toml"),
        (vec!["cost", "--tier", "development", "--options", "warp_drive"], "unknown option `warp_drive`"),
        (
            vec!["templates", "render", "--tier", "development", "--out", "/tmp/x", "--environment", "Bad_Name"],
            "invalid environment name",
        ),
    ];
    for (args, expected) in cases {
        let out = portal(&args);
        assert!(!out.status.success(), "{args:?} succeeded");
        let err = stderr(&out);
        assert!(err.contains(expected), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?} panicked: {err}");
    }
}

#[test]
fn diagram_prints_svg() {
    let out = portal(&["diagram", "--tier", "production-lite"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let svg = stdout(&out);
    assert!(svg.starts_with("<svg") && svg.contains("Production Lite architecture"));
}

#[test]
fn templates_render_writes_templates_and_parameter_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out_dir = dir.path().join("out");
    let out = portal(&[
        "templates",
        "render",
        "--tier",
        "full-production",
        "--out",
        &out_dir.display().to_string(),
        "--environment",
        "concert-prod",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    for (n, slug) in [(1, "network"), (2, "data"), (3, "compute"), (4, "auth"), (5, "cdn"), (6, "serverless")] {
        let template = out_dir.join(format!("{n}-{slug}.yaml"));
        assert!(template.exists(), "{}", template.display());
        let params: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(out_dir.join(format!("{n}-{slug}.parameters.json"))).expect("params"),
        )
        .expect("json");
        let env = params
            .as_array()
            .expect("list")
            .iter()
            .find(|p| p["ParameterKey"] == "EnvironmentName")
            .expect("EnvironmentName");
        assert_eq!(env["ParameterValue"], "concert-prod");
    }
}

fn portal_with_stdin(args: &[&str], env: &[(&str, &str)], stdin: &str) -> Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_portal"))
        .args(args)
        .envs(env.iter().copied())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("portal runs");
    if let Some(mut input) = child.stdin.take() {
        input.write_all(stdin.as_bytes()).expect("stdin");
    }
    child.wait_with_output().expect("portal finishes")
}

#[test]
fn user_add_prints_the_token_alone_on_its_last_line_and_audit_verify_passes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("p.db").display());
    let env = [("DATABASE_URL", url.as_str())];
    let out = portal_with_stdin(
        &["user", "add", "first-admin", "--role", "admin", "--role", "approver", "--token"],
        &env,
        "correct horse battery staple\n",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let last = text.trim_end().lines().last().unwrap_or_default();
    assert!(last.starts_with("cpp_") && last.len() == 68 && !last.contains(' '), "{text}");

    // No default password: without one on stdin, the user is refused.
    let out = portal_with_stdin(&["user", "add", "second", "--role", "viewer"], &env, "");
    assert!(!out.status.success());
    assert!(stderr(&out).contains("no password"), "{}", stderr(&out));
    let out = portal_with_stdin(&["user", "add", "third", "--role", "pilot"], &env, "long enough password\n");
    assert!(!out.status.success() && stderr(&out).contains("unknown role `pilot`"));
    let out = portal_with_stdin(&["user", "add", "first-admin", "--role", "viewer"], &env, "long enough password\n");
    assert!(!out.status.success() && stderr(&out).contains("already exists"));

    let out = portal_with_stdin(&["audit", "verify"], &env, "");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("intact: 1 entries"), "{}", stdout(&out));
}

#[test]
fn serve_refuses_a_bad_policy_file_before_listening() {
    let dir = tempfile::tempdir().expect("tempdir");
    let policy = dir.path().join("policy.toml");
    std::fs::write(
        &policy,
        "expires_after_hours = 72\nextra_approval_over_monthly_usd = 1000.0\n[approvals]\ndevelopment = 0\n",
    )
    .expect("write");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("p.db").display());
    let out = Command::new(env!("CARGO_BIN_EXE_portal"))
        .args(["serve", "--addr", "127.0.0.1:0", "--policy", &policy.display().to_string()])
        .env("DATABASE_URL", &url)
        .output()
        .expect("portal runs");
    assert!(!out.status.success());
    assert!(stderr(&out).contains("at least one approver"), "{}", stderr(&out));
    std::fs::write(&policy, "expires_after_hours = 72\nsurprise = 1\n").expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_portal"))
        .args(["serve", "--addr", "127.0.0.1:0", "--policy", &policy.display().to_string()])
        .env("DATABASE_URL", &url)
        .output()
        .expect("portal runs");
    assert!(!out.status.success() && stderr(&out).contains("surprise"), "{}", stderr(&out));
}

#[test]
fn the_shipped_policy_file_is_valid() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../config/approval-policy.toml");
    let policy = server::requests::ApprovalPolicy::load(&path).expect("the shipped policy loads");
    assert_eq!(policy, server::requests::ApprovalPolicy::default());
}
