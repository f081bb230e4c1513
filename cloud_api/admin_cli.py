"""Provisioning subcommands of ``homerpm cloud``: migrate, create-*, register-gateway, seed-demo.

Each command is one transaction against ``--db`` (default ``HOMERPM_DATABASE_URL``) and
upgrades the schema first, so they work on a fresh file.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable

from sqlalchemy.orm import Session

from cloud_api.db import directory
from cloud_api.db.engine import make_engine, session_factory
from cloud_api.db.migrate import upgrade
from cloud_api.db.models import Role
from cloud_api.settings import CloudSettings


def _add_db(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", default=None,
                        help="database URL (default: env HOMERPM_DATABASE_URL or "
                        "sqlite:///homerpm-cloud.db)")


def _in_transaction(args: argparse.Namespace, work: Callable[[Session], str]) -> int:
    engine = make_engine(args.db or CloudSettings().database_url)
    try:
        upgrade(engine)
        with session_factory(engine).begin() as db:
            print(work(db))
        return 0
    except directory.ProvisioningError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        engine.dispose()


class Migrate:
    help = "create or upgrade the database schema (Alembic)"

    def configure(self, parser: argparse.ArgumentParser) -> None:
        _add_db(parser)

    def run(self, args: argparse.Namespace) -> int:
        return _in_transaction(args, lambda db: "schema is up to date")


class CreateOrg:
    help = "create an organisation (clinic or hospital)"

    def configure(self, parser: argparse.ArgumentParser) -> None:
        _add_db(parser)
        parser.add_argument("--slug", required=True, help="short unique id, e.g. north-clinic")
        parser.add_argument("--name", help="display name")

    def run(self, args: argparse.Namespace) -> int:
        return _in_transaction(
            args, lambda db: f"organisation {directory.create_org(db, args.slug, args.name).slug}"
        )


class CreateUser:
    help = "create a user (password from --password-stdin or a prompt)"

    def configure(self, parser: argparse.ArgumentParser) -> None:
        _add_db(parser)
        parser.add_argument("--org", required=True, help="organisation slug")
        parser.add_argument("--username", required=True)
        parser.add_argument("--role", required=True, choices=[r.value for r in Role])
        parser.add_argument("--patient", help="for --role family: the one patient they may see")
        parser.add_argument("--password-stdin", action="store_true",
                            help="read the password from the first line of stdin")

    def run(self, args: argparse.Namespace) -> int:
        if args.password_stdin:
            password = sys.stdin.readline().rstrip("\r\n")
        else:
            password = getpass.getpass("password: ")
            if password != getpass.getpass("again: "):
                print("error: passwords differ", file=sys.stderr)
                return 2
        if len(password) < 4:
            print("error: password too short", file=sys.stderr)
            return 2

        def work(db: Session) -> str:
            user = directory.create_user(
                db, args.org, args.username, password, Role(args.role), args.patient
            )
            return f"user {user.username} ({user.role})"

        return _in_transaction(args, work)


class CreatePatient:
    help = "create a patient; --id is the pseudonym gateways send (never a name or MRN)"

    def configure(self, parser: argparse.ArgumentParser) -> None:
        _add_db(parser)
        parser.add_argument("--org", required=True, help="organisation slug")
        parser.add_argument("--id", dest="patient_id", required=True, help="opaque pseudonym")
        parser.add_argument("--name", required=True, help="display name (stored in the cloud only)")
        parser.add_argument("--mrn", help="medical record number (cloud only)")

    def run(self, args: argparse.Namespace) -> int:
        return _in_transaction(args, lambda db: "patient " + directory.create_patient(
            db, args.org, args.patient_id, args.name, args.mrn).id)


class RegisterGateway:
    help = "register a gateway and assign patients to it"

    def configure(self, parser: argparse.ArgumentParser) -> None:
        _add_db(parser)
        parser.add_argument("--gateway", required=True, help="gateway id (= its MQTT client id)")
        parser.add_argument("--patient", action="append", required=True,
                            help="patient pseudonym (repeat for several)")
        parser.add_argument("--label", help="free text, e.g. where it is installed")

    def run(self, args: argparse.Namespace) -> int:
        def work(db: Session) -> str:
            gw = directory.register_gateway(db, args.gateway, args.patient, args.label)
            return f"gateway {gw.id}: " + ", ".join(sorted(p.id for p in gw.patients))

        return _in_transaction(args, work)


class SeedDemo:
    help = (f"create the demo org, clinician {directory.DEMO_USER!r} (password "
            f"{directory.DEMO_PASSWORD!r}, DEMO ONLY), patient {directory.DEMO_PATIENT!r} "
            f"and gateway {directory.DEMO_GATEWAY!r}; idempotent")

    def configure(self, parser: argparse.ArgumentParser) -> None:
        _add_db(parser)

    def run(self, args: argparse.Namespace) -> int:
        def work(db: Session) -> str:
            directory.seed_demo(db)
            return (f"demo ready: user {directory.DEMO_USER}/{directory.DEMO_PASSWORD} "
                    f"(demo only), patient {directory.DEMO_PATIENT}, "
                    f"gateway {directory.DEMO_GATEWAY}")

        return _in_transaction(args, work)
