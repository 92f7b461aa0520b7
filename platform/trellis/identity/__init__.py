"""Who is who: tenants, users, passwords, sessions, API tokens and login limits."""
