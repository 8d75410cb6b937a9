// The browser suite's harness: the real Hearth binary on 127.0.0.1 with a fresh
// SQLite database, Debian's chromium driven by playwright-core, and the few steps
// every journey shares (sign up, sign in, open a chat, screenshots, axe).
//
// Settings (all optional):
//   HEARTH_BIN          the binary to run (default: <cargo target dir>/debug/hearth)
//   CHROMIUM            the browser (default: /usr/bin/chromium)
//   HEARTH_E2E_KEEP=1   keep each server's folder (database and log) for a look after

import { mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

import { chromium } from "playwright-core";
import AxeBuilder from "@axe-core/playwright";

import { startHearth as startProcess } from "./hearth.mjs";

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "..");
/** Screenshots and the axe summary land here on every run (`target/` is gitignored). */
export const OUT = join(REPO, "target", "e2e");

export { Hearth, freePort, hearthBinary } from "./hearth.mjs";

/**
 * A fresh Hearth for a journey (HEARTH_E2E_KEEP=1 keeps its folder), public as
 * `http://<host>:<port>` (`localhost` for passkeys, which refuse an IP address).
 */
export function startHearth({ host } = {}) {
  return startProcess({ keep: Boolean(process.env.HEARTH_E2E_KEEP), host });
}

export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** Debian's chromium with a fresh profile. */
export function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: CHROMIUM_ARGS,
  });
}

let people = 0;
/** Someone new, with an email no other test uses. */
export function person(name) {
  people += 1;
  const tag = `${process.pid}-${people}`;
  return {
    name,
    email: `${name.toLowerCase().replace(/\W+/g, ".")}.${tag}@example.test`,
    password: `ember lantern ${tag} kettle`,
  };
}

/** Waits for the page to be at `pathname` (and, if given, that exact search). */
export async function waitForPath(page, pathname, search) {
  await page.waitForURL((url) => url.pathname === pathname && (search === undefined || url.search === search), {
    timeout: 10_000,
  });
}

/** Fills in /signup and sends it; ends on the dashboard. */
export async function signUp(page, app, who) {
  await page.goto(`${app.url}/signup`);
  await page.fill("#field-name", who.name);
  await page.fill("#field-email", who.email);
  await page.fill("#field-password", who.password);
  await page.click('form[action="/signup"] button[type="submit"]');
  await waitForPath(page, "/dashboard");
}

/** Signs in from wherever the page is (the login form must be on screen). */
export async function fillSignIn(page, who) {
  await page.fill("#field-email", who.email);
  await page.fill("#field-password", who.password);
  await page.click('form[action="/login"] button[type="submit"]');
}

/** Presses "Sign out" in the header; ends on /login. */
export async function signOut(page) {
  await page.click('form[action="/logout"] button[type="submit"]');
  await waitForPath(page, "/login");
}

/** A context (its own cookie jar) with a signed-up person in it. */
export async function newPersonContext(browser, app, who, options = {}) {
  const context = await browser.newContext(options);
  const page = await context.newPage();
  await signUp(page, app, who);
  const me = await (await page.request.get(`${app.url}/api/me`)).json();
  return { context, page, who, id: me.id };
}

/**
 * Resolves with the next chat socket `page` opens that goes live: the server has
 * answered its resume frame (the reply ends with the cleared #connection-status).
 * Attempts that fail on the way (server down, offline) are skipped. Call before
 * the navigation or reconnection.
 */
export function nextLiveSocket(page, timeout = 30_000) {
  return new Promise((done, fail) => {
    const timer = setTimeout(() => {
      page.off("websocket", onSocket);
      fail(new Error(`no live chat socket within ${timeout} ms`));
    }, timeout);
    function onSocket(ws) {
      if (!new URL(ws.url()).pathname.endsWith("/ws")) return;
      ws.on("framereceived", function ready({ payload }) {
        if (String(payload).includes('id="connection-status"')) {
          ws.off("framereceived", ready);
          page.off("websocket", onSocket);
          clearTimeout(timer);
          done(ws);
        }
      });
    }
    page.on("websocket", onSocket);
  });
}

/** `promise`, or a rejection naming `what` if it has not settled within `ms`. */
export function within(promise, ms, what) {
  let timer;
  const late = new Promise((_, fail) => {
    timer = setTimeout(() => fail(new Error(`${what}: nothing within ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/** Opens a chat room and waits until its socket is live; returns the socket. */
export async function openChat(page, app, path = "/chat") {
  const live = nextLiveSocket(page);
  await page.goto(`${app.url}${path}`);
  return live;
}

/** Types a message in the composer and sends it with Enter, as people do. */
export async function say(page, text) {
  await page.fill("#composer-body", text);
  await page.press("#composer-body", "Enter");
}

/**
 * Drops a picture on the room, as from a file manager: a `width`×`height` PNG
 * named `name`, drawn in the page.
 */
export async function dropPicture(page, name, width, height) {
  const files = await page.evaluateHandle(
    async ([name, width, height]) => {
      const canvas = document.createElement("canvas");
      canvas.width = width;
      canvas.height = height;
      const g = canvas.getContext("2d");
      g.fillStyle = "#c8602a";
      g.fillRect(0, 0, width, height);
      g.fillStyle = "#2a6fc8";
      g.fillRect(0, height / 2, width, height / 2);
      const blob = await new Promise((done) => canvas.toBlob(done, "image/png"));
      const dropped = new DataTransfer();
      dropped.items.add(new File([blob], name, { type: "image/png" }));
      return dropped;
    },
    [name, width, height],
  );
  await page.dispatchEvent("#messages", "dragover", { dataTransfer: files });
  await page.dispatchEvent("#messages", "drop", { dataTransfer: files });
}

/** The texts of the messages on screen, in order. */
export function messageTexts(page) {
  return page.locator("#messages article.message .body").allTextContents();
}

/** Waits until a message with exactly this text is on screen. */
export async function waitForMessage(page, text, timeout = 5_000) {
  await page.waitForFunction(
    (t) => [...document.querySelectorAll("#messages article.message .body")].some((el) => el.textContent === t),
    text,
    { timeout },
  );
}

/** The message on screen whose text contains `text`. */
export function messageWith(page, text) {
  return page.locator("#messages article.message", { hasText: text });
}

/** Opens a message's menu ("⋯"): fetched the first time, then opened in place. */
export async function openMessageMenu(page, text) {
  const message = messageWith(page, text);
  if (await message.locator("a.more").count()) {
    await message.locator("a.more").click();
  } else if (!(await message.locator("details.message-actions").evaluate((d) => d.open))) {
    await message.locator("details.message-actions > summary").click();
  }
  await message.locator("details.message-actions .menu").waitFor();
  return message.locator("details.message-actions .menu");
}

/** Collects console errors and uncaught exceptions of a page. */
export function watchConsole(page) {
  const errors = [];
  page.on("console", (msg) => {
    if (msg.type() === "error") errors.push(`console: ${msg.text()}`);
  });
  page.on("pageerror", (err) => errors.push(`exception: ${err.message}`));
  return errors;
}

export const WIDTHS = [
  { width: 1280, height: 800 },
  { width: 375, height: 812 },
];

/** Screenshots of the page at every width, as target/e2e/<name>-<width>.png. */
export async function screenshots(page, name) {
  mkdirSync(OUT, { recursive: true });
  const before = page.viewportSize();
  for (const size of WIDTHS) {
    await page.setViewportSize(size);
    await page.screenshot({ path: join(OUT, `${name}-${size.width}.png`), fullPage: true });
  }
  if (before) await page.setViewportSize(before);
}

/** axe's violations on the page as it is now, one readable line each. */
export async function axeViolations(page) {
  const results = await new AxeBuilder({ page }).analyze();
  return results.violations.map(
    (v) =>
      `${v.id} (${v.impact}): ${v.help}\n` +
      v.nodes.map((n) => `    ${n.target.join(" ")}: ${n.failureSummary?.replace(/\n\s*/g, " ")}`).join("\n"),
  );
}
