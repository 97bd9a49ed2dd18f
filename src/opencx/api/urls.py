from .root import api

api_urls = api.urls
