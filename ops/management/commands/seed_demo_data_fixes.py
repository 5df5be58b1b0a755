"""manage.py seed_demo_data_fixes: two data-fix requests on the demo items, so /ops/ has something to show.

Runs after seed_demo (make run does both): dev classifies two demo items as data fixes and files a
request on each; ops acknowledges and completes one. Safe to run again: an item that already has a
request is left alone.
"""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from ops import services
from ops.models import DataFixRequest
from triage.actions import item_classify
from triage.models import TriageItem

# (short id, what to change and why, urgency, customer, parameters, ops' result or "" to leave it open)
DEMO_FIXES = (
    (
        "BILLING-WORKER-12",
        "Invoices for customer cus_1182 fail to render: the customer has no VAT number on "
        "record. Set it from the signed contract so the pending invoices render.",
        "high",
        "cus_1182",
        {"customer_id": "cus_1182", "vat_number": "DE811907980"},
        "",
    ),
    (
        "CHECKOUT-API-41",
        "Order reference ORD-20417 was reserved twice on staging; release the orphaned "
        "reservation so the order can be saved.",
        "normal",
        "",
        {"reference": "ORD-20417"},
        "Deleted the orphaned reservation row (id 5521); the order saved on retry.",
    ),
    (  # the Japanese demo's (seed_demo --lang ja); skipped where that item is not seeded
        "INVENTORY-API-7",
        "SKU ABC-123 の在庫数が倉庫システムの実在庫（12 個）と一致していません。同期ジョブの失敗で "
        "2 個のままになっているため、在庫数を 12 に補正してください。",
        "high",
        "",
        {"sku": "ABC-123", "在庫数": "12"},
        "",
    ),
)


class Command(BaseCommand):
    help = (
        "File the demo data-fix requests (after seed_demo): one waiting on ops, one done. Safe to run again."
    )

    def handle(self, *args, **options):
        dev, ops = self._user("dev"), self._user("ops")
        for short_id, description, urgency, customer, parameters, result in DEMO_FIXES:
            item = TriageItem.objects.filter(short_id=short_id).first()
            if item is None or DataFixRequest.objects.filter(item=item).exists():
                continue
            note = "本番データの補正が必要です。" if item.team and item.team.language == "ja" else ""
            item_classify(
                item=item,
                user=dev,
                classification="data_fix",
                note=note or "Needs a change in production data.",
            )
            request = services.datafix_create(
                item=item,
                user=dev,
                description=description,
                urgency=urgency,
                customer=customer,
                parameters=parameters,
            )
            if result:
                services.datafix_acknowledge(request_id=request.pk, user=ops)
                services.datafix_complete(request_id=request.pk, user=ops, result=result)
        waiting = DataFixRequest.objects.filter(state__in=DataFixRequest.OPEN_STATES).count()
        self.stdout.write(
            f"Data fixes: {DataFixRequest.objects.count()} demo requests, {waiting} waiting on ops."
        )

    def _user(self, username):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user {username!r}: run `manage.py seed_demo` first.")
        return user
