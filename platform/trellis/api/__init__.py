"""The REST API under ``/api/v1``: one blueprint (:mod:`trellis.api.blueprint`), one
module per resource."""
