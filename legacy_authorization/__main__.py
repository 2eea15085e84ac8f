from legacy_authorization.app import create_app
from shared.webapp.cli import serve

serve(create_app, description="0.9: global authorization", default_port=8081)
