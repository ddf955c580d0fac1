#!/usr/bin/env python3
"""Check the sandbox launcher (moto_server.py) against the AWS API with boto3.

Starts the launcher on a free loopback port and checks that, with stacks deployed only through
change sets:
  * stack A (exports a value) reaches CREATE_COMPLETE with its Outputs and Export published;
  * stack B, which imports A's export with Fn::ImportValue, reaches CREATE_COMPLETE and sees the value;
  * an UPDATE change set on A keeps its export name, updates its value and adds a new export;
  * an UPDATE change set with no changes is refused (FAILED as on AWS, or moto's own error);
  * DescribeStackEvents works for both stacks, and DeleteStack drops A's exports;
  * a stack with an AWS::CloudFront::Distribution (+ OriginAccessControl) reaches CREATE_COMPLETE,
    GetAtt DomainName gives a *.cloudfront.net name, moto's CloudFront API lists the distribution,
    an UPDATE change set changes it in place, and DeleteStack removes it;
  * infra/templates/5-cdn.yaml with EnableCloudFront=true reaches CREATE_COMPLETE (after a helper
    stack exporting what it imports);
  * a resource that cannot be created (a launch template whose name is taken) ends the stack
    ROLLBACK_COMPLETE with <Resource> CREATE_FAILED and the reason, not an HTTP 500;
  * a VPC stack with an internet gateway, a NAT gateway, an Elastic IP and a route table is
    deleted completely (DELETE_COMPLETE, no VPC left behind);
  * an UPDATE change set that only changes a parameter lists the resources its Condition adds
    and the ones whose properties reference it as modified;
  * RDS StopDBInstance / StartDBInstance work on a database a stack created;
  * drift detection (DetectStackDrift, DescribeStackDriftDetectionStatus, DescribeStackResourceDrifts
    with filters and pages): an untouched stack is IN_SYNC, its security groups, ingress, auto
    scaling group, bucket and SSM parameter IN_SYNC and the other types NOT_CHECKED, DescribeStacks
    carries DriftInformation; an ingress rule authorized (and one revoked) through EC2, a desired
    capacity set through Auto Scaling, an SSM value and bucket tags changed make those resources
    MODIFIED with their PropertyDifferences (/SecurityGroupIngress/N ADD and REMOVE, /DesiredCapacity,
    /Value, /Tags); a resource deleted out of band is DELETED; an unknown detection id is refused;
  * a plain change set with the same template still reports no changes despite drift, while a
    REVERT_DRIFT one is executable, lists each drifted resource (ResourceDriftStatus MODIFIED) with a
    detail per drifted property (values and Drift only with IncludePropertyValues), and executed
    puts the backends back to the template (UPDATE_COMPLETE, then IN_SYNC);
  * infra/templates/1-network.yaml (with CloudFront) and 3-compute.yaml are IN_SYNC once deployed,
    and a parameter-only update of the compute stack (previous template, the other parameters
    UsePreviousValue) puts its auto scaling group to sleep (0) and wakes it, the same group;
  * the launcher refuses a non-loopback host.
Exits 0 when all pass, 1 otherwise.  Run with the project venv's python (scripts/setup makes it):
  "$PORTAL_PYTHON" tools/sandbox/check_launcher.py
Option --plain runs moto's own server instead of the launcher (shows the checks catch the bug).
"""

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

import boto3
import botocore.session

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cfn_newer_api import add_newer_api  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
LAUNCHER = os.path.join(HERE, "moto_server.py")
CDN_TEMPLATE = os.path.join(HERE, "..", "..", "infra", "templates", "5-cdn.yaml")
CDN_ENV = "concert-check"  # EnvironmentName for the 5-cdn.yaml deployment
EXPORT = "portal-check-a-value"
EXTRA_EXPORT = "portal-check-a-extra"


def template_a(value, extra=False):
    outputs = {
        "Value": {"Value": {"Ref": "Value"}, "Export": {"Name": EXPORT}},
        "ParamName": {"Value": {"Ref": "Param"}},
    }
    if extra:
        outputs["Extra"] = {"Value": "extra-value", "Export": {"Name": EXTRA_EXPORT}}
    return json.dumps(
        {
            "Description": "check stack A",
            "Parameters": {"Value": {"Type": "String", "Default": value}},
            "Resources": {
                "Param": {
                    "Type": "AWS::SSM::Parameter",
                    "Properties": {"Name": "/portal-check/a", "Type": "String", "Value": {"Ref": "Value"}},
                }
            },
            "Outputs": outputs,
        }
    )


TEMPLATE_B = json.dumps(
    {
        "Resources": {
            "Imported": {
                "Type": "AWS::SSM::Parameter",
                "Properties": {
                    "Name": "/portal-check/b",
                    "Type": "String",
                    "Value": {"Fn::ImportValue": EXPORT},
                },
            }
        },
        "Outputs": {"Imported": {"Value": {"Fn::ImportValue": EXPORT}}},
    }
)


def template_cdn(comment):
    """A distribution shaped like 5-cdn.yaml's: S3 origin behind an origin access control + custom origin."""
    return json.dumps(
        {
            "Resources": {
                "Oac": {
                    "Type": "AWS::CloudFront::OriginAccessControl",
                    "Properties": {
                        "OriginAccessControlConfig": {
                            "Name": "portal-check-oac",
                            "OriginAccessControlOriginType": "s3",
                            "SigningBehavior": "always",
                            "SigningProtocol": "sigv4",
                        }
                    },
                },
                "Distribution": {
                    "Type": "AWS::CloudFront::Distribution",
                    "Properties": {
                        "DistributionConfig": {
                            "Enabled": True,
                            "Comment": comment,
                            "PriceClass": "PriceClass_100",
                            "IPV6Enabled": True,
                            "Origins": [
                                {
                                    "Id": "assets",
                                    "DomainName": "portal-check.s3.us-east-1.amazonaws.com",
                                    "OriginAccessControlId": {"Fn::GetAtt": ["Oac", "Id"]},
                                    "S3OriginConfig": {"OriginAccessIdentity": ""},
                                },
                                {
                                    "Id": "web",
                                    "DomainName": "web.portal-check.example.com",
                                    "CustomOriginConfig": {"OriginProtocolPolicy": "http-only", "HTTPPort": 80},
                                },
                            ],
                            "DefaultCacheBehavior": {
                                "TargetOriginId": "web",
                                "ViewerProtocolPolicy": "redirect-to-https",
                                "AllowedMethods": ["GET", "HEAD", "OPTIONS"],
                                "CachedMethods": ["GET", "HEAD"],
                                "CachePolicyId": "4135ea2d-6df8-44a3-9df3-4b5a84be39ad",
                            },
                            "CacheBehaviors": [
                                {
                                    "PathPattern": "/static/*",
                                    "TargetOriginId": "assets",
                                    "ViewerProtocolPolicy": "redirect-to-https",
                                    "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6",
                                }
                            ],
                        },
                        "Tags": [{"Key": "Name", "Value": "portal-check-cdn"}],
                    },
                },
            },
            "Outputs": {
                "DomainName": {"Value": {"Fn::GetAtt": ["Distribution", "DomainName"]}},
                "RefId": {"Value": {"Ref": "Distribution"}},
                "GetAttId": {"Value": {"Fn::GetAtt": ["Distribution", "Id"]}},
                "OacId": {"Value": {"Ref": "Oac"}},
            },
        }
    )


# What 5-cdn.yaml imports from the earlier phases (a real bucket for the assets exports).
TEMPLATE_CDN_IMPORTS = json.dumps(
    {
        "Resources": {
            "Assets": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": f"{CDN_ENV}-assets"}},
        },
        "Outputs": {
            name: {"Value": value, "Export": {"Name": f"{CDN_ENV}-{name}"}}
            for name, value in (
                ("AlbDnsName", f"{CDN_ENV}-alb-1234567890.us-east-1.elb.amazonaws.com"),
                ("AlbCanonicalHostedZoneId", "Z35SXDOTRQ7X7K"),
                ("AssetsBucketName", {"Ref": "Assets"}),
                ("AssetsBucketArn", {"Fn::GetAtt": ["Assets", "Arn"]}),
                ("AssetsBucketRegionalDomainName", {"Fn::GetAtt": ["Assets", "RegionalDomainName"]}),
                ("LogsBucketDomainName", f"{CDN_ENV}-logs.s3.amazonaws.com"),
                ("OriginVerifySecretArn", f"arn:aws:secretsmanager:us-east-1:123456789012:secret:{CDN_ENV}-origin-AbCdEf"),
            )
        },
    }
)


def cloudformation_client(**kw):
    """boto3's CloudFormation client, with the API members newer than the venv's botocore (DeploymentMode,
    the drift members of DescribeChangeSet: see cfn_newer_api.py), as the launcher's moto has them."""
    session = botocore.session.get_session()
    loader = session.get_component("data_loader")
    load = loader.load_service_model

    def load_service_model(service_name, type_name, api_version=None):
        model = load(service_name, type_name, api_version)
        return add_newer_api(model) if (service_name, type_name) == ("cloudformation", "service-2") else model

    loader.load_service_model = load_service_model
    return boto3.Session(botocore_session=session).client("cloudformation", **kw)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(url, proc, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited early with code {proc.returncode}")
        try:
            urllib.request.urlopen(url + "/moto-api/", timeout=1).read()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"server did not answer at {url} within {timeout}s")


FAILING_TEMPLATE = json.dumps({
    "Resources": {
        "Log": {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": "check-failing-log"}},
        "Squatted": {"Type": "AWS::EC2::LaunchTemplate", "Properties": {
            "LaunchTemplateName": "check-squatted", "LaunchTemplateData": {"ImageId": "ami-12c6146b"}}},
    }
})

NETWORK_TEMPLATE = json.dumps({
    "Resources": {
        "Vpc": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.9.0.0/16"}},
        "Igw": {"Type": "AWS::EC2::InternetGateway"},
        "Attach": {"Type": "AWS::EC2::VPCGatewayAttachment", "Properties": {"VpcId": {"Ref": "Vpc"}, "InternetGatewayId": {"Ref": "Igw"}}},
        "Subnet": {"Type": "AWS::EC2::Subnet", "Properties": {"VpcId": {"Ref": "Vpc"}, "CidrBlock": "10.9.1.0/24"}},
        "Eip": {"Type": "AWS::EC2::EIP", "Properties": {"Domain": "vpc"}},
        "Nat": {"Type": "AWS::EC2::NatGateway", "Properties": {"SubnetId": {"Ref": "Subnet"}, "AllocationId": {"Fn::GetAtt": ["Eip", "AllocationId"]}}},
        "Routes": {"Type": "AWS::EC2::RouteTable", "Properties": {"VpcId": {"Ref": "Vpc"}}},
        "Default": {"Type": "AWS::EC2::Route", "Properties": {"RouteTableId": {"Ref": "Routes"}, "DestinationCidrBlock": "0.0.0.0/0", "GatewayId": {"Ref": "Igw"}}},
        "Assoc": {"Type": "AWS::EC2::SubnetRouteTableAssociation", "Properties": {"SubnetId": {"Ref": "Subnet"}, "RouteTableId": {"Ref": "Routes"}}},
    }
})

CONDITIONAL_TEMPLATE = json.dumps({
    "Parameters": {"Big": {"Type": "String", "Default": "false"}, "Retention": {"Type": "Number", "Default": "7"}},
    "Conditions": {"IsBig": {"Fn::Equals": [{"Ref": "Big"}, "true"]}},
    "Resources": {
        "Always": {"Type": "AWS::Logs::LogGroup", "Properties": {"RetentionInDays": {"Ref": "Retention"}}},
        "OnlyBig": {"Type": "AWS::SQS::Queue", "Condition": "IsBig"},
    }
})


class Checks:
    def __init__(self, cfn, ssm, cloudfront, ec2=None):
        self.cfn, self.ssm, self.cloudfront, self.ec2 = cfn, ssm, cloudfront, ec2
        self.failed = 0

    def expect(self, what, ok, detail=""):
        print(("ok   " if ok else "FAIL ") + what + ("" if ok else f": {detail}"))
        if not ok:
            self.failed += 1
        return ok

    def deploy(self, stack, body, kind, name, params=None):
        """CreateChangeSet + wait + ExecuteChangeSet; returns the change set's final description."""
        self.cfn.create_change_set(
            StackName=stack,
            ChangeSetName=name,
            ChangeSetType=kind,
            TemplateBody=body,
            Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in (params or {}).items()],
        )
        cs = self.wait_change_set(stack, name)
        if cs["Status"] == "CREATE_COMPLETE":
            self.cfn.execute_change_set(StackName=stack, ChangeSetName=name)
        return cs

    def wait_change_set(self, stack, name):
        for _ in range(50):
            cs = self.cfn.describe_change_set(StackName=stack, ChangeSetName=name)
            if cs["Status"] in ("CREATE_COMPLETE", "FAILED"):
                return cs
            time.sleep(0.1)
        return cs

    def stack(self, name):
        return self.cfn.describe_stacks(StackName=name)["Stacks"][0]

    def outputs(self, name):
        return {o["OutputKey"]: o for o in self.stack(name).get("Outputs", [])}

    def exports(self):
        return {e["Name"]: e["Value"] for e in self.cfn.list_exports().get("Exports", [])}

    def run(self):
        # Stack A: created by a CREATE change set, exports a value.
        self.deploy("check-a", template_a("first"), "CREATE", "a-create")
        st = self.stack("check-a")
        self.expect("A reaches CREATE_COMPLETE", st["StackStatus"] == "CREATE_COMPLETE", st["StackStatus"])
        out = self.outputs("check-a")
        self.expect(
            "A publishes its Outputs with ExportName",
            out.get("Value", {}).get("OutputValue") == "first" and out["Value"].get("ExportName") == EXPORT,
            out,
        )
        self.expect("A's export is registered", self.exports().get(EXPORT) == "first", self.exports())

        # Stack B: created by a CREATE change set, imports A's export.
        try:
            self.deploy("check-b", TEMPLATE_B, "CREATE", "b-create")
            st = self.stack("check-b")
            self.expect("B (Fn::ImportValue) reaches CREATE_COMPLETE", st["StackStatus"] == "CREATE_COMPLETE", st["StackStatus"])
            out = self.outputs("check-b")
            self.expect("B's output holds the imported value", out.get("Imported", {}).get("OutputValue") == "first", out)
            value = self.ssm.get_parameter(Name="/portal-check/b")["Parameter"]["Value"]
            self.expect("B's resource got the imported value", value == "first", value)
        except Exception as e:  # moto answers the ExecuteChangeSet with an error when the import fails
            self.expect("B (Fn::ImportValue) reaches CREATE_COMPLETE", False, e)

        # UPDATE change set on A: new parameter value and one more export.
        cs = self.deploy("check-a", template_a("first", extra=True), "UPDATE", "a-update", {"Value": "second"})
        self.expect("A's update change set is executable", cs["Status"] == "CREATE_COMPLETE", cs.get("StatusReason"))
        st = self.stack("check-a")
        self.expect("A reaches UPDATE_COMPLETE", st["StackStatus"] == "UPDATE_COMPLETE", st["StackStatus"])
        exports = self.exports()
        self.expect("A keeps its export, with the new value", exports.get(EXPORT) == "second", exports)
        self.expect("A's new export is registered", exports.get(EXTRA_EXPORT) == "extra-value", exports)
        out = self.outputs("check-a")
        self.expect(
            "A's Outputs are updated",
            out.get("Value", {}).get("OutputValue") == "second" and out.get("Extra", {}).get("ExportName") == EXTRA_EXPORT,
            out,
        )
        value = self.ssm.get_parameter(Name="/portal-check/a")["Parameter"]["Value"]
        self.expect("A's resource is updated", value == "second", value)

        # The same template (and parameters) again: no change. With no Parameters moto answers like
        # AWS (change set FAILED, "didn't contain changes"); when Parameters are passed moto 5.2.5
        # rejects CreateChangeSet itself with "No updates are to be performed." (AWS would not).
        cs = self.deploy("check-b", TEMPLATE_B, "UPDATE", "b-nochange")
        self.expect(
            "a no-change update change set comes back FAILED",
            cs["Status"] == "FAILED" and "didn't contain changes" in cs.get("StatusReason", ""),
            (cs["Status"], cs.get("StatusReason")),
        )
        try:
            cs = self.deploy("check-a", template_a("first", extra=True), "UPDATE", "a-nochange", {"Value": "second"})
            result = (cs["Status"], cs.get("StatusReason", ""))
        except Exception as e:
            result = ("error", str(e))
        self.expect(
            "a no-change update with Parameters is refused",
            "didn't contain changes" in result[1] or "No updates are to be performed" in result[1],
            result,
        )

        # DescribeStackEvents.
        for name, want in (("check-a", "UPDATE_COMPLETE"), ("check-b", "CREATE_COMPLETE")):
            try:
                events = self.cfn.describe_stack_events(StackName=name)["StackEvents"]
                statuses = [e["ResourceStatus"] for e in events if e["LogicalResourceId"] == name]
                self.expect(f"DescribeStackEvents on {name} lists {want}", want in statuses, statuses)
            except Exception as e:
                self.expect(f"DescribeStackEvents on {name}", False, e)

        # DeleteStack unregisters the exports the launcher registered.
        self.cfn.delete_stack(StackName="check-b")
        self.cfn.delete_stack(StackName="check-a")
        self.expect("DeleteStack removes A's exports", self.exports() == {}, self.exports())

    def distributions(self):
        items = self.cloudfront.list_distributions()["DistributionList"].get("Items", [])
        return {d["Id"]: d for d in items}

    def run_cloudfront(self):
        # A stack with a CloudFront distribution, created through a change set.
        self.deploy("check-cdn", template_cdn("first"), "CREATE", "cdn-create")
        st = self.stack("check-cdn")
        self.expect("CloudFront stack reaches CREATE_COMPLETE", st["StackStatus"] == "CREATE_COMPLETE", st["StackStatus"])
        out = {k: o["OutputValue"] for k, o in self.outputs("check-cdn").items()}
        domain, dist_id = out.get("DomainName", ""), out.get("RefId", "")
        self.expect(
            "GetAtt Distribution.DomainName is a *.cloudfront.net name",
            domain.endswith(".cloudfront.net") and len(domain) > len(".cloudfront.net"),
            out,
        )
        self.expect("Ref Distribution = GetAtt Distribution.Id", dist_id and out.get("GetAttId") == dist_id, out)
        listed = self.distributions().get(dist_id)
        self.expect(
            "CloudFront ListDistributions lists it with that domain name and config",
            listed is not None
            and listed["DomainName"] == domain
            and listed["Comment"] == "first"
            and listed["Origins"]["Quantity"] == 2
            and listed["CacheBehaviors"]["Quantity"] == 1,
            listed,
        )
        dcb = self.cloudfront.get_distribution_config(Id=dist_id)["DistributionConfig"]["DefaultCacheBehavior"]
        self.expect(
            "the CloudFormation lists reached the backend (AllowedMethods / CachedMethods)",
            dcb["AllowedMethods"]["Quantity"] == 3 and dcb["AllowedMethods"]["CachedMethods"]["Quantity"] == 2,
            dcb.get("AllowedMethods"),
        )
        arn = self.cloudfront.get_distribution(Id=dist_id)["Distribution"]["ARN"]
        tags = self.cloudfront.list_tags_for_resource(Resource=arn)["Tags"].get("Items", [])
        self.expect("the distribution carries the template's Tags", {"Key": "Name", "Value": "portal-check-cdn"} in tags, tags)
        oacs = self.cloudfront.list_origin_access_controls()["OriginAccessControlList"].get("Items", [])
        self.expect("the OriginAccessControl exists in CloudFront", out.get("OacId") in [o["Id"] for o in oacs], (out, oacs))
        res = self.cfn.describe_stack_resource(StackName="check-cdn", LogicalResourceId="Distribution")
        phys = res["StackResourceDetail"]["PhysicalResourceId"]
        self.expect("the stack resource's PhysicalResourceId is the distribution id", phys == dist_id, phys)

        # UPDATE change set: same distribution (id, domain name), new config.
        cs = self.deploy("check-cdn", template_cdn("second"), "UPDATE", "cdn-update")
        st = self.stack("check-cdn")
        self.expect(
            "CloudFront stack update reaches UPDATE_COMPLETE",
            cs["Status"] == "CREATE_COMPLETE" and st["StackStatus"] == "UPDATE_COMPLETE",
            (cs["Status"], cs.get("StatusReason"), st["StackStatus"]),
        )
        out = {k: o["OutputValue"] for k, o in self.outputs("check-cdn").items()}
        comment = self.cloudfront.get_distribution_config(Id=dist_id)["DistributionConfig"]["Comment"]
        self.expect(
            "the update changes the distribution in place",
            out.get("RefId") == dist_id and out.get("DomainName") == domain and comment == "second",
            (out, comment),
        )

        # DeleteStack removes the distribution and the origin access control from CloudFront.
        self.cfn.delete_stack(StackName="check-cdn")
        self.expect("DeleteStack removes the distribution", dist_id not in self.distributions(), self.distributions())
        oacs = self.cloudfront.list_origin_access_controls()["OriginAccessControlList"].get("Items", [])
        self.expect("DeleteStack removes the OriginAccessControl", out.get("OacId") not in [o["Id"] for o in oacs], oacs)

    def run_cdn_template(self):
        # The real phase-5 template, after a stack exporting what it imports.
        cs = self.deploy("check-cdn-imports", TEMPLATE_CDN_IMPORTS, "CREATE", "imports-create")
        st = self.stack("check-cdn-imports")
        self.expect("5-cdn.yaml's helper stack reaches CREATE_COMPLETE", st["StackStatus"] == "CREATE_COMPLETE", (st["StackStatus"], cs.get("StatusReason")))
        with open(CDN_TEMPLATE) as f:
            body = f.read()
        params = {
            "EnvironmentName": CDN_ENV,
            "EnableCloudFront": "true",
            "CloudFrontPriceClass": "PriceClass_100",
            "DomainName": "",
            "EnableRoute53": "false",
        }
        cs = self.deploy("check-cdn-5", body, "CREATE", "cdn5-create", params)
        st = self.stack("check-cdn-5")
        self.expect(
            "5-cdn.yaml (EnableCloudFront=true) reaches CREATE_COMPLETE",
            st["StackStatus"] == "CREATE_COMPLETE",
            (st["StackStatus"], cs["Status"], cs.get("StatusReason")),
        )
        endpoint = self.outputs("check-cdn-5").get("PublicEndpoint", {}).get("OutputValue", "")
        self.expect("5-cdn.yaml's PublicEndpoint is a *.cloudfront.net name", endpoint.endswith(".cloudfront.net"), endpoint)
        self.expect(
            "5-cdn.yaml exports PublicEndpoint",
            self.exports().get(f"{CDN_ENV}-PublicEndpoint") == endpoint,
            self.exports(),
        )
        value = self.ssm.get_parameter(Name=f"/{CDN_ENV}/cdn/public-endpoint")["Parameter"]["Value"]
        self.expect("5-cdn.yaml's SSM parameter holds the CloudFront name", value == endpoint, value)
        dists = [d for d in self.distributions().values() if d["DomainName"] == endpoint]
        origins = {o["Id"]: o["DomainName"] for o in dists[0]["Origins"]["Items"]} if dists else {}
        self.expect(
            "5-cdn.yaml's distribution is in CloudFront with the imported origins",
            len(dists) == 1
            and dists[0]["PriceClass"] == "PriceClass_100"
            and origins.get("assets") == f"{CDN_ENV}-assets.s3.us-east-1.amazonaws.com"
            and origins.get("alb", "").startswith(f"{CDN_ENV}-alb-"),
            dists,
        )
        self.cfn.delete_stack(StackName="check-cdn-5")
        self.cfn.delete_stack(StackName="check-cdn-imports")
        self.expect(
            "deleting the 5-cdn.yaml stacks removes the distribution and exports",
            not any(d["DomainName"] == endpoint for d in self.distributions().values())
            and not any(name.startswith(f"{CDN_ENV}-") for name in self.exports()),
            (self.distributions(), self.exports()),
        )


def run_failures_and_deletes(checks):
    """A failing resource, a network stack's deletion, a parameter-only update's changes."""
    cfn, ec2 = checks.cfn, checks.ec2
    ec2.create_launch_template(LaunchTemplateName="check-squatted", LaunchTemplateData={"ImageId": "ami-12c6146b"})
    checks.deploy("check-fail", FAILING_TEMPLATE, "CREATE", "fail-create")
    st = checks.stack("check-fail")
    checks.expect("a stack whose resource fails ends ROLLBACK_COMPLETE", st["StackStatus"] == "ROLLBACK_COMPLETE", st["StackStatus"])
    events = cfn.describe_stack_events(StackName="check-fail")["StackEvents"]
    failed = [e for e in events if e["ResourceStatus"] == "CREATE_FAILED"]
    checks.expect(
        "the failed resource is named with its type and reason",
        len(failed) == 1 and failed[0]["LogicalResourceId"] == "Squatted"
        and failed[0]["ResourceType"] == "AWS::EC2::LaunchTemplate" and "already in use" in failed[0].get("ResourceStatusReason", ""),
        failed,
    )
    cfn.delete_stack(StackName="check-fail")

    checks.deploy("check-net", NETWORK_TEMPLATE, "CREATE", "net-create")
    vpcs_before = [v for v in ec2.describe_vpcs()["Vpcs"] if v.get("CidrBlock") == "10.9.0.0/16"]
    cfn.delete_stack(StackName="check-net")
    gone = [s for s in cfn.list_stacks()["StackSummaries"] if s["StackName"] == "check-net"]
    vpcs_after = [v for v in ec2.describe_vpcs()["Vpcs"] if v.get("CidrBlock") == "10.9.0.0/16"]
    checks.expect(
        "a VPC stack with IGW, NAT, EIP and routes is deleted completely",
        len(vpcs_before) == 1 and not vpcs_after and all(s["StackStatus"] == "DELETE_COMPLETE" for s in gone),
        (gone, vpcs_after),
    )

    checks.deploy("check-cond", CONDITIONAL_TEMPLATE, "CREATE", "cond-create")
    cfn.create_change_set(
        StackName="check-cond", ChangeSetName="cond-update", ChangeSetType="UPDATE", TemplateBody=CONDITIONAL_TEMPLATE,
        Parameters=[{"ParameterKey": "Big", "ParameterValue": "true"}, {"ParameterKey": "Retention", "ParameterValue": "30"}],
    )
    cs = checks.wait_change_set("check-cond", "cond-update")
    changes = sorted((c["ResourceChange"]["Action"], c["ResourceChange"]["LogicalResourceId"]) for c in cs.get("Changes", []))
    checks.expect(
        "a parameter-only update lists the added (Condition) and modified (Ref) resources",
        changes == [("Add", "OnlyBig"), ("Modify", "Always")],
        changes,
    )
    cfn.execute_change_set(StackName="check-cond", ChangeSetName="cond-update")
    cfn.create_change_set(
        StackName="check-cond", ChangeSetName="cond-tags", ChangeSetType="UPDATE", TemplateBody=CONDITIONAL_TEMPLATE,
        Parameters=[{"ParameterKey": "Big", "ParameterValue": "true"}, {"ParameterKey": "Retention", "ParameterValue": "30"}],
        Tags=[{"Key": "portal:instance", "Value": "check"}],
    )
    checks.wait_change_set("check-cond", "cond-tags")
    cfn.execute_change_set(StackName="check-cond", ChangeSetName="cond-tags")
    tags = checks.stack("check-cond").get("Tags", [])
    checks.expect("an update's change set puts its tags on the stack", {"Key": "portal:instance", "Value": "check"} in tags, tags)


PROTECTED_DB_TEMPLATE = """
AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  Protect:
    Type: String
    AllowedValues: ["true", "false"]
Resources:
  Db:
    Type: AWS::RDS::DBInstance
    Properties:
      Engine: mysql
      DBInstanceClass: db.t3.micro
      AllocatedStorage: 20
      MasterUsername: admin
      MasterUserPassword: check-password-1
      DeletionProtection: !Ref Protect
Outputs:
  Endpoint:
    Value:
      Fn::GetAtt: [Db, Endpoint.Address]
"""


def run_deletion_protection(checks):
    """A protected database: DeleteStack fails and keeps the stack; turned off, it deletes."""
    cfn = checks.cfn
    checks.deploy("check-db", PROTECTED_DB_TEMPLATE, "CREATE", "db-create", {"Protect": "true"})
    db = cfn.describe_stack_resource(StackName="check-db", LogicalResourceId="Db")["StackResourceDetail"]["PhysicalResourceId"]
    seen = []
    for call in (checks.rds.stop_db_instance, checks.rds.start_db_instance):
        call(DBInstanceIdentifier=db)
        seen.append(checks.rds.describe_db_instances(DBInstanceIdentifier=db)["DBInstances"][0]["DBInstanceStatus"])
    checks.expect("RDS StopDBInstance / StartDBInstance work on a stack's database (stopped, available)", seen == ["stopped", "available"], seen)
    cfn.delete_stack(StackName="check-db")
    st = checks.stack("check-db")
    events = cfn.describe_stack_events(StackName="check-db")["StackEvents"]
    reasons = " ".join(e.get("ResourceStatusReason", "") for e in events if e["ResourceStatus"] == "DELETE_FAILED")
    checks.expect(
        "a protected database makes DeleteStack end DELETE_FAILED, the stack kept, with the reason",
        st["StackStatus"] == "DELETE_FAILED" and "protect" in reasons.lower(),
        (st["StackStatus"], reasons),
    )
    cfn.create_change_set(
        StackName="check-db", ChangeSetName="db-unprotect", ChangeSetType="UPDATE", UsePreviousTemplate=True,
        Parameters=[{"ParameterKey": "Protect", "ParameterValue": "false"}],
    )
    checks.wait_change_set("check-db", "db-unprotect")
    cfn.execute_change_set(StackName="check-db", ChangeSetName="db-unprotect")
    st = checks.stack("check-db")
    checks.expect(
        "an update of a database (a type moto cannot update) keeps it: UPDATE_COMPLETE, its GetAtt still resolves",
        st["StackStatus"] == "UPDATE_COMPLETE" and any(o["OutputKey"] == "Endpoint" and o["OutputValue"] for o in st.get("Outputs", [])),
        (st["StackStatus"], st.get("Outputs")),
    )
    cfn.delete_stack(StackName="check-db")
    gone = [s for s in cfn.list_stacks()["StackSummaries"] if s["StackName"] == "check-db"]
    checks.expect(
        "an update turning DeletionProtection off (previous template) lets the stack delete",
        bool(gone) and all(s["StackStatus"] == "DELETE_COMPLETE" for s in gone),
        gone,
    )


BUCKET_TEMPLATE = """
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Unnamed:
    Type: AWS::S3::Bucket
    Properties:
      Tags:
        - Key: Purpose
          Value: check
"""
VERSIONED_BUCKET_TEMPLATE = BUCKET_TEMPLATE.replace("    Properties:\n", "    Properties:\n      VersioningConfiguration:\n        Status: Enabled\n")


def run_bucket_update(checks):
    """A bucket CloudFormation named, updated to be versioned."""
    cfn, s3 = checks.cfn, checks.s3
    checks.deploy("check-bucket", BUCKET_TEMPLATE, "CREATE", "bucket-create")
    checks.deploy("check-bucket", VERSIONED_BUCKET_TEMPLATE, "UPDATE", "bucket-update")
    st = checks.stack("check-bucket")
    name = cfn.describe_stack_resource(StackName="check-bucket", LogicalResourceId="Unnamed")["StackResourceDetail"]["PhysicalResourceId"]
    versioning = s3.get_bucket_versioning(Bucket=name).get("Status")
    checks.expect(
        "an update of a bucket CloudFormation named completes and turns versioning on",
        st["StackStatus"] == "UPDATE_COMPLETE" and versioning == "Enabled",
        (st["StackStatus"], versioning),
    )


DRIFT_TEMPLATE = json.dumps({
    "Parameters": {
        "AsgMinSize": {"Type": "Number", "Default": "1"},
        "AsgMaxSize": {"Type": "Number", "Default": "2"},
        "AsgDesiredCapacity": {"Type": "Number", "Default": "1"},
        "Greeting": {"Type": "String", "Default": "hello"},
    },
    "Resources": {
        "Vpc": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.8.0.0/16"}},
        "Subnet": {"Type": "AWS::EC2::Subnet", "Properties": {"VpcId": {"Ref": "Vpc"}, "CidrBlock": "10.8.1.0/24"}},
        "Peer": {"Type": "AWS::EC2::SecurityGroup", "Properties": {"GroupDescription": "peer", "VpcId": {"Ref": "Vpc"}}},
        "Web": {"Type": "AWS::EC2::SecurityGroup", "Properties": {
            "GroupDescription": "web", "VpcId": {"Ref": "Vpc"},
            "SecurityGroupIngress": [
                {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "CidrIp": "0.0.0.0/0", "Description": "http"},
                {"IpProtocol": "tcp", "FromPort": "8080", "ToPort": "8080", "SourceSecurityGroupId": {"Fn::GetAtt": ["Peer", "GroupId"]}},
                {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "SourcePrefixListId": "pl-3b927c52"},
                {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "CidrIpv6": "::/0"},
            ]}},
        "WebAlt": {"Type": "AWS::EC2::SecurityGroupIngress", "Properties": {
            "GroupId": {"Ref": "Web"}, "IpProtocol": "tcp", "FromPort": 8443, "ToPort": 8443, "CidrIp": "10.0.0.0/8"}},
        "Template": {"Type": "AWS::EC2::LaunchTemplate", "Properties": {
            "LaunchTemplateName": "check-drift", "LaunchTemplateData": {"ImageId": "ami-12c6146b", "InstanceType": "t3.micro"}}},
        "Group": {"Type": "AWS::AutoScaling::AutoScalingGroup", "Properties": {
            "VPCZoneIdentifier": [{"Ref": "Subnet"}],
            "LaunchTemplate": {"LaunchTemplateId": {"Ref": "Template"}, "Version": {"Fn::GetAtt": ["Template", "LatestVersionNumber"]}},
            "MinSize": {"Ref": "AsgMinSize"}, "MaxSize": {"Ref": "AsgMaxSize"}, "DesiredCapacity": {"Ref": "AsgDesiredCapacity"}}},
        "Bucket": {"Type": "AWS::S3::Bucket", "Properties": {"Tags": [{"Key": "Purpose", "Value": "drift"}, {"Key": "Team", "Value": "portal"}]}},
        "Param": {"Type": "AWS::SSM::Parameter", "Properties": {"Name": "/portal-check/drift", "Type": "String", "Value": {"Ref": "Greeting"}}},
        "Logs": {"Type": "AWS::Logs::LogGroup", "Properties": {"RetentionInDays": 7}},
    },
})
CHECKED = {"Peer", "Web", "WebAlt", "Group", "Bucket", "Param"}  # the types drift detection compares
NOT_CHECKED = {"Vpc", "Subnet", "Template", "Logs"}


def detect(checks, stack):
    """DetectStackDrift + its status + every resource drift (through pages of 4)."""
    detection_id = checks.cfn.detect_stack_drift(StackName=stack)["StackDriftDetectionId"]
    status = checks.cfn.describe_stack_drift_detection_status(StackDriftDetectionId=detection_id)
    drifts, token = [], None
    while True:
        page = checks.cfn.describe_stack_resource_drifts(StackName=stack, MaxResults=4, **({"NextToken": token} if token else {}))
        drifts += page["StackResourceDrifts"]
        token = page.get("NextToken")
        if not token:
            return status, {d["LogicalResourceId"]: d for d in drifts}


def statuses(drifts):
    return {name: d["StackResourceDriftStatus"] for name, d in drifts.items()}


def make_drift(checks, stack):
    """Out-of-band changes: a rule added and one revoked, the capacity, the parameter, the tags."""
    ids = {name: checks.cfn.describe_stack_resource(StackName=stack, LogicalResourceId=name)["StackResourceDetail"]["PhysicalResourceId"]
           for name in ("Web", "Group", "Bucket")}
    checks.ec2.authorize_security_group_ingress(GroupId=ids["Web"], IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "10.1.0.0/16"}]}])
    checks.ec2.revoke_security_group_ingress(GroupId=ids["Web"], IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    checks.autoscaling.set_desired_capacity(AutoScalingGroupName=ids["Group"], DesiredCapacity=2)
    checks.ssm.put_parameter(Name="/portal-check/drift", Value="changed", Type="String", Overwrite=True)
    checks.s3.put_bucket_tagging(Bucket=ids["Bucket"], Tagging={"TagSet": [
        {"Key": "Purpose", "Value": "changed"}, {"Key": "Team", "Value": "portal"}, {"Key": "Extra", "Value": "x"}]})
    return ids


def web_rules(checks, group_id):
    group = checks.ec2.describe_security_groups(GroupIds=[group_id])["SecurityGroups"][0]
    return {(p["FromPort"], r["CidrIp"]) for p in group["IpPermissions"] for r in p.get("IpRanges", [])}


def run_drift(checks):
    """Drift detection, then a drift-aware (REVERT_DRIFT) change set that puts the resources back."""
    cfn = checks.cfn
    checks.deploy("check-drift", DRIFT_TEMPLATE, "CREATE", "drift-create")
    before = checks.stack("check-drift").get("DriftInformation", {})
    status, drifts = detect(checks, "check-drift")
    checks.expect(
        "drift: an untouched stack is IN_SYNC (DETECTION_COMPLETE, no drifted resource)",
        status["DetectionStatus"] == "DETECTION_COMPLETE" and status["StackDriftStatus"] == "IN_SYNC"
        and status["DriftedStackResourceCount"] == 0 and status["StackId"] == checks.stack("check-drift")["StackId"],
        status,
    )
    checks.expect(
        "drift: its security groups, ingress, group, bucket and parameter are IN_SYNC, the other types NOT_CHECKED",
        statuses(drifts) == {**{n: "IN_SYNC" for n in CHECKED}, **{n: "NOT_CHECKED" for n in NOT_CHECKED}},
        statuses(drifts),
    )
    group = drifts.get("Group", {})
    checks.expect(
        "drift: an IN_SYNC resource has its expected and actual properties (a Number parameter \"1\" = 1)",
        json.loads(group.get("ExpectedProperties", "{}")).get("DesiredCapacity") == "1"
        and json.loads(group.get("ActualProperties", "{}")).get("DesiredCapacity") == "1" and group.get("PhysicalResourceId"),
        group,
    )
    after = checks.stack("check-drift").get("DriftInformation", {})
    checks.expect(
        "drift: DescribeStacks carries DriftInformation (NOT_CHECKED, then IN_SYNC with LastCheckTimestamp)",
        before.get("StackDriftStatus") == "NOT_CHECKED" and after.get("StackDriftStatus") == "IN_SYNC" and "LastCheckTimestamp" in after,
        (before, after),
    )

    ids = make_drift(checks, "check-drift")
    status, drifts = detect(checks, "check-drift")
    checks.expect(
        "drift: out-of-band changes make the stack DRIFTED with 4 drifted resources",
        status["StackDriftStatus"] == "DRIFTED" and status["DriftedStackResourceCount"] == 4,
        status,
    )
    checks.expect(
        "drift: the security group, group, parameter and bucket are MODIFIED, the rest as before",
        statuses(drifts) == {**{n: "IN_SYNC" for n in CHECKED}, **{n: "NOT_CHECKED" for n in NOT_CHECKED},
                             **{n: "MODIFIED" for n in ("Web", "Group", "Param", "Bucket")}},
        statuses(drifts),
    )
    web = {(d["DifferenceType"], d["PropertyPath"].rsplit("/", 1)[0]): d for d in drifts["Web"]["PropertyDifferences"]}
    added, removed = web.get(("ADD", "/SecurityGroupIngress"), {}), web.get(("REMOVE", "/SecurityGroupIngress"), {})
    checks.expect(
        "drift: a rule authorized through EC2 is an ADD, a revoked one a REMOVE, under /SecurityGroupIngress",
        len(web) == 2 and "10.1.0.0/16" in added.get("ActualValue", "") and "0.0.0.0/0" in removed.get("ExpectedValue", ""),
        drifts["Web"]["PropertyDifferences"],
    )
    differences = {name: [(d["PropertyPath"], d["ExpectedValue"], d["ActualValue"], d["DifferenceType"]) for d in drifts[name]["PropertyDifferences"]]
                   for name in ("Group", "Param", "Bucket")}
    checks.expect(
        "drift: the capacity changed through Auto Scaling is /DesiredCapacity, the SSM value /Value, the tags /Tags",
        differences == {
            "Group": [("/DesiredCapacity", "1", "2", "NOT_EQUAL")],
            "Param": [("/Value", "hello", "changed", "NOT_EQUAL")],
            "Bucket": [("/Tags/0/Value", "drift", "changed", "NOT_EQUAL"), ("/Tags/2", "null", '{"Key":"Extra","Value":"x"}', "ADD")],
        },
        differences,
    )
    modified = cfn.describe_stack_resource_drifts(StackName="check-drift", StackResourceDriftStatusFilters=["MODIFIED"])["StackResourceDrifts"]
    checks.expect("drift: StackResourceDriftStatusFilters keeps the MODIFIED ones", len(modified) == 4, [d["LogicalResourceId"] for d in modified])
    try:
        cfn.describe_stack_drift_detection_status(StackDriftDetectionId="00000000-0000-0000-0000-000000000000")
        unknown = "no error"
    except cfn.exceptions.ClientError as e:
        unknown = e.response["Error"]["Code"]
    checks.expect("drift: an unknown detection id is a ValidationError", unknown == "ValidationError", unknown)

    # Without DeploymentMode the same template is still no change, drift or not.
    cs = checks.deploy("check-drift", DRIFT_TEMPLATE, "UPDATE", "drift-plain")
    checks.expect(
        "drift: a plain change set with the same template still reports no changes",
        cs["Status"] == "FAILED" and "didn't contain changes" in cs.get("StatusReason", ""),
        (cs["Status"], cs.get("StatusReason")),
    )
    run_revert_drift(checks, ids)


def run_revert_drift(checks, ids):
    cfn = checks.cfn
    cfn.create_change_set(StackName="check-drift", ChangeSetName="drift-revert", ChangeSetType="UPDATE",
                          UsePreviousTemplate=True, DeploymentMode="REVERT_DRIFT")
    checks.wait_change_set("check-drift", "drift-revert")
    cs = cfn.describe_change_set(StackName="check-drift", ChangeSetName="drift-revert", IncludePropertyValues=True)
    changes = {c["ResourceChange"]["LogicalResourceId"]: c["ResourceChange"] for c in cs.get("Changes", [])}
    checks.expect(
        "revert: a REVERT_DRIFT change set with the same template is CREATE_COMPLETE / AVAILABLE, drift-aware",
        cs["Status"] == "CREATE_COMPLETE" and cs["ExecutionStatus"] == "AVAILABLE"
        and cs.get("DeploymentMode") == "REVERT_DRIFT" and cs.get("StackDriftStatus") == "DRIFTED",
        {k: cs.get(k) for k in ("Status", "StatusReason", "ExecutionStatus", "DeploymentMode", "StackDriftStatus")},
    )
    checks.expect(
        "revert: it modifies each drifted resource (ResourceDriftStatus MODIFIED)",
        {name: (c["Action"], c.get("ResourceDriftStatus")) for name, c in changes.items()}
        == {name: ("Modify", "MODIFIED") for name in ("Web", "Group", "Param", "Bucket")},
        changes,
    )
    details = [d["Target"] for d in changes.get("Group", {}).get("Details", [])]
    checks.expect(
        "revert: a detail per drifted property: /DesiredCapacity from actual 2 back to the template's 1",
        len(details) == 1 and details[0]["Attribute"] == "Properties" and details[0]["Name"] == "DesiredCapacity"
        and details[0].get("Path") == "/Properties/DesiredCapacity" and details[0].get("BeforeValue") == "2"
        and details[0].get("AfterValue") == "1" and details[0].get("Drift", {}).get("ActualValue") == "2"
        and details[0].get("Drift", {}).get("PreviousValue") == "1" and details[0].get("BeforeValueFrom") == "ACTUAL_STATE",
        details,
    )
    names = sorted((d["Target"]["Name"], d["Target"].get("AttributeChangeType")) for d in changes.get("Web", {}).get("Details", []))
    checks.expect(
        "revert: the security group's details add back the revoked rule and remove the added one",
        names == [("SecurityGroupIngress", "Add"), ("SecurityGroupIngress", "Remove")],
        names,
    )
    plain = cfn.describe_change_set(StackName="check-drift", ChangeSetName="drift-revert")
    target = next((c["ResourceChange"] for c in plain.get("Changes", []) if c["ResourceChange"]["LogicalResourceId"] == "Group"), {})
    target = (target.get("Details") or [{}])[0].get("Target", {})
    checks.expect(
        "revert: without IncludePropertyValues the details name the property but carry no values",
        target.get("Name") == "DesiredCapacity" and "BeforeValue" not in target and "Drift" not in target,
        target,
    )

    cfn.execute_change_set(StackName="check-drift", ChangeSetName="drift-revert")
    st = checks.stack("check-drift")
    events = [(e["LogicalResourceId"], e["ResourceStatus"]) for e in cfn.describe_stack_events(StackName="check-drift")["StackEvents"]]
    checks.expect(
        "revert: executed, the stack is UPDATE_COMPLETE with each reverted resource's UPDATE events",
        st["StackStatus"] == "UPDATE_COMPLETE" and ("check-drift", "UPDATE_IN_PROGRESS") in events
        and all((n, "UPDATE_COMPLETE") in events for n in ("Web", "Group", "Param", "Bucket")),
        (st["StackStatus"], events[:12]),
    )
    group = checks.autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[ids["Group"]])["AutoScalingGroups"]
    tags = checks.s3.get_bucket_tagging(Bucket=ids["Bucket"])["TagSet"]
    restored = {
        "rules": sorted(web_rules(checks, ids["Web"])),
        "desired": group[0]["DesiredCapacity"] if group else None,
        "value": checks.ssm.get_parameter(Name="/portal-check/drift")["Parameter"]["Value"],
        "tags": sorted((t["Key"], t["Value"]) for t in tags if not t["Key"].startswith("aws:")),
    }
    checks.expect(
        "revert: the backends have the template's values again (rules, capacity, parameter, tags)",
        restored == {"rules": [(80, "0.0.0.0/0"), (8443, "10.0.0.0/8")], "desired": 1, "value": "hello",
                     "tags": [("Purpose", "drift"), ("Team", "portal")]},
        restored,
    )
    status, drifts = detect(checks, "check-drift")
    checks.expect("revert: a new detection reports IN_SYNC", status["StackDriftStatus"] == "IN_SYNC", (status, statuses(drifts)))

    checks.ssm.delete_parameter(Name="/portal-check/drift")
    status, drifts = detect(checks, "check-drift")
    checks.expect(
        "drift: a resource deleted out of band is DELETED (the stack DRIFTED)",
        drifts.get("Param", {}).get("StackResourceDriftStatus") == "DELETED" and status["StackDriftStatus"] == "DRIFTED",
        (status, statuses(drifts)),
    )


PORTAL_ENV = "concert-drift"  # EnvironmentName of the 1-network.yaml / 3-compute.yaml deployment
# What 3-compute.yaml imports from 2-data.yaml.
TEMPLATE_DATA_EXPORTS = json.dumps({
    "Resources": {"Placeholder": {"Type": "AWS::Logs::LogGroup"}},
    "Outputs": {
        name: {"Value": value, "Export": {"Name": f"{PORTAL_ENV}-{name}"}}
        for name, value in (
            ("DbSecretArn", f"arn:aws:secretsmanager:us-east-1:123456789012:secret:{PORTAL_ENV}-db-AbCdEf"),
            ("DbEndpointAddress", f"{PORTAL_ENV}-db.abcdefghij.us-east-1.rds.amazonaws.com"),
            ("DbEndpointPort", "3306"),
        )
    },
})
COMPUTE_PARAMETERS = ("EnvironmentName", "InstanceType", "AsgMinSize", "AsgMaxSize", "AsgDesiredCapacity", "EbsVolumeSize",
                      "DetailedMonitoring", "LogRetentionDays", "EnableEcsFargate", "AmiId", "EnableCloudFront", "DomainName", "EnableRoute53")


def compute_update(checks, name, **values):
    """A parameter-only update of the compute stack as the portal makes it (UsePreviousTemplate, the
    other parameters UsePreviousValue)."""
    checks.cfn.create_change_set(
        StackName="check-compute", ChangeSetName=name, ChangeSetType="UPDATE", UsePreviousTemplate=True,
        Parameters=[{"ParameterKey": k, "ParameterValue": values[k]} if k in values else {"ParameterKey": k, "UsePreviousValue": True}
                    for k in COMPUTE_PARAMETERS],
    )
    cs = checks.wait_change_set("check-compute", name)
    if cs["Status"] == "CREATE_COMPLETE":
        checks.cfn.execute_change_set(StackName="check-compute", ChangeSetName=name)
    return cs


def run_portal_templates(checks):
    """The real network and compute templates: in sync once deployed; the compute stack's sleep and wake."""
    templates = os.path.join(HERE, "..", "..", "infra", "templates")
    with open(os.path.join(templates, "1-network.yaml")) as f:
        checks.deploy("check-network", f.read(), "CREATE", "network-create", {"EnvironmentName": PORTAL_ENV, "EnableCloudFront": "true"})
    checks.deploy("check-data", TEMPLATE_DATA_EXPORTS, "CREATE", "data-create")
    with open(os.path.join(templates, "3-compute.yaml")) as f:
        checks.deploy("check-compute", f.read(), "CREATE", "compute-create", {"EnvironmentName": PORTAL_ENV})
    states = (checks.stack("check-network")["StackStatus"], checks.stack("check-compute")["StackStatus"])
    checks.expect("1-network.yaml (EnableCloudFront) and 3-compute.yaml reach CREATE_COMPLETE", states == ("CREATE_COMPLETE",) * 2, states)
    for stack, resources in (("check-network", ("AlbSecurityGroup", "AppSecurityGroup", "DbSecurityGroup", "AssetsBucket")),
                             ("check-compute", ("AutoScalingGroup",))):
        status, drifts = detect(checks, stack)
        found = {name: drifts.get(name, {}).get("StackResourceDriftStatus") for name in resources}
        checks.expect(
            f"drift: {stack} (a portal template) is IN_SYNC once deployed, {', '.join(resources)} checked",
            status["StackDriftStatus"] == "IN_SYNC" and set(found.values()) == {"IN_SYNC"},
            (status, found, {n: d["PropertyDifferences"] for n, d in drifts.items() if d.get("PropertyDifferences")}),
        )

    name = checks.cfn.describe_stack_resource(StackName="check-compute", LogicalResourceId="AutoScalingGroup")["StackResourceDetail"]["PhysicalResourceId"]
    sizes = []
    for step, values in (("sleep", {"AsgMinSize": "0", "AsgDesiredCapacity": "0"}), ("wake", {"AsgMinSize": "1", "AsgDesiredCapacity": "1"})):
        cs = compute_update(checks, f"compute-{step}", **values)
        changes = [(c["ResourceChange"]["Action"], c["ResourceChange"]["LogicalResourceId"]) for c in cs.get("Changes", [])]
        groups = checks.autoscaling.describe_auto_scaling_groups()["AutoScalingGroups"]
        sizes.append((step, checks.stack("check-compute")["StackStatus"], changes,
                      [(g["AutoScalingGroupName"] == name, g["MinSize"], g["DesiredCapacity"]) for g in groups if g["AutoScalingGroupName"].startswith("check-compute-")]))
    checks.expect(
        "a parameter-only update (previous template and values) sleeps the group to 0 and wakes it, in place",
        sizes == [("sleep", "UPDATE_COMPLETE", [("Modify", "AutoScalingGroup")], [(True, 0, 0)]),
                  ("wake", "UPDATE_COMPLETE", [("Modify", "AutoScalingGroup")], [(True, 1, 1)])],
        sizes,
    )
    status, _ = detect(checks, "check-compute")
    checks.expect("drift: after sleep and wake the compute stack is IN_SYNC", status["StackDriftStatus"] == "IN_SYNC", status)


def check_loopback_only():
    proc = subprocess.run(
        [sys.executable, LAUNCHER, "-H", "0.0.0.0", "-p", str(free_port())],
        capture_output=True, text=True, timeout=60,
    )
    return proc.returncode != 0 and "loopback only" in proc.stderr, proc.stderr.strip()


def main():
    plain = "--plain" in sys.argv[1:]
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    server = [sys.executable, "-m", "moto.server"] if plain else [sys.executable, LAUNCHER]
    log = tempfile.TemporaryFile(mode="w+")
    proc = subprocess.Popen(server + ["-H", "127.0.0.1", "-p", str(port)], stdout=log, stderr=subprocess.STDOUT)
    kw = dict(endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test")
    checks = Checks(cloudformation_client(**kw), boto3.client("ssm", **kw), boto3.client("cloudfront", **kw), boto3.client("ec2", **kw))
    checks.s3, checks.autoscaling, checks.rds = (boto3.client(name, **kw) for name in ("s3", "autoscaling", "rds"))
    try:
        wait_until_up(endpoint, proc)
        # Each part runs even when an earlier one stopped on an API error (e.g. with --plain).
        parts = (
            checks.run, checks.run_cloudfront, checks.run_cdn_template,
            lambda: run_failures_and_deletes(checks), lambda: run_deletion_protection(checks),
            lambda: run_bucket_update(checks), lambda: run_drift(checks), lambda: run_portal_templates(checks),
        )
        for part in parts:
            try:
                part()
            except Exception as e:  # an unexpected API error fails the check instead of a traceback
                checks.expect(f"the checks of {getattr(part, '__name__', 'part')} ran to the end", False, repr(e))
    except Exception as e:
        checks.expect("the server started", False, repr(e))
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
    if not plain:
        ok, detail = check_loopback_only()
        checks.expect("the launcher refuses a non-loopback host", ok, detail)
    if checks.failed:
        log.seek(0)
        print("--- server log (last 40 lines) ---\n" + "".join(log.readlines()[-40:]))
    print(f"launcher check: {'FAILED' if checks.failed else 'passed'} ({checks.failed} failing)")
    return 1 if checks.failed else 0


if __name__ == "__main__":
    sys.exit(main())
