"""Titles for the demo's generated work items."""

# fmt: off
BILLING = [
    "Plan picker on the pricing page", "Card form with 3-D Secure", "Proration on plan change",
    "Upgrade from trial without support", "Billing address validation (EU VAT)",
    "Self-serve seat changes", "Downgrade at period end", "Payment method update flow",
    "Receipt e-mails with PDF", "Dunning: retry failed cards", "Coupons at checkout",
    "Annual billing toggle", "Billing settings page", "Usage meter for API calls",
    "Tax rates from the tax service", "Webhook for subscription changes",
    "Cancel subscription flow", "Billing audit log", "Checkout error tracking",
    "Plan limits enforced in the API", "Stripe customer sync job",
    "Invoice preview before upgrade", "Localised prices (EUR, GBP)",
    "Billing admin impersonation guard", "SCA exemptions for MIT",
    "Billing feature flags cleanup", "Load test checkout", "Billing runbook",
    "Retry-safe payment intents", "Checkout copy review", "Billing contact role",
    "Refund self-service (partial)", "Failed-payment banner", "Billing e2e tests",
    "Migrate legacy plans", "Price-change notice e-mails",
]
INVOICING = [
    "Invoice numbering per entity", "Credit notes", "Invoice PDF redesign",
    "E-invoicing (XRechnung)", "Invoice search in admin", "Bulk invoice export",
    "Payment terms per customer", "Invoice reminders", "Reverse charge note",
    "Invoice line grouping", "Purchase order field", "Invoice API v2",
    "Sepa direct debit mandates", "Multi-currency invoices", "Invoice approval workflow",
    "Tax breakdown table", "Invoice archive retention", "Accounting export (DATEV)",
    "Invoice status webhooks",
]
DEPLOYS = [
    "Blue-green for the API tier", "Health checks gate the rollout",
    "Connection draining on deploy", "Database migrations expand/contract",
    "Canary analysis with error budgets", "Rollback in one command", "Deploy freeze calendar",
    "Pre-stop hooks for workers", "Readiness probes for the gateway", "Schema change linter",
    "Feature-flag kill switch", "Deploy dashboard", "Warm caches before switch",
    "Zero-downtime cron handover", "Session stickiness during rollout",
    "Config reload without restart", "Job queue pause/resume", "Shadow traffic for the new stack",
    "Deploy notifications to Slack", "Load balancer weights API", "Rollout playbook",
    "Chaos drill: kill a node mid-deploy", "Deploy audit trail",
]
PAY_BUGS = [
    "Double charge on retry after timeout", "VAT id rejected with spaces",
    "Receipt shows wrong currency", "Trial end date off by one day", "Coupon applies twice",
    "Card form hangs on Safari", "Webhook signature check fails on rotation",
    "Proration negative for same-day change", "Plan name missing on invoice",
    "3-D Secure popup blocked", "Refund e-mail not sent", "Billing page 500 for archived orgs",
    "Seat count not updated after removal", "Rounding error in tax line",
    "Checkout spinner never stops", "Invoice PDF cut at page 2",
]
CORE_BUGS = [
    "Memory leak in the gateway", "Health check flaps under load",
    "Cron runs twice after failover", "Slow query on audit log",
    "Queue consumer stalls on poison message", "TLS renew fails silently",
    "Rate limiter counts OPTIONS", "Disk fills with core dumps", "Timeouts on cold start",
    "Leader election split brain", "Log shipper drops lines", "Metrics cardinality explosion",
    "Connection pool exhaustion", "Cache stampede at midnight", "Backup job misses new tables",
    "DNS lookup storm", "Retry storm after outage", "Clock skew breaks tokens",
    "Deploy leaves orphan pods", "S3 multipart leak", "Alert fires on maintenance",
    "Worker OOM on big exports",
]
CHORES = [
    "Upgrade to Python 3.12", "Remove dead feature flags", "Bump Postgres driver",
    "Split the monolith CI job", "Delete unused S3 buckets", "Rename internal packages",
    "Terraform state cleanup", "Lint rules for SQL", "Container base image refresh",
    "Dependabot backlog", "Move secrets to the vault", "Tidy on-call rota",
    "Archive old dashboards", "Replace deprecated logging calls", "Speed up test suite",
    "Docs for local setup", "Kubernetes 1.31 upgrade", "Remove Python 2 shims",
    "Refresh staging data", "Cost report automation",
]
WEB_BILLING = [
    "Billing: plan picker component", "Billing: card form UI", "Billing: upgrade modal",
    "Billing: usage meter widget", "Billing: invoices list page", "Billing: seat management UI",
    "Billing: checkout success page", "Billing: payment method editor", "Billing: dunning banner",
    "Billing: tax id input", "Billing: annual toggle", "Billing: cancel flow UI",
]
WEB_DOCS = [
    "Docs: billing FAQ", "Docs: webhooks guide", "Docs: SSO setup", "Docs: API limits",
    "Docs: migrating from v1", "Docs: status page", "Docs: audit log", "Docs: SCIM provisioning",
]
WEB_OTHER = [
    "Dark mode flicker", "Upgrade React router", "Sidebar keyboard navigation", "Remove jQuery",
    "Lazy-load charts", "Fix CLS on dashboard", "Storybook for forms", "Playwright smoke tests",
    "i18n for dates", "Accessibility audit fixes", "Bundle size budget", "Upgrade to Vite 8",
    "Error boundary for widgets", "Flaky login test", "Table virtualisation", "Remove moment.js",
    "Focus trap in dialogs", "Sentry release tags",
]
SDK_V3 = [
    "Typed client for the billing API", "Retries with backoff", "Pagination helpers",
    "Async client", "Webhook signature helper", "Drop Python 3.8", "Idempotency keys",
    "Request timeouts by default", "Structured errors", "Release notes for v3",
    "Migration guide v2 -> v3", "Type stubs published", "Telemetry opt-out", "Proxy support",
    "Publish to PyPI via OIDC", "Fix flaky retry test",
]
SDK_DOCS = [
    "Docs: quickstart for the SDK", "Docs: async examples", "Docs: error handling",
    "Docs: pagination recipes", "Docs: webhooks in the SDK", "Docs: testing with the SDK",
    "Docs: retries and timeouts", "Docs: changelog v3",
]
SDK_OTHER = [
    "Support for Python 3.14", "Question: rate limits?", "Sync client blocks event loop",
    "Add CLI wrapper", "Question: proxy settings", "Streaming responses",
    "Better repr for models", "Question: retries on 409?", "Plugin hooks", "Reduce import time",
    "Windows CI job", "Deprecation warnings for v2", "Retry-After support", "Mypy strict in CI",
    "Question: thread safety?", "HTTP/2 option", "Examples repo link", "Lazy model loading",
]
# fmt: on
