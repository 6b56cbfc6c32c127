// table.mjs: what a page of tasks shows, so that the browser tests can
// compare a page kept live by htdocs/app.js with a fresh load of the same
// address (docs/design.md: the table is always what a reload would show).

import { diag } from "./tap.mjs";

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/*
 * What the main page in page shows: each row (id, status, version, the
 * text of its cells, the actions of its forms), the paging links, whether
 * each "no tasks" sentence shows, the header's counts and the table's
 * version. The "ran for" of a running task is left out: it is rendered
 * at a moment, which differs between two loads.
 */
export async function tableState(page) {
	return page.evaluate(() => {
		const norm = (s) => s.replace(/\s+/g, " ").trim();
		const table = document.getElementById("tasks");
		const rows = Array.from(table.querySelectorAll("tbody tr[data-id]")).map((tr) => {
			const running = tr.getAttribute("data-status") === "running";
			const cells = Array.from(tr.querySelectorAll("td"))
				.filter((td) => !(running && td.className === "ran"))
				.map((td) => `${td.className}: ${norm(td.textContent)}`);
			return {
				id: tr.id,
				status: tr.getAttribute("data-status"),
				version: tr.getAttribute("data-version"),
				cells,
				actions: Array.from(tr.querySelectorAll("td.actions form"))
					.map((f) => f.getAttribute("action")),
			};
		});
		const shown = (id) => {
			const e = document.getElementById(id);
			return e ? !e.hidden : null;
		};
		const counts = {};
		for (const e of document.querySelectorAll("#counts [id^=count-]")) {
			counts[e.id] = norm(e.textContent);
		}
		return {
			version: Number(table.getAttribute("data-version")),
			rows,
			nav: Array.from(document.querySelectorAll("nav.pages a")).map((a) =>
				`${a.getAttribute("rel") || "-"} ${a.getAttribute("href")} ${norm(a.textContent)}`),
			noTasks: shown("no-tasks"),
			noPageTasks: shown("no-page-tasks"),
			counts,
		};
	});
}

/* The first difference between two states, in words, or "". With
 * cells false, rows are compared by id and status only. */
export function difference(live, fresh, cells = true) {
	const ids = (s) => s.rows.map((r) => r.id.replace("task-", "")).join(" ");
	if (ids(live) !== ids(fresh)) {
		return `rows: live ${ids(live)}\n      fresh ${ids(fresh)}`;
	}
	for (let i = 0; i < live.rows.length; i++) {
		if (!cells) {
			if (live.rows[i].status !== fresh.rows[i].status) {
				return `row ${i}: live ${live.rows[i].status}, fresh ${fresh.rows[i].status}`;
			}
			continue;
		}
		const a = JSON.stringify(live.rows[i]);
		const b = JSON.stringify(fresh.rows[i]);
		if (a !== b) {
			return `row ${i}: live ${a}\n       fresh ${b}`;
		}
	}
	for (const k of cells ? ["nav", "noTasks", "noPageTasks", "counts"] : ["nav", "noTasks", "noPageTasks"]) {
		const a = JSON.stringify(live[k]);
		const b = JSON.stringify(fresh[k]);
		if (a !== b) {
			return `${k}: live ${a}, fresh ${b}`;
		}
	}
	return "";
}

/*
 * Whether page, once it has caught up, shows what a fresh load of path (in
 * a new page of context ctx) shows. Tries for up to timeoutMs, as the live
 * page may still be applying the last change; says how they differ if they
 * never agree. With cells false (running tasks move every second, so two
 * loads rarely meet at one version) only the rows' ids and statuses, the
 * links and the sentences are compared, once the live page is at least
 * at the fresh one's version.
 */
export async function sameAsFresh(ctx, page, path, timeoutMs = 10000, cells = true) {
	const base = new URL(page.url()).origin;
	const deadline = Date.now() + timeoutMs;
	let diff = "";
	for (;;) {
		const fresh = await ctx.newPage();
		await fresh.goto(base + path);
		const want = await tableState(fresh);
		await fresh.close();
		/* The live page at the fresh one's version, or give up waiting. */
		await page.waitForFunction(
			(v) => Number(document.getElementById("tasks").getAttribute("data-version")) >= v,
			want.version, { timeout: Math.max(100, deadline - Date.now()), polling: 50 })
			.catch(() => {});
		const got = await tableState(page);
		if (got.version === want.version || (!cells && got.version > want.version)) {
			diff = difference(got, want, cells);
			if (diff === "") {
				return true;
			}
		} else {
			diff = `versions: live ${got.version}, fresh ${want.version}`;
		}
		if (Date.now() >= deadline) {
			break;
		}
		await sleep(250);
	}
	diag(`${path}: live and fresh differ: ${diff}`);
	return false;
}
