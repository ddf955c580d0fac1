#!/usr/bin/env python3
"""Start moto's AWS server (the local sandbox) with one CloudFormation fix.

Usage: python tools/sandbox/moto_server.py -H 127.0.0.1 -p PORT   (any other moto.server args pass through)

Why the patch: in moto 5.2.5, CloudFormationBackend.execute_change_set applies the change set's
resources but, unlike create_stack, never builds the stack's Outputs nor registers its Exports in
the region's export table. A stack created by CreateChangeSet(CREATE) also gets a private, empty
export table instead of the region's one. So after deploying with change sets (what the portal
does), DescribeStacks shows no Outputs and a later stack's Fn::ImportValue fails with
"No export named ... found". We wrap execute_change_set to do what create_stack does.
The sandbox must only be reachable from this machine: the host must be a loopback address.
"""

import argparse
import ipaddress
import sys

from moto.cloudformation.models import CloudFormationBackend
from moto.server import main as moto_server_main

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
