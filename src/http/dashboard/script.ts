/// <reference path="../../raw.d.ts" />
/**
 * The dashboard's browser script, inlined into the page and allowed by its
 * hash in the Content-Security-Policy. Plain ES2020, no dependencies.
 *
 * Why it is written this way:
 * - Every piece of server data reaches the DOM through `textContent` or an
 *   attribute set with `setAttribute` on a fixed, non-URL attribute name, never
 *   through `innerHTML`: a hostile incident summary stays text.
 * - Incident cards are kept by id and updated in place, so a note being typed
 *   or an expanded timeline survives the next poll.
 * - The token lives in sessionStorage and goes out as a bearer header; fetches
 *   use `credentials: 'omit'`, so there are no cookies and no CSRF surface.
 * - Chart history is a bounded ring (`data-history` samples).
 */
import source from './browser.js?raw';

/** The dashboard's browser script, as the page inlines it. */
export const DASHBOARD_JS: string = source;
