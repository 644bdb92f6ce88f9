/// The application's static files, compiled into the binary so that the executable alone is
/// the whole release (a Nix store path, a copied binary). `collectstatic` writes them to
/// `$WORKING_DIR/static/` under content-hashed names.
enum StaticAssets {
    static let files: [(name: String, content: String)] = [
        ("app.css", appCSS),
        ("labels.css", labelsCSS),
        ("app.js", appJS),
        ("favicon.svg", favicon),
        ("robots.txt", "User-agent: *\nDisallow: /\n"),
    ]

    static let appCSS = """
        :root { --ink: #1d2733; --muted: #5b6776; --line: #d6dbe1; --accent: #0b5cad; --bad: #a61b1b; --ok: #1d6b33; }
        * { box-sizing: border-box; }
        body { margin: 0; font: 16px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--ink); }
        header { background: var(--ink); color: #fff; padding: .6rem 1rem; display: flex; gap: 1.2rem; align-items: baseline; flex-wrap: wrap; }
        header a { color: #fff; text-decoration: none; }
        header strong { margin-right: 1rem; }
        main { max-width: 70rem; margin: 0 auto; padding: 1rem; }
        h1 { font-size: 1.5rem; margin: .5rem 0 1rem; }
        table { border-collapse: collapse; width: 100%; margin: 1rem 0; }
        th, td { border-bottom: 1px solid var(--line); padding: .35rem .5rem; text-align: left; vertical-align: top; }
        th { color: var(--muted); font-weight: 600; }
        form.card, .card { border: 1px solid var(--line); border-radius: 6px; padding: 1rem; margin: 1rem 0; }
        label { display: block; margin: .5rem 0 .2rem; font-weight: 600; }
        input, select, textarea { font: inherit; padding: .35rem .5rem; width: 100%; max-width: 30rem; }
        button { font: inherit; padding: .45rem 1rem; background: var(--accent); color: #fff; border: 0; border-radius: 4px; cursor: pointer; }
        .message { padding: .6rem 1rem; border-radius: 4px; margin: 1rem 0; }
        .message.error { background: #fbeaea; color: var(--bad); }
        .message.ok { background: #e8f4ec; color: var(--ok); }
        .muted { color: var(--muted); }
        .tag { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-weight: 600; }
        .stats { display: flex; gap: 1rem; flex-wrap: wrap; }
        .stats div { border: 1px solid var(--line); border-radius: 6px; padding: .5rem 1rem; min-width: 8rem; }
        .stats b { display: block; font-size: 1.6rem; }
        progress { width: 100%; max-width: 30rem; height: 1.2rem; }
        @media print { header, .no-print { display: none; } main { padding: 0; max-width: none; } }

        """

    static let labelsCSS = """
        .labels { display: flex; flex-direction: column; align-items: flex-start; gap: 4mm; }
        .print-label { break-inside: avoid; page-break-inside: avoid; border: 1px dashed #bbb; }
        .print-label svg { display: block; }
        /* Each label on a page of its own size: LabelRoutes writes @page large and @page small. */
        .print-label[data-size="large"] { page: large; }
        .print-label[data-size="small"] { page: small; }
        .size-switch { margin-left: 1rem; }
        @media print {
          /* Only the labels reach the printer: the page's title alone would waste a label. */
          main > *:not(.labels), footer { display: none; }
          .labels { gap: 0; }
          .print-label { border: 0; break-after: page; page-break-after: always; }
          .print-label:last-child { break-after: auto; page-break-after: auto; }
        }

        """

    static let appJS = """
        // Small progressive enhancements; every page works without JavaScript.
        document.addEventListener("DOMContentLoaded", function () {
          var first = document.querySelector("form [autofocus]") || document.querySelector("form input[type=text]");
          if (first) { first.focus(); }
          document.querySelectorAll("button[data-print]").forEach(function (button) {
            button.addEventListener("click", function () { window.print(); });
          });
          // A job's progress bar follows /api/jobs/ID (any worker answers) until the job ends,
          // then the page reloads to show what it made.
          document.querySelectorAll("[data-job]").forEach(function (box) {
            if (box.dataset.finished === "1") { return; }
            var bar = box.querySelector("progress"), text = box.querySelector("[data-job-text]");
            function poll() {
              fetch("/api/jobs/" + box.dataset.job, { headers: { Accept: "application/json" } })
                .then(function (answer) { return answer.json(); })
                .then(function (job) {
                  bar.max = Math.max(1, job.total); bar.value = job.done;
                  if (job.state === "done" || job.state === "failed") {
                    var figures = job.done + " of " + job.total + " " + box.dataset.what;
                    text.textContent = job.state === "done" ? "Done: " + (job.message || figures) + "." : "Failed: " + job.message + ".";
                    box.dataset.finished = "1";
                    if (job.state === "done") { setTimeout(function () { location.reload(); }, 800); }
                    return;
                  }
                  text.textContent = job.done + " of " + job.total + " " + box.dataset.what + (job.state === "queued" ? " (waiting for a job worker)" : " (running)");
                  setTimeout(poll, 1000);
                })
                .catch(function () { setTimeout(poll, 3000); });
            }
            setTimeout(poll, 500);
          });
        });

        """

    static let favicon = """
        <svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#1d2733"/>\
        <path d="M3 4h1v8H3zm2 0h2v8H5zm3 0h1v8H8zm2 0h1v8h-1zm2 0h1v8h-1z" fill="#fff"/></svg>

        """
}
