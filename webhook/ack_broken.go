//go:build payoutd_ack_before_commit

package webhook

// ackBeforeCommit, under the payoutd_ack_before_commit build tag only, makes
// the handler answer 200 before the commit: the bug the crash test in e2e/
// must catch. It exists so that anyone can rerun that proof:
//
//	PAYOUTD_CRASH_BUILD_TAGS=payoutd_ack_before_commit go test ./e2e -run TestCrash
//
// and see the test fail. Never build payoutd with this tag.
const ackBeforeCommit = true
