// Every page, checked by axe (light and dark, wide and narrow) and photographed at
// 1280 and 375 px into target/e2e/ for a human to look at. axe's findings are
// also summarised in target/e2e/axe.json.

import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";

import {
  OUT,
  axeViolations,
  dropPicture,
  launchBrowser,
  messageWith,
  newPersonContext,
  openMessageMenu,
  nextLiveSocket,
  openChat,
  person,
  say,
  screenshots,
  startHearth,
  waitForMessage,
  waitForPath,
  watchConsole,
} from "../harness.mjs";

/** The ways each page is checked: axe's colour checks depend on the scheme and width. */
const VARIANTS = [
  { label: "light 1280", size: { width: 1280, height: 800 }, colorScheme: "light" },
  { label: "light 375", size: { width: 375, height: 812 }, colorScheme: "light" },
  { label: "dark 1280", size: { width: 1280, height: 800 }, colorScheme: "dark" },
];

const summary = {};
/** Console errors per page; a 4xx page's own status line is expected, nothing else. */
const consoles = new Map();
const EXPECTED = /^console: Failed to load resource: the server responded with a status of (404|422|401)/;

function watch(page) {
  consoles.set(page, watchConsole(page));
  return page;
}

/** axe and the page width in every variant, then the screenshots; fails listing every problem. */
async function check(page, name) {
  const found = [];
  for (const v of VARIANTS) {
    await page.setViewportSize(v.size);
    await page.emulateMedia({ colorScheme: v.colorScheme });
    for (const line of await axeViolations(page)) found.push(`[${v.label}] ${line}`);
    // Nothing may make the whole page scroll sideways (wide tables scroll in their box).
    const wider = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    if (wider > 0) found.push(`[${v.label}] the page is ${wider} px wider than the window`);
  }
  await page.emulateMedia({ colorScheme: "light" });
  await screenshots(page, name);
  await page.emulateMedia({ colorScheme: "dark" });
  await page.setViewportSize({ width: 375, height: 812 });
  await page.screenshot({ path: join(OUT, `${name}-dark-375.png`), fullPage: true });
  await page.emulateMedia({ colorScheme: "light" });
  await page.setViewportSize({ width: 1280, height: 800 });
  summary[name] = { url: new URL(page.url()).pathname, violations: found };
  assert.deepEqual(found, [], `axe found problems on ${name}:\n${found.join("\n")}`);
  const errors = consoles.get(page)?.splice(0).filter((e) => !EXPECTED.test(e)) ?? [];
  assert.deepEqual(errors, [], `console errors on ${name}`);
}

describe("every page: axe and screenshots", { timeout: 180_000 }, () => {
  let app;
  let browser;
  let visitor;
  let ada;
  let bo;

  before(async () => {
    [app, browser] = await Promise.all([startHearth(), launchBrowser()]);
    visitor = watch(await (await browser.newContext()).newPage());
  });

  /** Two people and a conversation, made once the first-run pages are checked. */
  async function meetPeople() {
    ada = await newPersonContext(browser, app, person("Ada Lovelace"));
    bo = await newPersonContext(browser, app, person("Bo Ekström"));
    // A third person, so that the people page offers a group conversation.
    await (await newPersonContext(browser, app, person("Cy Ng"))).context.close();
    watch(ada.page);
    watch(bo.page);
    // A conversation worth looking at: two people, a link, a long line, and
    // messages Ada has not read yet (the "New messages" divider).
    await openChat(ada.page, app);
    await say(ada.page, "Morning! The notes from yesterday are at https://example.org/notes.");
    await waitForMessage(ada.page, "Morning! The notes from yesterday are at https://example.org/notes.");
    await ada.page.goto(`${app.url}/dashboard`);
    await openChat(bo.page, app);
    for (const text of [
      "Thanks, reading them now.",
      "One thing: could we move the meeting to Thursday? Wednesday is full of deliveries and " +
        "I would rather not rush through the agenda with half of us distracted.",
      "Also, welcome to Hearth everyone!",
    ]) {
      await say(bo.page, text);
      await waitForMessage(bo.page, text);
    }
  }

  after(async () => {
    mkdirSync(OUT, { recursive: true });
    writeFileSync(join(OUT, "axe.json"), `${JSON.stringify(summary, null, 2)}\n`);
    await browser?.close();
    await app?.dispose();
  });

  test("landing page", async () => {
    await visitor.goto(app.url);
    await check(visitor, "landing");
  });

  test("sign-up page, first account", async () => {
    await visitor.goto(`${app.url}/signup`);
    await check(visitor, "signup-first");
  });

  test("sign-up page", async () => {
    await meetPeople();
    await visitor.goto(`${app.url}/signup`);
    await check(visitor, "signup");
  });

  test("sign-up with validation errors", async () => {
    await visitor.goto(`${app.url}/signup`);
    await visitor.fill("#field-name", "Cy");
    await visitor.fill("#field-email", ada.who.email.toUpperCase());
    await visitor.fill("#field-password", "short");
    await visitor.click('form[action="/signup"] button[type="submit"]');
    await visitor.locator(".field.invalid").first().waitFor();
    await check(visitor, "signup-errors");
  });

  test("sign-in page", async () => {
    await visitor.goto(`${app.url}/login?next=%2Fchat`);
    await check(visitor, "signin");
  });

  test("sign-in with a wrong password", async () => {
    await visitor.goto(`${app.url}/login`);
    await visitor.fill("#field-email", ada.who.email);
    await visitor.fill("#field-password", "not the password at all");
    await visitor.click('form[action="/login"] button[type="submit"]');
    await waitForPath(visitor, "/login");
    await visitor.locator(".error, .alert").first().waitFor();
    await check(visitor, "signin-error");
  });

  test("dashboard", async () => {
    await ada.page.goto(`${app.url}/dashboard`);
    await check(ada.page, "dashboard");
  });

  test("dashboard with a new API token", async () => {
    await ada.page.goto(`${app.url}/dashboard`);
    await ada.page.fill("#field-name", "Weather bot");
    await ada.page.click('form[action="/dashboard/tokens"] button[type="submit"]');
    await ada.page.locator("code.token").waitFor();
    await check(ada.page, "dashboard-token");
  });

  test("notifications on this device: the service worker registers", async () => {
    await ada.context.grantPermissions(["notifications"], { origin: app.url });
    await ada.page.goto(`${app.url}/dashboard`);
    await ada.page.getByRole("button", { name: "Notify me on this device" }).click();
    // The worker registers from /sw.js with the whole site as its scope.
    const scope = await ada.page.evaluate(async () => {
      const registration = await navigator.serviceWorker.getRegistration("/");
      return registration && registration.scope;
    });
    assert.equal(scope, `${app.url}/`);
    // A subscription needs the browser's push service, which headless Chromium
    // cannot reach here (no network): then the page says so plainly. Where it can,
    // the device is listed. (Pushing itself is tested against a real receiver in
    // tests/hearth/push.rs.)
    const outcome = await Promise.race([
      ada.page.getByText(/Notifications could not be turned on/).waitFor().then(() => "refused"),
      ada.page.getByRole("button", { name: /Turn off/ }).waitFor().then(() => "listed"),
    ]);
    assert.ok(["refused", "listed"].includes(outcome));
    if (outcome === "refused") {
      // What this Chromium says of itself: a playwright context is incognito-like,
      // and Chrome has no Push API there (crbug.com/41124656). Hearth's page says
      // so in words; nothing of Hearth's failed.
      const said = consoles.get(ada.page).splice(0);
      assert.ok(said.every((e) => /Push API|push service|AbortError/i.test(e)), said.join("\n"));
    }
    await check(ada.page, "dashboard-notifications");
  });

  test("two-factor set-up", async () => {
    // Opening the set-up and leaving it changes nothing.
    await bo.page.goto(`${app.url}/dashboard/two-factor`);
    await bo.page.locator("figure.qr svg").waitFor();
    await check(bo.page, "two-factor-setup");
  });

  test("administration (Ada made the first account)", async () => {
    await ada.page.goto(`${app.url}/admin`);
    await ada.page.locator("h1#people").waitFor();
    await check(ada.page, "admin");
  });

  test("administration with a password reset link, and the page it opens", async () => {
    await ada.page.goto(`${app.url}/admin`);
    const row = ada.page.locator("tr", { hasText: "Bo Ekström" });
    await row.getByRole("button", { name: /Password reset link/ }).click();
    const link = ada.page.getByLabel(/Password reset link for Bo/);
    await link.waitFor();
    await check(ada.page, "admin-reset-link");
    // Opened, not used: Bo keeps his password.
    const visitor = await browser.newContext();
    const page = await visitor.newPage();
    await page.goto(await link.inputValue());
    await page.getByLabel("New password").waitFor();
    await check(page, "password-reset");
    await page.goto(`${app.url}/password/forgot`);
    await check(page, "password-forgot");
    await visitor.close();
  });

  test("adding a bot: a refused webhook, the token and secret once, the list", async () => {
    await ada.page.goto(`${app.url}/admin`);
    await ada.page.getByRole("link", { name: "Add a bot" }).click();
    await ada.page.getByLabel("Name").fill("Deploy");
    // Hearth sends to public https addresses only.
    await ada.page.getByLabel("Webhook URL").fill("http://127.0.0.1:9/hook");
    await ada.page.getByRole("button", { name: "Add bot" }).click();
    await ada.page.getByText("The address must start with https://.").waitFor();
    await check(ada.page, "bot-refused");
    // An address written as a number is checked without resolving: nothing is sent
    // until the bot is mentioned, and it is in no room.
    await ada.page.getByLabel("Webhook URL").fill("https://93.184.216.34/hearth");
    await ada.page.getByRole("button", { name: "Add bot" }).click();
    await ada.page.getByLabel("Signing secret").waitFor();
    await check(ada.page, "bot-added");
    await ada.page.getByRole("link", { name: "Back to administration" }).click();
    await ada.page.locator("h2#bots").waitFor();
    await ada.page.getByText("None yet.").waitFor();
    await check(ada.page, "admin-bots");
  });

  test("chat", async () => {
    await openChat(ada.page, app);
    await check(ada.page, "chat");
  });

  test("chat with a picture and a file", async () => {
    await openChat(ada.page, app);
    await ada.page.setInputFiles("#composer-file", {
      name: "minutes of the meeting.pdf",
      mimeType: "application/pdf",
      buffer: Buffer.alloc(48_000, 1),
    });
    await dropPicture(ada.page, "whiteboard.png", 900, 600);
    await say(ada.page, "Notes from Thursday");
    const picture = messageWith(ada.page, "Notes from Thursday").locator("img");
    await picture.waitFor();
    await ada.page.waitForFunction((img) => img.complete && img.naturalWidth > 0, await picture.elementHandle());
    await check(ada.page, "chat-files");
  });

  test("chat with a refused message", async () => {
    // Only spaces: sent over the socket, refused with a reason in the composer.
    await openChat(ada.page, app);
    await ada.page.fill("#composer-body", "   ");
    await ada.page.getByRole("button", { name: "Send" }).click();
    await ada.page.locator("#composer-problem").waitFor();
    await check(ada.page, "chat-refused");
  });

  test("chat after signing out in another tab", async () => {
    const tab = watch(await ada.context.newPage());
    await openChat(tab, app);
    const other = await ada.context.newPage();
    await other.goto(`${app.url}/dashboard`);
    await other.getByRole("button", { name: /Sign out/ }).click();
    await tab.locator("#connection-status").filter({ hasText: "You were signed out" }).waitFor();
    await check(tab, "chat-signed-out");
  });

  test("chat with a message's actions open", async () => {
    await openChat(bo.page, app);
    await openMessageMenu(bo.page, "Also, welcome");
    await check(bo.page, "chat-message-actions");
  });

  test("chat with a reaction and the reaction picker open", async () => {
    await openChat(bo.page, app);
    await (await openMessageMenu(bo.page, "Morning!")).getByRole("button", { name: "thumbs up" }).click();
    await bo.page.locator("#messages button.reaction").waitFor();
    await openMessageMenu(bo.page, "Morning!");
    await check(bo.page, "chat-reactions");
  });

  test("chat editing a message in place", async () => {
    await openChat(bo.page, app);
    await (await openMessageMenu(bo.page, "Also, welcome")).getByRole("link", { name: "Edit" }).click();
    await bo.page.locator("form.editing textarea").waitFor();
    await check(bo.page, "chat-editing");
  });

  test("a room's people", async () => {
    await bo.page.goto(`${app.url}/chat/general/people`);
    await check(bo.page, "room-people");
  });

  test("rooms", async () => {
    await bo.page.goto(`${app.url}/rooms`);
    await check(bo.page, "rooms");
  });

  test("a room's notifications", async () => {
    await bo.page.goto(`${app.url}/chat/general/notifications`);
    await bo.page.getByRole("radio", { name: /Only when I am mentioned/ }).waitFor();
    await check(bo.page, "room-notifications");
  });

  test("a room's settings", async () => {
    await bo.page.goto(`${app.url}/rooms`);
    await bo.page.getByLabel("Room name").fill("Trips");
    await bo.page.getByRole("button", { name: "Create room" }).click();
    await waitForPath(bo.page, "/chat/trips");
    await bo.page.getByRole("link", { name: "Settings" }).click();
    await waitForPath(bo.page, "/chat/trips/settings");
    await check(bo.page, "room-settings");
    await bo.page.getByLabel("Topic").fill("Where we go in spring, and who drives");
    await bo.page.getByRole("button", { name: "Save" }).click();
    await waitForPath(bo.page, "/chat/trips");
    await bo.page.getByText("Where we go in spring, and who drives").waitFor();
    await check(bo.page, "chat-with-topic");
  });

  test("an archived room", async () => {
    await bo.page.goto(`${app.url}/chat/trips/settings`);
    await bo.page.getByRole("button", { name: "Archive #Trips" }).click();
    await waitForPath(bo.page, "/chat/trips");
    await bo.page.getByText("This room is archived").waitFor();
    assert.equal(await bo.page.locator("#composer").isVisible(), false, "no composer");
    await check(bo.page, "chat-archived");
  });

  test("search, with results", async () => {
    await openChat(bo.page, app);
    await bo.page.getByLabel("Search messages").fill("thursday");
    await bo.page.getByLabel("Search messages").press("Enter");
    await waitForPath(bo.page, "/search");
    await bo.page.locator("mark").first().waitFor();
    await check(bo.page, "search");
  });

  test("people", async () => {
    await bo.page.goto(`${app.url}/people`);
    await check(bo.page, "people");
  });

  test("a person", async () => {
    await bo.page.goto(`${app.url}/people/${ada.id}`);
    await check(bo.page, "person");
  });

  test("a direct message room", async () => {
    await bo.page.goto(`${app.url}/people/${ada.id}`);
    const live = nextLiveSocket(bo.page);
    await bo.page.getByRole("button", { name: "Send a direct message" }).click();
    await live;
    await say(bo.page, "Ada, a quick word about Thursday when you have a minute?");
    await waitForMessage(bo.page, "Ada, a quick word about Thursday when you have a minute?");
    await check(bo.page, "chat-direct");
  });

  test("not found, signed in", async () => {
    // An unknown address, then an unknown room: both keep the signed-in header.
    assert.equal((await bo.page.goto(`${app.url}/no-such-page`)).status(), 404);
    await bo.page.getByRole("button", { name: /Sign out/ }).waitFor();
    const response = await bo.page.goto(`${app.url}/chat/no-such-room`);
    assert.equal(response.status(), 404);
    // Still signed in: the header keeps the signed-in navigation.
    await bo.page.getByRole("button", { name: /Sign out/ }).waitFor();
    await check(bo.page, "not-found-signed-in");
  });

  test("not found", async () => {
    const response = await visitor.goto(`${app.url}/no-such-page`);
    assert.equal(response.status(), 404);
    await check(visitor, "not-found");
  });
});
