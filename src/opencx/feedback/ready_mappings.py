"""Ready mappings for the export shapes people bring, as data (see `mappings.py` for the form).

Where an export's columns vary between versions or locales, a field lists the names seen; the
first one the file has wins. A ready mapping is the starting point of a user's own: a mapping
file may say `based_on: trustpilot` and change only what differs.
"""

REVIEWS = {
    "source": "reviews",
    "kind": "review",
    "rating_scale": 5,
    "defaults": {"touchpoint": "reviews"},
    "fields": {
        "external_id": ["id", "review_id", "external_id", "review id"],
        "occurred_at": ["date", "created_at", "created", "time", "timestamp", "review date"],
        "author": ["author", "name", "reviewer", "customer"],
        "email": ["email", "author_email", "e-mail"],
        "rating": ["stars", "rating", "score"],
        "title": ["title", "headline", "subject"],
        "text": ["text", "review", "comment", "body", "content"],
        "location": ["location", "store", "location_code", "branch"],
        "language": ["language", "lang"],
        "url": ["url", "link"],
    },
}

# Google Business Profile: the reviews of a location, as the Business Profile API and Google
# Takeout give them ({"reviews": [{"reviewId", "reviewer": {"displayName"}, "starRating":
# "FOUR", "comment", "createTime", ...}]}). A comment Google translated carries the original
# after "(Original)": that is the one kept.
GOOGLE = {
    "source": "google",
    "kind": "review",
    "rating_scale": 5,
    "timezone": "UTC",
    "defaults": {"touchpoint": "reviews", "channel": "google"},
    "fields": {
        "external_id": ["reviewId", "name"],
        "occurred_at": ["createTime", "updateTime"],
        "author": ["reviewer.displayName"],
        "rating": {"column": "starRating"},
        "text": {"column": "comment", "google_original": True},
        "location": ["location", "locationName", "storeCode"],
    },
}

# Trustpilot's review export (Business → Service reviews → Export: CSV or XLSX) and the
# public API's review objects.
TRUSTPILOT = {
    "source": "trustpilot",
    "kind": "review",
    "rating_scale": 5,
    "timezone": "UTC",
    "defaults": {"touchpoint": "reviews", "channel": "trustpilot"},
    "fields": {
        "external_id": ["Review ID", "ReviewId", "Id", "id"],
        "occurred_at": ["Review Created (UTC)", "Review Created", "Date", "createdAt"],
        "author": ["Review Consumer Name", "Consumer Name", "Name", "consumer.displayName"],
        "email": ["Review Consumer Email", "Consumer Email", "Email", "Consumer Email Address"],
        "rating": ["Review Stars", "Stars", "stars"],
        "title": ["Review Title", "Title", "title"],
        "text": ["Review Content", "Content", "Review Text", "text"],
        "language": ["Review Language", "Language", "language"],
        "location": ["Location Name", "Location", "Location Id"],
        "url": ["Review Link", "Link"],
    },
}

SOCIAL = {
    "source": "social",
    "kind": "mention",
    "defaults": {"touchpoint": "social"},
    "fields": {
        "external_id": ["id", "post_id", "message_id", "external_id"],
        "occurred_at": ["date", "created_at", "timestamp", "time", "published_at"],
        "author": ["author", "name", "author_name", "username", "user"],
        "handle": ["handle", "username", "screen_name", "author_handle"],
        "text": ["text", "message", "content", "body", "post"],
        "language": ["language", "lang"],
        "url": ["url", "link", "permalink"],
        "channel": ["platform", "network", "channel"],
        "location": ["location", "store"],
    },
}

# X (Twitter): API v2 tweet objects ({"id", "text", "created_at", "author_id", "lang"}, with
# "username" when a tool expanded it), v1.1, and the account archive (tweets.js:
# [{"tweet": {"id_str", "full_text", "created_at": "Wed Oct 10 20:19:24 +0000 2018", ...}}],
# the account's own posts: mentions of the brand come through the API or a listening tool).
X = {
    "source": "x",
    "kind": "mention",
    "timezone": "UTC",
    "defaults": {"touchpoint": "social", "channel": "x"},
    "fields": {
        "external_id": ["id_str", "id", "tweet.id_str"],
        "occurred_at": ["created_at", "tweet.created_at"],
        "author": ["user.name", "author.name", "name", "username", "tweet.user.name"],
        "handle": ["user.screen_name", "author.username", "username", "tweet.user.screen_name"],
        "text": ["full_text", "text", "tweet.full_text"],
        "language": ["lang", "tweet.lang"],
    },
}

# Facebook: Graph API comments and posts ({"id", "message", "created_time", "from": {"name",
# "id"}}) and the "Download your information" comments ({"timestamp", "data": [{"comment":
# {"comment", "author"}}]}).
FACEBOOK = {
    "source": "facebook",
    "kind": "mention",
    "timezone": "UTC",
    "defaults": {"touchpoint": "social", "channel": "facebook"},
    "fields": {
        "external_id": ["id"],
        "occurred_at": ["created_time", "timestamp", "data.0.comment.timestamp"],
        "author": ["from.name", "author", "data.0.comment.author"],
        "handle": ["from.id"],
        "text": ["message", "comment", "data.0.comment.comment"],
        "url": ["permalink_url"],
    },
}

# Instagram: Graph API comments ({"id", "text", "timestamp", "username"}) and the "Download
# your information" comments ({"string_map_data": {"Comment": {"value"}, "Time": {"timestamp"}}}).
INSTAGRAM = {
    "source": "instagram",
    "kind": "mention",
    "timezone": "UTC",
    "defaults": {"touchpoint": "social", "channel": "instagram"},
    "fields": {
        "external_id": ["id"],
        "occurred_at": ["timestamp", "string_map_data.Time.timestamp"],
        "author": ["username", "from.username", "string_map_data.Media Owner.value"],
        "handle": ["username", "from.username"],
        "text": ["text", "string_map_data.Comment.value"],
    },
}

# Zendesk's CSV ticket export (Admin → Account → Tools → Reports → Export). The satisfaction
# score is good or bad: a two-point scale (1 good, 0 bad); offered or unoffered is no rating.
ZENDESK = {
    "source": "zendesk",
    "kind": "ticket",
    "defaults": {"touchpoint": "support"},
    "fields": {
        "external_id": ["Id", "ID", "Ticket ID", "id"],
        "occurred_at": ["Created at", "Created", "created_at"],
        "author": ["Requester", "Requester name"],
        "email": ["Requester email", "Requester Email"],
        "title": ["Subject", "subject"],
        "text": ["Description", "description", "Subject"],
        "rating": {
            "column": ["Satisfaction Score", "Satisfaction score", "satisfaction_rating.score"],
            "map": {
                "good": 1,
                "bad": 0,
                "offered": None,
                "unoffered": None,
                "not offered": None,
            },
            "scale": 1,
            "min": 0,
        },
        "channel": ["Via"],
    },
}

# Freshdesk's ticket export (Tickets → Export, CSV) and the API's ticket objects.
FRESHDESK = {
    "source": "freshdesk",
    "kind": "ticket",
    "defaults": {"touchpoint": "support"},
    "fields": {
        "external_id": ["Ticket ID", "Ticket Id", "id"],
        "occurred_at": ["Created time", "Created Time", "created_at"],
        "author": ["Full name", "Requester Name", "Contact", "requester.name"],
        "email": ["Email", "Requester Email", "requester.email", "email"],
        "phone": ["Work phone", "Mobile phone"],
        "title": ["Subject", "subject"],
        "text": ["Description", "description_text", "Subject"],
    },
}

# E-mails: one .eml file, a folder of them, or an mbox (the readers flatten each message).
EMAIL = {
    "source": "email",
    "kind": "email",
    "defaults": {"touchpoint": "email", "channel": "email"},
    "fields": {
        "external_id": ["message_id"],
        "occurred_at": ["date"],
        "author": ["from_name", "from_email"],
        "email": ["from_email"],
        "title": ["subject"],
        "text": ["text"],
    },
}

# Chat transcripts, one per record (JSON array or JSON lines): {"id", "started_at",
# "visitor": {"name", "email"}, "rating", "messages": [{"author", "text", "time"}]}.
CHAT = {
    "source": "chat",
    "kind": "chat",
    "rating_scale": 5,
    "defaults": {"touchpoint": "support", "channel": "web_chat"},
    "fields": {
        "external_id": ["id", "chat_id", "conversation_id", "session_id"],
        "occurred_at": ["started_at", "created_at", "start_time", "timestamp", "date"],
        "author": ["visitor.name", "customer.name", "name"],
        "email": ["visitor.email", "customer.email", "email"],
        "rating": ["rating", "visitor.rating", "csat"],
        "text": ["messages", "transcript", "text"],
        "location": ["location", "store"],
    },
}

# Our own item shape, field for field: the default of a webhook source.
OPENCX = {
    "source": "webhook",
    "kind": "review",
    "fields": {name: [name] for name in (
        "external_id", "occurred_at", "author", "email", "phone", "handle", "rating",
        "rating_scale", "title", "text", "language", "url", "location", "touchpoint",
        "channel", "kind",
    )},
}  # fmt: skip

READY_MAPPINGS = {
    "reviews": REVIEWS,
    "google": GOOGLE,
    "trustpilot": TRUSTPILOT,
    "social": SOCIAL,
    "x": X,
    "facebook": FACEBOOK,
    "instagram": INSTAGRAM,
    "zendesk": ZENDESK,
    "freshdesk": FRESHDESK,
    "email": EMAIL,
    "chat": CHAT,
    "opencx": OPENCX,
}

DESCRIPTIONS = {
    "reviews": "Reviews, any source: stars, text, author, date, location",
    "google": "Google Business Profile reviews (reviews.json, API)",
    "trustpilot": "Trustpilot review export (CSV/XLSX) or API",
    "social": "Social mentions and messages, any network",
    "x": "X (Twitter): API v2/v1.1 tweets or the archive's tweets.js",
    "facebook": "Facebook comments and posts (Graph API, Download your information)",
    "instagram": "Instagram comments (Graph API, Download your information)",
    "zendesk": "Zendesk ticket export (CSV)",
    "freshdesk": "Freshdesk ticket export (CSV)",
    "email": "E-mails: .eml files or an mbox",
    "chat": "Chat transcripts (JSON or JSON lines)",
    "opencx": "OpenCX's own field names (webhooks, hand-made files)",
}
