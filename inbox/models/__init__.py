"""The models of the ``inbox`` app, one module an area; importing them here registers them
with Django and keeps ``from inbox.models import Ticket`` working. Tables keep their names
(app label ``inbox``).
"""

from inbox.models.api import (  # noqa: F401, E402
    ApiToken,
    DeliveryStatus,
    OutboundDelivery,
    TokenScope,
    WebhookEvent,
    WebhookSubscription,
)
from inbox.models.audit import (  # noqa: F401
    Activity,
)
from inbox.models.customers import (  # noqa: F401
    Customer,
    Identity,
)
from inbox.models.engines import (  # noqa: F401
    AutoAck,
    BusinessHours,
    CloseReason,
    EngineConfigStamp,
    Holiday,
    IntentCorrection,
    Rule,
    SlaTarget,
    default_week,
)
from inbox.models.incidents import (  # noqa: F401
    Incident,
    IncidentStatus,
    IncidentTicket,
)
from inbox.models.media import (  # noqa: F401
    Attachment,
    AttachmentState,
)
from inbox.models.people import (  # noqa: F401
    AgentProfile,
    Shift,
    Team,
)
from inbox.models.replies import (  # noqa: F401
    CannedReply,
    PrivateReply,
    ThreadReview,
)
from inbox.models.tickets import (  # noqa: F401
    OPEN_STATUSES,
    DeliveryState,
    Direction,
    Intent,
    Message,
    Tag,
    Ticket,
    TicketKind,
    TicketStatus,
    in_language,
    primary_language,
)
