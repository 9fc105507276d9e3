package coinflowtest_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/coinflow/coinflowtest"
)

func TestUnclaimedAndOnHold(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		mark    string // the /_sim action, or "go:" + method name
		end     string // complete or fail
		listed  string // list status while marked
		single  string // single-get status while marked
		events  []string
		balance int64 // change from before the payout, at the end
	}{
		{"unclaimed, then claimed", "go:MarkUnclaimed", "complete", "pending", "pending",
			[]string{"Withdraw Pending", "Withdraw Unclaimed", "Withdraw Success"}, -(10_000 + 250)},
		{"unclaimed, never claimed", "unclaimed", "fail", "pending", "pending",
			[]string{"Withdraw Pending", "Withdraw Unclaimed", "Withdraw Failure"}, 0},
		{"on hold, then released", "on-hold", "complete", "in_review", "pending",
			[]string{"Withdraw Pending", "Withdraw On Hold", "Withdraw Success"}, -(10_000 + 250)},
		{"on hold, then refused", "go:MarkOnHold", "fail", "in_review", "pending",
			[]string{"Withdraw Pending", "Withdraw On Hold", "Withdraw Failure"}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, setupOpts{})
			b.addUser(t, "u-1")
			before := b.srv.Balance()
			p := b.mustPayout(t, "u-1", "bnk_u-1", "asap", 10_000, key(1))
			b.wait(t) // Withdraw Pending goes out first
			switch tc.mark {
			case "go:MarkUnclaimed":
				require.NoError(t, b.srv.MarkUnclaimed(p.Signature))
			case "go:MarkOnHold":
				require.NoError(t, b.srv.MarkOnHold(p.Signature))
			default:
				r := b.call(t, http.MethodPost, "/_sim/withdraws/"+p.Signature+"/"+tc.mark, nil)
				require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
				r = b.call(t, http.MethodPost, "/_sim/withdraws/"+p.Signature+"/"+tc.mark, nil)
				require.Equal(t, http.StatusConflict, r.Status, "marking twice")
			}
			// Past its due time it has not moved on its own.
			b.srv.Advance(time.Hour)
			require.Equal(t, tc.listed, b.list(t, "")[0].Status)
			require.Equal(t, tc.single, b.withdraw(t, p.Signature)["status"])
			w, _ := b.srv.Withdraw(p.Signature)
			require.Equal(t, tc.mark == "unclaimed" || tc.mark == "go:MarkUnclaimed", w.Unclaimed)
			require.Equal(t, tc.mark == "on-hold" || tc.mark == "go:MarkOnHold", w.OnHold)

			if tc.end == "complete" {
				require.NoError(t, b.srv.Complete(p.Signature))
			} else {
				require.NoError(t, b.srv.Fail(p.Signature, "Unclaimed or refused"))
			}
			w, _ = b.srv.Withdraw(p.Signature)
			require.False(t, w.Unclaimed || w.OnHold, "settled")
			require.Equal(t, tc.balance, b.srv.Balance()-before)

			b.wait(t)
			all := b.hook.all()
			envs := b.hook.envelopes(t)
			require.Equal(t, tc.events, eventTypes(envs))
			// Same envelope and data as the other Withdraw events.
			var first, marked map[string]json.RawMessage
			require.NoError(t, json.Unmarshal(all[0].Body, &first))
			require.NoError(t, json.Unmarshal(all[1].Body, &marked))
			require.Equal(t, `"Withdraw"`, string(marked["category"]))
			require.JSONEq(t, string(first["data"]), string(marked["data"]))
			require.Equal(t, p.Signature, envs[1].Data.Signature)
		})
	}
}

func TestUnclaimedAndOnHoldRefusals(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{noHook: true})
	b.addUser(t, "u-1")
	done := b.mustPayout(t, "u-1", "bnk_u-1", "asap", 100, key(1))
	require.NoError(t, b.srv.Complete(done.Signature))
	p := b.mustPayout(t, "u-1", "bnk_u-1", "asap", 100, key(2))

	require.ErrorIs(t, b.srv.MarkUnclaimed("nope"), coinflowtest.ErrNotFound)
	require.ErrorIs(t, b.srv.MarkOnHold("nope"), coinflowtest.ErrNotFound)
	require.ErrorIs(t, b.srv.MarkUnclaimed(done.Signature), coinflowtest.ErrInvalidTransition)
	require.ErrorIs(t, b.srv.MarkOnHold(done.Signature), coinflowtest.ErrInvalidTransition)

	require.NoError(t, b.srv.MarkUnclaimed(p.Signature))
	require.ErrorIs(t, b.srv.MarkUnclaimed(p.Signature), coinflowtest.ErrInvalidTransition)
	require.NoError(t, b.srv.MarkOnHold(p.Signature), "an unclaimed payout can be put on hold")
	require.ErrorIs(t, b.srv.MarkOnHold(p.Signature), coinflowtest.ErrInvalidTransition)
	require.ErrorIs(t, b.srv.MarkUnclaimed(p.Signature), coinflowtest.ErrInvalidTransition, "in review is not pending")
	require.Equal(t, http.StatusNotFound, b.call(t, http.MethodPost, "/_sim/withdraws/nope/unclaimed", nil).Status)
}
