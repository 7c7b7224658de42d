"""RDS instances that hold data, for the local stack's moto.

moto keeps RDS as metadata only. Here every PostgreSQL DB instance gets its own PostgreSQL cluster
(a copy of one initdb'd template, its own port on 127.0.0.1, TLS with a certificate from the
stack's CA), and the endpoint moto reports points at it. A DB snapshot is a pg_dumpall of the
instance's cluster (roles with their password hashes, every database); restoring a snapshot loads
that dump into a fresh cluster; deleting an instance stops its cluster and deletes its data.

Statuses follow RDS: an instance is `creating` until its cluster answers (restored ones until the
dump is loaded), a snapshot is `creating` until its dump is complete on disk. moto's own checks
(deletion protection, unknown identifiers, quotas) run first: nothing here happens for a request
moto refuses.

State survives `down`/`up`: moto is rebuilt by replaying its recording, and replayed requests
(marked by the replay with REPLAY_HEADER) cause no side effect; the registry file says which
cluster and dump belong to which instance and snapshot, and after the replay the clusters of the
instances that exist are started again (an instance without one, made before this existed, gets
an empty one).
"""
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import psycopg2
from moto.rds.exceptions import RDSClientError
from moto.moto_server.werkzeug_app import DomainDispatcherApplication
from moto.rds.models import DBInstance, RDSBackend, rds_backends

REPLAY_HEADER = "X-Stack-Replay"
SUPERUSER = "stack"
SUPERUSER_PASSWORD = "stack"
# What moto's managed master secret always says (see stack/README.md).
MANAGED_MASTER_USER = "admin"
MANAGED_MASTER_PASSWORD = "P@55w0rd!"
ENGINES = ("postgres",)
READY_SECONDS = 180

log = logging.getLogger("stack.rds")
_request = threading.local()


def replaying():
    """True while the current request is one that moto's recorder replays."""
    return getattr(_request, "replaying", False)


class InvalidSnapshotState(RDSClientError):
    def __init__(self, message):
        super().__init__("InvalidDBSnapshotState", message)


class Clusters:
    """The PostgreSQL clusters behind the RDS instances, and the dumps behind the snapshots."""

    def __init__(self, data_dir, pgdata_dir, bindir, first_port, last_port, pki_dir=None):
        self.data = Path(data_dir)
        self.pgdata = Path(pgdata_dir)
        self.bindir = Path(bindir)
        self.first_port, self.last_port = first_port, last_port
        self.pki = Path(pki_dir) if pki_dir and (Path(pki_dir) / "ca.key").is_file() else None
        self.snapshots_dir = self.data / "snapshots"
        self.logs = self.data / "logs"
        self.registry_path = self.data / "registry.json"
        self.lock = threading.RLock()
        # Instances are provisioned on their own threads: the first two at once must not both
        # initdb the one template (one's cleanup removed the other's password file).
        self.template_lock = threading.Lock()
        self.procs = {}  # instance ARN -> postgres process
        self.work = {}  # ARN -> thread provisioning an instance or dumping a snapshot
        for d in (self.data, self.snapshots_dir, self.logs):
            d.mkdir(parents=True, exist_ok=True)
            d.chmod(0o700)
        self._as_owner(["mkdir", "-p", str(self.pgdata)])
        self.registry = self._load()

    # ------------------------------------------------------------ registry

    def _load(self):
        try:
            with open(self.registry_path) as f:
                return json.load(f)
        except FileNotFoundError:
            return {"instances": {}, "snapshots": {}}

    def _save(self):
        tmp = self.registry_path.with_suffix(".tmp")
        with open(tmp, "w") as f:
            json.dump(self.registry, f, indent=1, sort_keys=True)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, self.registry_path)

    def instance(self, arn):
        return self.registry["instances"].get(arn)

    def snapshot(self, arn):
        return self.registry["snapshots"].get(arn)

    # ------------------------------------------------------------ processes

    def _as_owner(self, argv):
        """PostgreSQL refuses to run as root: its files and processes belong to `postgres`."""
        if os.geteuid() == 0:
            argv = ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "--"] + argv
        subprocess.run(argv, check=True, capture_output=True)

    def _owner_argv(self, argv):
        if os.geteuid() == 0:
            return ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "--"] + argv
        return argv

    def _chown_to_owner(self, path):
        if os.geteuid() == 0:
            shutil.chown(path, "postgres", "postgres")

    def _template(self):
        """One initdb'd cluster, copied for every instance (a copy is much cheaper than initdb)."""
        template = self.pgdata / ".template"
        with self.template_lock:
            if not (template / "PG_VERSION").is_file():
                self._initdb_template(template)
        return template

    def _initdb_template(self, template):
        tmp = self.pgdata / ".template.tmp"
        self._as_owner(["rm", "-rf", str(tmp)])
        pwfile = self.pgdata / ".template.pw"
        pwfile.write_text(SUPERUSER_PASSWORD + "\n")
        self._chown_to_owner(pwfile)
        try:
            self._as_owner([str(self.bindir / "initdb"), "-D", str(tmp), "-U", SUPERUSER,
                            f"--pwfile={pwfile}", "-E", "UTF8", "--locale=C.UTF-8",
                            "--auth-host=scram-sha-256", "--auth-local=peer"])
        finally:
            pwfile.unlink()
        self._as_owner(["mv", str(tmp), str(template)])

    def _free_port(self):
        used = {i["port"] for i in self.registry["instances"].values()}
        for port in range(self.first_port, self.last_port + 1):
            if port in used:
                continue
            with socket.socket() as s:
                try:
                    s.bind(("127.0.0.1", port))
                except OSError:
                    continue
            return port
        raise RuntimeError(f"no free port for an RDS instance's PostgreSQL in {self.first_port}-{self.last_port}")

    def _certificate(self, directory, address):
        """A server certificate for the endpoint's name and 127.0.0.1, signed by the stack's CA."""
        key, csr, crt = directory / "server.key", directory / "server.csr", directory / "server.crt"
        ext = directory / "server.ext"
        ext.write_text(f"subjectAltName=DNS:{address},DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n")
        subprocess.run(["openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                        "-subj", f"/CN={address}", "-keyout", str(key), "-out", str(csr)],
                       check=True, capture_output=True)
        subprocess.run(["openssl", "x509", "-req", "-in", str(csr), "-CA", str(self.pki / "ca.crt"),
                        "-CAkey", str(self.pki / "ca.key"), "-CAcreateserial", "-days", "3650",
                        "-extfile", str(ext), "-out", str(crt)], check=True, capture_output=True)
        csr.unlink()
        ext.unlink()
        key.chmod(0o600)
        for p in (key, crt):
            self._chown_to_owner(p)

    def _start(self, arn):
        entry = self.instance(arn)
        directory = Path(entry["dir"])
        argv = [str(self.bindir / "postgres"), "-D", str(directory), "-p", str(entry["port"]),
                "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=",
                "-c", "shared_buffers=32MB",
                # A failing statement may carry a password (CREATE ROLE ... PASSWORD): never logged.
                "-c", "log_min_error_statement=panic",
                "-c", f"ssl={'on' if (directory / 'server.crt').is_file() else 'off'}"]
        logfile = open(self.logs / f"{directory.name}.log", "ab")
        # Same process group as moto: stopping moto's group stops the clusters too.
        proc = subprocess.Popen(self._owner_argv(argv), stdout=logfile, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL)
        logfile.close()
        self.procs[arn] = proc
        deadline = time.monotonic() + READY_SECONDS
        while True:
            try:
                self._connect(entry["port"]).close()
                return
            except psycopg2.OperationalError:
                if proc.poll() is not None:
                    raise RuntimeError(f"PostgreSQL of {entry['id']} exited with {proc.returncode} while starting "
                                       f"(log: {self.logs / (directory.name + '.log')})")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"PostgreSQL of {entry['id']} did not answer in {READY_SECONDS} s")
                time.sleep(0.3)

    def _connect(self, port, dbname="postgres"):
        return psycopg2.connect(host="127.0.0.1", port=port, user=SUPERUSER, password=SUPERUSER_PASSWORD,
                                dbname=dbname, sslmode="disable", connect_timeout=5)

    def _stop(self, arn):
        proc = self.procs.pop(arn, None)
        if proc and proc.poll() is None:
            proc.send_signal(signal.SIGINT)  # fast shutdown
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def stop_all(self):
        for arn in list(self.procs):
            proc = self.procs[arn]
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
        for arn in list(self.procs):
            self._stop(arn)

    # ------------------------------------------------------------ instances

    def provision(self, db, dump=None):
        """Gives a new DB instance its cluster (empty, or loaded from a snapshot's dump)."""
        arn = db.arn
        with self.lock:
            port = self._free_port()
            directory = self.pgdata / f"{db.db_instance_identifier}-{time.time_ns() // 1_000_000}"
            self.registry["instances"][arn] = {
                "id": db.db_instance_identifier, "region": db.region, "dir": str(directory), "port": port,
                "status": "creating", "address": endpoint_address(db),
            }
            self._save()
        db.port = port
        db.status = "creating"
        masters = master_logins(db)
        thread = threading.Thread(target=self._provision, args=(db, arn, directory, masters, dump),
                                  name=f"provision {db.db_instance_identifier}", daemon=True)
        self.work[arn] = thread
        thread.start()

    def _provision(self, db, arn, directory, masters, dump):
        status = "available"
        try:
            template = self._template()
            self._as_owner(["cp", "-a", str(template), str(directory)])
            if self.pki:
                self._certificate(directory, endpoint_address(db))
            self._start(arn)
            if dump:
                self._load_dump(arn, dump)
            else:
                self._create_masters(arn, masters)
        except Exception as e:  # the instance must not stay "creating" forever
            log.error("RDS instance %s: %s", db.db_instance_identifier, e)
            status = "incompatible-restore" if dump else "failed"
        with self.lock:
            entry = self.instance(arn)
            if entry:
                entry["status"] = status
                self._save()
        db.status = status
        log.info("RDS instance %s is %s (PostgreSQL on 127.0.0.1:%s)", db.db_instance_identifier, status,
                 self.instance(arn)["port"] if self.instance(arn) else "-")

    def _create_masters(self, arn, masters):
        conn = self._connect(self.instance(arn)["port"])
        conn.autocommit = True
        with conn.cursor() as cur:
            for user, password in masters:
                # Like the RDS master user: may create databases and roles, not a superuser.
                cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (user,))
                verb = "ALTER" if cur.fetchone() else "CREATE"
                ident = psycopg2.extensions.quote_ident(user, cur)
                cur.execute(f"{verb} ROLE {ident} LOGIN CREATEDB CREATEROLE NOSUPERUSER PASSWORD %s", (password,))
        conn.close()

    def _load_dump(self, arn, dump):
        port = self.instance(arn)["port"]
        env = {**os.environ, "PGPASSWORD": SUPERUSER_PASSWORD, "PGSSLMODE": "disable"}
        result = subprocess.run([str(self.bindir / "psql"), "-X", "-q", "-h", "127.0.0.1", "-p", str(port),
                                 "-U", SUPERUSER, "-d", "postgres", "-f", dump], env=env,
                                capture_output=True, text=True)
        # The dump re-creates the stack's own superuser, which every cluster already has.
        errors = [line for line in result.stderr.splitlines()
                  if "ERROR:" in line and f'role "{SUPERUSER}" already exists' not in line]
        if result.returncode != 0 or errors:
            raise RuntimeError(f"loading {dump}: {'; '.join(errors[:5]) or result.returncode}")

    def delete(self, arn):
        """After moto deleted the instance: its data goes once its pending dumps are complete."""
        with self.lock:
            entry = self.instance(arn)
            if not entry:
                return
            entry["status"] = "deleting"
            self._save()
        pending = [t for t in self.work.values() if getattr(t, "instance_arn", None) == arn]
        provisioning = self.work.get(arn)

        def run():
            for t in pending + ([provisioning] if provisioning else []):
                t.join()
            self._stop(arn)
            self._as_owner(["rm", "-rf", entry["dir"]])
            with self.lock:
                self.registry["instances"].pop(arn, None)
                self._save()
            self.work.pop(arn, None)
            log.info("RDS instance %s deleted with its data", entry["id"])

        threading.Thread(target=run, name=f"delete {entry['id']}", daemon=True).start()

    # ------------------------------------------------------------ snapshots

    def take_snapshot(self, snap, instance_arn):
        arn = snap.arn
        entry = self.instance(instance_arn)
        path = self.snapshots_dir / f"{snap.region}-{snap.db_snapshot_identifier}-{time.time_ns() // 1_000_000}.sql"
        with self.lock:
            self.registry["snapshots"][arn] = {"id": snap.db_snapshot_identifier, "file": str(path),
                                               "instance": instance_arn, "status": "creating"}
            self._save()
        snap.status = "creating"
        provisioning = self.work.get(instance_arn)

        def run():
            status = "available"
            try:
                if provisioning:
                    provisioning.join()
                if not entry or self.instance(instance_arn) is None or entry["status"] not in ("available", "deleting"):
                    raise RuntimeError(f"DB instance {instance_arn} has no running PostgreSQL to dump")
                tmp = path.with_suffix(".partial")
                env = {**os.environ, "PGPASSWORD": SUPERUSER_PASSWORD, "PGSSLMODE": "disable"}
                with open(tmp, "w") as out:
                    os.chmod(tmp, 0o600)
                    subprocess.run([str(self.bindir / "pg_dumpall"), "-h", "127.0.0.1", "-p", str(entry["port"]),
                                    "-U", SUPERUSER, "--quote-all-identifiers"], env=env, stdout=out,
                                   stderr=subprocess.PIPE, text=True, check=True)
                    out.flush()
                    os.fsync(out.fileno())
                os.replace(tmp, path)
            except Exception as e:
                err = getattr(e, "stderr", None) or e
                log.error("DB snapshot %s: %s", snap.db_snapshot_identifier, err)
                status = "failed"
            with self.lock:
                s = self.snapshot(arn)
                if s:
                    s["status"] = status
                    self._save()
            snap.status = status
            self.work.pop(arn, None)
            log.info("DB snapshot %s is %s", snap.db_snapshot_identifier, status)

        thread = threading.Thread(target=run, name=f"snapshot {snap.db_snapshot_identifier}", daemon=True)
        thread.instance_arn = instance_arn
        self.work[arn] = thread
        thread.start()

    def snapshot_dump(self, snap):
        """The dump to restore from; refused (as RDS does) unless the snapshot is available."""
        entry = self.snapshot(snap.arn)
        if entry is None:
            return None  # a snapshot from before snapshots carried data: restores as an empty instance
        if entry["status"] != "available" or not Path(entry["file"]).is_file():
            raise InvalidSnapshotState(f"DBSnapshot {snap.db_snapshot_identifier} is {entry['status']}, "
                                       "not available: it cannot be restored yet")
        return entry["file"]

    def check_deletable(self, snap_id, arn):
        entry = self.snapshot(arn)
        if entry and entry["status"] == "creating":
            raise InvalidSnapshotState(f"DBSnapshot {snap_id} is being created and cannot be deleted yet")

    def delete_snapshot(self, arn):
        with self.lock:
            entry = self.registry["snapshots"].pop(arn, None)
            self._save()
        if entry:
            Path(entry["file"]).unlink(missing_ok=True)

    # ------------------------------------------------------------ after a replay

    def reconcile(self):
        """Starts the clusters of the instances moto holds; gives instances without one an empty one."""
        for db in all_instances():
            entry = self.instance(db.arn)
            if entry is None:
                log.info("RDS instance %s has no PostgreSQL yet: creating an empty one", db.db_instance_identifier)
                self.provision(db)
                continue
            db.port = entry["port"]
            if entry["status"] != "available" or db.arn in self.procs:
                db.status = entry["status"] if entry["status"] != "deleting" else "failed"
                continue
            db.status = "creating"
            threading.Thread(target=self._restart, args=(db,), daemon=True).start()
        for snap in all_snapshots():
            entry = self.snapshot(snap.arn)
            if entry:
                # A dump interrupted by a stop cannot be taken again: the data has moved on.
                snap.status = entry["status"] if entry["status"] != "creating" else "failed"

    def _restart(self, db):
        try:
            self._start(db.arn)
            db.status = "available"
        except Exception as e:
            log.error("RDS instance %s: %s", db.db_instance_identifier, e)
            db.status = "failed"


def endpoint_address(db):
    # *.localhost resolves to the loopback on the stack (nss-myhostname), and names the instance.
    return f"{db.db_instance_identifier}.{db.region}.rds.localhost"


def master_logins(db):
    """The logins RDS would accept for the master user, as the stack maps them (see README)."""
    if db.manage_master_user_password:
        return sorted({(db.master_username or MANAGED_MASTER_USER, MANAGED_MASTER_PASSWORD),
                       (MANAGED_MASTER_USER, MANAGED_MASTER_PASSWORD)})
    password = getattr(db, "master_user_password", None)
    if db.master_username and password:
        return [(db.master_username, password)]
    return []


def all_instances():
    for account in rds_backends.values():
        for backend in account.values():
            yield from list(backend.databases.values())


def all_snapshots():
    for account in rds_backends.values():
        for backend in account.values():
            yield from list(backend.database_snapshots.values())


def _has_data(db):
    return (db.engine or "").lower() in ENGINES


def install(clusters):
    """Wraps moto's RDS backend so that the actions with data do their part."""
    create_instance = RDSBackend.create_db_instance
    create_snapshot = RDSBackend.create_db_snapshot
    delete_instance = RDSBackend.delete_db_instance
    restore = RDSBackend.restore_db_instance_from_db_snapshot
    delete_snapshot = RDSBackend.delete_db_snapshot
    moto_address = DBInstance.address

    # moto's restore creates its instance through create_db_instance, and creating an instance
    # may take automated snapshots before its cluster exists: both are handled by the outer call.
    def _outer(call, *args):
        if getattr(_request, "nested", False):
            return call(*args), False
        _request.nested, _request.pending = True, []
        try:
            return call(*args), True
        finally:
            _request.nested = False

    def _provisioned(db, dump=None):
        if not _has_data(db):
            return
        entry = clusters.instance(db.arn)
        if replaying():
            if entry:
                db.port = entry["port"]
            return
        clusters.provision(db, dump=dump)
        for snap in _request.pending:
            clusters.take_snapshot(snap, db.arn)

    def _create_instance(self, db_kwargs):
        db, outer = _outer(create_instance, self, db_kwargs)
        if outer:
            _provisioned(db)
        return db

    def _create_snapshot(self, db_instance_identifier, db_snapshot_identifier, *args, **kwargs):
        snap = create_snapshot(self, db_instance_identifier, db_snapshot_identifier, *args, **kwargs)
        db = self.databases.get(db_instance_identifier)
        if db is None or not _has_data(db) or replaying():
            return snap
        if getattr(_request, "nested", False) and clusters.instance(db.arn) is None:
            _request.pending.append(snap)  # taken once the new instance's cluster is there
        else:
            clusters.take_snapshot(snap, db.arn)
        return snap

    def _delete_instance(self, db_instance_identifier, *args, **kwargs):
        db = delete_instance(self, db_instance_identifier, *args, **kwargs)
        if not replaying():
            clusters.delete(db.arn)
        return db

    def _restore(self, from_snapshot_id, overrides):
        name = from_snapshot_id
        if name.startswith("arn:aws:rds:"):
            name = self.extract_snapshot_name_from_arn(name)
        snap = self.database_snapshots.get(name.lower())
        dump = clusters.snapshot_dump(snap) if snap is not None and not replaying() else None
        db, _ = _outer(restore, self, from_snapshot_id, overrides)
        _provisioned(db, dump=dump)
        return db

    def _delete_snapshot(self, db_snapshot_identifier):
        snap = self.database_snapshots.get(db_snapshot_identifier)
        if snap is not None and not replaying():
            clusters.check_deletable(db_snapshot_identifier, snap.arn)
        snap = delete_snapshot(self, db_snapshot_identifier)
        if not replaying():
            clusters.delete_snapshot(snap.arn)
        return snap

    def _address(self):
        entry = clusters.instance(self.arn)
        return entry["address"] if entry else moto_address.fget(self)

    RDSBackend.create_db_instance = _create_instance
    RDSBackend.create_db_snapshot = _create_snapshot
    RDSBackend.delete_db_instance = _delete_instance
    RDSBackend.restore_db_instance_from_db_snapshot = _restore
    RDSBackend.delete_db_snapshot = _delete_snapshot
    DBInstance.address = property(_address)

    # Replayed requests carry REPLAY_HEADER (moto's recorder replays over HTTP to this server).
    from moto.moto_api._internal.recorder import models as recorder_models
    import requests

    class _MarkedRequests:
        @staticmethod
        def request(method, url, headers=None, **kwargs):
            return requests.request(method=method, url=url, headers={**(headers or {}), REPLAY_HEADER: "1"},
                                    **kwargs)

    recorder_models.requests = _MarkedRequests()
    replay = recorder_models.Recorder.replay_recording

    def _replay(self, *args, **kwargs):
        replay(self, *args, **kwargs)
        clusters.reconcile()

    recorder_models.Recorder.replay_recording = _replay

    # Each request is served on its own thread: note there whether it is a replayed one.
    dispatch = DomainDispatcherApplication.__call__
    replay_key = "HTTP_" + REPLAY_HEADER.upper().replace("-", "_")

    def _dispatch(self, environ, start_response):
        _request.replaying = environ.get(replay_key) == "1"
        return dispatch(self, environ, start_response)

    DomainDispatcherApplication.__call__ = _dispatch


def from_environment():
    """Clusters configured by stack/stack (STACK_RDS_*), or None when data is not wanted."""
    data_dir = os.environ.get("STACK_RDS_DATA_DIR")
    if not data_dir:
        return None
    ports = os.environ["STACK_RDS_PORTS"]
    first, _, last = ports.partition("-")
    if not (first.isdigit() and last.isdigit() and 0 < int(first) <= int(last) <= 65535):
        raise SystemExit(f"STACK_RDS_PORTS={ports!r} is not a port range: expected FIRST-LAST, e.g. 55433-55531")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    return Clusters(data_dir, os.environ["STACK_RDS_PGDATA_DIR"], os.environ["STACK_RDS_PG_BINDIR"],
                    int(first), int(last), os.environ.get("STACK_RDS_PKI_DIR"))
