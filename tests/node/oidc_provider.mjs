// A real OpenID provider for the single sign-on tests: the `oidc-provider` package on loopback.
//
//   node oidc_provider.mjs CONFIG.json
//
// CONFIG: {"port", "client_id", "client_secret", "accounts"} where "accounts" is a JSON file the
// provider reads at every sign-in: {"<login>": {"email", "preferred_username", "name"}}. The
// login is the subject (`sub`); a login the file does not name has email login@example.org.
// Consent is given at once for the test client; every loopback `/auth/oidc/callback` is a
// registered redirect URI (the instances under test pick their ports). Prints "ready" when
// listening.
import { readFileSync } from 'node:fs';
import Provider from 'oidc-provider';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const issuer = `http://127.0.0.1:${config.port}`;

function account(login) {
  let known = {};
  try {
    known = JSON.parse(readFileSync(config.accounts, 'utf8'));
  } catch {
    known = {};
  }
  const a = known[login] || {};
  return {
    sub: login,
    email: a.email === undefined ? `${login}@example.org` : a.email,
    email_verified: true,
    preferred_username: a.preferred_username === undefined ? login : a.preferred_username,
    name: a.name || `Test ${login}`,
  };
}

const provider = new Provider(issuer, {
  clients: [{
    client_id: config.client_id,
    client_secret: config.client_secret,
    redirect_uris: ['http://127.0.0.1/auth/oidc/callback'],
    token_endpoint_auth_method: 'client_secret_basic',
    grant_types: ['authorization_code'],
    response_types: ['code'],
  }],
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'preferred_username'],
  },
  scopes: ['openid', 'profile', 'email'],
  features: { devInteractions: { enabled: true } },
  pkce: { required: () => true },
  async findAccount(ctx, id) {
    const claims = account(id);
    return { accountId: id, async claims() { return claims; } };
  },
  async loadExistingGrant(ctx) {
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope('openid profile email');
    grant.addOIDCClaims(['name', 'preferred_username', 'email', 'email_verified']);
    await grant.save();
    return grant;
  },
});

provider.Client.prototype.redirectUriAllowed = function allowed(value) {
  return /^http:\/\/127\.0\.0\.1:\d+\/auth\/oidc\/callback$/.test(value);
};

const server = provider.listen(config.port, '127.0.0.1', () => {
  process.stdout.write('ready\n');
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
