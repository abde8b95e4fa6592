"""Code every KPP service shares: settings, database, errors, identity, events, calendar."""
