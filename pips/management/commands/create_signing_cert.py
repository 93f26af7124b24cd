"""Create the organisation's self-signed PDF signing certificate and key at the configured paths
(PIP_SIGNING_CERT / PIP_SIGNING_KEY, by default under VAR_DIR/signing/)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from pipsystem import pdfsign


class Command(BaseCommand):
    help = (
        "Create a self-signed certificate and private key for signing PDF copies of plans. "
        "Refuses to replace an existing pair unless --force is given."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--force",
            action="store_true",
            help="Replace an existing certificate and key. PDFs signed with the old key will "
            "no longer verify as trusted unless its certificate is kept in "
            "PIP_SIGNING_EXTRA_TRUST_ROOTS.",
        )
        parser.add_argument(
            "--if-missing",
            action="store_true",
            help="Create the pair only if neither file exists, otherwise check the existing "
            "pair and exit successfully (for 'make run').",
        )
        parser.add_argument(
            "--common-name",
            default=None,
            help="Certificate subject common name (default: '<SITE_NAME> document signing').",
        )
        parser.add_argument(
            "--organisation",
            default=None,
            help="Certificate subject organisation (default: SITE_NAME).",
        )
        parser.add_argument(
            "--days",
            type=int,
            default=pdfsign.DEFAULT_CERT_DAYS,
            help=f"Validity in days (default: {pdfsign.DEFAULT_CERT_DAYS}).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        cert_path = pdfsign.signing_cert_path()
        key_path = pdfsign.signing_key_path()
        days: int = options["days"]
        if days < 1:
            raise CommandError("--days must be at least 1")
        if options["if_missing"]:
            if options["force"]:
                raise CommandError("--if-missing and --force cannot be combined")
            try:
                created = pdfsign.ensure_signing_cert()
            except pdfsign.SigningNotConfigured as exc:
                raise CommandError(str(exc)) from exc
            verb = "Created" if created else "Using existing"
            self.stdout.write(f"{verb} signing certificate {cert_path}")
            return
        existing = [str(p) for p in (cert_path, key_path) if p.exists()]
        if existing and not options["force"]:
            raise CommandError(
                f"Refusing to overwrite {', '.join(existing)}; use --force to replace the "
                "signing certificate and key"
            )
        common_name = options["common_name"] or pdfsign.default_common_name()
        organisation = options["organisation"] or pdfsign.default_organisation()
        try:
            pdfsign.create_self_signed_cert(
                cert_path,
                key_path,
                common_name=common_name,
                organisation=organisation,
                days=days,
                passphrase=pdfsign.signing_key_passphrase(),
                overwrite=options["force"],
            )
        except (OSError, ValueError) as exc:
            raise CommandError(f"Could not create the signing certificate: {exc}") from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"Signing certificate written to {cert_path} and key to {key_path} "
                f"(CN={common_name}, O={organisation}, valid {days} days)."
            )
        )
