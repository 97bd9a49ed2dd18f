import pytest

pytestmark = pytest.mark.django_db


def test_docs_page_loads_assets_locally(client):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/api/v1/docs/assets/swagger-ui-bundle.js" in html
    assert "/api/v1/openapi.json" in html
    assert "cdn" not in html.lower()
    assert "https://" not in html


@pytest.mark.parametrize("name", ["swagger-ui-bundle.js", "swagger-ui.css", "swagger-ui-init.js"])
def test_docs_assets_are_served(client, name):
    response = client.get(f"/api/v1/docs/assets/{name}")
    assert response.status_code == 200
    assert b"".join(response.streaming_content)


def test_only_known_assets_are_served(client):
    assert client.get("/api/v1/docs/assets/..%2F..%2Fmain.py").status_code == 404
    assert client.get("/api/v1/docs/assets/redoc.standalone.js").status_code == 404
