-- An adopt request: a deployment that may take over the environment's stacks that carry no portal's
-- tags (made by hand, or by a portal version before stacks were tagged), tagging them as this
-- portal's. Approved like any deployment; its approvers see the change sets for those stacks.
ALTER TABLE deployment_requests ADD COLUMN adopt BIGINT NOT NULL DEFAULT 0;
