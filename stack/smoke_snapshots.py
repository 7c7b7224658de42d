"""RDS snapshots carry data on the stack (run by stack/smoke-snapshots with the stack's environment).

An instance with deletion protection gets a table with rows through its own endpoint; a manual
snapshot is taken; deletion is refused while protected; after protection is lifted the instance is
deleted with a final snapshot, its PostgreSQL stops answering; the final snapshot restored under a
new name serves the same rows to the same application role and password.
"""
import os
import secrets
import sys
import time

import boto3
import psycopg2
from botocore.exceptions import ClientError

DEADLINE_SECONDS = int(os.environ.get("SMOKE_DEADLINE_SECONDS", "300"))
CA = os.environ.get("STACK_CA_FILE")
rds = boto3.client("rds")
sm = boto3.client("secretsmanager")
suffix = secrets.token_hex(3)
SOURCE, RESTORED = f"smoke-snap-{suffix}", f"smoke-snap-{suffix}-restored"
MANUAL, FINAL = f"smoke-snap-{suffix}-manual", f"smoke-snap-{suffix}-final"
APP_PASSWORD = secrets.token_hex(12)
ROWS = [(i, f"run-{i}-{secrets.token_hex(4)}") for i in range(1, 51)]


def step(msg):
    print(f"==> {msg}", flush=True)


def wait_for(what, check):
    """Polls check() until it returns a truthy value; fails naming what did not happen in time."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            sys.exit(f"FAIL: {what} did not happen within {DEADLINE_SECONDS} s")
        time.sleep(1)


def instance(identifier):
    try:
        return rds.describe_db_instances(DBInstanceIdentifier=identifier)["DBInstances"][0]
    except ClientError as e:
        if e.response["Error"]["Code"] in ("DBInstanceNotFound", "DBInstanceNotFoundFault"):
            return None
        raise


def available(identifier):
    db = instance(identifier)
    if db and db["DBInstanceStatus"] in ("failed", "incompatible-restore"):
        sys.exit(f"FAIL: {identifier} is {db['DBInstanceStatus']}")
    return db if db and db["DBInstanceStatus"] == "available" else None


def snapshot_status(identifier):
    return rds.describe_db_snapshots(DBSnapshotIdentifier=identifier)["DBSnapshots"][0]["Status"]


def snapshot_available(identifier):
    status = snapshot_status(identifier)
    if status == "failed":
        sys.exit(f"FAIL: snapshot {identifier} failed")
    return status == "available"


def connect(db, user, password, dbname):
    endpoint = db["Endpoint"]
    tls = {"sslmode": "verify-full", "sslrootcert": CA} if CA else {"sslmode": "require"}
    return psycopg2.connect(host=endpoint["Address"], port=endpoint["Port"], user=user, password=password,
                            dbname=dbname, connect_timeout=10, **tls)


def rows_of(db):
    with connect(db, "smoke_app", APP_PASSWORD, "smoke") as conn, conn.cursor() as cur:
        cur.execute("SELECT id, name FROM runs ORDER BY id")
        return cur.fetchall()


def main():
    step(f"RDS instance {SOURCE} (PostgreSQL, managed master secret, deletion protection)")
    rds.create_db_instance(DBInstanceIdentifier=SOURCE, Engine="postgres", DBInstanceClass="db.t4g.micro",
                           AllocatedStorage=20, MasterUsername="mlflowadmin", ManageMasterUserPassword=True,
                           DeletionProtection=True)
    db = wait_for(f"{SOURCE} available", lambda: available(SOURCE))
    secret = sm.get_secret_value(SecretId=db["MasterUserSecret"]["SecretArn"])["SecretString"]
    import json
    master = json.loads(secret)
    print(f"    endpoint {db['Endpoint']['Address']}:{db['Endpoint']['Port']}, TLS {'verify-full' if CA else 'require'}")

    step("as the master user: database smoke owned by role smoke_app; as smoke_app: table runs with 50 rows")
    conn = connect(db, master["username"], master["password"], "postgres")
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("CREATE ROLE smoke_app LOGIN PASSWORD %s", (APP_PASSWORD,))
        cur.execute("GRANT smoke_app TO CURRENT_USER")
        cur.execute("CREATE DATABASE smoke OWNER smoke_app")
    conn.close()
    with connect(db, "smoke_app", APP_PASSWORD, "smoke") as conn, conn.cursor() as cur:
        cur.execute("CREATE TABLE runs (id int PRIMARY KEY, name text NOT NULL)")
        cur.executemany("INSERT INTO runs VALUES (%s, %s)", ROWS)
    assert rows_of(db) == ROWS

    step(f"manual snapshot {MANUAL}: available only once its dump is complete")
    status = rds.create_db_snapshot(DBInstanceIdentifier=SOURCE, DBSnapshotIdentifier=MANUAL)["DBSnapshot"]["Status"]
    print(f"    CreateDBSnapshot answered {status}")
    wait_for(f"snapshot {MANUAL} available", lambda: snapshot_available(MANUAL))

    step("DeleteDBInstance is refused while deletion protection is on, and the data stays")
    try:
        rds.delete_db_instance(DBInstanceIdentifier=SOURCE, FinalDBSnapshotIdentifier=FINAL)
        sys.exit("FAIL: a protected instance was deleted")
    except ClientError as e:
        print(f"    refused: {e.response['Error']['Code']}: {e.response['Error']['Message']}")
    assert rows_of(available(SOURCE)) == ROWS, "rows changed after a refused delete"

    step(f"protection lifted; DeleteDBInstance with final snapshot {FINAL}; the instance's data is deleted")
    rds.modify_db_instance(DBInstanceIdentifier=SOURCE, DeletionProtection=False, ApplyImmediately=True)
    rds.delete_db_instance(DBInstanceIdentifier=SOURCE, FinalDBSnapshotIdentifier=FINAL)
    wait_for(f"{SOURCE} gone", lambda: instance(SOURCE) is None)
    wait_for(f"final snapshot {FINAL} available", lambda: snapshot_available(FINAL))

    def refused():
        try:
            rows_of(db)
            return False
        except psycopg2.OperationalError:
            return True

    wait_for(f"the PostgreSQL of {SOURCE} to stop answering", refused)

    step(f"RestoreDBInstanceFromDBSnapshot {FINAL} -> {RESTORED}: the same rows for the same role and password")
    rds.restore_db_instance_from_db_snapshot(DBInstanceIdentifier=RESTORED, DBSnapshotIdentifier=FINAL,
                                             DBInstanceClass="db.t4g.micro")
    restored = wait_for(f"{RESTORED} available", lambda: available(RESTORED))
    got = rows_of(restored)
    if got != ROWS:
        sys.exit(f"FAIL: the restored instance has {len(got)} rows, expected the {len(ROWS)} written before")
    print(f"    {len(got)} rows, identical, at {restored['Endpoint']['Address']}:{restored['Endpoint']['Port']}")

    if os.environ.get("SMOKE_KEEP") != "1":
        step("clean-up: restored instance and both snapshots deleted")
        rds.delete_db_instance(DBInstanceIdentifier=RESTORED, SkipFinalSnapshot=True)
        for s in (MANUAL, FINAL):
            rds.delete_db_snapshot(DBSnapshotIdentifier=s)
    print("snapshots carry data: OK")


if __name__ == "__main__":
    main()
