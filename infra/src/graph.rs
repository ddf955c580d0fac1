//! Which phases need which: phase B needs phase A when B imports one of A's exports (as evaluated
//! for the deployment, so a condition that drops an import drops the edge). No hand-kept list:
//! change an import in a template and the graph follows. The rollout engine may start every phase
//! whose needs are done, and tears down in the reverse order.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::catalog::Evaluation;
use crate::phase::Phase;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PhaseGraph {
    needs: BTreeMap<Phase, BTreeSet<Phase>>,
}

impl PhaseGraph {
    pub fn of(evaluation: &Evaluation) -> PhaseGraph {
        let exporter: BTreeMap<&str, Phase> = evaluation
            .phases
            .iter()
            .flat_map(|p| p.outputs.iter().filter_map(move |o| o.export_name.as_deref().map(|n| (n, p.phase))))
            .collect();
        let needs = evaluation
            .phases
            .iter()
            .map(|p| {
                let from: BTreeSet<Phase> = p
                    .imports
                    .iter()
                    .filter_map(|name| exporter.get(name.as_str()).copied())
                    .filter(|a| *a != p.phase)
                    .collect();
                (p.phase, from)
            })
            .collect();
        PhaseGraph { needs }
    }

    pub fn phases(&self) -> impl Iterator<Item = Phase> + '_ {
        self.needs.keys().copied()
    }

    /// The phases `phase` imports from directly.
    pub fn needs(&self, phase: Phase) -> BTreeSet<Phase> {
        self.needs.get(&phase).cloned().unwrap_or_default()
    }

    /// The phases `phase` imports from, directly or through others.
    pub fn needs_all(&self, phase: Phase) -> BTreeSet<Phase> {
        let mut out = BTreeSet::new();
        let mut frontier = vec![phase];
        while let Some(p) = frontier.pop() {
            for n in self.needs(p) {
                if out.insert(n) {
                    frontier.push(n);
                }
            }
        }
        out
    }

    /// The phases that import from `phase`, directly or through others.
    pub fn dependents(&self, phase: Phase) -> BTreeSet<Phase> {
        let mut out = BTreeSet::new();
        let mut frontier = vec![phase];
        while let Some(p) = frontier.pop() {
            for (q, needs) in &self.needs {
                if needs.contains(&p) && out.insert(*q) {
                    frontier.push(*q);
                }
            }
        }
        out
    }

    /// The phases not yet `done` whose needs all are, in phase order: what may run now.
    pub fn ready(&self, done: &BTreeSet<Phase>) -> Vec<Phase> {
        self.needs.iter().filter(|(p, needs)| !done.contains(p) && needs.is_subset(done)).map(|(p, _)| *p).collect()
    }

    /// For a teardown: the phases not yet `deleted` that no remaining phase imports from.
    pub fn ready_to_delete(&self, deleted: &BTreeSet<Phase>) -> Vec<Phase> {
        self.phases()
            .filter(|p| !deleted.contains(p))
            .filter(|p| self.needs.iter().all(|(q, needs)| deleted.contains(q) || !needs.contains(p)))
            .collect()
    }

    /// Phases that can run side by side: each wave needs only earlier waves.
    pub fn waves(&self) -> Vec<Vec<Phase>> {
        let mut done = BTreeSet::new();
        let mut waves = Vec::new();
        loop {
            let wave = self.ready(&done);
            if wave.is_empty() {
                return waves;
            }
            done.extend(wave.iter().copied());
            waves.push(wave);
        }
    }

    /// The longest chain of needs, first phase first: what a rollout cannot go faster than.
    pub fn critical_path(&self) -> Vec<Phase> {
        let mut longest: BTreeMap<Phase, Vec<Phase>> = BTreeMap::new();
        for wave in self.waves() {
            for p in wave {
                let mut path = self
                    .needs(p)
                    .iter()
                    .filter_map(|n| longest.get(n))
                    .max_by_key(|path| path.len())
                    .cloned()
                    .unwrap_or_default();
                path.push(p);
                longest.insert(p, path);
            }
        }
        longest.into_values().max_by_key(Vec::len).unwrap_or_default()
    }
}
