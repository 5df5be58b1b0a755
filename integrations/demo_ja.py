"""The Japanese demo (`SEED_LANG=ja make run`, `seed_demo --lang ja`): a team that works in Japanese.

Its services raise Japanese error messages, as a Japanese application writes them; its runbooks are
Japanese, with matchers so that intake links them; one issue merges unrelated errors for the grouping
advisor to split. The payloads are built like the English demo's, from Sentry's published samples.
"""

from .demo import DemoIssue

TEAM_SLUG, TEAM_NAME = "inventory", "在庫・決済チーム"
SERVICES = ("inventory-api", "payment-api", "order-worker")

ISSUES = (
    DemoIssue(
        "4610000901",
        "INVENTORY-API-7",
        "inventory-api",
        "django",
        "ValueError",
        "在庫数が不足しています (SKU: ABC-123, 要求: 5, 在庫: 2)",
        "inventory.allocation in reserve",
        (
            "inventory/allocation.py",
            "reserve",
            88,
            'raise ValueError(f"在庫数が不足しています (SKU: {sku}, 要求: {qty}, 在庫: {stock})")',
        ),
        events=9,
        days_ago=(5, 0.2),
        releases=("inventory-api@3.4.0", "inventory-api@3.4.1"),
        request_url="https://api.example.jp/inventory/reserve",
    ),
    DemoIssue(
        "4610000902",
        "PAYMENT-API-2C",
        "payment-api",
        "django",
        "TimeoutError",
        "決済代行サービスの応答がタイムアウトしました (30 秒, 注文番号: ORD-88121)",
        "payments.gateway in authorize",
        (
            "payments/gateway.py",
            "authorize",
            142,
            'raise TimeoutError(f"決済代行サービスの応答がタイムアウトしました (30 秒, 注文番号: {order})")',
        ),
        events=14,
        days_ago=(8, 0.05),
        releases=("payment-api@1.9.2",),
        request_url="https://api.example.jp/payments/authorize",
    ),
    DemoIssue(
        "4610000903",
        "ORDER-WORKER-5",
        "order-worker",
        "celery",
        "IntegrityError",
        "注文番号 ORD-77310 の配送情報が二重に登録されています",
        "orders.tasks in register_shipment",
        (
            "orders/tasks.py",
            "register_shipment",
            57,
            "Shipment.objects.create(order=order, carrier=carrier)",
        ),
        events=4,
        days_ago=(3, 0.5),
        level="warning",
        releases=("order-worker@2.0.7",),
    ),
    DemoIssue(
        "4610000904",
        "PAYMENT-API-31",
        "payment-api",
        "django",
        "ExternalServiceError",
        "外部サービスの呼び出しに失敗しました",
        "payments.clients.base in call",
        (
            "payments/clients/base.py",
            "call",
            33,
            'raise ExternalServiceError("外部サービスの呼び出しに失敗しました") from exc',
        ),
        events=20,
        days_ago=(6, 0.1),
        releases=("payment-api@1.9.1", "payment-api@1.9.2"),
        request_url="https://api.example.jp/payments/capture",
        # One Sentry issue hiding four errors: two services, two inner exceptions.
        causes=(
            ("point-service", "TimeoutError", "ポイント残高の取得がタイムアウトしました (5000 ms)"),
            ("point-service", "KeyError", "'member_id'"),
            ("coupon-service", "TimeoutError", "クーポン検証がタイムアウトしました (3000 ms)"),
            ("coupon-service", "ValueError", "クーポンコードの形式が不正です: ＳＰＲＩＮＧ２０２６"),
        ),
    ),
)

# (slug, title, body, matchers as (group, field, op, value))
RUNBOOKS = (
    (
        "inventory-shortage",
        "在庫引当エラーの対処手順",
        """## 概要
注文の在庫引当で「在庫数が不足しています」が出たときの手順です。多くは倉庫システムとの同期遅れで、
実在庫は足りています。

## 確認すること
1. エラーメッセージの SKU と要求数・在庫数を控える。
2. 倉庫システムの管理画面で同じ SKU の実在庫を確認する。
3. 同期ジョブ `inventory-sync` が直近 30 分以内に成功しているか確認する。

## 対応
- **同期遅れの場合**: `inventory-sync` を再実行する。5 分待って注文を再試行してもらう。
- **実在庫との差異がある場合**: データ補正を依頼する（対象 SKU と正しい在庫数を添えて）。
- **本当に在庫切れの場合**: 対応不要。商品ページの在庫表示を確認する。
""",
        ((0, "service", "equals", "inventory-api"), (0, "exception_value", "contains", "在庫数が不足")),
    ),
    (
        "payment-timeout",
        "決済タイムアウト時の対応",
        """## 概要
決済代行サービスの応答が 30 秒以内に返らなかったときの手順です。与信が通っている場合があるため、
**再決済の前に必ず与信状況を確認** してください（二重請求を防ぐため）。

## 手順
1. エラーの注文番号で決済代行サービスの管理画面を検索する。
2. 与信済みなら、注文を「決済済み」に補正するデータ補正を依頼する。
3. 与信がなければ、お客様に再決済を案内する。
4. 同時刻に多発している場合は、決済代行サービスの障害情報を確認し、運用担当に共有する。
""",
        ((0, "service", "equals", "payment-api"), (0, "exception_type", "equals", "TimeoutError")),
    ),
    (
        "shipment-duplicate",
        "配送情報の二重登録",
        """## 概要
配送登録ジョブが再試行されたときに、同じ注文の配送情報が二重に作られることがあります。

## 手順
1. 注文番号で `shipments` テーブルを検索し、重複行を確認する。
2. 古い方の行を削除するデータ補正を依頼する（配送業者へ連携済みの行は残す）。
3. 恒久対策はコード修正: ジョブを冪等にする（注文番号に一意制約）。
""",
        ((0, "service", "equals", "order-worker"), (0, "exception_type", "equals", "IntegrityError")),
    ),
)
