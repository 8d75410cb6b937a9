// A local OpenID provider standing in for Google in Hearth's tests (panva's
// certified oidc-provider). It listens on 127.0.0.1 on a free port and prints
// {"issuer": "..."} once ready.
//
// Environment: CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, and ACCOUNTS, a JSON object
// of subject -> claims ({"email", "email_verified", "name", "picture", and "hd", the
// Google Workspace domain, where there is one}). The account that signs in is the
// authorization request's `login_hint`; the hint "cancel" makes the person cancel at
// the provider (error=access_denied).
import http from "node:http";
import Provider from "oidc-provider";

const { CLIENT_ID, CLIENT_SECRET, REDIRECT_URI } = process.env;
const accounts = JSON.parse(process.env.ACCOUNTS || "{}");

const server = http.createServer();
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  clients: [{
    client_id: CLIENT_ID,
    client_secret: CLIENT_SECRET,
    redirect_uris: [REDIRECT_URI],
    grant_types: ["authorization_code"],
    response_types: ["code"],
  }],
  pkce: { required: () => true },
  // Put email, name and picture (and `hd`, if the account has one) in the ID token,
  // as Google does.
  conformIdTokenClaims: false,
  claims: { openid: ["sub", "hd"], email: ["email", "email_verified"], profile: ["name", "picture"] },
  features: { devInteractions: { enabled: false } },
  cookies: { keys: ["test-only-cookie-key"] },
  async findAccount(ctx, sub) {
    if (!accounts[sub]) return undefined;
    return { accountId: sub, async claims() { return { sub, ...accounts[sub] }; } };
  },
  // Consent is given at once: grant the scopes asked for.
  async loadExistingGrant(ctx) {
    const accountId = ctx.oidc.session?.accountId;
    if (!accountId) return undefined;
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId });
    grant.addOIDCScope("openid email profile");
    await grant.save();
    return grant;
  },
});

const handle = provider.callback();
server.on("request", async (req, res) => {
  if (req.url.startsWith("/interaction/")) {
    try {
      const details = await provider.interactionDetails(req, res);
      const hint = details.params.login_hint || Object.keys(accounts)[0];
      const result = hint === "cancel"
        ? { error: "access_denied", error_description: "The person cancelled." }
        : { login: { accountId: hint } };
      await provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
    } catch (err) {
      res.statusCode = 500;
      res.end(String(err));
    }
    return;
  }
  handle(req, res);
});

console.log(JSON.stringify({ issuer }));
