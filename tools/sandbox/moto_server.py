#!/usr/bin/env python3
"""Start moto's AWS server (the local sandbox) with two CloudFormation fixes.

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

The sandbox must only be reachable from this machine: the host must be a loopback address.
"""

import argparse
import ipaddress
import sys

from moto.cloudformation import parsing as cfn_parsing
from moto.cloudformation.exceptions import UnformattedGetAttTemplateException
from moto.cloudformation.models import CloudFormationBackend
from moto.cloudfront.models import cloudfront_backends
from moto.core.common_models import CloudFormationModel
from moto.server import main as moto_server_main
from moto.utilities.utils import get_partition

_moto_execute_change_set = CloudFormationBackend.execute_change_set


def execute_change_set(self, change_set_name, stack_name=None):
    # Same lookup as moto's own (raises ValidationError for an unknown change set).
    change_set = self.describe_change_set(change_set_name)
    stack = self.stacks[change_set.stack_id]
    # create_stack passes the region's export table (self.exports) to the stack; a change-set
    # stack got an empty dict of its own. Share the real one so Fn::ImportValue resolves.
    stack.cross_stack_resources = self.exports
    stack.resource_map.cross_stack_resources = self.exports

    _moto_execute_change_set(self, change_set_name, stack_name)

    # moto only stores the new template text: parse it as Stack() / Stack.update() do.
    stack._parse_template()
    stack.description = stack.template_dict.get("Description")
    if change_set.parameters:
        stack.parameters = change_set.parameters
    # Drop the exports this stack registered before (an update may change or remove them) ...
    for name in [n for n, e in self.exports.items() if e.exporting_stack_id == stack.stack_id]:
        del self.exports[name]
    # ... then build Outputs and register Exports exactly as create_stack does.
    stack.output_map = stack._create_output_map()
    self._validate_export_uniqueness(stack)
    for export in stack.exports:
        self.exports[export.name] = export


CloudFormationBackend.execute_change_set = execute_change_set


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


# The parser finds models through CloudFormationModel.__subclasses__(), memoised with lru_cache:
# drop anything cached before the two classes above existed.
for _cached in (cfn_parsing.get_model_list, cfn_parsing.get_model_map, cfn_parsing.get_name_type_map):
    _cached.cache_clear()


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
    moto_server_main(list(argv) or ["-H", host])


if __name__ == "__main__":
    main(sys.argv[1:])
