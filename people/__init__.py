"""People: users and roles, technicians with skills and certificates, shifts and rosters."""
