#!/usr/bin/env node
// Live updates on pages of the task list: the page script (htdocs/app.js)
// must keep each page what a reload of its address would show (rows of its
// status only, where they belong, 50 a page, the same paging links and
// sentences), show "stopping…" in every tab once a running task is asked
// to stop, and keep a task's page following its task whatever happens to
// it elsewhere.
//
//   node tests/browser/live_pages.mjs BASE_URL
//
// BASE_URL is a stack without a worker whose tasks 1..120 are queued (odd
// ids) and cancelled (even ids), and 121..123 running (they stay so: no
// worker moves them), made by tests/integration/test_dashboard.py.
// Changes are made through the JSON API from here; after each, the test
// waits until the page has applied the long-poll answer that carries it
// (table#tasks data-version) and then looks at the rows, or compares the
// whole table with a fresh load of the same address (table.mjs).
//
// Prints `ok - name` / `not ok - name` per check and `# ...` diagnostics;
// exits 1 if any check failed. $CHROMIUM overrides /usr/bin/chromium.

import { check, diag, finish, launchChromium, watchdog } from "./tap.mjs";
import { sameAsFresh } from "./table.mjs";

const BASE = (process.argv[2] || "").replace(/\/+$/, "");
if (!BASE) {
	check("usage: live_pages.mjs BASE_URL", false);
	finish();
}
watchdog(170000, "the live pages test finished in time");

/* ---- The API, from outside the page ---------------------------------- */

async function api(method, path, body) {
	const opts = { method, headers: {} };
	if (body !== undefined) {
		opts.headers["Content-Type"] = "application/json";
		opts.body = JSON.stringify(body);
	}
	const res = await fetch(BASE + path, opts);
	const text = await res.text();
	let json = null;
	try {
		json = JSON.parse(text);
	} catch (e) {
		/* not JSON */
	}
	return { status: res.status, json };
}

async function version() {
	const r = await api("GET", "/api/tasks?limit=1");
	return r.json.version;
}

/* ---- The page -------------------------------------------------------- */

async function rowIds(page) {
	return page.$$eval("table#tasks tbody tr[data-id]",
		(rows) => rows.map((r) => Number(r.getAttribute("data-id"))));
}

/* The href of the page's "Older tasks" link, or null. */
async function olderHref(page) {
	return page.evaluate(() => {
		const a = document.querySelector("nav.pages a[rel=next]");
		return a ? a.getAttribute("href") : null;
	});
}

async function rowStatus(page, id) {
	return page.$eval("table#tasks", (t, id) => {
		const tr = document.getElementById("task-" + id);
		return tr ? tr.getAttribute("data-status") : null;
	}, id);
}

/* Waits until the page has applied every change up to version v. */
async function caughtUp(page, v) {
	await page.waitForFunction(
		(v) => Number(document.getElementById("tasks").getAttribute("data-version")) >= v,
		v, { timeout: 15000, polling: 50 });
}

/* Makes a change through the API and waits for the page to apply it. */
async function change(page, method, path, body) {
	const r = await api(method, path, body);
	await caughtUp(page, await version());
	return r;
}

/* Waits (up to 10 s) until the page shows 50 rows again. */
async function fullPage(page) {
	await page.waitForFunction(
		() => document.querySelectorAll("table#tasks tbody tr[data-id]").length === 50,
		null, { timeout: 10000, polling: 50 }).catch(() => {});
}

async function open(ctx, path) {
	const page = await ctx.newPage();
	page.setDefaultTimeout(20000);
	page.on("pageerror", (err) => check(`${path}: no page error`, false, err.message));
	await page.goto(BASE + path);
	/* The script has started once the first long-poll is out. */
	await page.waitForTimeout(300);
	return page;
}

const browser = await launchChromium();
const ctx = await browser.newContext({ viewport: { width: 1200, height: 800 } });

try {
	/* A filtered newest page: the 50 newest cancelled tasks (120..22). */
	let page = await open(ctx, "/?status=cancelled");
	let before = await rowIds(page);
	check("the cancelled page shows 50 cancelled tasks", before.length === 50 &&
		before[0] === 120 && before[49] === 22, before.slice(0, 3).join(" "));
	let made = await change(page, "POST", "/api/tasks", { n: 7 });
	const t1 = made.json.id;
	let ids = await rowIds(page);
	check("a new queued task is not added to the page of cancelled tasks",
		!ids.includes(t1) && ids.length === 50, ids.slice(0, 3).join(" "));
	await change(page, "POST", `/api/tasks/${t1}/cancel`, {});
	ids = await rowIds(page);
	check("once cancelled, the new task is added at the top of the cancelled page",
		ids[0] === t1 && (await rowStatus(page, t1)) === "cancelled", ids.slice(0, 3).join(" "));
	let older = await olderHref(page);
	check("the cancelled page keeps 50 rows, and its older link starts after the new last one",
		ids.length === 50 && ids[49] === before[48] &&
		older === `/?status=cancelled&before=${ids[49]}`,
		JSON.stringify({ rows: ids.length, last: ids[49], older }));
	await change(page, "POST", "/api/tasks/3/cancel", {});
	ids = await rowIds(page);
	check("an old task cancelled below the full page is not added to it",
		!ids.includes(3), ids.slice(-3).join(" "));
	await page.close();

	/* An older, unfiltered page: tasks 70..21. */
	page = await open(ctx, "/?before=71");
	before = await rowIds(page);
	check("the older page shows tasks 70 to 21", before.length === 50 &&
		before[0] === 70 && before[49] === 21, before.slice(0, 3).join(" "));
	made = await change(page, "POST", "/api/tasks", { n: 8 });
	const t2 = made.json.id;
	ids = await rowIds(page);
	check("a new task is not added to an older page", !ids.includes(t2) &&
		ids.length === 50, ids.slice(0, 3).join(" "));
	await change(page, "POST", "/api/tasks/45/cancel", {});
	check("a task on the older page is updated in place",
		(await rowStatus(page, 45)) === "cancelled");
	await change(page, "POST", "/api/tasks/5/cancel", {});
	ids = await rowIds(page);
	check("a task older than the older page is not added to it",
		!ids.includes(5) && ids.length === 50, ids.slice(-3).join(" "));
	await page.close();

	/* The newest page, unfiltered and full. */
	page = await open(ctx, "/");
	before = await rowIds(page);
	check("the newest page shows 50 tasks", before.length === 50, before.length);
	made = await change(page, "POST", "/api/tasks", { n: 9 });
	const t3 = made.json.id;
	ids = await rowIds(page);
	check("a new task is added at the top of the newest page", ids[0] === t3, ids.slice(0, 3).join(" "));
	older = await olderHref(page);
	check("the newest page keeps 50 rows, and its older link starts after the new last one",
		ids.length === 50 && ids[49] === before[48] && older === `/?before=${ids[49]}`,
		JSON.stringify({ rows: ids.length, last: ids[49], older }));
	await change(page, "POST", "/api/tasks/7/cancel", {});
	ids = await rowIds(page);
	check("an old task changed below the full newest page is not added",
		!ids.includes(7), ids.slice(-3).join(" "));
	await change(page, "DELETE", `/api/tasks/${t3}`);
	ids = await rowIds(page);
	check("a deleted task leaves the newest page", !ids.includes(t3), ids.slice(0, 3).join(" "));
	await fullPage(page);
	check("the next older task moves up into its place, and the older link after it, as a reload shows",
		await sameAsFresh(ctx, page, "/"));

	/* One long-poll answer that deletes a row and changes a task further
	 * down (after a hidden tab or an outage): the gap is filled from the
	 * next page, not with the changed task. The page's long polls are
	 * held back meanwhile. */
	let release;
	const released = new Promise((r) => { release = r; });
	await page.route(/\/api\/tasks\?since=/, async (route) => {
		await released;
		await route.continue();
	});
	ids = await rowIds(page);
	const onPage = ids[10];
	const below = (await api("GET", `/api/tasks?status=cancelled&limit=1&before=${ids[49] - 20}`)).json.tasks[0].id;
	/* Answers the long poll already out, so that the next one is held. */
	await change(page, "POST", `/api/tasks/${ids[0]}/cancel`, {});
	await api("DELETE", `/api/tasks/${onPage}`);
	await api("POST", `/api/tasks/${below}/retry`, {});
	const v = await version();
	release();
	await caughtUp(page, v);
	await fullPage(page);
	ids = await rowIds(page);
	check("a deletion and a change below the page in one answer: the gap is filled from the next page, as a reload shows",
		!ids.includes(onPage) && !ids.includes(below) && await sameAsFresh(ctx, page, "/"),
		JSON.stringify({ onPage, below, last: ids.slice(-3) }));
	await page.unroute(/\/api\/tasks\?since=/);
	await page.close();

	/* The queued page with exactly 50 tasks: no older link at first. */
	const queued = (await api("GET", "/api/tasks?status=queued&limit=1000")).json.tasks.map((t) => t.id);
	for (const id of queued.slice(50)) {
		await api("DELETE", `/api/tasks/${id}`);
	}
	page = await open(ctx, "/?status=queued");
	ids = await rowIds(page);
	older = await olderHref(page);
	check("the queued page shows its 50 tasks and no older link",
		ids.length === 50 && ids[49] === queued[49] && older === null,
		JSON.stringify({ had: queued.length, rows: ids.length, older }));
	made = await change(page, "POST", "/api/tasks", { n: 10 });
	const t4 = made.json.id;
	ids = await rowIds(page);
	older = await olderHref(page);
	check("a new task pushes the last row off and the page makes an older link for it",
		ids[0] === t4 && ids.length === 50 && ids[49] === queued[48] &&
		older === `/?status=queued&before=${queued[48]}`,
		JSON.stringify({ first: ids[0], rows: ids.length, last: ids[49], older }));
	await change(page, "DELETE", `/api/tasks/${t4}`);
	await fullPage(page);
	ids = await rowIds(page);
	older = await olderHref(page);
	check("once it is deleted the pushed-off row comes back and the older link goes",
		ids.length === 50 && ids[49] === queued[49] && older === null,
		JSON.stringify({ rows: ids.length, last: ids[49], older }));
	check("and the queued page is what a reload shows", await sameAsFresh(ctx, page, "/?status=queued"));
	await page.close();

	/* ---- Filtered pages stay what a reload shows ---------------------- */

	/* The newest cancelled tasks, more than a page of them. */
	page = await open(ctx, "/?status=cancelled");
	ids = await rowIds(page);
	const cancelledAll = (await api("GET", "/api/tasks?status=cancelled&limit=1000")).json.tasks.length;
	check("the cancelled page starts full, with an older link",
		ids.length === 50 && cancelledAll > 51 && (await olderHref(page)) !== null,
		JSON.stringify({ rows: ids.length, cancelledAll }));
	const retried = ids[3];
	await change(page, "POST", `/api/tasks/${retried}/retry`, {});
	ids = await rowIds(page);
	check("a task retried elsewhere leaves the cancelled page",
		!ids.includes(retried), ids.slice(0, 6).join(" "));
	check("and the page is refilled from older ones, as a reload shows",
		await sameAsFresh(ctx, page, "/?status=cancelled"));
	/* The same from the page's own Retry button, from the keyboard. */
	ids = await rowIds(page);
	const own = ids[6];
	await page.locator(`#task-${own} form[action$="/retry"] button`).focus();
	await page.keyboard.press("Enter");
	await page.waitForFunction((id) => !document.getElementById("task-" + id), own,
		{ timeout: 10000 }).catch(() => {});
	check("a task retried from its row leaves the cancelled page", (await rowStatus(page, own)) === null);
	const focusAfter = await page.evaluate(() => {
		const a = document.activeElement;
		const tr = a && a.closest("tr");
		return tr ? tr.id : a ? a.tagName : "none";
	});
	check("the keyboard goes to a neighbouring row", /^task-\d+$/.test(focusAfter), focusAfter);
	check("and the page is what a reload shows", await sameAsFresh(ctx, page, "/?status=cancelled"));
	made = await change(page, "POST", "/api/tasks", { n: 12 });
	check("a task added elsewhere (queued) does not appear on the cancelled page",
		!(await rowIds(page)).includes(made.json.id) &&
		await sameAsFresh(ctx, page, "/?status=cancelled"));
	await page.close();

	/* The queued page: a new queued task appears, a cancelled one leaves. */
	page = await open(ctx, "/?status=queued");
	made = await change(page, "POST", "/api/tasks", { n: 13 });
	ids = await rowIds(page);
	check("a task added elsewhere appears at the top of the queued page",
		ids[0] === made.json.id && await sameAsFresh(ctx, page, "/?status=queued"),
		ids.slice(0, 3).join(" "));
	const leaving = ids[2];
	await change(page, "POST", `/api/tasks/${leaving}/cancel`, {});
	check("a task cancelled elsewhere leaves the queued page, refilled as a reload shows",
		!(await rowIds(page)).includes(leaving) &&
		await sameAsFresh(ctx, page, "/?status=queued"));
	await page.close();

	/* An older page of queued tasks with two rows: emptied, it says so;
	 * a task back in its status comes back. */
	const queuedUp = (await api("GET", "/api/tasks?status=queued&limit=1000")).json.tasks
		.map((t) => t.id).sort((a, b) => a - b);
	const low = queuedUp.slice(0, 2);
	const lowPath = `/?status=queued&before=${low[1] + 1}`;
	page = await open(ctx, lowPath);
	ids = await rowIds(page);
	const noteShown = () => page.$eval("#no-page-tasks", (p) => !p.hidden).catch(() => null);
	check("an older page of queued tasks shows the two oldest",
		JSON.stringify(ids) === JSON.stringify([low[1], low[0]]) && (await noteShown()) === false,
		JSON.stringify({ ids, low }));
	await api("POST", `/api/tasks/${low[0]}/cancel`, {});
	await change(page, "POST", `/api/tasks/${low[1]}/cancel`, {});
	check("once both are cancelled it says there are no tasks on this page",
		(await rowIds(page)).length === 0 && (await noteShown()) === true &&
		await sameAsFresh(ctx, page, lowPath));
	await change(page, "POST", `/api/tasks/${low[0]}/retry`, {});
	check("a task retried into its status comes back, and the sentence goes",
		JSON.stringify(await rowIds(page)) === JSON.stringify([low[0]]) &&
		(await noteShown()) === false && await sameAsFresh(ctx, page, lowPath));
	await page.close();

	/* An older page of cancelled tasks: a task in its range that is
	 * cancelled appears in its place, pushing the last row off. */
	const cancelledIds = (await api("GET", "/api/tasks?status=cancelled&limit=1000")).json.tasks
		.map((t) => t.id);
	/* One with more than a page below it: the page is full. */
	const olderPath = `/?status=cancelled&before=${cancelledIds[Math.max(0, cancelledIds.length - 53)]}`;
	page = await open(ctx, olderPath);
	before = await rowIds(page);
	const inRange = (await api("GET", "/api/tasks?status=queued&limit=1000")).json.tasks
		.map((t) => t.id).find((id) => id < before[0] && id > before[before.length - 1]);
	await change(page, "POST", `/api/tasks/${inRange}/cancel`, {});
	ids = await rowIds(page);
	check("an older page of cancelled tasks shows a task of its range once cancelled",
		before.length === 50 && inRange !== undefined && ids.includes(inRange) &&
		ids.length === 50 && !ids.includes(before[49]),
		JSON.stringify({ inRange, rows: before.length, first: before[0], last: before[49], now: ids.length }));
	check("and the row it pushed off goes to the next page, as a reload shows",
		await sameAsFresh(ctx, page, olderPath));
	await page.close();

	/* ---- "stopping…" in every tab ------------------------------------ */

	const ctx2 = await browser.newContext({ viewport: { width: 1200, height: 800 } });
	const tabA = await open(ctx, "/");
	const tabB = await open(ctx2, "/");
	const stopId = await tabA.evaluate(() => {
		for (const tr of document.querySelectorAll("#tasks tbody tr[data-status=running]")) {
			if (tr.querySelector('form[action$="/cancel"]')) return Number(tr.getAttribute("data-id"));
		}
		return null;
	});
	if (check("the newest page shows a running task that can be cancelled", stopId !== null)) {
		await tabA.locator(`#task-${stopId} form[action$="/cancel"] button`).focus();
		await tabA.keyboard.press("Enter");
		const stopping = (p) => p.waitForFunction((id) => {
			const tr = document.getElementById("task-" + id);
			const note = tr && tr.querySelector("td.status .note");
			return note && /stopping/.test(note.textContent) &&
				!tr.querySelector('form[action$="/cancel"]');
		}, stopId, { timeout: 10000, polling: 50 }).then(() => true, () => false);
		check("a cancel asked for in one tab shows \"stopping…\" in that tab", await stopping(tabA));
		check("and in another browser's tab, from the row the server published", await stopping(tabB));
		const t = (await api("GET", `/api/tasks/${stopId}`)).json;
		check("the API says the cancel was asked for (cancel_requested)",
			t.status === "running" && t.cancel_requested === true, JSON.stringify(t));
		const focusA = await tabA.evaluate(() => {
			const a = document.activeElement;
			return a && a.closest("tr") ? `${a.tagName} in ${a.closest("tr").id}` : "none";
		});
		check("the keyboard stays in the row (its link: it offers no action now)",
			focusA === `A in task-${stopId}`, focusA);
		check("both tabs are what a reload shows",
			await sameAsFresh(ctx, tabA, "/") && await sameAsFresh(ctx2, tabB, "/"));
	}

	/* ---- A task's page follows it, whatever happens elsewhere ---------- */

	const other = await tabA.evaluate(() => {
		for (const tr of document.querySelectorAll("#tasks tbody tr[data-status=running]")) {
			if (tr.querySelector('form[action$="/cancel"]')) return Number(tr.getAttribute("data-id"));
		}
		return null;
	});
	const taskPage = await open(ctx, `/tasks/${other}`);
	await taskPage.evaluate(() => { window.__notReloaded = true; });
	await api("POST", `/api/tasks/${other}/cancel`, {});
	const explained = await taskPage.waitForFunction(() => {
		const p = document.querySelector("#task .explain");
		return p && /asked to stop/.test(p.textContent) && !window.__notReloaded;
	}, null, { timeout: 10000 }).then(() => true, () => false);
	check("a running task's page, cancelled elsewhere, loads itself again and says it is stopping",
		other !== null && explained);
	await tabA.close();
	await tabB.close();
	await ctx2.close();

	const follow = (await api("GET", "/api/tasks?status=cancelled&limit=1")).json.tasks[0].id;
	await taskPage.goto(`${BASE}/tasks/${follow}`);
	await taskPage.waitForTimeout(300);
	await taskPage.evaluate(() => { window.__notReloaded = true; });
	await api("POST", `/api/tasks/${follow}/retry`, {});
	const requeued = await taskPage.waitForFunction(() => {
		const s = document.getElementById("task");
		return s && s.getAttribute("data-status") === "queued" && !window.__notReloaded;
	}, null, { timeout: 10000 }).then(() => true, () => false);
	check("a cancelled task's page follows a retry made elsewhere", requeued);
	await taskPage.evaluate(() => { window.__notReloaded = true; });
	await api("DELETE", `/api/tasks/${follow}`);
	const gone = await taskPage.waitForFunction(() => {
		const m = document.getElementById("error-message");
		return !document.getElementById("task") && m && /no task/.test(m.textContent) &&
			!window.__notReloaded;
	}, null, { timeout: 10000 }).then(() => true, () => false);
	check("and a delete made elsewhere: the page says the task is gone", gone);
	await taskPage.close();
} catch (e) {
	check("the live pages test ran to the end", false, e.stack || String(e));
}
await browser.close();
finish();
