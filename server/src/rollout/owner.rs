//! Which stacks are this portal's: the tags it puts on every stack it creates, and what it refuses
//! to change or delete (a stack another portal or a person made, unless an adoption was approved).

use crate::rollout::aws::StackState;

/// The tags that make a stack this portal's: the portal changes and deletes only stacks that carry
/// its instance and the environment's name; a stack of the same name made by anyone else is left
/// alone and the phase fails saying so.
pub(crate) struct StackOwner {
    instance: String,
    environment: String,
    pub(crate) tags: Vec<(String, String)>,
    /// An approved adoption: a stack that carries no portal's tags is taken over (and tagged).
    adopting: bool,
}

impl StackOwner {
    pub fn new(instance: &str, job: &crate::rollout::store::Job) -> StackOwner {
        let tags = vec![
            ("portal:instance".to_owned(), instance.to_owned()),
            ("portal:environment".to_owned(), job.environment.as_str().to_owned()),
            ("portal:request".to_owned(), job.request_id.to_string()),
        ];
        StackOwner {
            instance: instance.to_owned(),
            environment: job.environment.as_str().to_owned(),
            tags,
            adopting: job.adopt,
        }
    }

    pub(crate) fn owns(&self, stack: &StackState) -> bool {
        let has = |key: &str, value: &str| stack.tags.iter().any(|(k, v)| k == key && v == value);
        has("portal:instance", &self.instance) && has("portal:environment", &self.environment)
    }

    /// Why the portal will not change `stack`, or `None` when it may: it owns it, or an approved
    /// adoption takes over a stack no portal tagged. A stack another portal instance tagged is
    /// never taken over.
    pub(crate) fn refuses_change(&self, name: &str, stack: &StackState) -> Option<String> {
        if self.owns(stack) {
            return None;
        }
        let other = stack.tags.iter().find(|(k, _)| k == "portal:instance").map(|(_, v)| v.as_str());
        match (self.adopting, other) {
            (true, None) => None,
            (true, Some(other)) => Some(format!(
                "stack {name} belongs to another portal (portal:instance={other}); an adoption takes over only \
                 stacks no portal tagged"
            )),
            (false, _) => Some(format!("{}; an adopt request can take it over", self.foreign(name, "changes"))),
        }
    }

    /// Why the portal will not touch `stack`.
    pub(crate) fn foreign(&self, name: &str, doing: &str) -> String {
        format!(
            "stack {name} exists but was not created by this portal (it lacks the tags portal:instance={} and \
             portal:environment={}); the portal {doing} only stacks it owns",
            self.instance, self.environment
        )
    }
}
