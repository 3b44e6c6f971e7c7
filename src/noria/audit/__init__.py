"""Audit: who changed what, when, with the state before and after."""

from noria.audit.log import AuditLog

__all__ = ["AuditLog"]
