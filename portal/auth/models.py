"""Users and departments."""

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from portal.extensions import db
from portal.models_base import TimestampMixin, UTCDateTime


class Department(TimestampMixin, db.Model):
    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)

    parent: Mapped["Department | None"] = relationship(
        remote_side="Department.id", back_populates="children"
    )
    children: Mapped[list["Department"]] = relationship(
        back_populates="parent", order_by="Department.name"
    )
    users: Mapped[list["User"]] = relationship(back_populates="department")
    # Members of this department and of every subdepartment hold these roles.
    roles: Mapped[list["Role"]] = relationship(
        secondary="department_roles", back_populates="departments", order_by="Role.name"
    )

    def ancestors(self) -> list["Department"]:
        chain, node = [], self.parent
        while node is not None:
            chain.append(node)
            node = node.parent
        return chain

    def descendant_ids(self) -> set[int]:
        found, stack = set(), list(self.children)
        while stack:
            node = stack.pop()
            found.add(node.id)
            stack.extend(node.children)
        return found

    @property
    def path(self) -> str:
        return " / ".join([d.name for d in reversed(self.ancestors())] + [self.name])


class User(UserMixin, TimestampMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    position: Mapped[str] = mapped_column(String(120), default="")
    phone: Mapped[str] = mapped_column(String(32), default="")
    password_hash: Mapped[str | None] = mapped_column(String(255))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    locale: Mapped[str | None] = mapped_column(String(8))
    # Consecutive failed password logins and when the last one was: the account's growing
    # delay (auth/throttle.py). Reset by a successful sign-in.
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_failed_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    invite_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    invite_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    department: Mapped[Department | None] = relationship(back_populates="users")
    # Loaded with the user: lists show role badges, and is_admin works on a detached user.
    roles: Mapped[list["Role"]] = relationship(
        secondary="user_roles", back_populates="users", order_by="Role.name", lazy="selectin"
    )

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_admin(self) -> bool:
        """Holds the built-in Administrator role (a label for lists; permissions ask grants)."""
        return any(role.key == "administrator" for role in self.roles)

    # The secret of the session this request belongs to (auth/sessions.py sets it): Flask-Login
    # keeps get_id() in the cookie, so the cookie names a session that can be ended, not a user.
    # (Plain attributes, not columns: they describe the request, not the account.)
    session_key = None
    session_id = None

    def get_id(self) -> str | None:
        return self.session_key

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return bool(self.password_hash) and check_password_hash(self.password_hash, password)

    @property
    def audit_actor(self) -> tuple[str, int, str]:
        """Who did it, as the audit trail records it: (kind, id, label)."""
        return "user", self.id, f"{self.name} <{self.email}>"

    @property
    def has_pending_invite(self) -> bool:
        return self.password_hash is None and self.invite_token_hash is not None


# --- roles and grants ------------------------------------------------------------------------

user_roles = db.Table(
    "user_roles",
    db.Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    db.Column("role_id", ForeignKey("roles.id", ondelete="CASCADE"), primary_key=True),
)
department_roles = db.Table(
    "department_roles",
    db.Column("department_id", ForeignKey("departments.id", ondelete="CASCADE"),
              primary_key=True),
    db.Column("role_id", ForeignKey("roles.id", ondelete="CASCADE"), primary_key=True),
)


class Role(TimestampMixin, db.Model):
    """A named set of grants: section x action -> scope."""

    __tablename__ = "roles"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    description: Mapped[str] = mapped_column(String(300), default="")
    # The built-in roles (employee, supervisor, administrator) keep a key; created ones have none.
    key: Mapped[str | None] = mapped_column(String(32), unique=True)
    # Holders (directly or through a department) must sign in with a second factor
    # (auth/two_factor/policy.py); one without is guided to enrol at their next login.
    require_two_factor: Mapped[bool] = mapped_column(Boolean, default=False,
                                                     server_default="0")

    grants: Mapped[list["RoleGrant"]] = relationship(
        back_populates="role", cascade="all, delete-orphan"
    )
    users: Mapped[list["User"]] = relationship(secondary=user_roles, back_populates="roles")
    departments: Mapped[list[Department]] = relationship(
        secondary=department_roles, back_populates="roles"
    )


class RoleGrant(db.Model):
    __tablename__ = "role_grants"
    __table_args__ = (UniqueConstraint("role_id", "section", "action"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    role_id: Mapped[int] = mapped_column(ForeignKey("roles.id", ondelete="CASCADE"), index=True)
    section: Mapped[str] = mapped_column(String(16))  # permissions.SECTIONS
    action: Mapped[str] = mapped_column(String(8))  # permissions.ACTIONS
    scope: Mapped[str] = mapped_column(String(12), default="none")  # permissions.SCOPES

    role: Mapped[Role] = relationship(back_populates="grants")


# --- credentials, sessions and the security log -----------------------------------------

class ApiToken(TimestampMixin, db.Model):
    """A personal API token: the secret is shown once, only its hash is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The first characters, shown in lists so a user can tell tokens apart.
    prefix: Mapped[str] = mapped_column(String(16))
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user = relationship("User")


class StaffSession(db.Model):
    """One signed-in browser of an employee; the cookie holds a secret whose hash is here.

    Ending the row ends the session for every copy of the cookie.
    """

    __tablename__ = "staff_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    method: Mapped[str] = mapped_column(String(16))  # sessions.METHODS
    address: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    end_reason: Mapped[str | None] = mapped_column(String(24))
    # Signed in with the password alone while a role requires a second factor: every page but
    # enrolment sends this session there (auth/two_factor/policy.py) until one is set up.
    second_factor_due: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")

    user: Mapped[User] = relationship()


class SecurityEvent(db.Model):
    """What happened to an account: sign-ins and failures, sessions ended, passwords, tokens.

    Kept apart from the documents' audit trail: it is about people's access, not evidence.
    """

    __tablename__ = "security_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The account concerned (none for a failed login with an unknown email).
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    # Who did it when it was someone else (an administrator).
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(32), index=True)  # security_log.KINDS
    method: Mapped[str] = mapped_column(String(16), default="")
    detail: Mapped[str] = mapped_column(String(300), default="")
    address: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)

    user: Mapped[User | None] = relationship(foreign_keys=[user_id])
    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])
