"""Single sign-on with OpenID Connect: the settings, the client (Authlib) and the accounts.

`settings` says whether it is on, parses the group map and answers who may still use a password;
`client` talks to the provider within a request; `accounts.sign_in_from_claims` turns the
provider's verified claims into a Signet user; `views` are the two routes.
"""
