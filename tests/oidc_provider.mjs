// An OpenID Connect provider for the citizens' sign-in tests: the real `oidc-provider` package
// (node_modules, pinned by package-lock.json), configured as NHS login behaves: authorisation
// code flow, PKCE required, `private_key_jwt` client authentication (RS512), users with
// `nhs_number` and `identity_proofing_level` claims. Its own login and consent pages are the
// package's development interaction pages.
//
// Usage: node tests/oidc_provider.mjs
//   prints `oidc provider listening on http://127.0.0.1:PORT` (a free port), then reads one JSON
//   line on standard input:
//     {"client_id": "...", "redirect_uri": "...", "jwk": {public JWK of the client},
//      "users": {"login": {"nhs_number": "...", "identity_proofing_level": "P9",
//                          "tamper": "signature" | "audience" | "expired" (optional)}},
//      "claims_in_id_token": false}
//   and prints `oidc provider ready` once it answers.
//
// With `claims_in_id_token` the ID token carries the users' claims (as NHS login's does) and
// the user-info endpoint answers 503, so a test knows the claims came from the token; without
// it (the package's default for the code flow) they come from the user-info endpoint only.
//
// `tamper` drives the provider into handing out a bad ID token for that user, to test that the
// service refuses it: "audience" and "expired" re-sign a changed token with the provider's own
// published key; "signature" signs it with a key the provider does not publish.

import http from 'node:http';
import readline from 'node:readline';
import Provider from 'oidc-provider';
import * as jose from 'jose';

const server = http.createServer((req, res) => {
  res.statusCode = 503;
  res.end('not configured yet');
});

await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;
console.log(`oidc provider listening on ${issuer}`);

const line = await new Promise((resolve) => {
  const rl = readline.createInterface({ input: process.stdin });
  rl.once('line', (l) => {
    rl.close();
    resolve(l);
  });
});
const setup = JSON.parse(line);
const users = setup.users;

const signingAlg = 'RS256';
const { privateKey } = await jose.generateKeyPair(signingAlg, { extractable: true });
const providerJwk = { ...(await jose.exportJWK(privateKey)), kid: 'provider-1', alg: signingAlg, use: 'sig' };
const foreign = await jose.generateKeyPair(signingAlg, { extractable: true });

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: setup.client_id,
      redirect_uris: [setup.redirect_uri],
      response_types: ['code'],
      grant_types: ['authorization_code'],
      token_endpoint_auth_method: 'private_key_jwt',
      token_endpoint_auth_signing_alg: 'RS512',
      jwks: { keys: [setup.jwk] },
    },
  ],
  jwks: { keys: [providerJwk] },
  pkce: { required: () => true },
  scopes: ['openid', 'profile'],
  claims: { openid: ['sub'], profile: ['nhs_number', 'identity_proofing_level'] },
  enabledJWA: { clientAuthSigningAlgValues: ['RS512', 'RS256'] },
  cookies: { keys: ['sharedcare test provider cookie key'] },
  features: { devInteractions: { enabled: true } },
  conformIdTokenClaims: !setup.claims_in_id_token,
  async findAccount(ctx, id) {
    const user = users[id];
    if (!user) return undefined;
    return {
      accountId: id,
      async claims() {
        return {
          sub: id,
          nhs_number: user.nhs_number,
          identity_proofing_level: user.identity_proofing_level,
        };
      },
    };
  },
});

if (setup.claims_in_id_token) {
  provider.use(async (ctx, next) => {
    if (ctx.path === '/me') {
      ctx.status = 503;
      ctx.body = 'user-info is off';
      return;
    }
    await next();
  });
}

// The tampering hook: after the token endpoint has answered, rewrite that user's ID token.
provider.use(async (ctx, next) => {
  await next();
  if (ctx.path !== '/token' || !ctx.body || typeof ctx.body.id_token !== 'string') return;
  const claims = jose.decodeJwt(ctx.body.id_token);
  const tamper = users[claims.sub] && users[claims.sub].tamper;
  if (!tamper) return;
  const now = Math.floor(Date.now() / 1000);
  let key = privateKey;
  if (tamper === 'audience') claims.aud = 'another-service';
  if (tamper === 'expired') {
    claims.iat = now - 3600;
    claims.exp = now - 600;
  }
  if (tamper === 'signature') key = foreign.privateKey;
  ctx.body.id_token = await new jose.SignJWT(claims)
    .setProtectedHeader({ alg: signingAlg, kid: providerJwk.kid, typ: 'JWT' })
    .sign(key);
});

server.removeAllListeners('request');
server.on('request', provider.callback());
console.log('oidc provider ready');
