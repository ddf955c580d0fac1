//! The sandbox launcher's fixes to moto (tools/sandbox/moto_server.py) hold: its own check, with
//! boto3, of change-set exports, CloudFront in CloudFormation, failed resources rolling back,
//! network stacks deleting, and parameter-only updates listing their changes.

use std::process::Command;

use portal_tests::{repo_root, required_tool};

#[test]
fn the_sandbox_launcher_passes_its_checks() {
    let python = required_tool("PORTAL_PYTHON");
    let out = Command::new(python)
        .arg(repo_root().join("tools/sandbox/check_launcher.py"))
        .output()
        .expect("check_launcher.py runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("launcher check: passed"), "{stdout}");
    assert!(!stdout.lines().any(|l| l.starts_with("FAIL")), "{stdout}");
}
