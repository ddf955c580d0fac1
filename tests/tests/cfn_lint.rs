//! cfn-lint, the CloudFormation linter, finds no error in any rendered template of any tier.

use std::process::Command;

use infra::{Catalog, DeploymentSpec, EnvironmentName, Region, ServiceOption, TierId};
use portal_tests::required_tool;

#[test]
fn rendered_templates_have_no_cfn_lint_errors() {
    let cfn_lint = required_tool("CFN_LINT");
    let catalog = Catalog::embedded().expect("catalog");
    let dir = tempfile::tempdir().expect("tempdir");
    let mut files = Vec::new();
    let all_options = ServiceOption::ALL.into_iter().collect();
    let specs = TierId::ALL.into_iter().map(|t| (t, catalog.tier(t).default_options.clone(), None)).chain([(
        TierId::FullProduction,
        all_options,
        Some(infra::DomainName::parse("concerts.example.com").expect("domain")),
    )]);
    for (i, (tier, options, domain)) in specs.enumerate() {
        let spec = DeploymentSpec {
            tier,
            environment: EnvironmentName::parse("lint-env").expect("name"),
            region: Region::US_EAST_1,
            options,
            domain_name: domain,
        };
        for phase in infra::render::render(&catalog, &spec).expect("renders") {
            // cfn-lint checks a template against the values it would be deployed with.
            let path = dir.path().join(format!("{i}-{}", phase.template_file));
            std::fs::write(&path, &phase.template_body).expect("write");
            let params: Vec<String> = phase.parameters.iter().map(|(k, v)| format!("{k}={v}")).collect();
            files.push((path, params));
        }
    }
    let mut failures = Vec::new();
    for (path, params) in &files {
        let out = Command::new(&cfn_lint)
            .arg("--format")
            .arg("parseable")
            .arg("--parameters")
            .args(params)
            .arg("--")
            .arg(path)
            .output()
            .expect("cfn-lint runs");
        let text = String::from_utf8_lossy(&out.stdout);
        // Parseable lines look like `file:line:col:line:col:E3012:message`; E is an error.
        let errors: Vec<&str> =
            text.lines().filter(|l| l.split(':').nth(5).is_some_and(|c| c.starts_with('E'))).collect();
        if !errors.is_empty() || out.status.code() == Some(1) {
            failures.push(format!("{}:\n{}\n{}", path.display(), text, String::from_utf8_lossy(&out.stderr)));
        }
    }
    assert!(failures.is_empty(), "cfn-lint errors:\n{}", failures.join("\n"));
    assert_eq!(files.len(), 24);
}
