"""Two-factor sign-in: an authenticator app (TOTP), passkeys (WebAuthn) and recovery codes.

- `models`: the credentials (the TOTP secret sealed at rest, recovery codes hashed, passkeys).
- `totp`, `recovery`, `passkeys`: enrolment, verification and removal of each factor.
- `policy`: who has a second factor, whose roles require one, and the sessions that must enrol.
- `views`: the pages (profile side and the login's second step); `pending` the login's state
  between the password and the second factor.
"""
