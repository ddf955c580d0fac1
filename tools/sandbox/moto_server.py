#!/usr/bin/env python3
"""Start moto's AWS server (the local sandbox) with our CloudFormation fixes.

Usage: python tools/sandbox/moto_server.py -H 127.0.0.1 -p PORT   (any other moto.server args pass through)

Why the patch: in moto 5.2.5, CloudFormationBackend.execute_change_set applies the change set's
resources but, unlike create_stack, never builds the stack's Outputs nor registers its Exports in
the region's export table. A stack created by CreateChangeSet(CREATE) also gets a private, empty
export table instead of the region's one. So after deploying with change sets (what the portal
does), DescribeStacks shows no Outputs and a later stack's Fn::ImportValue fails with
"No export named ... found". We wrap execute_change_set to do what create_stack does.

Why the CloudFront models: moto 5.2.5 emulates CloudFront's API (moto/cloudfront) but has no
CloudFormation model for AWS::CloudFront::Distribution or AWS::CloudFront::OriginAccessControl, so
the stack parser skips those resources and any Ref / Fn::GetAtt on them fails ("Fn::GetAtt
references undefined resource Distribution"); infra/templates/5-cdn.yaml needs both. Below they are
registered the way moto registers its own resources (a CloudFormationModel subclass), backed by
moto's CloudFront backend, so the distribution also shows up in the CloudFront API.

Why the failure handling: moto 5.2.5 does not model a failed deployment ("TODO: handle execution
errors and implement rollback"): a resource that cannot be created (its name taken, a bad
property) makes ExecuteChangeSet answer HTTP 500 and leaves the stack CREATE_IN_PROGRESS forever.
CloudFormation instead accepts the execution, records <Resource> CREATE_FAILED with the reason,
rolls back and ends ROLLBACK_COMPLETE (UPDATE_ROLLBACK_COMPLETE for an update). Below,
execute_change_set does the same, so the portal's failure path runs against the sandbox too.

Why the tags: moto 5.2.5 stores the Tags given to CreateChangeSet on the change set but never puts
them on an existing stack when it executes an update; CloudFormation replaces the stack's tags with
the change set's (when it names any). The portal tags a stack it adopts that way, so
execute_change_set below copies them too.

Why the RDS deletion protection: moto 5.2.5's AWS::RDS::DBInstance ignores DeletionProtection
(the API's DeleteDBInstance honours it, CloudFormation's did not) and has no update, so a stack
could not turn it on or off: it is set after every execution below (the portal creates stacks
with change sets too). A failed DeleteStack also made the stack vanish with an HTTP 500,
where CloudFormation keeps it DELETE_FAILED with the reason. Both are fixed below, so the portal's
teardown of a protected database (turn protection off, then delete) runs against the sandbox too.

Why the bucket update: moto 5.2.5 could not update a bucket whose name CloudFormation generated
(KeyError 'BucketName') and ignored versioning added by an update (see _bucket_update).

Why the drift detection: moto 5.2.5 has no DetectStackDrift, DescribeStackDriftDetectionStatus nor
DescribeStackResourceDrifts, and no drift-aware change sets (CreateChangeSet DeploymentMode=
REVERT_DRIFT), which the portal calls to show an environment's drift and put it back. cfn_drift.py
implements them with the real API's shapes: detection compares the template's resolved properties
with moto's backends (security group ingress rules, auto scaling group sizes, bucket tags, SSM
parameter values; other types NOT_CHECKED; see its docstring), a REVERT_DRIFT change set lists each
drifted property (ResourceDriftStatus, Details with the drift) and its execution puts the values back.
The venv's botocore predates drift-aware change sets, so the newer members are added to the API model
moto serializes with (cfn_newer_api.py). Without DeploymentMode nothing changes: the same template is
still "no changes", drift or not.

Why the security group rules: moto 5.2.5 dropped a template's ingress rule naming a prefix list
(1-network.yaml's CloudFront origin-facing rule) or an IPv6 range, and a CidrIp rule's Description;
each rule is authorized with its own source below, so the group is what its template says.

Why the auto scaling group update: moto 5.2.5 replaced the group (a new generated name) on any update;
CloudFormation changes its sizes in place. The portal sleeps and wakes an environment by parameter-
only updates of AsgMinSize / AsgDesiredCapacity: the same group now goes to 0 and back.

Why UsePreviousValue and the parameter comparison: moto 5.2.5 reused an SSM-typed parameter's
resolved value (3-compute.yaml's AmiId: an AMI id looked up again as an SSM name), so every
parameter-only update of the compute stack rolled back; and a parameter given now that was defaulted
before (UsePreviousValue) counted as changed, re-applying every resource referencing it. Both now
compare and reuse the values CloudFormation does (see _stack_parameters, _effective_parameters).

Why the resource listing: moto 5.2.5 answered DescribeStackResource with HTTP 500 on a stack holding a
type it does not model (3-compute.yaml's alarms); those are left out of the resource listings.

Why one execution at a time: moto's backends are not thread-safe (see _serialize_executions).

PORTAL_SANDBOX_LATENCY_MS=N delays every answer by N ms. moto does in milliseconds what takes
CloudFormation minutes; with a little latency a rollout in the sandbox lasts long enough to watch
(the browser tests use it to see phases go by one at a time).

The sandbox must only be reachable from this machine: the host must be a loopback address.
"""

import argparse
import io
import ipaddress
import os
import sys
import threading
import time

from moto.autoscaling.models import FakeAutoScalingGroup, autoscaling_backends
from moto.cloudformation import parsing as cfn_parsing
from moto.cloudformation.exceptions import UnformattedGetAttTemplateException
from moto.cloudformation.models import ChangeSet, CloudFormationBackend, Event, Stack
from moto.cloudfront.models import cloudfront_backends
from moto.ec2.models import ec2_backends
from moto.ec2.models.security_groups import SecurityGroup, SecurityGroupIngress
from moto.s3.models import FakeBucket, s3_backends
from moto.ec2.models.elastic_ip_addresses import ElasticAddress
from moto.ec2.models.internet_gateways import InternetGateway
from moto.ec2.models.nat_gateways import NatGateway
from moto.ec2.models.route_tables import RouteTable
from moto.ec2.models.vpn_gateway import VPCGatewayAttachment
from moto.core.common_models import CloudFormationModel
from moto.server import main as moto_server_main
from moto.utilities.utils import get_partition

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # its sibling modules, however it is started
import cfn_drift  # noqa: E402  (drift detection and drift-aware change sets)

_moto_execute_change_set = CloudFormationBackend.execute_change_set
_moto_resource_getitem = cfn_parsing.ResourceMap.__getitem__

# The first resource whose creation raised during the current execution (moto is threaded).
_failure = threading.local()


def _resource_getitem(self, key):
    try:
        return _moto_resource_getitem(self, key)
    except Exception:
        # Creation recurses through references: the innermost failing resource raises first.
        if getattr(_failure, "logical_id", None) is None and key in getattr(self, "_resource_json_map", {}):
            _failure.logical_id = key
        raise


cfn_parsing.ResourceMap.__getitem__ = _resource_getitem


def _fail_and_roll_back(backend, stack, change_set, exc):
    """What CloudFormation does when a resource fails: event, rollback, terminal ROLLBACK status."""
    # A drift revert names its resource itself (cfn_drift.RevertFailed).
    logical_id = getattr(exc, "logical_id", None) or getattr(_failure, "logical_id", None) or stack.name
    # The change set's template: the stack's own is still the one before this execution.
    resources = (getattr(change_set, "template_dict", None) or {}).get("Resources", {})
    resource_type = resources.get(logical_id, {}).get("Type", "AWS::CloudFormation::Stack")
    reason = getattr(exc, "message", None) or getattr(exc, "description", None) or str(exc) or type(exc).__name__
    creating = change_set.change_set_type == "CREATE"
    action = "CREATE" if creating else "UPDATE"
    stack.events.append(Event(
        stack_id=stack.stack_id, stack_name=stack.name, logical_resource_id=logical_id,
        physical_resource_id="", resource_type=resource_type,
        resource_status=f"{action}_FAILED", resource_status_reason=str(reason),
        resource_properties=None,
    ))
    if creating:
        stack._add_stack_event("ROLLBACK_IN_PROGRESS", resource_status_reason=f"The following resource(s) failed to create: [{logical_id}]. Rollback requested by user.")
        try:
            stack.resource_map.delete()
        except Exception:  # what was half-made stays half-made in moto; the stack still ends rolled back
            pass
        stack._add_stack_event("ROLLBACK_COMPLETE")
        stack.status = "ROLLBACK_COMPLETE"
    else:
        stack._add_stack_event("UPDATE_ROLLBACK_IN_PROGRESS", resource_status_reason=f"The following resource(s) failed to update: [{logical_id}].")
        stack._add_stack_event("UPDATE_ROLLBACK_COMPLETE")
        stack.status = "UPDATE_ROLLBACK_COMPLETE"
    change_set.execution_status = "EXECUTE_FAILED"


def execute_change_set(self, change_set_name, stack_name=None):
    # Same lookup as moto's own (raises ValidationError for an unknown change set).
    change_set = self.describe_change_set(change_set_name)
    stack = self.stacks[change_set.stack_id]
    # create_stack passes the region's export table (self.exports) to the stack; a change-set
    # stack got an empty dict of its own. Share the real one so Fn::ImportValue resolves.
    stack.cross_stack_resources = self.exports
    stack.resource_map.cross_stack_resources = self.exports

    _failure.logical_id = None
    try:
        _moto_execute_change_set(self, change_set_name, stack_name)
    except Exception as exc:  # a resource failed: CloudFormation reports it through the stack, not the call
        _fail_and_roll_back(self, stack, change_set, exc)
        return

    # CloudFormation puts a change set's tags on the stack (an update's too); moto only on creation.
    if change_set.tags:
        stack.tags = dict(change_set.tags)
    # moto only stores the new template text: parse it as Stack() / Stack.update() do.
    stack._parse_template()
    stack.description = stack.template_dict.get("Description")
    if change_set.parameters:
        stack.parameters = change_set.parameters
    _apply_deletion_protection(stack)
    # Drop the exports this stack registered before (an update may change or remove them) ...
    for name in [n for n, e in self.exports.items() if e.exporting_stack_id == stack.stack_id]:
        del self.exports[name]
    # ... then build Outputs and register Exports exactly as create_stack does.
    stack.output_map = stack._create_output_map()
    self._validate_export_uniqueness(stack)
    for export in stack.exports:
        self.exports[export.name] = export


CloudFormationBackend.execute_change_set = execute_change_set


# --- What an update changes ----------------------------------------------------------------------
# moto 5.2.5 computes a change set's Changes by comparing template text only. The portal's tiers
# share their templates and differ by parameters, which switch resources on and off through
# Conditions and change their properties; so moto reported "no changes" for Development ->
# Production Lite. CloudFormation compares the resources each side actually has: below, a resource
# is Added or Removed when its Condition flips, and Modified when its definition or a parameter it
# references changes (CloudFormation would also say whether that replaces it; moto cannot know).

def _enabled_resources(resource_map, template):
    conditions = resource_map.lazy_condition_map
    return {
        name: body
        for name, body in template.get("Resources", {}).items()
        if not body.get("Condition") or conditions[body["Condition"]]
    }


def _parameter_text(value):
    if value is None:
        return None
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return str(value)


def _effective_parameters(resource_map):
    """Each declared parameter's value as text: the one given, else the default. A parameter passed
    with UsePreviousValue (or with its default) is not a change: "1", 1 and an omitted Default: 1 agree."""
    given = resource_map.input_parameters or {}
    declared = (resource_map._template or {}).get("Parameters") or {}
    return {name: _parameter_text(given.get(name, spec.get("Default"))) for name, spec in declared.items()}


def _build_resource_diff(self, other_template, parameters=None):
    # moto's update re-applies every resource referencing a parameter whose *given* value differs; a
    # parameter given now that was defaulted before (UsePreviousValue) is not a change (see above).
    if parameters:
        before = _effective_parameters(self)
        parameters = {k: v for k, v in parameters.items() if before.get(k) != _parameter_text(v)}
    return _moto_build_resource_diff(self, other_template, parameters)


_moto_build_resource_diff = cfn_parsing.ResourceMap.build_resource_diff
cfn_parsing.ResourceMap.build_resource_diff = _build_resource_diff


def _change_set_diff(self):
    from moto.cloudformation.models import Change

    if self.change_set_type != "UPDATE":
        return _moto_change_set_diff(self)
    try:
        current = self.stack.resource_map
        proposed = cfn_parsing.ResourceMap(
            self.stack.stack_id, self.stack.name, self.parameters or {}, self.stack.tags,
            account_id=self.stack.account_id, region_name=self.stack.region_name,
            template=self.template_dict, cross_stack_resources=self.stack.cross_stack_resources,
        )
        proposed.load()
        old = _enabled_resources(current, current._template)
        new = _enabled_resources(proposed, self.template_dict)
        before, after = _effective_parameters(current), _effective_parameters(proposed)
        changed = {k for k in set(before) | set(after) if before.get(k) != after.get(k)}
    except Exception:  # the sandbox's fidelity fix must never break a change set
        return _moto_change_set_diff(self)
    changes = []
    for name, body in new.items():
        if name not in old:
            action = "Add"
        elif body != old[name] or changed & set(cfn_parsing.get_references_from_template(body)):
            action = "Modify"
        else:
            continue
        changes.append(Change(action=action, logical_resource_id=name, resource_type=body["Type"]))
    for name, body in old.items():
        if name not in new:
            changes.append(Change(action="Remove", logical_resource_id=name, resource_type=body["Type"]))
    return changes


_moto_change_set_diff = ChangeSet.diff
ChangeSet.diff = _change_set_diff


# --- Deleting a network stack -------------------------------------------------------------------
# moto 5.2.5's CloudFormation models of NAT gateways, route tables, internet gateways, their VPC
# attachments and Elastic IPs have no delete, so DeleteStack of a VPC stack fails with "The vpc
# ... has dependencies" where CloudFormation deletes them all. Each gets the delete CloudFormation
# would do, through moto's own EC2 backend; ResourceMap.delete retries in passes until the
# dependencies are gone, so the order takes care of itself.

def _ec2(account_id, region_name):
    return ec2_backends[account_id][region_name]


def _delete_nat_gateway(self, account_id, region_name):
    backend = _ec2(account_id, region_name)
    backend.delete_nat_gateway(self.id)
    backend.nat_gateways.pop(self.id, None)
    eni = getattr(self, "_eni", None)
    if eni is not None and eni.id in backend.enis:
        backend.delete_network_interface(eni.id)


def _delete_route_table(self, account_id, region_name):
    _ec2(account_id, region_name).delete_route_table(self.id)


def _delete_internet_gateway(self, account_id, region_name):
    _ec2(account_id, region_name).delete_internet_gateway(self.id)


def _delete_gateway_attachment(self, account_id, region_name):
    if self.gateway_id and self.gateway_id.startswith("igw-"):
        _ec2(account_id, region_name).detach_internet_gateway(self.gateway_id, self.vpc_id)


def _delete_elastic_ip(self, account_id, region_name):
    backend = _ec2(account_id, region_name)
    if self.allocation_id:
        backend.release_address(allocation_id=self.allocation_id)
    else:
        backend.release_address(address=self.public_ip)


NatGateway.delete = _delete_nat_gateway
RouteTable.delete = _delete_route_table
InternetGateway.delete = _delete_internet_gateway
VPCGatewayAttachment.delete = _delete_gateway_attachment
ElasticAddress.delete = _delete_elastic_ip


# --- AWS::CloudFront::* in CloudFormation -------------------------------------------------------

def _cloudfront(account_id, region_name):
    # CloudFront is global: moto keys its backend by partition ("aws"), not by region.
    return cloudfront_backends[account_id][get_partition(region_name)]


# CloudFormation writes CloudFront's lists as plain lists; the CloudFront API, and so moto's
# backend, wants {"Quantity": n, "Items": [...]} and a few keys spelled differently.
_WRAPPED_LISTS = {
    "Aliases", "Origins", "CacheBehaviors", "CustomErrorResponses", "AllowedMethods",
    "CachedMethods", "OriginSslProtocols", "CustomHeaders", "LambdaFunctionAssociations",
    "FunctionAssociations", "Headers", "QueryStringCacheKeys", "WhitelistedNames",
    "TrustedSigners", "TrustedKeyGroups",
}
_RENAMED = {
    "IPV6Enabled": "IsIPV6Enabled",
    "AcmCertificateArn": "ACMCertificateArn",
    "IamCertificateId": "IAMCertificateId",
    "SslSupportMethod": "SSLSupportMethod",
    "OriginSSLProtocols": "OriginSslProtocols",
    "OriginCustomHeaders": "CustomHeaders",
}


def _api_shape(value):
    """CloudFormation's DistributionConfig -> the API's DistributionConfig (as far as moto reads it)."""
    if isinstance(value, list):
        return [_api_shape(v) for v in value]
    if not isinstance(value, dict):
        return value
    out = {}
    for key, val in value.items():
        key, val = _RENAMED.get(key, key), _api_shape(val)
        if key == "Locations":  # GeoRestriction: Locations: [...] -> Quantity + Items
            out["Quantity"], out["Items"] = len(val), val
            continue
        if key in _WRAPPED_LISTS and isinstance(val, list):
            val = {"Quantity": len(val), "Items": val}
        out[key] = val
    # A cache behavior's CachedMethods sits inside its AllowedMethods in the API.
    if "CachedMethods" in out and isinstance(out.get("AllowedMethods"), dict):
        out["AllowedMethods"]["CachedMethods"] = out.pop("CachedMethods")
    return out


class CloudFrontDistributionResource(CloudFormationModel):
    """AWS::CloudFront::Distribution: a distribution in moto's CloudFront backend.
    Ref = distribution id; Fn::GetAtt: Id, DomainName."""

    # BaseModel's metaclass files every model class under the service named by its module's second
    # dotted part ("moto.<service>...."); defined in __main__ it would fail, so file it under cloudfront.
    __module__ = "moto.cloudfront.models"

    def __init__(self, distribution):
        self.distribution = distribution  # moto.cloudfront.models.Distribution

    @staticmethod
    def cloudformation_name_type():
        return ""  # no name property

    @staticmethod
    def cloudformation_type():
        return "AWS::CloudFront::Distribution"

    @classmethod
    def has_cfn_attr(cls, attr):
        return attr in ("Id", "DomainName")

    def get_cfn_attribute(self, attribute_name):
        if attribute_name == "Id":
            return self.distribution.distribution_id
        if attribute_name == "DomainName":
            return self.distribution.domain_name
        raise UnformattedGetAttTemplateException()

    @property
    def physical_resource_id(self):
        return self.distribution.distribution_id

    def is_created(self):
        return True

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        props = cloudformation_json["Properties"]
        config = _api_shape(props["DistributionConfig"])
        # The API needs a CallerReference (unique per distribution); CloudFormation has none.
        config["CallerReference"] = f"{kwargs['StackId']}/{kwargs['LogicalId']}"
        tags = [{"Key": t["Key"], "Value": t["Value"]} for t in props.get("Tags", [])]
        dist, _, _ = _cloudfront(account_id, region_name).create_distribution(config, tags)
        return cls(dist)

    @classmethod
    def update_from_cloudformation_json(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name):
        # In place, as on AWS: same id and domain name, new config.
        dist = original_resource.distribution
        config = _api_shape(cloudformation_json["Properties"]["DistributionConfig"])
        config["CallerReference"] = dist.distribution_config.caller_reference
        _cloudfront(account_id, region_name).update_distribution(config, dist.distribution_id, dist.etag)
        return original_resource

    @classmethod
    def delete_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name):
        # resource_name is the physical id. moto's backend deletes an enabled distribution too (AWS
        # would want it disabled first); it only insists on an IfMatch value, which it does not check.
        backend = _cloudfront(account_id, region_name)
        if resource_name in backend.distributions:
            backend.delete_distribution(resource_name, if_match=backend.distributions[resource_name].etag)


class CloudFrontOriginAccessControlResource(CloudFormationModel):
    """AWS::CloudFront::OriginAccessControl: an origin access control in moto's CloudFront backend.
    Ref = id; Fn::GetAtt: Id. The CloudFormation config has the API's field names."""

    __module__ = "moto.cloudfront.models"  # see CloudFrontDistributionResource

    def __init__(self, control):
        self.control = control  # moto.cloudfront.models.OriginAccessControl

    @staticmethod
    def cloudformation_name_type():
        return ""

    @staticmethod
    def cloudformation_type():
        return "AWS::CloudFront::OriginAccessControl"

    @classmethod
    def has_cfn_attr(cls, attr):
        return attr == "Id"

    def get_cfn_attribute(self, attribute_name):
        if attribute_name == "Id":
            return self.control.id
        raise UnformattedGetAttTemplateException()

    @property
    def physical_resource_id(self):
        return self.control.id

    def is_created(self):
        return True

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        config = cloudformation_json["Properties"]["OriginAccessControlConfig"]
        return cls(_cloudfront(account_id, region_name).create_origin_access_control(config))

    @classmethod
    def update_from_cloudformation_json(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name):
        config = cloudformation_json["Properties"]["OriginAccessControlConfig"]
        _cloudfront(account_id, region_name).update_origin_access_control(original_resource.control.id, config)
        return original_resource

    @classmethod
    def delete_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name):
        backend = _cloudfront(account_id, region_name)
        if resource_name in backend.origin_access_controls:
            backend.delete_origin_access_control(resource_name)


# --- RDS deletion protection in CloudFormation --------------------------------------------------

def _truthy(value):
    return str(value).lower() == "true"


def _apply_deletion_protection(stack):
    """After an execution: each database gets the DeletionProtection its (new) template and
    parameters say. CloudFormation changes it in place; moto had no update for a DBInstance."""
    for logical_id, resource in (stack.template_dict.get("Resources") or {}).items():
        if resource.get("Type") != "AWS::RDS::DBInstance":
            continue
        database = stack.resource_map._parsed_resources.get(logical_id)
        if database is None or isinstance(database, str):
            continue  # a resource its Condition left out
        value = (resource.get("Properties") or {}).get("DeletionProtection")
        if isinstance(value, dict) and "Ref" in value:
            value = stack.parameters.get(value["Ref"])
        database.deletion_protection = _truthy(value)


# --- Updating a bucket CloudFormation named ------------------------------------------------------
# moto 5.2.5's bucket update reads Properties["BucketName"] to re-tag the bucket, so updating a
# bucket whose name CloudFormation generated (ours: names are global) raised KeyError 'BucketName';
# it also ignored a VersioningConfiguration added by the update. The update below names the bucket
# it updates and applies versioning, as CloudFormation does in place.
_moto_bucket_update = FakeBucket.update_from_cloudformation_json.__func__


def _bucket_update(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name):
    properties = cloudformation_json.setdefault("Properties", {})
    named = "BucketName" in properties
    if not named:
        properties["BucketName"] = original_resource.name
    try:
        bucket = _moto_bucket_update(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name)
    finally:
        if not named:
            del properties["BucketName"]
    status = (properties.get("VersioningConfiguration") or {}).get("Status")
    if status:
        s3_backends[account_id][get_partition(region_name)].put_bucket_versioning(bucket.name, status)
    return bucket


FakeBucket.update_from_cloudformation_json = classmethod(_bucket_update)


# An update that modifies a resource of a type moto cannot update (no update_from_cloudformation_json,
# e.g. a DBInstance) replaced it with None in the stack's resources, so any later Fn::GetAtt on it
# failed; and a resource its Condition left out was "updated" too. CloudFormation keeps both as
# they are: so does this.
_moto_parse_and_update = cfn_parsing.parse_and_update_resource


def _parse_and_update_resource(logical_id, resource_json, resources_map, account_id, region_name):
    original = resources_map[logical_id]
    if original is None:
        return None
    updated = _moto_parse_and_update(logical_id, resource_json, resources_map, account_id, region_name)
    return original if updated is None else updated


cfn_parsing.parse_and_update_resource = _parse_and_update_resource

_moto_delete_stack = CloudFormationBackend.delete_stack


def delete_stack(self, name_or_stack_id):
    stack = self.stacks.get(name_or_stack_id) or next(
        (s for s in self.stacks.values() if s.name == name_or_stack_id), None
    )
    if stack is None:
        return _moto_delete_stack(self, name_or_stack_id)
    try:
        _moto_delete_stack(self, stack.stack_id)
    except Exception as exc:  # CloudFormation keeps the stack, DELETE_FAILED, and says why
        reason = getattr(exc, "message", None) or getattr(exc, "description", None) or str(exc) or type(exc).__name__
        self.stacks[stack.stack_id] = stack
        self.deleted_stacks.pop(stack.stack_id, None)
        stack._add_stack_event("DELETE_FAILED", resource_status_reason=f"Resource deletion failed: {reason}")
        stack.status = "DELETE_FAILED"


CloudFormationBackend.delete_stack = delete_stack

# DetectStackDrift & co. and drift-aware change sets (see cfn_drift.py).
cfn_drift.install()


# --- Security group rules from CloudFormation ---------------------------------------------------
# moto 5.2.5 authorizes a template's SecurityGroupIngress rules by CidrIp or source group only: a rule
# with SourcePrefixListId (1-network.yaml's CloudFront origin-facing rule) or CidrIpv6 was dropped and
# a CidrIp rule lost its Description, so the group lacked rules its template has (and drift detection
# saw them revoked). Each rule is authorized below with its own source, as on AWS; the same for an
# AWS::EC2::SecurityGroupIngress resource with CidrIpv6 or SourcePrefixListId (moto created no rule).
_moto_security_group_create = SecurityGroup.create_from_cloudformation_json.__func__
_moto_ingress_create = SecurityGroupIngress.create_from_cloudformation_json.__func__


def _security_group_create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
    properties = cloudformation_json.get("Properties") or {}
    without_rules = dict(cloudformation_json, Properties={k: v for k, v in properties.items() if k != "SecurityGroupIngress"})
    group = _moto_security_group_create(cls, resource_name, without_rules, account_id, region_name, **kwargs)
    for rule in properties.get("SecurityGroupIngress") or []:
        cfn_drift.authorize_ingress(_ec2(account_id, region_name), group.id, cfn_drift.ingress_rule(rule))
    return group


def _ingress_create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
    properties = cloudformation_json["Properties"]
    if not (properties.get("CidrIpv6") or properties.get("SourcePrefixListId")):
        return _moto_ingress_create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
    backend = _ec2(account_id, region_name)
    group = backend.get_security_group_by_name_or_id(properties.get("GroupId") or properties.get("GroupName"))
    cfn_drift.authorize_ingress(backend, group.id, cfn_drift.ingress_rule(properties))
    return cls(group, properties)


SecurityGroup.create_from_cloudformation_json = classmethod(_security_group_create)
SecurityGroupIngress.create_from_cloudformation_json = classmethod(_ingress_create)


# --- Updating an auto scaling group in place ----------------------------------------------------
# moto 5.2.5 "updated" an AWS::AutoScaling::AutoScalingGroup by deleting it and creating another
# under a new generated name. CloudFormation updates its sizes, launch template, subnets and health
# check in place: same group, same name. The portal puts an environment to sleep with a
# parameter-only update (AsgMinSize = AsgDesiredCapacity = 0) and wakes it the same way.
_moto_group_update = FakeAutoScalingGroup.update_from_cloudformation_json.__func__


def _int_or_none(value):
    return None if value is None else int(value)


def _group_update(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name):
    properties = cloudformation_json["Properties"]
    backend = autoscaling_backends[account_id][region_name]
    name = original_resource.name
    if properties.get("AutoScalingGroupName", name) != name or name not in backend.autoscaling_groups:
        # A new name replaces the group on AWS too.
        return _moto_group_update(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name)
    return backend.update_auto_scaling_group(
        name=name,
        availability_zones=properties.get("AvailabilityZones", []),
        desired_capacity=_int_or_none(properties.get("DesiredCapacity")),
        max_size=_int_or_none(properties.get("MaxSize")),
        min_size=_int_or_none(properties.get("MinSize")),
        launch_config_name=properties.get("LaunchConfigurationName"),
        launch_template=properties.get("LaunchTemplate", {}),
        vpc_zone_identifier=",".join(properties.get("VPCZoneIdentifier", [])) or None,
        health_check_period=_int_or_none(properties.get("HealthCheckGracePeriod")),
        health_check_type=properties.get("HealthCheckType"),
        mixed_instances_policy=properties.get("MixedInstancesPolicy", {}),
    )


FakeAutoScalingGroup.update_from_cloudformation_json = classmethod(_group_update)


# --- Resources of a type moto does not model -----------------------------------------------------
# moto 5.2.5 keeps a resource of a type it does not model (3-compute.yaml's ScalingPolicy and alarms)
# as None in the stack's resources: DescribeStackResource then answered HTTP 500 when such a resource
# came before the one asked for, and DescribeStackResources / ListStackResources listed it without
# its LogicalResourceId. Below they list the resources moto made (CloudFormation would list all).
_moto_stack_resources = Stack.stack_resources.fget


def _stack_resources(self):
    return [resource for resource in _moto_stack_resources(self) if getattr(resource, "logical_resource_id", None)]


Stack.stack_resources = property(_stack_resources)


# --- UsePreviousValue of an SSM or list parameter ------------------------------------------------
# moto 5.2.5 takes a UsePreviousValue parameter from the stack's *resolved* parameters. For a
# parameter of type AWS::SSM::Parameter::Value<...> that is the value read from SSM (an AMI id), which
# the update then looked up in SSM again as a parameter name, and failed: every parameter-only update
# of 3-compute.yaml (AmiId) rolled back. A list parameter's resolved value is a list, which the update
# split again. CloudFormation reuses the value the stack was given (the path, the text): so does this,
# for those types (the others keep moto's value).
_moto_stack_parameters = Stack.stack_parameters.fget


def _reparsed_type(kind):
    return kind.startswith("AWS::SSM::Parameter::") or kind == "CommaDelimitedList" or kind.startswith("List<")


def _stack_parameters(self):
    parameters = dict(_moto_stack_parameters(self))
    given = self.resource_map.input_parameters or {}
    for name, declared in ((self.resource_map._template or {}).get("Parameters") or {}).items():
        value = given.get(name, declared.get("Default"))
        if _reparsed_type(declared.get("Type", "String")) and value is not None:
            parameters[name] = value
    return parameters


Stack.stack_parameters = property(_stack_parameters)


# The parser finds models through CloudFormationModel.__subclasses__(), memoised with lru_cache:
# drop anything cached before the two classes above existed.
for _cached in (cfn_parsing.get_model_list, cfn_parsing.get_model_map, cfn_parsing.get_name_type_map):
    _cached.cache_clear()


def _serialize_executions():
    """One stack execution inside moto at a time. moto's server is threaded but its backends are
    plain dicts: two stacks executing at once (two environments, or two portals) can make one
    iterate a dict the other is changing ("OrderedDict mutated during iteration" while creating
    a Lambda function beside another stack's IAM role). Only the calls that create, change or
    delete resources, and the drift detections that read them all, wait for each other; other reads
    and the latency below still overlap."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    answer = DomainDispatcherApplication.__call__
    lock = threading.Lock()
    executing = (b"Action=ExecuteChangeSet", b"Action=CreateStack", b"Action=UpdateStack", b"Action=DeleteStack",
                 # they read every backend a stack uses (drift detection), while executions change them
                 b"Action=DetectStackDrift", b"DeploymentMode=REVERT_DRIFT")

    def serialized(self, environ, start_response):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length > 0 else b""
        environ["wsgi.input"] = io.BytesIO(body)
        if any(action in body for action in executing):
            with lock:
                return answer(self, environ, start_response)
        return answer(self, environ, start_response)

    DomainDispatcherApplication.__call__ = serialized


def _add_latency():
    latency_ms = float(os.environ.get("PORTAL_SANDBOX_LATENCY_MS") or 0)
    if latency_ms <= 0:
        return
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    answer = DomainDispatcherApplication.__call__

    def delayed(self, environ, start_response):
        time.sleep(latency_ms / 1000)
        return answer(self, environ, start_response)

    DomainDispatcherApplication.__call__ = delayed


def _is_loopback(host):
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def main(argv):
    # Parse --host the way moto.server's argparse will (moto's default is 127.0.0.1).
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("-H", "--host", default="127.0.0.1")
    host = parser.parse_known_args(argv)[0].host
    if not _is_loopback(host):
        sys.exit(f"moto_server.py: refusing to bind {host!r}: the sandbox listens on loopback only")
    _serialize_executions()
    _add_latency()
    moto_server_main(list(argv) or ["-H", host])


if __name__ == "__main__":
    main(sys.argv[1:])
