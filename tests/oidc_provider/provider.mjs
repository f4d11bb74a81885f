// A certified OpenID provider (node oidc-provider) on loopback for the single sign-on tests.
//
// Run by tests/auth/oidc_fixtures.py: `node provider.mjs PORT`. It prints "ready" once it
// listens. One static client ("signet") may send users back to http://127.0.0.1/login/sso/callback
// on any port (a native client's loopback redirect), so the Flask test client and a live server
// both fit. Its sign-in page is the package's development one: post `login=<account id>` with
// any password; consent is given in advance, so the browser goes straight back to Signet.
import Provider, { interactionPolicy } from 'oidc-provider';

const port = Number(process.argv[2]);
const issuer = `http://127.0.0.1:${port}`;

const CLIENT = {
  client_id: 'signet',
  client_secret: 'signet-test-secret',
  application_type: 'native',
  redirect_uris: ['http://127.0.0.1/login/sso/callback'],
  grant_types: ['authorization_code'],
  response_types: ['code'],
  token_endpoint_auth_method: 'client_secret_basic',
};

// The people the provider knows, by account id (the `sub`). Two ids may share an address: the
// same person seen with other groups at a later sign-in.
const ACCOUNTS = {
  ana: { email: 'ana@example.com', name: 'Ana Existing', groups: [] },
  nina: { email: 'nina@example.com', name: 'Nina Newcomer', groups: [] },
  sam: { email: 'sam@example.com', name: 'Sam Seller', groups: ['sales', 'signet-admins'] },
  'sam-moved': { email: 'sam@example.com', name: 'Sam Seller', groups: ['support'] },
  shouty: { email: 'ANA@Example.COM', name: 'Ana Existing', groups: [] },
  eve: { email: 'eve@example.com', name: 'Eve Unverified', groups: [], email_verified: false },
  ghost: { email: 'ghost@example.com', name: 'Gus Ghost', groups: [] },
  nomail: { name: 'Nobody Mailable', groups: [] },
};

// A native client is asked for consent at every sign-in by default; this one is first-party.
const policy = interactionPolicy.base();
policy.get('consent').checks.remove('native_client_prompt');

const configuration = {
  interactions: { policy },
  clients: [CLIENT],
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name'],
    groups: ['groups'],
  },
  scopes: ['openid', 'email', 'profile', 'groups'],
  features: { devInteractions: { enabled: true } },
  // Signet must send PKCE (S256) whatever its client authentication.
  pkce: { required: () => true },
  cookies: { keys: ['signet-test-cookie-key'] },
  async findAccount(_ctx, sub) {
    const account = ACCOUNTS[sub];
    if (!account) return undefined;
    return {
      accountId: sub,
      async claims() {
        const { groups, email, name } = account;
        const claims = { sub, name, groups };
        if (email !== undefined) {
          claims.email = email;
          claims.email_verified = account.email_verified ?? true;
        }
        return claims;
      },
    };
  },
  // First-party client: consent is given in advance, so no consent page.
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId
      || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope('openid email profile groups');
    await grant.save();
    return grant;
  },
};

const provider = new Provider(issuer, configuration);
provider.listen(port, '127.0.0.1', () => {
  process.stdout.write('ready\n');
});
