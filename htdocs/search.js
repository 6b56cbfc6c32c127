/*
 * nthpi search script: shows a search's answer in place.
 *
 * The search form (form#search) works without this script: GET /search
 * answers with a page of its own. With it, the form and the links to the
 * occurrences before and after load that same page in the background and
 * put its div#search-result, and the sentence beside the field
 * (#q-error), where they are on this page. The server renders all of it;
 * this script builds no markup from data (the CSP allows no inline
 * script, and DOMParser runs none).
 */
(function () {
	"use strict";

	var form = document.getElementById("search");
	var input = document.getElementById("q");
	var error = document.getElementById("q-error");
	if (!form || !input || !error || !window.fetch || !window.DOMParser) {
		return;
	}
	var TIMEOUT_MS = 15000;
	var busy = false;

	/* The sentence of a refusal page (layout_error_page), or a fallback. */
	function refusal(doc, status) {
		var p = doc.querySelector("main p");
		var text = p ? p.textContent.trim() : "";
		return text || "The search could not be done just now (HTTP " +
			status + "). Try again in a moment.";
	}

	function show(doc, status) {
		var result = doc.getElementById("search-result");
		var theirs = doc.getElementById("q-error");
		var mine = document.getElementById("search-result");
		var message = theirs ? theirs.textContent :
			result ? "" : refusal(doc, status);

		error.textContent = message;
		if (message) {
			input.setAttribute("aria-invalid", "true");
			input.focus();
		} else {
			input.removeAttribute("aria-invalid");
		}
		if (mine) {
			var fresh = result ? document.importNode(result, true) :
				document.createElement("div");
			fresh.id = "search-result";
			fresh.setAttribute("aria-live", "polite");
			mine.parentNode.replaceChild(fresh, mine);
		}
	}

	/* Loads url (a /search address) and shows its answer here; on a
	 * network failure goes there instead, as without this script. */
	function load(url) {
		if (busy) {
			return;
		}
		busy = true;
		form.setAttribute("aria-busy", "true");
		var ctl = window.AbortController ? new AbortController() : null;
		var timer = setTimeout(function () {
			if (ctl) {
				ctl.abort();
			}
		}, TIMEOUT_MS);
		fetch(url, {
			credentials: "same-origin",
			headers: { "Accept": "text/html" },
			signal: ctl ? ctl.signal : undefined
		}).then(function (res) {
			return res.text().then(function (text) {
				var doc = new DOMParser().parseFromString(text, "text/html");
				show(doc, res.status);
			});
		}).catch(function () {
			window.location.assign(url);
		}).then(function () {
			clearTimeout(timer);
			busy = false;
			form.removeAttribute("aria-busy");
		});
	}

	form.addEventListener("submit", function (ev) {
		ev.preventDefault();
		load("/search?q=" + encodeURIComponent(input.value));
	});

	/* The links to the occurrences before and after: in place too. */
	form.parentNode.addEventListener("click", function (ev) {
		var a = ev.target.closest ? ev.target.closest(".search-nav a") : null;
		if (!a || ev.button !== 0 || ev.ctrlKey || ev.metaKey ||
			ev.shiftKey || ev.altKey) {
			return;
		}
		ev.preventDefault();
		load(a.getAttribute("href"));
	});
})();
