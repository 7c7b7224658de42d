"""moto's server for the local stack: S3 bucket policies as over TLS, and RDS instances with data.

Clients reach real S3 over TLS but reach moto over plain HTTP on loopback, and moto 5 evaluates
neither the Bool condition operator nor a failed condition of a Deny statement correctly: the
TLS-only bucket policy of mlflow:s3:create (Deny when aws:SecureTransport is false) would deny
every object request. Here every request counts as TLS, so statements that apply only to non-TLS
requests are left out of the bucket policy evaluation; the rest is moto's own.

RDS: when stack/stack passes STACK_RDS_* (see rds_data.py), every PostgreSQL DB instance gets its
own PostgreSQL cluster, snapshots are dumps of it and restores load them. ModifyDBInstance keeps
what RDS defers to the maintenance window pending until ApplyPendingMaintenanceAction (rds_pending.py).
"""
import json
import sys

from moto.iam.access_control import IAMPolicy, PermissionResult
from moto.s3.models import FakeBucket
from moto.server import main

import rds_data
import rds_pending


def _only_for_insecure_transport(statement):
    values = statement.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport")
    values = values if isinstance(values, list) else [values]
    return [str(v).lower() for v in values] == ["false"]


def _get_permission(self, action, resource):
    if self.policy is None:
        return PermissionResult.NEUTRAL
    policy = json.loads(self.policy)
    statements = policy["Statement"]
    statements = statements if isinstance(statements, list) else [statements]
    kept = [s for s in statements if not _only_for_insecure_transport(s)]
    if not kept:
        return PermissionResult.NEUTRAL
    return IAMPolicy(json.dumps({**policy, "Statement": kept})).is_action_permitted(action, resource)


FakeBucket.get_permission = _get_permission

if __name__ == "__main__":
    clusters = rds_data.from_environment()
    if clusters:
        rds_data.install(clusters)
    rds_pending.install(rds_data.replaying)
    try:
        sys.exit(main())
    finally:
        # moto exits on SIGTERM/SIGINT: the instances' clusters stop with it (fast shutdown).
        if clusters:
            clusters.stop_all()
