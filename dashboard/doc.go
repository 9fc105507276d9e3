// Package dashboard serves the finance dashboard at GET /: an overview with
// charts, the findings with acknowledge and snooze actions and the runbook
// of what each kind means and what to do, payout search with each payout's
// history, and the reconciliation runs with a "reconcile now" button; a
// Reports page renders the finance report and offers its CSV downloads.
// The lists take the API's filters and refuse any other.
//
// Pages are rendered on the server with html/template; the stylesheet, a
// small script and the vendored chart library (Chart.js, see
// assets/README.md) are embedded in the binary, so the dashboard works with
// no network beyond the daemon. The Content-Security-Policy allows scripts
// from the daemon's origin only and no inline script: chart data travels in a
// <script type="application/json"> block that assets/app.js reads.
//
// Access is by the API token: POST /login with the token sets a session
// cookie whose value is an expiry signed with a key derived from the token.
// The daemon keeps no session state, and rotating the token ends every
// session. Each state-changing form carries a CSRF token derived from the
// session cookie; only POST changes state.
package dashboard
