// Passkeys in a real browser, with Chromium's virtual authenticator (the DevTools
// protocol's WebAuthn domain: a platform authenticator that keeps resident keys and
// verifies its user): add one on the dashboard, sign out, sign in with the passkey
// alone, remove it. Confirming a change with a passkey is tested over HTTP
// (tests/hearth/passkeys.rs), where the ten-minute window can be shortened.
// Hearth runs as http://localhost:<port>: WebAuthn refuses an IP address.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import {
  axeViolations,
  launchBrowser,
  person,
  screenshots,
  signOut,
  signUp,
  startHearth,
  waitForPath,
  watchConsole,
} from "../harness.mjs";

/** A device that keeps passkeys and unlocks them without asking (fingerprint "yes"). */
async function virtualAuthenticator(context, page) {
  const cdp = await context.newCDPSession(page);
  await cdp.send("WebAuthn.enable");
  const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: {
      protocol: "ctap2",
      transport: "internal",
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  return {
    credentials: async () => (await cdp.send("WebAuthn.getCredentials", { authenticatorId })).credentials,
  };
}

/** The dashboard's Passkeys section. */
function passkeys(page) {
  return page.locator("section[aria-labelledby=passkeys]");
}

async function noAxeViolations(page, what) {
  for (const colorScheme of ["light", "dark"]) {
    await page.emulateMedia({ colorScheme });
    assert.deepEqual(await axeViolations(page), [], `${what} (${colorScheme})`);
  }
  await page.emulateMedia({ colorScheme: "light" });
}

describe("passkeys", { timeout: 90_000 }, () => {
  let app;
  let browser;

  before(async () => {
    [app, browser] = await Promise.all([startHearth({ host: "localhost" }), launchBrowser()]);
  });

  after(async () => {
    await browser?.close();
    await app?.dispose();
  });

  test("add a passkey, sign out, sign in with it alone, remove it", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const problems = watchConsole(page);
    const device = await virtualAuthenticator(context, page);
    const ada = person("Ada Lovelace");
    await signUp(page, app, ada);

    await page.getByRole("link", { name: "Add a passkey" }).click();
    await waitForPath(page, "/dashboard/passkeys/new");
    await noAxeViolations(page, "the add-a-passkey page");
    await screenshots(page, "passkey-add");
    await page.getByLabel("Name").fill("Work laptop");
    await page.getByRole("button", { name: "Create the passkey" }).click();
    await waitForPath(page, "/dashboard");
    await page.getByText("Passkey “Work laptop” added").waitFor();
    const kept = await device.credentials();
    assert.equal(kept.length, 1);
    assert.equal(kept[0].isResidentCredential, true, "discoverable: found without an email");
    assert.equal(kept[0].rpId, "localhost");
    await passkeys(page).scrollIntoViewIfNeeded();
    await noAxeViolations(page, "the dashboard with a passkey");
    await screenshots(page, "passkey-dashboard");

    // Signed out, the sign-in page asks the browser for this site's passkeys as
    // suggestions for the email field (conditional mediation); the virtual device
    // answers at once, as a person picking the suggestion would. No email, no password.
    await signOut(page);
    await waitForPath(page, "/dashboard");
    await passkeys(page).getByText("last used").waitFor();
    assert.equal((await device.credentials())[0].signCount >= 1, true, "the device counted the use");

    // Where a browser offers no such suggestions, the button does it.
    await context.addInitScript(() => {
      PublicKeyCredential.isConditionalMediationAvailable = async () => false;
    });
    await signOut(page);
    const button = page.getByRole("button", { name: "Sign in with a passkey" });
    await button.waitFor();
    await noAxeViolations(page, "the sign-in page with passkeys");
    await screenshots(page, "passkey-sign-in");
    await button.click();
    await waitForPath(page, "/dashboard");

    // Removing it needs a recent sign-in: that passkey sign-in counts.
    await passkeys(page).getByRole("button", { name: "Remove Work laptop" }).click();
    await page.getByText("Passkey removed.").waitFor();
    await signOut(page);
    await button.click();
    await page.getByText("That passkey could not be verified").waitFor();
    assert.equal(new URL(page.url()).pathname, "/login/passkey");

    const unexpected = problems.filter((p) => !/status of 401/.test(p));
    assert.deepEqual(unexpected, [], "no script errors");
    await context.close();
  });
});
