// Accounts in a real browser: signing up, signing out, signing in where you meant
// to go, and never being sent off-site by a crafted `next`.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import {
  fillSignIn,
  launchBrowser,
  person,
  signOut,
  signUp,
  startHearth,
  waitForPath,
} from "../harness.mjs";

describe("accounts", { timeout: 60_000 }, () => {
  let app;
  let browser;

  before(async () => {
    [app, browser] = await Promise.all([startHearth(), launchBrowser()]);
  });

  after(async () => {
    await browser?.close();
    await app?.dispose();
  });

  test("1. sign up from the landing page and land on the dashboard", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const ada = person("Ada Lovelace");

    await page.goto(app.url);
    await page.getByRole("link", { name: "Create an account" }).click();
    await waitForPath(page, "/signup");
    await page.getByLabel("Name").fill(ada.name);
    await page.getByLabel("Email").fill(ada.email);
    await page.getByLabel("Password").fill(ada.password);
    await page.getByRole("button", { name: "Create account" }).click();

    await waitForPath(page, "/dashboard");
    assert.equal(await page.locator("h1").first().textContent(), ada.name);
    assert.match(await page.locator("main").textContent(), new RegExp(ada.email.replace(/\./g, "\\.")));
    // Signed in: the landing page now sends you to the dashboard.
    await page.goto(app.url);
    await waitForPath(page, "/dashboard");
    await context.close();
  });

  test("2. sign out, then sign in with a next and land where you were going", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const grace = person("Grace Hopper");
    await signUp(page, app, grace);

    await signOut(page);
    // Signed out, the dashboard is out of reach.
    await page.goto(`${app.url}/dashboard`);
    await waitForPath(page, "/login", "?next=%2Fdashboard");

    await page.goto(`${app.url}/chat`);
    await waitForPath(page, "/login", "?next=%2Fchat");
    assert.equal(await page.locator('input[name="next"]').inputValue(), "/chat");
    await fillSignIn(page, grace);

    await waitForPath(page, "/chat");
    assert.match(await page.locator("#room-title").textContent(), /general/i);
    await context.close();
  });

  test("9. with htmx a form is answered without a reload, its button waits, and a problem gets the focus", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const lin = person("Lin Boost");
    await signUp(page, app, lin);
    await signOut(page);
    await page.goto(`${app.url}/login?next=%2Fdashboard`);
    // A full page load would forget this.
    await page.evaluate(() => {
      window.hearthSameDocument = true;
    });
    const submit = page.locator('form[action="/login"] button[type="submit"]');

    // Hold the answer long enough to see the form waiting for it.
    let release;
    const held = new Promise((resolve) => {
      release = resolve;
    });
    await page.route("**/login", async (route) => {
      if (route.request().method() === "POST") await held;
      await route.continue();
    });
    await page.fill("#field-email", lin.email);
    await page.fill("#field-password", "not the password at all");
    await submit.click();
    await page.waitForFunction(() => document.querySelector('form[action="/login"] button[type="submit"]').disabled);
    release();
    await page.locator("main [role=alert]").waitFor();
    assert.equal(await page.evaluate(() => window.hearthSameDocument), true, "answered without a reload");
    assert.equal(await submit.isDisabled(), false);
    assert.equal(new URL(page.url()).pathname + new URL(page.url()).search, "/login?next=%2Fdashboard");
    // The focus moves once htmx has settled the new content.
    await page.waitForFunction(() => document.activeElement?.getAttribute("role") === "alert", null, {
      timeout: 2_000,
    });
    assert.equal(await page.inputValue("#field-email"), lin.email);
    await page.unroute("**/login");

    await fillSignIn(page, lin);
    await waitForPath(page, "/dashboard");
    await page.locator("h1", { hasText: lin.name }).waitFor();
    assert.equal(await page.evaluate(() => window.hearthSameDocument), true, "signed in without a reload");

    // A field-level problem: the focus goes to that field, which names the problem.
    await page.fill("#field-current_password", lin.password);
    await page.fill("#field-new_password", "short");
    await page.click('form[action="/dashboard/password"] button[type="submit"]');
    await page.locator('#field-new_password[aria-invalid="true"]').waitFor();
    await page.waitForFunction(() => document.activeElement?.id === "field-new_password", null, { timeout: 2_000 });
    assert.equal(await page.evaluate(() => window.hearthSameDocument), true);
    assert.equal(new URL(page.url()).pathname, "/dashboard");

    // No copy of a page is kept in the tab for the back button; going back asks again.
    assert.equal(await page.evaluate(() => sessionStorage.getItem("htmx-history-cache")), null);
    await signOut(page);
    await page.goBack();
    await waitForPath(page, "/login", "?next=%2Fdashboard");
    await context.close();
  });

  test("8. an unsafe next lands on the dashboard after sign-in", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const mallory = person("Mallory Target");
    await signUp(page, app, mallory);
    await signOut(page);

    // As typed in the address bar, and a few cousins.
    for (const next of ["//evil.example", "https:%2F%2Fevil.example%2F", "%2F%5Cevil.example", "javascript:alert(1)"]) {
      await page.goto(`${app.url}/login?next=${next}`);
      await fillSignIn(page, mallory);
      await waitForPath(page, "/dashboard");
      assert.equal(new URL(page.url()).origin, app.url, `next=${next} must not leave Hearth`);
      await signOut(page);
    }
    await context.close();
  });
});
