//go:build !payoutd_ack_before_commit

package webhook

// ackBeforeCommit is false in every real build: a webhook is answered 200
// only after its durable commit. See ack_broken.go.
const ackBeforeCommit = false
