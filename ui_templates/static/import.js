// The import screen's progress ([data-import-progress]): while the job runs, ask the
// API for it every second and move the bar and the counts; once it has finished, load
// the page again for its result. Without this script the page's Refresh link does the
// same, and since the job's progress is kept on the server a reload loses nothing.

const POLL_MS = 1000;
const section = document.querySelector("[data-import-progress]");

function show(job) {
  const bar = section.querySelector("progress");
  bar.value = job.progress;
  bar.textContent = `${job.progress} %`;
  section.querySelector("[data-import-status]").textContent =
    `${job.progress} %: ${job.next_row} of ${job.total_rows} rows handled.`;
  for (const count of section.querySelectorAll("[data-import-count]")) {
    count.textContent = String(job[count.dataset.importCount]);
  }
}

async function poll() {
  try {
    const response = await fetch(section.dataset.url, { headers: { Accept: "application/json" } });
    if (response.ok) {
      const job = await response.json();
      show(job);
      if (job.state === "done" || job.state === "failed") {
        window.location.reload();
        return;
      }
    }
  } catch {
    // A lost connection: try again at the next tick.
  }
  window.setTimeout(poll, POLL_MS);
}

if (section) {
  window.setTimeout(poll, POLL_MS);
}
