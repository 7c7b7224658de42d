"""Pending RDS modifications for the local stack's moto.

moto 5 applies every ModifyDBInstance at once, whatever ApplyImmediately says, and never reports
PendingModifiedValues. RDS keeps the settings that need a restart or a storage change for the next
maintenance window unless ApplyImmediately is true. Here:

- ModifyDBInstance with ApplyImmediately false (RDS's default) keeps those settings in the
  instance's PendingModifiedValues (DescribeDBInstances shows them) and applies the rest at once,
  as RDS does (deletion protection, a backup retention change between non-zero values, ...).
- ModifyDBInstance with ApplyImmediately true applies its settings and every pending one; the
  instance is `modifying` for a few seconds when one of them is a pending kind, then `available`.
- ApplyPendingMaintenanceAction (any ApplyAction, OptInType `immediate`) on the instance's ARN is
  the maintenance window arriving: the pending settings are applied the same way. `next-maintenance`
  and `undo-opt-in` change nothing (there is no clock-driven window here).

Replayed requests (moto's recorder after `up`) go through the same code, so pending settings and
applied ones survive a restart; only the `modifying` pause is skipped for them.
"""
import threading

from moto.core.responses import ActionResult
from moto.rds.exceptions import RDSClientError
from moto.rds.models import RDSBackend
from moto.rds.responses import RDSResponse

MODIFYING_SECONDS = 3

# Settings RDS defers to the maintenance window: request key (snake case, as moto passes it),
# the DBInstance attribute and the PendingModifiedValues member.
DEFERRED = {
    "db_instance_class": ("db_instance_class", "DBInstanceClass"),
    "allocated_storage": ("allocated_storage", "AllocatedStorage"),
    "multi_az": ("multi_az", "MultiAZ"),
    "engine_version": ("engine_version", "EngineVersion"),
    "storage_type": ("storage_type", "StorageType"),
    "iops": ("iops", "Iops"),
    "storage_throughput": ("storage_throughput", "StorageThroughput"),
    "ca_certificate_identifier": ("ca_certificate_identifier", "CACertificateIdentifier"),
}
BACKUP_RETENTION = ("backup_retention_period", "BackupRetentionPeriod")


def _deferred_backup_retention(db, value):
    # RDS applies a change between two non-zero retentions at once; to or from 0 is an outage.
    current = int(getattr(db, BACKUP_RETENTION[0], 0) or 0)
    return value is not None and (int(value) == 0) != (current == 0)


def _pending(db):
    return getattr(db, "pending_modified_values", None) or {}


def _set_pending(db, pending):
    db.pending_modified_values = pending or None


def _pause_modifying(db, replaying):
    if replaying():
        return
    db.status = "modifying"

    def done():
        if db.status == "modifying":
            db.status = "available"

    timer = threading.Timer(MODIFYING_SECONDS, done)
    timer.daemon = True
    timer.start()


def _apply_pending(db, replaying):
    pending = _pending(db)
    if not pending:
        return False
    by_member = {member: attr for attr, member in [*DEFERRED.values(), BACKUP_RETENTION]}
    for member, value in pending.items():
        setattr(db, by_member[member], value)
    _set_pending(db, None)
    _pause_modifying(db, replaying)
    return True


def install(replaying=lambda: False):
    """Wraps moto's ModifyDBInstance and adds ApplyPendingMaintenanceAction."""
    modify = RDSBackend.modify_db_instance

    def _modify(self, db_instance_identifier, db_kwargs):
        db = self.describe_db_instances(db_instance_identifier)[0]
        immediately = bool(db_kwargs.get("apply_immediately"))
        deferred = {}
        for key, (_attr, member) in DEFERRED.items():
            if db_kwargs.get(key) is not None:
                deferred[member] = db_kwargs.get(key)
        retention = db_kwargs.get(BACKUP_RETENTION[0])
        if _deferred_backup_retention(db, retention):
            deferred[BACKUP_RETENTION[1]] = int(retention)
        if immediately:
            db = modify(self, db_instance_identifier, db_kwargs)
            # The request's own values win over older pending ones.
            _set_pending(db, {k: v for k, v in _pending(db).items() if k not in deferred})
            if not _apply_pending(db, replaying) and deferred:
                _pause_modifying(db, replaying)
            return db
        kept = {}
        for key, (attr, member) in DEFERRED.items():
            if member in deferred:
                kept[key] = db_kwargs.pop(key)
        if BACKUP_RETENTION[1] in deferred:
            db_kwargs.pop(BACKUP_RETENTION[0])
        db = modify(self, db_instance_identifier, db_kwargs)
        for member, value in deferred.items():
            attr = next(a for a, m in [*DEFERRED.values(), BACKUP_RETENTION] if m == member)
            if str(getattr(db, attr, None)) == str(value):
                deferred.pop(member)
        _set_pending(db, {**_pending(db), **deferred})
        return db

    def apply_pending_maintenance_action(self):
        arn = self.params.get("ResourceIdentifier") or ""
        opt_in = self.params.get("OptInType")
        if opt_in not in ("immediate", "next-maintenance", "undo-opt-in"):
            raise RDSClientError(
                "InvalidParameterValue",
                f"OptInType {opt_in!r} is not one of immediate, next-maintenance, undo-opt-in",
            )
        db = next((d for d in self.backend.databases.values() if d.arn == arn), None)
        if db is None:
            raise RDSClientError("ResourceNotFoundFault", f"The resource {arn} could not be found.")
        if opt_in == "immediate":
            _apply_pending(db, replaying)
        return ActionResult({
            "ResourcePendingMaintenanceActions": {
                "ResourceIdentifier": arn,
                "PendingMaintenanceActionDetails": [],
            }
        })

    RDSBackend.modify_db_instance = _modify
    RDSResponse.apply_pending_maintenance_action = apply_pending_maintenance_action
