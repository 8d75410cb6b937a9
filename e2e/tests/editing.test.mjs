// Editing and deleting messages in real browsers: the actions menu only on what
// is one's own, the edit form in place of the message, the change shown live to
// the other person, and a deletion confirmed and gone from both pages.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import {
  launchBrowser,
  messageTexts,
  newPersonContext,
  openChat,
  person,
  say,
  startHearth,
  waitForMessage,
  watchConsole,
} from "../harness.mjs";

/** How long a live change may take to reach the other person. */
const LIVE = 1_000;

describe("editing and deleting", { timeout: 120_000 }, () => {
  let app;
  let browser;

  before(async () => {
    [app, browser] = await Promise.all([startHearth(), launchBrowser()]);
  });

  after(async () => {
    await browser?.close();
    await app?.dispose();
  });

  test("Bo fixes a typo and takes back a message; Cy sees both live", async () => {
    // The first account is an administrator; Bo and Cy are not.
    const admin = await newPersonContext(browser, app, person("Ada"));
    const bo = await newPersonContext(browser, app, person("Bo"));
    const cy = await newPersonContext(browser, app, person("Cy"));
    const errors = [watchConsole(bo.page), watchConsole(cy.page)];
    await Promise.all([openChat(bo.page, app), openChat(cy.page, app)]);
    for (const { page } of [bo, cy]) await page.evaluate(() => (window.stillHere = true));

    await say(bo.page, "Lunch at noen?");
    await say(bo.page, "wrong room, sorry");
    await waitForMessage(cy.page, "wrong room, sorry", LIVE);
    await say(cy.page, "Sounds good");
    await waitForMessage(bo.page, "Sounds good", LIVE);

    // Bo has a menu on his own messages only; Cy on none of Bo's.
    const message = (page, text) => page.locator("#messages article.message", { hasText: text });
    const menu = (page, text) => message(page, text).locator("details.message-actions > summary");
    assert.equal(await menu(bo.page, "Lunch at").isVisible(), true);
    assert.equal(await menu(bo.page, "Sounds good").isVisible(), false);
    assert.equal(await menu(cy.page, "Lunch at").isVisible(), false);

    await menu(bo.page, "Lunch at").click();
    await message(bo.page, "Lunch at").getByRole("link", { name: "Edit" }).click();
    const box = bo.page.getByLabel("Edit your message");
    assert.equal(await box.inputValue(), "Lunch at noen?");
    await box.fill("Lunch at noon?");
    await bo.page.getByRole("button", { name: "Save" }).click();

    await waitForMessage(cy.page, "Lunch at noon?", LIVE);
    await waitForMessage(bo.page, "Lunch at noon?", LIVE);
    for (const { page } of [bo, cy]) {
      const edited = message(page, "Lunch at noon?").locator(".edited");
      assert.equal(await edited.textContent(), "(edited)");
      assert.match(await edited.getAttribute("title"), /^Edited \d{4}-\d\d-\d\dT/);
    }

    bo.page.once("dialog", (dialog) => dialog.accept());
    await menu(bo.page, "wrong room").click();
    await message(bo.page, "wrong room").getByRole("button", { name: "Delete" }).click();
    for (const { page } of [bo, cy]) {
      await page.waitForFunction(
        () => ![...document.querySelectorAll("#messages .body")].some((b) => b.textContent === "wrong room, sorry"),
        null,
        { timeout: LIVE },
      );
      assert.deepEqual(await messageTexts(page), ["Lunch at noon?", "Sounds good"]);
      assert.equal(await page.evaluate(() => window.stillHere), true, "no reload");
    }

    // An administrator sees Delete, never Edit, on someone else's message.
    await openChat(admin.page, app);
    await menu(admin.page, "Sounds good").click();
    assert.equal(await message(admin.page, "Sounds good").getByRole("button", { name: "Delete" }).isVisible(), true);
    assert.equal(await message(admin.page, "Sounds good").getByRole("link", { name: "Edit" }).isVisible(), false);

    // After a reload, it is all still so.
    await openChat(cy.page, app);
    assert.deepEqual(await messageTexts(cy.page), ["Lunch at noon?", "Sounds good"]);
    assert.deepEqual(errors.flat(), [], "no console errors");
    for (const { context } of [admin, bo, cy]) await context.close();
  });
});
