"""CloudTrail-format audit: one event per request, written in batches."""

from rolegate.audit.events import build_events
from rolegate.audit.writer import AuditWriter

__all__ = ["AuditWriter", "build_events"]
