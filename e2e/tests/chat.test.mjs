// The chat in real browsers: two people talking live, a direct message only its
// two people can read, signing out closing the socket in another tab, and the
// page working with JavaScript off.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import {
  fillSignIn,
  launchBrowser,
  messageTexts,
  newPersonContext,
  nextLiveSocket,
  openChat,
  person,
  say,
  signUp,
  startHearth,
  waitForMessage,
  waitForPath,
  watchConsole,
  within,
} from "../harness.mjs";

/** How long a live message may take to reach the other person. */
const LIVE = 1_000;

describe("chat", { timeout: 120_000 }, () => {
  let app;
  let browser;

  before(async () => {
    [app, browser] = await Promise.all([startHearth(), launchBrowser()]);
  });

  after(async () => {
    await browser?.close();
    await app?.dispose();
  });

  test("3. two people chat and each sees the other's message live, within a second", async (t) => {
    const ada = await newPersonContext(browser, app, person("Ada"));
    const bo = await newPersonContext(browser, app, person("Bo"));
    const adaErrors = watchConsole(ada.page);
    const boErrors = watchConsole(bo.page);

    await Promise.all([openChat(ada.page, app), openChat(bo.page, app)]);
    // Marks that vanish if a page reloads or navigates.
    for (const { page } of [ada, bo]) await page.evaluate(() => (window.stillHere = true));

    const hello = `Hello Bo, it is Ada (${Date.now()})`;
    const sent = Date.now();
    await say(ada.page, hello);
    await waitForMessage(bo.page, hello, LIVE);
    const took = Date.now() - sent;

    const reply = "Hi Ada! Bo here.\nTwo lines, <b>not bold</b>.";
    await bo.page.fill("#composer-body", reply);
    await bo.page.getByRole("button", { name: "Send" }).click();
    await waitForMessage(ada.page, reply, LIVE);

    for (const { page } of [ada, bo]) {
      // Authors get their own message back over the socket too.
      for (const text of [hello, reply]) await waitForMessage(page, text);
      assert.deepEqual(await messageTexts(page), [hello, reply]);
      assert.equal(await page.evaluate(() => window.stillHere), true, "the page did not reload");
      // The server resets the composer after a send.
      await page.waitForFunction(() => document.getElementById("composer-body").value === "");
    }
    // Markup in a message is text, not markup.
    assert.equal(await ada.page.locator("#messages article.message b").count(), 0);
    // Each author is shown with their own message.
    assert.equal(await bo.page.locator("#messages article.message .author").first().textContent(), "Ada");

    assert.deepEqual([...adaErrors, ...boErrors], [], "no console errors on the chat page");
    t.diagnostic(`Ada's message reached Bo in ${took} ms`);
    await ada.context.close();
    await bo.context.close();
  });

  test("4. a direct message reaches the other person, and nobody else can open it", async () => {
    const ada = await newPersonContext(browser, app, person("Ada Direct"));
    const bo = await newPersonContext(browser, app, person("Bo Direct"));
    const cy = await newPersonContext(browser, app, person("Cy Outsider"));

    await ada.page.goto(`${app.url}/people/${bo.id}`);
    const adaLive = nextLiveSocket(ada.page);
    await ada.page.getByRole("button", { name: "Send a direct message" }).click();
    const dm = `/chat/dm-${Math.min(ada.id, bo.id)}-${Math.max(ada.id, bo.id)}`;
    await waitForPath(ada.page, dm);
    await adaLive;

    const secret = `Just between us, Bo (${Date.now()})`;
    await say(ada.page, secret);
    await waitForMessage(ada.page, secret);

    // Bo finds the conversation in the sidebar, named after Ada.
    await openChat(bo.page, app);
    const link = bo.page.locator(`#sidebar a[href="${dm}"]`);
    assert.match(await link.textContent(), /Ada Direct/);
    const live = nextLiveSocket(bo.page);
    await link.click();
    await waitForPath(bo.page, dm);
    await live;
    assert.deepEqual(await messageTexts(bo.page), [secret]);

    // And the reply is live the other way.
    const reply = "Got it, Ada.";
    await say(bo.page, reply);
    await waitForMessage(ada.page, reply, LIVE);

    // A third person gets the same 404 as for a room that does not exist.
    const response = await cy.page.goto(`${app.url}${dm}`);
    assert.equal(response.status(), 404);
    assert.match(await cy.page.locator("h1").textContent(), /Not Found/i);
    assert.equal(await cy.page.locator("article.message").count(), 0);
    assert.doesNotMatch(await cy.page.content(), /Just between us/);
    const older = await cy.page.request.get(`${app.url}${dm}/messages?before=1000`);
    assert.equal(older.status(), 404);

    for (const who of [ada, bo, cy]) await who.context.close();
  });

  test("5. signing out in one tab closes the chat socket in another tab", async () => {
    const { context, page: chatTab } = await newPersonContext(browser, app, person("Tab Juggler"));
    const socket = await openChat(chatTab, app);
    const closed = new Promise((done) => socket.on("close", done));
    let reconnects = 0;
    chatTab.on("websocket", () => (reconnects += 1));

    const otherTab = await context.newPage();
    await otherTab.goto(`${app.url}/dashboard`);
    await otherTab.getByRole("button", { name: /Sign out/ }).click();
    await waitForPath(otherTab, "/login");

    await within(closed, 5_000, "the chat tab's socket closing");
    const status = chatTab.locator("#connection-status");
    await status.filter({ hasText: "You were signed out" }).waitFor({ timeout: 5_000 });
    assert.equal(
      await status.getByRole("link", { name: "Sign in again" }).getAttribute("href"),
      "/login?next=%2Fchat%2Fgeneral",
    );
    // Nothing more can be sent from this page, and who is online is no longer shown.
    assert.equal(await chatTab.getByRole("button", { name: "Send" }).isDisabled(), true);
    assert.equal(await chatTab.locator("#composer-body").evaluate((box) => box.readOnly), true);
    assert.equal(await chatTab.locator("#online").textContent(), "");
    // A signed-out socket stays closed: no reconnecting loop.
    await chatTab.waitForTimeout(1_500);
    assert.equal(reconnects, 0);
    assert.match(await status.textContent(), /You were signed out/);
    await context.close();
  });

  test("7. without JavaScript: sign in, read the chat, post with the plain form", async () => {
    const reader = person("Noscript Nell");
    // Someone with JavaScript says something first, and watches the room.
    const ada = await newPersonContext(browser, app, person("Ada Watcher"));
    await openChat(ada.page, app);
    const greeting = `Welcome, Nell (${Date.now()})`;
    await say(ada.page, greeting);
    await waitForMessage(ada.page, greeting);

    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    let sockets = 0;
    page.on("websocket", () => (sockets += 1));
    await signUp(page, app, reader);
    await page.getByRole("button", { name: /Sign out/ }).click();
    await waitForPath(page, "/login");
    await page.goto(`${app.url}/chat`);
    await waitForPath(page, "/login", "?next=%2Fchat");
    await fillSignIn(page, reader);
    await waitForPath(page, "/chat");

    assert.ok((await messageTexts(page)).includes(greeting), "the chat shows what was said");
    const mine = `Posted without JavaScript (${Date.now()})`;
    await page.fill("#composer-body", mine);
    await page.getByRole("button", { name: "Send" }).click();
    await waitForPath(page, "/chat/general");
    const texts = await messageTexts(page);
    assert.equal(texts.at(-1), mine);
    assert.equal(texts.filter((t) => t === mine).length, 1);
    assert.equal(await page.locator("#composer-body").inputValue(), "");
    assert.equal(sockets, 0, "no socket without JavaScript");

    // An empty message is refused with a reason, still without JavaScript.
    await page.fill("#composer-body", "   ");
    await page.getByRole("button", { name: "Send" }).click();
    assert.match(await page.locator("#composer-problem").textContent(), /\S/);

    // The person with JavaScript saw it arrive live.
    await waitForMessage(ada.page, mine, LIVE);
    await context.close();
    await ada.context.close();
  });
});
