//! Deployable output: each phase's template exactly as reviewed, with the
//! parameter values of one deployment.

use serde::Serialize;

use crate::catalog::Catalog;
use crate::domain::DeploymentSpec;
use crate::error::Result;
use crate::phase::Phase;

#[derive(Debug, Clone, Serialize)]
pub struct RenderedPhase {
    pub phase: Phase,
    pub stack_name: String,
    pub template_file: String,
    pub template_body: String,
    /// Only the parameters this template declares, in its order.
    pub parameters: Vec<(String, String)>,
}

impl RenderedPhase {
    /// The parameter file format of `aws cloudformation create-stack --parameters file://…`.
    pub fn parameter_file(&self) -> String {
        let entries: Vec<serde_json::Value> = self
            .parameters
            .iter()
            .map(|(k, v)| serde_json::json!({ "ParameterKey": k, "ParameterValue": v }))
            .collect();
        serde_json::to_string_pretty(&entries).unwrap_or_else(|_| "[]".to_owned())
    }

    pub fn parameter_file_name(&self) -> String {
        format!("{}-{}.parameters.json", self.phase.number(), self.phase.slug())
    }
}

/// Renders all six phases; evaluates first, so nothing invalid is ever handed to CloudFormation.
pub fn render(catalog: &Catalog, spec: &DeploymentSpec) -> Result<Vec<RenderedPhase>> {
    let evaluation = catalog.evaluate(spec)?;
    Ok(catalog
        .templates
        .iter()
        .zip(&evaluation.phases)
        .zip(&catalog.sources.templates)
        .map(|((template, evaluated), (file, text))| RenderedPhase {
            phase: template.phase,
            stack_name: evaluated.stack_name.clone(),
            template_file: file.clone(),
            template_body: text.clone(),
            parameters: evaluated.parameters.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        })
        .collect())
}
