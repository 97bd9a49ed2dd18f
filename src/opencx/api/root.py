"""The API root: token auth, one error format, each app's router mounted under /api/v1/."""

from ninja import NinjaAPI

api = NinjaAPI(title="OpenCX API", version="1", urls_namespace="api")
