"""What Trellis holds about one person, found, exported and erased (the rights of access
and to erasure).

A person is named by an email address, by their record (a Contact, a Lead), or both.
:mod:`.search` finds every record about them, :mod:`.export` writes it all out as one
JSON document, :mod:`.erase` anonymises or deletes it through the records service and
:mod:`.scrub` takes their values out of the copies the service keeps (field history
and outbox events). :func:`.rights.require_privacy_officer` decides who may do any of it.
"""
