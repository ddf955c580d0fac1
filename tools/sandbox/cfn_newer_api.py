"""The parts of CloudFormation's API that are newer than the botocore moto 5.2.5 runs with.

moto reads requests and writes responses by botocore's service model (botocore 1.35 in the venv,
pinned by the other tools there). That model predates drift-aware change sets (CreateChangeSet
DeploymentMode=REVERT_DRIFT, November 2025): moto would drop the DeploymentMode parameter and leave
the drift members out of DescribeChangeSet's XML. add_newer_api() adds those members to a loaded
model, with the member names of the current API (the ones aws-sdk-cloudformation 1.136 parses).
The launcher gives it to moto; check_launcher.py gives it to its boto3 client.

Only members are added, never changed: with a newer botocore this changes nothing.
"""

# Shapes the old model lacks (names as in the current API; shape names never reach the wire).
_SHAPES = {
    "DeploymentMode": {"type": "string", "enum": ["REVERT_DRIFT"]},
    "BeforeValueFrom": {"type": "string", "enum": ["PREVIOUS_DEPLOYMENT_STATE", "ACTUAL_STATE"]},
    "AfterValueFrom": {"type": "string", "enum": ["TEMPLATE"]},
    "LiveResourceDrift": {
        "type": "structure",
        "members": {
            "PreviousValue": {"shape": "BeforeValue"},
            "ActualValue": {"shape": "BeforeValue"},
            "DriftDetectionTimestamp": {"shape": "Timestamp"},
        },
    },
    "DriftIgnoredReason": {"type": "string", "enum": ["MANAGED_BY_AWS", "WRITE_ONLY_PROPERTY", "SENSITIVE_PROPERTY"]},
    "ResourceDriftIgnoredAttribute": {
        "type": "structure",
        "members": {"Path": {"shape": "ResourcePropertyPath"}, "Reason": {"shape": "DriftIgnoredReason"}},
    },
    "ResourceDriftIgnoredAttributes": {"type": "list", "member": {"shape": "ResourceDriftIgnoredAttribute"}},
}

# structure -> {member: shape}
_MEMBERS = {
    "CreateChangeSetInput": {"DeploymentMode": "DeploymentMode"},
    "DescribeChangeSetOutput": {"DeploymentMode": "DeploymentMode", "StackDriftStatus": "StackDriftStatus"},
    "ResourceChange": {
        "ResourceDriftStatus": "StackResourceDriftStatus",
        "ResourceDriftIgnoredAttributes": "ResourceDriftIgnoredAttributes",
    },
    "ResourceTargetDefinition": {
        "BeforeValueFrom": "BeforeValueFrom",
        "AfterValueFrom": "AfterValueFrom",
        "Drift": "LiveResourceDrift",
    },
}

# enum -> values the current API added
_ENUM_VALUES = {
    "StackResourceDriftStatus": ["UNKNOWN", "UNSUPPORTED"],
    "AttributeChangeType": ["SyncWithActual"],
    "ChangeAction": ["SyncWithActual"],
    "ChangeSource": ["NoModification"],
}


def add_newer_api(model):
    """Add the drift-aware change set members to a loaded CloudFormation service model (a dict)."""
    shapes = model["shapes"]
    for name, shape in _SHAPES.items():
        shapes.setdefault(name, shape)
    for structure, members in _MEMBERS.items():
        for member, shape in members.items():
            shapes[structure]["members"].setdefault(member, {"shape": shape})
    for enum, values in _ENUM_VALUES.items():
        known = shapes[enum].setdefault("enum", [])
        known.extend(v for v in values if v not in known)
    return model
