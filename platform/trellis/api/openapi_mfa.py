"""The OpenAPI description of two-factor sign-in (:mod:`trellis.api.mfa`) and the
workspace's security settings (:mod:`trellis.api.tenant_security`)."""

from __future__ import annotations

from typing import Any

from trellis.api.openapi_schema import (
    AUTH,
    BOOLEAN,
    INTEGER,
    OPTIONAL_MOMENT,
    TEXT,
    array,
    operation,
    ref,
    shape,
)

# Managing the factor needs a browser session: a token gets 403 (`session_required`).
CODE_ERRORS = (400, 403, 409, 415, 422, 429)


def openapi_schemas() -> dict[str, Any]:
    """The state of a user's two-factor sign-in, an enrolment, recovery codes, the body
    that proves a code, and the tenant's security settings."""
    status = {
        "enabled": BOOLEAN,
        "enabled_at": OPTIONAL_MOMENT,
        "enrolment_pending": BOOLEAN,
        "recovery_codes_left": INTEGER,
        "required": {**BOOLEAN, "description": "The workspace requires two-factor sign-in."},
    }
    codes = {**array(TEXT), "description": "One-time recovery codes, shown only now."}
    return {
        "MfaStatus": shape(status, status),
        "MfaEnrolment": shape(
            {
                "secret": {**TEXT, "description": "The base32 TOTP secret."},
                "provisioning_uri": {**TEXT, "description": "An otpauth:// URI for the app."},
            },
            ["secret", "provisioning_uri"],
        ),
        "MfaEnabled": shape(
            {"enabled": {"const": True}, "recovery_codes": codes}, ["enabled", "recovery_codes"]
        ),
        "RecoveryCodes": shape({"recovery_codes": codes}, ["recovery_codes"]),
        "MfaCode": shape(
            {
                "code": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": 64,
                    "description": "The current 6-digit code, or a recovery code.",
                }
            },
            ["code"],
        ),
        "TenantSecurity": shape({"require_mfa": BOOLEAN}, ["require_mfa"]),
    }


def openapi_paths() -> dict[str, dict[str, Any]]:
    """``/me/mfa`` and its steps, and ``/tenant/security``.

    Long by nature: a declarative table of operations, one entry per endpoint."""
    return {
        "/me/mfa": {
            "get": operation(
                "getMfa",
                "Your two-factor sign-in (browser session)",
                AUTH,
                200,
                ref("MfaStatus"),
                errors=(403,),
            ),
            "post": operation(
                "startMfaEnrolment",
                "Start enrolling an authenticator app",
                AUTH,
                201,
                ref("MfaEnrolment"),
                errors=(403, 409),
            ),
            "delete": operation(
                "disableMfa",
                "Turn two-factor sign-in off, proven with a code",
                AUTH,
                204,
                errors=CODE_ERRORS,
                body=ref("MfaCode"),
            ),
        },
        "/me/mfa/confirm": {
            "post": operation(
                "confirmMfaEnrolment",
                "Turn two-factor sign-in on with a first code; returns the recovery codes",
                AUTH,
                200,
                ref("MfaEnabled"),
                errors=CODE_ERRORS,
                body=ref("MfaCode"),
            )
        },
        "/me/mfa/recovery-codes": {
            "post": operation(
                "regenerateRecoveryCodes",
                "Replace your recovery codes, proven with a code",
                AUTH,
                200,
                ref("RecoveryCodes"),
                errors=CODE_ERRORS,
                body=ref("MfaCode"),
            )
        },
        "/tenant/security": {
            "get": operation(
                "getTenantSecurity",
                "The workspace's sign-in requirements (administrators)",
                AUTH,
                200,
                ref("TenantSecurity"),
                errors=(403,),
            ),
            "put": operation(
                "updateTenantSecurity",
                "Require two-factor sign-in of every user, or stop (administrators)",
                AUTH,
                200,
                ref("TenantSecurity"),
                errors=(400, 403, 415, 422),
                body=ref("TenantSecurity"),
            ),
        },
    }
