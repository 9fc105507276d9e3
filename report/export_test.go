package report

// WritePayoutsPaged is the payouts report with its page size chosen, so
// that a test can read a few rows in many pages.
var WritePayoutsPaged = writePayouts
