// Package e2e tests the payoutd binary from outside, the way Coinflow and an
// operator meet it: it builds the real binary, runs it as a subprocess
// against a fresh PostgreSQL database, sends it signed webhooks, kills it or
// cuts its database off, and checks what was durably stored.
//
// The tests need PAYOUTD_TEST_DATABASE_URL (see internal/dbtest) and skip
// without it. TestCrashRecovery builds payoutd with the tags in
// PAYOUTD_CRASH_BUILD_TAGS when set, so that
//
//	PAYOUTD_CRASH_BUILD_TAGS=payoutd_ack_before_commit go test ./e2e -run TestCrashRecovery
//
// shows the test failing against a build that acknowledges before it commits.
package e2e
