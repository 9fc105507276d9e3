package models

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var tt0 = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

func st(s PayoutStatus, detail string, at time.Time) PayoutState {
	return PayoutState{Status: s, Detail: detail, At: at}
}

func evd(s PayoutStatus, detail string, at time.Time) PayoutEvidence {
	return PayoutEvidence{Status: s, Detail: detail, At: at, Source: SourceWebhook}
}

func stateOf(ev PayoutEvidence) PayoutState { return st(ev.Status, ev.Detail, ev.At) }

func TestTransitionCases(t *testing.T) {
	later, earlier := tt0.Add(time.Hour), tt0.Add(-time.Hour)
	for _, tc := range []struct {
		name     string
		cur      PayoutState
		ev       PayoutEvidence
		apply    bool
		reason   string
		conflict bool
	}{
		{"requested to unknown advances", st(StatusRequested, "", tt0), evd(StatusUnknown, "", later), true, ReasonAdvanced, false},
		{"requested to pending advances", st(StatusRequested, "", tt0), evd(StatusPending, "", later), true, ReasonAdvanced, false},
		{"unknown to pending advances even when the evidence is older", st(StatusUnknown, "", tt0), evd(StatusPending, "", earlier), true, ReasonAdvanced, false},
		{"pending to on hold advances", st(StatusPending, "", tt0), evd(StatusInReview, DetailOnHold, later), true, ReasonAdvanced, false},
		{"pending straight to completed advances", st(StatusPending, "", tt0), evd(StatusCompleted, "", later), true, ReasonAdvanced, false},
		{"requested straight to failed advances", st(StatusRequested, "", tt0), evd(StatusFailed, "", earlier), true, ReasonAdvanced, false},
		{"late pending after in review is stale", st(StatusInReview, DetailOnHold, tt0), evd(StatusPending, "", later), false, ReasonStale, false},
		{"late pending after completed is stale even when newer", st(StatusCompleted, "", tt0), evd(StatusPending, "", later), false, ReasonStale, false},
		{"late unclaimed after failed is stale", st(StatusFailed, "", tt0), evd(StatusPending, DetailUnclaimed, earlier), false, ReasonStale, false},
		{"requested after pending is stale", st(StatusPending, "", tt0), evd(StatusRequested, "", later), false, ReasonStale, false},
		{"unknown after completed is stale", st(StatusCompleted, "", tt0), evd(StatusUnknown, "", later), false, ReasonStale, false},
		{"bank return: newer failure replaces completed", st(StatusCompleted, "", tt0), evd(StatusFailed, "", later), true, ReasonTerminalChanged, true},
		{"manual success: newer completed replaces failed", st(StatusFailed, "", tt0), evd(StatusCompleted, "", later), true, ReasonTerminalChanged, true},
		{"older failure after completed is stale but a conflict", st(StatusCompleted, "", tt0), evd(StatusFailed, "", earlier), false, ReasonStale, true},
		{"older success after failed is stale but a conflict", st(StatusFailed, "", tt0), evd(StatusCompleted, "", earlier), false, ReasonStale, true},
		{"exact tie: failure beats completed", st(StatusCompleted, "", tt0), evd(StatusFailed, "", tt0), true, ReasonTerminalChanged, true},
		{"exact tie: completed does not beat failed", st(StatusFailed, "", tt0), evd(StatusCompleted, "", tt0), false, ReasonStale, true},
		{"duplicate pending is same", st(StatusPending, "", tt0), evd(StatusPending, "", tt0), false, ReasonSame, false},
		{"older pending on pending is same", st(StatusPending, "", tt0), evd(StatusPending, "", earlier), false, ReasonSame, false},
		{"newer pending on pending advances its time", st(StatusPending, "", tt0), evd(StatusPending, "", later), true, ReasonAdvanced, false},
		{"duplicate completed is same, no conflict", st(StatusCompleted, "", tt0), evd(StatusCompleted, "", tt0), false, ReasonSame, false},
		{"older completed on completed is same", st(StatusCompleted, "", tt0), evd(StatusCompleted, "", earlier), false, ReasonSame, false},
		{"duplicate failed is same", st(StatusFailed, "", tt0), evd(StatusFailed, "", tt0), false, ReasonSame, false},
		{"duplicate unclaimed is same", st(StatusPending, DetailUnclaimed, tt0), evd(StatusPending, DetailUnclaimed, tt0), false, ReasonSame, false},
		{"exact tie: unclaimed beats plain pending", st(StatusPending, "", tt0), evd(StatusPending, DetailUnclaimed, tt0), true, ReasonAdvanced, false},
		{"exact tie: plain pending does not beat unclaimed", st(StatusPending, DetailUnclaimed, tt0), evd(StatusPending, "", tt0), false, ReasonStale, false},
		{"older plain pending does not replace unclaimed", st(StatusPending, DetailUnclaimed, tt0), evd(StatusPending, "", earlier), false, ReasonStale, false},
		{"newer plain pending replaces unclaimed", st(StatusPending, DetailUnclaimed, tt0), evd(StatusPending, "", later), true, ReasonAdvanced, false},
		{"older unclaimed does not replace pending", st(StatusPending, "", tt0), evd(StatusPending, DetailUnclaimed, earlier), false, ReasonStale, false},
		{"exact tie: on hold beats plain in review", st(StatusInReview, "", tt0), evd(StatusInReview, DetailOnHold, tt0), true, ReasonAdvanced, false},
		{"exact tie: plain in review does not beat on hold", st(StatusInReview, DetailOnHold, tt0), evd(StatusInReview, "", tt0), false, ReasonStale, false},
		{"on hold beats unclaimed whatever the times", st(StatusPending, DetailUnclaimed, later), evd(StatusInReview, DetailOnHold, earlier), true, ReasonAdvanced, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ch := Transition(tc.cur, tc.ev)
			require.Equal(t, tc.apply, ch.Apply, "apply")
			require.Equal(t, tc.reason, ch.Reason, "reason")
			require.Equal(t, tc.conflict, ch.Conflict, "conflict")
			if tc.apply {
				require.Equal(t, stateOf(tc.ev), ch.Next, "next is the evidence")
			} else {
				require.Equal(t, tc.cur, ch.Next, "next is unchanged")
			}
		})
	}
}

// specRank is SPEC's order of statuses, written out here rather than read
// from the implementation: requested → unknown → pending → in_review →
// completed | failed.
var specRank = map[PayoutStatus]int{
	StatusRequested: 0, StatusUnknown: 1, StatusPending: 2, StatusInReview: 3, StatusCompleted: 4, StatusFailed: 4,
}

var allStatuses = []PayoutStatus{StatusRequested, StatusUnknown, StatusPending, StatusInReview, StatusCompleted, StatusFailed}

// TestTransitionEveryStatusPair runs every (current, evidence) status pair
// with evidence older than, as old as and newer than the current state.
func TestTransitionEveryStatusPair(t *testing.T) {
	whens := []struct {
		name string
		at   time.Time
	}{{"older", tt0.Add(-time.Minute)}, {"tie", tt0}, {"newer", tt0.Add(time.Minute)}}
	n := 0
	for _, cur := range allStatuses {
		for _, ev := range allStatuses {
			for _, w := range whens {
				n++
				t.Run(fmt.Sprintf("%s_then_%s_%s", cur, ev, w.name), func(t *testing.T) {
					curState := st(cur, "", tt0)
					evidence := evd(ev, "", w.at)
					wantConflict := cur.Terminal() && ev.Terminal() && cur != ev
					var wantApply bool
					var wantReason string
					switch rc, re := specRank[cur], specRank[ev]; {
					case re > rc:
						wantApply, wantReason = true, ReasonAdvanced
					case re < rc:
						wantApply, wantReason = false, ReasonStale
					case cur == ev && w.name == "newer":
						wantApply, wantReason = true, ReasonAdvanced
					case cur == ev:
						wantApply, wantReason = false, ReasonSame
					case w.name == "newer", w.name == "tie" && ev == StatusFailed:
						wantApply, wantReason = true, ReasonTerminalChanged
					default:
						wantApply, wantReason = false, ReasonStale
					}
					ch := Transition(curState, evidence)
					require.Equal(t, wantApply, ch.Apply, "apply")
					require.Equal(t, wantReason, ch.Reason, "reason")
					require.Equal(t, wantConflict, ch.Conflict, "conflict")
					if wantApply {
						require.Equal(t, stateOf(evidence), ch.Next)
					} else {
						require.Equal(t, curState, ch.Next)
					}
				})
			}
		}
	}
	require.Equal(t, 6*6*3, n)
}

func TestStatusPredicates(t *testing.T) {
	for _, s := range allStatuses {
		require.True(t, s.Valid(), s)
		require.Equal(t, s == StatusCompleted || s == StatusFailed, s.Terminal(), s)
	}
	for _, s := range []PayoutStatus{"", "success", "Completed", "returned"} {
		require.False(t, s.Valid(), s)
		require.False(t, s.Terminal(), s)
	}
}

// randomEvidence draws evidence that webhooks, the API and reconciliation can
// produce, with times from a small pool so that exact ties are common.
func randomEvidence(r *rand.Rand) PayoutEvidence {
	s := allStatuses[r.IntN(len(allStatuses))]
	detail := ""
	switch {
	case s == StatusPending && r.IntN(2) == 0:
		detail = DetailUnclaimed
	case s == StatusInReview && r.IntN(2) == 0:
		detail = DetailOnHold
	}
	at := tt0.Add(time.Duration(r.IntN(4)) * time.Hour)
	return evd(s, detail, at)
}

func fold(init PayoutState, evs []PayoutEvidence) PayoutState {
	cur := init
	for _, ev := range evs {
		ch := Transition(cur, ev)
		if ch.Apply {
			cur = ch.Next
		} else if ch.Next != cur {
			panic(fmt.Sprintf("not applied but next %+v differs from current %+v", ch.Next, cur))
		}
	}
	return cur
}

// withDuplicates repeats each piece of evidence 1 to 3 times and shuffles.
func withDuplicates(r *rand.Rand, evs []PayoutEvidence) []PayoutEvidence {
	var out []PayoutEvidence
	for _, ev := range evs {
		for range 1 + r.IntN(3) {
			out = append(out, ev)
		}
	}
	r.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

func permutations(evs []PayoutEvidence, fn func([]PayoutEvidence)) {
	var rec func(k int)
	rec = func(k int) {
		if k == len(evs) {
			fn(evs)
			return
		}
		for i := k; i < len(evs); i++ {
			evs[k], evs[i] = evs[i], evs[k]
			rec(k + 1)
			evs[k], evs[i] = evs[i], evs[k]
		}
	}
	rec(0)
}

// TestTransitionOrderIndependent: for any set of evidence, every arrival
// order, with any duplicates, ends in the same state, and that state is not
// superseded by any of the evidence.
func TestTransitionOrderIndependent(t *testing.T) {
	r := rand.New(rand.NewPCG(20250601, 1))
	init := st(StatusRequested, "", tt0.Add(-time.Hour))
	for iter := range 3000 {
		evs := make([]PayoutEvidence, 1+r.IntN(5))
		for i := range evs {
			evs[i] = randomEvidence(r)
		}
		want := fold(init, evs)
		if len(evs) <= 5 {
			permutations(append([]PayoutEvidence(nil), evs...), func(p []PayoutEvidence) {
				if got := fold(init, p); got != want {
					require.Failf(t, "order changed the outcome", "iteration %d: %v ends in %+v, %v in %+v", iter, evs, want, p, got)
				}
			})
		}
		for range 10 {
			p := withDuplicates(r, evs)
			if got := fold(init, p); got != want {
				require.Failf(t, "duplicates changed the outcome", "iteration %d: %v ends in %+v, %v in %+v", iter, evs, want, p, got)
			}
		}
		for _, ev := range evs {
			ch := Transition(want, ev)
			require.False(t, ch.Apply, "iteration %d: final %+v superseded by %+v", iter, want, ev)
			require.Equal(t, want, ch.Next)
		}
		found := want == init
		for _, ev := range evs {
			found = found || stateOf(ev) == want
		}
		require.True(t, found, "iteration %d: final %+v is neither the initial state nor any evidence", iter, want)
	}
}

// TestTransitionIdempotent: evidence that was just applied is "same" the
// second time, never applied twice.
func TestTransitionIdempotent(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	for range 2000 {
		cur := stateOf(randomEvidence(r))
		ev := randomEvidence(r)
		ch := Transition(cur, ev)
		if !ch.Apply {
			continue
		}
		again := Transition(ch.Next, ev)
		require.False(t, again.Apply, "%+v applied twice", ev)
		require.Equal(t, ReasonSame, again.Reason)
		require.False(t, again.Conflict)
	}
}

func TestVerificationNewer(t *testing.T) {
	later, earlier := tt0.Add(time.Hour), tt0.Add(-time.Hour)
	wev := func(s VerificationStatus, at time.Time) WithdrawerEvidence {
		return WithdrawerEvidence{Status: s, At: at, Source: SourceWebhook}
	}
	for _, tc := range []struct {
		name  string
		cur   VerificationStatus
		curAt time.Time
		ev    WithdrawerEvidence
		want  bool
	}{
		{"first evidence always wins", "", tt0, wev(VerificationPending, earlier), true},
		{"first evidence at the zero time wins", "", time.Time{}, wev(VerificationRejected, time.Time{}), true},
		{"newer approval replaces pending", VerificationPending, tt0, wev(VerificationApproved, later), true},
		{"newer pending replaces approval: not monotonic", VerificationApproved, tt0, wev(VerificationPending, later), true},
		{"retry after rejection passes", VerificationRejected, tt0, wev(VerificationApproved, later), true},
		{"approval expires", VerificationApproved, tt0, wev(VerificationExpired, later), true},
		{"older approval does not replace rejection", VerificationRejected, tt0, wev(VerificationApproved, earlier), false},
		{"older rejection does not replace approval", VerificationApproved, tt0, wev(VerificationRejected, earlier), false},
		{"duplicate is not newer", VerificationApproved, tt0, wev(VerificationApproved, tt0), false},
		{"newer same status is newer", VerificationApproved, tt0, wev(VerificationApproved, later), true},
		{"tie: approved beats pending", VerificationPending, tt0, wev(VerificationApproved, tt0), true},
		{"tie: pending does not beat approved", VerificationApproved, tt0, wev(VerificationPending, tt0), false},
		{"tie: partial approval beats pending", VerificationPending, tt0, wev(VerificationPartialApproval, tt0), true},
		{"tie: approved beats partial approval", VerificationPartialApproval, tt0, wev(VerificationApproved, tt0), true},
		{"tie: expired beats approved", VerificationApproved, tt0, wev(VerificationExpired, tt0), true},
		{"tie: rejected beats approved", VerificationApproved, tt0, wev(VerificationRejected, tt0), true},
		{"tie: rejected beats expired", VerificationExpired, tt0, wev(VerificationRejected, tt0), true},
		{"tie: approved does not beat rejected", VerificationRejected, tt0, wev(VerificationApproved, tt0), false},
		{"a time in another zone is compared as an instant", VerificationPending, tt0, wev(VerificationApproved, tt0.In(time.FixedZone("UTC+2", 2*3600))), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, VerificationNewer(tc.cur, tc.curAt, tc.ev))
		})
	}
}

// TestVerificationOrderIndependent: whatever order KYC evidence arrives in,
// with duplicates, the withdrawer ends in the same state.
func TestVerificationOrderIndependent(t *testing.T) {
	all := []VerificationStatus{VerificationPending, VerificationPartialApproval, VerificationApproved, VerificationRejected, VerificationExpired}
	type vstate struct {
		s  VerificationStatus
		at time.Time
	}
	foldV := func(evs []WithdrawerEvidence) vstate {
		var cur vstate
		for _, ev := range evs {
			if VerificationNewer(cur.s, cur.at, ev) {
				cur = vstate{ev.Status, ev.At}
			}
		}
		return cur
	}
	r := rand.New(rand.NewPCG(3, 5))
	for iter := range 2000 {
		evs := make([]WithdrawerEvidence, 1+r.IntN(6))
		for i := range evs {
			evs[i] = WithdrawerEvidence{Status: all[r.IntN(len(all))], At: tt0.Add(time.Duration(r.IntN(3)) * time.Hour), Source: SourceWebhook}
		}
		want := foldV(evs)
		for range 10 {
			var p []WithdrawerEvidence
			for _, ev := range evs {
				for range 1 + r.IntN(3) {
					p = append(p, ev)
				}
			}
			r.Shuffle(len(p), func(i, j int) { p[i], p[j] = p[j], p[i] })
			require.Equal(t, want, foldV(p), "iteration %d: %v vs %v", iter, evs, p)
		}
	}
}
