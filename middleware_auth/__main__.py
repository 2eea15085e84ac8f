from middleware_auth.app import create_app
from shared.webapp.cli import serve

serve(create_app, description="1.0+: middleware", default_port=8082)
