"""Setup: the admin builder's screens, where business admins build their CRM in the
browser (objects and fields, layouts, rules, automations, users and access, metadata
history). Every screen acts through the same services as the metadata API, so what it
saves is validated, versioned and audited exactly as an API call would be."""
