"""CloudFormation drift detection and drift-reverting change sets for the sandbox (moto 5.2.5 has neither).

install() adds, with the request and response shapes of the real API:
  * DetectStackDrift, DescribeStackDriftDetectionStatus, DescribeStackResourceDrifts (methods of
    moto's CloudFormationResponse and CloudFormationBackend, named as moto dispatches query actions).
    Detection runs inside DetectStackDrift (moto changes nothing in the background); its result is
    kept, and DescribeStacks / ListStacks carry the stack's DriftInformation.
  * CreateChangeSet DeploymentMode=REVERT_DRIFT (a drift-aware change set): a fresh detection at
    creation; each MODIFIED resource gets a Modify change with ResourceDriftStatus and one Detail
    per drifted property; executing it puts every drifted property back to the template's value.

What is compared. Expected = the template's Properties resolved by moto's own ResourceMap (parameters,
Ref, Fn::GetAtt, Fn::ImportValue, ...) at detection time; actual = the state of the physical resource
in moto's backend. As on AWS, only properties the template sets are compared:
  AWS::EC2::SecurityGroup         SecurityGroupIngress, as a set of rules (IpProtocol, FromPort, ToPort
                                  and CidrIp / CidrIpv6 / SourceSecurityGroupId / SourcePrefixListId;
                                  not Description). Rules that AWS::EC2::SecurityGroupIngress resources
                                  (of any stack) add to the group are not the group's drift.
  AWS::EC2::SecurityGroupIngress  its rule still on its group: IN_SYNC, else DELETED.
  AWS::AutoScaling::AutoScalingGroup  MinSize, MaxSize, DesiredCapacity ("1" and 1 are equal).
  AWS::S3::Bucket                 Tags (the aws:* tags are not the template's).
  AWS::SSM::Parameter             Value.
A checked resource whose physical resource is gone from moto's backend is DELETED. Every other type,
and a resource moto did not create (a type it does not model), is NOT_CHECKED.

In a drift-aware change set: a Detail per PropertyDifference (Target.Name = the top-level property,
Path = /Properties + the difference's path, BeforeValue = actual, AfterValue = the template's value,
Drift = previous deployment's and actual value); as DescribeChangeSet documents, Path, the values,
AttributeChangeType and Drift come only with IncludePropertyValues=true. Every change of a resource
that exists carries its ResourceDriftStatus (UNSUPPORTED for the types not compared). Limits: the
values shown are those of the deployed template (when the new template changes the same property
too, the execution applies the new template first, then compares again and puts back only what still
differs from it); a DELETED resource is not recreated (no change is listed for it).
"""

import copy
import json
import uuid

from moto.autoscaling.models import autoscaling_backends
from moto.cloudformation import parsing as cfn_parsing
from moto.cloudformation.exceptions import ValidationError
from moto.cloudformation.models import Change, ChangeSet, CloudFormationBackend, Event, Stack, cloudformation_backends
from moto.cloudformation.responses import CloudFormationResponse
from moto.core import utils as moto_utils
from moto.core.responses import ActionResult
from moto.core.utils import utcnow
from moto.ec2.models import ec2_backends
from moto.ec2.models.security_groups import SecurityGroupIngress
from moto.s3.models import s3_backends
from moto.ssm.models import ssm_backends
from moto.utilities.utils import get_partition

from cfn_newer_api import add_newer_api


# --- Property values ----------------------------------------------------------------------------

def _text(value):
    """A property value as drift results write it: scalars as text, structures as JSON, absent as null."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True, separators=(",", ":"))
    return str(value)


def _json(properties):
    """ExpectedProperties / ActualProperties: JSON text (a value moto resolves to an object as its text)."""
    return json.dumps(properties, sort_keys=True, default=str)


def _number(value):
    """A Number parameter reaches a property as "1" or as 1: compare them as the same text."""
    try:
        return str(int(float(value)))
    except (TypeError, ValueError):
        return str(value)


def _difference(path, expected, actual, kind):
    return {"PropertyPath": path, "ExpectedValue": _text(expected), "ActualValue": _text(actual), "DifferenceType": kind}


def _scalar_differences(expected, actual):
    return [_difference(f"/{name}", value, actual.get(name), "NOT_EQUAL")
            for name, value in expected.items() if actual.get(name) != value]


def _set_differences(name, expected, actual, key):
    """Lists compared as sets of items. Returns the actual list ordered like the expected one (its
    extra items last, so an ADD's index points into ActualProperties) and the differences."""
    actual_by_key = {key(item): item for item in actual}
    expected_keys = {key(item) for item in expected}
    ordered = [actual_by_key[key(item)] for item in expected if key(item) in actual_by_key]
    ordered += sorted((item for item in actual if key(item) not in expected_keys), key=key)
    differences = [_difference(f"/{name}/{i}", item, None, "REMOVE")
                   for i, item in enumerate(expected) if key(item) not in actual_by_key]
    differences += [_difference(f"/{name}/{i}", None, item, "ADD")
                    for i, item in enumerate(ordered) if key(item) not in expected_keys]
    return ordered, differences


class _Gone(Exception):
    """The physical resource is no longer in moto's backend."""


class _ExistingResources:
    """A stack's ResourceMap to resolve properties with, which never creates a resource: moto's own
    creates any resource a Ref names that it does not hold (one deleted by a failed DeleteStack, say)."""

    def __init__(self, resource_map):
        self._map = resource_map

    def __getitem__(self, key):
        if key in self._map._parsed_resources:
            return self._map._parsed_resources[key]
        if key in self._map._resource_json_map:
            return None  # not there (its Condition, a type moto does not model, deleted)
        raise KeyError(key)

    def get(self, key, default=None):
        try:
            return self[key]
        except KeyError:
            return default

    def __getattr__(self, name):  # lazy_condition_map, cross_stack_resources
        return getattr(self._map, name)


class _Resource:
    """A stack resource being compared: what the template says and where moto keeps it."""

    def __init__(self, backend, stack, logical_id, body, model):
        self.backend, self.stack, self.logical_id, self.model = backend, stack, logical_id, model
        self.type = body["Type"]
        self.physical_id = getattr(model, "physical_resource_id", None)
        self.account_id, self.region_name = stack.account_id, stack.region_name
        # Resolved as moto resolves it when deploying (a copy: clean_json must not touch the template).
        properties = copy.deepcopy(body.get("Properties") or {})
        self.properties = cfn_parsing.clean_json(properties, _ExistingResources(stack.resource_map))


# --- AWS::EC2::SecurityGroup(Ingress) -------------------------------------------------------------

_PROTOCOLS = {"tcp": "tcp", "6": "tcp", "udp": "udp", "17": "udp", "icmp": "icmp", "1": "icmp", "-1": "-1", "all": "-1"}
_RULE_SOURCES = ("CidrIp", "CidrIpv6", "SourceSecurityGroupId", "SourceSecurityGroupName", "SourcePrefixListId")


def ingress_rule(properties):
    """A template's ingress rule (SecurityGroupIngress item or resource) in the form rules are compared."""
    protocol = _PROTOCOLS.get(str(properties.get("IpProtocol")).lower(), str(properties.get("IpProtocol")))
    rule = {"IpProtocol": protocol}
    if protocol != "-1":
        rule["FromPort"] = int(properties["FromPort"])
        rule["ToPort"] = int(properties["ToPort"])
    for source in _RULE_SOURCES:
        if properties.get(source):
            rule[source] = properties[source]
    if properties.get("Description"):
        rule["Description"] = properties["Description"]
    return rule


def _rule_of(moto_rule):
    """One of moto's SecurityGroupRule objects in the same form."""
    rule = {"IpProtocol": moto_rule.ip_protocol}
    if moto_rule.ip_protocol != "-1":
        rule["FromPort"], rule["ToPort"] = moto_rule.from_port, moto_rule.to_port
    sources = {
        "CidrIp": moto_rule.ip_range.get("CidrIp"),
        "CidrIpv6": moto_rule.ip_range.get("CidrIpv6"),
        "SourceSecurityGroupId": moto_rule.source_group.get("GroupId"),
        "SourcePrefixListId": moto_rule.prefix_list_id,
    }
    rule.update({name: value for name, value in sources.items() if value})
    description = moto_rule.ip_range.get("Description") or moto_rule.source_group.get("Description")
    if description:
        rule["Description"] = description
    return rule


def _by_group_id(rule, ec2_backend, vpc_id=None):
    """A rule naming its source group by SourceSecurityGroupName, as EC2 keeps it: by the group's id."""
    name = rule.get("SourceSecurityGroupName")
    group = ec2_backend.get_security_group_by_name_or_id(name, vpc_id) if name else None
    if group is None:
        return rule
    rule = {k: v for k, v in rule.items() if k != "SourceSecurityGroupName"}
    rule["SourceSecurityGroupId"] = group.id
    return rule


def _rule_key(rule):
    return json.dumps({k: v for k, v in rule.items() if k != "Description"}, sort_keys=True)


def authorize_ingress(ec2_backend, group_id, rule):
    """Authorize one rule (ingress_rule form) on a group, with whichever source it names."""
    described = {"Description": rule["Description"]} if rule.get("Description") else {}
    ranges, groups, prefix_lists = [], [], []
    if rule.get("CidrIp"):
        ranges.append({"CidrIp": rule["CidrIp"], **described})
    if rule.get("CidrIpv6"):
        ranges.append({"CidrIpv6": rule["CidrIpv6"], **described})
    if rule.get("SourceSecurityGroupId"):
        groups.append({"GroupId": rule["SourceSecurityGroupId"], **described})
    elif rule.get("SourceSecurityGroupName"):
        groups.append({"GroupName": rule["SourceSecurityGroupName"], **described})
    if rule.get("SourcePrefixListId"):
        prefix_lists.append({"PrefixListId": rule["SourcePrefixListId"], **described})
    ec2_backend.authorize_security_group_ingress(
        group_name_or_id=group_id, ip_protocol=rule["IpProtocol"], from_port=rule.get("FromPort"),
        to_port=rule.get("ToPort"), ip_ranges=ranges, source_groups=groups, prefix_list_ids=prefix_lists,
    )


def _rules_added_by_ingress_resources(cfn_backend, group_id):
    """Keys of the rules AWS::EC2::SecurityGroupIngress resources of any stack put on the group."""
    keys = set()
    for stack in cfn_backend.stacks.values():
        for model in stack.resource_map._parsed_resources.values():
            if isinstance(model, SecurityGroupIngress) and model.security_group.id == group_id:
                rule = _by_group_id(ingress_rule(model.properties), ec2_backends[stack.account_id][stack.region_name])
                keys.add(_rule_key(rule))
    return keys


def _security_group(resource):
    group = ec2_backends[resource.account_id][resource.region_name].get_security_group_from_id(resource.physical_id)
    if group is None:
        raise _Gone()
    return group


def _group_rules(resource, group, expected):
    """The group's ingress rules, less those other resources own (unless the template lists them too)."""
    wanted = {_rule_key(rule) for rule in expected}
    owned = _rules_added_by_ingress_resources(resource.backend, group.id) - wanted
    return [(rule, _rule_of(rule)) for rule in group.ingress_rules if _rule_key(_rule_of(rule)) not in owned]


def _compare_security_group(resource):
    group = _security_group(resource)
    if "SecurityGroupIngress" not in resource.properties:
        return {}, {}, []
    backend = ec2_backends[resource.account_id][resource.region_name]
    expected = [_by_group_id(ingress_rule(rule), backend, group.vpc_id) for rule in resource.properties["SecurityGroupIngress"] or []]
    actual = [rule for _, rule in _group_rules(resource, group, expected)]
    ordered, differences = _set_differences("SecurityGroupIngress", expected, actual, _rule_key)
    return {"SecurityGroupIngress": expected}, {"SecurityGroupIngress": ordered}, differences


def _restore_security_group(resource, expected, actual):
    """Revoke the rules added out of band, authorize again the template's rules that were revoked."""
    backend = ec2_backends[resource.account_id][resource.region_name]
    group = _security_group(resource)
    wanted = expected["SecurityGroupIngress"]
    wanted_keys = {_rule_key(rule) for rule in wanted}
    extra = [moto_rule.id for moto_rule, rule in _group_rules(resource, group, wanted) if _rule_key(rule) not in wanted_keys]
    if extra:
        backend.revoke_security_group_ingress(group.id, None, None, None, [], security_rule_ids=extra)
    present = {_rule_key(_rule_of(moto_rule)) for moto_rule in group.ingress_rules}
    for rule in wanted:
        if _rule_key(rule) not in present:
            authorize_ingress(backend, group.id, rule)


def _compare_ingress_resource(resource):
    backend = ec2_backends[resource.account_id][resource.region_name]
    group = backend.get_security_group_from_id(resource.model.security_group.id)
    rule = _rule_key(_by_group_id(ingress_rule(resource.properties), backend, group and group.vpc_id))
    if group is None or rule not in {_rule_key(_rule_of(r)) for r in group.ingress_rules}:
        raise _Gone()
    return {}, {}, []


# --- AWS::AutoScaling::AutoScalingGroup ------------------------------------------------------------

_GROUP_SIZES = {"MinSize": "min_size", "MaxSize": "max_size", "DesiredCapacity": "desired_capacity"}


def _auto_scaling_group(resource):
    group = autoscaling_backends[resource.account_id][resource.region_name].autoscaling_groups.get(resource.physical_id)
    if group is None:
        raise _Gone()
    return group


def _compare_auto_scaling_group(resource):
    group = _auto_scaling_group(resource)
    expected = {name: _number(resource.properties[name]) for name in _GROUP_SIZES if resource.properties.get(name) is not None}
    actual = {name: _number(getattr(group, _GROUP_SIZES[name])) for name in expected}
    return expected, actual, _scalar_differences(expected, actual)


def _set_group_sizes(account_id, region_name, name, min_size=None, max_size=None, desired=None):
    """MinSize / MaxSize / DesiredCapacity of a group, as UpdateAutoScalingGroup sets them in place
    (a desired capacity left out is kept within the new bounds; instances follow the capacity)."""
    backend = autoscaling_backends[account_id][region_name]
    group = backend.autoscaling_groups[name]
    if max_size is not None:
        group.max_size = int(max_size)
    if min_size is not None:
        group.min_size = int(min_size)
    if desired is None:
        desired = min(max(group.desired_capacity or 0, group.min_size), group.max_size)
    backend.set_desired_capacity(name, int(desired))


def _restore_auto_scaling_group(resource, expected, actual):
    _set_group_sizes(resource.account_id, resource.region_name, _auto_scaling_group(resource).name,
                    expected.get("MinSize"), expected.get("MaxSize"), expected.get("DesiredCapacity"))


# --- AWS::S3::Bucket -------------------------------------------------------------------------------

def _s3(resource):
    return s3_backends[resource.account_id][get_partition(resource.region_name)]


def _bucket_tags(resource):
    backend = _s3(resource)
    if resource.physical_id not in backend.buckets:
        raise _Gone()
    return backend.get_bucket_tagging(resource.physical_id).get("Tags", [])


def _tag_differences(expected, actual):
    """Tags by key: a changed value is NOT_EQUAL at /Tags/i/Value, a tag gone REMOVE, a tag added ADD."""
    actual_values = {tag["Key"]: tag["Value"] for tag in actual}
    expected_values = {tag["Key"]: tag["Value"] for tag in expected}
    ordered = [{"Key": k, "Value": actual_values[k]} for k in expected_values if k in actual_values]
    ordered += [{"Key": k, "Value": v} for k, v in sorted(actual_values.items()) if k not in expected_values]
    differences = []
    for i, tag in enumerate(expected):
        if tag["Key"] not in actual_values:
            differences.append(_difference(f"/Tags/{i}", tag, None, "REMOVE"))
        elif actual_values[tag["Key"]] != tag["Value"]:
            differences.append(_difference(f"/Tags/{i}/Value", tag["Value"], actual_values[tag["Key"]], "NOT_EQUAL"))
    differences += [_difference(f"/Tags/{i}", None, tag, "ADD")
                    for i, tag in enumerate(ordered) if tag["Key"] not in expected_values]
    return ordered, differences


def _compare_bucket(resource):
    actual = [tag for tag in _bucket_tags(resource) if not tag["Key"].startswith("aws:")]
    if "Tags" not in resource.properties:
        return {}, {}, []
    expected = [{"Key": tag["Key"], "Value": str(tag["Value"])} for tag in resource.properties["Tags"] or []]
    ordered, differences = _tag_differences(expected, actual)
    return {"Tags": expected}, {"Tags": ordered}, differences


def _restore_bucket(resource, expected, actual):
    kept = {tag["Key"]: tag["Value"] for tag in _bucket_tags(resource) if tag["Key"].startswith("aws:")}
    kept.update({tag["Key"]: tag["Value"] for tag in expected["Tags"]})
    _s3(resource).put_bucket_tagging(resource.physical_id, kept)


# --- AWS::SSM::Parameter ---------------------------------------------------------------------------

def _parameter(resource):
    parameter = ssm_backends[resource.account_id][resource.region_name].get_parameter(resource.physical_id)
    if parameter is None:
        raise _Gone()
    return parameter


def _compare_parameter(resource):
    parameter = _parameter(resource)
    expected = {"Value": _text(resource.properties.get("Value"))}
    actual = {"Value": parameter.value}
    return expected, actual, _scalar_differences(expected, actual)


def _restore_parameter(resource, expected, actual):
    current = _parameter(resource)
    ssm_backends[resource.account_id][resource.region_name].put_parameter(
        name=current.name, description=current.description, value=expected["Value"],
        parameter_type=current.parameter_type, allowed_pattern=current.allowed_pattern, keyid=current.keyid,
        overwrite=True, tags=[], data_type=current.data_type, tier=current.tier, policies=None,
    )


# type -> (compare(resource) -> (expected, actual, differences), restore(resource, expected, actual))
_CHECKED_TYPES = {
    "AWS::EC2::SecurityGroup": (_compare_security_group, _restore_security_group),
    "AWS::EC2::SecurityGroupIngress": (_compare_ingress_resource, None),
    "AWS::AutoScaling::AutoScalingGroup": (_compare_auto_scaling_group, _restore_auto_scaling_group),
    "AWS::S3::Bucket": (_compare_bucket, _restore_bucket),
    "AWS::SSM::Parameter": (_compare_parameter, _restore_parameter),
}


# --- Detection --------------------------------------------------------------------------------------

class ResourceDrift:
    """One StackResourceDrift (attributes named as moto's serializer looks members up)."""

    def __init__(self, stack, logical_id, resource_type, physical_id, timestamp):
        self.stack_id = stack.stack_id
        self.logical_resource_id = logical_id
        self.resource_type = resource_type
        self.physical_resource_id = physical_id
        self.timestamp = timestamp
        self.stack_resource_drift_status = "NOT_CHECKED"
        self.expected_properties = self.actual_properties = None
        self.property_differences = []
        self.resource = self.expected = self.actual = None  # for reverting, never serialized
        self.error = None  # why its comparison failed


def _enabled_resources(stack, logical_ids=None):
    """(logical id, template body) of the stack's resources (those its Conditions keep)."""
    resource_map = stack.resource_map
    for logical_id, body in resource_map._resource_json_map.items():
        if logical_ids and logical_id not in logical_ids:
            continue
        condition = body.get("Condition")
        if condition and not resource_map.lazy_condition_map[condition]:
            continue
        yield logical_id, body


def _detect_resource(backend, stack, logical_id, body, timestamp):
    model = stack.resource_map._parsed_resources.get(logical_id)
    checked = _CHECKED_TYPES.get(body["Type"])
    drift = ResourceDrift(stack, logical_id, body["Type"], getattr(model, "physical_resource_id", None), timestamp)
    if checked is None or model is None or isinstance(model, (str, int, float, list, dict)):
        return drift  # a type not compared, or one moto did not create: NOT_CHECKED
    try:
        resource = _Resource(backend, stack, logical_id, body, model)
        drift.expected_properties = _json(resource.properties)
        expected, actual, differences = checked[0](resource)
    except _Gone:
        drift.stack_resource_drift_status = "DELETED"
        return drift
    except Exception as exc:  # drift detection failed for this resource: the others still count
        drift.error = getattr(exc, "message", None) or str(exc) or type(exc).__name__
        drift.expected_properties = None
        return drift
    drift.resource, drift.expected, drift.actual = resource, expected, actual
    drift.expected_properties = _json({**resource.properties, **expected})
    drift.actual_properties = _json({**resource.properties, **actual})
    drift.property_differences = differences
    drift.stack_resource_drift_status = "MODIFIED" if differences else "IN_SYNC"
    return drift


class Detection:
    """One DetectStackDrift operation and its results."""

    def __init__(self, stack, drifts, timestamp):
        self.stack_id = stack.stack_id
        self.stack_drift_detection_id = str(uuid.uuid4())
        self.timestamp = timestamp
        self.drifts = drifts
        statuses = [d.stack_resource_drift_status for d in drifts]
        self.drifted_stack_resource_count = sum(s in ("MODIFIED", "DELETED") for s in statuses)
        if self.drifted_stack_resource_count:
            self.stack_drift_status = "DRIFTED"
        else:
            self.stack_drift_status = "IN_SYNC" if "IN_SYNC" in statuses else "NOT_CHECKED"
        failed = [d for d in drifts if d.error]
        self.detection_status = "DETECTION_FAILED" if failed else "DETECTION_COMPLETE"
        self.detection_status_reason = (
            f"Failed to detect drift on resource(s) [{', '.join(d.logical_resource_id for d in failed)}]: {failed[0].error}"
            if failed else None
        )


def detect(backend, stack, logical_ids=None):
    timestamp = utcnow()
    drifts = [_detect_resource(backend, stack, logical_id, body, timestamp)
              for logical_id, body in _enabled_resources(stack, logical_ids)]
    return Detection(stack, drifts, timestamp)


def _detections(backend):
    return backend.__dict__.setdefault("drift_detections", {})


def detect_stack_drift(self, stack_name, logical_resource_ids=None):
    stack = self.get_stack(stack_name)
    if stack.status.endswith("_IN_PROGRESS") or stack.status == "DELETE_COMPLETE":
        raise ValidationError(message=f"Drift detection cannot be performed on stack {stack.name} in {stack.status} state")
    detection = detect(self, stack, logical_resource_ids)
    _detections(self)[detection.stack_drift_detection_id] = detection
    stack.latest_drift_detection = detection
    return detection


def describe_stack_drift_detection_status(self, detection_id):
    detection = _detections(self).get(detection_id)
    if detection is None:
        raise ValidationError(message=f"Stack drift detection with id {detection_id} does not exist")
    return detection


def describe_stack_resource_drifts(self, stack_name, status_filters=None, next_token=None, max_results=None):
    stack = self.get_stack(stack_name)
    detection = getattr(stack, "latest_drift_detection", None)
    drifts = [d for d in (detection.drifts if detection else [])
              if not status_filters or d.stack_resource_drift_status in status_filters]
    try:
        start = int(next_token or 0)
    except ValueError:
        raise ValidationError(message=f"Invalid NextToken: {next_token}")
    end = start + (max_results or 100)
    return drifts[start:end], (str(end) if end < len(drifts) else None)


def _drift_information(self):
    """Stack.DriftInformation: the last detection's verdict (NOT_CHECKED before any)."""
    detection = getattr(self, "latest_drift_detection", None)
    if detection is None:
        return {"StackDriftStatus": "NOT_CHECKED"}
    return {"StackDriftStatus": detection.stack_drift_status, "LastCheckTimestamp": detection.timestamp}


# --- The API actions (CloudFormationResponse dispatches an action to its snake_case method) -----------

def _response_detect_stack_drift(self):
    detection = self.cloudformation_backend.detect_stack_drift(
        self._get_param("StackName"), self._get_param("LogicalResourceIds") or None)
    return ActionResult({"StackDriftDetectionId": detection.stack_drift_detection_id})


def _response_describe_stack_drift_detection_status(self):
    return ActionResult(self.cloudformation_backend.describe_stack_drift_detection_status(
        self._get_param("StackDriftDetectionId")))


def _response_describe_stack_resource_drifts(self):
    drifts, next_token = self.cloudformation_backend.describe_stack_resource_drifts(
        self._get_param("StackName"), self._get_param("StackResourceDriftStatusFilters") or None,
        self._get_param("NextToken"), self._get_int_param("MaxResults"))
    return ActionResult({"StackResourceDrifts": drifts, "NextToken": next_token})


# --- Drift-aware change sets (DeploymentMode=REVERT_DRIFT) ---------------------------------------------

NO_CHANGES = "The submitted information didn't contain changes. Submit different information to create a change set."
# Reverting a drift undoes it: an item added out of band is removed, one removed is added back.
_REVERT_ACTION = {"ADD": "Remove", "REMOVE": "Add", "NOT_EQUAL": "Modify"}
# The members only DescribeChangeSet IncludePropertyValues=true returns.
_PROPERTY_VALUE_MEMBERS = ("Path", "BeforeValue", "AfterValue", "BeforeValueFrom", "AfterValueFrom", "AttributeChangeType", "Drift")


def _change_detail(difference, timestamp):
    """One ResourceChangeDetail: the drifted property goes back from its actual to its template value.
    An item added out of band has no template value, one removed no actual value: those are left out."""
    kind = difference["DifferenceType"]
    actual = None if kind == "REMOVE" else difference["ActualValue"]
    template = None if kind == "ADD" else difference["ExpectedValue"]
    target = {
        "Attribute": "Properties",
        "Name": difference["PropertyPath"].split("/")[1],
        "RequiresRecreation": "Never",  # true of every property compared here
        "Path": "/Properties" + difference["PropertyPath"],
        "BeforeValue": actual,
        "AfterValue": template,
        "BeforeValueFrom": "ACTUAL_STATE",
        "AfterValueFrom": "TEMPLATE",
        "AttributeChangeType": _REVERT_ACTION[kind],
        "Drift": {"PreviousValue": template, "ActualValue": actual, "DriftDetectionTimestamp": timestamp},
    }
    return {"Target": _without_none(target), "Evaluation": "Static", "ChangeSource": "DirectModification"}


def _without_none(value):
    if isinstance(value, dict):
        return {k: _without_none(v) for k, v in value.items() if v is not None}
    return value


def _change_drift_status(drift):
    # In a change set a type that cannot be compared is UNSUPPORTED (NOT_CHECKED is never returned there).
    return "UNSUPPORTED" if drift.stack_resource_drift_status == "NOT_CHECKED" else drift.stack_resource_drift_status


def prepare_drift_reversion(self, change_set_id):
    """Make a change set drift-aware: detect drift now and add what reverting it changes."""
    change_set = self.change_sets[change_set_id]
    change_set.deployment_mode = "REVERT_DRIFT"
    detection = detect(self, change_set.stack)
    change_set.stack_drift_status = detection.stack_drift_status
    changes = {change.logical_resource_id: change for change in change_set.changes}
    change_set.drift_to_revert = []
    for drift in detection.drifts:
        change = changes.get(drift.logical_resource_id)
        if drift.stack_resource_drift_status == "MODIFIED" and (change is None or change.action == "Modify"):
            if change is None:  # the template leaves it as it is: only its drift changes it
                change = Change("Modify", drift.logical_resource_id, drift.resource_type)
                change.replacement, change.scope = "False", ["Properties"]
                change_set.changes.append(change)
            change.physical_resource_id = drift.physical_resource_id
            change.details = getattr(change, "details", []) + [
                _change_detail(d, detection.timestamp) for d in drift.property_differences]
            change_set.drift_to_revert.append(drift.logical_resource_id)
        if change is not None:
            change.resource_drift_status = _change_drift_status(drift)
    if change_set.drift_to_revert and change_set.status == "FAILED":
        # Same template and parameters, but drift to revert: there is something to execute.
        change_set.status, change_set.execution_status, change_set.status_reason = "CREATE_COMPLETE", "AVAILABLE", None
    elif not change_set.changes:
        # Nothing to change nor to revert (moto would have refused the same Parameters outright).
        change_set.status, change_set.execution_status = "FAILED", "UNAVAILABLE"
        change_set.status_reason = NO_CHANGES


class RevertFailed(Exception):
    """Putting a drifted resource back failed (the launcher reports it as that resource's UPDATE_FAILED)."""

    def __init__(self, logical_id, cause):
        self.logical_id = logical_id
        self.message = getattr(cause, "message", None) or str(cause) or type(cause).__name__
        super().__init__(self.message)


def _resource_event(stack, drift, status):
    stack.events.append(Event(
        stack_id=stack.stack_id, stack_name=stack.name, logical_resource_id=drift.logical_resource_id,
        physical_resource_id=drift.physical_resource_id or "", resource_type=drift.resource_type,
        resource_status=status, resource_status_reason=None, resource_properties=drift.expected_properties,
    ))


def revert_drift(change_set):
    """After the change set's template is applied: put each drifted property back to the template's
    value, compared again now (the new template may have changed the resource meanwhile)."""
    stack = change_set.stack
    backend = cloudformation_backends[stack.account_id][stack.region_name]
    bodies = dict(_enabled_resources(stack))
    for logical_id in change_set.drift_to_revert:
        if logical_id not in bodies:
            continue  # the change set removes it
        drift = _detect_resource(backend, stack, logical_id, bodies[logical_id], utcnow())
        restore = _CHECKED_TYPES[drift.resource_type][1]
        if drift.stack_resource_drift_status != "MODIFIED" or restore is None:
            continue
        _resource_event(stack, drift, "UPDATE_IN_PROGRESS")
        try:
            restore(drift.resource, drift.expected, drift.actual)
        except Exception as exc:
            raise RevertFailed(logical_id, exc) from exc
        _resource_event(stack, drift, "UPDATE_COMPLETE")


class _WithoutPropertyValues:
    """A change set as DescribeChangeSet shows it without IncludePropertyValues: details keep their
    target's attribute and name, not the values nor the drift."""

    def __init__(self, change_set):
        self._change_set = change_set
        self.changes = [self._strip(change) for change in change_set.changes]

    def __getattr__(self, name):
        return getattr(self._change_set, name)

    @staticmethod
    def _strip(change):
        if not getattr(change, "details", None):
            return change
        stripped = copy.copy(change)
        stripped.details = [
            dict(detail, Target={k: v for k, v in detail["Target"].items() if k not in _PROPERTY_VALUE_MEMBERS})
            for detail in change.details
        ]
        return stripped


def _patch_change_sets():
    moto_create = CloudFormationResponse.create_change_set
    moto_describe = CloudFormationResponse.describe_change_set
    moto_validate = CloudFormationResponse._validate_different_update
    moto_apply = ChangeSet.apply

    def create_change_set(self):
        mode = self._get_param("DeploymentMode")
        if mode and mode != "REVERT_DRIFT":
            raise ValidationError(message=f"Invalid DeploymentMode {mode}: the valid value is REVERT_DRIFT")
        if mode and self._get_param("ChangeSetType", "CREATE") != "UPDATE":
            raise ValidationError(message="DeploymentMode REVERT_DRIFT is only valid for an UPDATE change set")
        result = moto_create(self)
        if mode:
            self.cloudformation_backend.prepare_drift_reversion(result.result["Id"])
        return result

    def validate_different_update(self, incoming_params, stack_body, old_stack):
        # moto refuses the same template and parameters ("No updates are to be performed."); a
        # drift-aware change set with them still reverts drift (or fails as AWS does, when there is none).
        if self._get_param("DeploymentMode") == "REVERT_DRIFT":
            return
        moto_validate(self, incoming_params, stack_body, old_stack)

    def describe_change_set(self):
        result = moto_describe(self)
        if getattr(result.result, "deployment_mode", None) and not self._get_bool_param("IncludePropertyValues", False):
            return ActionResult(_WithoutPropertyValues(result.result))
        return result

    def apply(self):
        moto_apply(self)
        if getattr(self, "deployment_mode", None) == "REVERT_DRIFT":
            revert_drift(self)

    CloudFormationResponse.create_change_set = create_change_set
    CloudFormationResponse._validate_different_update = validate_different_update
    CloudFormationResponse.describe_change_set = describe_change_set
    ChangeSet.apply = apply


def _patch_service_model():
    """moto reads and writes the API by botocore's model: give it the newer members (cfn_newer_api)."""
    moto_load = moto_utils._load_service_model

    def load_service_model(service_name, model_name):
        model = moto_load(service_name, model_name)
        if service_name == "cloudformation" and model_name == "service-2":
            model = add_newer_api(model)
        return model

    moto_utils._load_service_model = load_service_model
    moto_utils.get_service_model.cache_clear()


def install():
    _patch_service_model()
    CloudFormationBackend.detect_stack_drift = detect_stack_drift
    CloudFormationBackend.describe_stack_drift_detection_status = describe_stack_drift_detection_status
    CloudFormationBackend.describe_stack_resource_drifts = describe_stack_resource_drifts
    CloudFormationBackend.prepare_drift_reversion = prepare_drift_reversion
    CloudFormationResponse.detect_stack_drift = _response_detect_stack_drift
    CloudFormationResponse.describe_stack_drift_detection_status = _response_describe_stack_drift_detection_status
    CloudFormationResponse.describe_stack_resource_drifts = _response_describe_stack_resource_drifts
    Stack.drift_information = property(_drift_information)
    _patch_change_sets()
