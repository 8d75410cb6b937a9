// Everyday chat in real browsers: edit and delete only on what is one's own (the
// edit form in place of the message, the change shown live to the other person, a
// deletion confirmed and gone from both pages); reactions picked, counted, marked
// as one's own and taken back; a mention picked from the composer's suggestions;
// and a private room that only its people see.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import {
  dropPicture,
  launchBrowser,
  messageTexts,
  messageWith,
  openMessageMenu,
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

describe("everyday chat", { timeout: 120_000 }, () => {
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

    // Everyone's menu offers reactions; Edit and Delete only on one's own messages.
    const message = messageWith;
    async function offers(page, text) {
      const menu = await openMessageMenu(page, text);
      const shown = [];
      if (await menu.getByLabel("Any emoji").isVisible()) shown.push("React");
      for (const name of ["Edit", "Delete"]) {
        if (await menu.getByText(name, { exact: true }).isVisible()) shown.push(name);
      }
      await message(page, text).locator("details.message-actions > summary").click();
      return shown;
    }
    assert.deepEqual(await offers(bo.page, "Lunch at"), ["React", "Edit", "Delete"]);
    assert.deepEqual(await offers(bo.page, "Sounds good"), ["React"]);
    assert.deepEqual(await offers(cy.page, "Lunch at"), ["React"]);

    await (await openMessageMenu(bo.page, "Lunch at")).getByRole("link", { name: "Edit" }).click();
    const box = bo.page.getByLabel("Edit your message");
    assert.equal(await box.inputValue(), "Lunch at noen?");
    await box.fill("Lunch at noon?");
    // Cy reacts while Bo is typing: Bo's text stays, and saving shows both.
    await (await openMessageMenu(cy.page, "Lunch at")).getByRole("button", { name: "eyes" }).click();
    await message(cy.page, "Lunch at").locator("button.reaction").waitFor({ timeout: LIVE });
    await bo.page.waitForTimeout(300);
    assert.equal(await box.inputValue(), "Lunch at noon?", "what Bo typed is kept");
    await bo.page.getByRole("button", { name: "Save" }).click();
    await message(bo.page, "Lunch at noon?").locator("button.reaction").waitFor({ timeout: LIVE });

    await waitForMessage(cy.page, "Lunch at noon?", LIVE);
    await waitForMessage(bo.page, "Lunch at noon?", LIVE);
    for (const { page } of [bo, cy]) {
      const edited = message(page, "Lunch at noon?").locator(".edited");
      assert.equal(await edited.textContent(), "(edited)");
      assert.match(await edited.getAttribute("title"), /^Edited \d{4}-\d\d-\d\dT/);
    }

    bo.page.once("dialog", (dialog) => dialog.accept());
    await (await openMessageMenu(bo.page, "wrong room")).getByRole("button", { name: "Delete" }).click();
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
    assert.deepEqual(await offers(admin.page, "Sounds good"), ["React", "Delete"]);

    // After a reload, it is all still so.
    await openChat(cy.page, app);
    assert.deepEqual(await messageTexts(cy.page), ["Lunch at noon?", "Sounds good"]);
    assert.deepEqual(errors.flat(), [], "no console errors");
    for (const { context } of [admin, bo, cy]) await context.close();
  });

  test("Dee and Eli react: picked from the menu, counted live, marked, taken back", async () => {
    const dee = await newPersonContext(browser, app, person("Dee"));
    const eli = await newPersonContext(browser, app, person("Eli"));
    const errors = [watchConsole(dee.page), watchConsole(eli.page)];
    await Promise.all([openChat(dee.page, app), openChat(eli.page, app)]);
    const text = `We launched! (${Date.now()})`;
    await say(dee.page, text);
    await waitForMessage(eli.page, text, LIVE);
    // A second message right after sits under the same name, live as on a reload.
    await say(dee.page, "**and** it `works`");
    await waitForMessage(eli.page, "and it works", LIVE);
    const second = messageWith(eli.page, "and it works");
    assert.match(await second.getAttribute("class"), /\bcontinued\b/);
    assert.equal(await second.locator(".body strong").textContent(), "and");
    assert.equal(await second.locator(".body code").textContent(), "works");

    const message = (page) => page.locator("#messages article.message", { hasText: text });
    await (await openMessageMenu(eli.page, text)).getByRole("button", { name: "party popper" }).click();

    const tada = (page) => message(page).locator("button.reaction", { hasText: "🎉" });
    for (const { page } of [dee, eli]) {
      await tada(page).waitFor({ timeout: LIVE });
      assert.equal((await tada(page).textContent()).replace(/\s+/g, " ").trim().slice(0, 4), "🎉 1");
    }
    // Eli's own reaction is marked on Eli's page, not on Dee's.
    const marked = (page) => tada(page).evaluate((b) => getComputedStyle(b).borderColor);
    assert.notEqual(await marked(eli.page), await marked(dee.page));

    // Dee adds hers with a click on the count; Eli takes his back the same way.
    await tada(dee.page).click();
    await eli.page.waitForFunction((t) => {
      const b = [...document.querySelectorAll("#messages article.message")].find((a) => a.textContent.includes(t))
        ?.querySelector("button.reaction");
      return b && b.textContent.includes("🎉 2");
    }, text, { timeout: LIVE });
    await tada(eli.page).click();
    await dee.page.waitForFunction((t) => {
      const b = [...document.querySelectorAll("#messages article.message")].find((a) => a.textContent.includes(t))
        ?.querySelector("button.reaction");
      return b && b.textContent.includes("🎉 1") && b.textContent.includes(": Dee");
    }, text, { timeout: LIVE });

    // Any emoji can be typed into the picker.
    const menu = await openMessageMenu(dee.page, text);
    await menu.getByLabel("Any emoji").fill("🦀");
    await menu.getByRole("button", { name: "React" }).click();
    await message(eli.page).locator("button.reaction", { hasText: "🦀" }).waitFor({ timeout: LIVE });
    assert.deepEqual(errors.flat(), [], "no console errors");
    for (const { context } of [dee, eli]) await context.close();
  });

  test("Fay mentions Gus from the composer's suggestions; Gus sees it marked and counted", async () => {
    const fay = await newPersonContext(browser, app, person("Fay"));
    const gus = await newPersonContext(browser, app, person("Gus Grissom"));
    const errors = [watchConsole(fay.page), watchConsole(gus.page)];
    await openChat(fay.page, app);
    await fay.page.locator("#composer-body").pressSequentially("thanks @gus g");
    const option = fay.page.getByRole("option", { name: "Gus Grissom" });
    await option.waitFor({ timeout: LIVE * 5 });
    await fay.page.press("#composer-body", "Enter"); // picks, does not send
    assert.equal(await fay.page.locator("#composer-body").inputValue(), "thanks @Gus Grissom ");
    await fay.page.locator("#composer-body").pressSequentially("for the report");
    await fay.page.press("#composer-body", "Enter");

    await waitForMessage(fay.page, "thanks @Gus Grissom for the report");
    await gus.page.goto(`${app.url}/dashboard`);
    assert.match(await gus.page.locator(".mentions").first().textContent(), /@\s*1\s*mention/);
    await openChat(gus.page, app);
    await waitForMessage(gus.page, "thanks @Gus Grissom for the report");
    const mention = messageWith(gus.page, "for the report").locator(".mention");
    assert.equal(await mention.textContent(), "@Gus Grissom");
    const shade = (page) => messageWith(page, "for the report").locator(".mention")
      .evaluate((el) => getComputedStyle(el).backgroundColor);
    await waitForMessage(fay.page, "thanks @Gus Grissom for the report");
    assert.notEqual(await shade(gus.page), await shade(fay.page), "highlighted for Gus only");
    assert.deepEqual(errors.flat(), [], "no console errors");
    for (const { context } of [fay, gus]) await context.close();
  });

  test("Hal starts a private room and adds Ivy; they talk there, unseen by Jo", async () => {
    const hal = await newPersonContext(browser, app, person("Hal"));
    const ivy = await newPersonContext(browser, app, person("Ivy"));
    const jo = await newPersonContext(browser, app, person("Jo"));
    const errors = [watchConsole(hal.page), watchConsole(ivy.page)];
    const name = `Surprise ${Date.now()}`;
    await hal.page.goto(`${app.url}/rooms`);
    await hal.page.getByLabel("Room name").fill(name);
    await hal.page.getByLabel(/Private/).check();
    await hal.page.getByRole("button", { name: "Create room" }).click();
    await hal.page.waitForURL(/\/chat\/surprise-/);
    const slug = new URL(hal.page.url()).pathname;
    await hal.page.getByRole("link", { name: "People" }).click();
    await hal.page.getByLabel("Add someone").selectOption({ label: "Ivy" });
    await hal.page.getByRole("button", { name: /^Add to / }).click();
    await hal.page.waitForURL(/\/people$/);

    await Promise.all([openChat(hal.page, app, slug), openChat(ivy.page, app, slug)]);
    await say(ivy.page, "Cake on Friday?");
    await waitForMessage(hal.page, "Cake on Friday?", LIVE);

    // Jo finds nothing: not in the list, and the address is not found.
    await jo.page.goto(`${app.url}/rooms`);
    assert.equal(await jo.page.getByText(name).count(), 0);
    const missing = await jo.page.goto(`${app.url}${slug}`);
    assert.equal(missing.status(), 404);
    assert.deepEqual(errors.flat(), [], "no console errors");
    for (const { context } of [hal, ivy, jo]) await context.close();
  });

  test("Kim renames and archives a room; Lee's open page follows, keeping what Lee typed", async () => {
    const kim = await newPersonContext(browser, app, person("Kim"));
    const lee = await newPersonContext(browser, app, person("Lee"));
    // Mo is in the room too, but looking at #general: only its sidebar changes.
    const mo = await newPersonContext(browser, app, person("Mo"));
    const errors = [watchConsole(kim.page), watchConsole(lee.page), watchConsole(mo.page)];
    const name = `Garden ${Date.now()}`;
    await kim.page.goto(`${app.url}/rooms`);
    await kim.page.getByLabel("Room name").fill(name);
    await kim.page.getByRole("button", { name: "Create room" }).click();
    await kim.page.waitForURL(/\/chat\/garden-/);
    const slug = new URL(kim.page.url()).pathname;
    await lee.page.goto(`${app.url}/rooms`);
    await lee.page.getByRole("button", { name: `Join ${name}` }).click();
    await mo.page.goto(`${app.url}/rooms`);
    await mo.page.getByRole("button", { name: `Join ${name}` }).click();
    await openChat(mo.page, app);
    await openChat(lee.page, app, slug);
    await lee.page.getByLabel(/^Message /).fill("half a thought");

    await kim.page.goto(`${app.url}${slug}/settings`);
    await kim.page.getByLabel("Name").fill("Allotment");
    await kim.page.getByLabel("Topic").fill("Beans, mostly");
    await kim.page.getByRole("button", { name: "Save" }).click();
    await lee.page.getByRole("heading", { name: "#Allotment" }).waitFor({ timeout: LIVE });
    await lee.page.getByText("Beans, mostly").waitFor({ timeout: LIVE });
    await lee.page.locator("#sidebar").getByText("#Allotment").waitFor({ timeout: LIVE });
    await mo.page.locator("#sidebar").getByText("#Allotment").waitFor({ timeout: LIVE });

    // Archived: the composer gives way to the notice, and comes back as it was.
    await kim.page.goto(`${app.url}${slug}/settings`);
    await kim.page.getByRole("button", { name: /^Archive / }).click();
    await lee.page.getByText("This room is archived").waitFor({ timeout: LIVE });
    assert.equal(await lee.page.locator("#composer").isVisible(), false);
    await mo.page.locator("#sidebar").getByText("#Allotment").waitFor({ state: "detached", timeout: LIVE });
    await kim.page.goto(`${app.url}${slug}/settings`);
    await kim.page.getByRole("button", { name: /^Unarchive / }).click();
    await lee.page.locator("#composer").waitFor({ state: "visible", timeout: LIVE });
    assert.equal(await lee.page.getByLabel(/^Message /).inputValue(), "half a thought");
    // Renamed again: Mo's page no longer lists the room (until it reloads), and
    // takes the news without a complaint.
    await kim.page.goto(`${app.url}${slug}/settings`);
    await kim.page.getByLabel("Name").fill("Allotment 2");
    await kim.page.getByRole("button", { name: "Save" }).click();
    await lee.page.getByRole("heading", { name: "#Allotment 2" }).waitFor({ timeout: LIVE });
    await mo.page.reload();
    await mo.page.locator("#sidebar").getByText("#Allotment 2").waitFor();
    assert.deepEqual(errors.flat(), [], "no console errors");
    for (const { context } of [kim, lee, mo]) await context.close();
  });

  test("Pia drops a photo and picks a file; Quinn sees both live and opens the photo", async () => {
    const pia = await newPersonContext(browser, app, person("Pia"));
    const quinn = await newPersonContext(browser, app, person("Quinn"));
    const errors = [watchConsole(pia.page), watchConsole(quinn.page)];
    await Promise.all([openChat(pia.page, app), openChat(quinn.page, app)]);

    await pia.page.setInputFiles("#composer-file", {
      name: "itinerary.txt",
      mimeType: "text/plain",
      buffer: Buffer.from("Day 1: the coast\nDay 2: the hills\n"),
    });
    await dropPicture(pia.page, "harbour.png", 1200, 800);
    assert.equal(
      await pia.page.locator("#composer-file").evaluate((input) => [...input.files].map((f) => f.name).join(", ")),
      "itinerary.txt, harbour.png",
      "the dropped picture joins the picked file",
    );
    await say(pia.page, "From the trip");

    const sent = messageWith(quinn.page, "From the trip");
    const picture = sent.locator("img[src^='/previews/']");
    await picture.waitFor({ timeout: 5_000 });
    await quinn.page.waitForFunction((img) => img.complete && img.naturalWidth > 0, await picture.elementHandle());
    assert.equal(await picture.getAttribute("alt"), "harbour.png");
    assert.equal(await picture.evaluate((img) => img.naturalWidth), 720, "a preview made on the server");
    const card = sent.getByRole("link", { name: /itinerary\.txt/ });
    assert.match(await card.textContent(), /34 bytes/, "the card shows the size");

    // Pia's composer is empty again, its files too.
    await pia.page.waitForFunction(() => {
      const box = document.getElementById("composer-body");
      const input = document.getElementById("composer-file");
      return box && box.value === "" && input && input.files.length === 0;
    });
    assert.equal(await pia.page.locator("#composer-progress").isVisible(), false);

    // A click opens the whole picture in a tab of its own.
    const [tab, opened] = await Promise.all([
      quinn.context.waitForEvent("page"),
      quinn.context.waitForEvent("response", (response) => response.url().includes("/files/")),
      picture.click(),
    ]);
    assert.equal(opened.status(), 200);
    assert.equal(opened.headers()["content-type"], "image/png");
    assert.match(tab.url(), /\/files\/\d+\/harbour\.png$/);
    const download = await quinn.page.request.get(`${app.url}${await card.getAttribute("href")}`);
    assert.equal(await download.text(), "Day 1: the coast\nDay 2: the hills\n");
    assert.match(download.headers()["content-disposition"], /^attachment/);

    assert.deepEqual(errors.flat(), [], "no console errors");
    for (const { context } of [pia, quinn]) await context.close();
  });

  test("Rae's tab, in the background, counts what Sam says in its title and shows a dot", async () => {
    const rae = await newPersonContext(browser, app, person("Rae"));
    const sam = await newPersonContext(browser, app, person("Sam"));
    const errors = [watchConsole(rae.page)];
    await Promise.all([openChat(rae.page, app), openChat(sam.page, app)]);
    const title = await rae.page.title();
    const icon = () => rae.page.locator("#favicon").getAttribute("href");
    assert.match(await icon(), /\/assets\/favicon\.svg/);

    // Headless Chromium never hides a tab, even behind another: the page is told
    // it is hidden (and shown again) as a browser tells it, by `document.hidden`
    // and a `visibilitychange` event.
    const setHidden = (hidden) =>
      rae.page.evaluate((hidden) => {
        Object.defineProperty(document, "hidden", { configurable: true, get: () => hidden });
        document.dispatchEvent(new Event("visibilitychange"));
      }, hidden);

    await setHidden(true);
    await say(sam.page, "Are you there?");
    await say(sam.page, "The build is green");
    await rae.page.waitForFunction((t) => document.title === `(2) ${t}`, title, { timeout: LIVE * 3 });
    assert.match(await icon(), /\/assets\/favicon-unread\.svg/);

    // Back to the chat: both are cleared.
    await setHidden(false);
    await rae.page.waitForFunction((t) => document.title === t, title);
    assert.match(await icon(), /\/assets\/favicon\.svg/);

    // Her own messages, sent from another tab while this one is hidden, do not count.
    await setHidden(true);
    const other = await rae.context.newPage();
    await openChat(other, app);
    await say(other, "Back in a minute");
    await waitForMessage(rae.page, "Back in a minute", LIVE * 3);
    assert.equal(await rae.page.title(), title);
    assert.match(await icon(), /\/assets\/favicon\.svg/);

    assert.deepEqual(errors.flat(), [], "no console errors");
    for (const { context } of [rae, sam]) await context.close();
  });

  test("Nia searches as she types and jumps to what Oz said, in its room", async () => {
    const nia = await newPersonContext(browser, app, person("Nia"));
    const oz = await newPersonContext(browser, app, person("Oz"));
    const errors = [watchConsole(nia.page)];
    const word = `zeppelin${Date.now()}`;
    await openChat(oz.page, app);
    await say(oz.page, `The ${word} lands at dawn`);
    await waitForMessage(oz.page, `The ${word} lands at dawn`);
    for (let i = 0; i < 3; i++) {
      await say(oz.page, `later message ${i}`);
      await waitForMessage(oz.page, `later message ${i}`);
    }

    await nia.page.goto(`${app.url}/search`);
    // Typing shows results without a submit; the address follows.
    await nia.page.getByLabel("Words to find").pressSequentially(word.slice(0, 8), { delay: 20 });
    const hit = nia.page.locator("#results mark").first();
    await hit.waitFor({ timeout: 3_000 });
    assert.match(await hit.textContent(), /^zeppelin/i);
    await nia.page.waitForURL(/\/search\?q=zeppelin/);
    await nia.page.locator("#results").getByRole("link", { name: "#General" }).first().click();
    await nia.page.waitForURL(/\/chat\/general\/messages\?around=\d+#m-\d+/);
    const target = nia.page.locator("article.message:target");
    await target.waitFor();
    assert.match(await target.textContent(), new RegExp(word));
    assert.deepEqual(errors.flat(), [], "no console errors");
    for (const { context } of [nia, oz]) await context.close();
  });
});
