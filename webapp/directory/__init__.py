"""Who is who: accounts, groups, sessions, API tokens and sign-in throttling."""
