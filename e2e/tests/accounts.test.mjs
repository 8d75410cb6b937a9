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
