// A real OpenID Connect provider for the tests: panva's certified `oidc-provider`, with its own
// (development) login page, one confidential client, PKCE required and RP-initiated logout.
//
//   node tests/directory/oidc_provider.mjs <port> <client_id> <client_secret> <redirect base URL>...
//
// Each base URL gives the client the redirect URI <base>/login/oidc/callback and the post-logout
// redirect URI <base>/login. The provider listens on http://127.0.0.1:<port> (its issuer) and prints
// "ready" on a line of its own when it accepts requests.
import { generateKeyPairSync } from 'node:crypto';

import Provider from 'oidc-provider';

const [port, clientId, clientSecret, ...bases] = process.argv.slice(2);
const issuer = `http://127.0.0.1:${port}`;

// The people the provider knows; the login page accepts any password (development interactions).
const ACCOUNTS = {
  jana: {
    sub: '2f6a1d0e-5b0c-4d8e-9a57-0c1f6f0e1a01', email: 'jana.sso@example.org', email_verified: true,
    given_name: 'Jana', family_name: 'Sonne', name: 'Jana Sonne', preferred_username: 'jsonne',
  },
  karla: {
    sub: '2f6a1d0e-5b0c-4d8e-9a57-0c1f6f0e1a02', email: 'karla@example.org', email_verified: true,
    given_name: 'Karla', family_name: 'Kollision', name: 'Karla Kollision', preferred_username: 'kkollision',
  },
  nomail: {
    sub: '2f6a1d0e-5b0c-4d8e-9a57-0c1f6f0e1a03', name: 'Nora Ohnepost', preferred_username: 'nomail',
  },
  unverified: {
    sub: '2f6a1d0e-5b0c-4d8e-9a57-0c1f6f0e1a04', email: 'someone-else@example.org', email_verified: false,
    name: 'Ulla Unbestaetigt', preferred_username: 'unverified',
  },
};

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'test-key', use: 'sig', alg: 'RS256' };

const page = (title, body) => `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>${title}</title></head><body><main><h1>${title}</h1>${body}</main></body></html>`;

const configuration = {
  clients: [{
    client_id: clientId,
    client_secret: clientSecret,
    redirect_uris: bases.map((base) => `${base}/login/oidc/callback`),
    post_logout_redirect_uris: bases.map((base) => `${base}/login`),
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  jwks: { keys: [jwk] },
  cookies: { keys: ['test-cookie-key-of-the-oidc-provider'] },
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'given_name', 'family_name', 'preferred_username'],
  },
  scopes: ['openid', 'email', 'profile'],
  pkce: { methods: ['S256'], required: () => true },
  features: {
    devInteractions: { enabled: true },
    rpInitiatedLogout: {
      enabled: true,
      // Plain pages without outside fonts, so the browser tests make no request to the internet.
      logoutSource: async (ctx, form) => {
        ctx.body = page('Sign out', `${form}<button autofocus type="submit" form="op.logoutForm" value="yes"
          name="logout">Yes, sign me out</button><button type="submit" form="op.logoutForm">No, stay signed in</button>`);
      },
      postLogoutSuccessSource: async (ctx) => {
        ctx.body = page('Signed out', '<p>You are signed out.</p>');
      },
    },
  },
  // The platform is a first-party client: its scopes are granted without a consent page.
  loadExistingGrant: async (ctx) => {
    const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) {
      return ctx.oidc.provider.Grant.find(grantId);
    }
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope('openid email profile');
    await grant.save();
    return grant;
  },
  findAccount: async (ctx, id) => {
    const account = ACCOUNTS[id];
    if (!account) {
      return undefined;
    }
    return { accountId: id, claims: async () => ({ ...account }) };
  },
  renderError: async (ctx, out) => {
    ctx.type = 'html';
    ctx.body = page('Error', `<pre>${Object.entries(out).map(([k, v]) => `${k}: ${String(v).replace(/</g, '&lt;')}`).join('\n')}</pre>`);
  },
};

const provider = new Provider(issuer, configuration);
// The development login page imports a web font from the internet: the tests' browser must not go there.
provider.use(async (ctx, next) => {
  await next();
  if (typeof ctx.body === 'string' && ctx.body.includes('fonts.googleapis.com')) {
    ctx.body = ctx.body.replace(/@import url\(https:\/\/fonts\.googleapis\.com[^)]*\);?/g, '');
  }
});
provider.listen(Number(port), '127.0.0.1', () => {
  process.stdout.write('ready\n');
});
