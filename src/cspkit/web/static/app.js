// Marks the page as scripted (GOV.UK Frontend styles depend on it) and starts the GOV.UK components.
import { initAll } from "/static/govuk-frontend.min.js";
document.body.classList.add("js-enabled", "govuk-frontend-supported");
initAll();
