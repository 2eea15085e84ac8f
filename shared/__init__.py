"""What both servers use unchanged: the credential policy, the login route, the pages."""
