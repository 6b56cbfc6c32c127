#!/usr/bin/env node
// Live updates on a page of the task list that is not simply "the newest
// tasks": the page script (htdocs/app.js) must add a row only where it
// belongs (docs/design.md: data-filter, data-page, data-page-size).
//
//   node tests/browser/live_pages.mjs BASE_URL
//
// BASE_URL is a stack without a worker whose tasks 1..120 are queued (odd
// ids) and cancelled (even ids), made by tests/integration/test_dashboard.py.
// Changes are made through the JSON API from here; after each, the test
// waits until the page has applied the long-poll answer that carries it
// (table#tasks data-version) and then looks at the rows.
//
// Prints `ok - name` / `not ok - name` per check and `# ...` diagnostics;
// exits 1 if any check failed. $CHROMIUM overrides /usr/bin/chromium.

import { check, diag, finish, launchChromium, watchdog } from "./tap.mjs";

const BASE = (process.argv[2] || "").replace(/\/+$/, "");
if (!BASE) {
	check("usage: live_pages.mjs BASE_URL", false);
	finish();
}
watchdog(120000, "the live pages test finished in time");

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

/* Whether page shows the rows and older link that loading path afresh
 * shows; says how they differ if not. */
async function sameAsReload(page, path) {
	const fresh = await ctx.newPage();
	await fresh.goto(BASE + path);
	const want = { ids: await rowIds(fresh), older: await olderHref(fresh) };
	await fresh.close();
	const got = { ids: await rowIds(page), older: await olderHref(page) };
	if (JSON.stringify(want) === JSON.stringify(got)) {
		return true;
	}
	diag(`live:   ${got.ids.length} rows ${got.ids.slice(-3).join(" ")}, older ${got.older}`);
	diag(`reload: ${want.ids.length} rows ${want.ids.slice(-3).join(" ")}, older ${want.older}`);
	return false;
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
		await sameAsReload(page, "/"));

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
		!ids.includes(onPage) && !ids.includes(below) && await sameAsReload(page, "/"),
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
	check("and the queued page is what a reload shows", await sameAsReload(page, "/?status=queued"));
	await page.close();
} catch (e) {
	check("the live pages test ran to the end", false, e.stack || String(e));
}
await browser.close();
finish();
