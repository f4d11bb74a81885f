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
    # Bumped on deactivation and password change: every open session ends at once.
    session_version: Mapped[int] = mapped_column(Integer, default=1)
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

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

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
