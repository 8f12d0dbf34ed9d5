"""Search attributes that keep the Temporal Web UI useful: ids and enums, never personal data."""

from temporalio.common import SearchAttributeKey

QUEUE_ID = SearchAttributeKey.for_keyword("SwitchboardQueueId")
STATUS = SearchAttributeKey.for_keyword("SwitchboardStatus")
PRIORITY = SearchAttributeKey.for_keyword("SwitchboardPriority")
AUTHENTICATION = SearchAttributeKey.for_keyword("SwitchboardAuthentication")

ALL = (QUEUE_ID, STATUS, PRIORITY, AUTHENTICATION)
