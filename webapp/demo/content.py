"""Canned text the demo events are made of: browsers, attack tools, errors, billing payloads."""

from __future__ import annotations

#: What the demo people browse with; each person keeps one.
BROWSERS: tuple[str, ...] = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.51",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.6367.82 Mobile Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.4; rv:125.0) Gecko/20100101 Firefox/125.0",
)

#: What credential-stuffing scripts send.
ATTACK_TOOLS: tuple[str, ...] = (
    "python-requests/2.31.0",
    "Go-http-client/1.1",
    "curl/8.5.0",
    "Mozilla/5.0 (compatible; Nmap Scripting Engine; https://nmap.org/book/nse.html)",
    "Mozilla/5.0 (Windows NT 6.1; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/41.0.2228.0 Safari/537.36",
)

#: Usernames that attackers and scanners try besides real ones.
GUESSED_USERNAMES: tuple[str, ...] = (
    "admin", "administrator", "root", "test", "user", "guest", "info", "support", "sales",
    "office", "webmaster", "postgres", "oracle", "jenkins", "deploy", "backup", "ftp", "demo",
    "operator", "manager", "j.smith", "john", "michael", "david", "admin@example.com",
)

#: Flask-WTF's own descriptions of a CSRF failure.
CSRF_MESSAGES: tuple[str, ...] = (
    "The CSRF token has expired.",
    "The CSRF token is missing.",
    "The CSRF tokens do not match.",
    "The CSRF session token is missing.",
)
CSRF_FORM_PATHS: tuple[str, ...] = ("/auth/login", "/auth/password", "/settings/",
                                    "/auth/logout")

#: (message, traceback, path, method, args) of the rare unhandled errors.
EXCEPTIONS: tuple[tuple[str, str, str, str, dict[str, str]], ...] = (
    (
        "OperationalError: (psycopg.errors.QueryCanceled) canceling statement due to "
        "statement timeout",
        'Traceback (most recent call last):\n'
        '  File "/app/webapp/views/events.py", line 21, in index\n'
        '    page = event_page(filters, request.args.get("before"), page_size)\n'
        '  File "/app/webapp/events/queries.py", line 62, in event_page\n'
        '    rows = list(db.session.scalars(query))\n'
        'sqlalchemy.exc.OperationalError: (psycopg.errors.QueryCanceled) canceling statement '
        'due to statement timeout\n',
        "/events/", "GET", {"action": "login_failed"},
    ),
    (
        "ConnectionError: HTTPSConnectionPool(host='hooks.slack.com', port=443): Max retries "
        "exceeded",
        'Traceback (most recent call last):\n'
        '  File "/app/webapp/views/transports.py", line 88, in test_transport\n'
        '    transport.send(sample)\n'
        '  File "/app/webapp/notifications/transports/slack.py", line 41, in send\n'
        '    response = requests.post(self.url, json=body, timeout=10)\n'
        'requests.exceptions.ConnectionError: HTTPSConnectionPool(host=\'hooks.slack.com\', '
        'port=443): Max retries exceeded\n',
        "/notifications/transports/3/test", "POST", {},
    ),
    (
        "KeyError: 'severity'",
        'Traceback (most recent call last):\n'
        '  File "/app/webapp/views/rules.py", line 54, in edit\n'
        '    rule.severity = Severity(form.data["severity"])\n'
        "KeyError: 'severity'\n",
        "/notifications/rules/7/edit", "POST", {},
    ),
)

#: custom_ actions the external billing app sends, and what they say.
BILLING_ACTIONS: tuple[tuple[str, str], ...] = (
    ("invoice_paid", "Invoice {invoice} paid by {customer} ({amount:.2f} {currency})"),
    ("invoice_overdue", "Invoice {invoice} for {customer} is overdue ({amount:.2f} {currency})"),
    ("subscription_renewed", "{customer} renewed their subscription ({amount:.2f} {currency})"),
    ("payment_failed", "Card payment by {customer} declined ({amount:.2f} {currency})"),
    ("refund_issued", "Refund of {amount:.2f} {currency} issued to {customer}"),
)
BILLING_APP = "acme.billing"
BILLING_AGENT = "acme-billing/2.4.1 (+https://billing.example.com)"
CUSTOMERS: tuple[str, ...] = (
    "Globex Corporation", "Initech", "Umbrella Logistics", "Stark Components", "Wayne Foods",
    "Tyrell Systems", "Soylent Trading", "Hooli Europe", "Vandelay Industries", "Cyberdyne KK",
)
CURRENCIES: tuple[str, ...] = ("EUR", "USD", "GBP", "JPY", "BRL")

#: Values the administrators put into user attributes in the demo.
DEPARTMENTS: tuple[str, ...] = ("Engineering", "Support", "Finance", "Sales", "Security",
                                "Marketing", "Legal")
TITLES: tuple[str, ...] = ("Engineer", "Senior Engineer", "Team Lead", "Analyst", "Manager",
                           "Specialist")
RETENTIONS: tuple[str, ...] = ("days=365", "days=180", "days=90", "weeks=52", "days=730")
TOKEN_PURPOSES: tuple[str, ...] = ("ci-deploy", "grafana", "backup-export", "siem-forwarder",
                                   "terraform", "monitoring")
PREVIOUS_EMAIL_DOMAINS: tuple[str, ...] = ("old.example.com", "example.org", "example.net")
