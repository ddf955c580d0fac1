//! The policy gate: checkov finds no failed check in the templates of any tier with any
//! combination of options, with and without a domain; every check a template skips says why,
//! and names a check that checkov ran (a skip that no longer matches anything is stale).

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use infra::{Catalog, DeploymentSpec, EnvironmentName, OptionSet, Region, ServiceOption, TierId};
use portal_tests::required_tool;

/// Every subset of the optional services.
fn option_sets() -> Vec<OptionSet> {
    let all = ServiceOption::ALL;
    (0..1u32 << all.len())
        .map(|mask| all.iter().enumerate().filter(|(i, _)| mask & (1 << i) != 0).map(|(_, o)| *o).collect())
        .collect()
}

#[test]
fn every_tier_and_option_combination_passes_checkov() {
    let checkov = required_tool("CHECKOV");
    let catalog = Catalog::embedded().expect("catalog");
    let dir = tempfile::tempdir().expect("tempdir");

    // The same phase often comes out identical for many combinations: each distinct text is
    // checked once, under a name that says which deployments it stands for.
    let mut distinct: BTreeMap<String, (String, usize)> = BTreeMap::new();
    let mut deployments = 0;
    for tier in TierId::ALL {
        for options in option_sets() {
            for domain in [None, Some("concerts.example.com")] {
                let spec = DeploymentSpec {
                    tier,
                    environment: EnvironmentName::parse("gate-env").expect("name"),
                    region: Region::US_EAST_1,
                    options: options.clone(),
                    domain_name: domain.map(|d| infra::DomainName::parse(d).expect("domain")),
                };
                deployments += 1;
                for (phase, doc) in catalog.specialize(&spec).expect("specializes") {
                    let text = serde_json::to_string_pretty(&doc).expect("json");
                    let label = format!(
                        "{}-{}-{}{}",
                        phase.number(),
                        tier.as_str(),
                        options.iter().map(|o| o.as_str()).collect::<Vec<_>>().join("+"),
                        if domain.is_some() { "-domain" } else { "" }
                    );
                    distinct.entry(text).or_insert((label, 0)).1 += 1;
                }
            }
        }
    }
    assert_eq!(deployments, 3 * 32 * 2);
    for (i, (text, (label, _))) in distinct.iter().enumerate() {
        std::fs::write(dir.path().join(format!("{i:03}-{label}.json")), text).expect("write");
    }

    let out = Command::new(&checkov)
        // Not --quiet: that leaves the passed and skipped checks out of the report.
        .args(["--framework", "cloudformation", "--output", "json", "--compact", "--skip-download"])
        .arg("--directory")
        .arg(dir.path())
        .env("BC_SKIP_MAPPING", "TRUE")
        .output()
        .expect("checkov runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!("checkov output is not JSON ({e}):\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr))
    });
    // One report per framework, or the report itself when there is one.
    let results = match &report {
        serde_json::Value::Array(reports) => reports.iter().map(|r| &r["results"]).collect::<Vec<_>>(),
        single => vec![&single["results"]],
    };
    let list = |kind: &str| -> Vec<&serde_json::Value> {
        results.iter().flat_map(|r| r[kind].as_array().into_iter().flatten()).collect()
    };
    let passed = list("passed_checks");
    let failed = list("failed_checks");
    let skipped = list("skipped_checks");

    let describe = |c: &serde_json::Value| {
        format!(
            "{} {} on {} in {}",
            c["check_id"].as_str().unwrap_or("?"),
            c["check_name"].as_str().unwrap_or("?"),
            c["resource"].as_str().unwrap_or("?"),
            c["file_path"].as_str().unwrap_or("?")
        )
    };
    let errors = list("parsing_errors");
    assert!(errors.is_empty(), "checkov could not parse: {errors:?}");
    let failures: Vec<String> = failed.iter().map(|c| describe(c)).collect();
    assert!(failures.is_empty(), "checkov failed {} checks:\n{}", failures.len(), failures.join("\n"));
    assert!(passed.len() > 500, "checkov passed only {} checks: did it read the templates?", passed.len());

    let unexplained: Vec<String> = skipped
        .iter()
        .filter(|c| c["check_result"]["suppress_comment"].as_str().is_none_or(|s| s.trim().is_empty()))
        .map(|c| describe(c))
        .collect();
    assert!(unexplained.is_empty(), "skips without a reason:\n{}", unexplained.join("\n"));

    // Every skip written in a template waived a check checkov actually ran on that resource.
    let ran: BTreeSet<(String, String)> = skipped
        .iter()
        .map(|c| {
            let resource = c["resource"].as_str().unwrap_or("").rsplit('.').next().unwrap_or("").to_owned();
            (resource, c["check_id"].as_str().unwrap_or("").to_owned())
        })
        .collect();
    let mut stale = Vec::new();
    for template in &catalog.templates {
        for (id, decl) in &template.resources {
            for risk in &decl.accepted_risks {
                if !ran.contains(&(id.clone(), risk.check.clone())) {
                    stale.push(format!("{}: {id} skips {}, which checkov never ran there", template.file, risk.check));
                }
            }
        }
    }
    assert!(stale.is_empty(), "stale skips:\n{}", stale.join("\n"));
    eprintln!(
        "checkov: {} distinct templates of {deployments} deployments: {} passed, {} skipped with reasons, 0 failed",
        distinct.len(),
        passed.len(),
        skipped.len()
    );
}
