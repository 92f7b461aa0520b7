"""Who may do what, and the record of what was done: the audit trail (permission sets,
roles and sharing will live here too)."""
