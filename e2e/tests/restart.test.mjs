// The server dies mid-conversation (SIGKILL, as in a crash) and comes back on the
// same database and port. Both browsers reconnect by themselves, and every message
// (sent before, sent while one of them was still away, sent after) is on both
// screens exactly once, in the order it was sent.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import {
  launchBrowser,
  messageTexts,
  newPersonContext,
  nextLiveSocket,
  openChat,
  person,
  say,
  startHearth,
  waitForMessage,
  within,
} from "../harness.mjs";

describe("restart", { timeout: 120_000 }, () => {
  let app;
  let browser;

  before(async () => {
    [app, browser] = await Promise.all([startHearth(), launchBrowser()]);
  });

  after(async () => {
    await browser?.close();
    await app?.dispose();
  });

  test("6. a server restart while two people chat loses nothing and repeats nothing", async (t) => {
    const ada = await newPersonContext(browser, app, person("Ada Restart"));
    const bo = await newPersonContext(browser, app, person("Bo Restart"));
    await Promise.all([openChat(ada.page, app), openChat(bo.page, app)]);
    for (const { page } of [ada, bo]) {
      await page.evaluate(() => {
        window.stillHere = true;
        window.closeCodes = [];
        document.addEventListener("htmx:wsClose", (e) => window.closeCodes.push(e.detail.event.code));
      });
    }

    /** `who` says `text`; waits until everyone in `watchers` sees it. */
    const exchange = async (who, text, watchers) => {
      await say(who.page, text);
      for (const w of watchers) await waitForMessage(w.page, text);
    };
    const said = {
      adaBefore: "Ada: before the crash",
      boBefore: "Bo: before the crash",
      boQueued: "Bo: written while disconnected",
      adaAway1: "Ada: the server is back, Bo is not",
      adaAway2: "Ada: still without Bo",
      boBoth: "Bo: both back",
      adaBoth: "Ada: both back",
    };

    await exchange(ada, said.adaBefore, [ada, bo]);
    await exchange(bo, said.boBefore, [ada, bo]);

    // The crash.
    const adaBack = nextLiveSocket(ada.page, 60_000);
    const boBack = nextLiveSocket(bo.page, 60_000);
    const down = Date.now();
    await app.kill();
    for (const { page, who } of [ada, bo]) {
      await page
        .locator("#connection-status")
        .filter({ hasText: "Connection lost. Reconnecting…" })
        .waitFor({ timeout: 5_000 })
        .catch(async (err) => {
          const status = await page.locator("#connection-status").textContent();
          const codes = await page.evaluate(() => window.closeCodes);
          throw new Error(`${who.name}: status ${JSON.stringify(status)}, close codes ${codes}: ${err.message}`);
        });
    }
    // Then Bo's network goes away too (only now: an offline page may not hear its
    // socket close), so Bo stays away for a while after the server is back, and
    // what is said meanwhile must reach Bo on reconnect. The server is still down,
    // so Bo cannot have reconnected in between.
    await bo.context.setOffline(true);
    // Bo writes while disconnected: the page keeps it until the socket is back, and
    // locks the composer meanwhile so it cannot be queued twice.
    await say(bo.page, said.boQueued);
    assert.equal(await bo.page.locator("#composer-body").evaluate((box) => box.readOnly), true);
    await bo.page.press("#composer-body", "Enter");

    await app.start();
    await adaBack;
    t.diagnostic(`Ada was back ${Date.now() - down} ms after the crash`);
    await exchange(ada, said.adaAway1, [ada]);
    await exchange(ada, said.adaAway2, [ada]);
    assert.equal(await bo.page.locator("#messages article.message").count(), 2, "Bo is still away");

    await bo.context.setOffline(false);
    await boBack;
    t.diagnostic(`Bo was back ${Date.now() - down} ms after the crash`);
    // Bo catches up, and Bo's message goes out once Bo is back.
    for (const w of [ada, bo]) await waitForMessage(w.page, said.boQueued, 10_000);
    await waitForMessage(bo.page, said.adaAway2);
    // The server's answer is a fresh composer.
    await bo.page.waitForFunction(() => {
      const box = document.getElementById("composer-body");
      return box.value === "" && !box.readOnly;
    });

    await exchange(bo, said.boBoth, [ada, bo]);
    await exchange(ada, said.adaBoth, [ada, bo]);
    const order = [
      said.adaBefore,
      said.boBefore,
      said.adaAway1,
      said.adaAway2,
      said.boQueued,
      said.boBoth,
      said.adaBoth,
    ];

    // Give any duplicate a moment to show up before counting.
    await ada.page.waitForTimeout(500);
    for (const who of [ada, bo]) {
      assert.deepEqual(await messageTexts(who.page), order, `${who.who.name} sees each message once, in order`);
      assert.equal(await who.page.locator("#messages article.message").count(), order.length);
      assert.equal(await who.page.evaluate(() => window.stillHere), true, "no reload");
      assert.equal(await who.page.locator("#connection-status").textContent(), "");
    }
    // What the server stored agrees (a fresh page load renders from the database).
    await ada.page.reload();
    assert.deepEqual(await messageTexts(ada.page), order);

    await ada.context.close();
    await bo.context.close();
  });

  test("a graceful restart (SIGTERM, as on deploy) closes sockets with 1012 and both reconnect", async () => {
    const ada = await newPersonContext(browser, app, person("Ada Deploy"));
    const bo = await newPersonContext(browser, app, person("Bo Deploy"));
    const [adaSocket] = await Promise.all([openChat(ada.page, app), openChat(bo.page, app)]);
    const before = await messageTexts(ada.page);
    const closed = new Promise((done) => adaSocket.on("close", () => done(true)));
    // Installed (and awaited) before the restart, so the close cannot slip past it.
    await ada.page.evaluate(() => {
      window.closeCodes = [];
      document.addEventListener("htmx:wsClose", (e) => window.closeCodes.push(e.detail.event.code));
    });

    const back = [nextLiveSocket(ada.page), nextLiveSocket(bo.page)];
    await app.restart("SIGTERM");
    assert.equal(await within(closed, 5_000, "Ada's socket closing"), true);
    await ada.page.waitForFunction(() => window.closeCodes.length > 0, null, { timeout: 5_000 });
    assert.equal(await ada.page.evaluate(() => window.closeCodes[0]), 1012, "the server said it is restarting");
    await Promise.all(back);

    const text = "Ada: after the deploy";
    await say(ada.page, text);
    for (const who of [ada, bo]) {
      await waitForMessage(who.page, text);
      assert.deepEqual(await messageTexts(who.page), [...before, text]);
    }
    await ada.context.close();
    await bo.context.close();
  });
});
