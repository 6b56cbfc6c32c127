#!/usr/bin/env node
// Browser test of the nthpi main page, in Debian's Chromium through
// playwright-core.
//
//   node tests/browser/browser_test.mjs BASE_URL [OUT_DIR]
//
// BASE_URL is the running stack (nginx in front of nthpi-fcgi and a worker),
// e.g. http://127.0.0.1:8080. OUT_DIR (default tests/out/browser) receives
// main-page.png (a long task running; copied to docs/screenshot.png for the
// README), task-page.png and mobile.png. The expected digits come from
// tests/data/pi-10000.txt ("3" then the decimals), kept in the repository.
// $CHROMIUM overrides /usr/bin/chromium.
//
// A long computation ($NTHPI_SHOT_N decimals, default 6*10^7: it must run
// through the steps after the screenshot) gives running rows to follow:
// updated in place with the keyboard kept on them, its task page moving,
// 52 more tasks that join it filling the page of running tasks, a reload,
// a second browser; once everything is cancelled, every page must show
// what a fresh load shows (table.mjs).
//
// Prints `ok - name` / `not ok - name` per check and `# ...` diagnostics;
// exits 1 if any check failed.

import { mkdirSync, readFileSync, existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { check, diag, finish, launchChromium, watchdog } from "./tap.mjs";
import { difference, sameAsFresh, tableState } from "./table.mjs";

const BASE = (process.argv[2] || process.env.NTHPI_URL || "").replace(/\/+$/, "");
const OUT_DIR = resolve(process.argv[3] || "tests/out/browser");
const OVERALL_TIMEOUT_MS = Number(process.env.BROWSER_TEST_TIMEOUT_MS || 300000);

if (!BASE) {
	check("usage: browser_test.mjs BASE_URL [OUT_DIR]", false);
	finish();
}
watchdog(OVERALL_TIMEOUT_MS, "browser test finished in time");

/* ---- Expected digits --------------------------------------------------- */

const REF_DIR = fileURLToPath(new URL("../data/", import.meta.url));
const PI = readFileSync(join(REF_DIR, "pi-10000.txt"), "utf8").trim();
const expectedDigit = (n) => PI[n];

/* ---- Helpers ----------------------------------------------------------- */

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// One "not ok" for a step that threw, instead of a crash.
async function step(name, fn) {
	try {
		return await fn();
	} catch (e) {
		check(name, false, (e && e.stack) || String(e));
		return undefined;
	}
}

// POST a task through the JSON API from outside the page (another client).
async function apiCreate(n) {
	const res = await fetch(`${BASE}/api/tasks`, {
		method: "POST",
		headers: { "Content-Type": "application/json", Accept: "application/json" },
		body: JSON.stringify({ n }),
	});
	const body = await res.json().catch(() => null);
	return { status: res.status, body };
}

async function rowIds(page) {
	return page.$$eval("table#tasks tbody tr[data-id]",
		(rows) => rows.map((r) => Number(r.getAttribute("data-id"))));
}

async function waitRowStatus(page, id, statuses, timeout) {
	await page.waitForFunction(
		([id, statuses]) => {
			const tr = document.getElementById("task-" + id);
			return tr && statuses.includes(tr.getAttribute("data-status"));
		},
		[id, statuses],
		{ timeout, polling: 100 },
	);
}

async function rowInfo(page, id) {
	return page.evaluate((id) => {
		const tr = document.getElementById("task-" + id);
		if (!tr) return null;
		const q = (s) => tr.querySelector(s);
		const badge = q("td.status .badge");
		return {
			status: tr.getAttribute("data-status"),
			badgeClass: badge ? badge.className : null,
			badgeText: badge ? badge.textContent.trim() : null,
			digit: q("td.digit") ? q("td.digit").textContent.trim() : null,
			n: q("td.n") ? q("td.n").textContent.trim() : null,
			ran: q("td.ran") ? q("td.ran").textContent.trim() : null,
			link: q("td.id a") ? q("td.id a").getAttribute("href") : null,
			progress: !!q("td.status progress"),
			actions: Array.from(tr.querySelectorAll("td.actions form"))
				.map((f) => f.getAttribute("action").split("/").pop()),
			copies: document.querySelectorAll(`#tasks tr[data-id="${id}"]`).length,
		};
	}, id);
}

/* ---- Browser ----------------------------------------------------------- */

mkdirSync(OUT_DIR, { recursive: true });

const browser = await launchChromium();
check("chromium starts", true);
diag(`chromium ${browser.version()}`);

const consoleErrors = [];
// While true, "Failed to load resource" lines for answers the test provokes
// on purpose (400 for a bad n, 409, or the simulated outage) are expected.
let expectHttpErrors = false;

function watchConsole(page, label) {
	page.on("console", (msg) => {
		if (msg.type() !== "error") return;
		const text = msg.text();
		const url = msg.location().url || "";
		if (expectHttpErrors && /^Failed to load resource/.test(text)) return;
		consoleErrors.push(`${label}: console: ${text} (${url || "?"})`);
	});
	page.on("pageerror", (err) => consoleErrors.push(`${label}: page error: ${err.message}`));
}

/* ---- With JavaScript --------------------------------------------------- */

const ctx = await browser.newContext({ viewport: { width: 1200, height: 800 } });
const page = await ctx.newPage();
page.setDefaultTimeout(20000);
watchConsole(page, "main");

let navigations = 0;
page.on("framenavigated", (frame) => {
	if (frame === page.mainFrame()) navigations++;
});

const loaded = await step("main page loads", async () => {
	const res = await page.goto(BASE + "/", { waitUntil: "load" });
	const ok = check("main page loads", res && res.status() === 200,
		`status ${res && res.status()}`);
	const csp = res ? (await res.allHeaders())["content-security-policy"] : undefined;
	diag(`CSP: ${csp || "(none)"}`);
	return ok;
});

if (loaded) {
	await step("page has the form and the task table", async () => {
		const have = await page.evaluate(() => ({
			form: !!document.querySelector("form#new-task"),
			input: !!document.querySelector("form#new-task input#n"),
			error: !!document.querySelector("p#n-error"),
			table: !!document.querySelector("table#tasks[data-version]"),
			script: !!document.querySelector('script[src="/app.js"]'),
			css: Array.from(document.styleSheets).some((s) => /\/style\.css$/.test(s.href || "")),
		}));
		check("page has the form and the task table",
			have.form && have.input && have.error && have.table, JSON.stringify(have));
		check("page loads /app.js and /style.css", have.script && have.css, JSON.stringify(have));
	});

	// The marker lives as long as this document: a reload or a form post
	// that navigates would lose it.
	await page.evaluate(() => { window.__nthpiMarker = "still-here"; });
	const navBefore = navigations;

	/* Submit n = 50 through the form. */
	const N = 50;
	let newId = null;
	await step("submitting the form adds a row without reload", async () => {
		const before = await rowIds(page);
		// Watch the new row's status from the moment it is created.
		await page.evaluate((before) => {
			window.__seen = [];
			const known = new Set(before);
			const look = () => {
				for (const tr of document.querySelectorAll("#tasks tbody tr[data-id]")) {
					const id = Number(tr.getAttribute("data-id"));
					if (known.has(id)) continue;
					const st = tr.getAttribute("data-status");
					const last = window.__seen[window.__seen.length - 1];
					if (!last || last.id !== id || last.status !== st) window.__seen.push({ id, status: st });
				}
			};
			new MutationObserver(look).observe(document.getElementById("tasks"),
				{ subtree: true, childList: true, attributes: true });
		}, before);
		await page.fill("#n", String(N));
		await page.locator("form#new-task button, form#new-task input[type=submit]").first().click();
		await page.waitForFunction(
			([before, n]) => Array.from(document.querySelectorAll("#tasks tbody tr[data-id]"))
				.some((tr) => !before.includes(Number(tr.getAttribute("data-id"))) &&
					tr.querySelector("td.n") && tr.querySelector("td.n").textContent.trim() === String(n)),
			[before, N], { timeout: 15000, polling: 50 });
		const after = await rowIds(page);
		newId = after.find((id) => !before.includes(id));
		check("submitting the form adds a row without reload", newId !== undefined,
			`rows before ${before.length}, after ${after.length}`);
		check("the new row is at the top", after[0] === newId, `ids: ${after.slice(0, 5).join(",")}`);
		const v = await page.inputValue("#n");
		const err = await page.textContent("#n-error");
		check("the field and the error are cleared after success",
			v === "" && (err || "").trim() === "", `value ${JSON.stringify(v)}, error ${JSON.stringify(err)}`);
	});

	if (newId != null) {
		await step("the new row goes to done with the right digit", async () => {
			await waitRowStatus(page, newId, ["done", "error", "cancelled"], 60000);
			const info = await rowInfo(page, newId);
			const seen = await page.evaluate(() => window.__seen.map((s) => s.status));
			diag(`task ${newId} statuses seen: ${seen.join(" -> ")}`);
			const order = ["queued", "running", "done"];
			const monotone = seen.every((s, i) => order.includes(s) &&
				(i === 0 || order.indexOf(s) >= order.indexOf(seen[i - 1])));
			check("the new row goes queued/running -> done", info.status === "done" &&
				monotone && (seen[0] === "queued" || seen[0] === "running"),
				JSON.stringify({ info, seen }));
			check(`the row shows digit ${N} of pi (${expectedDigit(N)})`,
				info.digit === expectedDigit(N), JSON.stringify(info));
			check("the badge says done", info.badgeText === "done" &&
				/\bbadge\b/.test(info.badgeClass) && /\bbadge-done\b/.test(info.badgeClass) &&
				!info.progress, JSON.stringify(info));
			check("the row shows how long it ran", /^\d+(\.\d+)? s$|min|h /.test(info.ran || ""),
				`ran ${JSON.stringify(info.ran)}`);
			check("the row appears once and links to its page",
				info.copies === 1 && info.link === `/tasks/${newId}`, JSON.stringify(info));
			check("the done row offers delete", info.actions.includes("delete") &&
				!info.actions.includes("cancel"), JSON.stringify(info.actions));
		});
	}

	/* A task added by another client shows up through the long-poll. */
	await step("a task added elsewhere appears without reload", async () => {
		const r = await apiCreate(7);
		if (!check("POST /api/tasks from another client answers 201", r.status === 201,
			JSON.stringify(r))) return;
		const id = r.body.id;
		await waitRowStatus(page, id, ["done"], 60000);
		const info = await rowInfo(page, id);
		check("a task added elsewhere appears without reload and finishes",
			info && info.digit === expectedDigit(7) && info.copies === 1, JSON.stringify(info));
	});

	/* A bad value: the server's sentence beside the field, no new row. */
	await step("a bad value shows the error beside the field", async () => {
		const before = await rowIds(page);
		expectHttpErrors = true;
		await page.fill("#n", "abc");
		await page.locator("form#new-task button, form#new-task input[type=submit]").first().click();
		await page.waitForFunction(() => document.getElementById("n-error").textContent.trim() !== "",
			null, { timeout: 10000 });
		await sleep(1000); // give a stray row time to show up
		expectHttpErrors = false;
		const err = (await page.textContent("#n-error")).trim();
		diag(`error shown: ${err}`);
		const after = await rowIds(page);
		const v = await page.inputValue("#n");
		const box = await page.locator("#n-error").boundingBox();
		const formBox = await page.locator("form#new-task").boundingBox();
		check("a bad value shows the server's error beside the field",
			err.length > 5 && box && formBox && box.y >= formBox.y &&
			box.y + box.height <= formBox.y + formBox.height + 1,
			JSON.stringify({ err, box, formBox }));
		const color = await page.$eval("#n-error", (e) => getComputedStyle(e).color);
		const [r, g, b] = (color.match(/\d+/g) || []).map(Number);
		check("the field error is red", r > 150 && g < 100 && b < 100, color);
		check("the field keeps what was typed", v === "abc", JSON.stringify(v));
		check("a bad value adds no row", after.length === before.length, `${before.length} -> ${after.length}`);
	});

	/* A number pasted with spaces around it: the page script sends the
	 * number, as the form without script does. */
	await step("a number with spaces around it is taken", async () => {
		const before = await rowIds(page);
		await page.fill("#n", "  53 \t");
		await page.locator("form#new-task button, form#new-task input[type=submit]").first().click();
		const added = await page.waitForFunction(
			(before) => Array.from(document.querySelectorAll("#tasks tbody tr[data-id]"))
				.some((tr) => !before.includes(Number(tr.getAttribute("data-id"))) &&
					tr.querySelector("td.n").textContent.trim() === "53"),
			before, { timeout: 10000, polling: 50 }).then(() => true, () => false);
		const err = ((await page.textContent("#n-error")) || "").trim();
		check("a number with spaces around it is taken", added && err === "",
			JSON.stringify({ added, err }));
	});

	/* Row actions through the JSON API: cancel, retry, delete. */
	await step("row actions work without reload", async () => {
		// A task big enough to still be queued or running when cancelled.
		const big = Number(process.env.NTHPI_BIG_N || 5000000);
		const r = await apiCreate(big);
		if (!check(`a big task (n=${big}) is accepted`, r.status === 201, JSON.stringify(r))) return;
		const id = r.body.id;
		await waitRowStatus(page, id, ["queued", "running"], 15000);
		/* From the keyboard, as the actions are buttons: focus, Enter. */
		const clickAction = async (act) => {
			await page.locator(`#task-${id} td.actions form[action$="/${act}"] button`).focus();
			await page.keyboard.press("Enter");
		};
		/* Where the keyboard is once an action is done: a button or the
		 * link of the row (or, once it is deleted, of another row), not
		 * the page. */
		const focusIn = async (where) => page.waitForFunction((where) => {
			const a = document.activeElement;
			if (!a || !/^(BUTTON|A)$/.test(a.tagName) || a.disabled) return false;
			const tr = a.closest("tr");
			return where === "other" ? tr && tr.id !== "" : tr && tr.id === where;
		}, where, { timeout: 5000, polling: 50 }).then(() => true, () => false);
		const focused = () => page.evaluate(() => {
			const a = document.activeElement;
			return a ? `${a.tagName} ${a.textContent} in ${a.closest("tr") ? a.closest("tr").id : "-"}` : "none";
		});
		await clickAction("cancel");
		await waitRowStatus(page, id, ["cancelled", "done", "error"], 30000);
		let info = await rowInfo(page, id);
		check("cancel from the row makes the task cancelled", info.status === "cancelled" &&
			/badge-cancelled/.test(info.badgeClass) && info.actions.includes("retry"),
			JSON.stringify(info));
		check("after cancel the keyboard stays in the row, not lost",
			await focusIn(`task-${id}`), await focused());
		if (info.status === "cancelled") {
			await clickAction("retry");
			await waitRowStatus(page, id, ["queued", "running"], 15000);
			info = await rowInfo(page, id);
			check("retry from the row queues the task again", info.digit === "" &&
				info.actions.includes("cancel"), JSON.stringify(info));
			await clickAction("cancel");
			await waitRowStatus(page, id, ["cancelled", "done", "error"], 30000);
		}
		await clickAction("delete");
		await page.waitForFunction((id) => !document.getElementById("task-" + id), id,
			{ timeout: 15000 });
		check("delete from the row removes it", true);
		check("after delete the keyboard is in a neighbouring row",
			await focusIn("other"), await focused());
		// The deletion reaches other clients through the long-poll too.
		const res = await fetch(`${BASE}/api/tasks/${id}`);
		check("the deleted task is gone from the API", res.status === 404, `status ${res.status}`);
	});

	/* Offline: the long-poll fails; a notice shows and goes when it recovers. */
	await step("an outage shows the offline notice, removed on recovery", async () => {
		expectHttpErrors = true;
		await page.route(/\/api\/tasks\?since=/, (route) => route.abort("connectionfailed"));
		// Make the pending (held) long-poll return so the next one fails.
		await apiCreate(3);
		await page.waitForSelector(".offline-notice", { state: "visible", timeout: 15000 });
		const text = await page.textContent(".offline-notice");
		diag(`notice: ${text}`);
		check("an outage shows the offline notice", /offline/i.test(text) && /retrying/i.test(text), text);
		await page.unroute(/\/api\/tasks\?since=/);
		await page.waitForSelector(".offline-notice", { state: "detached", timeout: 40000 });
		expectHttpErrors = false;
		check("the notice goes away when the server answers again", true);
	});

	/* Hidden tab: the long-poll pauses, and resumes from the last version. */
	await step("the long-poll pauses while the tab is hidden", async () => {
		const reqs = [];
		const onReq = (req) => { if (/\/api\/tasks\?since=/.test(req.url())) reqs.push(req.url()); };
		/* A poll held by the server, not one about to go out (after news
		 * the page waits up to 0.3 s before it asks again). */
		const pending = new Set();
		const onStart = (req) => { if (/\/api\/tasks\?since=/.test(req.url())) pending.add(req); };
		const onEnd = (req) => pending.delete(req);
		page.on("request", onStart);
		page.on("requestfinished", onEnd);
		page.on("requestfailed", onEnd);
		for (let i = 0; i < 100 && pending.size === 0; i++) await sleep(50);
		await sleep(200);
		page.off("request", onStart);
		page.off("requestfinished", onEnd);
		page.off("requestfailed", onEnd);
		page.on("request", onReq);
		const aborted = page.waitForEvent("requestfailed",
			{ predicate: (req) => /\/api\/tasks\?since=/.test(req.url()), timeout: 5000 }).catch(() => null);
		await page.evaluate(() => {
			Object.defineProperty(document, "hidden", { configurable: true, get: () => true });
			Object.defineProperty(document, "visibilityState", { configurable: true, get: () => "hidden" });
			document.dispatchEvent(new Event("visibilitychange"));
		});
		const failedReq = await aborted;
		const versionHidden = await page.$eval("table#tasks", (t) => t.getAttribute("data-version"));
		reqs.length = 0;
		// Something changes while hidden: no request goes out for it.
		const r = await apiCreate(11);
		await sleep(2500);
		const whileHidden = reqs.length;
		check("the long-poll pauses while the tab is hidden", failedReq !== null && whileHidden === 0,
			`aborted: ${failedReq ? "yes" : "no"}, requests while hidden: ${whileHidden}`);
		await page.evaluate(() => {
			delete document.hidden;
			delete document.visibilityState;
			document.dispatchEvent(new Event("visibilitychange"));
		});
		await page.waitForFunction((id) => !!document.getElementById("task-" + id), r.body.id,
			{ timeout: 15000 });
		page.off("request", onReq);
		check("it resumes from the last version when visible",
			reqs.length > 0 && reqs[0].endsWith(`since=${versionHidden}`),
			`first request ${reqs[0]}, version ${versionHidden}`);
	});

	/* The header's counts by status follow the changes. */
	await step("the header counts follow the changes", async () => {
		const have = await page.$("#counts");
		if (!have) {
			check("the header counts follow the changes # SKIP the page shows no #counts", true);
			return;
		}
		const sameCounts = (a, b) => !!a && !!b &&
			["queued", "running", "done", "error", "cancelled"].every((st) => a[st] === b[st]);
		let api = null;
		let shown = null;
		const deadline = Date.now() + 10000;
		do {
			const res = await fetch(`${BASE}/api/tasks?limit=1`);
			api = (await res.json()).counts;
			shown = await page.evaluate(() => {
				const out = {};
				for (const st of ["queued", "running", "done", "error", "cancelled"]) {
					const el = document.getElementById("count-" + st);
					out[st] = el ? Number(el.textContent.trim()) : null;
				}
				return out;
			});
			if (sameCounts(api, shown)) break;
			await sleep(250);
		} while (Date.now() < deadline);
		check("the header counts follow the changes", sameCounts(api, shown),
			`api ${JSON.stringify(api)}, shown ${JSON.stringify(shown)}`);
	});

	check("no navigation happened on the main page",
		navigations === navBefore &&
		(await page.evaluate(() => window.__nthpiMarker)) === "still-here",
		`navigations ${navigations - navBefore}`);

	/* The task page of the task we made: the n-th digit is marked. */
	if (newId != null) {
		await step("the task page marks the n-th digit", async () => {
			await page.click(`#task-${newId} td.id a`);
			await page.waitForURL(`**/tasks/${newId}`);
			const mark = await page.textContent("mark#nth");
			check("the task page marks the n-th digit", mark && mark.trim() === expectedDigit(N),
				`mark ${JSON.stringify(mark)}, expected ${expectedDigit(N)}`);
			await page.screenshot({ path: join(OUT_DIR, "task-page.png"), fullPage: true,
				animations: "disabled" });
		});
	}

	/* The page of a running task follows it: cancelled elsewhere, the page
	 * shows it without a reload by hand. */
	await step("the task page follows its task", async () => {
		const r = await apiCreate(Number(process.env.NTHPI_BIG_N || 5000000));
		if (!check("a second big task is accepted", r.status === 201, JSON.stringify(r))) return;
		const id = r.body.id;
		await page.goto(`${BASE}/tasks/${id}`);
		await page.waitForFunction(() => {
			const s = document.getElementById("task");
			return s && /^(queued|running)$/.test(s.getAttribute("data-status"));
		}, null, { timeout: 10000 });
		await sleep(500); // the script's long-poll is under way
		const res = await fetch(`${BASE}/api/tasks/${id}/cancel`, {
			method: "POST", headers: { "Content-Type": "application/json" }, body: "{}" });
		check("POST /api/tasks/ID/cancel from another client answers 200", res.status === 200,
			`status ${res.status}`);
		await page.waitForFunction(() => {
			const s = document.getElementById("task");
			return s && s.getAttribute("data-status") === "cancelled";
		}, null, { timeout: 20000 });
		check("the task page follows its task to cancelled", true);
		/* It goes on following it: deleted elsewhere, the page loads
		 * itself again, and the server says the task is gone (404). */
		await sleep(500);
		expectHttpErrors = true;
		await fetch(`${BASE}/api/tasks/${id}`, { method: "DELETE" });
		const gone = await page.waitForFunction(() => {
			const m = document.getElementById("error-message");
			return !document.getElementById("task") && m && /no task/.test(m.textContent);
		}, null, { timeout: 20000 }).then(() => true, () => false);
		check("and to its deletion elsewhere: the page says it is gone", gone);
		expectHttpErrors = false;
	});

	/* A long task in the table: its progress bar moves with no reload. The
	 * screenshot of that moment is the README's (docs/screenshot.png). It
	 * runs on through the steps after, which need a task that runs. */
	let longId = null;
	await step("a running task's progress bar moves", async () => {
		await page.goto(BASE + "/"); // a fresh page, without the earlier steps' errors
		const big = Number(process.env.NTHPI_SHOT_N || 60000000);
		const r = await apiCreate(big);
		if (!check(`a long task (n=${big}) is accepted`, r.status === 201, JSON.stringify(r))) return;
		const id = r.body.id;
		longId = id;
		const barAbove = ([id, v]) => {
			const p = document.querySelector(`#task-${id} td.status progress`);
			return p !== null && p.value > v;
		};
		const bar = () => page.evaluate((id) => {
			const p = document.querySelector(`#task-${id} td.status progress`);
			const pct = document.querySelector(`#task-${id} td.status .pct`);
			return p ? { value: p.value, pct: pct ? pct.textContent : null } : null;
		}, id);
		await page.waitForFunction(barAbove, [id, 0.02], { timeout: 60000, polling: 100 });
		const first = await bar();
		await page.waitForFunction(barAbove, [id, first.value + 0.02],
			{ timeout: 30000, polling: 100 });
		const second = await bar();
		const info = await rowInfo(page, id);
		check("a running task's progress bar moves without a reload",
			info.status === "running" && second.value > first.value,
			JSON.stringify({ first, second, info }));
		check("the percentage beside the bar follows it",
			[first, second].every((b) => b.pct === `${Math.floor(b.value * 100)}%`),
			JSON.stringify({ first, second }));
		await page.screenshot({ path: join(OUT_DIR, "main-page.png"), fullPage: true,
			animations: "disabled" });
		check("main page screenshot", existsSync(join(OUT_DIR, "main-page.png")));
	});

	/* The server renders every row; the page swaps each new one in. */
	if (longId !== null) {
		await step("a running row is updated in place, the keyboard staying on it", async () => {
			const id = longId;
			await page.evaluate(() => { window.__sameDocument = "yes"; });
			const look = () => page.evaluate((id) => {
				const tr = document.getElementById("task-" + id);
				const a = document.activeElement;
				const f = a && a.closest("form");
				return {
					version: Number(tr.getAttribute("data-version")),
					ran: tr.querySelector("td.ran").textContent.trim(),
					focus: `${a ? a.tagName : "-"} ${f ? f.getAttribute("action") : "-"} in ${a && a.closest("tr") ? a.closest("tr").id : "-"}`,
				};
			}, id);
			await page.locator(`#task-${id} form[action$="/cancel"] button`).focus();
			const before = await look();
			await page.waitForFunction(([id, v]) =>
				Number(document.getElementById("task-" + id).getAttribute("data-version")) > v + 1,
			[id, before.version], { timeout: 15000, polling: 50 });
			const after = await look();
			check("a running row is updated in place without a reload (its version moved twice)",
				after.version > before.version + 1 &&
				(await page.evaluate(() => window.__sameDocument)) === "yes",
				JSON.stringify({ before, after }));
			check("\"ran for\" moves with it, as the server renders it",
				/\d/.test(after.ran) && after.ran !== before.ran, JSON.stringify({ before, after }));
			check("the keyboard stays on the row's Cancel button through the updates",
				after.focus === `BUTTON /tasks/${id}/cancel in task-${id}`, after.focus);
			await page.evaluate(() => document.activeElement.blur());
		});
	}

	/* A second browser, the task's own page, and the page of running
	 * tasks, while it runs. */
	const ctxB = await browser.newContext({ viewport: { width: 1200, height: 800 } });
	const pageB = await ctxB.newPage();
	pageB.setDefaultTimeout(20000);
	watchConsole(pageB, "second browser");
	const others = [];
	if (longId !== null) {
		await pageB.goto(BASE + "/");

		await step("a running task's page follows its progress without a reload", async () => {
			const tp = await ctx.newPage();
			tp.setDefaultTimeout(20000);
			watchConsole(tp, "task page");
			others.push(tp);
			await tp.goto(`${BASE}/tasks/${longId}`);
			await tp.evaluate(() => { window.__sameDocument = "yes"; });
			const look = () => tp.evaluate(() => ({
				progress: Number(document.querySelector("#task dd.status progress").value),
				ran: document.querySelector("#task dd.ran").textContent.trim(),
				version: Number(document.getElementById("task").getAttribute("data-version")),
			}));
			const first = await look();
			await tp.waitForFunction((v) =>
				Number(document.getElementById("task").getAttribute("data-version")) > v + 1,
			first.version, { timeout: 15000, polling: 50 });
			const second = await look();
			check("a running task's page moves its bar and \"ran for\" without a reload",
				second.progress > first.progress && second.ran !== first.ran &&
				(await tp.evaluate(() => window.__sameDocument)) === "yes",
				JSON.stringify({ first, second }));
		});

		await step("the page of running tasks: in and out as they start and stop", async () => {
			/* Tasks below the computation's target join it: running. */
			const joined = [];
			for (let i = 0; i < 52; i++) {
				const r = await apiCreate(20000000 + i);
				if (r.status === 201) joined.push(r.body.id);
			}
			const running = async () => (await (await fetch(`${BASE}/api/tasks?status=running&limit=1000`)).json()).tasks.length;
			const deadline = Date.now() + 20000;
			while (await running() < 53 && Date.now() < deadline) await sleep(100);
			if (!check("52 tasks join the running computation", joined.length === 52 &&
				await running() >= 53, `running ${await running()}`)) return;
			const rp = await ctx.newPage();
			rp.setDefaultTimeout(20000);
			watchConsole(rp, "running page");
			others.push(rp);
			await rp.goto(BASE + "/?status=running");
			let ids = await rowIds(rp);
			check("the running page shows 50 of them and links to older ones",
				ids.length === 50 && await rp.$("nav.pages a[rel=next]") !== null, ids.length);
			const full = () => rp.waitForFunction(() =>
				document.querySelectorAll("#tasks tbody tr[data-id]").length === 50,
			null, { timeout: 10000, polling: 50 }).catch(() => {});
			const gone = (p, id) => p.waitForFunction((id) => !document.getElementById("task-" + id),
				id, { timeout: 10000, polling: 50 }).then(() => true, () => false);

			const victim = ids[10];
			await fetch(`${BASE}/api/tasks/${victim}/cancel`, {
				method: "POST", headers: { "Content-Type": "application/json" }, body: "{}" });
			check("a running task cancelled elsewhere leaves the running page", await gone(rp, victim));
			await full();
			check("and the page is refilled from older running tasks, as a reload shows",
				await sameAsFresh(ctx, rp, "/?status=running", 10000, false));

			const r = await apiCreate(20000100);
			const added = await rp.waitForFunction((id) => {
				const first = document.querySelector("#tasks tbody tr[data-id]");
				return first && first.id === "task-" + id;
			}, r.body.id, { timeout: 10000, polling: 50 }).then(() => true, () => false);
			check("a task added elsewhere appears on the running page once it runs", added);
			const queuedOne = await apiCreate(90000000); /* above the target: waits */
			await sleep(1000);
			check("a task that only waits in the queue does not",
				!(await rowIds(rp)).includes(queuedOne.body.id) &&
				await sameAsFresh(ctx, rp, "/?status=running", 10000, false));
			await fetch(`${BASE}/api/tasks/${queuedOne.body.id}`, { method: "DELETE" });

			ids = await rowIds(rp);
			const own = ids[1];
			await rp.locator(`#task-${own} form[action$="/cancel"] button`).focus();
			await rp.keyboard.press("Enter");
			check("a task cancelled from its row leaves the running page", await gone(rp, own));
			const where = await rp.evaluate(() => {
				const a = document.activeElement;
				return a && a.closest("tr") ? a.closest("tr").id : a ? a.tagName : "none";
			});
			check("the keyboard goes to a neighbouring row", /^task-\d+$/.test(where), where);
			await full();
			check("and the running page is what a reload shows",
				await sameAsFresh(ctx, rp, "/?status=running", 10000, false));

			/* On the page of cancelled tasks, a retry takes it away. */
			const cp = await ctx.newPage();
			cp.setDefaultTimeout(20000);
			watchConsole(cp, "cancelled page");
			others.push(cp);
			await cp.goto(BASE + "/?status=cancelled");
			const was = (await rowIds(cp)).includes(victim);
			await fetch(`${BASE}/api/tasks/${victim}/retry`, {
				method: "POST", headers: { "Content-Type": "application/json" }, body: "{}" });
			check("a task retried elsewhere leaves the page of cancelled tasks",
				was && await gone(cp, victim));
			check("and that page is what a reload shows",
				await sameAsFresh(ctx, cp, "/?status=cancelled"));
		});

		await step("a reload while tasks run", async () => {
			await page.reload();
			/* The newest page is now full of the tasks that joined. */
			const [id, v] = await page.$eval("#tasks tbody tr[data-status=running]",
				(tr) => [Number(tr.getAttribute("data-id")), Number(tr.getAttribute("data-version"))]);
			const moved = await page.waitForFunction(([id, v]) => {
				const tr = document.getElementById("task-" + id);
				return tr && Number(tr.getAttribute("data-version")) > v;
			}, [id, v], { timeout: 15000, polling: 50 }).then(() => true, () => false);
			check("after a reload while tasks run, a running row goes on moving", moved);
		});
	}

	/* Everything stops; every page, live all along or reloaded, ends as
	 * a fresh load shows it. */
	await step("two browsers, a reload and a fresh load end the same", async () => {
		if (longId === null) return;
		const all = (await (await fetch(`${BASE}/api/tasks?status=running&limit=1000`)).json()).tasks
			.concat((await (await fetch(`${BASE}/api/tasks?status=queued&limit=1000`)).json()).tasks);
		for (const t of all) {
			await fetch(`${BASE}/api/tasks/${t.id}/cancel`, {
				method: "POST", headers: { "Content-Type": "application/json" }, body: "{}" });
		}
		const deadline = Date.now() + 30000;
		let left = 1;
		while (left > 0 && Date.now() < deadline) {
			left = (await (await fetch(`${BASE}/api/tasks?status=running&limit=1000`)).json()).tasks.length;
			if (left > 0) await sleep(200);
		}
		const long = await (await fetch(`${BASE}/api/tasks/${longId}`)).json();
		check("the long task and those that joined it are cancelled",
			left === 0 && long.status === "cancelled", `running ${left}, ${JSON.stringify(long)}`);
		check("the page reloaded while it ran ends as a fresh load shows",
			await sameAsFresh(ctx, page, "/"));
		check("the second browser's page ends as a fresh load shows",
			await sameAsFresh(ctxB, pageB, "/"));
		const [a, b] = [await tableState(page), await tableState(pageB)];
		check("the two browsers show the same table", difference(a, b) === "", difference(a, b));
		const tp = others[0];
		if (tp) {
			const st = await tp.waitForFunction(() => {
				const s = document.getElementById("task");
				return s && s.getAttribute("data-status") === "cancelled";
			}, null, { timeout: 10000 }).then(() => true, () => false);
			check("the task's page loaded itself again once it was cancelled", st);
		}
		for (const p of others) await p.close();
	});
	await ctxB.close();

	/* A phone-sized view, for looking at. */
	await step("mobile screenshot", async () => {
		const m = await browser.newContext({ viewport: { width: 390, height: 844 },
			deviceScaleFactor: 1, isMobile: true, hasTouch: true });
		const mp = await m.newPage();
		watchConsole(mp, "mobile");
		await mp.goto(BASE + "/");
		await mp.screenshot({ path: join(OUT_DIR, "mobile.png"), fullPage: true });
		const wide = await mp.evaluate(() => document.documentElement.scrollWidth);
		check("the main page fits a phone screen", wide <= 392, `scrollWidth ${wide}`);
		const pill = await mp.$eval("li.count-all a", (a) => a.getBoundingClientRect().height);
		check("on a phone the status pills are links of a finger's height (32 px or more)",
			pill >= 32, `height ${pill}`);
		if (newId != null) {
			await mp.goto(`${BASE}/tasks/${newId}`);
			const fit = await mp.evaluate(() => {
				const pre = document.querySelector("pre.digits");
				const mark = document.getElementById("nth");
				return pre && mark ? { scroll: pre.scrollWidth, client: pre.clientWidth,
					right: mark.getBoundingClientRect().right } : null;
			});
			check("on a phone the digits wrap, with the marked one in view (no sideways scroll)",
				fit && fit.scroll <= fit.client && fit.right <= 390, JSON.stringify(fit));
		}
		await m.close();
	});

	check("no console errors or page errors", consoleErrors.length === 0, consoleErrors.join("\n"));
}

/* ---- Without JavaScript: the server-rendered forms still work ---------- */

await step("without JavaScript the form posts and the page shows the new row", async () => {
	const nctx = await browser.newContext({ javaScriptEnabled: false });
	const np = await nctx.newPage();
	np.setDefaultTimeout(20000);
	await np.goto(BASE + "/");
	const before = await rowIds(np);
	const N2 = 51;
	await np.fill("#n", String(N2));
	const [nav] = await Promise.all([
		np.waitForNavigation({ waitUntil: "load" }),
		np.locator("form#new-task button, form#new-task input[type=submit]").first().click(),
	]);
	const after = await rowIds(np);
	const added = after.filter((id) => !before.includes(id));
	const n2row = await Promise.all(added.map((id) =>
		np.$eval(`#task-${id} td.n`, (td) => td.textContent.trim())));
	check("without JavaScript the form posts and the page shows the new row",
		nav && nav.status() === 200 && new URL(np.url()).pathname === "/" && n2row.includes(String(N2)),
		JSON.stringify({ status: nav && nav.status(), url: np.url(), added, n2row }));

	await np.fill("#n", "abc");
	const [bad] = await Promise.all([
		np.waitForNavigation({ waitUntil: "load" }),
		np.locator("form#new-task button, form#new-task input[type=submit]").first().click(),
	]);
	const err = (await np.textContent("#n-error")) || "";
	const kept = await np.inputValue("#n");
	check("without JavaScript a bad value gets 400 with the error beside the field",
		bad && bad.status() === 400 && err.trim().length > 5 && kept === "abc",
		JSON.stringify({ status: bad && bad.status(), err, kept }));
	await nctx.close();
});

/* A link from another site brings the SameSite=Lax cookie but not the
 * Strict one: the page it opens must keep the token that the forms of tabs
 * already open hold (docs/design.md, Security). */
await step("a visit from another site's link keeps the forms' token", async () => {
	const xctx = await browser.newContext({ javaScriptEnabled: false });
	const tab = await xctx.newPage();
	tab.setDefaultTimeout(20000);
	await tab.goto(BASE + "/");
	const token = await tab.getAttribute("form#new-task input[name=csrf]", "value");
	const other = await xctx.newPage();
	other.setDefaultTimeout(20000);
	await other.route("http://elsewhere.test/**", (route) => route.fulfill({
		contentType: "text/html",
		body: `<!doctype html><a id="go" href="${BASE}/">nthpi</a>`,
	}));
	let sent = null;
	other.on("request", (req) => {
		if (req.url() === BASE + "/") sent = req.allHeaders();
	});
	await other.goto("http://elsewhere.test/");
	await Promise.all([other.waitForNavigation({ waitUntil: "load" }), other.click("#go")]);
	const token2 = await other.getAttribute("form#new-task input[name=csrf]", "value");
	const headers = sent ? await sent : {};
	const cookie = headers.cookie || "";
	diag(`the cross-site visit sent Cookie: ${cookie.replace(/=[0-9a-f]{32}/g, "=…")}`);
	// Only the Lax cookie came: the browser took the visit as cross-site.
	check("a visit from another site's link keeps the forms' token",
		/nthpi_csrf_lax=/.test(cookie) && !/nthpi_csrf=/.test(cookie) &&
		token && token2 === token,
		JSON.stringify({ cookie, token, token2 }));
	await tab.fill("#n", "52");
	const [nav] = await Promise.all([
		tab.waitForNavigation({ waitUntil: "load" }),
		tab.locator("form#new-task button, form#new-task input[type=submit]").first().click(),
	]);
	check("after it, the form of the tab opened before still posts",
		nav && nav.status() === 200 && new URL(tab.url()).pathname === "/",
		JSON.stringify({ status: nav && nav.status(), url: tab.url() }));
	await xctx.close();
});

/* A submission whose answer is lost on the way back (the task was made):
 * sent again, it carries the same Idempotency-Key, and the server makes no
 * second task. */
await step("a submission sent again after a lost answer makes one task", async () => {
	const ictx = await browser.newContext();
	const ip = await ictx.newPage();
	ip.setDefaultTimeout(20000);
	const keys = [];
	let firstStatus = null;
	await ip.route(BASE + "/api/tasks", async (route) => {
		const req = route.request();
		if (req.method() !== "POST") return route.continue();
		keys.push((await req.allHeaders())["idempotency-key"]);
		if (keys.length > 1) return route.continue();
		const res = await route.fetch();
		firstStatus = res.status();
		await route.abort("connectionreset");
	});
	await ip.goto(BASE + "/");
	const N = 61;
	const submit = () => ip.locator("form#new-task button").first().click();
	const rowsOfN = () => ip.$$eval("#tasks tbody tr[data-id] td.n",
		(tds, n) => tds.filter((td) => td.textContent.trim() === String(n)).length, N);
	await ip.fill("#n", String(N));
	await submit();
	await ip.waitForFunction(() => {
		const m = document.getElementById("new-task-message");
		return m && !m.hidden && m.textContent.trim() !== "";
	}, null, { timeout: 10000 });
	await submit();
	await ip.waitForFunction((n) => Array.from(document.querySelectorAll("#tasks tbody td.n"))
		.some((td) => td.textContent.trim() === String(n)), N, { timeout: 10000 });
	const list = await (await fetch(`${BASE}/api/tasks?limit=1000`)).json();
	const made = list.tasks.filter((t) => t.n === N).length;
	check("a submission sent again after a lost answer carries the same key",
		keys.length === 2 && /^[0-9a-f]{32}$/.test(keys[0] || "") && keys[1] === keys[0],
		JSON.stringify(keys));
	check("... the server made the task the first time, and only once",
		firstStatus === 201 && made === 1 && (await rowsOfN()) === 1,
		JSON.stringify({ firstStatus, made, rows: await rowsOfN() }));
	await ip.fill("#n", String(N));
	await submit();
	await ip.waitForFunction((n) => Array.from(document.querySelectorAll("#tasks tbody td.n"))
		.filter((td) => td.textContent.trim() === String(n)).length === 2, N, { timeout: 10000 });
	check("a new submission of the same n has a new key",
		keys.length === 3 && keys[2] !== keys[0], JSON.stringify(keys));

	/* The worker stopped: the banner shows without a reload, and goes. */
	const pid = Number(process.env.NTHPI_WORKER_PID || 0);
	if (!pid) {
		check("the worker banner follows the live updates # SKIP no NTHPI_WORKER_PID", true);
	} else {
		const shown = () => ip.$eval("#worker-banner", (e) => !e.hidden &&
			getComputedStyle(e).display !== "none");
		check("the worker banner is hidden while the worker reports in",
			!(await shown()));
		process.kill(pid, "SIGSTOP");
		let appeared;
		try {
			appeared = await ip.waitForFunction(() => {
				const e = document.getElementById("worker-banner");
				return e && !e.hidden;
			}, null, { timeout: 16000, polling: 100 }).then(() => true, () => false);
			// Before SIGCONT: the worker's next report hides it at once.
			appeared = appeared && (await shown());
		} finally {
			process.kill(pid, "SIGCONT");
		}
		check("a stopped worker's banner shows without a reload", appeared);
		const gone = await ip.waitForFunction(() => document.getElementById("worker-banner").hidden,
			null, { timeout: 8000, polling: 100 }).then(() => true, () => false);
		check("... and goes when it is back", gone);
	}
	await ictx.close();
});

await browser.close();
finish();
