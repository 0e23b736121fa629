"""The organisation: units, administrators, invites, identity and authorization."""
